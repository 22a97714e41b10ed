import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { subjects } from "@picket/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { QUICK_PRESENCE, TOKEN } from "../support/bot.js";
import { testBus } from "../support/bus.js";
import { LiveViewer, lastAlertOf, ledger, now, presenceOver, raised, restartService, sleep, storedPresence, waitForDelivery } from "../support/faults.js";
import { freePort } from "../support/ports.js";
import { recordReliability } from "../support/reliability.js";
import type { ServiceProcess } from "../support/services.js";
import { startStack, type Cleanups, type ServiceName } from "../support/stack.js";
import { startTelegramApi } from "../support/telegram-api.js";
import { login, type WebSession } from "../support/web-session.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Two paired private chats (a group is paced to 20 messages a minute, which would only measure the pacing). */
const CHATS = ["111", "333"];
/** A new presence event each pulse (see broker-outage.test.ts). */
const PULSE_EVERY_MS = 2_500;
const ORDER: ServiceName[] = ["camera", "pir", "bot", "stream", "web"];

describe("SIGKILL of each service in turn under load", () => {
  it("loses no presence event and sends no alert twice: each killed service is started again and catches up", async () => {
    const api = await startTelegramApi(TOKEN);
    cleanups.push(() => api.close());
    const outboxDir = mkdtempSync(join(tmpdir(), "picket-outbox-"));
    cleanups.push(async () => rmSync(outboxDir, { recursive: true, force: true }));
    const [httpPort, streamPort] = [await freePort(), await freePort()];
    const env: Record<string, string> = {
      ...QUICK_PRESENCE,
      PICKET_TELEGRAM_TOKEN: TOKEN,
      PICKET_TELEGRAM_API_ROOT: api.url,
      PICKET_TELEGRAM_CHATS: CHATS.join(","),
      PICKET_HTTP_PORT: String(httpPort),
      PICKET_HTTP_HOST: "127.0.0.1",
      PICKET_STREAM_PORT: String(streamPort),
      PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}`,
      PICKET_OUTBOX_DIR: outboxDir,
      // A lighter camera on 2 cores: presence is the PIR's alone here.
      PICKET_CAMERA_WIDTH: "640",
      PICKET_CAMERA_HEIGHT: "360",
      PICKET_CAMERA_FPS: "10",
      PICKET_MOTION_FPS: "0",
      PICKET_CLIP_PRE_S: "1",
      PICKET_CLIP_POST_S: "1",
    };
    const stack = await startStack({ services: ORDER, env });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    const device = stack.device;
    const web = `http://127.0.0.1:${httpPort}`;
    let session: WebSession = await login(web);
    const viewer = new LiveViewer(`${web.replace("http", "ws")}/api/live/${device}/high`, () => session.wsHeaders(), async () => {
      session = await login(web);
    }).start();
    cleanups.push(async () => viewer.close());

    // The PIR sees someone every 2.5 s (over the bus: lost while the pir service is down, as a real pin's edges would be).
    const pulses = setInterval(() => nc.publish(subjects.pirInject(device), JSON.stringify({ pulseMs: 300 })), PULSE_EVERY_MS);
    cleanups.push(async () => clearInterval(pulses));
    const pirs: ServiceProcess[] = [stack.get("pir")];
    const bots: ServiceProcess[] = [stack.get("bot")];
    await viewer.frameAfter(0);
    await waitForDelivery({ nc, device, pirs: () => pirs, double: api, chats: CHATS, timeoutMs: 60_000 });

    const figures: Record<string, { backMs: number; caughtUpMs: number; events: number }> = {};
    for (const name of ORDER) {
      const victim = stack.get(name);
      const before = raised(pirs).length;
      const killed = now();
      victim.signal("SIGKILL");
      expect((await victim.exited).signal, name).toBe("SIGKILL");
      const again = await restartService(stack, name, env, 60_000);
      if (name === "pir") pirs.push(again);
      if (name === "bot") bots.push(again);
      const ready = now();
      const owed = raised(pirs).map((e) => e.id);
      // Load goes on: a few more events with the service back.
      await sleep(2 * PULSE_EVERY_MS);
      await waitForDelivery({ nc, device, pirs: () => pirs, double: api, chats: CHATS, timeoutMs: 90_000 });
      const frame = await viewer.frameAfter(ready, 60_000);
      // Caught up: running again, every alert owed at that moment delivered, the viewer watching again.
      const owedAlerts = lastAlertOf(api, (await storedPresence(nc, device)).filter((e) => e.state === "started" && owed.includes(e.id)));
      figures[name] = { backMs: Math.round(ready - killed), caughtUpMs: Math.round(Math.max(ready, owedAlerts, frame) - killed), events: raised(pirs).length - before };
      expect(again.logs.some((l) => l.level === "fatal"), name).toBe(false);
    }

    clearInterval(pulses);
    await presenceOver(() => pirs);
    await waitForDelivery({ nc, device, pirs: () => pirs, double: api, chats: CHATS, timeoutMs: 90_000 });
    const l = await ledger(nc, device, pirs, api, CHATS);
    const missing = Object.values(l.alertsMissing).reduce((n, m) => n + m.length, 0);
    for (const name of ORDER) {
      const f = figures[name] as (typeof figures)[string];
      recordReliability(`service-kill-${name}`, {
        kind: "fault",
        fault: `SIGKILL of the ${name} service under load (PIR every ${PULSE_EVERY_MS / 1000} s, a live viewer, a bot with ${CHATS.length} chats), started again at once`,
        recoveryMs: f.caughtUpMs,
        measured: "kill → service ready again, every alert owed at that moment delivered in every chat, the viewer getting video again",
        eventsLost: l.lost.length + missing,
        alertsDuplicated: l.alertsDuplicated + l.storedTwice.length,
        events: f.events,
        notes: `back (ready) ${(f.backMs / 1000).toFixed(1)} s after the kill; figures for loss and duplicates are the whole run's (${l.raised.length} events)`,
      });
    }
    expect(l.lost).toEqual([]);
    expect(l.storedTwice).toEqual([]);
    expect(l.inOrder).toBe(true);
    expect(l.alertsMissing).toEqual(Object.fromEntries(CHATS.map((c) => [c, []])));
    expect(l.alertsDuplicated).toBe(0);
    expect(l.alertsInOrder).toBe(true);
    // A killed bot leaves alerts to its successor: redelivery, not loss.
    expect(viewer.connects).toBeGreaterThan(1);
  }, 600_000);
});
