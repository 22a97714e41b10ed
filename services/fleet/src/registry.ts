import { stat, readFile } from "node:fs/promises";
import { DEVICE_ID_PATTERN } from "@picket/contracts";
import type { Logger } from "@picket/runtime";
import { z } from "zod";

/** The part of the hub's registry (`data/hub/devices.json`, kept by `npm run hub`) the fleet reads: the ids. */
const RegistryFile = z.object({ devices: z.array(z.object({ id: z.string().regex(DEVICE_ID_PATTERN) }).passthrough()) }).passthrough();

/** The device ids a registry file lists; throws when it does not read. */
export function registeredIds(text: string): Set<string> {
  return new Set(RegistryFile.parse(JSON.parse(text)).devices.map((d) => d.id));
}

/**
 * Follows the hub's registry file: read again when its modification time changes. No file yet
 * means no device is registered; a file that does not read keeps the last good list (logged).
 */
export class RegistryFollower {
  private mtimeMs: number | undefined;
  private ids = new Set<string>();

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  /** The registered ids now (reads the file again only when it changed). */
  async refresh(): Promise<ReadonlySet<string>> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(this.path)).mtimeMs;
    } catch {
      mtimeMs = -1; // not made yet: nothing registered
    }
    if (mtimeMs === this.mtimeMs) return this.ids;
    this.mtimeMs = mtimeMs;
    if (mtimeMs === -1) {
      this.ids = new Set();
      return this.ids;
    }
    try {
      this.ids = registeredIds(await readFile(this.path, "utf8"));
    } catch (err) {
      this.log.warn({ path: this.path, reason: err instanceof Error ? err.message.slice(0, 200) : String(err) }, "the hub's device registry does not read; keeping the devices it listed before");
    }
    return this.ids;
  }
}
