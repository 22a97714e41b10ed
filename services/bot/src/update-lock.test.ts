import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { createUpdateLock } from "./update-lock.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function lockDir(): string {
  const d = mkdtempSync(join(tmpdir(), "picket-lock-"));
  dirs.push(d);
  return d;
}

/** A logger whose lines the test reads. */
function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l) as { level: string; msg: string });
      done();
    },
  });
  return { log: createLogger({ service: "bot", device: "test", level: "debug" }, stream), lines };
}

const uid = process.getuid?.() ?? 0;

describe("balena's update lock", () => {
  it("is a no-op where the lock directory does not exist", async () => {
    const path = join(lockDir(), "missing", "updates.lock");
    const lock = createUpdateLock({ log: recordingLog().log, path });
    const seen = await lock.hold(async () => [existsSync(path), lock.held]);
    expect(seen).toEqual([false, false]);
  });

  it("creates the file while an alert is delivered and removes it afterwards", async () => {
    const path = join(lockDir(), "updates.lock");
    const lock = createUpdateLock({ log: recordingLog().log, path });
    const during = await lock.hold(async () => ({ exists: existsSync(path), held: lock.held }));
    expect(during).toEqual({ exists: true, held: true });
    expect(existsSync(path)).toBe(false);
    expect(lock.held).toBe(false);
  });

  it("stays held until the last of overlapping deliveries ends, and is taken once", async () => {
    const path = join(lockDir(), "updates.lock");
    const { log, lines } = recordingLog();
    const lock = createUpdateLock({ log, path });
    let endFirst!: () => void;
    const first = lock.hold(() => new Promise<void>((r) => (endFirst = r)));
    const second = lock.hold(async () => existsSync(path));
    expect(await second).toBe(true);
    expect(existsSync(path)).toBe(true);
    endFirst();
    await first;
    expect(existsSync(path)).toBe(false);
    expect(lines.filter((l) => l.msg === "took balena's update lock")).toHaveLength(1);
  });

  it("releases the lock when the delivery fails, and passes the failure on", async () => {
    const path = join(lockDir(), "updates.lock");
    const lock = createUpdateLock({ log: recordingLog().log, path });
    await expect(lock.hold(async () => Promise.reject(new Error("upload failed")))).rejects.toThrow("upload failed");
    expect(existsSync(path)).toBe(false);
  });

  it("leaves a lock of another owner (the supervisor's, during an update) alone and delivers all the same", async () => {
    const path = join(lockDir(), "updates.lock");
    writeFileSync(path, "");
    const { log, lines } = recordingLog();
    // The file is this process's; a lock that believes itself another uid sees a stranger's file.
    const lock = createUpdateLock({ log, path, uid: uid + 1 });
    expect(await lock.hold(async () => "delivered")).toBe("delivered");
    expect(existsSync(path)).toBe(true);
    expect(lines.some((l) => l.level === "info" && /held by another process/.test(l.msg))).toBe(true);
  });

  it("removes a lock left by an earlier run of the service (same owner) and takes it", async () => {
    const path = join(lockDir(), "updates.lock");
    writeFileSync(path, "left over");
    const { log, lines } = recordingLog();
    const lock = createUpdateLock({ log, path, uid });
    // The new file is this run's own, empty one.
    const during = await lock.hold(async () => ({ held: lock.held, size: statSync(path).size }));
    expect(during).toEqual({ held: true, size: 0 });
    expect(existsSync(path)).toBe(false);
    expect(lines.some((l) => l.level === "warn" && /left by an earlier run/.test(l.msg))).toBe(true);
  });

  it("delivers without the lock, warning once, when the lock cannot be created", async () => {
    const dir = lockDir();
    // A directory in the lock file's place: it can be neither created exclusively nor removed.
    const path = join(dir, "updates.lock");
    mkdirSync(path);
    const { log, lines } = recordingLog();
    const lock = createUpdateLock({ log, path });
    expect(await lock.hold(async () => 1)).toBe(1);
    expect(await lock.hold(async () => 2)).toBe(2);
    expect(lines.filter((l) => l.level === "warn" && /cannot take/.test(l.msg))).toHaveLength(1);
  });

  it("lets updates through when a delivery holds the lock too long", async () => {
    const path = join(lockDir(), "updates.lock");
    const { log, lines } = recordingLog();
    const lock = createUpdateLock({ log, path, maxHoldMs: 50 });
    let end!: () => void;
    const stuck = lock.hold(() => new Promise<void>((r) => (end = r)));
    await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(path)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(path)).toBe(false);
    expect(lines.some((l) => l.level === "warn" && /too long/.test(l.msg))).toBe(true);
    end();
    await stuck;
    expect(await lock.hold(async () => existsSync(path))).toBe(true);
  });

  it("takes the lock again for the next alert after a release", async () => {
    const path = join(lockDir(), "updates.lock");
    const lock = createUpdateLock({ log: recordingLog().log, path });
    for (let i = 0; i < 3; i++) expect(await lock.hold(async () => existsSync(path))).toBe(true);
    expect(existsSync(path)).toBe(false);
  });
});
