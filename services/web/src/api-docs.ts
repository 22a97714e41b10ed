import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { VERSION } from "@picket/runtime";

export const DOCS_PREFIX = "/api/docs";

/**
 * The docs page's own CSP: swagger-ui loads only its own files (no inline script or style)
 * and draws its logo and icons from data: URLs; "Try it out" calls this origin.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join("; ");

/**
 * Whether a request URL is the API docs (`/api/docs`, `/api/docs/…`): its answers carry
 * DOCS_CSP, set by swagger-ui; the app-wide CSP hook must leave them alone.
 */
export function isDocsUrl(url: string): boolean {
  const path = url.split("?")[0] ?? "";
  return path === DOCS_PREFIX || path.startsWith(`${DOCS_PREFIX}/`);
}

/**
 * OpenAPI 3 docs of every route (from their JSON schemas, `tags` and `summary`): the UI at
 * `/api/docs`, the spec at `/api/docs/json`. Call it before any route is added: the spec
 * only sees routes added after it. Login is the auth hook's job (the docs are not public).
 */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Picket",
        version: VERSION,
        description:
          "The web app's HTTP API. Log in with `POST /api/session` `{ username, password }`: it sets the `picket_session` cookie and answers a `csrf` token; every request that is not GET/HEAD sends it as `x-csrf-token`.",
      },
      components: {
        securitySchemes: {
          session: { type: "apiKey", in: "cookie", name: "picket_session" },
          csrf: { type: "apiKey", in: "header", name: "x-csrf-token" },
        },
      },
      security: [{ session: [] }],
      tags: [
        { name: "session", description: "Login, logout, password" },
        { name: "users", description: "Who may use the web app (admins only)" },
        { name: "devices", description: "Cameras: state, snapshot, test alarm" },
        { name: "events", description: "The timeline of presence events, their photos and clips" },
        { name: "settings", description: "Arming, schedule, motion zones, detection, quality presets, notifications" },
        { name: "telegram", description: "Pairing the household's Telegram chats (admins only)" },
        { name: "live", description: "Live video (HLS; the websocket is /api/live/{device}/{profile})" },
        { name: "service", description: "Health and version" },
      ],
    },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: DOCS_CSP,
    uiConfig: { deepLinking: false, validatorUrl: null },
  });
}
