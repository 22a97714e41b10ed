import { hostname } from "node:os";
import { z } from "zod";
import { commonConfig, env, publicUrlEntry, opsPortEntry, roleEntry, timeZoneEntry, type ConfigSpec } from "@picket/runtime";
import { parseChatList } from "./chat-guard.js";
import { isValidSecretToken } from "./webhook.js";

/** A bot token as @BotFather hands it out: `<bot id>:<35 characters>`. */
const TOKEN_PATTERN = /^\d{3,20}:[A-Za-z0-9_-]{30,64}$/;

/** The bot service's settings; nothing else reads `process.env`. */
export const botConfig = {
  ...commonConfig,
  telegramToken: {
    env: "PICKET_TELEGRAM_TOKEN",
    schema: z.string().regex(TOKEN_PATTERN, "must be a bot token from @BotFather (123456789:AA…)").optional(),
    secret: true,
    doc: "The Telegram bot token. Without it the bot service stays up and does nothing.",
  },
  apiRoot: {
    env: "PICKET_TELEGRAM_API_ROOT",
    schema: env.url("https://api.telegram.org", ["http:", "https:"]),
    doc: "The Bot API server: api.telegram.org, a self-hosted telegram-bot-api, or a test double.",
  },
  chats: {
    env: "PICKET_TELEGRAM_CHATS",
    schema: env.parsed("", parseChatList),
    doc: "Comma-separated chat ids paired at start, besides those paired with a code (npm run bot -- pair); groups are negative. Messages from other chats are ignored and their id logged.",
    defaultDoc: "none",
  },
  role: roleEntry,
  timeZone: timeZoneEntry,
  uploadTimeoutMs: {
    env: "PICKET_TELEGRAM_UPLOAD_TIMEOUT_MS",
    schema: env.int(60_000, 1_000, 600_000),
    doc: "How long one photo upload or message may take before it counts as failed and is retried, ms.",
  },
  webhookUrl: {
    env: "PICKET_TELEGRAM_WEBHOOK_URL",
    schema: z
      .string()
      .refine((v) => URL.canParse(v) && new URL(v).protocol === "https:", "must be an https URL (Telegram calls only https webhooks)")
      .optional(),
    doc: "Webhook mode instead of long polling: the public https address that reaches PICKET_TELEGRAM_WEBHOOK_PORT (a reverse proxy that serves it under a path prefix strips the prefix). Needs PICKET_TELEGRAM_WEBHOOK_SECRET.",
    defaultDoc: "none: long polling",
  },
  webhookSecret: {
    env: "PICKET_TELEGRAM_WEBHOOK_SECRET",
    schema: z.string().refine(isValidSecretToken, "must be 16–256 characters of A-Z a-z 0-9 _ -").optional(),
    secret: true,
    doc: "Webhook mode: the secret Telegram sends with every update; updates without it are refused.",
  },
  webhookPort: {
    env: "PICKET_TELEGRAM_WEBHOOK_PORT",
    schema: env.port(8443),
    doc: "Webhook mode: the port the bot listens on for Telegram's updates.",
  },
  liveUrl: publicUrlEntry,
  replica: {
    env: "PICKET_BOT_REPLICA",
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1–64 of A–Z a–z 0–9 _ . -")
      .optional()
      .transform((v) => v ?? `${hostname().replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 50) || "bot"}-${process.pid}`),
    doc: "This bot replica's name for the lease that lets one replica at a time talk to Telegram (several bot replicas on a hub). Each replica needs its own.",
    defaultDoc: "the host name and process id",
  },
  leaseMs: {
    env: "PICKET_BOT_LEASE_MS",
    schema: env.int(6_000, 1_500, 120_000),
    doc: "How long the lease of a replica that died (or lost the bus) holds before another bot replica takes over, ms.",
  },
  opsPort: opsPortEntry("bot", 9103),
} satisfies ConfigSpec;

/** Settings that need each other. */
export function checkBotConfig(cfg: { webhookUrl?: string | undefined; webhookSecret?: string | undefined }): string[] {
  if (cfg.webhookUrl !== undefined && cfg.webhookSecret === undefined) {
    return ["PICKET_TELEGRAM_WEBHOOK_URL needs PICKET_TELEGRAM_WEBHOOK_SECRET (16+ characters of A-Z a-z 0-9 _ -); unset the URL for long polling"];
  }
  return [];
}
