import { mkdir, open, readFile, rename, rm, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "./logger.js";

/** What the outbox needs of an event: an id that names it (the JetStream message id). */
export interface OutboxEvent {
  id: string;
}

/** Thrown by {@link EventOutbox.append} when the outbox is full: the newest event is refused, the oldest kept. */
export class OutboxFullError extends Error {
  override readonly name = "OutboxFullError";
  constructor(readonly maxEvents: number) {
    super(`the outbox holds ${maxEvents} events, its maximum: the newest is refused until the bus takes the oldest`);
  }
}

export function isOutboxFullError(err: unknown): err is OutboxFullError {
  return err instanceof OutboxFullError;
}

export interface OutboxOptions {
  /** The directory of the file (made if missing). */
  dir: string;
  /** The file's name without extension, e.g. `presence-<device>`. */
  name: string;
  log: Logger;
  /** Events kept at most (default 10,000); past it `append` throws {@link OutboxFullError}. */
  maxEvents?: number;
  /** Acks written before the file is rewritten without them (at least the events still held). Default 256. */
  compactAfterAcks?: number;
}

/** One line of the file: an event kept, or the id of one the bus took. */
type Line = { add: OutboxEvent } | { ack: string };

export const DEFAULT_OUTBOX_MAX_EVENTS = 10_000;

/**
 * A small durable queue of events on local storage: an event is written here before it is
 * published and acked here once the bus has stored it, so what a crash, a power cut or a
 * broker outage interrupts is published at the next start.
 *
 * The file is append-only JSON lines, `{"add":event}` or `{"ack":id}`, each written and
 * fdatasync'ed before the call resolves (an SD card keeps what the kernel only cached for
 * seconds). Acked events are dropped from the file by a rewrite (a temporary file renamed
 * over it) once enough acks piled up, or by truncation when none is left. A last line cut
 * short by a power cut is dropped at open; so is any line that does not parse (logged).
 * Operations run one after another in call order.
 */
export class EventOutbox<E extends OutboxEvent> {
  private readonly held = new Map<string, E>();
  private acksInFile = 0;
  private bytes = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  readonly maxEvents: number;
  private readonly compactAfterAcks: number;

  private constructor(
    readonly file: string,
    private fh: FileHandle,
    private readonly log: Logger,
    opts: OutboxOptions,
  ) {
    this.maxEvents = opts.maxEvents ?? DEFAULT_OUTBOX_MAX_EVENTS;
    this.compactAfterAcks = opts.compactAfterAcks ?? 256;
  }

  /** Opens (making it if needed) the outbox file and reads what it still holds. */
  static async open<E extends OutboxEvent>(opts: OutboxOptions): Promise<EventOutbox<E>> {
    const log = opts.log.child({ module: "outbox" });
    await mkdir(opts.dir, { recursive: true });
    const file = join(opts.dir, `${opts.name}.jsonl`);
    // A rewrite cut short: the file it was to replace is still whole.
    await rm(`${file}.tmp`, { force: true });
    const text = await readFile(file, "utf8").catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw err;
    });
    const parsed = parseOutbox<E>(text);
    if (parsed.torn > 0) log.warn({ file, bytes: parsed.torn }, "the outbox's last line was cut short (power lost while writing): dropped it");
    if (parsed.bad > 0) log.error({ file, lines: parsed.bad }, "outbox lines that do not parse: dropped them");
    const outbox = new EventOutbox<E>(file, await open(file, "a"), log, opts);
    for (const e of parsed.held) outbox.held.set(e.id, e);
    outbox.bytes = Buffer.byteLength(text);
    // Start from a clean file: no torn line for the next append to follow, no stale acks.
    if (parsed.torn > 0 || parsed.bad > 0 || parsed.acks > 0) await outbox.rewrite();
    await syncDir(opts.dir);
    if (outbox.held.size > 0) log.info({ file, events: outbox.held.size }, "the outbox holds events not yet stored on the bus");
    return outbox;
  }

  /** Events held, i.e. written and not yet acked. */
  get size(): number {
    return this.held.size;
  }

  /** The events held, oldest first. */
  events(): E[] {
    return [...this.held.values()];
  }

  has(id: string): boolean {
    return this.held.has(id);
  }

  /**
   * Writes `event` durably. An event already held is not written again.
   * @throws OutboxFullError when `maxEvents` are held; an I/O error when the write failed
   *   (the file is cut back to its last whole line).
   */
  append(event: E): Promise<void> {
    return this.run(async () => {
      if (this.held.has(event.id)) return;
      if (this.held.size >= this.maxEvents) throw new OutboxFullError(this.maxEvents);
      await this.write({ add: event });
      this.held.set(event.id, event);
    });
  }

  /** The bus stored the event `id`: it is dropped (an unknown id is ignored, as is an ack after close). */
  ack(id: string): Promise<void> {
    return this.run(async () => {
      if (!this.held.has(id)) return;
      await this.write({ ack: id });
      this.held.delete(id);
      this.acksInFile++;
      if (this.held.size === 0 || this.acksInFile >= Math.max(this.compactAfterAcks, this.held.size)) await this.rewrite();
    }, true);
  }

  /** Finishes the writes under way and closes the file; an empty outbox leaves no file behind. */
  close(): Promise<void> {
    return this.run(async () => {
      this.closed = true;
      await this.fh.close();
      if (this.held.size === 0) await rm(this.file, { force: true });
    }, true);
  }

  /** Runs `op` after every operation called before it; once closed, `op` is skipped (or refused). */
  private run(op: () => Promise<void>, skipWhenClosed = false): Promise<void> {
    const next = this.chain.then(() => {
      if (!this.closed) return op();
      if (!skipWhenClosed) throw new Error("the outbox is closed");
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async write(line: Line): Promise<void> {
    const data = `${JSON.stringify(line)}\n`;
    try {
      await this.fh.write(data);
      await this.fh.datasync();
      this.bytes += Buffer.byteLength(data);
    } catch (err) {
      // A partial write (disk full) must not leave half a line for the next one to follow.
      await this.fh.truncate(this.bytes).catch((e: unknown) => this.log.error({ err: e, file: this.file }, "could not cut the outbox back to its last whole line"));
      throw err;
    }
  }

  /** Leaves only the events held in the file: truncation when none is, else a new file renamed over it. */
  private async rewrite(): Promise<void> {
    if (this.held.size === 0) {
      await this.fh.truncate(0);
      await this.fh.datasync();
    } else {
      const tmp = `${this.file}.tmp`;
      const data = [...this.held.values()].map((e) => `${JSON.stringify({ add: e } satisfies Line)}\n`).join("");
      const out = await open(tmp, "w");
      try {
        await out.write(data);
        await out.datasync();
      } finally {
        await out.close();
      }
      await rename(tmp, this.file);
      await syncDir(dirname(this.file));
      const old = this.fh;
      this.fh = await open(this.file, "a");
      await old.close();
      this.bytes = Buffer.byteLength(data);
    }
    if (this.held.size === 0) this.bytes = 0;
    this.acksInFile = 0;
  }
}

/** What an outbox file holds: its events still unacked in order, and what was wrong with it. Pure. */
export function parseOutbox<E extends OutboxEvent>(text: string): { held: E[]; acks: number; torn: number; bad: number } {
  const lines = text.split("\n");
  // Every whole line ends with "\n": what follows the last one was cut short.
  const tail = lines.pop() ?? "";
  const held = new Map<string, E>();
  let acks = 0;
  let bad = 0;
  for (const line of lines) {
    if (line === "") continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      bad++;
      continue;
    }
    const r = rec as Partial<Record<"add" | "ack", unknown>>;
    if (typeof r === "object" && r !== null && typeof r.ack === "string") {
      held.delete(r.ack);
      acks++;
    } else if (typeof r === "object" && r !== null && typeof r.add === "object" && r.add !== null && typeof (r.add as OutboxEvent).id === "string") {
      const e = r.add as E;
      if (!held.has(e.id)) held.set(e.id, e);
    } else {
      bad++;
    }
  }
  return { held: [...held.values()], acks, torn: Buffer.byteLength(tail), bad };
}

/** fsync of a directory, so a file made or renamed in it survives a power cut. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
