import { z } from "zod";

/** A bus payload that could not be decoded; `reason` is safe to log. */
export class DecodeError extends Error {
  override readonly name = "DecodeError";
  constructor(
    readonly subject: string,
    readonly reason: string,
  ) {
    super(`bad payload on ${subject}: ${reason}`);
  }
}

export function isDecodeError(err: unknown): err is DecodeError {
  return err instanceof DecodeError;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Formats zod issues as `path: message; …`, short enough for one log line. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}

/**
 * Decodes a JSON payload and validates it against `schema`.
 * Throws DecodeError for invalid UTF-8, invalid JSON or a schema mismatch; never anything else.
 */
export function decodeJson<S extends z.ZodType>(schema: S, data: Uint8Array, subject: string): z.output<S> {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    throw new DecodeError(subject, "payload is not UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DecodeError(subject, "payload is not JSON");
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new DecodeError(subject, formatIssues(result.error));
  return result.data;
}

export function encodeJson<S extends z.ZodType>(schema: S, value: z.input<S>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(schema.parse(value)));
}
