import type { IncomingMessage } from "node:http";
import { fastifyCookie } from "@fastify/cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "@picket/runtime";
import { originAllowed } from "../viewer-tokens.js";
import { csrfMatches, originOf, requestOriginAllowed } from "./csrf.js";
import { LoginLimiter } from "./login-limiter.js";
import { judgeSession, type FoundSession, type SessionStore } from "./sessions.js";
import type { Role, UserStore } from "./users.js";

export const SESSION_COOKIE = "picket_session";

/** Who made a request, once the auth hook let it through. */
export interface AuthUser {
  name: string;
  role: Role;
}

/** A valid session: its user (role as the users bucket says now) and the stored entry. */
export interface Who {
  user: AuthUser;
  found: FoundSession;
  /** lastUsedAt was just written: the cookie's lifetime is sent again too. */
  renewed: boolean;
}

export type UpgradeVerdict = { ok: true; user: AuthUser } | { ok: false; status: 401 | 403; reason: string };

export interface AuthConfig {
  adminPassword?: string | undefined;
  sessionDays: number;
  /** Where the household reaches the UI (a reverse proxy in front): its origin may post too. */
  publicUrl?: string | undefined;
  /** PICKET_LIVE_SECRET: signs the HLS links that open a camera without a session (none without it). */
  liveSecret?: string | undefined;
}

/** Session lookup, cookies, CSRF and Origin rules shared by the hook, the routes and websocket upgrades. */
export class Authenticator {
  readonly publicOrigin: string | undefined;
  readonly limiter = new LoginLimiter();
  private readonly perRequest = new WeakMap<object, Promise<Who | undefined>>();

  constructor(
    readonly users: UserStore,
    readonly sessions: SessionStore,
    readonly cfg: AuthConfig,
    readonly log: Logger,
    readonly now: () => number,
  ) {
    this.publicOrigin = originOf(cfg.publicUrl);
  }

  /** The valid session behind cookie value `id`, renewing its lastUsedAt when due. */
  async sessionFor(id: string | undefined): Promise<Who | undefined> {
    if (id === undefined) return undefined;
    const found = await this.sessions.find(id);
    if (found === undefined) return undefined;
    const user = await this.users.get(found.session.user);
    const verdict = judgeSession(found.session, user, this.now(), this.sessions.idleMs);
    if (!verdict.ok || user === undefined) return undefined;
    const who = { user: { name: found.session.user, role: user.role }, found, renewed: false };
    if (!verdict.renew) return who;
    if (!(await this.sessions.renew(found))) return undefined;
    return { ...who, renewed: true };
  }

  /** The request's session (looked up once per request). */
  sessionOf(req: FastifyRequest): Promise<Who | undefined> {
    let who = this.perRequest.get(req);
    if (who === undefined) {
      who = this.sessionFor(req.cookies[SESSION_COOKIE]);
      this.perRequest.set(req, who);
    }
    return who;
  }

  /** Why a state-changing request of this session is refused, or undefined when it may go on. */
  refuseStateChange(req: FastifyRequest, csrf: string | undefined): string | undefined {
    if (!this.originOk(req)) return "cross-site request refused";
    if (csrf !== undefined && !csrfMatches(req.headers["x-csrf-token"], csrf)) return "missing or wrong CSRF token";
    return undefined;
  }

  /** Whether the request's Origin, if any, is this page's own or the public URL's. */
  originOk(req: FastifyRequest): boolean {
    return requestOriginAllowed(req.headers.origin, { protocol: req.protocol, host: req.host }, this.publicOrigin);
  }

  setSessionCookie(req: FastifyRequest, reply: FastifyReply, id: string): void {
    void reply.setCookie(SESSION_COOKIE, id, { ...this.cookieOptions(req), maxAge: Math.floor(this.sessions.idleMs / 1000) });
  }

  clearSessionCookie(req: FastifyRequest, reply: FastifyReply): void {
    void reply.clearCookie(SESSION_COOKIE, this.cookieOptions(req));
  }

  /**
   * Checks a websocket upgrade: it needs a session cookie, and a browser's Origin must be
   * this host or the public URL's (a missing Origin is a non-browser client and allowed).
   */
  async authenticateUpgrade(req: IncomingMessage): Promise<UpgradeVerdict> {
    const cookies = fastifyCookie.parse(req.headers.cookie ?? "");
    const who = await this.sessionFor(cookies[SESSION_COOKIE]);
    if (who === undefined) return { ok: false, status: 401, reason: "log in first" };
    if (!originAllowed(req.headers.origin, req.headers.host, this.publicOrigin)) return { ok: false, status: 403, reason: "cross-site request refused" };
    return { ok: true, user: who.user };
  }

  /** Whether the session a request or socket was opened with is still good (not logged out, expired or removed). */
  async stillValid(cookieHeader: string | undefined): Promise<boolean> {
    const cookies = fastifyCookie.parse(cookieHeader ?? "");
    return (await this.sessionFor(cookies[SESSION_COOKIE])) !== undefined;
  }

  private cookieOptions(req: FastifyRequest) {
    const secure = req.protocol === "https" || this.publicOrigin?.startsWith("https:") === true;
    return { path: "/", httpOnly: true, sameSite: "strict" as const, secure };
  }
}
