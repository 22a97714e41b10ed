import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteHandlerMethod } from "fastify";
import fastifyStatic from "@fastify/static";
import { PirInject, TestAlarmReply, decodeJson, subjects } from "@picket/contracts";
import { VERSION, natsErrors, type Logger, type NatsConnection } from "@picket/runtime";
import { isDocsUrl, registerApiDocs } from "./api-docs.js";
import { registerAuth, type Auth } from "./auth/auth-plugin.js";
import { deviceParams, errorBody } from "./auth/http.js";
import type { DeviceDirectory } from "@picket/runtime";
import type { EventFeed } from "./events/event-feed.js";
import type { EventMedia } from "./events/event-media.js";
import { eventRoutes } from "./events/event-routes.js";
import { hlsLinkRoutes } from "./hls-links.js";
import { settingsRoutes } from "./settings/settings-routes.js";

export interface AppDeps {
  nc: NatsConnection;
  log: Logger;
  directory: DeviceDirectory;
  /** Login: the admin password from the environment, session lifetime, the public URL. */
  auth: { adminPassword?: string; sessionDays: number; publicUrl?: string };
  /** Reverse proxies' addresses: only from those are X-Forwarded-* believed. */
  trustProxy?: string[];
  device: string;
  health: () => { ok: boolean; [k: string]: unknown };
  /** Where index.html and the compiled client live. */
  publicDirs?: string[];
  /** The events timeline, followed from the events stream. */
  feed: EventFeed;
  /** Events' photos and clips (default: this device's media store). */
  media?: EventMedia;
  /** The device's time zone, for the names of downloaded media. */
  timeZone?: string;
  /** Signs the tokens of HLS links for players (PICKET_LIVE_SECRET). */
  liveSecret?: string;
  /** Serves `/hls/*` (the stream service's HLS, proxied). */
  hls?: RouteHandlerMethod;
  /** A hub: each device's settings are read and written on the device. */
  hub?: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
const CSP = [
  "default-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  // 'self' covers this origin's ws: and wss: (CSP 3): no other host.
  "connect-src 'self'",
  "style-src 'self'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");


/** A NATS request error as an HTTP status and a message a user can act on. */
function busFailure(err: unknown, what: string): { status: number; error: string } {
  if (err instanceof natsErrors.RequestError && err.isNoResponders()) return { status: 503, error: `${what} is not running on that device` };
  if (err instanceof natsErrors.TimeoutError || (err instanceof Error && err.cause instanceof natsErrors.TimeoutError)) return { status: 504, error: `${what} did not answer in time` };
  return { status: 502, error: `${what} failed: ${(err as Error).message}` };
}

/**
 * The web UI and HTTP API, login first: every route but the public list needs a session
 * (auth/auth-plugin.ts). `listen` happens in main.ts; tests use `inject`.
 */
export async function buildApp(deps: AppDeps): Promise<{ app: FastifyInstance; auth: Auth }> {
  // Per-request lines are debug noise for an operator; failures are logged by the error handler.
  const app = Fastify({ loggerInstance: deps.log.child({ module: "http" }, { level: "warn" }) as FastifyBaseLogger, bodyLimit: 64 * 1024, trustProxy: deps.trustProxy === undefined || deps.trustProxy.length === 0 ? false : deps.trustProxy });
  // Before any route, so the OpenAPI document lists them all.
  await registerApiDocs(app);

  app.addHook("onSend", async (req, reply) => {
    // The docs page carries its own strict policy (api-docs.ts).
    if (!isDocsUrl(req.url)) reply.header("content-security-policy", CSP);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("x-frame-options", "DENY");
  });

  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, "request failed");
    void reply.status(status).send({ error: status >= 500 ? "internal error" : err.message });
  });
  app.setNotFoundHandler((_req, reply) => void reply.status(404).send({ error: "not found" }));

  app.get("/healthz", { schema: { tags: ["service"], summary: "Health: 200 while the bus is connected, else 503 (public)" } }, async (_req, reply) => {
    const h = deps.health();
    return reply.status(h.ok ? 200 : 503).send(h);
  });

  if (deps.hls !== undefined) app.get("/hls/*", { schema: { tags: ["live"], summary: "LL-HLS of a camera: /hls/{device}/{profile}/index.m3u8, init.mp4, segments and parts" } }, deps.hls);

  app.get<{ Params: { id: string } }>("/api/devices/:id/snapshot.jpg", { schema: { tags: ["devices"], summary: "The camera's newest picture as a JPEG (503 when the camera is not sending)", params: deviceParams } }, async (req, reply) => {
    try {
      // A frozen camera says so rather than serving an old picture.
      const msg = await deps.nc.request(subjects.snapshot(req.params.id), JSON.stringify({ maxAgeMs: 5_000 }), { timeout: 3_000 });
      const problem = msg.headers?.get("Picket-Error") ?? "";
      if (problem !== "") return reply.status(503).send({ error: problem });
      return reply.type("image/jpeg").header("cache-control", "no-store").send(Buffer.from(msg.data));
    } catch (err) {
      const f = busFailure(err, "the camera");
      return reply.status(f.status).send({ error: f.error });
    }
  });

  app.post<{ Params: { id: string } }>(
    "/api/devices/:id/test-alarm",
    {
      schema: {
        tags: ["devices"],
        summary: "Raise a test alarm through the whole path: event, photo, Telegram",
        params: deviceParams,
        response: { 202: { type: "object", required: ["eventId"], properties: { eventId: { type: "string" } } }, "5xx": errorBody },
      },
    }, async (req, reply) => {
    try {
      const msg = await deps.nc.request(subjects.testAlarm(req.params.id), JSON.stringify({ requestedBy: "web" }), { timeout: 10_000 });
      const answer = decodeJson(TestAlarmReply, msg.data, msg.subject);
      if (!answer.ok) return reply.status(503).send({ error: answer.error });
      req.log.info({ device: req.params.id, eventId: answer.eventId }, "test alarm raised from the web");
      return reply.status(202).send({ eventId: answer.eventId });
    } catch (err) {
      const f = busFailure(err, "the presence service");
      return reply.status(f.status).send({ error: f.error });
    }
  });

  app.post<{ Params: { id: string }; Body: unknown }>(
    "/api/devices/:id/pir",
    {
      schema: {
        tags: ["devices"],
        summary: "Drive the simulated PIR: a level or a pulse",
        params: deviceParams,
        body: { type: "object", properties: { level: { enum: [0, 1] }, pulseMs: { type: "integer", minimum: 1, maximum: 60000 } } },
        response: { 202: { type: "object", properties: { ok: { type: "boolean" } } } },
      },
      // The body is checked by its contract below, with a message that says what is accepted.
      attachValidation: true,
    }, async (req, reply) => {
    const parsed = PirInject.safeParse(req.body);
    if (!parsed.success) return reply.status(400).send({ error: 'body must be {"level":0|1} or {"pulseMs":1..60000}' });
    try {
      await deps.nc.request(subjects.pirInject(req.params.id), JSON.stringify(parsed.data), { timeout: 3_000 });
      return reply.status(202).send({ ok: true });
    } catch (err) {
      const f = busFailure(err, "the simulated PIR");
      return reply.status(f.status).send({ error: f.error });
    }
  });

  // The built client (vite build → dist/public).
  const dirs = deps.publicDirs ?? [join(here, "public")];
  void app.register(fastifyStatic, { root: dirs, index: ["index.html"], cacheControl: false, setHeaders: (res) => res.setHeader("cache-control", "no-cache") });
  app.get("/api/version", { schema: { tags: ["service"], summary: "This device and the software's version", response: { 200: { type: "object", properties: { device: { type: "string" }, version: { type: "string" } } } } } }, async () => ({ device: deps.device, version: VERSION }));
  // The auth hook comes last (it covers every route); long-lived answers ask it later.
  let auth: Auth | undefined;
  await eventRoutes(app, {
    nc: deps.nc,
    log: deps.log,
    feed: deps.feed,
    ...(deps.media === undefined ? {} : { media: deps.media }),
    live: { stillAllowed: (raw) => (auth === undefined ? Promise.resolve(false) : auth.stillValid(raw)) },
    ...(deps.timeZone === undefined ? {} : { timeZone: deps.timeZone }),
  });
  await hlsLinkRoutes(app, { log: deps.log, ...(deps.liveSecret === undefined ? {} : { liveSecret: deps.liveSecret }), ...(deps.auth.publicUrl === undefined ? {} : { publicUrl: deps.auth.publicUrl }) });
  await settingsRoutes(app, { nc: deps.nc, log: deps.log, directory: deps.directory, device: deps.device, ...(deps.hub === true ? { hub: true } : {}) });
  auth = await registerAuth(app, { log: deps.log, nc: deps.nc, cfg: { ...deps.auth, liveSecret: deps.liveSecret } });
  return { app, auth };
}
