import type { FastifyInstance } from "fastify";
import { isDeviceId, isProfileName } from "@picket/contracts";
import { signLiveToken, type Logger } from "@picket/runtime";
import { deviceParams, errorBody } from "./auth/http.js";
import { LINK_SUBJECT_PREFIX } from "./hls-request.js";

/** The longest a link for a player may last; a new PICKET_LIVE_SECRET revokes them all sooner. */
export const MAX_LINK_DAYS = 365;


/**
 * `POST /api/devices/:id/hls-link` (admins): an HLS address with its own signed token, for a
 * player that cannot log in (VLC, Home Assistant's stream, a TV). The token opens that camera
 * and profile only, until it expires; the web's `/hls/*` takes it instead of a session.
 */
export async function hlsLinkRoutes(app: FastifyInstance, deps: { log: Logger; liveSecret?: string; publicUrl?: string; now?: () => number }): Promise<void> {
  const log = deps.log.child({ module: "hls-links" });
  const now = deps.now ?? Date.now;
  app.post<{ Params: { id: string }; Body: { profile: string; days: number } }>(
    "/api/devices/:id/hls-link",
    {
      config: { access: "admin" },
      schema: {
        tags: ["live"],
        summary: "An HLS address with its own token, for players that cannot log in (VLC, Home Assistant)",
        params: deviceParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["profile", "days"],
          properties: { profile: { type: "string", pattern: "^[a-z0-9_-]{1,32}$" }, days: { type: "integer", minimum: 1, maximum: MAX_LINK_DAYS } },
        },
        response: { 201: { type: "object", required: ["url", "expiresAt"], properties: { url: { type: "string" }, expiresAt: { type: "integer" } } }, "4xx": errorBody, "5xx": errorBody },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const { profile, days } = req.body;
      if (!isDeviceId(id) || !isProfileName(profile)) return reply.status(400).send({ error: "bad device or profile name" });
      if (deps.liveSecret === undefined) return reply.status(503).send({ error: "PICKET_LIVE_SECRET is not set, so the stream service signs nothing: set it on web and stream first" });
      const expiresAt = now() + days * 86_400_000;
      const token = signLiveToken(deps.liveSecret, { device: id, profile, exp: expiresAt, sub: `${LINK_SUBJECT_PREFIX}${req.user?.name ?? "admin"}` });
      const base = deps.publicUrl !== undefined ? new URL(deps.publicUrl).origin : `${req.protocol}://${req.host}`;
      log.info({ device: id, profile, days, by: req.user?.name }, "HLS link made for a player");
      return reply.status(201).send({ url: `${base}/hls/${id}/${profile}/index.m3u8?token=${encodeURIComponent(token)}`, expiresAt });
    },
  );
}
