import type { FastifyReply, FastifyRequest, FastifySchemaCompiler } from "fastify";
import { z } from "zod";
import { ArmingSetting, DEVICE_ID_PATTERN, DetectionSettings, MotionSettings, QualityPresets, Snooze } from "@picket/contracts";
import { errorBody, jsonSchema, parseBody } from "../auth/http.js";

/**
 * Schemas of the settings routes: requests are checked by the zod contracts themselves, and
 * their JSON schemas (for the OpenAPI docs and the response serializers) come from the same
 * contracts.
 */

export { errorBody, jsonSchema };

/** A zod schema as a response's JSON schema: what the server sends (defaults filled in). */
export function outputSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: "draft-7", io: "output" }) as Record<string, unknown>;
  return rest;
}

/**
 * A route's validator that runs the zod contracts for params and body. Fastify's own (Ajv)
 * would quietly drop unknown fields and turn "5" into 5 before anything else saw them; the
 * contracts refuse both. Use with `attachValidation: true` and {@link refuseInvalid}, so the
 * answer is 400 `{ error: "<field>: <message>" }` and the handler gets the parsed value.
 */
export function zodValidation(parts: { params?: z.ZodType; body?: z.ZodType }): FastifySchemaCompiler<unknown> {
  return ({ httpPart }) => {
    const schema = httpPart === "params" ? parts.params : httpPart === "body" ? parts.body : undefined;
    return (data: unknown) => {
      if (schema === undefined) return { value: data };
      const r = parseBody(schema, data);
      return r.ok ? { value: r.data } : { error: new Error(r.error) };
    };
  };
}

/** Who changed something, for stored values and the log: `web:<user>`. */
export const changedBy = (req: FastifyRequest): string => `web:${req.user?.name ?? "unknown"}`.slice(0, 64);

/** Answers 400 with the validation's message when the request did not pass; true when it did so. */
export function refuseInvalid(req: FastifyRequest, reply: FastifyReply): boolean {
  if (req.validationError === undefined) return false;
  void reply.status(400).send({ error: req.validationError.message });
  return true;
}

/** A device id in a URL: one NATS subject token, so no subject or key can hide in it. */
export const DeviceParams = z.strictObject({ id: z.string().regex(DEVICE_ID_PATTERN, "must be a device id: 1–64 of A–Z a–z 0–9 _ -") });
/** A Telegram chat id in a URL: negative for groups. */
export const ChatParams = z.strictObject({ id: z.string().regex(/^-?[1-9][0-9]{0,15}$/, "must be a Telegram chat id (digits, negative for a group)") });

/** `PUT /api/devices/:id/snooze`: 1–1440 minutes from now, or 0 to end it. */
export const SnoozeRequest = z.strictObject({
  minutes: z.number().int("must be whole minutes").min(0, "must be 0 (end the snooze) to 1440 minutes").max(1440, "must be 0 (end the snooze) to 1440 minutes"),
});
export type SnoozeRequest = z.infer<typeof SnoozeRequest>;

/** The error answers every settings route may give (the auth hook's too). */
export const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody } as const;

const ServiceView = z.object({ ageMs: z.number(), uptimeS: z.number(), cpuPct: z.number(), rssBytes: z.number(), vitals: z.record(z.string(), z.number()) });

/** One device in `GET /api/devices`. */
export const DeviceAnswer = z.object({
  id: z.string(),
  state: z.enum(["online", "degraded", "offline"]),
  problem: z.string().nullable().describe("What is wrong, for a person; null when online."),
  lastSeenAgoMs: z.number().nullable(),
  uptimeS: z.number().nullable().describe("How long Picket has run there (its longest-running live service)."),
  temperatureC: z.number().nullable(),
  camera: z.object({ fps: z.number(), kbps: z.number(), frameAgeMs: z.number().nullable() }).nullable(),
  versions: z.record(z.string(), z.string()),
  services: z.record(z.string(), ServiceView),
  armed: z.object({ mode: z.enum(["armed", "disarmed", "scheduled"]), armedNow: z.boolean() }),
  snoozedUntil: z.number().nullable().describe("Alerts are held back until then, ms since epoch."),
});
export const DeviceListAnswer = z.object({ self: z.string(), devices: z.array(DeviceAnswer) });

/** `GET /api/devices/:id/settings`. */
export const DeviceSettingsAnswer = z.object({
  arming: ArmingSetting,
  snooze: Snooze.nullable(),
  motion: MotionSettings,
  detection: DetectionSettings,
  presets: QualityPresets.nullable(),
  presetsSource: z.enum(["settings", "camera"]).optional().describe("Where the presets come from: stored settings, or the camera's own configuration."),
  presetsError: z.string().optional().describe("Why there are no presets: the camera did not answer."),
});

export const SnoozeAnswer = z.object({ until: z.number().nullable() });
export const PairingCodeAnswer = z.object({ code: z.string(), expiresAt: z.number() });
export const ChatsAnswer = z.object({
  chats: z.array(z.object({ id: z.number(), type: z.string(), title: z.string(), pairedAt: z.number(), pairedBy: z.string(), source: z.enum(["config", "code"]) })),
});
