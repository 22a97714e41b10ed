/** A sortable event id: `ev-`, the wall-clock time in base 36, then 8 random base-36 characters. */
export function newEventId(at: number, random: () => number = Math.random): string {
  const rand = Array.from({ length: 8 }, () => Math.floor(random() * 36).toString(36)).join("");
  return `ev-${Math.max(0, Math.round(at)).toString(36)}-${rand}`;
}
