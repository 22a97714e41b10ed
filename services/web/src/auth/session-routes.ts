import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Authenticator } from "./authenticator.js";
import { errorBody, jsonSchema, parseBody, userBody } from "./http.js";
import { UNMATCHABLE_HASH, hashPassword, verifyPassword } from "./passwords.js";

const Login = z.object({
  username: z.string().min(1, "enter a user name").max(64),
  password: z.string().min(1, "enter the password").max(200),
});

const PasswordChange = z.object({
  current: z.string().min(1, "enter the current password").max(200),
  next: z.string().min(10, "must be at least 10 characters").max(200, "must be at most 200 characters"),
});

const tooMany = { type: "object", required: ["error", "retryAfterS"], properties: { error: { type: "string" }, retryAfterS: { type: "integer" } } } as const;
const sessionAnswer = { type: "object", required: ["user", "csrf"], properties: { user: userBody, csrf: { type: "string" } } } as const;

/** Login, the current session, logout and password change: `/api/session…`. */
export async function sessionRoutes(app: FastifyInstance, auth: Authenticator): Promise<void> {
  const log = auth.log;

  app.post<{ Body: unknown }>(
    "/api/session",
    {
      attachValidation: true,
      schema: {
        tags: ["session"],
        summary: "Log in (sets the session cookie; the answer's csrf goes in x-csrf-token of later changes)",
        body: jsonSchema(Login),
        response: { 200: { ...sessionAnswer, properties: { ...sessionAnswer.properties, passwordFromEnv: { type: "boolean" } } }, 400: errorBody, 401: errorBody, 403: errorBody, 415: errorBody, 429: tooMany },
      },
    },
    async (req, reply) => {
      const now = auth.now();
      const limit = auth.limiter.check(req.ip, now);
      if (!limit.ok) {
        log.warn({ ip: req.ip }, "login refused: too many failures from this address");
        return reply
          .status(429)
          .header("retry-after", String(limit.retryAfterS))
          .send({ error: `too many failed logins from your address; try again in ${limit.retryAfterS} s`, retryAfterS: limit.retryAfterS });
      }
      const body = parseBody(Login, req.body);
      if (!body.ok) return reply.status(400).send({ error: body.error });
      const { username, password } = body.data;
      const user = await auth.users.get(username);
      // An unknown name costs the same scrypt as a wrong password: timing does not tell names apart.
      const good = await verifyPassword(password, user?.hash ?? UNMATCHABLE_HASH);
      if (!good || user === undefined) {
        auth.limiter.fail(req.ip, now);
        // The name only when it is a user's: a password typed into the name field stays out of the log.
        log.warn({ ip: req.ip, ...(user === undefined ? { knownUser: false } : { user: username }) }, "failed login");
        return reply.status(401).send({ error: "wrong user name or password" });
      }
      const { id, csrf } = await auth.sessions.create(username, user.role);
      auth.setSessionCookie(req, reply, id);
      log.info({ user: username, ip: req.ip }, "logged in");
      return { user: { name: username, role: user.role }, csrf, passwordFromEnv: user.fromEnv === true };
    },
  );

  app.get(
    "/api/session",
    {
      schema: {
        tags: ["session"],
        summary: "Who is logged in (401 when no one), with the CSRF token for this session",
        response: { 200: { ...sessionAnswer, required: ["user", "csrf", "passwordFromEnv"], properties: { ...sessionAnswer.properties, passwordFromEnv: { type: "boolean" } } }, 401: errorBody },
      },
    },
    async (req, reply) => {
      const who = await auth.sessionOf(req);
      if (who === undefined) return reply.status(401).send({ error: "log in first" });
      if (who.renewed) auth.setSessionCookie(req, reply, req.cookies.picket_session as string);
      const rec = await auth.users.get(who.user.name);
      return { user: who.user, csrf: who.found.session.csrf, passwordFromEnv: rec?.fromEnv === true };
    },
  );

  app.delete("/api/session", { schema: { tags: ["session"], summary: "Log out (ends this session, clears the cookie)", response: { 204: { type: "null" }, 403: errorBody } } }, async (req, reply) => {
    const who = await auth.sessionOf(req);
    if (who !== undefined) {
      const refused = auth.refuseStateChange(req, who.found.session.csrf);
      if (refused !== undefined) return reply.status(403).send({ error: refused });
      await auth.sessions.delete(who.found.key);
      log.info({ user: who.user.name }, "logged out");
    }
    auth.clearSessionCookie(req, reply);
    return reply.status(204).send();
  });

  app.post<{ Body: unknown }>(
    "/api/session/password",
    {
      attachValidation: true,
      config: { access: "viewer" },
      schema: {
        tags: ["session"],
        summary: "Change your own password (your other sessions end; this one goes on with a new cookie)",
        body: jsonSchema(PasswordChange),
        response: { 204: { type: "null" }, 400: errorBody, 401: errorBody, 429: tooMany },
      },
    },
    async (req, reply) => {
      const who = await auth.sessionOf(req);
      if (who === undefined) return reply.status(401).send({ error: "log in first" });
      const now = auth.now();
      const limit = auth.limiter.check(req.ip, now);
      if (!limit.ok) return reply.status(429).header("retry-after", String(limit.retryAfterS)).send({ error: `too many wrong passwords; try again in ${limit.retryAfterS} s`, retryAfterS: limit.retryAfterS });
      const body = parseBody(PasswordChange, req.body);
      if (!body.ok) return reply.status(400).send({ error: body.error });
      const rec = await auth.users.get(who.user.name);
      if (rec === undefined) return reply.status(401).send({ error: "log in first" });
      if (rec.fromEnv) return reply.status(400).send({ error: "this password is set by PICKET_ADMIN_PASSWORD: change it there and restart" });
      if (!(await verifyPassword(body.data.current, rec.hash))) {
        auth.limiter.fail(req.ip, now);
        return reply.status(401).send({ error: "the current password is wrong" });
      }
      await auth.users.put(who.user.name, { ...rec, hash: await hashPassword(body.data.next), passwordChangedAt: now });
      // Sessions begun before the change are void; this one goes on under a new id (same CSRF token).
      const { id } = await auth.sessions.create(who.user.name, rec.role, who.found.session.csrf, now);
      await auth.sessions.delete(who.found.key);
      auth.setSessionCookie(req, reply, id);
      log.info({ user: who.user.name }, "password changed; the user's other sessions ended");
      return reply.status(204).send();
    },
  );
}
