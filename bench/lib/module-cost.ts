// What importing a package costs a Node process: a fresh `node --expose-gc` imports the
// packages (resolved from a workspace directory, as the service would), collects garbage,
// waits for V8 to give memory back, and reports its RSS and heap. Compared with a bare node.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../../test/support/services.js";

export interface ModuleCost {
  rssMB: number;
  anonMB: number;
  fileMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
}

const PROBE = `
import { readFileSync } from "node:fs";
for (const m of (process.env.PROBE_MODULES ?? "").split(" ").filter(Boolean)) await import(m);
globalThis.gc();
await new Promise((r) => setTimeout(r, Number(process.env.PROBE_SETTLE_MS)));
globalThis.gc();
await new Promise((r) => setTimeout(r, 300));
const st = readFileSync("/proc/self/status", "utf8");
const mb = (k) => Math.round(Number(new RegExp("^" + k + ":\\\\s+(\\\\d+)", "m").exec(st)[1]) / 102.4) / 10;
const mu = process.memoryUsage();
const r = (b) => Math.round(b / 2 ** 20 * 10) / 10;
console.log(JSON.stringify({ rssMB: mb("VmRSS"), anonMB: mb("RssAnon"), fileMB: mb("RssFile"), heapUsedMB: r(mu.heapUsed), heapTotalMB: r(mu.heapTotal) }));
`;

/** Imports `modules` (bare specifiers) in a fresh node whose cwd is `dir` (relative to the repo). */
export function moduleCost(dir: string, modules: string[], settleMs = 12_000): Promise<ModuleCost> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--input-type=module", "-e", PROBE], {
      cwd: join(ROOT, dir),
      env: { PATH: process.env.PATH ?? "", PROBE_MODULES: modules.join(" "), PROBE_SETTLE_MS: String(settleMs) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code) => {
      if (code === 0) resolve(JSON.parse(out) as ModuleCost);
      else reject(new Error(`probe of ${modules.join(", ") || "bare node"} failed (${code}): ${err.slice(0, 500)}`));
    });
  });
}

/** The service's dependencies, one at a time and as each service loads them, against bare node (all probes run at once). */
export async function serviceModuleCosts(): Promise<Record<string, ModuleCost & { rssOverBareMB: number; heapOverBareMB: number }>> {
  const runtimeDir = "libs/runtime";
  const probes: Record<string, [string, string[]]> = {
    "bare node": [runtimeDir, []],
    zod: [runtimeDir, ["zod"]],
    pino: [runtimeDir, ["pino"]],
    "prom-client": [runtimeDir, ["prom-client"]],
    "@nats-io (transport-node, jetstream, kv)": [runtimeDir, ["@nats-io/transport-node", "@nats-io/jetstream", "@nats-io/kv"]],
    "@picket/contracts (zod schemas)": [runtimeDir, ["@picket/contracts"]],
    "@picket/runtime (all of the above)": [runtimeDir, ["@picket/runtime"]],
    ws: ["services/stream", ["ws"]],
    fastify: ["services/web", ["fastify"]],
    "fastify + @fastify/static": ["services/web", ["fastify", "@fastify/static"]],
    telegraf: ["services/bot", ["telegraf"]],
    onoff: ["services/pir", ["onoff"]],
    "camera's set (runtime)": ["services/camera", ["@picket/runtime", "@picket/contracts"]],
    "pir's set (runtime, onoff)": ["services/pir", ["@picket/runtime", "onoff"]],
    "bot's set (runtime, telegraf)": ["services/bot", ["@picket/runtime", "telegraf"]],
    "stream's set (runtime, ws)": ["services/stream", ["@picket/runtime", "ws"]],
    "web's set (runtime, fastify, @fastify/static, ws)": ["services/web", ["@picket/runtime", "fastify", "@fastify/static", "ws"]],
  };
  const names = Object.keys(probes);
  const costs = await Promise.all(names.map((n) => moduleCost(...(probes[n] as [string, string[]]))));
  const bare = costs[0] as ModuleCost;
  const round = (n: number) => Math.round(n * 10) / 10;
  return Object.fromEntries(
    names.map((n, i) => {
      const c = costs[i] as ModuleCost;
      return [n, { ...c, rssOverBareMB: round(c.rssMB - bare.rssMB), heapOverBareMB: round(c.heapUsedMB - bare.heapUsedMB) }];
    }),
  );
}
