import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpGet, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance } from "fastify";
import { EVENTS_STREAM, EventDeleted, mediaNames, subjects, type MediaEvent, type PresenceEvent } from "@picket/contracts";
import { createLogger, ensureEventsStream, jetstream, jetstreamManager, openMediaReader, openMediaStore, type Logger, type MediaStore, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { startEventFeed, type EventFeed } from "../services/web/src/events/event-feed.js";
import type { EventEntry } from "../services/web/src/events/event-index.js";
import type { LiveEventsOptions } from "../services/web/src/events/event-live.js";
import { openEventMedia, type EventMedia } from "../services/web/src/events/event-media.js";
import { eventRoutes } from "../services/web/src/events/event-routes.js";
import { testBus } from "./support/bus.js";
import { waitFor } from "./support/ports.js";
import { startNats, type NatsServer } from "./support/nats.js";

const run = promisify(execFile);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A JPEG and a small faststart MP4 made by the real ffmpeg. */
async function makeMedia(): Promise<{ jpeg: Buffer; mp4: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), "picket-web-events-"));
  try {
    const src = ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10"];
    await run("ffmpeg", [...src, "-frames:v", "1", join(dir, "s.jpg")]);
    await run("ffmpeg", [...src, "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", join(dir, "c.mp4")]);
    return { jpeg: await readFile(join(dir, "s.jpg")), mp4: await readFile(join(dir, "c.mp4")) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Log lines, to see what the feed said. */
function captureLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ service: "web", device: "pi", level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

interface Harness {
  nats: NatsServer;
  nc: NatsConnection;
  store: MediaStore;
  feed: EventFeed;
  app: FastifyInstance;
  lines: Record<string, unknown>[];
  /** Calls the routes made to the media store. */
  mediaCalls: string[];
}

async function harness(opts: { live?: LiveEventsOptions; before?: (nc: NatsConnection) => Promise<void>; docs?: boolean } = {}): Promise<Harness> {
  const nats = await startNats();
  cleanups.push(() => nats.dispose());
  const nc = await testBus(nats.url);
  cleanups.push(() => nc.close());
  await ensureEventsStream(nc);
  // The camera owns the bucket; the web only reads and deletes.
  const store = await openMediaStore(nc, { maxBytes: 50_000_000, maxAgeMs: 3_600_000 });
  await opts.before?.(nc);
  const { log, lines } = captureLog();
  const feed = startEventFeed({ nc, log });
  cleanups.push(() => feed.stop());
  await feed.ready;
  const real = openEventMedia(nc);
  const mediaCalls: string[] = [];
  const media: EventMedia = {
    get: (id, kind, device) => (mediaCalls.push(`get ${id} ${kind}`), real.get(id, kind, device)),
    delete: (id, device) => (mediaCalls.push(`delete ${id}`), real.delete(id, device)),
  };
  const app = Fastify();
  // As app.ts answers errors.
  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => void reply.status(err.statusCode ?? 500).send({ error: err.message }));
  if (opts.docs === true) await app.register(swagger, { openapi: { info: { title: "Picket", version: "test" } } });
  await eventRoutes(app, { nc, log, feed, media, timeZone: "UTC", ...(opts.live === undefined ? {} : { live: opts.live }) });
  cleanups.push(() => app.close());
  return { nats, nc, store, feed, app, lines, mediaCalls };
}

const T = Date.UTC(2025, 0, 2, 3, 4, 5);

function started(id: string, at: number, over: Partial<PresenceEvent> = {}): PresenceEvent {
  return { id, kind: "presence", state: "started", device: "pi", at, triggers: ["pir"], test: false, media: { snapshot: mediaNames.snapshot(id), clip: mediaNames.clip(id) }, ...over };
}

async function publish(nc: NatsConnection, event: PresenceEvent | MediaEvent): Promise<number> {
  const ack = await jetstream(nc).publish(subjects.event(event.device, event.kind), JSON.stringify(event), { msgID: event.id });
  return ack.seq;
}

let mediaRecords = 0;
async function storeMedia(h: Harness, eventId: string, kind: "snapshot" | "clip", data: Buffer): Promise<number> {
  const name = mediaNames[kind](eventId);
  await h.store.put(name, data, { contentType: kind === "snapshot" ? "image/jpeg" : "video/mp4" });
  const event: MediaEvent = { id: `media-record-${++mediaRecords}`, kind: "media", device: "pi", eventId, media: kind, object: name, bytes: data.length, at: T, ...(kind === "clip" ? { durationMs: 2_000 } : {}) };
  return publish(h.nc, event);
}

const json = <T>(body: string) => JSON.parse(body) as T;

describe("web events API", () => {
  it("lists the events stored before the start and those that come after, newest first, with filters and pages", async () => {
    const h = await harness({
      before: async (nc) => {
        await publish(nc, started("evt-pi-0001", T + 1000));
        await publish(nc, started("evt-gar-0002", T + 2000, { device: "garage", triggers: ["motion"] }));
        await publish(nc, started("evt-pi-0003", T + 3000, { triggers: ["test"], test: true }));
        await publish(nc, { ...started("evt-pi-0001", T + 1500), id: "evt-pi-0001-end", state: "ended", startedId: "evt-pi-0001", media: undefined, triggers: ["pir", "motion"] });
      },
    });
    // Read at the start: ready resolves only once everything stored is in.
    expect(h.feed.index.size).toBe(3);
    await publish(h.nc, started("evt-pi-0004", T + 4000, { triggers: ["pir", "motion"] }));
    await waitFor("the live event", () => h.feed.index.get("evt-pi-0004"));

    const list = async (qs: string) => {
      const res = await h.app.inject(`/api/events${qs}`);
      expect(res.statusCode, res.body).toBe(200);
      const body = json<{ events: EventEntry[]; more: boolean }>(res.body);
      return { ids: body.events.map((e) => e.id), more: body.more, events: body.events };
    };
    expect((await list("")).ids).toEqual(["evt-pi-0004", "evt-pi-0003", "evt-gar-0002", "evt-pi-0001"]);
    expect((await list("?device=garage")).ids).toEqual(["evt-gar-0002"]);
    expect((await list("?trigger=motion")).ids).toEqual(["evt-pi-0004", "evt-gar-0002", "evt-pi-0001"]);
    expect((await list("?trigger=test")).ids).toEqual(["evt-pi-0003"]);
    expect((await list(`?from=${T + 2000}&to=${T + 3000}`)).ids).toEqual(["evt-pi-0003", "evt-gar-0002"]);
    const p1 = await list("?limit=2");
    expect(p1).toMatchObject({ ids: ["evt-pi-0004", "evt-pi-0003"], more: true });
    expect(await list("?limit=2&before=evt-pi-0003")).toMatchObject({ ids: ["evt-gar-0002", "evt-pi-0001"], more: false });

    const one = await h.app.inject("/api/events/evt-pi-0001");
    expect(one.statusCode).toBe(200);
    expect(json<EventEntry>(one.body)).toEqual({
      id: "evt-pi-0001",
      device: "pi",
      at: T + 1000,
      endedAt: T + 1500,
      triggers: ["pir", "motion"],
      test: false,
      snapshot: null,
      clip: null,
      clipPending: true,
      mediaError: null,
    });
    expect((await h.app.inject("/api/events/evt-nothing-9")).statusCode).toBe(404);
    for (const bad of ["?limit=0", "?limit=101", "?trigger=smoke", "?device=a.b", "?from=-1", "?before=evt-nothing-9"]) {
      const res = await h.app.inject(`/api/events${bad}`);
      expect(res.statusCode, bad).toBe(400);
      expect(json<{ error: string }>(res.body).error, bad).toMatch(/\w/);
    }
  });

  it("serves an event's photo and clip by id, with byte ranges for seeking and a download name", async () => {
    const { jpeg, mp4 } = await makeMedia();
    const h = await harness();
    await publish(h.nc, started("evt-media-01", T));
    await waitFor("the event", () => h.feed.index.get("evt-media-01"));
    const pending = await h.app.inject("/api/events/evt-media-01/clip.mp4");
    expect(pending.statusCode).toBe(404);
    expect(json<{ error: string }>(pending.body).error).toMatch(/still being recorded/);

    await storeMedia(h, "evt-media-01", "snapshot", jpeg);
    await storeMedia(h, "evt-media-01", "clip", mp4);
    await waitFor("the clip in the index", () => h.feed.index.get("evt-media-01")?.clip);
    expect(h.feed.index.get("evt-media-01")).toMatchObject({ snapshot: { bytes: jpeg.length }, clip: { bytes: mp4.length, durationMs: 2_000 }, clipPending: false });

    const snap = await h.app.inject("/api/events/evt-media-01/snapshot.jpg");
    expect(snap.statusCode).toBe(200);
    expect(snap.headers["content-type"]).toBe("image/jpeg");
    expect(snap.rawPayload.equals(jpeg)).toBe(true);
    expect(snap.headers["content-disposition"]).toBeUndefined();

    const whole = await h.app.inject("/api/events/evt-media-01/clip.mp4");
    expect(whole.statusCode).toBe(200);
    expect(whole.headers).toMatchObject({ "content-type": "video/mp4", "accept-ranges": "bytes", "content-length": String(mp4.length) });
    expect(whole.rawPayload.equals(mp4)).toBe(true);

    const part = await h.app.inject({ url: "/api/events/evt-media-01/clip.mp4", headers: { range: "bytes=100-1099" } });
    expect(part.statusCode).toBe(206);
    expect(part.headers).toMatchObject({ "content-range": `bytes 100-1099/${mp4.length}`, "content-length": "1000", "content-type": "video/mp4" });
    expect(part.rawPayload.equals(mp4.subarray(100, 1100))).toBe(true);
    const tail = await h.app.inject({ url: "/api/events/evt-media-01/clip.mp4", headers: { range: "bytes=-16" } });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload.equals(mp4.subarray(mp4.length - 16))).toBe(true);
    const past = await h.app.inject({ url: "/api/events/evt-media-01/clip.mp4", headers: { range: `bytes=${mp4.length}-` } });
    expect(past.statusCode).toBe(416);
    expect(past.headers["content-range"]).toBe(`bytes */${mp4.length}`);

    const download = await h.app.inject("/api/events/evt-media-01/clip.mp4?download=1");
    expect(download.headers["content-disposition"]).toBe('attachment; filename="picket-pi-20250102-030405.mp4"');
    const snapDownload = await h.app.inject("/api/events/evt-media-01/snapshot.jpg?download=1");
    expect(snapDownload.headers["content-disposition"]).toBe('attachment; filename="picket-pi-20250102-030405.jpg"');
    expect((await h.app.inject("/api/events/evt-media-01/clip.mp4?download=yes")).statusCode).toBe(400);
  });

  it("deletes an event: its media, its records in the stream, and a deleted record that a restarted web reads", async () => {
    const { jpeg, mp4 } = await makeMedia();
    const h = await harness();
    const seqs = [await publish(h.nc, started("evt-del-0001", T))];
    seqs.push(await storeMedia(h, "evt-del-0001", "snapshot", jpeg));
    seqs.push(await storeMedia(h, "evt-del-0001", "clip", mp4));
    const keep = await publish(h.nc, started("evt-keep-001", T + 10));
    await storeMedia(h, "evt-keep-001", "snapshot", jpeg);
    await waitFor("both events with media", () => h.feed.index.get("evt-del-0001")?.clip && h.feed.index.get("evt-keep-001")?.snapshot);

    const res = await h.app.inject({ method: "DELETE", url: "/api/events/evt-del-0001" });
    expect(res.statusCode, res.body).toBe(204);
    expect((await h.app.inject("/api/events/evt-del-0001")).statusCode).toBe(404);
    expect((await h.app.inject("/api/events/evt-del-0001/snapshot.jpg")).statusCode).toBe(404);
    expect((await h.app.inject({ method: "DELETE", url: "/api/events/evt-del-0001" })).statusCode).toBe(404);

    const reader = openMediaReader(h.nc);
    expect(await reader.get(mediaNames.snapshot("evt-del-0001"))).toBeUndefined();
    expect(await reader.get(mediaNames.clip("evt-del-0001"))).toBeUndefined();
    expect(await reader.get(mediaNames.snapshot("evt-keep-001"))).toBeDefined();

    const jsm = await jetstreamManager(h.nc);
    for (const seq of seqs) expect(await jsm.streams.getMessage(EVENTS_STREAM, { seq }), `seq ${seq}`).toBeNull();
    expect(await jsm.streams.getMessage(EVENTS_STREAM, { seq: keep })).not.toBeNull();
    const tombstone = await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subjects.event("pi", "deleted") });
    expect(tombstone?.subject).toBe("picket.pi.events.deleted");
    expect(EventDeleted.parse(tombstone?.json())).toMatchObject({ kind: "deleted", device: "pi", eventId: "evt-del-0001", by: "web" });

    // A clip still being recorded when the event was deleted: removed when it arrives.
    const late = await storeMedia(h, "evt-del-0001", "clip", mp4);
    // (Not reading the clip meanwhile: a read racing the deletion would wait for its chunks.)
    await waitFor("the late clip's record removed", async () => (await jsm.streams.getMessage(EVENTS_STREAM, { seq: late })) === null);
    expect(await reader.get(mediaNames.clip("evt-del-0001"))).toBeUndefined();
    expect((await h.app.inject("/api/events/evt-del-0001")).statusCode).toBe(404);

    // Another replica's deletion (the event's own records stay in the stream).
    await publish(h.nc, started("evt-other-del", T + 20));
    await waitFor("the other event", () => h.feed.index.get("evt-other-del"));
    const other: EventDeleted = { id: "del-by-other-1", kind: "deleted", device: "pi", eventId: "evt-other-del", at: T + 30, by: "alice" };
    await jetstream(h.nc).publish(subjects.event("pi", "deleted"), JSON.stringify(other), { msgID: other.id });
    await waitFor("the other replica's deletion", () => h.feed.index.get("evt-other-del") === undefined);

    // Another replica, or this one after a restart, reads the stream from the start.
    const again = startEventFeed({ nc: h.nc, log: createLogger({ service: "web", device: "pi", level: "silent" }) });
    cleanups.push(() => again.stop());
    await again.ready;
    expect(again.index.get("evt-del-0001")).toBeUndefined();
    expect(again.index.get("evt-other-del")).toBeUndefined();
    expect(again.index.get("evt-keep-001")).toBeDefined();
  });

  it("pushes new events and deletions as Server-Sent Events within a second, with keep-alives, to a bounded number of listeners", async () => {
    const h = await harness({ live: { maxListeners: 2, keepAliveMs: 200 } });
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    const addr = h.app.server.address();
    const port = typeof addr === "object" && addr !== null ? addr.port : 0;

    const open = () =>
      new Promise<{ res: IncomingMessage; text: () => string; close: () => void }>((resolve, reject) => {
        const req = httpGet({ host: "127.0.0.1", port, path: "/api/events/live", headers: { accept: "text/event-stream" } }, (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("error", () => undefined);
          resolve({ res, text: () => text, close: () => req.destroy() });
        });
        req.on("error", reject);
        req.end();
      });
    const a = await open();
    expect(a.res.statusCode).toBe(200);
    expect(a.res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    const b = await open();
    const c = await open();
    expect(c.res.statusCode).toBe(503);
    c.close();

    const sent = Date.now();
    await publish(h.nc, started("evt-live-001", T));
    const message = await waitFor("the event on the live stream", () => /event: event\ndata: (.*)\n\n/.exec(a.text()), 1_000, 10);
    expect(Date.now() - sent).toBeLessThan(1_000);
    expect(JSON.parse(message[1] as string)).toMatchObject({ id: "evt-live-001", device: "pi", clipPending: true });
    await waitFor("the event on the second stream", () => b.text().includes('"id":"evt-live-001"'), 1_000, 10);

    const deletedAt = Date.now();
    expect((await h.app.inject({ method: "DELETE", url: "/api/events/evt-live-001" })).statusCode).toBe(204);
    await waitFor("the deletion on the live stream", () => a.text().includes('event: deleted\ndata: {"id":"evt-live-001"}\n\n'), 1_000, 10);
    expect(Date.now() - deletedAt).toBeLessThan(1_000);
    await waitFor("a keep-alive comment", () => a.text().includes(": keep-alive\n\n"), 1_000, 10);

    // A listener that goes makes room for another.
    b.close();
    const d = await waitFor("room for a listener", async () => {
      const next = await open();
      if (next.res.statusCode === 200) return next;
      next.close();
      return undefined;
    }, 2_000);
    d.close();
    // Closing the app ends the streams still open (it would otherwise wait for them).
    const ended = new Promise<void>((resolve) => a.res.once("end", resolve));
    await h.app.close();
    await ended;
  });

  it("documents every route in the OpenAPI spec, with its schemas", async () => {
    const h = await harness({ docs: true });
    await h.app.ready();
    const spec = h.app.swagger() as unknown as { paths: Record<string, Record<string, { tags?: string[]; summary?: string; parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>> };
    const ops = Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, ...op })));
    expect(ops.map((o) => o.route).sort()).toEqual(
      [
        "GET /api/events",
        "GET /api/events/live",
        "GET /api/events/{id}",
        "GET /api/events/{id}/snapshot.jpg",
        "GET /api/events/{id}/clip.mp4",
        "DELETE /api/events/{id}",
      ].sort(),
    );
    for (const op of ops) {
      expect(op.tags, op.route).toEqual(["events"]);
      expect(op.summary, op.route).toMatch(/\w/);
      expect(Object.keys(op.responses).some((code) => code.startsWith("2")), op.route).toBe(true);
      if (op.route.includes("{id}")) expect(op.parameters, op.route).toContainEqual(expect.objectContaining({ name: "id", in: "path" }));
    }
    expect(ops.find((o) => o.route === "GET /api/events")?.parameters?.map((p) => p.name).sort()).toEqual(["before", "device", "from", "limit", "to", "trigger"]);
  });

  it("skips malformed records and reads on", async () => {
    const h = await harness({
      before: async (nc) => {
        const js = jetstream(nc);
        await js.publish(subjects.event("pi", "presence"), "not json {");
        await js.publish(subjects.event("pi", "media"), JSON.stringify({ kind: "media", id: "x" }));
        await js.publish(subjects.event("pi", "presence"), JSON.stringify(started("evt-other-01", T, { device: "garage" })));
        await js.publish(subjects.event("pi", "deleted"), new Uint8Array([0xff, 0xfe]));
        await publish(nc, started("evt-good-001", T));
      },
    });
    expect(h.feed.index.get("evt-good-001")).toBeDefined();
    expect(h.feed.index.get("evt-other-01")).toBeUndefined();
    const skipped = h.lines.filter((l) => l.msg === "skipped a malformed event record");
    expect(skipped.map((l) => l.reason)).toEqual(["payload is not JSON", expect.stringMatching(/device|eventId|media/), expect.stringMatching(/another device/), "payload is not UTF-8"]);
    // Live as well.
    await jetstream(h.nc).publish(subjects.event("pi", "presence"), "[]");
    await publish(h.nc, started("evt-good-002", T + 1));
    await waitFor("the next good event", () => h.feed.index.get("evt-good-002"));
    expect(h.lines.filter((l) => l.msg === "skipped a malformed event record")).toHaveLength(5);
  });

  it("answers path-traversal and malformed ids with 400 or 404 without touching the media store", async () => {
    const h = await harness();
    await publish(h.nc, started("evt-real-001", T));
    await waitFor("the event", () => h.feed.index.get("evt-real-001"));
    // Encoded traversal fails the id's pattern (400); dot segments never reach the route (404).
    const attempts: [string, number][] = [
      ["/api/events/..%2F..%2Fsnapshots%2Fevt-real-001/snapshot.jpg", 400],
      ["/api/events/%2e%2e%2f%2e%2e%2fclips/clip.mp4", 400],
      ["/api/events/..%5c..%5cevt-real-001/snapshot.jpg", 400],
      ["/api/events/%2e%2e/clip.mp4", 404],
      ["/api/events/../../evt-real-001/snapshot.jpg", 404],
      ["/api/events/evt-real-001%00/clip.mp4", 400],
      ["/api/events/evt%20real%20001/clip.mp4", 400],
      ["/api/events/evt-not-there/clip.mp4", 404],
      ["/api/events/..%2F..%2Fevt-real-001", 400],
    ];
    for (const [url, status] of attempts) {
      const res = await h.app.inject(url);
      expect(res.statusCode, url).toBe(status);
      expect(res.headers["content-type"], url).toMatch(/json/);
    }
    for (const url of ["/api/events/..%2F..%2Fevt-real-001", "/api/events/%2e%2e%5cx"]) {
      expect([400, 404], url).toContain((await h.app.inject({ method: "DELETE", url })).statusCode);
    }
    expect(h.mediaCalls).toEqual([]);
    expect(h.feed.index.get("evt-real-001")).toBeDefined();
    // The same routes do reach the store for a real id.
    await h.app.inject("/api/events/evt-real-001/snapshot.jpg");
    expect(h.mediaCalls).toEqual(["get evt-real-001 snapshot"]);
  });

  it("follows the stream across a broker restart", async () => {
    const h = await harness();
    await publish(h.nc, started("evt-before-01", T));
    await waitFor("the first event", () => h.feed.index.get("evt-before-01"));
    await h.nats.stop();
    await h.nats.start();
    await waitFor("publishing again", () => publish(h.nc, started("evt-after-001", T + 1)).then(() => true), 20_000, 200);
    await waitFor("the event after the restart", () => h.feed.index.get("evt-after-001"), 40_000);
    expect(h.feed.index.size).toBe(2);
  });
});
