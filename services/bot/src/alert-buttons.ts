/** What a command or an alert's button asks for. */
export type AlertAction = { kind: "arm" } | { kind: "disarm" } | { kind: "snooze"; ms: number } | { kind: "unsnooze" };

/** The buttons under every alert photo: their label and the callback data Telegram returns. */
export const ALERT_ACTIONS: readonly { label: string; data: string }[] = [
  { label: "🔕 Snooze 1 h", data: "snooze:3600" },
  { label: "⏸ Disarm", data: "disarm" },
];

/**
 * Reads a button's callback data. Pure. Anything else (an old button, a forged payload) is
 * undefined: callback data comes from the client and is checked like any input.
 */
export function parseAction(data: string | undefined): AlertAction | undefined {
  if (data === "disarm") return { kind: "disarm" };
  if (data === "arm") return { kind: "arm" };
  const m = /^snooze:(\d{2,6})$/.exec(data ?? "");
  if (m === null) return undefined;
  const s = Number(m[1]);
  return s >= 60 && s <= 7 * 86_400 ? { kind: "snooze", ms: s * 1000 } : undefined;
}
