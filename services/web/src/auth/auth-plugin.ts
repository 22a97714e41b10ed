import type { IncomingMessage } from "node:http";
import fastifyCookie from "@fastify/cookie";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger, NatsConnection } from "@picket/runtime";
import { Authenticator, SESSION_COOKIE, type AuthConfig, type AuthUser, type UpgradeVerdict } from "./authenticator.js";
import { linkTokenOpens, parseHlsRequest } from "../hls-request.js";
import { isSafeMethod } from "./http.js";
import { sessionRoutes } from "./session-routes.js";
import { SessionStore } from "./sessions.js";
import { userRoutes } from "./user-routes.js";
import { UserStore, type Role } from "./users.js";

export type { AuthUser, UpgradeVerdict } from "./authenticator.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook on every route outside the public list. */
    user?: AuthUser;
  }
  interface FastifyContextConfig {
    /** Who may use the route; default: GET/HEAD → viewer, anything else → admin. */
    access?: Role;
  }
}

export interface AuthDeps {
  log: Logger;
  nc: NatsConnection;
  cfg: AuthConfig;
  now?: () => number;
}

export interface Auth {
  /** For `server.on("upgrade")`: answer the status with the reason unless `ok`. */
  authenticateUpgrade(req: IncomingMessage): Promise<UpgradeVerdict>;
  /** Whether the session a long-lived request (a live socket, an event stream) was opened with still holds. */
  stillValid(req: IncomingMessage): Promise<boolean>;
  /** Nothing outlives the NATS connection; kept so shutdown can stay symmetric. */
  close(): void;
}

/**
 * The client's static files, open to everyone so the login page can load: `/`,
 * `/index.html`, `/favicon.svg`, `/assets/<file>`. No segment may start with a dot
 * (no `..`), and nothing percent-encoded.
 */
const PUBLIC_FILE = /^\/(?:index\.html|favicon\.svg|assets(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+)?$/;
/** Routes that serve those files (a static plugin's wildcard, or none: a public 404). */
const STATIC_ROUTES = new Set<string | undefined>([undefined, "/", "/*", "/index.html", "/favicon.svg", "/assets/*"]);

/** Whether a request may pass without a session. `/api/session` checks sessions itself. */
export function isPublic(method: string, path: string, routeUrl: string | undefined): boolean {
  if (routeUrl === "/api/session") return true;
  if (method !== "GET" && method !== "HEAD") return false;
  if (routeUrl === "/healthz") return true;
  return PUBLIC_FILE.test(path) && (STATIC_ROUTES.has(routeUrl) || routeUrl === path);
}

/**
 * Login for the whole web app, deny by default: an onRequest hook lets through only the
 * public list above; every other URL (unknown ones too: 401 before 404, `/metrics`, `/hls/*`,
 * `/api/docs`) needs a session, the route's role, and for changes the CSRF header and a
 * same-origin `Origin`. Also registers @fastify/cookie and the session and user routes.
 * Call it directly (`await registerAuth(app, deps)`), not through `app.register`, so the
 * hook covers every route.
 */
export async function registerAuth(app: FastifyInstance, deps: AuthDeps): Promise<Auth> {
  const log = deps.log.child({ module: "auth" });
  const now = deps.now ?? Date.now;
  const [users, sessions] = await Promise.all([UserStore.open(deps.nc, log, now), SessionStore.open(deps.nc, { log, sessionDays: deps.cfg.sessionDays, now })]);
  await users.ensureAdmin(deps.cfg.adminPassword);
  const auth = new Authenticator(users, sessions, deps.cfg, log, now);

  await app.register(fastifyCookie);
  app.decorateRequest("user", undefined);
  app.addHook("onRequest", (req, reply) => guard(auth, req, reply));
  await sessionRoutes(app, auth);
  await userRoutes(app, auth);

  return {
    authenticateUpgrade: (req) => auth.authenticateUpgrade(req),
    stillValid: (req) => auth.stillValid(req.headers.cookie),
    close() {},
  };
}

async function guard(auth: Authenticator, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const path = req.url.split("?")[0] ?? "";
  const routeUrl = req.routeOptions.url;
  if (isPublic(req.method, path, routeUrl)) {
    if (routeUrl === "/api/session" && req.method === "POST") return loginPrecheck(auth, req, reply);
    return;
  }
  // HLS for a player with a link (hls-links.ts): its own token, checked here and again by the stream.
  if (routeUrl === "/hls/*" && isSafeMethod(req.method)) {
    const hls = parseHlsRequest(req.url);
    if (typeof hls === "object" && linkTokenOpens(auth.cfg.liveSecret, hls)) return;
  }
  const who = await auth.sessionOf(req);
  if (who === undefined) return void reply.status(401).send({ error: "log in first" });
  const access = req.routeOptions.config.access ?? (req.method === "GET" || req.method === "HEAD" ? "viewer" : "admin");
  if (access === "admin" && who.user.role !== "admin") return void reply.status(403).send({ error: "admins only" });
  if (!isSafeMethod(req.method)) {
    const refused = auth.refuseStateChange(req, who.found.session.csrf);
    if (refused !== undefined) return void reply.status(403).send({ error: refused });
  }
  if (who.renewed) auth.setSessionCookie(req, reply, req.cookies[SESSION_COOKIE] as string);
  req.user = who.user;
}

/** A login must come from this site and be JSON (a cross-site form cannot send that). */
function loginPrecheck(auth: Authenticator, req: FastifyRequest, reply: FastifyReply): void {
  if (!auth.originOk(req)) return void reply.status(403).send({ error: "cross-site request refused" });
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") return void reply.status(415).send({ error: "send the login as JSON (Content-Type: application/json)" });
}
