import { useEffect, useState } from "preact/hooks";
import { getDevices } from "../api.js";
import type { PlayerChoice } from "../player/player.js";
import { navigate } from "../router.js";
import type { DeviceList } from "../types.js";
import { Tile } from "./tile.js";
import { playerChoice } from "./url-params.js";

/** Device states on this tab refresh this often (the badges); the pictures are live anyway. */
const REFRESH_MS = 5_000;

/** Whether the enlarged view was opened by a click here, so closing it can step back in history. */
let enlargedHere = false;

/** Every device's live view; `enlarged` (from `#/live/<device>`) fills the page with one. */
export function LiveTab({ fleet, enlarged, admin }: { fleet: DeviceList; enlarged: string | undefined; admin: boolean }) {
  const [devices, setDevices] = useState(fleet.devices);
  const [player, setPlayer] = useState<PlayerChoice | undefined>(undefined);

  useEffect(() => {
    void playerChoice.then(setPlayer);
    const timer = window.setInterval(() => {
      getDevices().then(
        (d) => setDevices(d.devices),
        () => undefined, // the next round tries again; a lost session shows the login page
      );
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    if (enlarged === undefined) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && toggle(enlarged);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [enlarged]);

  const toggle = (id: string) => {
    if (enlarged === id) {
      if (enlargedHere) history.back();
      else navigate("live", undefined, true);
      enlargedHere = false;
    } else {
      enlargedHere = true;
      navigate("live", id);
    }
  };

  if (devices.length === 0) {
    return (
      <p class="empty" data-testid="live-empty">
        No camera has reported in yet. The list fills as soon as a device's services send their first heartbeat.
      </p>
    );
  }
  return (
    <div class={`grid${enlarged !== undefined && devices.some((d) => d.id === enlarged) ? " has-enlarged" : ""}`} data-count={devices.length} data-testid="live-grid">
      {devices.map((d) => (
        <Tile key={d.id} device={d} self={d.id === fleet.self} choice={player} enlarged={enlarged === d.id} admin={admin} onToggle={() => toggle(d.id)} />
      ))}
    </div>
  );
}
