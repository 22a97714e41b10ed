// The web service's HTTP answers, as types only: the server builds them, the page reads them
// (services/web/client imports these as types, so nothing here reaches the browser bundle).
import type { ArmingSetting, DetectionSettings, MotionSettings, QualityPresets, Snooze, Trigger } from "./payloads.js";
import type { ServiceName } from "./subjects.js";

export type Role = "admin" | "viewer";
export interface WebUser {
  name: string;
  role: Role;
}

/** `GET /api/session` and the login's answer. */
export interface WebSession {
  user: WebUser;
  csrf: string;
  /** The admin password comes from PICKET_ADMIN_PASSWORD (so the page cannot change it). */
  passwordFromEnv?: boolean;
}

export type DeviceState = "online" | "degraded" | "offline";

/** One service's latest heartbeat, as the web UI shows it. */
export interface ServiceView {
  /** Time since its heartbeat arrived, ms. */
  ageMs: number;
  uptimeS: number;
  cpuPct: number;
  rssBytes: number;
  vitals: Record<string, number>;
}

/** The camera's figures from its latest heartbeat (the main picture's). */
export interface CameraFigures {
  fps: number;
  kbps: number;
  /** Age of its newest frame when it sent the heartbeat, ms; null when it has none (never captured, or off on demand). */
  frameAgeMs: number | null;
}

/** A device as its heartbeats describe it. */
export interface DeviceView {
  id: string;
  /**
   * `offline`: no service heard within the limit. `degraded`: alive, but its camera is not
   * heard from, silent, or reports no fresh frames while capturing, or another service it ran
   * went silent. `online`: all well.
   */
  state: DeviceState;
  /** What is wrong, for a person (null when online). */
  problem: string | null;
  lastSeenAgoMs: number | null;
  /** How long Picket has run there: its longest-running live service, s (null when offline). */
  uptimeS: number | null;
  /** From a live service's `temperatureC` (or `socTempC`, `cpuTempC`) vital; null when none reports one. */
  temperatureC: number | null;
  /** Null when the camera's heartbeat is missing or stale. */
  camera: CameraFigures | null;
  /** Each service ever heard: its version. */
  versions: Partial<Record<ServiceName, string>>;
  services: Partial<Record<ServiceName, ServiceView>>;
}

/** A device in `GET /api/devices`: its heartbeats' view plus its arming. */
export interface DeviceEntry extends DeviceView {
  armed: { mode: ArmingSetting["mode"]; armedNow: boolean };
  snoozedUntil: number | null;
}

/** `GET /api/devices`. */
export interface DeviceList {
  /** The device this web service runs on. */
  self: string;
  devices: DeviceEntry[];
}

/** `GET /api/devices/:id/settings`. */
export interface DeviceSettings {
  arming: ArmingSetting;
  snooze: Snooze | null;
  motion: MotionSettings;
  detection: DetectionSettings;
  presets: QualityPresets | null;
  presetsSource?: "settings" | "camera";
  /** Why the presets in force are unknown (no stored ones, and the camera did not answer). */
  presetsError?: string;
}

/** One presence event on the timeline. `id` is the `started` event's id. */
export interface EventEntry {
  id: string;
  device: string;
  at: number;
  endedAt: number | null;
  triggers: Trigger[];
  test: boolean;
  snapshot: { bytes: number } | null;
  clip: { bytes: number; durationMs: number } | null;
  /** The camera is expected to store a clip and has not said yet that it did (or could not). */
  clipPending: boolean;
  /** Why a snapshot or clip is missing, e.g. `clip: not stored: camera gave no video`. */
  mediaError: string | null;
}

/** `GET /api/events`, newest first. */
export interface EventPage {
  events: EventEntry[];
  more: boolean;
}
