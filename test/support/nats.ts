import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** The running server's process id. */
  readonly pid: number | undefined;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

export interface NatsOptions {
  /** The server's max_payload in bytes (default 1 MB, as NATS ships). */
  maxPayload?: number;
  /**
   * The whole configuration instead (a hub's, a leaf device's), given the client port and the
   * store directory; the server then runs with `-c` alone.
   */
  config?: (port: number, storeDir: string) => string;
}

/** A real nats-server with JetStream on a free loopback port and a fresh store. */
export async function startNats(opts: NatsOptions = {}): Promise<NatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), "picket-nats-"));
  const conf = join(storeDir, "nats.conf");
  writeFileSync(conf, opts.config?.(port, storeDir) ?? (opts.maxPayload === undefined ? "" : `max_payload: ${opts.maxPayload}\n`));
  const args = opts.config === undefined ? ["-c", conf, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir] : ["-c", conf];
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn("nats-server", args, { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let log = "";
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 10_000);
      proc.stderr?.on("data", (d: Buffer) => {
        log += d.toString();
        if (log.includes("Server is ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${log}`));
      });
    });
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    // Already gone (a test killed it with SIGKILL): its exit event has passed.
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    get pid() {
      return child?.exitCode === null ? child.pid : undefined;
    },
    port,
    storeDir,
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
