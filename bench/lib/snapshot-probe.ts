// Watches one device's bus for what an event snapshot takes: the PIR edge, the stored presence
// event, the media bucket's object record, the camera's media event, and when the object can be
// read back. Shared by bench/trigger-to-snapshot.ts and bench/cold-snapshot.ts.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Objm } from "@nats-io/obj";
import { MEDIA_BUCKET, MediaEvent, PirEdge, PresenceEvent, subjects } from "@picket/contracts";
import { openMediaReader, type MediaReader, type NatsConnection, type Subscription } from "@picket/runtime";
import type { LogLine, ServiceProcess } from "../../test/support/services.js";

/** Something seen on the bus, with when this process received it (Date.now(), and performance.now()). */
interface Seen<T> {
  value: T;
  wall: number;
  perf: number;
}

/** One PIR pulse followed through to its readable snapshot. Times in ms; `*FromEdge` from PirEdge.at, `*FromInject` from the inject publish. */
export interface SnapshotTrial {
  eventId: string;
  object: string;
  bytes: number;
  /** PirEdge.at: the debounced edge, the pir service's wall clock, ms since epoch. */
  edgeAt: number;
  /** PirEdge.at minus the inject's publish time (wall clocks, 1 ms resolution). */
  injectToEdgeAt: number;
  /** The stored `started` event reached this process. */
  eventFromEdge: number;
  /** The camera logged "event snapshot stored" (its pino time). */
  storedLogFromEdge: number | undefined;
  /** The object's metadata record (written last by the object store) reached a plain subscriber of $O.<bucket>.M.>. */
  metaFromEdge: number | undefined;
  /** The MediaEvent (`events.media`, media "snapshot") reached this process. */
  mediaFromEdge: number;
  mediaFromInject: number;
  /** openMediaReader().get(object) returned the bytes (first tried when the meta record or the media event arrived, whichever came first). */
  readableFromEdge: number;
  readableFromInject: number;
  /** The snapshot's capture time (MediaEvent.at) minus PirEdge.at: negative = a still from before the trigger. */
  stillOffsetMs: number;
  /** `get` calls until the bytes came back (1 = the first try). */
  gets: number;
  /** How long the successful `get` took (its own round trips: info, then the chunks). */
  getMs: number;
  /** The camera logged "event clip stored" (another event's clip put, which shares the store's one-at-a-time queue) within 100 ms before the edge to readable. */
  clipStoredNear: number;
}

export class TrialError extends Error {
  constructor(
    message: string,
    readonly cameraLines: LogLine[],
  ) {
    super(message);
  }
}

const decodeQuietly = <T>(parse: (v: unknown) => T, data: Uint8Array): T | undefined => {
  try {
    return parse(JSON.parse(new TextDecoder().decode(data)));
  } catch {
    return undefined;
  }
};

/** Resolves with the first `items` entry from index `from` on (now or later) that matches, or rejects after `ms`. */
function waitIn<T>(items: T[], from: number, wake: Set<() => void>, match: (t: T) => boolean, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const hit = items.slice(from).find(match);
      if (hit === undefined) return false;
      clearTimeout(timer);
      wake.delete(poke);
      resolve(hit);
      return true;
    };
    const poke = () => void check();
    const timer = setTimeout(() => {
      wake.delete(poke);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    if (!check()) wake.add(poke);
  });
}

export class SnapshotProbe {
  private readonly edges: Seen<PirEdge>[] = [];
  private readonly presence: Seen<PresenceEvent>[] = [];
  private readonly media: Seen<MediaEvent>[] = [];
  private readonly metas: Seen<{ name: string; deleted?: boolean }>[] = [];
  private readonly wake = new Set<() => void>();
  private readonly subs: Subscription[] = [];
  readonly reader: MediaReader;

  constructor(
    private readonly nc: NatsConnection,
    private readonly device: string,
    private readonly camera: ServiceProcess,
  ) {
    this.reader = openMediaReader(nc);
    const on = <T>(subject: string, into: Seen<T>[], parse: (v: unknown) => T) =>
      this.subs.push(
        nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err !== null) return;
            const wall = Date.now();
            const perf = performance.now();
            const value = decodeQuietly(parse, msg.data);
            if (value === undefined) return;
            into.push({ value, wall, perf });
            for (const w of [...this.wake]) w();
          },
        }),
      );
    on(subjects.pirEdge(device), this.edges, (v) => PirEdge.parse(v));
    on(subjects.event(device, "presence"), this.presence, (v) => PresenceEvent.parse(v));
    on(subjects.event(device, "media"), this.media, (v) => MediaEvent.parse(v));
    // The object store writes an object's chunks, then its metadata record: once that is in, the object is whole.
    on(`$O.${MEDIA_BUCKET}.M.>`, this.metas, (v) => {
      const o = v as { name?: unknown; deleted?: unknown };
      if (typeof o.name !== "string") throw new Error("no name");
      return { name: o.name, deleted: o.deleted === true };
    });
  }

  /** Makes sure the subscriptions are registered with the server and the reader has opened the bucket. */
  async ready(): Promise<void> {
    await this.nc.flush();
    await this.reader.get("snapshots/none.jpg");
  }

  /** Camera log lines about `eventId`, plus its warnings and errors since `sinceWall`. */
  cameraLines(eventId: string | undefined, sinceWall: number): LogLine[] {
    return this.camera.logs.filter((l) => {
      const t = Date.parse(String(l.time ?? ""));
      return (eventId !== undefined && l.eventId === eventId) || ((l.level === "warn" || l.level === "error") && !(t < sinceWall));
    });
  }

  /**
   * Publishes `inject` on the sim PIR's subject and follows the event it raises to its
   * readable snapshot; then waits for the presence to end (unless `waitEnd` is false).
   */
  async trial(inject: object, opts: { timeoutMs?: number; waitEnd?: boolean } = {}): Promise<SnapshotTrial> {
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const since = { edges: this.edges.length, presence: this.presence.length };
    const injectWall = Date.now();
    const injectPerf = performance.now();
    this.nc.publish(subjects.pirInject(this.device), JSON.stringify(inject));
    let eventId: string | undefined;
    try {
      const edge = await waitIn(this.edges, since.edges, this.wake, (e) => e.value.level === 1, timeoutMs, "the PIR edge");
      const started = await waitIn(this.presence, since.presence, this.wake, (e) => e.value.state === "started", timeoutMs, "the presence started event");
      eventId = started.value.id;
      const object = started.value.media?.snapshot;
      if (object === undefined) throw new Error(`event ${eventId} names no snapshot`);
      const id = eventId;
      let mediaSeen: Seen<MediaEvent> | undefined;
      const mediaP = waitIn(this.media, 0, this.wake, (m) => m.value.eventId === id && m.value.media === "snapshot", timeoutMs, `the media event of ${id}'s snapshot`);
      const metaP = waitIn(this.metas, 0, this.wake, (m) => m.value.name === object && m.value.deleted !== true, timeoutMs, `the object record of ${object}`);
      void mediaP.then((m) => (mediaSeen = m), () => undefined);
      void metaP.catch(() => undefined);
      // Whichever comes first says the object should be there: read it back from then on.
      await Promise.race([mediaP, metaP]).catch(() => undefined);
      let data: Uint8Array | undefined;
      let gets = 0;
      const giveUp = injectPerf + timeoutMs;
      let getStart = 0;
      while (data === undefined) {
        if (mediaSeen?.value.error !== undefined) throw new Error(`the camera reports no snapshot: ${mediaSeen.value.error}`);
        gets++;
        getStart = performance.now();
        data = await this.reader.get(object);
        if (data === undefined) {
          if (performance.now() > giveUp) throw new Error(`${object} never became readable`);
          await sleep(1);
        }
      }
      const readableWall = Date.now();
      const readablePerf = performance.now();
      const media = await mediaP;
      if (media.value.error !== undefined) throw new Error(`the camera reports no snapshot: ${media.value.error}`);
      const meta = await metaP.catch(() => undefined);
      // The camera's stdout may lag its bus messages: give its log line a moment.
      const storedLog = await this.camera.waitForLog((l) => l.eventId === id && l.msg === "event snapshot stored", 2_000, "snapshot stored").catch(() => undefined);
      if (opts.waitEnd !== false) {
        await waitIn(this.presence, since.presence, this.wake, (e) => e.value.state === "ended" && e.value.startedId === id, timeoutMs, `the end of presence ${id}`);
      }
      const at = edge.value.at;
      const clipStoredNear = this.camera.logs.filter((l) => {
        if (l.msg !== "event clip stored") return false;
        const t = Date.parse(String(l.time));
        return t >= at - 100 && t <= readableWall;
      }).length;
      return {
        eventId: id,
        object,
        bytes: data.length,
        edgeAt: at,
        injectToEdgeAt: at - injectWall,
        eventFromEdge: started.wall - at,
        storedLogFromEdge: storedLog === undefined ? undefined : Date.parse(String(storedLog.time)) - at,
        metaFromEdge: meta === undefined ? undefined : meta.wall - at,
        mediaFromEdge: media.wall - at,
        mediaFromInject: media.perf - injectPerf,
        readableFromEdge: readableWall - at,
        readableFromInject: readablePerf - injectPerf,
        stillOffsetMs: media.value.at - at,
        gets,
        getMs: readablePerf - getStart,
        clipStoredNear,
      };
    } catch (err) {
      throw new TrialError((err as Error).message, this.cameraLines(eventId, injectWall));
    }
  }

  /** Median time of listing the media bucket's objects (what the camera's store does before each put to keep the quota), and how many there are. */
  async timeList(repeats = 5): Promise<{ objects: number; medianMs: number }> {
    const os = await new Objm(this.nc).open(MEDIA_BUCKET);
    const times: number[] = [];
    let objects = 0;
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      objects = (await os.list()).filter((o) => !o.deleted).length;
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { objects, medianMs: Math.round((times[Math.floor(times.length / 2)] ?? Number.NaN) * 10) / 10 };
  }

  async close(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    this.wake.clear();
  }
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/** Per-trial figures rounded for the result file. */
export function roundTrial(t: SnapshotTrial): Record<string, unknown> {
  return Object.fromEntries(Object.entries(t).filter(([k]) => k !== "edgeAt").map(([k, v]) => [k, typeof v === "number" ? r1(v) : v]));
}

/** The figures of every trial, as one list per field. */
export function column(trials: SnapshotTrial[], key: keyof SnapshotTrial): number[] {
  return trials.map((t) => t[key]).filter((v): v is number => typeof v === "number");
}
