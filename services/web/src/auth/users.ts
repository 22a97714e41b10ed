import { z } from "zod";
import { Kvm, replicasFor, type KV, type Logger, type NatsConnection } from "@picket/runtime";
import { generatePassword, hashPassword, verifyPassword } from "./passwords.js";

export const USERS_BUCKET = "picket-web-users";

export type Role = "admin" | "viewer";
export const Role = z.enum(["admin", "viewer"]);

/**
 * A user name: lower-case letters, digits, `_`, `.`, `-`, 1–32 characters. It is a token of a
 * KV key (`users.<name>`), so it may not start or end with a dot or hold two in a row.
 */
export const UserName = z
  .string()
  .regex(/^[a-z0-9_.-]{1,32}$/, "use 1–32 of a–z, 0–9, _ . -")
  .refine((n) => !n.startsWith(".") && !n.endsWith(".") && !n.includes(".."), "may not start or end with a dot or hold two dots in a row");

/** A user as the bucket stores it. `passwordChangedAt` ends sessions made before it. */
export const UserRecord = z.object({
  role: Role,
  hash: z.string(),
  passwordChangedAt: z.number(),
  /** The password is PICKET_ADMIN_PASSWORD's and is set again at every start. */
  fromEnv: z.boolean(),
});
export type UserRecord = z.infer<typeof UserRecord>;

const CACHE_MS = 3_000;

/**
 * The web UI's users, in a KV bucket so every web replica sees the same ones. Reads are
 * cached for a few seconds (each request looks its user up); this replica's own writes
 * update the cache at once.
 */
export class UserStore {
  private readonly cache = new Map<string, { rec: UserRecord | undefined; at: number }>();

  private constructor(
    private readonly kv: KV,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  static async open(nc: NatsConnection, log: Logger, now: () => number = Date.now): Promise<UserStore> {
    const kv = await new Kvm(nc).create(USERS_BUCKET, { history: 1, replicas: replicasFor(nc) });
    return new UserStore(kv, log, now);
  }

  /** The user called `name`, or undefined (also for a name that could not exist). */
  async get(name: string): Promise<UserRecord | undefined> {
    if (!UserName.safeParse(name).success) return undefined;
    const hit = this.cache.get(name);
    if (hit !== undefined && this.now() - hit.at < CACHE_MS) return hit.rec;
    const e = await this.kv.get(key(name));
    let rec: UserRecord | undefined;
    if (e !== null && e.operation === "PUT") {
      const parsed = UserRecord.safeParse(safeJson(e.string()));
      if (parsed.success) rec = parsed.data;
      else this.log.warn({ user: name }, "ignoring a malformed user record");
    }
    this.remember(name, rec);
    return rec;
  }

  /** Every user, sorted by name. */
  async list(): Promise<{ name: string; rec: UserRecord }[]> {
    const names: string[] = [];
    for await (const k of await this.kv.keys("users.>")) names.push(k.slice("users.".length));
    const out: { name: string; rec: UserRecord }[] = [];
    for (const name of names.sort()) {
      this.cache.delete(name);
      const rec = await this.get(name);
      if (rec !== undefined) out.push({ name, rec });
    }
    return out;
  }

  /** Stores a new user; false when the name is taken. */
  async create(name: string, rec: UserRecord): Promise<boolean> {
    try {
      await this.kv.create(key(name), JSON.stringify(rec));
    } catch (err) {
      // Someone else made it: what this replica cached (no such user) is stale.
      this.cache.delete(name);
      if (isExists(err)) return false;
      throw err;
    }
    this.remember(name, rec);
    return true;
  }

  /** Stores (replaces) a user. */
  async put(name: string, rec: UserRecord): Promise<void> {
    await this.kv.put(key(name), JSON.stringify(rec));
    this.remember(name, rec);
  }

  async delete(name: string): Promise<void> {
    await this.kv.delete(key(name));
    this.remember(name, undefined);
  }

  /**
   * Makes sure someone can log in as admin. With `adminPassword` the `admin` user gets it at
   * every start (its sessions survive a restart when it did not change). Without it and
   * without any admin, `admin` gets a random password that is logged once, at warn level.
   * A later start with an admin logs nothing secret.
   */
  async ensureAdmin(adminPassword: string | undefined): Promise<void> {
    const current = await this.get("admin");
    if (adminPassword !== undefined) {
      const same = current !== undefined && (await verifyPassword(adminPassword, current.hash));
      if (same && current.role === "admin" && current.fromEnv) {
        this.log.info({ user: "admin" }, "admin password is set by PICKET_ADMIN_PASSWORD");
        return;
      }
      // An unchanged password keeps its date, so the admin's sessions survive the restart.
      const rec: UserRecord = same
        ? { ...current, role: "admin", fromEnv: true }
        : { role: "admin", hash: await hashPassword(adminPassword), passwordChangedAt: this.now(), fromEnv: true };
      await this.put("admin", rec);
      this.log.info({ user: "admin" }, "admin password set from PICKET_ADMIN_PASSWORD");
      return;
    }
    if (current?.fromEnv === true) {
      // The variable was removed: the last password it set stays, and can now be changed in Settings.
      await this.put("admin", { ...current, fromEnv: false });
      this.log.info({ user: "admin" }, "PICKET_ADMIN_PASSWORD is no longer set: the admin password it last set stays; change it in Settings");
      return;
    }
    if ((await this.list()).some((u) => u.rec.role === "admin")) return;
    const password = generatePassword();
    // create, not put: of two replicas starting at once, only one makes (and shows) a password.
    const made = await this.create("admin", { role: "admin", hash: await hashPassword(password), passwordChangedAt: this.now(), fromEnv: false });
    if (made) this.log.warn({ user: "admin" }, `the web UI's admin password is ${password} ; it is shown once: change it in Settings, or set PICKET_ADMIN_PASSWORD`);
  }

  private remember(name: string, rec: UserRecord | undefined): void {
    if (this.cache.size >= 1_000) this.cache.clear();
    this.cache.set(name, { rec, at: this.now() });
  }
}

function key(name: string): string {
  return `users.${name}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isExists(err: unknown): boolean {
  return err instanceof Error && /wrong last sequence|exists/i.test(err.message);
}
