// Alert backlog: the household's uplink is down for 60 s while 200 alerts happen (evenly spread
// over the outage); then it comes back. Through the real camera and bot services, nats-server
// with JetStream, and the Telegram Bot API double enforcing Telegram's flood control (1 message
// a second to a chat, a burst of 2), it measures how long the bot takes to drain the backlog
// into one private chat, and checks that every alert arrives exactly once, in event order,
// without one send faster than Telegram allows. Exits non-zero when that check fails.
// Run: node --import tsx bench/alert-backlog.ts
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { PresenceEvent, subjects } from "@picket/contracts";
import { connectBus, createLogger, jetstream, type NatsConnection } from "@picket/runtime";
import { startStack } from "../test/support/stack.js";
import { startTelegramApi, type ApiCall, type OutageMode } from "../test/support/telegram-api.js";
import { memory } from "./lib/proc.js";
import { report } from "./lib/result.js";

const TOKEN = "123456789:AAEhBOweik9ai2o4qhPqzMhRnWEyMOvEjXk";
/** One private chat. A group is paced at Telegram's 20 messages a minute: 200 alerts would take 10 min there. */
const CHAT = "111";
const ALERTS = 200;
const OUTAGE_MS = 60_000;
/** How requests fare while the uplink is down: "reset" (connection refused/reset, as the fault test), "hang" or "500". */
const OUTAGE_MODE = (process.env.PICKET_BENCH_OUTAGE_MODE ?? "reset") as OutageMode;
/** Alert i happened at T0 + i s: its caption shows that moment (HH:MM:SS, UTC), so each message names its alert. */
const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
/** Far more than the ~200 s a 1/s chat needs, with room for the retry backoff after the outage. */
const DRAIN_TIMEOUT_MS = 10 * 60_000;
/** After the last alert arrived: time for a late duplicate to show up. */
const SETTLE_MS = 5_000;
const RSS_EVERY_MS = 500;
const TARGET = `all ${ALERTS} delivered exactly once, in order, with 0 rate-limit violations`;

const wallMs = () => performance.timeOrigin + performance.now();
const r1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Stores a presence alert in the events stream as the pir service does, with a chosen id and
 * moment: test/support/bot.ts's storeAlert, which cannot be imported outside vitest (that
 * module imports vitest's `expect`).
 */
async function storeAlert(nc: NatsConnection, device: string, id: string, at: number): Promise<void> {
  const event: PresenceEvent = { id, kind: "presence", state: "started", device, at, triggers: ["pir"], test: false };
  await jetstream(nc).publish(subjects.event(device, "presence"), JSON.stringify(PresenceEvent.parse(event)));
}

/** The alert number a message names by its caption's moment (photo caption, or the text sent when there was no photo). */
function alertOf(call: ApiCall): number | undefined {
  const text = String(call.params.caption ?? call.params.text ?? "");
  const m = /\b(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\b/.exec(text);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const n = (Date.UTC(y, mo - 1, d, h, mi, s) - T0) / 1000;
  return Number.isInteger(n) && n >= 0 && n < ALERTS ? n : undefined;
}

/** The alert messages `chat` got (answered 200), in the order the API received them. */
function delivered(double: Awaited<ReturnType<typeof startTelegramApi>>, chat: string): { n: number; at: number; photo: boolean }[] {
  return double
    .calls()
    .filter((c) => (c.method === "sendPhoto" || c.method === "sendMessage") && c.chatId === chat && c.status === 200)
    .flatMap((c) => {
      const n = alertOf(c);
      return n === undefined ? [] : [{ n, at: c.receivedAt, photo: c.method === "sendPhoto" }];
    });
}

const double = await startTelegramApi(TOKEN);
const stack = await startStack({
  services: ["camera", "bot"],
  env: { PICKET_TELEGRAM_TOKEN: TOKEN, PICKET_TELEGRAM_API_ROOT: double.url, PICKET_TELEGRAM_CHATS: CHAT, PICKET_TZ: "UTC" },
});
const nc = await connectBus({ url: stack.nats.url, name: "bench-alert-backlog", log: createLogger({ service: "bench", device: stack.device, level: "silent" }) });
const bot = stack.get("bot");
const botPid = bot.pid;
let botExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
void bot.exited.then((e) => (botExit = e));

const rss: { t: number; mb: number }[] = [];
let rssBefore: number | undefined;
let sampler: NodeJS.Timeout | undefined;
let outageStart = 0;
let outageEnd = 0;
let storeSpanMs = 0;
let failure: string | undefined;
let services: Record<string, { code: number | null; ms: number }> = {};
try {
  // Telegram answers 429 to a chat sent to faster than about once a second (a little burst goes).
  double.enforceRateLimits({ burst: 2 });
  // One alert before, outside the numbered ones, so the bot is warm and its first send is behind it.
  await storeAlert(nc, stack.device, "backlog-warmup", T0 - 3_600_000);
  await double.waitForCalls("sendPhoto", 1, 20_000, (c) => c.chatId === CHAT && c.status === 200);
  await sleep(2_000);
  if (botPid === undefined) throw new Error("the bot has no pid");
  rssBefore = memory(botPid)?.rssMB;
  sampler = setInterval(() => {
    const m = memory(botPid);
    if (m !== undefined) rss.push({ t: wallMs(), mb: m.rssMB });
  }, RSS_EVERY_MS);

  // The uplink goes down; 200 alerts happen over the next 60 s, one every 300 ms.
  outageStart = wallMs();
  double.outage(OUTAGE_MS, OUTAGE_MODE);
  for (let i = 0; i < ALERTS; i++) {
    const due = outageStart + (i * OUTAGE_MS) / ALERTS;
    const wait = due - wallMs();
    if (wait > 0) await sleep(wait);
    await storeAlert(nc, stack.device, `backlog-${String(i).padStart(3, "0")}`, T0 + i * 1_000);
  }
  storeSpanMs = wallMs() - outageStart;
  while (double.inOutage) await sleep(10);
  outageEnd = wallMs();
  console.log(`outage over after ${r1((outageEnd - outageStart) / 1000)} s (${ALERTS} alerts stored in ${r1(storeSpanMs / 1000)} s); draining into chat ${CHAT}…`);

  // Drained: every alert has reached the chat.
  const deadline = outageEnd + DRAIN_TIMEOUT_MS;
  let lastProgress = 0;
  for (;;) {
    const got = new Set(delivered(double, CHAT).map((d) => d.n));
    if (got.size >= ALERTS) break;
    if (botExit !== undefined) throw new Error(`the bot exited (${JSON.stringify(botExit)}) with ${got.size}/${ALERTS} alerts delivered`);
    if (wallMs() > deadline) throw new Error(`only ${got.size}/${ALERTS} alerts reached chat ${CHAT} within ${DRAIN_TIMEOUT_MS / 1000} s of the outage's end`);
    if (wallMs() - lastProgress > 30_000) {
      lastProgress = wallMs();
      console.log(`  ${r1((wallMs() - outageEnd) / 1000)} s after the outage: ${got.size}/${ALERTS} delivered`);
    }
    await sleep(100);
  }
  // Every alert acked by the bot (it logs "alert delivered" before the ack), then a moment for a late duplicate.
  const ackDeadline = wallMs() + 30_000;
  const acked = () => new Set(bot.logs.filter((l) => l.msg === "alert delivered" && /^backlog-\d+$/.test(String(l.eventId))).map((l) => l.eventId)).size;
  while (acked() < ALERTS) {
    if (wallMs() > ackDeadline) throw new Error("the bot did not log every alert as delivered");
    await sleep(100);
  }
  await sleep(SETTLE_MS);
} catch (err) {
  failure = (err as Error).message;
  console.error(`alert-backlog: ${failure}`);
} finally {
  if (sampler !== undefined) clearInterval(sampler);
  await nc.close();
  services = await stack.stop();
  await double.close();
  const bad = Object.entries(services).filter(([, c]) => c.code !== 0);
  if (bad.length > 0) console.error(`services exited badly: ${JSON.stringify(services)}`);
}

// What the chat got, in the order Telegram received it.
const got = delivered(double, CHAT);
const order = got.map((d) => d.n);
const counts = new Map<number, number>();
for (const n of order) counts.set(n, (counts.get(n) ?? 0) + 1);
const missing = Array.from({ length: ALERTS }, (_, i) => i).filter((i) => !counts.has(i));
const duplicates = [...counts].filter(([, c]) => c > 1).map(([n, c]) => ({ alert: n, times: c }));
const outOfOrder = order.flatMap((n, i) => (i > 0 && n < (order[i - 1] as number) ? [{ position: i, alert: n, after: order[i - 1] }] : []));
const violations = double.rateViolations();
const sends = double.calls().filter((c) => c.method === "sendPhoto" || c.method === "sendMessage");
const after = (c: ApiCall) => c.receivedAt >= outageStart;
const tooMany = sends.filter((c) => c.status === 429 && after(c)).length;
const noAnswer = sends.filter((c) => c.status === 0 && after(c)).length;
const last = got.length === 0 ? Number.NaN : Math.max(...got.map((d) => d.at));
const first = got.length === 0 ? Number.NaN : Math.min(...got.map((d) => d.at));
const drainS = (last - outageEnd) / 1000;
const peak = rss.reduce<{ t: number; mb: number } | undefined>((a, b) => (a === undefined || b.mb > a.mb ? b : a), undefined) ?? { t: Number.NaN, mb: Number.NaN };
/** When the bot tried to send while the uplink was down (s from the outage's start), and its first try after. */
const triesInOutage = sends.filter((c) => c.receivedAt >= outageStart && c.receivedAt < outageEnd).map((c) => r1((c.receivedAt - outageStart) / 1000));
const firstTry = sends.find((c) => c.receivedAt >= outageEnd);
const gaps = got.slice(1).map((d, i) => d.at - (got[i] as { at: number }).at);
const sortedGaps = [...gaps].sort((a, b) => a - b);
const exactlyOnceInOrder = failure === undefined && missing.length === 0 && duplicates.length === 0 && outOfOrder.length === 0 && order.length === ALERTS;
const met = exactlyOnceInOrder && violations.length === 0;

console.log(
  `alert-backlog: ${ALERTS} alerts after a ${OUTAGE_MS / 1000} s outage drained into private chat ${CHAT} in ${r1(drainS)} s ` +
    `(${Math.round((ALERTS / drainS) * 100) / 100} alerts/s; first ${r1((first - outageEnd) / 1000)} s after the uplink came back); ` +
    `${new Set(order).size}/${ALERTS} delivered, ${missing.length} missing, ${duplicates.length} duplicated, ${outOfOrder.length} out of order; ` +
    `${violations.length} rate violations, ${tooMany} × 429; bot RSS peak ${peak.mb} MB (${rssBefore ?? "?"} MB before)`,
);
report({
  name: "alert-backlog",
  value: Math.round(drainS * 10) / 10,
  unit: "s",
  target: TARGET,
  met,
  samples: ALERTS,
  details: {
    scenario: `the uplink is down for ${OUTAGE_MS / 1000} s (Bot API double: every request ${OUTAGE_MODE === "reset" ? "reset" : OUTAGE_MODE === "hang" ? "left hanging until the outage ends" : "answered 500"}) while ${ALERTS} presence alerts are stored, one every ${OUTAGE_MS / ALERTS} ms; then it comes back`,
    path: "alert stored in the JetStream events stream → bot's durable consumer → photo from the camera → per-chat queue paced at Telegram's limits → sendPhoto received by the Bot API double (flood control enforced: 1/s per chat, burst 2)",
    ...(failure === undefined ? {} : { failure }),
    drainByChat: { [CHAT]: { chat: "private", drainS: r1(drainS), alertsPerS: Math.round((ALERTS / drainS) * 1000) / 1000 } },
    group: `not measured: a group is paced at Telegram's 20 messages a minute, so ${ALERTS} alerts would take at least ${ALERTS / 20} min to drain there (the bot's pacer and the double both apply 20/min)`,
    drainS: r1(drainS),
    alertsPerS: Math.round((ALERTS / drainS) * 1000) / 1000,
    firstAfterOutageS: r1((first - outageEnd) / 1000),
    sendTriesDuringOutageAtS: triesInOutage,
    firstTryAfterOutageS: firstTry === undefined ? undefined : r1((firstTry.receivedAt - outageEnd) / 1000),
    why: "the chat's queue retries its oldest alert with a backoff of 1 s doubling to 60 s (50 % jitter), so after a 60 s outage the first try can come up to a minute after the uplink is back; then one alert a second",
    steadyAlertsPerS: Math.round(((got.length - 1) / ((last - first) / 1000)) * 1000) / 1000,
    gapMs: { p50: r1(sortedGaps[Math.floor(sortedGaps.length / 2)] ?? Number.NaN), min: r1(sortedGaps[0] ?? Number.NaN), max: r1(sortedGaps.at(-1) ?? Number.NaN) },
    outageMs: Math.round(outageEnd - outageStart),
    storedOverMs: Math.round(storeSpanMs),
    delivered: new Set(order).size,
    messages: order.length,
    photos: got.filter((d) => d.photo).length,
    texts: got.filter((d) => !d.photo).length,
    missing,
    duplicates,
    outOfOrder: outOfOrder.slice(0, 20),
    inOrder: outOfOrder.length === 0,
    rateViolations: violations.length,
    ...(violations.length === 0 ? {} : { firstViolations: violations.slice(0, 10) }),
    http429: tooMany,
    unansweredSends: noAnswer,
    botRssMB: { before: rssBefore, peak: peak.mb, peakAtS: r1((peak.t - outageStart) / 1000), samples: rss.length, everyMs: RSS_EVERY_MS, from: "VmRSS of the bot process, sampled from the outage's start until the stack is stopped; peakAtS from the outage's start" },
    services,
  },
});
if (!met) process.exitCode = 1;
