import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isConfigError } from "@picket/runtime";
import { checkDeviceId, isRegistryError, loadRegistry, newDevicePassword, saveRegistry, withDevice, withLock, withoutDevice, writePrivateFile, type Registry } from "./hub-registry.js";
import { hubConfigFor, hubFiles, hubSettings, joinedDevices, reloadHub, restartHub, type HubFiles } from "./hub-server.js";
import { dataDirOf, defaultHubHost, hubUrlFor, loadStackConfig } from "./stack-config.js";

/**
 * `npm run hub -- <command>`, on the hub, manages which devices may join it:
 *   add-device <id> [--rotate]   registers a device and prints the PICKET_HUB_URL to set on it
 *                                (--rotate: a new password for a registered one)
 *   remove-device <id>           the device can no longer join; its link is cut at once
 *   list                         the registered devices, and which are joined now
 * PICKET_DATA_DIR selects the hub's data (as for npm start); PICKET_HUB_HOST is the address
 * printed for devices.
 */
const usage = "usage: npm run hub -- add-device <id> [--rotate] | remove-device <id> | list";
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

const args = process.argv.slice(2);
const rotate = args.includes("--rotate");
const [command, id, ...extra] = args.filter((a) => a !== "--rotate");
const known = (command === "add-device" || command === "remove-device") && id !== undefined ? extra.length === 0 && (command === "add-device" || !rotate) : command === "list" && id === undefined && !rotate;
if (!known) fail(usage);

let cfg: ReturnType<typeof loadStackConfig>;
try {
  cfg = loadStackConfig(process.env);
} catch (err) {
  fail(isConfigError(err) ? err.message : String(err));
}
const files = hubFiles(dataDirOf(cfg, root));

/** Saves the registry and the config made from it, under the lock; says whether the hub ever ran here. */
function change(edit: (reg: Registry) => Registry): boolean {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  return withLock(files.registry, () => {
    const next = edit(loadRegistry(files.registry));
    const config = hubConfigFor(files, next); // made first: a config it cannot make changes nothing
    saveRegistry(files.registry, next);
    if (config !== undefined) writePrivateFile(files.config, config);
    return config !== undefined;
  });
}

/** The port devices join on: the one the hub started with, else this environment's. */
const leafPort = (f: HubFiles): number => hubSettings(f)?.leaf.port ?? cfg.hubLeafPort;

async function list(): Promise<void> {
  const reg = loadRegistry(files.registry);
  if (reg.devices.length === 0) return void console.log(`No devices registered in ${files.registry}. Add one with: npm run hub -- add-device <id>`);
  const monitorPort = hubSettings(files)?.httpPort ?? cfg.hubMonitorPort;
  let joined: Set<string> | undefined;
  try {
    const res = await fetch(`http://127.0.0.1:${monitorPort}/leafz?subs=1`, { signal: AbortSignal.timeout(2_000) });
    joined = new Set(joinedDevices(await res.json()));
  } catch {
    joined = undefined; // the hub is not running (or not on PICKET_HUB_MONITOR_PORT)
  }
  const rows = [["device", "added (UTC)", "new password", "joined"], ...reg.devices.map((d) => [d.id, d.addedAt.slice(0, 16).replace("T", " "), d.rotatedAt?.slice(0, 16).replace("T", " ") ?? "-", joined === undefined ? "?" : joined.has(d.id) ? "yes" : "no"])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n"));
  if (joined === undefined) console.log(`(joined: unknown, the hub's NATS monitoring port ${monitorPort} does not answer)`);
}

async function main(): Promise<void> {
  if (command === "list") return list();
  const device = checkDeviceId(id as string);
  if (command === "add-device") {
    const secret = newDevicePassword();
    const ran = change((reg) => withDevice(reg, { id: device, passwordHash: secret.passwordHash }, new Date(), rotate));
    const url = hubUrlFor(device, secret.password, cfg.hubHost ?? defaultHubHost(), leafPort(files));
    console.log(`${rotate ? "New password for" : "Added"} device "${device}". Set this on the device (it is shown only now; the hub keeps a hash):\n\n  PICKET_HUB_URL=${url}\n`);
    // A new user needs only a reload; a new password must also cut the link made with the old one.
    await apply(ran, rotate ? "restart" : "reload", rotate ? `the link made with the old password is cut; "${device}" joins again with the new one` : `"${device}" can join now`);
  } else {
    const ran = change((reg) => withoutDevice(reg, device));
    console.log(`Removed device "${device}".`);
    await apply(ran, "restart", `"${device}" is disconnected and cannot join again`);
  }
}

async function apply(ran: boolean, how: "reload" | "restart", effect: string): Promise<void> {
  if (!ran) return void console.log("The hub has not started here yet: this applies when it does (npm start with PICKET_ROLE=hub).");
  if (how === "reload") {
    console.log(reloadHub(files) ? `The hub's NATS server reloaded its configuration: ${effect}.` : "The hub is not running: this applies when it starts.");
    return;
  }
  const outcome = await restartHub(files);
  if (outcome === "restarted") console.log(`The hub's NATS server restarted (its devices and services reconnect within seconds): ${effect}.`);
  else if (outcome === "not running") console.log("The hub is not running: this applies when it starts.");
  else fail(`The hub's NATS server stopped but nothing started it again: start the hub (npm start with PICKET_ROLE=hub). ${effect[0]!.toUpperCase()}${effect.slice(1)} once it runs.`, 1);
}

try {
  await main();
} catch (err) {
  if (isRegistryError(err)) fail(err.message);
  throw err;
}
