// A short run of the whole stack (camera, pir, bot with a token, stream, web): a login, a test
// alarm to Telegram, every GET of the API and a few changes. Then every service's whole log,
// every API answer (body and headers) and every message the bot sent Telegram are searched for
// secrets and credential patterns; any hit fails. Recorded for docs/RELIABILITY.md.
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { recordReliability } from "../support/reliability.js";
import { TEST_LIVE_SECRET } from "../support/services.js";
import { startStack, type ServiceName, type Stack } from "../support/stack.js";
import { startTelegramApi, updates, type TelegramApiDouble } from "../support/telegram-api.js";
import { TEST_ADMIN_PASSWORD, login, type WebSession } from "../support/web-session.js";

const TOKEN = "918273645:AAGs3cr3tT0kenF0rTheS3cretScanXyZ987";
const ALL: ServiceName[] = ["camera", "pir", "bot", "stream", "web"];
const USER_PASSWORD = "viewer-password-Zq81-long-enough";

/** Patterns no log line or answer may hold, whatever the value. */
const PATTERNS: [string, RegExp][] = [
  ["a bot token", /\d{6,}:[A-Za-z0-9_-]{30,}/],
  ["password=", /password=/i],
  ["a Bearer credential", /Bearer\s+[A-Za-z0-9._~+/-]+/],
  ["a password field with a value", /"password"\s*:\s*"(?!<redacted>)[^"]+"/i],
  ["a session cookie", /picket_session=[A-Za-z0-9._~%-]{16,}/],
];

interface Text {
  where: string;
  text: string;
}

let stack: Stack | undefined;
let api: TelegramApiDouble | undefined;
afterAll(async () => {
  await stack?.stop();
  await api?.close();
});

describe("secret scan", () => {
  it("finds no token, password, session, live secret or credential in any log line, API answer or Telegram message", async () => {
    api = await startTelegramApi(TOKEN);
    const [httpPort, streamPort] = [await freePort(), await freePort()];
    stack = await startStack({
      services: ALL,
      env: {
        PICKET_TELEGRAM_TOKEN: TOKEN,
        PICKET_TELEGRAM_API_ROOT: api.url,
        PICKET_TELEGRAM_CHATS: "4242",
        PICKET_HTTP_PORT: String(httpPort),
        PICKET_HTTP_HOST: "127.0.0.1",
        PICKET_STREAM_PORT: String(streamPort),
        PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}`,
        // Debug lines are where secrets slip out: scan those too.
        PICKET_LOG_LEVEL: "debug",
      },
    });
    const web = `http://127.0.0.1:${httpPort}`;
    const device = stack.device;
    const answers: Text[] = [];
    const keep = async (what: string, res: Response): Promise<Response> => {
      const headers = [...res.headers].filter(([k]) => k !== "set-cookie").map(([k, v]) => `${k}: ${v}`);
      answers.push({ where: `${what} → ${res.status}`, text: `${headers.join("\n")}\n\n${await res.clone().text()}` });
      return res;
    };
    const json = (body: unknown) => ({ headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

    // A failed login, then the real one (twice: two sessions), as a script would.
    await keep("POST /api/session (wrong password)", await fetch(`${web}/api/session`, { method: "POST", ...json({ username: "admin", password: `${TEST_ADMIN_PASSWORD}-wrong` }) }));
    const s: WebSession = await login(web);
    const second = await login(web);
    const cookies = [s.cookie, second.cookie].map((c) => c.slice(c.indexOf("=") + 1));
    const call = async (method: string, path: string, init: RequestInit = {}, session = s) => keep(`${method} ${path}`, await session.fetch(path, { ...init, method, redirect: "manual" }));

    // A test alarm through to Telegram, and the household asking the bot about it.
    const alarm = await call("POST", `/api/devices/${device}/test-alarm`);
    expect(alarm.status).toBe(202);
    await api.waitForCalls("sendPhoto", 1, 30_000);
    api.pushUpdate(updates.text(4242, "/status"));
    api.pushUpdate(updates.text(4242, "/events"));
    await api.waitForCalls("sendMessage", 2, 20_000, (c) => c.chatId === "4242");

    // Every GET the API documents, then a few changes: a user with a password, a pairing code, settings.
    const spec = (await (await call("GET", "/api/docs/json")).json()) as { paths: Record<string, Record<string, unknown>> };
    const fill: Record<string, string> = { id: device, name: "admin", chatId: "4242" };
    const gets = Object.entries(spec.paths)
      .filter(([, ops]) => "get" in ops)
      .map(([path]) => path.replace(/\{(\w+)\}/g, (_, k: string) => fill[k] ?? "x1234567"))
      .filter((p) => !/\/live|\/events\/live|\.mp4$/.test(p)); // streams that never end
    expect(gets.length).toBeGreaterThan(8);
    for (const path of gets) await call("GET", path);
    await call("POST", "/api/users", json({ name: "viewer1", password: USER_PASSWORD, role: "viewer" }));
    const viewer = await login(web, "viewer1", USER_PASSWORD);
    cookies.push(viewer.cookie.slice(viewer.cookie.indexOf("=") + 1));
    await call("GET", "/api/session", {}, viewer);
    await call("GET", `/api/devices/${device}/settings`, {}, viewer);
    const pairing = await call("POST", "/api/telegram/pairing-code");
    const pairingCode = /"code"\s*:\s*"([^"]+)"/.exec(await pairing.clone().text())?.[1];
    await call("PUT", "/api/notifications", json({ clip: false, silent: true, quietHours: null }));
    await call("PUT", `/api/devices/${device}/arming`, json({ mode: "armed" }));
    // Credentials sent where they do not belong are not echoed.
    await keep("GET /api/devices with a Bearer header", await fetch(`${web}/api/devices`, { headers: { authorization: `Bearer ${TOKEN}` } }));
    await keep("POST /api/session with a form", await fetch(`${web}/api/session`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `username=admin&password=${TEST_ADMIN_PASSWORD}` }));
    await call("DELETE", "/api/session", {}, second);

    await stack.stop();
    const logs: Text[] = ALL.flatMap((name) => {
      const raw = stack?.get(name).raw ?? "";
      return raw.split("\n").filter((l) => l.trim() !== "").map((text, i) => ({ where: `${name} log line ${i + 1}`, text }));
    });
    const telegram: Text[] = api.calls().map((c, i) => ({ where: `Telegram call ${i + 1} (${c.method})`, text: JSON.stringify(c.params) }));
    for (const name of ALL) expect(logs.filter((l) => l.where.startsWith(`${name} `)).length, name).toBeGreaterThan(5);
    expect(answers.length).toBeGreaterThan(15);

    const values: [string, string][] = [
      ["the bot token", TOKEN],
      ["the bot token's secret part", TOKEN.split(":")[1] as string],
      ["the admin password", TEST_ADMIN_PASSWORD],
      ["a user's password", USER_PASSWORD],
      ["PICKET_LIVE_SECRET", TEST_LIVE_SECRET],
      ...cookies.map((c, i): [string, string] => [`session cookie ${i + 1}`, c]),
      ["a CSRF token", s.csrf],
    ];
    const scan = (texts: Text[], extra: [string, string][] = []): string[] =>
      texts.flatMap(({ where, text }) => [
        ...[...values, ...extra].filter(([, value]) => text.includes(value)).map(([what]) => `${where}: ${what}`),
        ...PATTERNS.filter(([, re]) => re.test(text)).map(([what, re]) => `${where}: ${what} (${re.exec(text)?.[0].slice(0, 12)}…)`),
      ]);
    // The scan finds what it looks for (a positive control).
    expect(scan([{ where: "control", text: `GET /bot${TOKEN}/getMe {"password":"x"} Bearer abc` }])).toHaveLength(5);
    expect(pairingCode).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
    // The login's answer carries the CSRF token and the pairing answer its code, by design; logs carry neither.
    const isLogin = (a: Text) => /^(POST|GET) \/api\/session →/.test(a.where);
    const hits = [
      ...scan(logs, [["the pairing code", pairingCode as string]]),
      ...scan(answers.filter((a) => !isLogin(a))),
      ...scan(answers.filter(isLogin).map((a) => ({ ...a, text: a.text.replace(/"csrf"\s*:\s*"[^"]+"/, "") }))),
      ...scan(telegram),
    ];
    expect(hits).toEqual([]);

    const cases = logs.length + answers.length + telegram.length;
    recordReliability("bad-input-secret-scan", {
      kind: "bad-input",
      family: "secret scan of a full stack run (5 services at debug level: login, test alarm to Telegram, every API GET, user, pairing code, settings)",
      cases,
      outcome: `0 hits in ${logs.length} log lines, ${answers.length} API answers and ${telegram.length} Telegram calls for the bot token, admin and user passwords, session cookies, CSRF token, PICKET_LIVE_SECRET, pairing code, password= and Bearer credentials`,
    });
  });
});
