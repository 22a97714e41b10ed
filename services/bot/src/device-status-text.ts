import type { DeviceStatusEvent } from "@picket/contracts";
import { describeAge } from "@picket/runtime";
import { formatLocalTime } from "./caption.js";

/**
 * The household's message about a device the hub's failure detector judged (plain text),
 * and whether it goes without sound: news of a new or recovered device is quiet, a device
 * gone silent or unwell rings.
 */
export function deviceStatusMessage(e: DeviceStatusEvent, timeZone?: string): { text: string; quiet: boolean } {
  const since = e.lastHeartbeatAt === undefined ? "" : ` Last heard ${formatLocalTime(e.lastHeartbeatAt, timeZone)}.`;
  switch (e.state) {
    case "offline":
      return { text: `📴 ${e.device} is offline: ${e.reason}.${since}`, quiet: false };
    case "degraded":
      return { text: `⚠️ ${e.device} ${e.previous === "offline" ? "is back but" : "is"} not well: ${e.reason}.`, quiet: false };
    case "online":
      if (e.previous === "new") return { text: `🆕 ${e.device} joined: the hub now watches it.`, quiet: true };
      if (e.previous === "offline") return { text: `✅ ${e.device} is back online${e.downMs === undefined ? "" : ` after ${describeAge(e.downMs)} offline`}.`, quiet: true };
      return { text: `✅ ${e.device} is well again.`, quiet: true };
  }
}
