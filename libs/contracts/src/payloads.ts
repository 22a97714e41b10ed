import { z } from "zod";
import { DEVICE_ID_PATTERN, SERVICE_NAMES } from "./subjects.js";

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

/** A point in frame coordinates as fractions of the width and height: (0,0) top left, (1,1) bottom right. */
const unit = z.number().min(0).max(1);
export const Point = z.tuple([unit, unit]);
export type Point = z.infer<typeof Point>;
/** A polygon of at least three points, in frame coordinates. */
export const Polygon = z.array(Point).min(3).max(64);
export type Polygon = z.infer<typeof Polygon>;
/** A rectangle in frame coordinates. */
export const Box = z.strictObject({ x: unit, y: unit, w: unit, h: unit });
export type Box = z.infer<typeof Box>;

/**
 * Camera motion settings (settings bucket, `devices.<d>.motion`; changed live).
 * `sensitivity` 1 (only large, clear movement) … 10 (small movement); 5 is the default.
 * Pixels inside a mask are never looked at. With zones, only motion inside a zone counts.
 */
export const MotionSettings = z.strictObject({
  sensitivity: z.number().int().min(1).max(10).default(5),
  masks: z.array(Polygon).max(16).default([]),
  zones: z.array(z.strictObject({ name: z.string().regex(/^[A-Za-z0-9 _-]{1,32}$/), polygon: Polygon })).max(16).default([]),
});
export type MotionSettings = z.infer<typeof MotionSettings>;

/**
 * The camera's motion detector, a few times a second while something moves, and once with
 * `moving: false` when it stops. `score` is the changed fraction of the watched area.
 */
export const MotionReport = z.strictObject({
  device: deviceId,
  /** Capture wall-clock of the analysed frame, ms since epoch. */
  at: epochMs,
  moving: z.boolean(),
  score: unit,
  /** Where the change is, or null when nothing moves. */
  box: Box.nullable(),
  /** Names of the zones the motion touches (empty without zones). */
  zones: z.array(z.string().max(32)).max(16),
  /** A whole-frame light change (lamp, cloud, IR switch) was seen and ignored. */
  lightChange: z.boolean(),
});
export type MotionReport = z.infer<typeof MotionReport>;

/** Names of an event's media in the media object store. */
export const mediaNames = {
  snapshot: (eventId: string) => `snapshots/${eventId}.jpg`,
  clip: (eventId: string) => `clips/${eventId}.mp4`,
  /** A clip made on request (ClipRequest); `id` is the camera's, e.g. `lq2x3y4z-abcdefgh`. */
  requestedClip: (id: string) => `clips/request-${id}.mp4`,
} as const;

const eventId = z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/);

/** A presence event as written to JetStream, before anything reacts to it. */
export const PresenceEvent = z.strictObject({
  id: eventId,
  kind: z.literal("presence"),
  state: z.enum(["started", "ended"]),
  device: deviceId,
  /** Wall-clock time of the input that caused it (for `ended`: the last sign of presence), ms since epoch. */
  at: epochMs,
  triggers: z.array(Trigger).min(1),
  /** A test alarm: runs the whole path and says so in the notification. */
  test: z.boolean(),
  /** For `ended`: the id of the `started` event it closes. */
  startedId: eventId.optional(),
  /** The media the camera stores for this event, in the media object store (started events). */
  media: z.strictObject({ snapshot: z.string().max(128), clip: z.string().max(128).optional() }).optional(),
});
export type PresenceEvent = z.infer<typeof PresenceEvent>;

/** The camera stored (or could not store) an event's snapshot or clip. Durable, `events.media`. */
export const MediaEvent = z.strictObject({
  id: eventId,
  kind: z.literal("media"),
  device: deviceId,
  eventId,
  media: z.enum(["snapshot", "clip"]),
  /** Object name in the media bucket, when stored. */
  object: z.string().max(128).optional(),
  bytes: z.number().int().nonnegative().optional(),
  /** Clip: covered time, ms. */
  durationMs: z.number().int().nonnegative().optional(),
  /** Capture wall-clock of the snapshot frame or the clip's first frame, ms since epoch. */
  at: epochMs,
  /** Why the media is missing. */
  error: z.string().max(200).optional(),
});
export type MediaEvent = z.infer<typeof MediaEvent>;

/**
 * An event deleted by a user (web): its media are gone and readers drop it. Durable,
 * `events.deleted`; the stream's own copies of the event are deleted as well.
 */
export const EventDeleted = z.strictObject({
  id: eventId,
  kind: z.literal("deleted"),
  device: deviceId,
  /** The presence event (its `started` id) that was deleted. */
  eventId,
  at: epochMs,
  /** Who deleted it (a web user name). */
  by: z.string().max(64),
});
export type EventDeleted = z.infer<typeof EventDeleted>;

/**
 * The camera's picture stopped and what became of it. Durable, `events.camera`:
 * - `restarted`: the watchdog restarted a stalled, frozen or crashed capture and the picture is back;
 * - `lost`: the source gives no picture (unplugged, file gone, stream down); the camera keeps retrying;
 * - `back`: the picture is back after `lost`.
 * Readers that only know alerts skip this kind.
 */
export const CameraStatusEvent = z.strictObject({
  id: eventId,
  kind: z.literal("camera"),
  device: deviceId,
  state: z.enum(["restarted", "lost", "back"]),
  /** Why the picture stopped, for an operator: "no frame for 3 s", "the source file … is missing". */
  reason: z.string().max(200),
  at: epochMs,
  /** `restarted` and `back`: how long there was no picture, ms. */
  downMs: z.number().int().nonnegative().optional(),
});
export type CameraStatusEvent = z.infer<typeof CameraStatusEvent>;

/**
 * What the hub's failure detector (the `fleet` service) concluded about a device from its
 * heartbeats. Durable, `events.device`, in the hub's events stream:
 * - `offline`: no service of the device heard for the detector's limit (`reason` says how long);
 * - `online`: heard again after `offline` (or heard for the first time: `previous` is `new`);
 * - `degraded`: alive, but its camera (or another service) is not well (`reason` says what);
 *   `online` follows when it is well again.
 * Two detectors (hub replicas) reach the same conclusion with the same message id, so the
 * stream keeps one.
 */
export const DeviceStatusEvent = z.strictObject({
  id: eventId,
  kind: z.literal("device"),
  device: deviceId,
  state: z.enum(["online", "degraded", "offline"]),
  previous: z.enum(["new", "online", "degraded", "offline"]),
  /** For a person: "no heartbeat for 8 s", "the camera's newest frame is 12 s old". */
  reason: z.string().max(300),
  /** When the detector concluded it, ms since epoch (hub clock). */
  at: epochMs,
  /** The `at` of the device's newest heartbeat (device clock); absent when none was heard since the hub started. */
  lastHeartbeatAt: epochMs.optional(),
  /** `online` after `offline`: how long the device was offline, ms. */
  downMs: z.number().int().nonnegative().optional(),
});
export type DeviceStatusEvent = z.infer<typeof DeviceStatusEvent>;

/**
 * Arming as stored in the settings bucket (`devices.<d>.arming`): the words `armed` or
 * `disarmed`, or this JSON. `scheduled` arms during the weekly windows, in the device's
 * time zone; a window whose `to` is before its `from` runs past midnight.
 */
const hhmm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, "must be HH:MM");
export const ArmingWindow = z.strictObject({
  /** 0 = Sunday … 6 = Saturday: the days the window starts on. */
  days: z.array(z.number().int().min(0).max(6)).min(1).max(7),
  from: hhmm,
  to: hhmm,
});
export type ArmingWindow = z.infer<typeof ArmingWindow>;
export const ArmingSetting = z.union([
  z.strictObject({ mode: z.enum(["armed", "disarmed"]) }),
  z.strictObject({ mode: z.literal("scheduled"), schedule: z.array(ArmingWindow).min(1).max(32) }),
]);
export type ArmingSetting = z.infer<typeof ArmingSetting>;

/** Reads the stored arming value: the plain words or the JSON form. Throws on anything else. */
export function parseArming(raw: string): ArmingSetting {
  const text = raw.trim();
  if (text === "armed" || text === "disarmed") return { mode: text };
  return ArmingSetting.parse(JSON.parse(text));
}

/** What raises an alarm; `auto` is pir+motion while the camera reports motion, pir alone when it does not. */
export const PresenceMode = z.enum(["auto", "pir", "motion", "pir+motion", "pir|motion"]);
export type PresenceMode = z.infer<typeof PresenceMode>;

/** Detection settings (settings bucket, `devices.<d>.detection`; changed live). Unset: PICKET_PRESENCE_MODE. */
export const DetectionSettings = z.strictObject({ mode: PresenceMode });
export type DetectionSettings = z.infer<typeof DetectionSettings>;

/** A quality profile's limits (one ffmpeg encodes them all; the first is the camera's own picture). */
export const PRESET_LIMITS = { width: [160, 3840], height: [120, 2160], bitrateKbps: [100, 20_000], fps: [1, 60], count: 4 } as const;
const profileName = z
  .string()
  .regex(/^[a-z0-9_-]{1,32}$/, "must be 1–32 of a–z 0–9 _ -")
  .refine((n) => n !== "auto", "auto is what a viewer asks for to let Picket choose; name the preset otherwise");
const evenInt = (what: string, [min, max]: readonly [number, number]) =>
  z.number().int().min(min, `${what} must be ${min}–${max}`).max(max, `${what} must be ${min}–${max}`).refine((v) => v % 2 === 0, `${what} must be even (H.264 halves it for colour)`);

/** One named quality preset: a profile the camera encodes, `picket.<d>.video.<name>`. */
export const QualityPreset = z.strictObject({
  name: profileName,
  width: evenInt("width", PRESET_LIMITS.width),
  height: evenInt("height", PRESET_LIMITS.height),
  bitrateKbps: z.number().int().min(PRESET_LIMITS.bitrateKbps[0]).max(PRESET_LIMITS.bitrateKbps[1]),
  fps: z.number().int().min(PRESET_LIMITS.fps[0]).max(PRESET_LIMITS.fps[1]),
});
export type QualityPreset = z.infer<typeof QualityPreset>;

/**
 * A camera's quality presets (settings bucket, `devices.<d>.presets`; changed live: the camera
 * restarts its encoder, viewers reconnect). Best first: the first is the camera's own picture
 * (clips, stills, motion), and `auto` steps down the list. `phone` and `desktop` name the
 * preset `auto` starts a viewer on, by its user agent. Unset: PICKET_CAMERA_PROFILES.
 */
export const QualityPresets = z
  .strictObject({
    presets: z.array(QualityPreset).min(1).max(PRESET_LIMITS.count),
    phone: profileName,
    desktop: profileName,
  })
  .superRefine((v, ctx) => {
    const names = v.presets.map((p) => p.name);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: "custom", path: ["presets"], message: "preset names must differ" });
    for (const key of ["phone", "desktop"] as const) {
      if (!names.includes(v[key])) ctx.addIssue({ code: "custom", path: [key], message: `${key} must name one of the presets (${names.join(", ")})` });
    }
  });
export type QualityPresets = z.infer<typeof QualityPresets>;

/**
 * The household's notification preferences (settings bucket, `notifications`; the bot applies
 * them live). `quietHours`: alerts in that daily window (device time zone; `to` before `from`
 * runs past midnight) arrive without sound.
 */
export const NotificationSettings = z.strictObject({
  /** Send the event's clip after the photo. */
  clip: z.boolean().default(true),
  /** Every alert arrives without sound. */
  silent: z.boolean().default(false),
  quietHours: z.strictObject({ from: hhmm, to: hhmm }).nullable().default(null),
});
export type NotificationSettings = z.infer<typeof NotificationSettings>;

/** Alerts snoozed until `until` (ms since epoch); detection and events go on. */
export const Snooze = z.strictObject({ until: epochMs, by: z.string().max(64).optional() });
export type Snooze = z.infer<typeof Snooze>;

/** The settings each device keeps for itself (`devices.<d>.<name>` in its settings bucket). */
export const DEVICE_SETTING_NAMES = ["arming", "motion", "snooze", "detection", "presets"] as const;
export type DeviceSettingName = (typeof DEVICE_SETTING_NAMES)[number];

/** Reads a stored value of device setting `name` (the text in the bucket); throws when it is not one. */
export function parseDeviceSetting(name: DeviceSettingName, raw: string): unknown {
  if (name === "arming") return parseArming(raw);
  const value: unknown = JSON.parse(raw);
  if (name === "motion") return MotionSettings.parse(value);
  if (name === "snooze") return Snooze.parse(value);
  if (name === "detection") return DetectionSettings.parse(value);
  return QualityPresets.parse(value);
}

/**
 * Request (`picket.<d>.settings.write`) from a hub, which cannot write a device's settings
 * bucket itself (it is in the device's JetStream domain): store `value` (the text the bucket
 * keeps, checked by the setting's contract) for setting `setting` of the device, or delete it
 * (`null`). `by` says who, for the device's log.
 */
export const SettingWrite = z.strictObject({
  setting: z.enum(DEVICE_SETTING_NAMES),
  value: z.string().max(256 * 1024).nullable(),
  by: z.string().max(64).optional(),
});
export type SettingWrite = z.infer<typeof SettingWrite>;
/** The device's answer: stored, or why not. */
export const SettingWriteReply = z.union([z.strictObject({ ok: z.literal(true) }), z.strictObject({ ok: z.literal(false), error: z.string().max(500) })]);
export type SettingWriteReply = z.infer<typeof SettingWriteReply>;

/** Camera on demand: a user of the camera holds it for `ms`, renewing before that ends. */
export const CameraDemand = z.strictObject({
  /** Who holds the camera, e.g. `stream`, `pir`. One lease per holder. */
  holder: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/),
  /** 0 releases the lease. */
  ms: z.number().int().min(0).max(600_000),
});
export type CameraDemand = z.infer<typeof CameraDemand>;

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
  /** The still of this moment (ms since epoch; an event's trigger) from the last seconds' stills, instead of the newest. */
  at: epochMs.optional(),
});
export type SnapshotRequest = z.infer<typeof SnapshotRequest>;

/** The longest clip one may ask for, seconds. */
export const MAX_CLIP_REQUEST_S = 60;

/**
 * Ask the camera for a clip of the last `seconds` (`camera.clip`, request/reply). The payload
 * is JSON; `{}` asks for the default 10 s.
 */
export const ClipRequest = z.strictObject({
  seconds: z
    .number()
    .int("must be a whole number of seconds")
    .min(1, `must be 1 to ${MAX_CLIP_REQUEST_S} seconds`)
    .max(MAX_CLIP_REQUEST_S, `must be 1 to ${MAX_CLIP_REQUEST_S} seconds`)
    .default(10),
  /** Who asked (a Telegram user, …), for the camera's log. */
  requestedBy: z.string().max(64).optional(),
});
export type ClipRequest = z.infer<typeof ClipRequest>;

/**
 * The camera's answer to a ClipRequest, once the clip is stored (or why there is none: a bad
 * request, too many at once, or the camera gave no video).
 */
export const ClipReply = z.union([
  z.strictObject({
    ok: z.literal(true),
    /** Object name in the media bucket (`mediaNames.requestedClip`). */
    object: z.string().max(128),
    bytes: z.number().int().nonnegative(),
    /** Covered time, ms: the asked seconds, or less when the camera stopped or was stopped during the recording. */
    durationMs: z.number().int().nonnegative(),
    /** Capture wall-clock of the clip's first frame, ms since epoch. */
    at: epochMs,
  }),
  z.strictObject({ ok: z.literal(false), error: z.string() }),
]);
export type ClipReply = z.infer<typeof ClipReply>;

/** Every few seconds from every service, with the figures an operator wants. */
export const Heartbeat = z.strictObject({
  device: deviceId,
  service: z.enum(SERVICE_NAMES),
  version: z.string().max(32),
  at: epochMs,
  uptimeS: z.number().nonnegative(),
  rssBytes: z.number().int().nonnegative(),
  cpuPct: z.number().nonnegative(),
  /** Service-specific figures: camera fps, bitrate, viewers, … */
  vitals: z.record(z.string().max(48), z.number()),
});
export type Heartbeat = z.infer<typeof Heartbeat>;
