import { DEVICE_ID_PATTERN } from "@picket/contracts";
import { z } from "zod";

/** A zod schema as the JSON schema a Fastify route (and the OpenAPI docs) take. */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: "draft-7", io: "input" }) as Record<string, unknown>;
  return rest;
}

/** Parses a body with its zod contract; a failure is `"<field>: <message>"` for a 400. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): { ok: true; data: T } | { ok: false; error: string } {
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, data: r.data };
  const issue = r.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? "body" : issue.path.join(".");
  return { ok: false, error: `${field}: ${issue?.message ?? "invalid"}` };
}

/** Every error answer of the web's API: `{ "error": "<what to do>" }`. */
export const errorBody = { type: "object", required: ["error"], properties: { error: { type: "string" } } } as const;

/** `:id` of a device in a route's path. */
export const deviceParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", pattern: DEVICE_ID_PATTERN.source } },
} as const;

export const userBody = {
  type: "object",
  required: ["name", "role"],
  properties: { name: { type: "string" }, role: { type: "string", enum: ["admin", "viewer"] } },
} as const;

/** Whether a method changes nothing (no CSRF token needed). */
export function isSafeMethod(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS";
}
