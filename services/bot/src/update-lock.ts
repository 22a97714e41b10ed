import { constants } from "node:fs";
import { lstat, open, stat, unlink, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "@picket/runtime";

/**
 * balena's update lock, as its documentation describes it (learn/deploy/release-strategy/
 * update-locking): while `/tmp/balena/updates.lock` exists, the balena supervisor neither
 * kills nor restarts the release's services for an update, nor reboots for a configuration
 * change; the update is downloaded meanwhile and applied once the file is gone. The file
 * must be created exclusively (O_CREAT | O_EXCL) and held by a process. The supervisor
 * mounts the directory into every container; elsewhere (plain Docker, `npm start`, tests)
 * it does not exist and the lock is a no-op.
 */
export const BALENA_UPDATE_LOCK = "/tmp/balena/updates.lock";

/** The uid balena's supervisor (v13.1.0 and newer) creates its own lock files as. */
const SUPERVISOR_UID = 65534;

export interface UpdateLock {
  /**
   * Runs `fn` with the lock held. Holds overlap: the first takes the lock, the last to
   * finish releases it. Never fails because of the lock: when it cannot be taken (the
   * supervisor already holds it because an update is under way, or the directory is not
   * writable), `fn` runs all the same and the reason is logged.
   */
  hold<T>(fn: () => Promise<T>): Promise<T>;
  /** Whether this process holds the lock file now. */
  readonly held: boolean;
}

export interface UpdateLockOptions {
  log: Logger;
  /** The lock file (default balena's). */
  path?: string;
  /** This process's uid, to recognise a lock left by its own earlier run (default process.getuid()). */
  uid?: number;
  /**
   * Longest time the file is kept (default 10 min). A delivery that takes longer is stuck, and a
   * stuck delivery must not hold off every update: the file is then removed, and taken again by
   * the next hold after the current ones end.
   */
  maxHoldMs?: number;
}

/**
 * A lock file shared by the holds of this process. A lock file that exists and belongs to
 * this process's uid but to none of its holds was left by an earlier run of the service
 * (the container was killed while it held it; the directory outlives the container): it is
 * removed, or it would block every update until the device reboots. One that belongs to
 * another uid (the supervisor's) is never touched.
 */
export function createUpdateLock(opts: UpdateLockOptions): UpdateLock {
  const path = opts.path ?? BALENA_UPDATE_LOCK;
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  const log = opts.log.child({ module: "update-lock" });
  const maxHoldMs = opts.maxHoldMs ?? 10 * 60_000;
  let holders = 0;
  let file: FileHandle | undefined;
  let overdue: NodeJS.Timeout | undefined;
  // Takes and releases run one after another, so a take never meets the file of a release
  // still under way (and mistakes it for a leftover).
  let steps: Promise<void> = Promise.resolve();
  const enqueue = (step: () => Promise<void>): Promise<void> => (steps = steps.then(step));
  const warned = new Set<string>();

  const warnOnce = (key: string, obj: Record<string, unknown>, msg: string) => {
    if (warned.has(key)) log.debug(obj, msg);
    else {
      warned.add(key);
      log.warn(obj, msg);
    }
  };

  const create = async (): Promise<FileHandle> => open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);

  const take = async (): Promise<void> => {
    try {
      await stat(dirname(path));
    } catch {
      return; // Not on balena: nothing to lock.
    }
    try {
      file = await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        warnOnce(`take:${(err as NodeJS.ErrnoException).code}`, { err, path }, "cannot take balena's update lock; an update may stop an alert in flight");
        return;
      }
      const owner = await lstat(path).then((s) => s.uid, () => undefined);
      if (owner === undefined || owner !== uid || uid === SUPERVISOR_UID) {
        // The supervisor's (or someone else's): an update is about to stop this service.
        // Delivery goes on; what it does not finish is redelivered after the restart.
        log.info({ path, owner }, "balena's update lock is held by another process (an update is under way)");
        return;
      }
      log.warn({ path }, "removing balena's update lock left by an earlier run of this service");
      await unlink(path).catch(() => undefined);
      try {
        file = await create();
      } catch (err2) {
        warnOnce("retake", { err: err2, path }, "cannot take balena's update lock; an update may stop an alert in flight");
        return;
      }
    }
    log.debug({ path }, "took balena's update lock");
    overdue = setTimeout(() => {
      log.warn({ path, heldMs: maxHoldMs, holders }, "an alert has held balena's update lock too long; letting updates through");
      void enqueue(release);
    }, maxHoldMs);
    overdue.unref();
  };

  const release = async (): Promise<void> => {
    clearTimeout(overdue);
    const f = file;
    file = undefined;
    if (f === undefined) return;
    // Removing the file releases the lock; closing it lets go of the process's hold.
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") log.warn({ err, path }, "could not remove balena's update lock");
    });
    await f.close().catch(() => undefined);
    log.debug({ path }, "released balena's update lock");
  };

  return {
    async hold<T>(fn: () => Promise<T>): Promise<T> {
      holders++;
      await (holders === 1 ? enqueue(take) : steps);
      try {
        return await fn();
      } finally {
        holders--;
        if (holders === 0) await enqueue(release);
      }
    },
    get held() {
      return file !== undefined;
    },
  };
}

const shared = new Map<string, UpdateLock>();

/** The one lock of this process for `path`, so that every alert consumer of the bot shares its holds. */
export function sharedUpdateLock(log: Logger, path = BALENA_UPDATE_LOCK): UpdateLock {
  let lock = shared.get(path);
  if (lock === undefined) {
    lock = createUpdateLock({ log, path });
    shared.set(path, lock);
  }
  return lock;
}
