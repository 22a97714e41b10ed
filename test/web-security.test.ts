// The web service as a stranger, a hostile page and a careless script would meet it: every
// route and websocket without a session, cross-site requests, path traversal in every form,
// injection strings in every settings field, and no secret in any log or answer.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freePort } from "./support/ports.js";
import { startStack, type Stack } from "./support/stack.js";
import { recordReliability } from "./support/reliability.js";
import { TEST_LIVE_SECRET } from "./support/services.js";
import { TEST_ADMIN_PASSWORD, login, type WebSession } from "./support/web-session.js";

let stack: Stack;
let web: string;
let s: WebSession;
const answers: string[] = [];

beforeAll(async () => {
  const [httpPort, streamPort] = [await freePort(), await freePort()];
  stack = await startStack({
    services: ["camera", "stream", "web"],
    env: { PICKET_HTTP_PORT: String(httpPort), PICKET_HTTP_HOST: "127.0.0.1", PICKET_STREAM_PORT: String(streamPort), PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}` },
  });
  web = `http://127.0.0.1:${httpPort}`;
  s = await login(web);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** fetch that keeps every answer's body for the secret scan at the end. */
async function req(path: string, init: RequestInit = {}, session?: WebSession): Promise<{ status: number; body: string; headers: Headers }> {
  const res = session === undefined ? await fetch(`${web}${path}`, { ...init, redirect: "manual" }) : await session.fetch(path, { ...init, redirect: "manual" });
  const body = await res.text();
  answers.push(body);
  return { status: res.status, body, headers: res.headers };
}

/** The status a websocket upgrade gets, or 101 when it opens. */
function upgrade(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${web.replace("http", "ws")}${path}`, { headers });
    ws.on("unexpected-response", (_r, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => {
      resolve(101);
      ws.terminate();
    });
    ws.on("error", () => undefined);
  });
}

interface Operation {
  method: string;
  path: string;
}

/** Every operation the OpenAPI document lists, with its path parameters filled in. */
async function operations(): Promise<Operation[]> {
  const spec = JSON.parse((await req("/api/docs/json", {}, s)).body) as { paths: Record<string, Record<string, unknown>> };
  const fill: Record<string, string> = { id: stack.device, name: "someone", chatId: "4242" };
  return Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => ["get", "post", "put", "delete", "patch"].includes(m))
      .map((m) => ({ method: m.toUpperCase(), path: path.replace(/\{(\w+)\}/g, (_, k: string) => fill[k] ?? "x1234567") })),
  );
}

describe("the web service's defences", () => {
  it("answers 401 to every route, unknown URL and websocket without a session; only the login page, its assets and /healthz are public", async () => {
    const ops = await operations();
    // The API is all there: sessions, users, devices, settings, events, telegram, docs.
    for (const p of ["/api/session", "/api/users", "/api/devices", "/api/events", "/api/events/live", "/api/notifications", "/api/telegram/chats", "/api/telegram/pairing-code"]) {
      expect(ops.some((o) => o.path === p), p).toBe(true);
    }
    expect(ops.length).toBeGreaterThan(20);
    for (const op of ops) {
      if (op.path === "/api/session" || op.path === "/healthz") continue; // the public list (asserted below)
      const r = await req(op.path, { method: op.method, headers: { "content-type": "application/json" }, ...(op.method === "GET" || op.method === "DELETE" ? {} : { body: "{}" }) });
      expect(r.status, `${op.method} ${op.path}`).toBe(401);
    }
    for (const path of ["/nope", "/metrics", "/api/docs", "/api/docs/json", `/hls/${stack.device}/high/index.m3u8`, "/api/events/x1234567/clip.mp4", "/.env", "/package.json"]) {
      expect((await req(path)).status, path).toBe(401);
    }
    expect(await upgrade(`/api/live/${stack.device}/high`)).toBe(401);
    expect(await upgrade(`/api/live/${stack.device}/high`, { cookie: "picket_session=forged-forged-forged-forged-forged-forged" })).toBe(401);
    recordReliability("http-no-session", { kind: "bad-input", family: "HTTP without a session: every route of the OpenAPI document, unknown URLs, /metrics, /hls, docs, websockets", cases: ops.length + 10, outcome: "401 {\"error\":\"log in first\"}; only the login page, its assets and /healthz are public" });

    expect((await req("/")).status).toBe(200);
    expect((await req("/healthz")).status).toBe(200);
    const page = await req("/");
    const assets = [...page.body.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThan(0);
    for (const a of assets) expect((await req(a)).status, a).toBe(200);
  });

  it("refuses cross-site requests: a change without the CSRF token, from another Origin, or a form post; websockets from another site", async () => {
    const body = JSON.stringify({ mode: "disarmed" });
    const put = (headers: Record<string, string>) => req(`/api/devices/${stack.device}/arming`, { method: "PUT", headers: { cookie: s.cookie, "content-type": "application/json", ...headers }, body });
    expect((await put({})).status).toBe(403);
    expect((await put({ "x-csrf-token": "not-the-token" })).status).toBe(403);
    expect((await put({ "x-csrf-token": s.csrf, origin: "http://evil.example" })).status).toBe(403);
    expect((await put({ "x-csrf-token": s.csrf, origin: "null" })).status).toBe(403);
    expect((await put({ "x-csrf-token": s.csrf, origin: web })).status).toBe(200);
    // A login form posted by another site: not JSON, and not from here.
    const form = await req("/api/session", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" }, body: `username=admin&password=${TEST_ADMIN_PASSWORD}` });
    expect([403, 415]).toContain(form.status);
    expect(form.headers.get("set-cookie")).toBeNull();
    expect(await upgrade(`/api/live/${stack.device}/high`, { ...s.wsHeaders(), origin: "http://evil.example" })).toBe(403);
    expect(await upgrade(`/api/live/${stack.device}/high`, { ...s.wsHeaders(), origin: web })).toBe(101);
    recordReliability("http-cross-site", { kind: "bad-input", family: "cross-site requests: changes without or with a wrong CSRF token, foreign and null Origins, a form-encoded login from another site, a websocket from another site", cases: 6, outcome: "403 (415 for the form); no cookie set; the same request from the page itself passes" });
  });

  it("refuses path traversal in every form, in static files, media ids and device ids", async () => {
    const attempts = [
      "/assets/../../package.json",
      "/assets/%2e%2e/%2e%2e/package.json",
      "/assets/..%2f..%2fpackage.json",
      "/assets/..%5c..%5cpackage.json",
      "//etc/passwd",
      "/assets//etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/assets/%252e%252e/package.json",
    ];
    for (const path of attempts) {
      const raw = await rawGet(path);
      expect(raw.status, path).not.toBe(200);
      expect(raw.body, path).not.toMatch(/"name": "picket"|root:x:0:0/);
    }
    for (const id of ["..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e", "..%5c..%5cwindows", "%2Fetc%2Fpasswd", "a%00b12345678"]) {
      for (const path of [`/api/events/${id}`, `/api/events/${id}/snapshot.jpg`, `/api/events/${id}/clip.mp4`, `/api/devices/${id}/snapshot.jpg`, `/api/devices/${id}/settings`]) {
        const r = await req(path, {}, s);
        expect([400, 404], path).toContain(r.status);
        expect(r.body, path).not.toMatch(/root:x:0:0/);
      }
    }
    recordReliability("http-traversal", { kind: "bad-input", family: "path traversal (../, %2e%2e, %2f, %5c, //, absolute, double-encoded, NUL) in static files, event media ids and device ids", cases: attempts.length + 25, outcome: "400 or 404 (never a file outside the client's); media are found by id only" });
  });

  it("refuses shell, filter-graph and HTML injection in every settings field with a clear 400, and stores nothing", async () => {
    const nasty = ["$(touch /tmp/picket-pwned)", "`id`", "a;rm -rf /", "x'|sh", "scale=1:1,drawtext=text=pwned", "<img src=x onerror=alert(1)>", "../../etc", "a\nb", "é".repeat(40)];
    const before = (await req(`/api/devices/${stack.device}/settings`, {}, s)).body;
    const json = (v: unknown) => ({ method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(v) });
    for (const n of nasty) {
      const tries: [string, unknown][] = [
        [`/api/devices/${stack.device}/presets`, { presets: [{ name: n, width: 640, height: 360, bitrateKbps: 400, fps: 10 }], phone: n, desktop: n }],
        [`/api/devices/${stack.device}/motion`, { sensitivity: 5, masks: [], zones: [{ name: n, polygon: [[0, 0], [1, 0], [1, 1]] }] }],
        [`/api/devices/${stack.device}/arming`, { mode: "scheduled", schedule: [{ days: [1], from: n, to: "07:00" }] }],
        [`/api/devices/${stack.device}/detection`, { mode: n }],
        ["/api/notifications", { clip: true, silent: false, quietHours: { from: n, to: "07:00" } }],
      ];
      for (const [path, body] of tries) {
        const r = await req(path, json(body), s);
        expect(r.status, `${path} ${n}`).toBe(400);
        expect((JSON.parse(r.body) as { error: string }).error.length, path).toBeGreaterThan(5);
      }
      const user = await req("/api/users", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: n, password: "long-enough-password", role: "viewer" }) }, s);
      expect(user.status, `user ${n}`).toBe(400);
    }
    expect((await req(`/api/devices/${stack.device}/settings`, {}, s)).body).toBe(before);
    // Nothing reached a shell, and the camera still runs its own filter graph.
    const { existsSync } = await import("node:fs");
    expect(existsSync("/tmp/picket-pwned")).toBe(false);
    expect((await req(`/api/devices/${stack.device}/snapshot.jpg`, {}, s)).status).toBe(200);
    recordReliability("http-injection", { kind: "bad-input", family: "shell, ffmpeg filter-graph and HTML injection in every settings field (presets, zones, schedule, detection, notifications, user names)", cases: nasty.length * 6, outcome: "400 naming the field; nothing stored, nothing run, the camera unchanged" });
  });

  it("answers malformed and oversized bodies with clear errors", async () => {
    const put = (body: string, type = "application/json") => req(`/api/devices/${stack.device}/arming`, { method: "PUT", headers: { "content-type": type }, body }, s);
    expect((await put("{")).status).toBe(400);
    expect((await put("[]")).status).toBe(400);
    expect((await put(JSON.stringify({ mode: "armed", extra: 1 }))).status).toBe(400);
    expect((await put(JSON.stringify({ mode: "armed", pad: "x".repeat(200_000) }))).status).toBe(413);
    expect((await put("mode=armed", "application/x-www-form-urlencoded")).status).toBe(415);
    expect((await req("/api/events?limit=100000", {}, s)).status).toBe(400);
    expect((await req("/api/events?from=yesterday", {}, s)).status).toBe(400);
  });

  it("keeps the admin password, session cookies and the live secret out of every log line and answer", async () => {
    const secrets = [TEST_ADMIN_PASSWORD, TEST_LIVE_SECRET, s.cookie.split("=")[1] as string];
    const logs = ["web", "stream", "camera"].flatMap((n) => stack.get(n as "web").logs.map((l) => JSON.stringify(l)));
    expect(logs.length).toBeGreaterThan(10);
    expect(answers.length).toBeGreaterThan(50);
    for (const secret of secrets) {
      for (const text of [...logs, ...answers]) expect(text.includes(secret)).toBe(false);
    }
  });
});

/** A GET sent byte for byte (fetch would normalise `..` and `//` away). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(web);
    const socket = connect(Number(url.port), url.hostname);
    let data = "";
    socket.on("data", (d: Buffer) => (data += d.toString("latin1")));
    socket.on("error", reject);
    socket.on("end", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      const body = data.slice(data.indexOf("\r\n\r\n") + 4);
      answers.push(body);
      resolve({ status, body });
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nCookie: ${s.cookie}\r\nConnection: close\r\n\r\n`);
  });
}
