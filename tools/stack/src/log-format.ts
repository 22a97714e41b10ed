const LEVEL_COLOR: Record<string, string> = { trace: "90", debug: "90", info: "32", warn: "33", error: "31", fatal: "35" };
const SERVICE_COLOR: Record<string, string> = { nats: "90", camera: "36", pir: "35", bot: "34", stream: "33", web: "32", stack: "37" };
const SKIP = new Set(["level", "time", "msg", "service", "device", "pid", "hostname", "module"]);

function show(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (value !== null && typeof value === "object" && "message" in value && typeof (value as { message: unknown }).message === "string") {
    return JSON.stringify((value as { message: string }).message);
  }
  return JSON.stringify(value);
}

/**
 * One pino JSON line as an operator reads it: `14:02:11 camera  INFO  stream parameters
 * codec=avc1.42c01f`. Lines that are not JSON pass through under the service's name.
 */
export function formatLogLine(service: string, line: string, color: boolean): string {
  const paint = (code: string | undefined, text: string) => (color && code !== undefined ? `\x1b[${code}m${text}\x1b[0m` : text);
  const name = paint(SERVICE_COLOR[service], service.padEnd(6));
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a log object");
    entry = parsed as Record<string, unknown>;
  } catch {
    return `${" ".repeat(8)} ${name} ${line}`;
  }
  const time = typeof entry.time === "string" ? entry.time.slice(11, 19) : "        ";
  const level = typeof entry.level === "string" ? entry.level : "info";
  const module = typeof entry.module === "string" ? paint("90", `[${entry.module}] `) : "";
  const fields = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(" ");
  return `${time} ${name} ${paint(LEVEL_COLOR[level], level.toUpperCase().padEnd(5))} ${module}${String(entry.msg ?? "")}${fields === "" ? "" : ` ${paint("90", fields)}`}`;
}

const NATS_LEVEL: Record<string, string> = { INF: "info", WRN: "warn", ERR: "error", FTL: "fatal", DBG: "debug", TRC: "trace" };

/**
 * A nats-server log line (`[pid] 2026/11/24 14:41:16.367996 [INF] text`) as a pino-style JSON
 * line, or undefined for the start-up banner's ASCII art and blank lines.
 */
export function natsLine(line: string): string | undefined {
  const m = /^\[\d+\] (\d{4})\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d)\.\d+ \[(\w{3})\] (.*)$/.exec(line);
  if (m === null) return JSON.stringify({ level: "info", msg: line });
  const text = (m[6] as string).trim();
  if (text === "" || /^[\s_|\\/()'`.-]+$/.test(text) || /^-{5,}|https:\/\/docs\.nats\.io/.test(text)) return undefined;
  return JSON.stringify({ level: NATS_LEVEL[m[5] as string] ?? "info", time: `${m[1]}-${m[2]}-${m[3]}T${m[4]}Z`, msg: text });
}
