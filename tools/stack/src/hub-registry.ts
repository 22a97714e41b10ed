import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import bcrypt from "bcryptjs";
import { DEVICE_ID_PATTERN } from "@picket/contracts";
import { HUB_DOMAIN } from "./nats-config.js";

/**
 * The hub's registry of devices (`<data>/hub/devices.json`): who may join the hub, each with
 * the bcrypt hash of its password. The passwords themselves are shown once, by
 * `npm run hub -- add-device`, and kept nowhere on the hub.
 */
export interface RegisteredDevice {
  id: string;
  passwordHash: string;
  /** ISO time it was added, and last given a new password. */
  addedAt: string;
  rotatedAt?: string;
}

export interface Registry {
  devices: RegisteredDevice[];
}

/** A problem the user can fix (a bad id, a device that exists or does not, a damaged file). */
export class RegistryError extends Error {
  override readonly name = "RegistryError";
}

export const isRegistryError = (err: unknown): err is RegistryError => err instanceof RegistryError;

/**
 * bcrypt cost of a device password's hash. Low on purpose: the password is 192 random bits, so
 * the hash needs to be one-way, not slow, and nats-server checks it at every leaf connection,
 * e.g. every device at once after a hub restart (cost 8 is ~4 ms each; the common 12 is ~250).
 */
export const BCRYPT_COST = 8;

/** A new device password (192 random bits, URL-safe: it goes into PICKET_HUB_URL as is) and its hash. */
export function newDevicePassword(): { password: string; passwordHash: string } {
  const password = randomBytes(24).toString("base64url");
  return { password, passwordHash: bcrypt.hashSync(password, BCRYPT_COST) };
}

/** Checks an id a user typed: a device id (one subject token), and not the hub's own domain. */
export function checkDeviceId(id: string): string {
  if (!DEVICE_ID_PATTERN.test(id)) throw new RegistryError(`"${id.slice(0, 80)}" is not a device id: 1–64 of A–Z a–z 0–9 _ - (the device's PICKET_DEVICE_ID)`);
  if (id === HUB_DOMAIN) throw new RegistryError(`a device cannot be called "${HUB_DOMAIN}": that is the hub's own JetStream domain`);
  return id;
}

/** The registry with `device` in it; an existing id is refused unless `rotate` (a new password). */
export function withDevice(reg: Registry, device: { id: string; passwordHash: string }, now: Date, rotate: boolean): Registry {
  const old = reg.devices.find((d) => d.id === device.id);
  if (old !== undefined && !rotate) throw new RegistryError(`device "${device.id}" is already registered (added ${old.addedAt}); add --rotate to give it a new password`);
  const entry: RegisteredDevice = old === undefined ? { ...device, addedAt: now.toISOString() } : { ...old, passwordHash: device.passwordHash, rotatedAt: now.toISOString() };
  return { devices: [...reg.devices.filter((d) => d.id !== device.id), entry].sort((a, b) => a.id.localeCompare(b.id)) };
}

export function withoutDevice(reg: Registry, id: string): Registry {
  if (!reg.devices.some((d) => d.id === id)) throw new RegistryError(`device "${id}" is not registered (npm run hub -- list shows those that are)`);
  return { devices: reg.devices.filter((d) => d.id !== id) };
}

/** Reads the registry text, checking every entry (a hand-edited file fails here, naming the entry). */
export function parseRegistry(text: string, where: string): Registry {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RegistryError(`${where} is not JSON (${(err as Error).message})`);
  }
  const devices = (data as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(devices)) throw new RegistryError(`${where}: expected {"devices": [...]}`);
  return {
    devices: devices.map((d: unknown, i) => {
      const e = d as Partial<RegisteredDevice> | null;
      const ok = typeof e?.id === "string" && DEVICE_ID_PATTERN.test(e.id) && typeof e.passwordHash === "string" && typeof e.addedAt === "string" && (e.rotatedAt === undefined || typeof e.rotatedAt === "string");
      if (!ok) throw new RegistryError(`${where}: device #${i + 1} needs a valid id, passwordHash and addedAt`);
      return e as RegisteredDevice;
    }),
  };
}

/** The registry at `path`, empty when there is no file yet. */
export function loadRegistry(path: string): Registry {
  return existsSync(path) ? parseRegistry(readFileSync(path, "utf8"), path) : { devices: [] };
}

export function saveRegistry(path: string, reg: Registry): void {
  writePrivateFile(path, `${JSON.stringify(reg, null, 2)}\n`);
}

/**
 * Writes a file only its owner can read (mode 0600), whole or not at all: a new file renamed
 * over the old one, so a reader (nats-server reloading) never sees half of it.
 */
export function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, text, { mode: 0o600, flag: "wx" });
  renameSync(tmp, path);
}

/**
 * Runs `fn` holding `<path>.lock`, so two hub commands at once cannot lose one's change.
 * A lock left by a command that was killed is reported, not broken.
 */
export function withLock<T>(path: string, fn: () => T): T {
  const lock = `${path}.lock`;
  let fd: number;
  try {
    fd = openSync(lock, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new RegistryError(`another hub command is changing ${path} (if none is running, delete ${lock})`);
    throw err;
  }
  try {
    return fn();
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}
