// The device stack as the user deploys it: the five service images built from this checkout
// on the local Debian base, nats, and docker-compose.yml (its local variant: no camera or GPIO
// hardware, local images; scripts/docker/local-compose.ts), driven from outside as a user
// would: the web API with a login, a browser, `docker compose stop`, a crash.
//
// Needs a Docker engine. Without one the suite is skipped, and says so loudly; with
// PICKET_REQUIRE_DOCKER=1 (CI: .ci/run makes the engine reachable first) it fails instead.
import { existsSync, mkdtempSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/chromium.js";
import { ffprobe } from "../support/media.js";
import { freePort, waitFor } from "../support/ports.js";
import { TEST_LIVE_SECRET } from "../support/services.js";
import { startTelegramApi, type TelegramApiDouble } from "../support/telegram-api.js";
import { TEST_ADMIN_PASSWORD, login, type WebSession } from "../support/web-session.js";
import { ALL_SERVICES, READY_LOG, buildImages, composeStack, docker, engineProblem, hostGatewayAddress, relay, stackEnv, type ComposeStack, type PicketService } from "./compose-stack.js";

const TOKEN = "987654321:AAFc0nta1nersT3stT0k3nXyZ1234567890";
const CHAT = "4242";
const problem = await engineProblem();
const required = process.env.PICKET_REQUIRE_DOCKER === "1";
if (problem !== undefined && !required) {
  process.stderr.write(
    `\n${"!".repeat(78)}\n!! CONTAINER TESTS SKIPPED (test/containers): ${problem}.\n` +
      `!! Run \`bash scripts/docker/engine.sh\` as root to install and start one; CI's .ci/run does.\n${"!".repeat(78)}\n\n`,
  );
}

interface PlayerView {
  state: string;
  decoded: number;
  openedAt: number;
}

function player(page: Page, device: string): Promise<PlayerView | undefined> {
  return page.evaluate((d) => {
    const w = globalThis as unknown as { picket?: { players: Record<string, { stats: { state: string; decoded: number }; join: { openedAt: number } }> } };
    const p = w.picket?.players[d];
    return p === undefined ? undefined : { state: p.stats.state, decoded: p.stats.decoded, openedAt: p.join.openedAt };
  }, device);
}

describe.skipIf(problem !== undefined && !required)("the device stack in containers (docker-compose.yml)", () => {
  const device = `ct-${Math.random().toString(36).slice(2, 8)}`;
  let stack: ComposeStack;
  let api: TelegramApiDouble;
  let apiRelay: { port: number; close(): Promise<void> };
  let session: WebSession;
  let lockDir: string;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let alarmEventId = "";

  beforeAll(async () => {
    if (problem !== undefined) throw new Error(`PICKET_REQUIRE_DOCKER=1 but ${problem}`);
    await buildImages();
    api = await startTelegramApi(TOKEN);
    apiRelay = await relay(await hostGatewayAddress(), Number(new URL(api.url).port));
    // balena's supervisor mounts the service's lock directory at /tmp/balena; here a folder
    // of the test's, writable for the bot's unprivileged user as the supervisor makes it (1777).
    lockDir = mkdtempSync(join(tmpdir(), "picket-ct-lock-"));
    chmodSync(lockDir, 0o1777);
    stack = await composeStack({
      webPort: await freePort(),
      extraHosts: ["host.docker.internal:host-gateway"],
      binds: { bot: [`${lockDir}:/tmp/balena`] },
      env: stackEnv({ device, token: TOKEN, chat: CHAT, apiRoot: `http://host.docker.internal:${apiRelay.port}`, liveSecret: TEST_LIVE_SECRET, adminPassword: TEST_ADMIN_PASSWORD }),
    });
    await stack.compose("up", "-d");
    await waitFor("the web API", async () => (await fetch(`${stack.web}/healthz`).then((r) => r.ok, () => false)) || undefined, 60_000, 250);
    session = await login(stack.web);
    // Every service said it is ready (as the process tests wait for it).
    await waitFor("every service ready", async () => {
      for (const [name, ready] of Object.entries(READY_LOG)) {
        if (!(await stack.logs(name as PicketService)).some((l) => ready.test(String(l.msg)))) return undefined;
      }
      return true;
    }, 60_000, 500);
  }, 20 * 60_000);

  // A failed test shows what the services said (the last lines of each).
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== "fail" || stack === undefined) return;
    for (const s of ALL_SERVICES) {
      const lines = await stack.logs(s).catch(() => []);
      process.stderr.write(`--- ${s} (last 25 of ${lines.length} lines)\n${lines.slice(-25).map((l) => JSON.stringify(l)).join("\n")}\n`);
    }
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    if (stack !== undefined) {
      for (const s of ALL_SERVICES) {
        const bad = (await stack.logs(s).catch(() => [])).filter((l) => l.level === "error" || l.level === "fatal");
        if (bad.length > 0) process.stderr.write(`[${s}] errors logged:\n${bad.map((l) => JSON.stringify(l)).join("\n")}\n`);
      }
      await stack.down();
    }
    await apiRelay?.close();
    await api?.close();
    if (lockDir !== undefined) rmSync(lockDir, { recursive: true, force: true });
  }, 120_000);

  it("runs each service in its own unprivileged container, with a restart policy, a healthcheck and only the web port published", async () => {
    for (const s of ALL_SERVICES) {
      const [c] = JSON.parse(await docker("inspect", await stack.container(s))) as {
        Config: { User: string; Healthcheck?: { Test: string[] } };
        HostConfig: { Privileged: boolean; RestartPolicy: { Name: string }; CapAdd: string[] | null; PortBindings: Record<string, unknown> | null; Devices: unknown[] | null };
      }[];
      expect(c?.HostConfig.Privileged, s).toBe(false);
      expect(c?.HostConfig.CapAdd ?? [], s).toEqual([]);
      expect(c?.HostConfig.RestartPolicy.Name, s).toBe("unless-stopped");
      expect(c?.Config.Healthcheck?.Test.length, s).toBeGreaterThan(0);
      expect(Object.keys(c?.HostConfig.PortBindings ?? {}), s).toEqual(s === "web" ? ["8080/tcp"] : []);
      // The Picket services run as their image's unprivileged user, except pir (sysfs GPIO is root-only on balenaOS).
      if (s !== "nats") expect(c?.Config.User, s).toBe(s === "pir" ? "root" : "picket");
    }
    await waitFor("every container healthy", async () => {
      const states = await Promise.all(ALL_SERVICES.map((s) => stack.state(s)));
      return states.every((st) => st.health === "healthy") || undefined;
    }, 90_000, 1_000);
    // Not root inside either: ask the camera's container itself.
    const camera = await stack.state("camera");
    expect((await docker("exec", camera.id, "id", "-un")).trim()).toBe("picket");
  });

  it("delivers a test alarm raised through the web API (logged in) as a photo to the Bot API server", async () => {
    const res = await session.fetch(`/api/devices/${device}/test-alarm`, { method: "POST" });
    expect(res.status).toBe(202);
    alarmEventId = ((await res.json()) as { eventId: string }).eventId;
    const [photo] = await api.waitForCalls("sendPhoto", 1, 30_000, (c) => c.status === 200);
    expect(photo?.chatId).toBe(CHAT);
    expect(String(photo?.params.caption)).toMatch(/test/i);
    expect(await ffprobe(photo?.files.photo as Buffer)).toEqual({ codec_name: "mjpeg", width: 1280, height: 720 });
  });

  it("holds balena's update lock (/tmp/balena/updates.lock) while an alert is in flight, and only then", async () => {
    const lockFile = join(lockDir, "updates.lock");
    expect(existsSync(lockFile)).toBe(false);
    const before = api.calls("sendPhoto").length;
    // The Bot API server holds every request for 4 s and then drops it: the upload is in
    // flight all that time, then fails and is sent again.
    api.outage(4_000, "hang");
    expect((await session.fetch(`/api/devices/${device}/test-alarm`, { method: "POST" })).status).toBe(202);
    await waitFor("the held upload", () => api.calls("sendPhoto").length > before || undefined, 30_000, 50);
    expect(existsSync(lockFile)).toBe(true);
    await api.waitForCalls("sendPhoto", 1, 30_000, (c) => c.status === 200 && api.calls("sendPhoto").indexOf(c) >= before);
    await waitFor("the lock released after the delivery", () => !existsSync(lockFile) || undefined, 10_000, 50);
  });

  it("plays live video in Chromium through the web container", async () => {
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await session.addTo(context);
    page = await context.newPage();
    await page.goto(stack.web);
    const p = page;
    await waitFor("decoded frames", async () => ((await player(p, device))?.decoded ?? 0) > 25 || undefined, 30_000, 200);
    expect((await player(p, device))?.state).toBe("live");
  });

  it("restarts a camera container killed with SIGKILL, and the video resumes for a viewer who stayed connected", async () => {
    const p = page;
    if (p === undefined) throw new Error("needs the live page of the previous test");
    const before = await stack.state("camera");
    const viewer = (await player(p, device)) as PlayerView;
    // kill -9 of the container's process: a crash, to which the restart policy applies
    // (`docker kill` would count as a deliberate stop).
    process.kill(before.pid, "SIGKILL");
    await waitFor("the camera restarted", async () => {
      const s = await stack.state("camera");
      return (s.restartCount > before.restartCount && s.running) || undefined;
    }, 30_000, 200);
    const killedAt = Date.now();
    const decodedAtRestart = (await player(p, device))?.decoded ?? 0;
    await waitFor("frames again", async () => ((await player(p, device))?.decoded ?? 0) > decodedAtRestart + 25 || undefined, 30_000, 200);
    const after = (await player(p, device)) as PlayerView;
    expect(after.state).toBe("live");
    // The same socket: the viewer never reconnected.
    expect(after.openedAt).toBe(viewer.openedAt);
    process.stderr.write(`camera SIGKILLed: restarted and frames on the page again ${Date.now() - killedAt} ms after the restart\n`);
  });

  it("stops every container with exit code 0 within 10 s on `compose stop`, and loses nothing: the alarms are still there after a start", async () => {
    const started = Date.now();
    await stack.compose("stop");
    const tookMs = Date.now() - started;
    for (const s of ALL_SERVICES) {
      const st = await stack.state(s);
      expect(st.running, s).toBe(false);
      expect(st.exitCode, s).toBe(0);
    }
    expect(tookMs).toBeLessThan(10_000);
    const photos = api.calls("sendPhoto").filter((c) => c.status === 200).length;

    await stack.compose("start");
    await waitFor("the web API again", async () => (await fetch(`${stack.web}/healthz`).then((r) => r.ok, () => false)) || undefined, 60_000, 250);
    const again = await login(stack.web);
    const list = await again.fetch("/api/events");
    expect(list.status).toBe(200);
    const events = (await list.json()) as unknown;
    expect(JSON.stringify(events)).toContain(alarmEventId);
    // Nothing delivered twice after the restart either.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(api.calls("sendPhoto").filter((c) => c.status === 200)).toHaveLength(photos);
  });
});
