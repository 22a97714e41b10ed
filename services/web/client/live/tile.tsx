import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText, seg } from "../api.js";
import { ago } from "../format.js";
import { BellIcon, CameraIcon } from "../icons.js";
import { createPlayer, type Player, type PlayerChoice } from "../player/player.js";
import { toast } from "../toast.js";
import type { Device, DeviceSettings } from "../types.js";
import { describe } from "./describe.js";
import { urlProfile } from "./url-params.js";

declare global {
  interface Window {
    /** Players on the page, for people and tests that look under the hood. */
    picket: { players: Record<string, Player> };
  }
}

/** The camera's own profiles when its presets cannot be read (PICKET_CAMERA_PROFILES' default). */
const FALLBACK_PROFILES = ["high", "low"];
const profileKey = (device: string) => `picket.profile.${device}`;

function savedProfile(device: string): string {
  if (urlProfile !== undefined) return urlProfile;
  try {
    return localStorage.getItem(profileKey(device)) ?? "auto";
  } catch {
    return "auto"; // storage refused (private mode): every visit starts on auto
  }
}

function saveProfile(device: string, profile: string): void {
  try {
    if (profile === "auto") localStorage.removeItem(profileKey(device));
    else localStorage.setItem(profileKey(device), profile);
  } catch {
    // Not remembered; the choice still holds for this visit.
  }
}

/** A <video> fed by a MediaStream holds its tracks until they are stopped. */
function release(player: Player): void {
  player.stop();
  const el = player.element;
  if (el instanceof HTMLVideoElement && el.srcObject instanceof MediaStream) {
    for (const t of el.srcObject.getTracks()) t.stop();
    el.srcObject = null;
  }
  el.remove();
  if (window.picket.players[el.dataset.device ?? ""] === player) delete window.picket.players[el.dataset.device ?? ""];
}

interface TileProps {
  device: Device;
  /** The device this web service runs on: played even while its heartbeats are late. */
  self: boolean;
  choice: PlayerChoice | undefined;
  enlarged: boolean;
  /** Admins may raise a test alarm (a state change; viewers only watch). */
  admin: boolean;
  onToggle(): void;
}

/** One camera: its live picture with the stats overlay, profile picker, snapshot and test alarm. */
export function Tile({ device, self, choice, enlarged, admin, onToggle }: TileProps) {
  const figure = useRef<HTMLElement>(null);
  const stage = useRef<HTMLDivElement>(null);
  const overlay = useRef<HTMLDivElement>(null);
  const [profile, setProfile] = useState(() => savedProfile(device.id));
  const [profiles, setProfiles] = useState<string[]>(FALLBACK_PROFILES);
  const [alarming, setAlarming] = useState(false);
  const playable = self || device.state !== "offline";

  useEffect(() => {
    const ac = new AbortController();
    api<DeviceSettings>(`/api/devices/${seg(device.id)}/settings`, { signal: ac.signal }).then(
      (s) => {
        const names = s.presets?.presets.map((p) => p.name);
        if (names !== undefined && names.length > 0) setProfiles(names);
      },
      () => undefined, // the camera's usual profiles stay on offer
    );
    return () => ac.abort();
  }, [device.id]);

  useEffect(() => {
    if (choice === undefined || !playable) return;
    let player: Player | undefined;
    let cancelled = false;
    const box = overlay.current as HTMLDivElement;
    box.textContent = "connecting…";
    createPlayer(choice, device.id, profile, (s) => {
      box.textContent = describe(s);
      if (figure.current !== null) figure.current.dataset.state = s.state;
    }).then(
      (p) => {
        if (cancelled) return;
        player = p;
        const view = p.element;
        view.classList.add("view");
        view.dataset.device = device.id;
        view.setAttribute("aria-label", `Live view of ${device.id}`);
        stage.current?.prepend(view);
        window.picket.players[device.id] = p;
        p.start();
      },
      // The MSE and HLS players are separate files, fetched now: a network hiccup can lose them.
      (err: unknown) => toast(`Could not load the ${choice.path} player: ${errorText(err)}. Reload the page to try again.`, "error"),
    );
    return () => {
      cancelled = true;
      if (player !== undefined) release(player);
    };
  }, [choice, playable, profile, device.id]);

  const pick = (next: string) => {
    saveProfile(device.id, next);
    setProfile(next);
  };

  const testAlarm = async () => {
    setAlarming(true);
    try {
      await api(`/api/devices/${seg(device.id)}/test-alarm`, { method: "POST" });
      toast("Test alarm raised");
    } catch (err) {
      toast(`Test alarm failed: ${errorText(err)}`, "error");
    } finally {
      setAlarming(false);
    }
  };

  const offered = profiles.includes(profile) || profile === "auto" ? profiles : [...profiles, profile];
  return (
    <figure ref={figure} class={`tile${enlarged ? " enlarged" : ""}`} data-device={device.id} data-testid="tile">
      <div ref={stage} class="stage" onClick={onToggle} title={enlarged ? "Back to all cameras" : "Enlarge"}>
        {!playable && (
          <div class="placeholder">
            <strong>Offline</strong>
            <span>last heard {ago(device.lastSeenAgoMs)}</span>
          </div>
        )}
        <div ref={overlay} class="overlay" data-testid="tile-overlay" hidden={!playable} />
      </div>
      <figcaption>
        <span class="caption-info">
          <span class="name">{device.id}</span>
          <span class={`badge ${device.state}`} data-testid="tile-state">
            {device.state}
          </span>
          <span class={`badge ${device.armed.armedNow ? "armed" : "disarmed"}`}>{device.armed.armedNow ? "armed" : "disarmed"}</span>
        </span>
        <span class="caption-actions">
          <label class="profile">
            <span class="visually-hidden">Quality for {device.id}</span>
            <select value={profile} onChange={(e) => pick(e.currentTarget.value)} data-testid="tile-profile">
              <option value="auto">auto</option>
              {offered.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <a class="button icon-button" href={`/api/devices/${seg(device.id)}/snapshot.jpg`} target="_blank" rel="noopener" data-testid="tile-snapshot" title="Snapshot">
            <CameraIcon />
            <span class="wide-only">Snapshot</span>
          </a>
          {enlarged && (
            <button type="button" class="icon-button" onClick={onToggle} data-testid="tile-close" title="Back to all cameras" aria-label="Back to all cameras">
              ✕
            </button>
          )}
          {admin && (
            <button type="button" class="icon-button" onClick={() => void testAlarm()} disabled={alarming} data-testid="tile-test-alarm" title="Raise a test alarm">
              <BellIcon />
              <span class="wide-only">Test alarm</span>
            </button>
          )}
        </span>
      </figcaption>
    </figure>
  );
}
