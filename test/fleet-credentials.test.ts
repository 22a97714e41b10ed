// Each device joins the hub with its own credentials and may act only as itself. A real hub
// nats-server from hubNatsConfig and two device nats-servers joined to it as leaf nodes (from
// deviceNatsConfig, each with its own password), on loopback; then what a household's hub
// relies on: a device's own messages and answers reach the hub, another device's name does not
// leave it, no device receives what is another's (video, answers, JetStream), a wrong password
// does not join, and `npm run hub` adds, rotates and removes devices on a running hub.
//
// What the servers showed about the direction of a leaf user's permissions (nats-server 2.9):
// they read from the hub's side, as for a client of the hub. `publish` is what the device may
// send into the hub; the hub tells the device's server, which drops the rest before it leaves
// the device (the hub does not check it again: see the tampered device below). `subscribe` is
// what the hub delivers to the device, and the hub enforces it itself.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Objm } from "@nats-io/obj";
import { EVENTS_STREAM, MEDIA_BUCKET, subjects } from "@picket/contracts";
import { connect, ensureEventsStream, jetstream, jetstreamManager, openMediaStore, type NatsConnection } from "@picket/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SupervisedChild } from "../tools/stack/src/child.js";
import { newDevicePassword } from "../tools/stack/src/hub-registry.js";
import { joinedDevices } from "../tools/stack/src/hub-server.js";
import { prepareNats } from "../tools/stack/src/launch-nats.js";
import { deviceInboxPrefix, deviceNatsConfig, hubNatsConfig } from "../tools/stack/src/nats-config.js";
import { hubUrlFor, loadStackConfig } from "../tools/stack/src/stack-config.js";
import { ROOT } from "./support/services.js";
import { freePort, waitFor } from "./support/ports.js";

const run = promisify(execFile);
const [A, B] = ["door", "shed"] as const;
/** How long a negative check waits for something that must not arrive. */
const QUIET_MS = 500;
const dir = mkdtempSync(join(tmpdir(), "picket-fleet-creds-"));
const children: ChildProcess[] = [];
const clients: NatsConnection[] = [];
const secrets = { [A]: newDevicePassword(), [B]: newDevicePassword() };

interface Server {
  port: number;
  log: () => string;
}

/** A nats-server with `config` (given its client port); resolves once it is ready. */
async function natsServer(name: string, config: (port: number) => string): Promise<Server> {
  const port = await freePort();
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, config(port));
  const proc = spawn("nats-server", ["-c", file], { stdio: ["ignore", "ignore", "pipe"] });
  children.push(proc);
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: nats-server did not start:\n${log}`)), 15_000);
    proc.stderr?.on("data", (d: Buffer) => {
      log += d.toString();
      if (log.includes("Server is ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once("exit", (code) => reject(new Error(`${name}: nats-server exited with ${code}:\n${log}`)));
  });
  return { port, log: () => log };
}

async function client(port: number, opts: { inboxPrefix?: string; user?: string; pass?: string } = {}): Promise<NatsConnection> {
  const nc = await connect({ servers: `127.0.0.1:${port}`, ...opts });
  clients.push(nc);
  return nc;
}

/** Every message on `subject` at `nc`, as they come. */
function collect(nc: NatsConnection, subject: string): string[] {
  const got: string[] = [];
  nc.subscribe(subject, { callback: (_err, m) => got.push(`${m.subject} ${m.string()}`) });
  return got;
}

const quiet = () => new Promise((r) => setTimeout(r, QUIET_MS));

/** `p`, or a failure naming `what` after `ms`: a stalled transfer fails the test instead of hanging it. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The devices joined to the hub whose monitoring port is `http`. */
async function leafNames(http: number): Promise<string[]> {
  return joinedDevices(await (await fetch(`http://127.0.0.1:${http}/leafz?subs=1`)).json());
}

function deviceConfig(id: string, hubUrl: string) {
  return (port: number) => deviceNatsConfig({ host: "127.0.0.1", port, storeDir: join(dir, id), serverName: id, hub: { url: hubUrl } });
}

let hubHttp = 0;
let leafPort = 0;
let hub: Server;
let devA: Server;
let devB: Server;
let hubNc: NatsConnection;
let aNc: NatsConnection;
let bNc: NatsConnection;

beforeAll(async () => {
  [hubHttp, leafPort] = [await freePort(), await freePort()];
  hub = await natsServer("hub", (port) =>
    hubNatsConfig({
      host: "127.0.0.1",
      port,
      storeDir: join(dir, "hub"),
      httpPort: hubHttp,
      leaf: { host: "127.0.0.1", port: leafPort },
      devices: [A, B].map((id) => ({ id, passwordHash: secrets[id].passwordHash })),
    }),
  );
  devA = await natsServer(A, deviceConfig(A, hubUrlFor(A, secrets[A].password, "127.0.0.1", leafPort)));
  devB = await natsServer(B, deviceConfig(B, hubUrlFor(B, secrets[B].password, "127.0.0.1", leafPort)));
  await waitFor("both devices joined the hub", async () => (await leafNames(hubHttp)).join() === [A, B].sort().join(), 20_000, 100);
  [hubNc, aNc, bNc] = [await client(hub.port), await client(devA.port), await client(devB.port)];
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((nc) => nc.close().catch(() => undefined)));
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("a device on the hub acts only as itself", () => {
  it("sends its own subjects to the hub, while a message in another device's name never leaves it", async () => {
    const atHub = collect(hubNc, "picket.>");
    const atB = collect(bNc, subjects.heartbeat(B, "camera"));
    await hubNc.flush();
    await bNc.flush();
    // Interest reaches the devices a moment after the subscriptions: keep sending until the
    // hub has A's own heartbeat. A message forged before it on the same link would come first.
    await waitFor("A's heartbeat at the hub", async () => {
      aNc.publish(subjects.heartbeat(B, "camera"), "forged by A");
      aNc.publish(subjects.heartbeat(A, "camera"), "A itself");
      await aNc.flush();
      return atHub.includes(`${subjects.heartbeat(A, "camera")} A itself`);
    });
    await quiet();
    expect(atHub.filter((m) => m.includes("forged"))).toEqual([]);
    expect(atB).toEqual([]);
    // The same subject from B itself does reach the hub.
    bNc.publish(subjects.heartbeat(B, "camera"), "B itself");
    await waitFor("B's heartbeat at the hub", () => atHub.includes(`${subjects.heartbeat(B, "camera")} B itself`));
  });

  it("answers the hub's requests addressed to it, and sees none addressed to another device", async () => {
    aNc.subscribe(subjects.snapshot(A), { callback: (_e, m) => m.respond(`jpeg of ${A}`) });
    const atB = collect(bNc, subjects.snapshot(A));
    await aNc.flush();
    await bNc.flush();
    const reply = await waitFor("A's snapshot", () => hubNc.request(subjects.snapshot(A), "", { timeout: 1_000 }), 10_000, 100);
    expect(reply.string()).toBe(`jpeg of ${A}`);
    await quiet();
    expect(atB).toEqual([]);
  });

  it("cannot watch another device's video, nor read the answers the hub gets from it", async () => {
    const frames = collect(hubNc, subjects.video(B, "high"));
    // A client of its own: its `_INBOX.>` would also catch the answers to its own requests.
    const spy = await client(devA.port);
    const atA = collect(spy, subjects.videoAll(B));
    const inboxesAtA = collect(spy, "_INBOX.>");
    bNc.subscribe(subjects.snapshot(B), { callback: (_e, m) => m.respond(`jpeg of ${B}`) });
    await Promise.all([hubNc.flush(), spy.flush(), bNc.flush()]);
    let sent = 0;
    await waitFor("B's frames at the hub", async () => {
      bNc.publish(subjects.video(B, "high"), `frame ${++sent}`);
      await bNc.flush();
      return frames.length >= 5;
    });
    const snap = await waitFor("B's snapshot", () => hubNc.request(subjects.snapshot(B), "", { timeout: 1_000 }), 10_000, 100);
    expect(snap.string()).toBe(`jpeg of ${B}`);
    await quiet();
    expect(atA).toEqual([]);
    expect(inboxesAtA).toEqual([]);
    await spy.close();
  });

  it("gets answers to its own requests to the hub only through its own inbox prefix", async () => {
    const subject = `picket.${A}.fleet.hello`;
    hubNc.subscribe(subject, { callback: (_e, m) => m.respond("hello from the hub") });
    await hubNc.flush();
    const own = await client(devA.port, { inboxPrefix: deviceInboxPrefix(A) });
    const reply = await waitFor("the hub's answer", () => own.request(subject, "", { timeout: 1_000 }), 10_000, 100);
    expect(reply.string()).toBe("hello from the hub");
    // The default `_INBOX.` is the hub's own replies' namespace: nothing arrives there for a device.
    await expect(aNc.request(subject, "", { timeout: QUIET_MS })).rejects.toThrow(/timeout/i);
  });

  it("lets the hub use its JetStream through its domain, and reaches no other device's", async () => {
    await ensureEventsStream(aNc);
    await jetstream(aNc).publish(subjects.event(A, "presence"), JSON.stringify({ on: A }));
    // 8 MB: past a push consumer's flow control, which needs `$JS.FC.>` to reach the device.
    const clip = new Uint8Array(8_000_000).map((_, i) => i % 251);
    const media = await openMediaStore(aNc, { maxBytes: 64 * 1024 * 1024, maxAgeMs: 3_600_000 });
    await media.put("clips/fleet.mp4", clip, { contentType: "video/mp4" });

    const hubToA = await jetstreamManager(hubNc, { domain: A });
    const names: string[] = [];
    for await (const name of hubToA.streams.names()) names.push(name);
    expect(names.sort()).toEqual([EVENTS_STREAM, `OBJ_${MEDIA_BUCKET}`].sort());
    const event = await hubToA.streams.getMessage(EVENTS_STREAM, { last_by_subj: subjects.event(A, "presence") });
    expect(event.json()).toEqual({ on: A });
    const bucket = await new Objm(jetstream(hubNc, { domain: A })).open(MEDIA_BUCKET);
    const got = await within(20_000, "the clip from the device's object store", bucket.getBlob("clips/fleet.mp4"));
    expect(Buffer.from(got ?? []).equals(Buffer.from(clip))).toBe(true);

    await expect(jetstreamManager(aNc, { domain: B })).rejects.toThrow();
    await expect(jetstreamManager(aNc, { domain: "hub" })).rejects.toThrow();
  });

  it("does not join with a wrong password, and its credentials open nothing but its leaf link", async () => {
    // A's name with a wrong password (as a stolen id would try), then no credentials at all.
    const wrong = await natsServer("gate", deviceConfig("gate", hubUrlFor(A, "not-the-password", "127.0.0.1", leafPort)));
    const none = await natsServer("open", (port) => deviceNatsConfig({ host: "127.0.0.1", port, storeDir: join(dir, "open"), serverName: "open", hub: { url: `nats-leaf://127.0.0.1:${leafPort}` } }));
    for (const refused of [wrong, none]) await waitFor("the hub's refusal", () => refused.log().includes("Authorization Violation"), 10_000, 100);
    expect(hub.log()).toMatch(new RegExp(`authentication error - User "${A}"`));
    expect(await leafNames(hubHttp)).toEqual([A, B].sort());
    expect(wrong.log()).not.toContain("not-the-password");
    // A's own password on the hub's client port: refused too.
    await expect(connect({ servers: `127.0.0.1:${hub.port}`, user: A, pass: secrets[A].password, reconnect: false })).rejects.toThrow(/Authorization/);
    // The devices' servers never log their hub password.
    expect(devA.log()).not.toContain(secrets[A].password);
  });
});

/**
 * A device whose nats-server was replaced by something that speaks the leaf protocol with A's
 * password and ignores the permissions the hub sends it: sends `lines`, then a PING, and
 * returns what the hub answered until its PONG or the hub closing the link.
 */
async function tamperedLeaf(lines: string[]): Promise<{ answer: string; closed: boolean }> {
  const sock = createConnection(leafPort, "127.0.0.1");
  sock.setEncoding("utf8");
  let answer = "";
  let closed = false;
  sock.on("data", (d: string) => (answer += d));
  sock.on("close", () => (closed = true));
  await waitFor("the hub's INFO", () => answer.startsWith("INFO "));
  sock.write(`CONNECT ${JSON.stringify({ user: A, pass: secrets[A].password, name: "tampered", headers: true })}\r\nPING\r\n`);
  await waitFor("logged in", () => answer.includes("PONG"));
  answer = "";
  sock.write(`${lines.join("")}PING\r\n`);
  await waitFor("the hub's answer", () => closed || answer.includes("PONG"), 10_000);
  sock.destroy();
  return { answer, closed };
}

describe("a tampered device", () => {
  it("is refused what belongs to another device, logged by the hub and disconnected", async () => {
    const { answer, closed } = await tamperedLeaf([`LS+ ${subjects.video(B, "high")}\r\n`]);
    expect(answer).toContain(`-ERR 'Permissions Violation for Subscription to "${subjects.video(B, "high")}"'`);
    expect(closed).toBe(true);
    await waitFor("the hub's log line", () => hub.log().includes(`Subscription Violation on "${subjects.video(B, "high")}"`));
  });

  // nats-server 2.9 leaves the device → hub direction to the device's own server: a server
  // that ignores the permissions can publish in another device's name. When a nats-server
  // checks it on the hub too, this starts to pass and vitest reports it: drop `.fails` then.
  it.fails("is refused a message in another device's name by the hub itself", async () => {
    const atHub = collect(hubNc, subjects.heartbeat(B, "pir"));
    await hubNc.flush();
    await tamperedLeaf([`LMSG ${subjects.heartbeat(B, "pir")} 6\r\nforged\r\n`]);
    await quiet();
    expect(atHub).toEqual([]);
  });
});

describe("npm run hub", () => {
  const hubCli = join(ROOT, "tools", "stack", "dist", "hub-cli.js");
  const data = join(dir, "cli-hub");
  let env: Record<string, string>;
  let log = "";
  let hubNats: SupervisedChild | undefined;

  const cli = async (...args: string[]): Promise<{ code: number; out: string }> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [hubCli, ...args], { env: { ...process.env, ...env } });
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout + e.stderr };
    }
  };
  const urlIn = (out: string) => /PICKET_HUB_URL=(\S+)/.exec(out)?.[1] ?? "";

  afterAll(async () => {
    await hubNats?.stop();
  });

  it("adds a device whose printed credentials join a running hub, and locks it out again on rotate and remove", async () => {
    const [natsPort, leaf, http] = [await freePort(), await freePort(), await freePort()];
    env = { PICKET_ROLE: "hub", PICKET_DATA_DIR: data, PICKET_NATS_PORT: String(natsPort), PICKET_HUB_LEAF_PORT: String(leaf), PICKET_HUB_MONITOR_PORT: String(http), PICKET_HUB_HOST: "127.0.0.1" };
    // The hub's nats-server as `npm start` runs it: its config, supervised and restarted.
    const launch = prepareNats(loadStackConfig(env), data);
    hubNats = new SupervisedChild(launch.spec, (_name, line) => (log += `${line}\n`), (_name, msg) => (log += `${msg}\n`));
    await hubNats.start(15_000);

    const added = await cli("add-device", "gate");
    expect(added.code).toBe(0);
    expect(added.out).toContain("reloaded its configuration");
    const url = urlIn(added.out);
    expect(url).toMatch(new RegExp(`^nats-leaf://gate:[A-Za-z0-9_-]{32}@127\\.0\\.0\\.1:${leaf}$`));
    const password = decodeURIComponent(new URL(url).password);
    // The hub keeps a hash, in files only its owner reads.
    const files = ["devices.json", "nats.conf"].map((f) => join(data, "hub", f));
    for (const f of files) {
      expect(readFileSync(f, "utf8")).not.toContain(password);
      expect(statSync(f).mode & 0o777).toBe(0o600);
    }
    const again = await cli("add-device", "gate");
    expect(again.code).toBe(2);
    expect(again.out).toMatch(/already registered.*--rotate/);
    expect((await cli("add-device", "a.b")).code).toBe(2);

    const gate = await natsServer("cli-gate", deviceConfig("gate", url));
    await waitFor("gate joined", async () => (await leafNames(http)).includes("gate"), 20_000, 100);
    expect((await cli("list")).out).toMatch(/gate\s+\S+ \S+\s+-\s+yes/);
    const hubSide = await client(natsPort);
    const beats = collect(hubSide, subjects.heartbeat("gate", "camera"));
    await hubSide.flush();
    const gateNc = await client(gate.port);
    await waitFor("gate's heartbeat at the hub", async () => {
      gateNc.publish(subjects.heartbeat("gate", "camera"), "up");
      await gateNc.flush();
      return beats.length > 0;
    });

    // A new password: the link made with the old one is cut, and the old one no longer joins.
    const rotated = await cli("add-device", "gate", "--rotate");
    expect(rotated.code).toBe(0);
    expect(rotated.out).toContain("restarted");
    expect(urlIn(rotated.out)).not.toBe(url);
    await waitFor("the old password refused", () => /authentication error - User "gate"/.test(log), 20_000, 100);
    expect(await leafNames(http)).not.toContain("gate");

    await natsServer("cli-gate-new", deviceConfig("gate", urlIn(rotated.out)));
    await waitFor("gate joined with its new password", async () => (await leafNames(http)).includes("gate"), 20_000, 100);

    const removed = await cli("remove-device", "gate");
    expect(removed.code).toBe(0);
    expect(removed.out).toContain("cannot join again");
    const refusals = (log.match(/authentication error - User "gate"/g) ?? []).length;
    await waitFor("gate refused after its removal", () => (log.match(/authentication error - User "gate"/g) ?? []).length > refusals, 20_000, 100);
    expect(await leafNames(http)).not.toContain("gate");
    expect((await cli("list")).out).toContain("No devices registered");
    expect((await cli("remove-device", "gate")).code).toBe(2);
  });

  it("registers a device before the hub ever started here, for its first start", async () => {
    env = { PICKET_DATA_DIR: join(dir, "cli-new-hub"), PICKET_HUB_MONITOR_PORT: String(await freePort()), PICKET_HUB_HOST: "hub.lan" };
    const added = await cli("add-device", "porch");
    expect(added.code).toBe(0);
    expect(urlIn(added.out)).toMatch(/^nats-leaf:\/\/porch:[A-Za-z0-9_-]{32}@hub\.lan:7422$/);
    expect(added.out).toContain("has not started here yet");
    expect(readFileSync(join(dir, "cli-new-hub", "hub", "devices.json"), "utf8")).toContain('"id": "porch"');
    expect((await cli("list")).out).toMatch(/porch\s+\S+ \S+\s+-\s+\?/);
    expect((await cli("add-device")).code).toBe(2);
  });

  it("writes a device's own config with its hub link only its owner can read, and logs the link masked", () => {
    const deviceData = join(dir, "device-data");
    const url = hubUrlFor(A, secrets[A].password, "hub.lan", 7422);
    const launch = prepareNats(loadStackConfig({ PICKET_DEVICE_ID: A, PICKET_HUB_URL: url, PICKET_DATA_DIR: deviceData }), deviceData);
    const config = launch.spec.args[1] as string;
    expect(readFileSync(config, "utf8")).toContain(`url: "${url}"`);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(launch.notes.join("\n")).toContain(`nats-leaf://${A}:***@hub.lan:7422`);
    expect(launch.notes.join("\n")).not.toContain(secrets[A].password);
    expect(() => prepareNats(loadStackConfig({ PICKET_DEVICE_ID: B, PICKET_HUB_URL: url, PICKET_DATA_DIR: deviceData }), deviceData)).toThrow(/logs in as "door" but this device is "shed"/);
  });
});
