import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseOutbox } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { TOKEN, startBotStack, type BotStack, type Cleanups } from "../support/bot.js";
import { PirPulser, killNats, ledger, now, presenceOver, lastAlertOf, raised, restartService, sleep, waitForDelivery, type Ledger } from "../support/faults.js";
import { waitFor } from "../support/ports.js";
import { recordReliability } from "../support/reliability.js";
import type { ServiceProcess } from "../support/services.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** One paired private chat: the bot paces a chat to about one message a second, a group to 20 a minute. */
const CHAT = "111";
/**
 * The sim PIR's shortest cycle with QUICK_PRESENCE is a 300 ms pulse, its 1 s hold and the 1 s
 * presence gap: a pulse every 2.5 s is a new presence event (started, then ended) each time.
 */
const PULSE_EVERY_MS = 2_500;

/** pir and bot (no camera: alerts go as text) with the sim PIR driven by SIGUSR2 and an outbox in a temporary dir. */
async function outageStack(): Promise<BotStack & { outboxDir: string }> {
  const outboxDir = mkdtempSync(join(tmpdir(), "picket-outbox-"));
  cleanups.push(async () => rmSync(outboxDir, { recursive: true, force: true }));
  const s = await startBotStack(cleanups, {
    token: TOKEN,
    services: ["pir", "bot"],
    env: { PICKET_TELEGRAM_CHATS: CHAT, PICKET_PIR_SIM_SIGNAL: "true", PICKET_OUTBOX_DIR: outboxDir },
  });
  return { ...s, outboxDir };
}

/** Asserts the end state every outage must leave: every raised event stored once, in order, and alerted once, in order. */
function expectNothingLostOrDoubled(l: Ledger): void {
  expect(l.lost).toEqual([]);
  expect(l.storedTwice).toEqual([]);
  expect(l.inOrder).toBe(true);
  expect(l.alertsMissing).toEqual({ [CHAT]: [] });
  expect(l.alertsDuplicated).toBe(0);
  expect(l.alertsInOrder).toBe(true);
  expect(l.stored.length).toBe(l.raised.length);
}

const started = (l: Ledger) => l.raised.filter((e) => e.state === "started").length;

describe("nats-server killed while the PIR fires", () => {
  for (const outageMs of [5_000, 60_000]) {
    it(`stores every presence event once and alerts each once, in order, after a ${outageMs / 1000} s broker outage`, async () => {
      const { stack, double, nc, bot } = await outageStack();
      const pir = stack.get("pir");
      const pulser = new PirPulser(() => pir, PULSE_EVERY_MS).start();
      cleanups.push(async () => pulser.stop());
      await double.waitForCalls("sendMessage", 2, 30_000);

      const raisedBefore = raised([pir]).length;
      await killNats(stack.nats);
      await sleep(outageMs);
      const raisedInOutage = raised([pir]).length - raisedBefore;
      await stack.nats.start();
      const back = now();
      // The PIR goes on firing a while with the bus back.
      await sleep(3 * PULSE_EVERY_MS);
      pulser.stop();
      await presenceOver(() => [pir]);
      await waitForDelivery({ nc, device: stack.device, pirs: () => [pir], double, chats: [CHAT], timeoutMs: 120_000 });
      const l = await ledger(nc, stack.device, [pir], double, [CHAT]);
      // Recovery: from the broker's return to the alert of the last event raised before it.
      const recoveryMs = lastAlertOf(double, l.stored.filter((e) => e.state === "started" && e.at < back)) - back;
      recordReliability(`broker-outage-${outageMs / 1000}s`, {
        kind: "fault",
        fault: `nats-server SIGKILLed for ${outageMs / 1000} s (restarted on the same store) while the PIR fires every ${PULSE_EVERY_MS / 1000} s`,
        recoveryMs,
        measured: "broker back → alert of the last event raised before it delivered",
        eventsLost: l.lost.length + (l.alertsMissing[CHAT]?.length ?? 0),
        alertsDuplicated: l.alertsDuplicated + l.storedTwice.length,
        events: l.raised.length,
        notes: `${raisedInOutage} events raised during the outage; ${started(l)} alerts`,
      });
      expect(bot.logs.some((l2) => l2.level === "fatal")).toBe(false);
      expectNothingLostOrDoubled(l);
      // Events were raised during the outage, not only around it.
      expect(raisedInOutage).toBeGreaterThan(0);
    }, 60_000 + outageMs * 2 + 120_000);
  }

  it("delivers the events of a pir SIGKILLed during the outage: its outbox is published when it starts again", async () => {
    const { stack, double, nc, env, outboxDir } = await outageStack();
    const first = stack.get("pir");
    let current: ServiceProcess | null = first;
    const pirs: ServiceProcess[] = [first];
    const pulser = new PirPulser(() => current, PULSE_EVERY_MS).start();
    cleanups.push(async () => pulser.stop());
    await double.waitForCalls("sendMessage", 1, 30_000);

    await killNats(stack.nats);
    const before = raised([first]).length;
    const startedSince = () => raised([first]).slice(before).filter((e) => e.state === "started").length;
    await waitFor("three presences started during the outage", () => startedSince() >= 3 || undefined, 30_000);
    current = null;
    // The last event's outbox write (an fsync) finishes.
    await sleep(1_000);
    const file = join(outboxDir, `presence-${stack.device}.jsonl`);
    const held = parseOutbox(readFileSync(file, "utf8")).held.map((e) => e.id);
    const inOutage = raised([first]).slice(before).map((e) => e.id);
    expect(held).toEqual(expect.arrayContaining(inOutage));

    first.signal("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    // It starts again while the broker is still away: it waits for the bus, with its outbox.
    const again = restartService(stack, "pir", env, 60_000);
    await sleep(3_000);
    await stack.nats.start();
    const back = now();
    const second = await again;
    pirs.push(second);
    expect(second.logs.some((l) => l.msg === "publishing the events the outbox kept from an earlier run" && (l.events as number) >= inOutage.length)).toBe(true);
    current = second;
    await sleep(3 * PULSE_EVERY_MS);
    current = null;
    pulser.stop();
    await presenceOver(() => pirs);
    await waitForDelivery({ nc, device: stack.device, pirs: () => pirs, double, chats: [CHAT], timeoutMs: 120_000 });
    const l = await ledger(nc, stack.device, pirs, double, [CHAT]);
    recordReliability("broker-outage-pir-killed", {
      kind: "fault",
      fault: "nats-server SIGKILLed for ~10 s; the pir service SIGKILLed during the outage with events in its outbox, and started again",
      recoveryMs: lastAlertOf(double, l.stored.filter((e) => e.state === "started" && inOutage.includes(e.id))) - back,
      measured: "broker back → alert of the last event raised by the killed pir delivered",
      eventsLost: l.lost.length + (l.alertsMissing[CHAT]?.length ?? 0),
      alertsDuplicated: l.alertsDuplicated + l.storedTwice.length,
      events: l.raised.length,
      notes: `${inOutage.length} events outboxed by the killed pir; ${started(l)} alerts`,
    });
    expectNothingLostOrDoubled(l);
    // Nothing left in the outbox once all is stored.
    await waitFor("the outbox to empty", () => parseOutbox(readFileSync(file, "utf8")).held.length === 0 || undefined, 10_000);
  }, 240_000);
});
