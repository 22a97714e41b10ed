// cold-start: from `compose up -d` of the whole device stack (docker-compose.yml's local
// variant, images already built, empty volumes: a first boot) to
//   - the first live frame decoded in Chromium through the web container (logged in), and
//   - ready for an alarm: every service the alarm path needs (camera, pir, bot, web; nats
//     under them) has said it is ready, taken from the time stamps of their own log lines.
// Each trial then raises a test alarm through the web API and times its photo's arrival at
// the Bot API double, to show "ready" meant it. Target: both <= 20 s; the headline is the
// worst trial's later of the two.
import { setTimeout as sleep } from "node:timers/promises";
import { TEST_LIVE_SECRET } from "../test/support/services.js";
import { freePort } from "../test/support/ports.js";
import { startTelegramApi } from "../test/support/telegram-api.js";
import { TEST_ADMIN_PASSWORD, login, type WebSession } from "../test/support/web-session.js";
import { READY_LOG, buildImages, composeStack, engineProblem, hostGatewayAddress, relay, stackEnv, type PicketService } from "../test/containers/compose-stack.js";
import { launchChromium, playerStats } from "./lib/browser.js";
import { report, summary } from "./lib/result.js";

const TRIALS = 3;
const TARGET_MS = 20_000;
const TOKEN = "987654321:AAFc01dSt4rtB3nchT0k3nXyZ1234567890";

const problem = await engineProblem();
if (problem !== undefined) {
  console.error(`cold-start: cannot run: ${problem} (bash scripts/docker/engine.sh as root makes an engine reachable)`);
  process.exit(1);
}
await buildImages();

interface Trial {
  firstFrameMs: number;
  readyForAlarmMs: number;
  /** Each alarm-path service's ready line, ms after `up` began. */
  readyMs: Partial<Record<PicketService, number>>;
  /** The first test alarm accepted by the web API (202) → its photo at the Bot API double. */
  alarmPhotoMs: number;
  /** `compose up -d` itself (creating the network, volumes and containers). */
  upCommandMs: number;
}

const api = await startTelegramApi(TOKEN);
const apiRelay = await relay(await hostGatewayAddress(), Number(new URL(api.url).port));
const browser = await launchChromium();
const trials: Trial[] = [];
const failures: string[] = [];

async function until<T>(what: string, deadline: number, check: () => Promise<T | undefined>, everyMs = 50): Promise<T> {
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`no ${what} within the trial's time`);
    await sleep(everyMs);
  }
}

try {
  for (let i = 0; i < TRIALS; i++) {
    const device = `cs-${i}-${Math.random().toString(36).slice(2, 6)}`;
    const stack = await composeStack({
      webPort: await freePort(),
      extraHosts: ["host.docker.internal:host-gateway"],
      env: stackEnv({ device, token: TOKEN, chat: "4242", apiRoot: `http://host.docker.internal:${apiRelay.port}`, liveSecret: TEST_LIVE_SECRET, adminPassword: TEST_ADMIN_PASSWORD }),
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const t0 = Date.now();
      const deadline = t0 + 90_000;
      const up = stack.compose("up", "-d").then(() => Date.now() - t0);
      const session: WebSession = await until("login", deadline, () => login(stack.web), 100);
      await session.addTo(context);
      const page = await context.newPage();
      await until("page", deadline, () => page.goto(stack.web).then(() => true), 100);
      await until("first frame", deadline, async () => (((await playerStats(page, device))?.decoded ?? 0) > 0 ? true : undefined), 25);
      const firstFrameMs = Date.now() - t0;
      const upCommandMs = await up;

      const readyMs: Partial<Record<PicketService, number>> = {};
      for (const name of ["camera", "pir", "bot", "web"] as const) {
        const line = await until(`${name} ready`, deadline, async () => (await stack.logs(name)).find((l) => READY_LOG[name].test(String(l.msg))), 200);
        readyMs[name] = Date.parse(String(line.time)) - t0;
      }
      const readyForAlarmMs = Math.max(...Object.values(readyMs));

      const photos = api.calls("sendPhoto").length;
      const res = await session.fetch(`/api/devices/${device}/test-alarm`, { method: "POST" });
      if (res.status !== 202) throw new Error(`test alarm answered ${res.status}`);
      const accepted = Date.now();
      await api.waitForCalls("sendPhoto", photos + 1, 30_000);
      trials.push({ firstFrameMs, readyForAlarmMs, readyMs, alarmPhotoMs: Date.now() - accepted, upCommandMs });
      console.log(`trial ${i + 1}: first frame ${firstFrameMs} ms, ready for an alarm ${readyForAlarmMs} ms (compose up -d returned after ${upCommandMs} ms)`);
    } catch (err) {
      failures.push(`trial ${i + 1}: ${(err as Error).message}`);
    } finally {
      await context.close();
      await stack.down();
    }
  }
} finally {
  await browser.close();
  await apiRelay.close();
  await api.close();
}

const worst = trials.length === 0 ? Number.NaN : Math.max(...trials.map((t) => Math.max(t.firstFrameMs, t.readyForAlarmMs)));
report({
  name: "cold-start",
  value: worst,
  unit: "ms",
  target: `first live frame and ready-for-alarm <= ${TARGET_MS} (every trial)`,
  met: failures.length === 0 && trials.length === TRIALS && worst <= TARGET_MS,
  samples: trials.length,
  details: {
    headline: "compose up -d (images built, empty volumes) → the later of: first live frame decoded in Chromium through the web container, and every alarm-path service ready; worst trial",
    firstFrameMs: summary(trials.map((t) => t.firstFrameMs)),
    readyForAlarmMs: summary(trials.map((t) => t.readyForAlarmMs)),
    alarmPhotoAfterReadyMs: summary(trials.map((t) => t.alarmPhotoMs)),
    upCommandMs: summary(trials.map((t) => t.upCommandMs)),
    trials,
    failures,
  },
});
process.exit(failures.length > 0 ? 1 : 0);
