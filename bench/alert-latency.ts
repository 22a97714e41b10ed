// Alert latency: from a PIR pulse published on the bus to the alert photo fully received by
// the Telegram Bot API (a local HTTP double), through the real pir, camera and bot services,
// nats-server with JetStream, and ffmpeg. Run: node --import tsx bench/alert-latency.ts
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { subjects } from "@picket/contracts";
import { connectBus, createLogger } from "@picket/runtime";
import { startStack } from "../test/support/stack.js";
import { startTelegramApi } from "../test/support/telegram-api.js";
import { reportLatency } from "./lib/result.js";
import { ONE_VISIT_PER_PULSE } from "./lib/presence-env.js";

const TOKEN = "123456789:AAEhBOweik9ai2o4qhPqzMhRnWEyMOvEjXk";
const CHAT = "111";
const WARMUP = 3;
const SAMPLES = 40;
/** Pause after the previous presence ended, before the next pulse. */
const SPACING_MS = 200;
const TARGET_P95_MS = 100;

const wallMs = () => performance.timeOrigin + performance.now();

const double = await startTelegramApi(TOKEN);
const stack = await startStack({
  services: ["camera", "pir", "bot"],
  env: { PICKET_TELEGRAM_TOKEN: TOKEN, PICKET_TELEGRAM_API_ROOT: double.url, PICKET_TELEGRAM_CHATS: CHAT,
    ...ONE_VISIT_PER_PULSE,
  },
});
const nc = await connectBus({ url: stack.nats.url, name: "bench-alert-latency", log: createLogger({ service: "bench", device: stack.device, level: "silent" }) });

// Each alarm is a new visit: the previous presence has ended (its `ended` event is stored).
let ended = 0;
let onEnded: (() => void) | undefined;
nc.subscribe(subjects.event(stack.device, "presence"), {
  callback: (_err, m) => {
    if ((m.json() as { state?: string }).state !== "ended") return;
    ended++;
    onEnded?.();
  },
});
const visitOver = (n: number) =>
  new Promise<void>((resolve) => {
    onEnded = () => ended >= n && resolve();
    onEnded();
  });

const latencies: number[] = [];
const warmup: number[] = [];
try {
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const before = double.calls("sendPhoto").length;
    const arrived = double.waitForCalls("sendPhoto", before + 1, 15_000, (c) => c.chatId === CHAT && c.status === 200);
    const t0 = wallMs();
    nc.publish(subjects.pirInject(stack.device), JSON.stringify({ pulseMs: 100 }));
    const calls = await arrived;
    const ms = (calls[before]?.receivedAt ?? Number.NaN) - t0;
    (i < WARMUP ? warmup : latencies).push(ms);
    await visitOver(i + 1);
    await sleep(SPACING_MS);
  }
} finally {
  await nc.close();
  const codes = await stack.stop();
  await double.close();
  const bad = Object.entries(codes).filter(([, c]) => c.code !== 0);
  if (bad.length > 0) console.error(`services exited badly: ${JSON.stringify(codes)}`);
}

const round = (n: number) => Math.round(n * 10) / 10;
reportLatency("alert-latency", latencies, TARGET_P95_MS, {
  warmup: warmup.map(round),
  path: "PIR pulse published → pir (sim driver, leading-edge debounce, presence engine in pir mode) → JetStream event → camera stores the trigger frame / bot durable consumer reads it → sendPhoto fully received",
  spacingMs: SPACING_MS,
  photoBytes: double.calls("sendPhoto").at(-1)?.files.photo?.length,
});
