import { MediaEvent, PresenceEvent, subjects } from "@picket/contracts";
import { Counter, Histogram, subscribeJson, type Logger, type NatsConnection, type ServiceMetrics, type Subscription } from "@picket/runtime";

export interface Still {
  jpeg: Buffer;
  capturedUs: number;
}

export interface Clip {
  mp4: Uint8Array;
  durationMs: number;
  /** Capture wall-clock of the first frame, ms. */
  firstFrameAt: number;
}

/** What the event media module needs from the camera and the stores; injected. */
export interface EventMediaPorts {
  /** The still captured at (or just before) the trigger moment, from the ring of recent stills. */
  stillAt(atMs: number): Still | undefined;
  /** The next still the camera makes (after an on-demand start), or undefined after `timeoutMs`. */
  nextStill(timeoutMs: number): Promise<Still | undefined>;
  /** Records the clip around `atMs` (pre-roll and post-roll); undefined when the camera gave no video. */
  recordClip(eventId: string, atMs: number): Promise<Clip | undefined>;
  put(name: string, data: Uint8Array, contentType: string): Promise<{ bytes: number }>;
  /** Stores a media event durably (JetStream); false if the service stopped first. */
  record(event: MediaEvent): Promise<boolean>;
  /** Holds the camera (on-demand mode) for `ms`. */
  hold(holder: string, ms: number): void;
}

export interface EventMediaDeps {
  nc: NatsConnection;
  device: string;
  log: Logger;
  metrics: ServiceMetrics;
  ports: EventMediaPorts;
  /** The clip covers this long after the trigger. */
  postRollMs: number;
}

/**
 * Reacts to stored presence events (the record comes first, everything else reacts): keeps
 * the frame of the trigger moment as the event's snapshot at once, then records the clip
 * with pre-roll and post-roll; both go to the media store under the names the event
 * carries, and a `media` event says each is ready (or why it is missing).
 */
export function createEventMedia(deps: EventMediaDeps) {
  const { nc, device, ports } = deps;
  const log = deps.log.child({ module: "event-media" });
  const stored = new Counter({ name: "picket_camera_event_media_total", help: "Event snapshots and clips, by result", labelNames: ["media", "result"] as const, registers: [deps.metrics.registry] });
  const snapshotLatency = new Histogram({
    name: "picket_camera_event_snapshot_seconds",
    help: "Trigger moment to the event's snapshot stored",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [deps.metrics.registry],
  });
  const seen = new Set<string>();
  const pending = new Set<Promise<unknown>>();
  let sub: Subscription | undefined;

  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const mediaEvent = (event: PresenceEvent, media: "snapshot" | "clip", fields: Partial<MediaEvent> & { at: number }): MediaEvent => ({
    id: `${event.id}-${media === "snapshot" ? "s" : "c"}`,
    kind: "media",
    device,
    eventId: event.id,
    media,
    ...fields,
  });

  const storeSnapshot = async (event: PresenceEvent, name: string): Promise<void> => {
    let still = ports.stillAt(event.at);
    if (still === undefined) still = await ports.nextStill(10_000);
    if (still === undefined) {
      stored.inc({ media: "snapshot", result: "missing" });
      log.warn({ eventId: event.id }, "no picture for the event: the camera has none");
      await ports.record(mediaEvent(event, "snapshot", { at: event.at, error: "the camera had no picture" }));
      return;
    }
    const { bytes } = await ports.put(name, still.jpeg, "image/jpeg");
    snapshotLatency.observe(Math.max(0, Date.now() - event.at) / 1000);
    stored.inc({ media: "snapshot", result: "stored" });
    const at = Math.round(still.capturedUs / 1000);
    log.info({ eventId: event.id, object: name, bytes, offsetMs: at - event.at }, "event snapshot stored");
    await ports.record(mediaEvent(event, "snapshot", { at, object: name, bytes }));
  };

  const storeClip = async (event: PresenceEvent, name: string): Promise<void> => {
    const clip = await ports.recordClip(event.id, event.at);
    if (clip === undefined) {
      stored.inc({ media: "clip", result: "missing" });
      log.warn({ eventId: event.id }, "no clip for the event: the camera gave no video");
      await ports.record(mediaEvent(event, "clip", { at: event.at, error: "the camera gave no video" }));
      return;
    }
    const { bytes } = await ports.put(name, clip.mp4, "video/mp4");
    stored.inc({ media: "clip", result: "stored" });
    log.info({ eventId: event.id, object: name, bytes, durationMs: clip.durationMs }, "event clip stored");
    await ports.record(mediaEvent(event, "clip", { at: clip.firstFrameAt, object: name, bytes, durationMs: clip.durationMs }));
  };

  const onEvent = (event: PresenceEvent) => {
    if (event.state !== "started" || event.device !== device || event.media === undefined) return;
    // JetStream may deliver a retried publish twice to a plain subscriber.
    if (seen.has(event.id)) return;
    seen.add(event.id);
    if (seen.size > 1_000) seen.delete(seen.values().next().value as string);
    const { snapshot, clip } = event.media;
    ports.hold(`event-${event.id}`, deps.postRollMs + 5_000);
    const fail = (media: "snapshot" | "clip") => (err: unknown) => {
      stored.inc({ media, result: "failed" });
      log.error({ err, eventId: event.id }, `could not store the event's ${media}`);
      return ports.record(mediaEvent(event, media, { at: event.at, error: `not stored: ${err instanceof Error ? err.message.slice(0, 150) : "error"}` }));
    };
    track(storeSnapshot(event, snapshot).catch(fail("snapshot")));
    if (clip !== undefined) track(storeClip(event, clip).catch(fail("clip")));
  };

  return {
    start(): void {
      // A plain subscriber on a stream's subject: never answers (the publisher waits for the stream's ack).
      sub = subscribeJson(nc, subjects.event(device, "presence"), PresenceEvent, onEvent, { log, metrics: deps.metrics, answerErrors: false });
    },
    /** Stops taking events; waits for media being stored (the clip recorder finishes early on stop). */
    async stop(): Promise<void> {
      sub?.unsubscribe();
      await Promise.allSettled([...pending]);
    },
    get pending(): number {
      return pending.size;
    },
  };
}

