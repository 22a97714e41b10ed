import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hubNatsConfig, type HubNatsOptions } from "./nats-config.js";
import { RegistryError, writePrivateFile, type Registry } from "./hub-registry.js";

/**
 * The hub's files under `<data>/hub`: the device registry (hashes only), the nats-server
 * config made from it, the listener settings the hub last started with (so `npm run hub`
 * rewrites the config with the same ports, whatever its own environment says) and the
 * server's pid file.
 */
export interface HubFiles {
  dir: string;
  registry: string;
  config: string;
  settings: string;
  pidFile: string;
}

export function hubFiles(dataDir: string): HubFiles {
  const dir = join(dataDir, "hub");
  return { dir, registry: join(dir, "devices.json"), config: join(dir, "nats.conf"), settings: join(dir, "nats-settings.json"), pidFile: join(dir, "nats.pid") };
}

export type HubSettings = Omit<HubNatsOptions, "devices">;

/** Writes the settings and the config for the registry's devices (at the hub's start). */
export function writeHubConfig(files: HubFiles, settings: HubSettings, registry: Registry): void {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  writePrivateFile(files.settings, `${JSON.stringify(settings, null, 2)}\n`);
  writePrivateFile(files.config, hubNatsConfig({ ...settings, devices: registry.devices }));
}

/** The settings the hub last started with; undefined when it never started here. */
export function hubSettings(files: HubFiles): HubSettings | undefined {
  if (!existsSync(files.settings)) return undefined;
  try {
    return JSON.parse(readFileSync(files.settings, "utf8")) as HubSettings;
  } catch (err) {
    throw new RegistryError(`${files.settings} is damaged (${(err as Error).message}); starting the hub writes it again`);
  }
}

/**
 * The config for `registry` with the settings the hub last started with; undefined when the
 * hub has never started here (its first start writes the config from the registry).
 */
export function hubConfigFor(files: HubFiles, registry: Registry): string | undefined {
  const settings = hubSettings(files);
  return settings === undefined ? undefined : hubNatsConfig({ ...settings, devices: registry.devices });
}

/**
 * The pid of the hub's running nats-server, from its pid file; undefined when none runs (no
 * file, or a stale one naming a process that is gone or is not nats-server, which must not
 * get our signals). Linux: the process is looked up in /proc.
 */
export function runningHubPid(files: HubFiles): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(files.pidFile, "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0")[0]?.endsWith("nats-server") === true ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Makes the running hub nats-server read its config again (SIGHUP); false when none runs. */
export function reloadHub(files: HubFiles): boolean {
  const pid = runningHubPid(files);
  if (pid === undefined) return false;
  process.kill(pid, "SIGHUP");
  return true;
}

/**
 * Stops the running hub nats-server (SIGINT: it flushes JetStream and exits 0) for its
 * supervisor (`npm start`'s launcher, or a container's restart policy) to start it again, and
 * waits up to `timeoutMs` for the new one. A reload is not enough to lock a device out:
 * nats-server 2.9 checks a leaf's credentials when it connects, and keeps a connected leaf
 * whose user a reload removed or gave a new password.
 */
export async function restartHub(files: HubFiles, timeoutMs = 20_000): Promise<"restarted" | "stopped" | "not running"> {
  const old = runningHubPid(files);
  if (old === undefined) return "not running";
  process.kill(old, "SIGINT");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // A bounded wait for another process: nothing tells us when it has started.
    await new Promise((r) => setTimeout(r, 200));
    const pid = runningHubPid(files);
    if (pid !== undefined && pid !== old) return "restarted";
  }
  return "stopped";
}

/**
 * The devices joined now, from the hub's `/leafz?subs=1`. nats-server 2.9 names neither the
 * server nor the user of a leaf there, so a device is known by its JetStream domain's API,
 * which its link subscribes to (`$JS.<id>.API.INFO`, …) and the permissions allow no other device.
 */
export function joinedDevices(leafz: unknown): string[] {
  const leafs = (leafz as { leafs?: { subscriptions_list?: string[] }[] } | null)?.leafs ?? [];
  return leafs.flatMap((l) => (l.subscriptions_list ?? []).flatMap((s) => /^\$JS\.([^.]+)\.API\.INFO$/.exec(s)?.[1] ?? [])).sort();
}
