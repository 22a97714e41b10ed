import { request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import type { LightMyRequestResponse } from "fastify";
import { Kvm, createLogger, jetstreamManager, type NatsConnection } from "@picket/runtime";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isDocsUrl, registerApiDocs } from "../services/web/src/api-docs.js";
import { registerAuth, type Auth } from "../services/web/src/auth/auth-plugin.js";
import { testBus } from "./support/bus.js";
import { startNats, type NatsServer } from "./support/nats.js";

const APP_CSP = "default-src 'self'; script-src 'self'";
const DAY = 24 * 60 * 60_000;

let nats: NatsServer;
let nc: NatsConnection;
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  nats = await startNats();
  nc = await testBus(nats.url);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await nc.close();
  await nats.dispose();
});

interface TestApp {
  app: FastifyInstance;
  auth: Auth;
  /** Every log line the auth module wrote, as pino wrote it. */
  logs: string[];
}

/** A Fastify app like the web's: docs first, a few routes, the auth plugin, the app-wide CSP. */
async function build(opts: { adminPassword?: string; now?: () => number; publicUrl?: string; trustProxy?: string[] } = {}): Promise<TestApp> {
  const logs: string[] = [];
  const log = createLogger({ service: "web", device: "test", level: "info" }, { write: (line: string) => void logs.push(line) });
  const app = Fastify({ trustProxy: opts.trustProxy ?? false });
  await registerApiDocs(app);
  app.addHook("onSend", async (req, reply) => {
    if (!isDocsUrl(req.url)) reply.header("content-security-policy", APP_CSP);
  });
  app.get("/", async (_req, reply) => reply.type("text/html").send("<!doctype html><title>Picket</title>"));
  app.get("/healthz", async () => ({ ok: true }));
  app.get("/metrics", async () => "picket_up 1\n");
  app.get("/hls/*", async () => "#EXTM3U\n");
  app.get("/api/thing", { schema: { tags: ["test"], summary: "a viewer route" } }, async (req) => ({ thing: 1, user: req.user?.name }));
  app.post("/api/admin-thing", { schema: { tags: ["test"], summary: "an admin route" } }, async () => ({ done: true }));
  const auth = await registerAuth(app, { log, nc, cfg: { sessionDays: 30, adminPassword: opts.adminPassword, publicUrl: opts.publicUrl }, ...(opts.now === undefined ? {} : { now: opts.now }) });
  cleanups.push(async () => {
    auth.close();
    await app.close();
  });
  await app.ready();
  return { app, auth, logs };
}

/** The admin password a first start generated, read from the one log line that shows it. */
function generatedPassword(logs: string[]): string {
  const shown = logs.filter((l) => l.includes("admin password is"));
  expect(shown).toHaveLength(1);
  const m = /admin password is (\S+) ; it is shown once/.exec(shown[0] as string);
  expect(m).not.toBeNull();
  expect(JSON.parse(shown[0] as string).level).toBe("warn");
  return (m as RegExpExecArray)[1] as string;
}

interface Session {
  cookie: string;
  csrf: string;
  res: LightMyRequestResponse;
}

async function login(app: FastifyInstance, username: string, password: string, ip = "10.0.0.1"): Promise<Session> {
  const res = await app.inject({ method: "POST", url: "/api/session", remoteAddress: ip, payload: { username, password } });
  expect(res.statusCode, res.body).toBe(200);
  const c = res.cookies.find((x) => x.name === "picket_session");
  expect(c).toBeDefined();
  return { cookie: `picket_session=${c?.value}`, csrf: (res.json() as { csrf: string }).csrf, res };
}

/** A request with a session (and its CSRF token on changes, unless `csrf` is given). */
function as(app: FastifyInstance, s: Session, method: "GET" | "POST" | "DELETE", url: string, extra: { payload?: unknown; headers?: Record<string, string>; csrf?: string | null } = {}) {
  const headers: Record<string, string> = { cookie: s.cookie, ...extra.headers };
  const csrf = extra.csrf === undefined ? s.csrf : extra.csrf;
  if (method !== "GET" && csrf !== null) headers["x-csrf-token"] = csrf;
  return app.inject({ method, url, headers, ...(extra.payload === undefined ? {} : { payload: extra.payload as object }) });
}

function newCookie(res: LightMyRequestResponse): string {
  const c = res.cookies.find((x) => x.name === "picket_session");
  expect(c).toBeDefined();
  return `picket_session=${c?.value}`;
}

describe("web auth", () => {
  it("denies by default: 401 without a session, except the public list", async () => {
    const { app } = await build({ adminPassword: "admin-password-1" });
    for (const url of ["/api/thing", "/nope", "/metrics", "/hls/cam/index.m3u8", "/api/users", "/api/docs", "/api/docs/json", "/api/docs/static/swagger-ui.css", "/assets/../metrics"]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json(), url).toEqual({ error: "log in first" });
    }
    expect((await app.inject({ method: "POST", url: "/api/admin-thing" })).statusCode).toBe(401);
    expect((await app.inject({ method: "POST", url: "/nope" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/api/session" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/healthz" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/assets/missing.js" })).statusCode).toBe(404);
    expect((await app.inject({ method: "DELETE", url: "/api/session" })).statusCode).toBe(204);
  });

  it("logs in with the right password only, rate-limits failures per address, and sets a strict cookie", async () => {
    const { app } = await build({ adminPassword: "admin-password-1" });
    for (let i = 0; i < 10; i++) {
      const res = await app.inject({ method: "POST", url: "/api/session", remoteAddress: "10.0.0.9", payload: { username: "admin", password: `guess-${i}` } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: "wrong user name or password" });
      expect(res.cookies).toHaveLength(0);
    }
    const blocked = await app.inject({ method: "POST", url: "/api/session", remoteAddress: "10.0.0.9", payload: { username: "admin", password: "admin-password-1" } });
    expect(blocked.statusCode).toBe(429);
    const body = blocked.json() as { error: string; retryAfterS: number };
    expect(body.retryAfterS).toBeGreaterThan(500);
    expect(body.retryAfterS).toBeLessThanOrEqual(600);
    expect(blocked.headers["retry-after"]).toBe(String(body.retryAfterS));
    // Unknown users count too, and another address is not affected.
    expect((await app.inject({ method: "POST", url: "/api/session", remoteAddress: "10.0.0.8", payload: { username: "nobody", password: "x" } })).statusCode).toBe(401);

    const s = await login(app, "admin", "admin-password-1", "10.0.0.8");
    expect(s.res.json()).toMatchObject({ user: { name: "admin", role: "admin" } });
    const c = s.res.cookies.find((x) => x.name === "picket_session");
    expect(c).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/", maxAge: 30 * 24 * 3600 });
    expect(c?.secure).toBeFalsy();
    expect(c?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await as(app, s, "GET", "/api/thing")).json()).toEqual({ thing: 1, user: "admin" });
    expect((await as(app, s, "GET", "/metrics")).statusCode).toBe(200);
    expect((await as(app, s, "GET", "/nope")).statusCode).toBe(404);
    expect((await as(app, s, "GET", "/api/session")).json()).toEqual({ user: { name: "admin", role: "admin" }, csrf: s.csrf, passwordFromEnv: true });
  });

  it("wants JSON from this site for a login, and Secure cookies behind https", async () => {
    const { app } = await build({ adminPassword: "admin-password-1", publicUrl: "https://cam.example.org" });
    const form = await app.inject({ method: "POST", url: "/api/session", headers: { "content-type": "text/plain" }, payload: JSON.stringify({ username: "admin", password: "admin-password-1" }) });
    expect(form.statusCode).toBe(415);
    const cross = await app.inject({ method: "POST", url: "/api/session", headers: { origin: "https://evil.example" }, payload: { username: "admin", password: "admin-password-1" } });
    expect(cross.statusCode).toBe(403);
    expect(cross.json()).toEqual({ error: "cross-site request refused" });
    const bad = await app.inject({ method: "POST", url: "/api/session", payload: { username: "admin" } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: expect.stringMatching(/^password: /) });
    const ok = await app.inject({ method: "POST", url: "/api/session", headers: { origin: "https://cam.example.org" }, payload: { username: "admin", password: "admin-password-1" } });
    expect(ok.statusCode).toBe(200);
    expect(ok.cookies[0]?.secure).toBe(true);

    // Behind a trusted proxy: https and the client address come from its X-Forwarded-* headers.
    const proxied = await build({ adminPassword: "admin-password-1", trustProxy: ["127.0.0.1"] });
    const viaHttps = await proxied.app.inject({ method: "POST", url: "/api/session", headers: { "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7" }, payload: { username: "admin", password: "admin-password-1" } });
    expect(viaHttps.cookies[0]?.secure).toBe(true);
    const plain = await proxied.app.inject({ method: "POST", url: "/api/session", payload: { username: "admin", password: "admin-password-1" } });
    expect(plain.cookies[0]?.secure).toBeFalsy();
    const from = (ip: string) => ({ method: "POST" as const, url: "/api/session", headers: { "x-forwarded-for": ip }, payload: { username: "admin", password: "nope" } });
    for (let i = 0; i < 10; i++) await proxied.app.inject(from("203.0.113.8"));
    expect((await proxied.app.inject(from("203.0.113.8"))).statusCode).toBe(429);
    expect((await proxied.app.inject(from("203.0.113.9"))).statusCode).toBe(401);
    // A client writing its own X-Forwarded-For gets it prepended to, not believed: the proxy
    // adds the address it saw, and only that one counts.
    for (let i = 0; i < 12; i++) {
      const r = await proxied.app.inject(from(`198.51.100.${i}, 203.0.113.10`));
      if (i >= 10) expect(r.statusCode).toBe(429);
    }
  });

  it("needs the CSRF token and a same-site Origin for changes, and the admin role for admin routes", async () => {
    const { app } = await build({ adminPassword: "admin-password-1", publicUrl: "https://cam.example.org" });
    const admin = await login(app, "admin", "admin-password-1");
    const noToken = await as(app, admin, "POST", "/api/admin-thing", { csrf: null });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json()).toEqual({ error: "missing or wrong CSRF token" });
    expect((await as(app, admin, "POST", "/api/admin-thing", { csrf: `${admin.csrf.slice(0, -1)}x` })).statusCode).toBe(403);
    expect((await as(app, admin, "POST", "/api/admin-thing")).json()).toEqual({ done: true });
    const cross = await as(app, admin, "POST", "/api/admin-thing", { headers: { origin: "http://evil.example" } });
    expect(cross.statusCode).toBe(403);
    expect(cross.json()).toEqual({ error: "cross-site request refused" });
    expect((await as(app, admin, "POST", "/api/admin-thing", { headers: { origin: "null" } })).statusCode).toBe(403);
    expect((await as(app, admin, "POST", "/api/admin-thing", { headers: { origin: "http://localhost" } })).statusCode).toBe(200);
    expect((await as(app, admin, "POST", "/api/admin-thing", { headers: { origin: "https://cam.example.org" } })).statusCode).toBe(200);

    const add = await as(app, admin, "POST", "/api/users", { payload: { name: "ann", password: "ann-password-1", role: "viewer" } });
    expect(add.statusCode, add.body).toBe(201);
    expect((await as(app, admin, "POST", "/api/users", { payload: { name: "ann", password: "ann-password-2", role: "viewer" } })).statusCode).toBe(409);
    const badName = await as(app, admin, "POST", "/api/users", { payload: { name: "Ann/..", password: "ann-password-2", role: "viewer" } });
    expect(badName.statusCode).toBe(400);
    expect(badName.json()).toEqual({ error: expect.stringMatching(/^name: /) });
    expect((await as(app, admin, "POST", "/api/users", { payload: { name: "bob", password: "short", role: "viewer" } })).json()).toEqual({ error: "password: must be at least 10 characters" });
    expect((await as(app, admin, "GET", "/api/users")).json()).toEqual({ users: [{ name: "admin", role: "admin" }, { name: "ann", role: "viewer" }] });

    const ann = await login(app, "ann", "ann-password-1");
    expect((await as(app, ann, "GET", "/api/thing")).statusCode).toBe(200);
    for (const [method, url] of [["POST", "/api/admin-thing"], ["GET", "/api/users"], ["POST", "/api/users"], ["DELETE", "/api/users/admin"]] as const) {
      const res = await as(app, ann, method, url, { payload: method === "POST" ? {} : undefined });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json()).toEqual({ error: "admins only" });
    }

    expect((await as(app, admin, "DELETE", "/api/users/admin")).statusCode).toBe(400);
    expect((await as(app, admin, "DELETE", "/api/users/zed")).statusCode).toBe(404);
    expect((await as(app, admin, "DELETE", "/api/users/ann")).statusCode).toBe(204);
    expect((await as(app, ann, "GET", "/api/thing")).statusCode).toBe(401);
  });

  it("a password change ends the user's other sessions but not this one", async () => {
    const { app } = await build({ adminPassword: "admin-password-1" });
    const admin = await login(app, "admin", "admin-password-1");
    expect((await as(app, admin, "POST", "/api/users", { payload: { name: "ann", password: "ann-password-1", role: "viewer" } })).statusCode).toBe(201);
    const phone = await login(app, "ann", "ann-password-1");
    const laptop = await login(app, "ann", "ann-password-1");
    expect((await as(app, phone, "POST", "/api/session/password", { payload: { current: "wrong-password", next: "ann-password-2" } })).statusCode).toBe(401);
    expect((await as(app, phone, "POST", "/api/session/password", { payload: { current: "ann-password-1", next: "short" } })).json()).toEqual({ error: "next: must be at least 10 characters" });
    const changed = await as(app, phone, "POST", "/api/session/password", { payload: { current: "ann-password-1", next: "ann-password-2" } });
    expect(changed.statusCode, changed.body).toBe(204);
    const phoneNow = { ...phone, cookie: newCookie(changed) };
    expect((await as(app, laptop, "GET", "/api/thing")).statusCode).toBe(401);
    expect((await as(app, phone, "GET", "/api/thing")).statusCode).toBe(401);
    expect((await as(app, phoneNow, "GET", "/api/thing")).statusCode).toBe(200);
    expect((await as(app, phoneNow, "GET", "/api/session")).json()).toMatchObject({ csrf: phone.csrf });
    expect((await as(app, admin, "GET", "/api/thing")).statusCode).toBe(200);
    expect((await app.inject({ method: "POST", url: "/api/session", payload: { username: "ann", password: "ann-password-1" } })).statusCode).toBe(401);
    await login(app, "ann", "ann-password-2");

    // The admin password from the environment is changed there, not here.
    const envOwned = await as(app, admin, "POST", "/api/session/password", { payload: { current: "admin-password-1", next: "admin-password-2" } });
    expect(envOwned.statusCode).toBe(400);
  });

  it("logs out with the CSRF token", async () => {
    const { app } = await build({ adminPassword: "admin-password-1" });
    const s = await login(app, "admin", "admin-password-1");
    expect((await as(app, s, "DELETE", "/api/session", { csrf: null })).statusCode).toBe(403);
    const out = await as(app, s, "DELETE", "/api/session");
    expect(out.statusCode).toBe(204);
    expect(out.cookies.find((c) => c.name === "picket_session")?.value).toBe("");
    expect((await as(app, s, "GET", "/api/thing")).statusCode).toBe(401);
  });

  it("generates an admin password once, logs it once, and a restart keeps it and the sessions", async () => {
    const first = await build();
    const password = generatedPassword(first.logs);
    expect(password).toMatch(/^[A-Za-z2-9]{20}$/);
    const s = await login(first.app, "admin", password);
    expect((await as(first.app, s, "GET", "/api/session")).json()).toMatchObject({ passwordFromEnv: false });

    // A second replica (or a restart) over the same buckets: no new password, same session.
    const second = await build();
    expect(second.logs.join("\n")).not.toContain(password);
    expect(second.logs.some((l) => l.includes("admin password is"))).toBe(false);
    expect((await as(second.app, s, "GET", "/api/thing")).json()).toEqual({ thing: 1, user: "admin" });
    expect((await as(second.app, s, "POST", "/api/admin-thing")).statusCode).toBe(200);
    await login(second.app, "admin", password);

    // With another admin, removing `admin` is allowed, and a restart does not bring it back.
    const ann = { name: "ann", password: "ann-password-1", role: "admin" };
    expect((await as(second.app, s, "POST", "/api/users", { payload: ann })).statusCode).toBe(201);
    const annSession = await login(second.app, "ann", "ann-password-1");
    expect((await as(second.app, annSession, "DELETE", "/api/users/admin")).statusCode).toBe(204);
    expect((await as(second.app, annSession, "DELETE", "/api/users/ann")).statusCode).toBe(400);
    const third = await build();
    expect(third.logs.some((l) => l.includes("admin password is"))).toBe(false);
    expect((await as(third.app, annSession, "GET", "/api/users")).json()).toEqual({ users: [{ name: "ann", role: "admin" }] });
  });

  it("shows one generated password when two replicas start at once", async () => {
    const [a, b] = await Promise.all([build(), build()]);
    const lines = [...a.logs, ...b.logs].filter((l) => l.includes("admin password is"));
    expect(lines).toHaveLength(1);
    const password = generatedPassword(lines);
    await login(a.app, "admin", password);
    await login(b.app, "admin", password);
  });

  it("applies PICKET_ADMIN_PASSWORD at every start without logging it", async () => {
    const first = await build();
    const generated = generatedPassword(first.logs);
    const withEnv = await build({ adminPassword: "from-the-environment" });
    expect(withEnv.logs.some((l) => l.includes("admin password set from PICKET_ADMIN_PASSWORD"))).toBe(true);
    expect(withEnv.logs.join("\n")).not.toContain("from-the-environment");
    expect((await withEnv.app.inject({ method: "POST", url: "/api/session", payload: { username: "admin", password: generated } })).statusCode).toBe(401);
    const s = await login(withEnv.app, "admin", "from-the-environment");
    // Same variable again: the password did not change, so the session lives on.
    const again = await build({ adminPassword: "from-the-environment" });
    expect((await as(again.app, s, "GET", "/api/thing")).statusCode).toBe(200);
    // A new value ends the old sessions.
    const changed = await build({ adminPassword: "another-env-password" });
    expect((await as(changed.app, s, "GET", "/api/thing")).statusCode).toBe(401);
    await login(changed.app, "admin", "another-env-password");
  });

  it("ends a session after sessionDays without use; use renews it at most once a minute", async () => {
    let clock = Date.UTC(2025, 5, 1);
    const { app } = await build({ adminPassword: "admin-password-1", now: () => clock });
    const s = await login(app, "admin", "admin-password-1");
    clock += 30_000;
    expect((await as(app, s, "GET", "/api/thing")).cookies).toHaveLength(0);
    clock += 29 * DAY;
    const renewed = await as(app, s, "GET", "/api/thing");
    expect(renewed.statusCode).toBe(200);
    expect(renewed.cookies.find((c) => c.name === "picket_session")?.maxAge).toBe(30 * 24 * 3600);
    clock += 29 * DAY;
    expect((await as(app, s, "GET", "/api/thing")).statusCode).toBe(200);
    clock += 30 * DAY;
    expect((await as(app, s, "GET", "/api/thing")).statusCode).toBe(401);

    const info = await (await jetstreamManager(nc)).streams.info("KV_picket-web-sessions");
    expect(info.config.max_age).toBe(30 * DAY * 1e6);
    expect(info.config.max_msgs_per_subject).toBe(1);
    // The bucket holds hashes of the session ids, never the cookie values.
    const keys: string[] = [];
    for await (const k of await (await new Kvm(nc).open("picket-web-sessions")).keys()) keys.push(k);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => /^[0-9a-f]{64}$/.test(k))).toBe(true);
    expect(keys).not.toContain(s.cookie.slice("picket_session=".length));
  });

  it("authenticates websocket upgrades by cookie and Origin", async () => {
    const { app, auth } = await build({ adminPassword: "admin-password-1", publicUrl: "https://cam.example.org" });
    const s = await login(app, "admin", "admin-password-1");
    app.server.on("upgrade", (req: IncomingMessage, socket) => {
      void auth.authenticateUpgrade(req).then((v) => {
        if (v.ok) socket.end(`HTTP/1.1 101 Switching Protocols\r\nx-user: ${v.user.name}\r\nconnection: upgrade\r\nupgrade: test\r\n\r\n`);
        else socket.end(`HTTP/1.1 ${v.status} ${v.reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      });
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const port = (app.server.address() as AddressInfo).port;
    const upgrade = (headers: Record<string, string>) =>
      new Promise<number | string>((resolve, reject) => {
        const req = request({ port, host: "127.0.0.1", path: "/api/live/cam/auto", headers: { connection: "upgrade", upgrade: "websocket", ...headers } });
        req.on("upgrade", (res, socket) => {
          socket.destroy();
          resolve(String(res.headers["x-user"]));
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
    expect(await upgrade({})).toBe(401);
    expect(await upgrade({ cookie: "picket_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" })).toBe(401);
    expect(await upgrade({ cookie: s.cookie, origin: "http://evil.example" })).toBe(403);
    expect(await upgrade({ cookie: s.cookie, origin: `http://127.0.0.1:${port}` })).toBe("admin");
    expect(await upgrade({ cookie: s.cookie, origin: "https://cam.example.org" })).toBe("admin");
    expect(await upgrade({ cookie: s.cookie })).toBe("admin");
  });

  it("serves the OpenAPI docs behind login, with their own CSP", async () => {
    const { app } = await build({ adminPassword: "admin-password-1" });
    const s = await login(app, "admin", "admin-password-1");
    const page = await as(app, s, "GET", "/api/docs/");
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toBe(APP_CSP);
    expect((await as(app, s, "GET", "/api/docs/static/swagger-ui-bundle.js")).statusCode).toBe(200);
    expect((await as(app, s, "GET", "/api/thing")).headers["content-security-policy"]).toBe(APP_CSP);
    const spec = (await as(app, s, "GET", "/api/docs/json")).json() as { openapi: string; info: { title: string }; paths: Record<string, Record<string, { tags?: string[]; summary?: string }>> };
    expect(spec.openapi).toMatch(/^3\./);
    expect(spec.info.title).toBe("Picket");
    expect(spec.paths["/api/session"]?.post?.tags).toEqual(["session"]);
    expect(spec.paths["/api/users/{name}"]?.delete?.summary).toBeTruthy();
    expect(spec.paths["/api/thing"]?.get?.summary).toBe("a viewer route");
  });
});
