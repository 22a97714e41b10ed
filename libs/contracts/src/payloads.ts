import { z } from "zod";
import { DEVICE_ID_PATTERN } from "./subjects.js";

const deviceId = z.string().regex(DEVICE_ID_PATTERN, "must be a device id ([A-Za-z0-9_-]{1,64})");
const epochMs = z.number().int().nonnegative();

/** A PIR edge after debounce. `level` 1 = motion seen (pin high). */
export const PirEdge = z.strictObject({
  device: deviceId,
  level: z.union([z.literal(0), z.literal(1)]),
  at: epochMs,
  driver: z.enum(["gpio", "sim"]),
});
export type PirEdge = z.infer<typeof PirEdge>;

/** Command to the `sim` driver: set a level, or pulse high for `pulseMs` then low. */
export const PirInject = z.union([
  z.strictObject({ level: z.union([z.literal(0), z.literal(1)]) }),
  z.strictObject({ pulseMs: z.number().int().min(1).max(60_000) }),
]);
export type PirInject = z.infer<typeof PirInject>;

export const Trigger = z.enum(["pir", "motion", "test"]);
export type Trigger = z.infer<typeof Trigger>;

/** A presence event as written to JetStream, before anything reacts to it. */
export const PresenceEvent = z.strictObject({
  id: z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/),
  kind: z.literal("presence"),
  state: z.enum(["started", "ended"]),
  device: deviceId,
  /** Wall-clock time of the edge that caused it, ms since epoch. */
  at: epochMs,
  triggers: z.array(Trigger).min(1),
  /** A test alarm: runs the whole path and says so in the notification. */
  test: z.boolean(),
});
export type PresenceEvent = z.infer<typeof PresenceEvent>;

export const TestAlarmRequest = z.strictObject({ requestedBy: z.string().max(64).optional() });
export type TestAlarmRequest = z.infer<typeof TestAlarmRequest>;

export const TestAlarmReply = z.union([
  z.strictObject({ ok: z.literal(true), eventId: z.string() }),
  z.strictObject({ ok: z.literal(false), error: z.string() }),
]);
export type TestAlarmReply = z.infer<typeof TestAlarmReply>;

/** Request body for a snapshot; empty payload means defaults. */
export const SnapshotRequest = z.strictObject({
  /** Reject a frame older than this (ms); the camera then says why instead. */
  maxAgeMs: z.number().int().min(1).max(60_000).optional(),
});
export type SnapshotRequest = z.infer<typeof SnapshotRequest>;

/** Every few seconds from every service, with the figures an operator wants. */
export const Heartbeat = z.strictObject({
  device: deviceId,
  service: z.enum(["camera", "pir", "bot", "stream", "web"]),
  version: z.string().max(32),
  at: epochMs,
  uptimeS: z.number().nonnegative(),
  rssBytes: z.number().int().nonnegative(),
  cpuPct: z.number().nonnegative(),
  /** Service-specific figures: camera fps, bitrate, viewers, … */
  vitals: z.record(z.string().max(48), z.number()),
});
export type Heartbeat = z.infer<typeof Heartbeat>;
