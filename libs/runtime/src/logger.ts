import { pino, type Logger, type LoggerOptions, type DestinationStream } from "pino";

export type { Logger } from "pino";

/** Paths that are never logged: tokens, passwords, credentials, wherever they nest. */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "password",
  "*.password",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "config.telegramToken",
];

/**
 * Replaces anything shaped like a Telegram bot token (`123456:ABC…`) in a string, also inside
 * a Bot API URL (`/bot123456:ABC…/getMe`), where no word boundary precedes the digits.
 */
export function scrubSecrets(text: string): string {
  return text.replace(/(?<!\d)\d{5,12}:[A-Za-z0-9_-]{30,}/g, "<redacted-token>");
}

/** The root logger of a service: JSON lines on stdout, secrets redacted, base fields service and device. */
export function createLogger(
  opts: { service: string; device: string; level: string },
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level: opts.level,
    base: { service: opts.service, device: opts.device },
    redact: { paths: REDACT_PATHS, censor: "<redacted>" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      // Error messages from libraries may embed URLs with the bot token in them.
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === "string" ? scrubSecrets(a) : a)) as Parameters<typeof method>;
        method.apply(this, scrubbed);
      },
    },
    serializers: {
      err: (err: unknown) => {
        const s = pino.stdSerializers.err(err as Error);
        return { ...s, message: scrubSecrets(s.message ?? ""), stack: scrubSecrets(s.stack ?? "") };
      },
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
