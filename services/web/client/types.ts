// The HTTP API's answers as the page uses them (notes: the issue 6 spec). Settings types come
// from the contracts as types only, so zod never reaches the browser bundle.
import type { ArmingSetting, DetectionSettings, MotionSettings, NotificationSettings, QualityPresets, Snooze, Trigger } from "@picket/contracts";

export type { ArmingSetting, ArmingWindow, DetectionSettings, MotionSettings, NotificationSettings, PresenceMode, QualityPreset, QualityPresets, Trigger } from "@picket/contracts";

export type Role = "admin" | "viewer";
export interface User {
  name: string;
  role: Role;
}

export interface Session {
  user: User;
  csrf: string;
  passwordFromEnv?: boolean;
}

export type DeviceState = "online" | "degraded" | "offline";

export interface ServiceView {
  ageMs: number;
  uptimeS: number;
  cpuPct: number;
  rssBytes: number;
  vitals: Record<string, number>;
  version?: string;
}

export interface Device {
  id: string;
  state: DeviceState;
  problem: string | null;
  lastSeenAgoMs: number | null;
  uptimeS: number | null;
  temperatureC: number | null;
  camera: { fps: number; kbps: number; frameAgeMs: number } | null;
  versions: Record<string, string>;
  services: Record<string, ServiceView>;
  armed: { mode: "armed" | "disarmed" | "scheduled"; armedNow: boolean } | null;
  snoozedUntil: number | null;
}

export interface DeviceList {
  self: string;
  devices: Device[];
}

export interface DeviceSettings {
  arming: ArmingSetting;
  snooze: Snooze | null;
  motion: MotionSettings;
  detection: DetectionSettings;
  presets: QualityPresets | null;
  presetsSource?: "settings" | "camera";
  presetsError?: string;
}

export interface EventEntry {
  id: string;
  device: string;
  at: number;
  endedAt: number | null;
  triggers: Trigger[];
  test: boolean;
  snapshot: { bytes: number } | null;
  clip: { bytes: number; durationMs: number } | null;
  clipPending: boolean;
  mediaError: string | null;
}

export interface EventPage {
  events: EventEntry[];
  more: boolean;
}

export interface TelegramChat {
  id: number | string;
  type: string;
  title: string;
  pairedAt: number;
  pairedBy: string;
}

export type Notifications = NotificationSettings;
