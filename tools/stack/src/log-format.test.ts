import { describe, expect, it } from "vitest";
import { formatLogLine, natsLine } from "./log-format.js";

const line = (o: Record<string, unknown>) => JSON.stringify(o);
const ESC = "\x1b";

describe("formatLogLine", () => {
  it("formats a pino line as time, service, level, module, message and fields", () => {
    const out = formatLogLine(
      "camera",
      line({ level: "info", time: "2025-01-02T14:02:11.123Z", service: "camera", device: "pi", module: "capture", msg: "stream parameters", codec: "avc1.42c01f", width: 1280 }),
      false,
    );
    expect(out).toBe("14:02:11 camera INFO  [capture] stream parameters codec=avc1.42c01f width=1280");
  });

  it("leaves out the base fields every line has", () => {
    const out = formatLogLine("pir", line({ level: "warn", time: "2025-01-02T00:00:00.000Z", service: "pir", device: "pi", pid: 1, hostname: "h", msg: "x" }), false);
    expect(out).toBe("00:00:00 pir    WARN  x");
  });

  it("quotes strings with spaces, quotes or =, and shows an error by its message", () => {
    const out = formatLogLine(
      "bot",
      line({ level: "error", time: "2025-01-02T00:00:00.000Z", msg: "send failed", chat: "a b", q: 'x"y', eq: "a=b", plain: "ok", err: { type: "Error", message: "boom", stack: "…" }, obj: { a: 1 } }),
      false,
    );
    expect(out).toBe('00:00:00 bot    ERROR send failed chat="a b" q="x\\"y" eq="a=b" plain=ok err="boom" obj={"a":1}');
  });

  it("fills in a missing time and level", () => {
    expect(formatLogLine("web", line({ msg: "hello" }), false)).toBe("         web    INFO  hello");
  });

  it("passes lines that are not a JSON object through under the service's name", () => {
    for (const raw of ["[1234] nats-server ready", "", "42", "[1,2]", "null", "{broken"]) {
      expect(formatLogLine("nats", raw, false)).toBe(`         nats   ${raw}`);
    }
  });

  it("writes no escape codes without color", () => {
    const out = formatLogLine("camera", line({ level: "error", time: "2025-01-02T00:00:00.000Z", module: "m", msg: "x", a: 1 }), false);
    expect(out).not.toContain(ESC);
    expect(formatLogLine("camera", "plain", false)).not.toContain(ESC);
  });

  it("colors service, level and fields with color, leaving the message plain", () => {
    const out = formatLogLine("camera", line({ level: "error", time: "2025-01-02T00:00:00.000Z", msg: "x", a: 1 }), true);
    expect(out).toContain(`${ESC}[36mcamera${ESC}[0m`);
    expect(out).toContain(`${ESC}[31mERROR${ESC}[0m`);
    expect(out).toContain(`${ESC}[90ma=1${ESC}[0m`);
    expect(out.replace(/\x1b\[\d+m/g, "")).toBe("00:00:00 camera ERROR x a=1");
  });

  it("does not color an unknown service or level", () => {
    const out = formatLogLine("other", line({ level: "notice", msg: "x" }), true);
    expect(out).toBe("         other  NOTICE x");
  });
});

describe("natsLine", () => {
  it("turns a nats-server line into a pino-style line with level and time", () => {
    const json = natsLine("[22377] 2026/11/24 15:00:37.443493 [INF] Listening for client connections on 0.0.0.0:14999");
    expect(JSON.parse(json!)).toEqual({ level: "info", time: "2026-11-24T15:00:37Z", msg: "Listening for client connections on 0.0.0.0:14999" });
    expect(formatLogLine("nats", json!, false)).toBe("15:00:37 nats   INFO  Listening for client connections on 0.0.0.0:14999");
  });

  it("maps nats levels and defaults unknown ones to info", () => {
    const level = (tag: string) => (JSON.parse(natsLine(`[1] 2026/11/24 15:00:37.1 [${tag}] text`)!) as { level: string }).level;
    expect(["INF", "WRN", "ERR", "FTL", "DBG", "TRC", "XYZ"].map(level)).toEqual(["info", "warn", "error", "fatal", "debug", "trace", "info"]);
  });

  it("drops the start-up banner's art, rulers and docs link", () => {
    for (const text of ["", "   ", "         _ ___ _____ ___ _____ ___ ___   _   __  __", "  | | __| |_   _/ __|_   _| _ \\ __| /_\\ |  \\/  |", "---------------- JETSTREAM ----------------", "  https://docs.nats.io/jetstream"]) {
      expect(natsLine(`[1] 2026/11/24 15:00:37.442467 [INF] ${text}`)).toBeUndefined();
    }
  });

  it("passes other lines on as info messages", () => {
    expect(JSON.parse(natsLine("panic: something odd")!)).toEqual({ level: "info", msg: "panic: something odd" });
  });
});
