import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SupervisedChild, type ChildSpec } from "./child.js";
import { formatLogLine, natsLine } from "./log-format.js";

/**
 * `npm start`: the whole device stack on one machine, as docker-compose runs it on a Pi. A
 * nats-server with JetStream (unless PICKET_NATS_URL names one), then camera, pir, bot,
 * stream and web, each started once the one before is ready; Ctrl-C stops them in reverse.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const json = process.env.PICKET_LOG_FORMAT === "json";
const print = (name: string, line: string) => {
  const entry = name === "nats" ? natsLine(line) : line;
  if (entry !== undefined) process.stdout.write(`${json ? entry : formatLogLine(name, entry, color)}\n`);
};
const say = (name: string, msg: string) => print(name, JSON.stringify({ level: "info", time: new Date().toISOString(), msg }));
const warn = (name: string, msg: string) => print(name, JSON.stringify({ level: "warn", time: new Date().toISOString(), msg }));

const specs: ChildSpec[] = [];
const env: Record<string, string> = {};
if (process.env.PICKET_NATS_URL === undefined || process.env.PICKET_NATS_URL === "") {
  const store = join(process.env.PICKET_DATA_DIR ?? join(root, "data"), "nats");
  mkdirSync(store, { recursive: true });
  const port = process.env.PICKET_NATS_PORT ?? "4222";
  // nats-server exits 0 on SIGINT (1 on SIGTERM).
  specs.push({ name: "nats", cmd: "nats-server", args: ["-a", "127.0.0.1", "-p", port, "-js", "-sd", store, "-n", "picket"], ready: /Server is ready/, stopSignal: "SIGINT", restart: false });
  env.PICKET_NATS_URL = `nats://127.0.0.1:${port}`;
}
env.PICKET_EXIT_WITH_PARENT = "1";
// The pir service's outbox of events not yet stored (a broker outage) lives beside the bus's data.
if ((process.env.PICKET_OUTBOX_DIR ?? "") === "") env.PICKET_OUTBOX_DIR = join(process.env.PICKET_DATA_DIR ?? join(root, "data"), "outbox");
// No PICKET_LIVE_SECRET here: the web and stream services share one kept in the bus, so HLS
// links handed to players outlive a restart.
const service = (name: string, ready: RegExp): ChildSpec => ({ name, cmd: process.execPath, args: [join(root, "services", name, "dist", "main.js")], env, ready });
specs.push(
  service("camera", /"msg":"camera starting"/),
  service("pir", /"msg":"(simulated PIR|PIR on GPIO)/),
  service("bot", /"msg":"bot (polling|off)/),
  service("stream", /"msg":"serving viewers/),
  service("web", /"msg":"web UI on/),
);

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
