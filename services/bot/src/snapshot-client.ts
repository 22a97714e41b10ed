import { setTimeout as delay } from "node:timers/promises";
import { subjects } from "@picket/contracts";
import { Backoff, natsErrors, type NatsConnection } from "@picket/runtime";
import { plain } from "./caption.js";

/** A photo from the camera, or why there is none. */
export type Snapshot = { ok: true; jpeg: Buffer } | { ok: false; reason: string };

/** One request to the camera: a JPEG, or the camera's (or the bus's) reason for not giving one. */
export type SnapshotRequest = (timeoutMs: number) => Promise<Snapshot>;

const ERROR_HEADER = "Picket-Error";

/**
 * Asks the camera service for its newest still over NATS request/reply. The camera answers
 * with a JPEG, or with an empty body and a `Picket-Error` header saying why (still starting,
 * picture too old, …). `maxAgeMs` makes a frozen camera say so instead of sending an old picture.
 */
export function natsSnapshotRequest(nc: NatsConnection, device: string, maxAgeMs = 2_000, at?: number): SnapshotRequest {
  const body = JSON.stringify(at === undefined ? { maxAgeMs } : { at });
  return async (timeoutMs) => {
    try {
      const msg = await nc.request(subjects.snapshot(device), body, { timeout: timeoutMs });
      const error = msg.headers?.get(ERROR_HEADER) ?? "";
      if (msg.data.length === 0) return { ok: false, reason: error === "" ? "the camera sent an empty picture" : plain(error) };
      return { ok: true, jpeg: Buffer.from(msg.data) };
    } catch (err) {
      return { ok: false, reason: describeBusError(err) };
    }
  };
}

/** Words for the chat when a request to a camera failed. */
export function describeBusError(err: unknown): string {
  if (err instanceof natsErrors.RequestError && err.isNoResponders()) return "the camera service is not running";
  if (err instanceof natsErrors.NoRespondersError) return "the camera service is not running";
  if (err instanceof natsErrors.TimeoutError || (err instanceof Error && err.cause instanceof natsErrors.TimeoutError)) return "the camera did not answer in time";
  return plain(err instanceof Error ? err.message : String(err));
}

export interface TakeSnapshotOptions {
  /** Tries in all (1 = no retry). */
  attempts: number;
  /** Per try. */
  timeoutMs: number;
  /** Delay between tries; a fresh one per call so each alert starts short. */
  backoff?: () => Backoff;
  /** Gives up early (service stopping). */
  signal?: AbortSignal;
  /** Waits `ms`; injected by tests. Rejects when `signal` aborts. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
}

/**
 * Gets a photo, trying again a few times with a short backoff when the camera has none yet
 * (it is starting, restarting its encoder, or busy). Resolves with the last reason when
 * every try failed; never rejects, except with the signal's reason when aborted.
 */
export async function takeSnapshot(request: SnapshotRequest, opts: TakeSnapshotOptions): Promise<Snapshot> {
  const backoff = opts.backoff?.() ?? new Backoff({ initialMs: 150, maxMs: 1_000 });
  const wait = opts.wait ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, signal === undefined ? {} : { signal }));
  let last: Snapshot = { ok: false, reason: "no attempt made" };
  for (let attempt = 1; attempt <= Math.max(1, opts.attempts); attempt++) {
    opts.signal?.throwIfAborted();
    last = await request(opts.timeoutMs);
    if (last.ok) return last;
    if (attempt < opts.attempts) await wait(backoff.next(), opts.signal);
  }
  return last;
}
