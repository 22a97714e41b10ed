import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { login } from "./support/web-session.js";
import { freePort, waitFor } from "./support/ports.js";
import { ROOT } from "./support/services.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Pids of processes whose environment holds `marker` (e.g. a stack's unique data dir). */
function pidsWithEnv(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").includes(marker)) pids.push(Number(entry));
    } catch {
      // gone already, or not ours to read
    }
  }
  return pids;
}

async function launch(env: Record<string, string> = {}): Promise<{ proc: ReturnType<typeof spawn>; output: () => string; exited: Promise<number | null>; http: number; marker: string }> {
  const data = mkdtempSync(join(tmpdir(), "picket-data-"));
  cleanups.push(() => rmSync(data, { recursive: true, force: true }));
  const [nats, http, stream] = [await freePort(), await freePort(), await freePort()];
  const proc = spawn(process.execPath, [join(ROOT, "tools", "stack", "dist", "main.js")], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      PICKET_DATA_DIR: data,
      PICKET_NATS_PORT: String(nats),
      PICKET_HTTP_PORT: String(http),
      PICKET_STREAM_PORT: String(stream),
      PICKET_STREAM_URL: `ws://127.0.0.1:${stream}`,
      PICKET_CAMERA_OPS_PORT: "0",
      PICKET_PIR_OPS_PORT: "0",
      PICKET_BOT_OPS_PORT: "0",
      PICKET_WEB_OPS_PORT: "0",
      PICKET_DEVICE_ID: "launcher-test",
      NO_COLOR: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  cleanups.push(() => void proc.kill("SIGKILL"));
  await waitFor("Picket is up", () => out.includes("Picket is up"), 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${out.slice(-3000)}`);
  });
  return { proc, output: () => out, exited, http: Number(env.PICKET_HTTP_PORT ?? http), marker: `PICKET_DATA_DIR=${data}` };
}

describe("npm start's launcher", () => {
  it("starts NATS and all five services on embedded defaults, serves the UI, and stops everything cleanly on Ctrl-C", async () => {
    const { proc, output, exited, http } = await launch();
    const out = output();
    // Readable lines, not JSON, for the operator at the terminal.
    expect(out).toMatch(/\d\d:\d\d:\d\d camera +INFO +\[camera\] camera starting/);
    expect(out).toContain("bot off: PICKET_TELEGRAM_TOKEN is not set");
    const health = await fetch(`http://127.0.0.1:${http}/healthz`);
    expect(health.status).toBe(200);
    const page = await fetch(`http://127.0.0.1:${http}/`);
    expect(await page.text()).toContain("Picket");
    // No default password: the web made one on this first start and showed it once.
    expect((await fetch(`http://127.0.0.1:${http}/api/devices`)).status).toBe(401);
    const password = /the web UI's admin password is (\S+) ;/.exec(output())?.[1];
    expect(password).toBeDefined();
    expect(output().split(password as string).length - 1).toBe(1);
    const s = await login(`http://127.0.0.1:${http}`, "admin", password);
    // Every service's heartbeat reaches the web UI through the launcher's NATS.
    await waitFor("all five heartbeats", async () => {
      const body = (await (await s.fetch("/api/devices")).json()) as { devices: { id: string; services: Record<string, unknown> }[] };
      const own = body.devices.find((d) => d.id === "launcher-test");
      return own !== undefined && ["camera", "pir", "bot", "stream", "web"].every((s) => s in own.services);
    }, 20_000);

    proc.kill("SIGINT");
    expect(await exited).toBe(0);
    const end = output();
    expect(end).toMatch(/stopped in [\d.]+ s \(exit codes web=0 stream=0 bot=0 pir=0 camera=0 nats=0\)/);
    // Reverse order: web stops first, camera last among the services.
    expect(end.indexOf("web    INFO  shutting down")).toBeLessThan(end.indexOf("camera INFO  shutting down"));
  });

  it("says which service did not start instead of claiming all is well", async () => {
    // Something else already holds the web port.
    const blocker = createServer().listen(0, "0.0.0.0");
    await new Promise((r) => blocker.once("listening", r));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as { port: number }).port;
    const { proc, output, exited } = await launch({ PICKET_HTTP_PORT: String(port) });
    expect(output()).toContain("Picket is up without web for now (see the errors above; retrying)");
    expect(output()).toMatch(/web +FATAL +failed to start/);
    proc.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("leaves no service running when the launcher itself is killed", async () => {
    const { proc, marker, exited } = await launch();
    const services = () => pidsWithEnv(marker).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("dist/main.js") && pid !== proc.pid);
    expect(services()).toHaveLength(5);
    proc.kill("SIGKILL");
    await exited;
    await waitFor("every service to stop", () => services().length === 0, 15_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${services().map((p) => readFileSync(`/proc/${p}/stat`, "latin1").slice(0, 60) + " " + readFileSync(`/proc/${p}/cmdline`, "latin1")).join("; ")}`);
    });
    // nats-server cannot watch its parent; the next start names the busy port if it lingers.
    for (const pid of pidsWithEnv(marker)) process.kill(pid, "SIGKILL");
  });
});
