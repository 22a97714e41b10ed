import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { EventOutbox, OutboxFullError, parseOutbox } from "./outbox.js";

interface Ev {
  id: string;
  n: number;
}

const ev = (n: number): Ev => ({ id: `ev-${n}`, n });

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ service: "pir", device: "pi", level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "picket-outbox-"));
  dirs.push(d);
  return d;
}

const open = (dir: string, extra: { maxEvents?: number; compactAfterAcks?: number } = {}, log = capture().log) => EventOutbox.open<Ev>({ dir, name: "presence-pi", log, ...extra });
const fileLines = (file: string) => readFileSync(file, "utf8").split("\n").filter((l) => l !== "");

describe("EventOutbox", () => {
  it("keeps appended events across a reopen, in order, until they are acked", async () => {
    const dir = tempDir();
    const a = await open(dir);
    for (const n of [1, 2, 3]) await a.append(ev(n));
    await a.ack("ev-2");
    expect(a.events()).toEqual([ev(1), ev(3)]);
    // A crash: the file is not closed.
    const b = await open(join(dir));
    expect(b.events()).toEqual([ev(1), ev(3)]);
    expect(b.size).toBe(2);
    await b.close();
    await a.close();
  });

  it("writes an event already held once, and ignores acks of unknown ids", async () => {
    const dir = tempDir();
    const o = await open(dir);
    await o.append(ev(1));
    await o.append(ev(1));
    await o.ack("ev-9");
    expect(fileLines(o.file)).toEqual([JSON.stringify({ add: ev(1) })]);
    await o.close();
  });

  it("empties the file when the last event is acked, and leaves no file when closed empty", async () => {
    const dir = tempDir();
    const o = await open(dir);
    await o.append(ev(1));
    await o.append(ev(2));
    await o.ack("ev-1");
    expect(fileLines(o.file)).toHaveLength(3);
    await o.ack("ev-2");
    expect(readFileSync(o.file, "utf8")).toBe("");
    await o.append(ev(3));
    expect(fileLines(o.file)).toEqual([JSON.stringify({ add: ev(3) })]);
    await o.ack("ev-3");
    await o.close();
    expect(existsSync(o.file)).toBe(false);
  });

  it("rewrites the file without acked events once enough acks piled up", async () => {
    const dir = tempDir();
    const o = await open(dir, { compactAfterAcks: 3 });
    for (let n = 1; n <= 10; n++) await o.append(ev(n));
    for (let n = 1; n <= 4; n++) await o.ack(`ev-${n}`);
    // Past 3 acks, but 6 events held: the rewrite waits until the acks match them.
    expect(fileLines(o.file)).toHaveLength(14);
    await o.ack("ev-5");
    expect(fileLines(o.file)).toEqual([6, 7, 8, 9, 10].map((n) => JSON.stringify({ add: ev(n) })));
    // Appends go on after a rewrite.
    await o.append(ev(11));
    await o.close();
    expect((await open(dir)).events().map((e) => e.n)).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it("drops a last line cut short by a power cut, keeps the rest, and appends after a clean line", async () => {
    const dir = tempDir();
    const o = await open(dir);
    for (const n of [1, 2]) await o.append(ev(n));
    await o.close();
    appendFileSync(o.file, '{"add":{"id":"ev-3","n"');
    const { log, lines } = capture();
    const again = await open(dir, {}, log);
    expect(again.events()).toEqual([ev(1), ev(2)]);
    expect(lines.some((l) => l.level === "warn" && /cut short/.test(String(l.msg)))).toBe(true);
    await again.append(ev(4));
    expect(fileLines(again.file).map((l) => JSON.parse(l) as unknown)).toEqual([{ add: ev(1) }, { add: ev(2) }, { add: ev(4) }]);
    await again.close();
  });

  it("drops lines that do not parse, with an error log", async () => {
    const dir = tempDir();
    const file = join(dir, "presence-pi.jsonl");
    writeFileSync(file, [JSON.stringify({ add: ev(1) }), "garbage", JSON.stringify({ other: 1 }), JSON.stringify({ add: ev(2) }), ""].join("\n"));
    const { log, lines } = capture();
    const o = await open(dir, {}, log);
    expect(o.events()).toEqual([ev(1), ev(2)]);
    expect(lines.find((l) => l.level === "error")?.lines).toBe(2);
    expect(fileLines(file)).toHaveLength(2);
    await o.close();
  });

  it("refuses the newest event when full, keeping the oldest, and takes new ones once acks make room", async () => {
    const dir = tempDir();
    const o = await open(dir, { maxEvents: 3 });
    for (const n of [1, 2, 3]) await o.append(ev(n));
    await expect(o.append(ev(4))).rejects.toBeInstanceOf(OutboxFullError);
    expect(o.events().map((e) => e.n)).toEqual([1, 2, 3]);
    await o.ack("ev-1");
    await o.append(ev(5));
    expect(o.events().map((e) => e.n)).toEqual([2, 3, 5]);
    await o.close();
  });

  it("runs operations in call order without waiting between calls", async () => {
    const dir = tempDir();
    const o = await open(dir, { compactAfterAcks: 1 });
    const ops = [];
    for (let n = 1; n <= 50; n++) ops.push(o.append(ev(n)));
    for (let n = 1; n <= 25; n++) ops.push(o.ack(`ev-${n}`));
    await Promise.all(ops);
    expect(o.events().map((e) => e.n)).toEqual(Array.from({ length: 25 }, (_, i) => i + 26));
    await o.close();
    expect((await open(dir)).events()).toHaveLength(25);
  });

  it("refuses appends after close and skips acks", async () => {
    const dir = tempDir();
    const o = await open(dir);
    await o.append(ev(1));
    await o.close();
    await expect(o.append(ev(2))).rejects.toThrow(/closed/);
    await expect(o.ack("ev-1")).resolves.toBeUndefined();
    expect((await open(dir)).events()).toEqual([ev(1)]);
  });
});

describe("parseOutbox", () => {
  it("keeps the first position of an event written twice and counts acks, torn bytes and bad lines", () => {
    const text = [{ add: ev(1) }, { add: ev(2) }, { add: ev(1) }, { ack: "ev-2" }].map((l) => JSON.stringify(l)).join("\n") + "\n{}\n{\"ack\":";
    expect(parseOutbox<Ev>(text)).toEqual({ held: [ev(1)], acks: 1, torn: 7, bad: 1 });
  });

  it("reads an empty file as an empty outbox", () => {
    expect(parseOutbox("")).toEqual({ held: [], acks: 0, torn: 0, bad: 0 });
  });
});
