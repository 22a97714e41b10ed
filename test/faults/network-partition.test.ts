// A silent network failure between a device and its hub: the device's nats-server runs in a
// network namespace of its own, joined to the hub's as a leaf node over a veth pair, and every
// packet on that link is then dropped (not refused: no RST, no ICMP), as a dead Wi-Fi or a
// cut uplink does. Measured: how long each side takes to notice, and how long the link takes
// to come back once packets flow again.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HUB_PING_INTERVAL_S, HUB_PING_MAX, deviceNatsConfig } from "../../tools/stack/src/nats-config.js";
import { freePort, waitFor } from "../support/ports.js";
import { recordReliability } from "../support/reliability.js";

const run = promisify(execFile);
const tag = Math.random().toString(36).slice(2, 6);
const ns = `picket-${tag}`;
const [hostIf, devIf] = [`pk${tag}h`, `pk${tag}d`];
const net = 1 + Math.floor(Math.random() * 250);
const [hostIp, devIp] = [`10.251.${net}.1`, `10.251.${net}.2`];
const dir = mkdtempSync(join(tmpdir(), "picket-partition-"));
const children: ChildProcess[] = [];
let hubMonitor = 0;
let leafPort = 0;

const inNs = (cmd: string, args: string[]) => run("ip", ["netns", "exec", ns, cmd, ...args]);

/** A nats-server; resolves once it is ready. */
function natsServer(cmd: string[], conf: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd[0] as string, [...cmd.slice(1), "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    children.push(proc);
    let log = "";
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 15_000);
    proc.stderr?.on("data", (d: Buffer) => {
      log += d.toString();
      if (log.includes("Server is ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once("exit", (code) => reject(new Error(`nats-server exited with ${code}:\n${log}`)));
  });
}

/** Leaf connections the hub sees. */
async function hubLeafs(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${hubMonitor}/leafz`);
  return ((await res.json()) as { leafnodes: number }).leafnodes;
}

/** Leaf connections the device sees (its monitoring port is inside the namespace). */
async function deviceLeafs(): Promise<number> {
  const { stdout } = await inNs(process.execPath, ["-e", "fetch('http://127.0.0.1:8222/leafz').then((r) => r.json()).then((j) => console.log(j.leafnodes))"]);
  return Number(stdout.trim());
}

/** Drops every packet on the device's end of the link, both ways. */
async function cut(on: boolean): Promise<void> {
  const op = on ? "-A" : "-D";
  await inNs("iptables", ["-w", op, "INPUT", "-i", devIf, "-j", "DROP"]);
  await inNs("iptables", ["-w", op, "OUTPUT", "-o", devIf, "-j", "DROP"]);
}

beforeAll(async () => {
  await run("ip", ["netns", "add", ns]);
  await inNs("ip", ["link", "set", "lo", "up"]);
  await run("ip", ["link", "add", hostIf, "type", "veth", "peer", "name", devIf]);
  await run("ip", ["link", "set", devIf, "netns", ns]);
  await run("ip", ["addr", "add", `${hostIp}/30`, "dev", hostIf]);
  await run("ip", ["link", "set", hostIf, "up"]);
  await inNs("ip", ["addr", "add", `${devIp}/30`, "dev", devIf]);
  await inNs("ip", ["link", "set", devIf, "up"]);

  [hubMonitor, leafPort] = [await freePort(), await freePort()];
  const hubConf = join(dir, "hub.conf");
  writeFileSync(
    hubConf,
    [
      'server_name: "hub"',
      `port: ${await freePort()}`,
      'host: "127.0.0.1"',
      `http: "127.0.0.1:${hubMonitor}"`,
      `jetstream { store_dir: ${JSON.stringify(join(dir, "hub"))}, domain: "hub" }`,
      `ping_interval: "${HUB_PING_INTERVAL_S}s"`,
      `ping_max: ${HUB_PING_MAX}`,
      `leafnodes { host: "${hostIp}", port: ${leafPort} }`,
      "",
    ].join("\n"),
  );
  await natsServer(["nats-server"], hubConf);
  const devConf = join(dir, "device.conf");
  writeFileSync(devConf, deviceNatsConfig({ host: "127.0.0.1", port: 4222, storeDir: join(dir, "device"), serverName: "door", httpPort: 8222, hub: { url: `nats-leaf://${hostIp}:${leafPort}` } }));
  await natsServer(["ip", "netns", "exec", ns, "nats-server"], devConf);
  await waitFor("the device joined the hub", async () => (await hubLeafs()) === 1 && (await deviceLeafs()) === 1, 20_000, 200);
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await run("ip", ["link", "del", hostIf]).catch(() => undefined);
  await run("ip", ["netns", "del", ns]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe("a silent network failure between a device and its hub", () => {
  it("is noticed by both sides within the keepalive, and the link comes back by itself when packets flow again", async () => {
    const cutAt = Date.now();
    await cut(true);
    let hubNoticedMs = -1;
    let deviceNoticedMs = -1;
    await waitFor(
      "both sides to notice",
      async () => {
        if (hubNoticedMs < 0 && (await hubLeafs()) === 0) hubNoticedMs = Date.now() - cutAt;
        if (deviceNoticedMs < 0 && (await deviceLeafs()) === 0) deviceNoticedMs = Date.now() - cutAt;
        return hubNoticedMs >= 0 && deviceNoticedMs >= 0;
      },
      120_000,
      250,
    );
    const healAt = Date.now();
    await cut(false);
    await waitFor("the link back", async () => (await hubLeafs()) === 1 && (await deviceLeafs()) === 1, 120_000, 250);
    const backMs = Date.now() - healAt;
    console.info(`partition: hub noticed after ${hubNoticedMs} ms, device after ${deviceNoticedMs} ms; link back ${backMs} ms after packets flowed again`);
    recordReliability("network-partition", {
      kind: "fault",
      fault: "silent network failure between device and hub: every packet on the link dropped (network namespace, iptables DROP), not refused",
      recoveryMs: backMs,
      measured: "packets flow again → the leaf link is up on both sides",
      events: 0,
      eventsLost: 0,
      alertsDuplicated: 0,
      notes: `noticed by the hub after ${(hubNoticedMs / 1000).toFixed(1)} s and by the device after ${(deviceNoticedMs / 1000).toFixed(1)} s (keepalive ${HUB_PING_INTERVAL_S} s × ${HUB_PING_MAX + 1}; nats-server's default would take about 6 min)`,
    });
    // Noticed at all, by keepalive rather than by any refusal (there was none to see).
    expect(hubNoticedMs).toBeGreaterThan(0);
    expect(deviceNoticedMs).toBeGreaterThan(0);
  });
});
