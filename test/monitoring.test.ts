// The hub's monitoring (monitoring/, docker-compose.monitoring.yml, docs/monitoring.md).
//
// First without Docker (its images cannot be pulled here): the compose file mounts files that
// exist, the provisioning names what the dashboards use, and the dashboards are well formed.
// Then for real: Debian's Prometheus scrapes real services with the shipped prometheus.yml
// (its jobs and settings; only the targets become this machine's ports and the interval 1 s)
// while a camera is watched, an alarm reaches Telegram (a Bot API double) and a device goes
// offline and comes back; every PromQL expression of both dashboards must then return data
// through Prometheus' HTTP API.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Heartbeat, subjects, type ServiceName } from "@picket/contracts";
import { loadConfig, readTemperatureC, type NatsConnection } from "@picket/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { parse, stringify } from "yaml";
import { botConfig } from "../services/bot/src/config.js";
import { cameraConfig } from "../services/camera/src/config.js";
import { fleetConfig } from "../services/fleet/src/config.js";
import { pirConfig } from "../services/pir/src/config.js";
import { streamConfig } from "../services/stream/src/config.js";
import { webConfig } from "../services/web/src/config.js";
import { ALLOWED, QUICK_PRESENCE, TOKEN, opsPort } from "./support/bot.js";
import { testBus } from "./support/bus.js";
import { freePort, waitFor } from "./support/ports.js";
import { ROOT, ServiceProcess, baseEnv } from "./support/services.js";
import { startStack, type Stack } from "./support/stack.js";
import { startTelegramApi, type TelegramApiDouble } from "./support/telegram-api.js";
import { login } from "./support/web-session.js";

const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[] }[];
  [key: string]: unknown;
}
interface PrometheusConfig {
  global: Record<string, string>;
  scrape_configs: ScrapeConfig[];
}
interface Target {
  datasource?: { uid?: string };
  expr?: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; definition?: string; datasource?: { uid?: string } }[] };
}
interface ComposeService {
  image?: string;
  profiles?: string[];
  command?: string[];
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
}

const prometheusConfig = parse(read("monitoring/prometheus.yml")) as PrometheusConfig;
const dashboards: Record<string, Dashboard> = {
  fleet: JSON.parse(read("monitoring/grafana/dashboards/picket-fleet.json")) as Dashboard,
  device: JSON.parse(read("monitoring/grafana/dashboards/picket-device.json")) as Dashboard,
};
const datasource = (parse(read("monitoring/grafana/provisioning/datasources/prometheus.yml")) as { datasources: { uid: string; url: string; type: string }[] }).datasources;
const provider = (parse(read("monitoring/grafana/provisioning/dashboards/picket.yml")) as { providers: { options: { path: string } }[] }).providers;

/** Each scraped service's default port, from its own config schema (what the shipped targets must name). */
const DEFAULT_PORTS: Record<string, number> = {
  camera: loadConfig(cameraConfig, {}).opsPort,
  pir: loadConfig(pirConfig, {}).opsPort,
  bot: loadConfig(botConfig, {}).opsPort,
  web: loadConfig(webConfig, {}).opsPort,
  stream: loadConfig(streamConfig, {}).port,
  fleet: loadConfig(fleetConfig, {}).opsPort,
};

describe("monitoring files", () => {
  it("docker-compose.monitoring.yml: both services under the monitoring profile, mounting files that exist, read-only; Grafana with a required password and no anonymous access", () => {
    const compose = parse(read("docker-compose.monitoring.yml")) as { services: Record<string, ComposeService> };
    const { prometheus, grafana } = compose.services;
    expect(prometheus?.image).toBe("prom/prometheus");
    expect(grafana?.image).toBe("grafana/grafana-oss");
    for (const s of [prometheus, grafana]) {
      expect(s?.profiles).toEqual(["monitoring"]);
      const binds = (s?.volumes ?? []).filter((v) => v.startsWith("./"));
      expect(binds.length).toBeGreaterThan(0);
      for (const bind of binds) {
        const [source, , mode] = bind.split(":");
        expect({ bind, exists: existsSync(join(ROOT, source as string)), mode }).toEqual({ bind, exists: true, mode: "ro" });
      }
    }
    const mountOf = (s: ComposeService | undefined, source: string) => s?.volumes?.find((v) => v.startsWith(`${source}:`))?.split(":")[1];
    expect(prometheus?.command).toContain(`--config.file=${mountOf(prometheus, "./monitoring/prometheus.yml")}`);
    expect(mountOf(grafana, "./monitoring/grafana/provisioning")).toBe("/etc/grafana/provisioning");
    expect(provider.map((p) => p.options.path)).toEqual([mountOf(grafana, "./monitoring/grafana/dashboards")]);
    expect(grafana?.environment?.GF_AUTH_ANONYMOUS_ENABLED).toBe("false");
    expect(grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{PICKET_GRAFANA_PASSWORD:\?.+\}$/);
    expect(grafana?.ports).toEqual(["3000:3000"]);
    expect(datasource).toMatchObject([{ type: "prometheus", url: "http://prometheus:9090" }]);
  });

  it("prometheus.yml scrapes each service by its compose name and default port", () => {
    const device = parse(read("docker-compose.yml")) as { services: Record<string, unknown> };
    const targets = prometheusConfig.scrape_configs.flatMap((j) => j.static_configs.flatMap((s) => s.targets.map((t) => ({ job: j.job_name, target: t }))));
    expect(targets.map((t) => t.job).sort()).toEqual(Object.keys(DEFAULT_PORTS).sort());
    for (const { job, target } of targets) expect(target).toBe(`${job}:${DEFAULT_PORTS[job]}`);
    // The hub's failure detector has no container image yet (the Dockerfile builds the device's
    // five services): its target is down until it has one. Drop it from here once it does.
    expect(targets.map((t) => t.job).filter((job) => device.services[job] === undefined)).toEqual(["fleet"]);
  });

  it("the dashboards: Grafana's JSON model, every panel placed and querying the provisioned data source", () => {
    const uid = datasource[0]?.uid;
    expect(uid).toBeTruthy();
    for (const [name, d] of Object.entries(dashboards)) {
      expect({ name, schemaVersion: typeof d.schemaVersion, uid: d.uid }).toEqual({ name, schemaVersion: "number", uid: `picket-${name}` });
      expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
      const cells = new Set<string>();
      for (const p of d.panels) {
        const { x, y, w, h } = p.gridPos;
        expect({ panel: p.title, fits: x >= 0 && w > 0 && h > 0 && x + w <= 24 }).toEqual({ panel: p.title, fits: true });
        for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
          expect({ panel: p.title, overlaps: cells.has(`${i},${j}`) }).toEqual({ panel: p.title, overlaps: false });
          cells.add(`${i},${j}`);
        }
        expect(p.datasource?.uid).toBe(uid);
        expect(p.targets?.length).toBeGreaterThan(0);
        for (const t of p.targets ?? []) expect({ panel: p.title, uid: t.datasource?.uid, expr: typeof t.expr }).toEqual({ panel: p.title, uid, expr: "string" });
      }
    }
    expect(dashboards.device?.templating.list).toMatchObject([{ name: "device", definition: "label_values(picket_fleet_device_up, device)", datasource: { uid } }]);
  });
});

// ---------------------------------------------------------------------------------------

const tag = Math.random().toString(36).slice(2, 6);
const DEVICE = `door-${tag}`;
const HUB = `hub-${tag}`;
/** A device simulated by its heartbeats alone: it goes offline and comes back, and reports a temperature. */
const SIM = `sim-${tag}`;
/** A small camera: 2 cores run the whole stack, the hub and Prometheus. */
const CAMERA_ENV = { PICKET_CAMERA_WIDTH: "320", PICKET_CAMERA_HEIGHT: "180", PICKET_CAMERA_FPS: "10", PICKET_CAMERA_BITRATE_KBPS: "300" };
/** What Grafana puts in place of its variables; rate windows of 15 s hold 15 scrapes at 1 s. */
const GRAFANA_VARS: Record<string, string> = { __rate_interval: "15s", __range: "10m", __interval: "5s" };

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Debian's prometheus with `config`, on a free loopback port and a fresh store. */
async function startPrometheus(config: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "picket-prometheus-"));
  writeFileSync(join(dir, "prometheus.yml"), config);
  const port = await freePort();
  const child: ChildProcess = spawn("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor("prometheus ready", async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${log}`);
      return (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200;
    }, 30_000, 200);
  } catch (err) {
    await stop();
    throw new Error(`${String(err)}\n${log}`);
  }
  return { url, stop };
}

/** The shipped prometheus.yml with each job's targets moved to the port its service listens on here, scraped every second. */
function scrapeHere(ports: Record<string, number>): string {
  const config = structuredClone(prometheusConfig);
  config.global = { ...config.global, scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" };
  for (const job of config.scrape_configs) {
    const port = ports[job.job_name];
    if (port === undefined) throw new Error(`the test runs no service for job ${job.job_name}`);
    job.static_configs = job.static_configs.map((s) => ({ ...s, targets: s.targets.map(() => `127.0.0.1:${port}`) }));
  }
  return stringify(config);
}

const teardown: (() => Promise<unknown>)[] = [];
let stack: Stack;
let fleet: ServiceProcess;
let double: TelegramApiDouble;
let nc: NatsConnection;
let prometheus: { url: string; stop: () => Promise<void> };
let web: string;

async function query(expr: string): Promise<Sample[]> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
  if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
  return body.data?.resultType === "vector" ? (body.data.result ?? []) : [];
}

/** Samples with a number (a quantile of no observations is NaN: no data). */
const withData = async (expr: string) => (await query(expr)).filter((s) => Number.isFinite(Number(s.value[1])));

/** Publishes SIM's heartbeats (a camera and a web service, which reads the CPU temperature) every second until stopped. */
function simulateDevice(): () => void {
  const beat = () => {
    for (const [service, vitals] of [["camera", { capturing: 1, fps: 10, bitrateKbps: 300, lastFrameAgeMs: 60 }], ["web", { viewers: 0, temperatureC: 47.5 }]] as const) {
      const hb = Heartbeat.parse({ device: SIM, service: service as ServiceName, version: "0.1.0", at: Date.now(), uptimeS: 30, rssBytes: 50_000_000, cpuPct: 1.5, vitals });
      nc.publish(subjects.heartbeat(SIM, service), JSON.stringify(hb));
    }
  };
  beat();
  const timer = setInterval(beat, 1_000);
  return () => clearInterval(timer);
}

describe("Prometheus scraping a hub", () => {
  beforeAll(async () => {
    double = await startTelegramApi(TOKEN);
    teardown.push(() => double.close());
    const [httpPort, streamPort] = [await freePort(), await freePort()];
    stack = await startStack({
      device: DEVICE,
      services: ["camera", "pir", "bot", "stream", "web"],
      env: {
        ...QUICK_PRESENCE,
        ...CAMERA_ENV,
        PICKET_TELEGRAM_TOKEN: TOKEN,
        PICKET_TELEGRAM_API_ROOT: double.url,
        PICKET_TELEGRAM_CHATS: ALLOWED.join(","),
        PICKET_HTTP_PORT: String(httpPort),
        PICKET_HTTP_HOST: "127.0.0.1",
        PICKET_STREAM_PORT: String(streamPort),
        PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}`,
      },
    });
    teardown.push(() => stack.stop());
    web = `http://127.0.0.1:${httpPort}`;
    fleet = new ServiceProcess("fleet", { ...baseEnv(stack.nats.url, HUB), PICKET_ROLE: "hub", PICKET_FLEET_OPS_PORT: "0", PICKET_FLEET_OFFLINE_MS: "3000" });
    teardown.push(() => fleet.stop());
    await fleet.waitForMsg(/^fleet watching/, 30_000);
    nc = await testBus(stack.nats.url, "monitoring-test");
    teardown.push(() => nc.close());
    const ports: Record<string, number> = { fleet: await opsPort(fleet) };
    for (const name of ["camera", "pir", "bot", "stream", "web"] as const) ports[name] = await opsPort(stack.get(name));
    prometheus = await startPrometheus(scrapeHere(ports));
    teardown.push(() => prometheus.stop());
  }, 120_000);

  afterAll(async () => {
    for (const step of teardown.splice(0).reverse()) await step().catch(() => undefined);
  });

  it("gives every PromQL expression of both dashboards data, and shows the device up in the fleet's table", async () => {
    // Every job of the shipped file is scraped, and reached.
    const jobs = prometheusConfig.scrape_configs.map((j) => j.job_name).sort();
    const targets = await waitFor("every target up", async () => {
      const body = (await (await fetch(`${prometheus.url}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] } };
      const active = body.data.activeTargets;
      return active.length === jobs.length && active.every((t) => t.health === "up") ? active : undefined;
    }, 30_000, 250);
    expect(targets.map((t) => t.labels.job).sort()).toEqual(jobs);

    // What the dashboards show, made to happen while Prometheus watches: a live viewer (through
    // the web, as the page watches), an alarm that reaches Telegram, and a device that goes
    // offline and comes back.
    const session = await login(web);
    const viewer = new WebSocket(`${web.replace("http", "ws")}/api/live/${DEVICE}/high`, { headers: session.wsHeaders() });
    teardown.push(async () => viewer.terminate());
    let frames = 0;
    viewer.on("message", (_data, isBinary) => (frames += isBinary ? 1 : 0));
    await waitFor("live frames", () => frames >= 10 || undefined, 30_000);

    await nc.request(subjects.pirInject(DEVICE), JSON.stringify({ pulseMs: 500 }), { timeout: 5_000 });
    await waitFor("the alert photo in Telegram", () => double.calls("sendPhoto").some((c) => c.status === 200) || undefined, 30_000);

    let stopBeats = simulateDevice();
    teardown.push(async () => stopBeats());
    await fleet.waitForMsg(`device ${SIM} is online`, 15_000);
    stopBeats();
    await fleet.waitForMsg(new RegExp(`^device ${SIM} is offline`), 15_000);
    stopBeats = simulateDevice();
    await waitFor(`${SIM} back online`, () => fleet.logs.filter((l) => l.msg === `device ${SIM} is online`).length >= 2 || undefined, 15_000);

    // Every expression, with Grafana's variables in place. This machine may have no CPU
    // temperature to read (no /sys/class/thermal): the temperature panel then shows SIM's.
    const temperatureOf = readTemperatureC() === undefined ? SIM : DEVICE;
    const expressions = Object.entries(dashboards).flatMap(([name, d]) =>
      d.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => {
          const device = (t.expr ?? "").includes("temperature") ? temperatureOf : DEVICE;
          const expr = (t.expr ?? "").replace(/\$(\w+)/g, (all, v: string) => (v === "device" ? device : (GRAFANA_VARS[v] ?? all)));
          return { where: `${name}: ${p.title} (${t.refId})`, expr };
        }),
      ),
    );
    expect(expressions.filter((e) => e.expr.includes("$"))).toEqual([]);
    expect(expressions.length).toBeGreaterThanOrEqual(30);
    const empty = async () => {
      const out: string[] = [];
      for (const e of expressions) if ((await withData(e.expr)).length === 0) out.push(`${e.where}: ${e.expr}`);
      return out;
    };
    await waitFor("data for every expression", async () => (await empty()).length === 0 || undefined, 45_000, 1_000).catch(() => undefined);
    expect(await empty()).toEqual([]);

    // The device variable lists both devices; the table shows the device, up, online, watched.
    const values = (await (await fetch(`${prometheus.url}/api/v1/label/device/values?match[]=picket_fleet_device_up`)).json()) as { data: string[] };
    expect(values.data.sort()).toEqual([DEVICE, SIM].sort());
    const row = async (expr: string) => (await query(expr)).find((s) => s.metric.device === DEVICE);
    expect((await row("max by (device) (picket_fleet_device_up)"))?.value[1]).toBe("1");
    expect((await row("max by (device, state) (picket_fleet_device_state) == 1"))?.metric.state).toBe("online");
    expect(Number((await row("max by (device) (picket_fleet_device_camera_fps)"))?.value[1])).toBeGreaterThan(0);
    expect((await row("max by (device) (picket_fleet_device_viewers)"))?.value[1]).toBe("1");
    // Counted as they happened while Prometheus watched: the alarm, and SIM's offline spell.
    expect(Number((await query("sum(increase(picket_bot_alert_seconds_count[10m]))"))[0]?.value[1])).toBeGreaterThan(0);
    expect(Number((await query("sum(increase(picket_fleet_detection_seconds_count[10m]))"))[0]?.value[1])).toBeGreaterThan(0);
    const live = await withData(`histogram_quantile(0.95, sum by (device, le) (rate(picket_stream_live_latency_seconds_bucket[15s])))`);
    expect(live.map((s) => s.metric.device)).toEqual([DEVICE]);
  }, 180_000);
});
