// The HTTP API's answers as the page uses them. The answer and settings types come from the
// contracts (libs/contracts/src/web-api.ts, the single source the server builds them from), as
// types only, so zod never reaches the browser bundle. Only what the contracts lack is declared here.
import type { NotificationSettings } from "@picket/contracts";

export type { ArmingSetting, ArmingWindow, DetectionSettings, MotionSettings, NotificationSettings, PresenceMode, QualityPreset, QualityPresets, Trigger } from "@picket/contracts";
export type {
  CameraFigures,
  DeviceEntry as Device,
  DeviceList,
  DeviceSettings,
  DeviceState,
  EventEntry,
  EventPage,
  Role,
  ServiceView,
  WebSession as Session,
  WebUser as User,
} from "@picket/contracts";

/** A chat in `GET /api/telegram/chats`. */
export interface TelegramChat {
  id: number | string;
  type: string;
  title: string;
  pairedAt: number;
  pairedBy: string;
  /** `config`: listed in PICKET_TELEGRAM_CHATS; `code`: paired with a code. */
  source: "config" | "code";
}

export type Notifications = NotificationSettings;
