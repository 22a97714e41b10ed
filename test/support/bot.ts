import { PresenceEvent, subjects } from "@picket/contracts";
import { connectBus, createLogger, jetstream, type NatsConnection } from "@picket/runtime";
import { expect } from "vitest";
import { waitFor } from "./ports.js";
import { ServiceProcess, baseEnv } from "./services.js";
import { startStack, type Cleanups, type ServiceName, type Stack } from "./stack.js";
import { startTelegramApi, type ApiCall, type TelegramApiDouble } from "./telegram-api.js";

/** Shaped like a real token (bot id, colon, 35 characters) so the logger's scrubbing is really tested. */
export const TOKEN = "123456789:AAEhBOweik9ai2o4qhPqzMhRnWEyMOvEjXk";
export const SECRET_PART = TOKEN.split(":")[1] as string;
/** The chats pre-paired by PICKET_TELEGRAM_CHATS: a private chat and a group. */
export const ALLOWED = ["111", "-222"];

export type { Cleanups } from "./stack.js";

export interface BotStack {
  stack: Stack;
  double: TelegramApiDouble;
  nc: NatsConnection;
  bot: ServiceProcess;
  /** The environment the services run with (to start the bot again). */
  env: Record<string, string>;
}

/** PIR-only presence with short gaps, so a test can raise one alert per pulse quickly. */
export const QUICK_PRESENCE: Record<string, string> = {
  PICKET_PRESENCE_MODE: "pir",
  PICKET_PRESENCE_COOLDOWN_MS: "0",
  PICKET_PRESENCE_GAP_MS: "1000",
  PICKET_PIR_HOLD_S: "1",
  PICKET_PIR_BLOCK_MS: "0",
  PICKET_TZ: "UTC",
};

const pirLevels = new Map<string, 0 | 1>();

/** A Bot API double, nats and the services (camera, pir, bot by default), torn down by `cleanups`. */
export async function startBotStack(cleanups: Cleanups, opts: { token?: string; services?: ServiceName[]; env?: Record<string, string> } = {}): Promise<BotStack> {
  const double = await startTelegramApi(TOKEN);
  cleanups.push(() => double.close());
  const env: Record<string, string> = { PICKET_TELEGRAM_API_ROOT: double.url, PICKET_TELEGRAM_CHATS: ALLOWED.join(","), ...QUICK_PRESENCE, ...opts.env };
  if (opts.token !== undefined) env.PICKET_TELEGRAM_TOKEN = opts.token;
  const stack = await startStack({ services: opts.services ?? ["camera", "pir", "bot"], env });
  // Stopping twice is harmless, so a test may stop the stack itself to check exit codes.
  cleanups.push(() => stack.stop());
  const nc = await connectBus({ url: stack.nats.url, name: "bot-test", log: createLogger({ service: "test", device: stack.device, level: "silent" }) });
  cleanups.push(() => nc.close());
  nc.subscribe(subjects.pirEdge(stack.device), { callback: (_e, m) => pirLevels.set(stack.device, (m.json() as { level: 0 | 1 }).level) });
  return { stack, double, nc, bot: stack.get("bot"), env: { ...baseEnv(stack.nats.url, stack.device), ...env } };
}

/**
 * One PIR pulse through the simulated driver, as a new visit: it waits for the previous
 * presence (if any) to end first. Resolves when the pir service took the pulse.
 */
export async function pulse(nc: NatsConnection, stack: Stack, ms = 300): Promise<void> {
  const pir = stack.get("pir");
  // The emulated sensor's output must have fallen, or the pulse would be no new rise.
  await waitFor("the PIR output to fall", () => pirLevels.get(stack.device) !== 1 || undefined, 15_000);
  const count = (msg: string) => pir.logs.filter((l) => l.msg === msg).length;
  await waitFor("the previous presence to end", () => count("presence ended") >= count("presence started") || undefined, 15_000);
  await nc.request(subjects.pirInject(stack.device), JSON.stringify({ pulseMs: ms }), { timeout: 5_000 });
}

/**
 * Stores a presence alert in the events stream as the pir service does, with a chosen id and
 * moment (captions show the moment to the second, so a test can tell alerts apart).
 */
export async function storeAlert(nc: NatsConnection, device: string, id: string, at: number): Promise<void> {
  const event: PresenceEvent = { id, kind: "presence", state: "started", device, at, triggers: ["pir"], test: false };
  await jetstream(nc).publish(subjects.event(device, "presence"), JSON.stringify(PresenceEvent.parse(event)));
}

export const ok = (c: ApiCall) => c.status === 200;

export async function opsPort(bot: ServiceProcess): Promise<number> {
  const line = await bot.waitForMsg("serving /healthz and /metrics");
  return line.port as number;
}

export function expectNoSecret(bot: ServiceProcess): void {
  expect(bot.raw).not.toContain(TOKEN);
  expect(bot.raw).not.toContain(SECRET_PART);
}
