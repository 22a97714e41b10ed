import { useRef, useState } from "preact/hooks";
import { api, seg } from "../api.js";
import { when } from "../format.js";
import type { DeviceSettings } from "../types.js";
import { Section, Status, useAction } from "./section.js";

/** The web service's limit on a link's life (MAX_LINK_DAYS in hls-links.ts). */
const MAX_DAYS = 365;
/** The camera's own profiles when its presets cannot be read. */
const FALLBACK_PROFILES = ["high", "low"];

interface Link {
  url: string;
  expiresAt: number;
}

/**
 * HLS links for players that cannot log in (VLC, Home Assistant, a TV), admins only: the
 * address carries its own signed token for one camera and profile until it expires.
 */
export function PlayersSection({ device, settings }: { device: string; settings: DeviceSettings }) {
  const names = settings.presets?.presets.map((p) => p.name) ?? [];
  const profiles = names.length > 0 ? names : FALLBACK_PROFILES;
  const [profile, setProfile] = useState(profiles[0] ?? "high");
  const [days, setDays] = useState(30);
  const [link, setLink] = useState<Link | undefined>(undefined);
  const urlInput = useRef<HTMLInputElement>(null);
  const make = useAction();
  const copy = useAction();

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) return make.fail(`Choose 1 to ${MAX_DAYS} days.`);
    const chosen = profiles.includes(profile) ? profile : (profiles[0] as string);
    const done = await make.run(() => api<Link>(`/api/devices/${seg(device)}/hls-link`, { method: "POST", body: { profile: chosen, days } }), "Link made");
    if (done !== undefined) setLink(done.value);
  };

  const copyLink = async () => {
    if (link === undefined) return;
    await copy.run(async () => {
      // The clipboard API needs a secure context; a device on plain http over the LAN has none.
      if (navigator.clipboard !== undefined && window.isSecureContext) return navigator.clipboard.writeText(link.url);
      const input = urlInput.current;
      input?.select();
      if (input === null || !document.execCommand("copy")) throw new Error("this browser would not copy it: select the address and copy it by hand");
    }, "Copied");
  };

  return (
    <Section id="players" title="Players without login" intro="An HLS address for a player that cannot log in (VLC, Home Assistant, a TV): it opens this camera's live view at one profile until it expires. Anyone who has the address can watch, so give it only to players you trust.">
      <form onSubmit={submit}>
        <div class="row wrap">
          <label class="field inline">
            Profile
            <select value={profile} onChange={(e) => setProfile(e.currentTarget.value)} data-testid="players-profile">
              {profiles.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label class="field inline">
            Works for
            <input type="number" class="days-input" inputMode="numeric" required min={1} max={MAX_DAYS} step={1} value={days} onInput={(e) => setDays(e.currentTarget.valueAsNumber)} data-testid="players-days" />
            days
          </label>
        </div>
        <div class="actions">
          <button type="submit" class="primary" disabled={make.busy} data-testid="players-make">
            Make a link
          </button>
          <Status outcome={make.outcome?.kind === "error" ? make.outcome : undefined} />
        </div>
      </form>
      {link !== undefined && (
        <div class="link-out" data-testid="players-link">
          <div class="row nowrap">
            <input ref={urlInput} class="grow" readOnly value={link.url} aria-label="HLS address for players" onFocus={(e) => e.currentTarget.select()} data-testid="players-url" />
            <button type="button" onClick={() => void copyLink()} data-testid="players-copy">
              Copy
            </button>
          </div>
          <p class="muted small">
            <span data-testid="players-expiry">Works until {when(link.expiresAt)}.</span> <Status outcome={copy.outcome} />
          </p>
        </div>
      )}
      <p class="hint" data-testid="players-note">
        To revoke every link at once, give the device a new PICKET_LIVE_SECRET (on the web and stream services) and restart them.
      </p>
    </Section>
  );
}
