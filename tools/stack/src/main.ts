import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isConfigError } from "@picket/runtime";
import { SupervisedChild, type ChildSpec } from "./child.js";
import { hubFiles } from "./hub-server.js";
import { prepareNats } from "./launch-nats.js";
import { formatLogLine, natsLine } from "./log-format.js";
import { dataDirOf, loadStackConfig, type StackConfig } from "./stack-config.js";

/**
 * `npm start`: the whole device stack on one machine, as docker-compose runs it on a Pi. A
 * nats-server with JetStream (unless PICKET_NATS_URL names one; joined to a hub when
 * PICKET_HUB_URL is set), then camera, pir, bot, stream and web, each started once the one
 * before is ready; Ctrl-C stops them in reverse. With PICKET_ROLE=hub: the hub's nats-server
 * (devices join it as leaf nodes), then the fleet failure detector, bot, stream and web. With
 * PICKET_MQTT_URL, the Home Assistant bridge last.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
let cfg: StackConfig;
try {
  cfg = loadStackConfig(process.env);
} catch (err) {
  process.stderr.write(`${isConfigError(err) ? err.message : String(err)}\n`);
  process.exit(2);
}
const dataDir = dataDirOf(cfg, root);
const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const json = cfg.logFormat === "json";
const print = (name: string, line: string) => {
  const entry = name === "nats" ? natsLine(line) : line;
  if (entry !== undefined) process.stdout.write(`${json ? entry : formatLogLine(name, entry, color)}\n`);
};
const say = (name: string, msg: string) => print(name, JSON.stringify({ level: "info", time: new Date().toISOString(), msg }));
const warn = (name: string, msg: string) => print(name, JSON.stringify({ level: "warn", time: new Date().toISOString(), msg }));

const specs: ChildSpec[] = [];
const env: Record<string, string> = {};
if (cfg.natsUrl === undefined) {
  try {
    const nats = prepareNats(cfg, dataDir);
    specs.push(nats.spec);
    env.PICKET_NATS_URL = nats.url;
    for (const note of nats.notes) say("stack", note);
  } catch (err) {
    warn("stack", (err as Error).message);
    process.exit(2);
  }
} else if (cfg.hubUrl !== undefined || cfg.role === "hub") {
  warn("stack", "PICKET_HUB_URL and PICKET_ROLE=hub configure the NATS server npm start runs; with PICKET_NATS_URL set, configure the hub link on that server");
}
env.PICKET_EXIT_WITH_PARENT = "1";
// The pir service's outbox of events not yet stored (a broker outage) lives beside the bus's data.
if ((process.env.PICKET_OUTBOX_DIR ?? "") === "") env.PICKET_OUTBOX_DIR = join(dataDir, "outbox");
// No PICKET_LIVE_SECRET here: the web and stream services share one kept in the bus, so HLS
// links handed to players outlive a restart.
const service = (name: string, ready: RegExp): ChildSpec => ({ name, cmd: process.execPath, args: [join(root, "services", name, "dist", "main.js")], env, ready });
// A hub has no camera or PIR of its own.
if (cfg.role !== "hub") specs.push(service("camera", /"msg":"camera starting"/), service("pir", /"msg":"(simulated PIR|PIR on GPIO)/));
// A hub's failure detector first: it holds back its verdicts until every device had its time to be heard.
// It follows the devices `npm run hub` registers here, and forgets one removed.
if (cfg.role === "hub") specs.push({ ...service("fleet", /"msg":"fleet watching/), env: { ...env, PICKET_FLEET_REGISTRY: process.env.PICKET_FLEET_REGISTRY ?? hubFiles(dataDir).registry } });
specs.push(service("bot", /"msg":"bot (polling|off)/), service("stream", /"msg":"serving viewers/), service("web", /"msg":"web UI on/));
// Home Assistant (MQTT discovery), where a broker is named.
if ((process.env.PICKET_MQTT_URL ?? "") !== "") specs.push(service("ha", /"msg":"Home Assistant bridge (on|off)/));

const children = specs.map((spec) => ({ spec, child: new SupervisedChild(spec, print, warn) }));
let shuttingDown = false;

async function shutdown(signal: string, exitCode = 0): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  say("stack", `${signal}: stopping services in reverse order`);
  const started = Date.now();
  const codes: string[] = [];
  for (const { spec, child } of [...children].reverse()) {
    const code = await child.stop();
    codes.push(`${spec.name}=${code ?? "-"}`);
  }
  say("stack", `stopped in ${((Date.now() - started) / 1000).toFixed(1)} s (exit codes ${codes.join(" ")})`);
  process.exit(exitCode);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGHUP", () => void shutdown("SIGHUP"));

const failed: string[] = [];
for (const { spec, child } of children) {
  if (shuttingDown) break;
  try {
    await child.start(spec.name === "nats" ? 15_000 : 30_000);
  } catch (err) {
    failed.push(spec.name);
    if (spec.name === "nats") {
      warn("stack", `${(err as Error).message}. Is another NATS server using its port? Stop it, set PICKET_NATS_PORT, or set PICKET_NATS_URL to use it.`);
      await shutdown("start-up failed", 1);
    }
    warn("stack", `${(err as Error).message}; the rest of the stack goes on, and it is retried`);
  }
}
if (!shuttingDown) {
  const port = process.env.PICKET_HTTP_PORT ?? "8080";
  if (failed.length === 0) say("stack", `Picket is up: open http://localhost:${port}/ and log in as admin (Ctrl-C stops everything)`);
  else warn("stack", `Picket is up without ${failed.join(", ")} for now (see the errors above; retrying)${failed.includes("web") ? "" : `: open http://localhost:${port}/`}; Ctrl-C stops everything`);
}
