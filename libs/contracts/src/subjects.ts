/**
 * NATS subject names. Every subject starts `picket.<device>.` so that NATS permissions can
 * scope a device to its own prefix; the rest names the intent.
 */

/** A device id is one NATS subject token: letters, digits, `-` and `_`. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A quality profile name (`high`, `low`, …) is one subject token too. */
export const PROFILE_PATTERN = /^[a-z0-9_-]{1,32}$/;

export function isDeviceId(value: string): boolean {
  return DEVICE_ID_PATTERN.test(value);
}

export function isProfileName(value: string): boolean {
  return PROFILE_PATTERN.test(value);
}

/**
 * A camera named in a URL path: the %-encoded device and profile segments, decoded and
 * checked; undefined when either is malformed or not a valid name.
 */
export function decodeCameraNames(rawDevice: string, rawProfile: string): { device: string; profile: string } | undefined {
  try {
    const device = decodeURIComponent(rawDevice);
    const profile = decodeURIComponent(rawProfile);
    return isDeviceId(device) && isProfileName(profile) ? { device, profile } : undefined;
  } catch {
    return undefined; // malformed %-encoding (a URIError must not escape a server's listener)
  }
}

/** Turns an arbitrary host name into a valid device id (`pi.local` → `pi-local`). */
export function toDeviceId(hostname: string): string {
  const cleaned = hostname.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64);
  return cleaned === "" ? "picket" : cleaned;
}

/** Every service that sends heartbeats: the device's five, the hub's failure detector (`fleet`) and the Home Assistant bridge (`ha`). */
export const SERVICE_NAMES = ["camera", "pir", "bot", "stream", "web", "fleet", "ha"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const subjects = {
  /** One H.264 access unit (Annex-B) per message; metadata in headers (see video.ts). */
  video: (device: string, profile: string) => `picket.${device}.video.${profile}`,
  /** Every profile of every device, for subscribers that watch everything. */
  videoAll: (device = "*") => `picket.${device}.video.*`,
  /** Request/reply: a JPEG of the newest frame. */
  snapshot: (device: string) => `picket.${device}.camera.snapshot`,
  /**
   * Request/reply: a clip of the last seconds, stored in the media bucket (ClipRequest,
   * ClipReply). The reply comes when the clip is stored: ask with a timeout of at least
   * `seconds` + 15 s.
   */
  clipRequest: (device: string) => `picket.${device}.camera.clip`,
  /**
   * Request: the camera's current group of pictures of a profile, so a new watcher starts at
   * once instead of at the next keyframe. The camera answers by publishing each access unit
   * from the newest keyframe to the reply subject, as on the video subject (parts and all),
   * then an empty message with the `Picket-Gop-End` header (the number of units sent).
   */
  cameraGop: (device: string, profile: string) => `picket.${device}.camera.gop.${profile}`,
  /** Request/reply: the camera's quality presets in force (QualityPresets), set or from its config. */
  cameraPresets: (device: string) => `picket.${device}.camera.presets`,
  /** Camera on demand: hold (or release) the camera; see CameraDemand. */
  cameraDemand: (device: string) => `picket.${device}.camera.demand`,
  /** The camera's motion reports (MotionReport). */
  motion: (device: string) => `picket.${device}.motion`,
  /** Raw PIR edges as the driver saw them (after debounce). */
  pirEdge: (device: string) => `picket.${device}.pir.edge`,
  /** Command to the `sim` PIR driver: inject an edge or a pulse. */
  pirInject: (device: string) => `picket.${device}.pir.inject`,
  /** Request/reply to the presence service: raise a test alarm through the whole path. */
  testAlarm: (device: string) => `picket.${device}.presence.test`,
  /** Request/reply: a hub writes one of the device's own settings (SettingWrite → SettingWriteReply). */
  settingsWrite: (device: string) => `picket.${device}.settings.write`,
  /** Durable events (JetStream). `kind` is `presence`, … */
  event: (device: string, kind: string) => `picket.${device}.events.${kind}`,
  eventsAll: (device = "*") => `picket.${device}.events.>`,
  /**
   * Where a device's events stream delivers to the hub's, which sources it (the deliver prefix
   * of that source): in the device's own name, so its hub credentials allow it, and outside
   * `events.>`, so the device's own stream does not store its deliveries.
   */
  hubFeed: (device: string) => `picket.${device}.hub-feed`,
  heartbeat: (device: string, service: ServiceName) => `picket.${device}.heartbeat.${service}`,
  heartbeatsAll: (device = "*") => `picket.${device}.heartbeat.*`,
} as const;

/** A hub's KV bucket with the fleet detector's conclusion about each device it has known (key: the device id). */
export const FLEET_BUCKET = "picket-fleet";

/** The JetStream stream that holds every device's events. */
export const EVENTS_STREAM = "PICKET_EVENTS";
/** The object store bucket with events' snapshots and clips. */
export const MEDIA_BUCKET = "picket-media";
/** The KV bucket with live settings (arming, …). */
export const SETTINGS_BUCKET = "picket-settings";

export const settingsKeys = {
  /** Value: `armed`, `disarmed`, or an ArmingSetting as JSON. */
  arming: (device: string) => `devices.${device}.arming`,
  /** Value: MotionSettings as JSON. */
  motion: (device: string) => `devices.${device}.motion`,
  /** Value: Snooze as JSON: alerts are not sent until then (events are still recorded). */
  snooze: (device: string) => `devices.${device}.snooze`,
  /** Value: DetectionSettings as JSON (the pir service's presence mode). */
  detection: (device: string) => `devices.${device}.detection`,
  /** Value: QualityPresets as JSON (the camera's profiles; the stream's auto ladder). */
  presets: (device: string) => `devices.${device}.presets`,
  /** Value: NotificationSettings as JSON, for the whole household (the bot). */
  notifications: () => "notifications",
} as const;

/** Splits `picket.<device>.<rest…>` into its parts, or returns undefined. */
export function parseSubject(subject: string): { device: string; rest: string[] } | undefined {
  const parts = subject.split(".");
  if (parts.length < 3 || parts[0] !== "picket") return undefined;
  const device = parts[1] as string;
  if (!isDeviceId(device)) return undefined;
  return { device, rest: parts.slice(2) };
}
