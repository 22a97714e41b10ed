import { describe, expect, it } from "vitest";
import { createLogger, scrubSecrets } from "./logger.js";

const token = "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-";

function capture(level = "info") {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const log = createLogger(
    { service: "bot", device: "pi", level },
    {
      write(s: string) {
        raw.push(s);
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  );
  return { log, lines, raw };
}

describe("scrubSecrets", () => {
  it("replaces a Telegram token on its own", () => {
    expect(scrubSecrets(`token is ${token}.`)).toBe("token is <redacted-token>.");
  });

  it("replaces a token inside a Bot API URL", () => {
    const scrubbed = scrubSecrets(`request to https://api.telegram.org/bot${token}/getUpdates failed`);
    expect(scrubbed).not.toContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");
    expect(scrubbed).not.toContain("1234567890");
    expect(scrubbed).toBe("request to https://api.telegram.org/bot<redacted-token>/getUpdates failed");
  });

  it("replaces every token in the text", () => {
    expect(scrubSecrets(`${token} and ${token}`)).toBe("<redacted-token> and <redacted-token>");
  });

  it("leaves ordinary text, times and short ids alone", () => {
    for (const text of ["at 12:30:45", "chat 123456:789", "listening on 127.0.0.1:8080", "seq=12345:abc"]) expect(scrubSecrets(text)).toBe(text);
  });
});

describe("createLogger", () => {
  it("writes JSON lines with service, device and level label", () => {
    const { log, lines } = capture();
    log.info({ n: 1 }, "hello");
    expect(lines).toEqual([expect.objectContaining({ service: "bot", device: "pi", level: "info", msg: "hello", n: 1 })]);
    expect(typeof lines[0]?.time).toBe("string");
  });

  it("drops lines below the level", () => {
    const { log, lines } = capture("warn");
    log.info("quiet");
    log.warn("loud");
    expect(lines.map((l) => l.msg)).toEqual(["loud"]);
  });

  it("redacts token and password fields, top level and nested", () => {
    const { log, raw, lines } = capture();
    log.info({ token, password: "hunter2", bot: { token }, user: { password: "hunter2" } }, "config");
    expect(raw.join("")).not.toContain("hunter2");
    expect(raw.join("")).not.toContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");
    expect(lines[0]).toMatchObject({ token: "<redacted>", password: "<redacted>", bot: { token: "<redacted>" }, user: { password: "<redacted>" } });
  });

  it("scrubs a token out of the message string", () => {
    const { log, raw } = capture();
    log.warn({ attempt: 2 }, `fetch https://api.telegram.org/bot${token}/sendPhoto failed`);
    log.info(`plain ${token}`);
    expect(raw.join("")).not.toContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");
  });

  it("scrubs a token out of an error's message and stack", () => {
    const { log, raw, lines } = capture();
    log.error({ err: new Error(`GET https://api.telegram.org/bot${token}/getMe: 401`) }, "request failed");
    expect(raw.join("")).not.toContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");
    expect((lines[0]?.err as { message: string }).message).toContain("<redacted-token>");
  });
});
