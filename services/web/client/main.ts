import { choosePlayer, createPlayer, type Player, type PlayerChoice, type PlayerStats } from "./player.js";

interface DeviceView {
  id: string;
  online: boolean;
  lastSeenAgoMs: number | null;
  services: Partial<Record<"camera" | "pir", { vitals: Record<string, number> }>>;
}

declare global {
  interface Window {
    /** Players on the page, for people and tests that look under the hood. */
    picket: { players: Record<string, Player> };
  }
}

window.picket = { players: {} };
const params = new URLSearchParams(location.search);
const profile = /^[a-z0-9_-]{1,32}$/.test(params.get("profile") ?? "") ? (params.get("profile") as string) : "auto";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const toastBox = document.getElementById("toast") as HTMLElement;
let toastTimer: number | undefined;
function toast(text: string, kind: "ok" | "error" = "ok"): void {
  toastBox.textContent = text;
  toastBox.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (toastBox.className = "toast"), 4_000);
}

function describe(s: PlayerStats): string {
  const path = `path: ${s.path}${s.engine === "" ? "" : ` (${s.engine})`}`;
  switch (s.state) {
    case "live":
      return [
        path,
        `${s.fps.toFixed(0)} fps`,
        ...(s.kbps > 0 ? [`${s.kbps} kbit/s`] : []),
        ...(s.latencyMs > 0 ? [`${s.latencyMs.toFixed(0)} ms`] : []),
        `${s.profile} ${s.width}×${s.height}`,
      ].join(" · ");
    case "unsupported":
      return `${path} · this browser cannot play the live stream this way`;
    case "source-lost":
      return `${path} · camera not sending; waiting for it…`;
    default:
      return `${path} · ${s.state}…`;
  }
}

async function tile(device: DeviceView, choice: PlayerChoice): Promise<HTMLElement> {
  const figure = el("figure", { class: "tile", "data-device": device.id });
  const overlay = el("div", { class: "overlay" }, "connecting…");
  const caption = el("figcaption");
  const name = el("span", { class: "name" }, device.id);
  const badge = el("span", { class: `badge ${device.online ? "online" : "offline"}` }, device.online ? "online" : "offline");
  const snap = el("a", { class: "button", href: `/api/devices/${encodeURIComponent(device.id)}/snapshot.jpg`, target: "_blank", rel: "noopener" }, "Snapshot");
  const alarm = el("button", { type: "button" }, "Test alarm");
  alarm.addEventListener("click", () => {
    alarm.disabled = true;
    fetch(`/api/devices/${encodeURIComponent(device.id)}/test-alarm`, { method: "POST" })
      .then(async (res) => {
        const body = (await res.json()) as { eventId?: string; error?: string };
        if (res.ok) toast(`Test alarm raised on ${device.id}: a photo is on its way to Telegram.`);
        else toast(`Test alarm failed: ${body.error ?? res.statusText}`, "error");
      })
      .catch(() => toast("Test alarm failed: no answer from the device", "error"))
      .finally(() => (alarm.disabled = false));
  });
  const arming = el("span", { class: "badge" });
  const note = el("span", { class: "note" });
  caption.append(name, badge, arming, note, el("span", { class: "spacer" }), snap, alarm);
  badges.set(device.id, (d) => {
    badge.className = `badge ${d.online ? "online" : "offline"}`;
    badge.textContent = d.online ? "online" : "offline";
    const pir = d.services.pir?.vitals;
    arming.hidden = pir === undefined;
    arming.className = `badge ${pir?.present === 1 ? "present" : pir?.armed === 1 ? "armed" : "disarmed"}`;
    arming.textContent = pir?.present === 1 ? "someone there" : pir?.armed === 1 ? "armed" : "disarmed";
    const cam = d.services.camera?.vitals;
    note.textContent = cam?.onDemand === 1 ? (cam.capturing === 1 ? "camera on demand: on" : "camera on demand: off, no clip pre-roll") : "";
  });
  badges.get(device.id)?.(device);
  const player = await createPlayer(choice, device.id, profile, (s) => {
    overlay.textContent = describe(s);
    figure.dataset.state = s.state;
  });
  const view = player.element;
  view.classList.add("view");
  view.setAttribute("aria-label", `Live view of ${device.id}`);
  figure.append(view, overlay, caption);
  view.addEventListener("click", () => figure.classList.toggle("enlarged"));
  window.picket.players[device.id] = player;
  player.start();
  return figure;
}

/** Updates each tile's badges from a fresh device list. */
const badges = new Map<string, (d: DeviceView) => void>();

async function refresh(): Promise<void> {
  const res = await fetch("/api/devices");
  if (!res.ok) return;
  const { devices } = (await res.json()) as { devices: DeviceView[] };
  for (const d of devices) badges.get(d.id)?.(d);
}

async function main(): Promise<void> {
  const grid = document.getElementById("grid") as HTMLElement;
  const res = await fetch("/api/devices");
  const { self, devices } = (await res.json()) as { self: string; devices: DeviceView[] };
  document.title = `Picket · ${self}`;
  (document.getElementById("device") as HTMLElement).textContent = self;
  const shown = devices.filter((d) => d.id === self || d.online);
  const choice = await choosePlayer(params);
  grid.dataset.count = String(shown.length);
  try {
    grid.replaceChildren(...(await Promise.all(shown.map((d) => tile(d, choice)))));
  } catch (err) {
    // The MSE and HLS players are separate files, fetched now: a network hiccup can lose them.
    toast(`Could not load the ${choice.path} player: ${String(err)}. Reload the page to try again.`, "error");
  }
  window.setInterval(() => void refresh().catch(() => undefined), 2_000);
}

main().catch((err: unknown) => toast(`Could not load devices: ${String(err)}`, "error"));
