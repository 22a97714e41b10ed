/** "4 s", "12 min", "3 h", "2 d": how long ago or how long, rounded down to its largest unit. */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

export const ago = (ms: number | null): string => (ms === null ? "never" : `${span(ms)} ago`);

const dateTime = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" });
const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayTime = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" });

export const when = (at: number): string => dateTime.format(at);

/** A moment within the next days: "14:05" today, else "Tue 14:05". */
export function soon(at: number): string {
  return new Date(at).toDateString() === new Date().toDateString() ? time.format(at) : dayTime.format(at);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 ** 2).toFixed(1)} MB`;
}

/** A date input's value (YYYY-MM-DD) as the first and last millisecond of that day here. */
export function localDay(value: string): { from: number; to: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m === null) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  return { from: new Date(y, mo, d).getTime(), to: new Date(y, mo, d + 1).getTime() - 1 };
}
