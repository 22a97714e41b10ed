import { TEST_ADMIN_PASSWORD } from "./web-session.js";
import { spawn, type ChildProcess } from "node:child_process";
import { signLiveToken } from "@picket/runtime";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export type LogLine = Record<string, unknown> & { level: string; msg: string };

/** A service process started from its compiled main.js, with its JSON log lines kept for assertions. */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  /** Everything written to stdout/stderr, for the secret scan and for debugging. */
  raw = "";
  private child: ChildProcess;
  private waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [join(ROOT, "services", name, "dist", "main.js")], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let pending = "";
    const onData = (d: Buffer) => {
      const text = d.toString();
      this.raw += text;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        let parsed: LogLine;
        try {
          parsed = JSON.parse(line) as LogLine;
        } catch {
          parsed = { level: "raw", msg: line };
        }
        this.logs.push(parsed);
        if (process.env.PICKET_TEST_LOGS === "1") process.stderr.write(`[${name}] ${line}\n`);
        this.waiters = this.waiters.filter((w) => {
          if (!w.match(parsed)) return true;
          w.resolve(parsed);
          return false;
        });
      }
    };
    this.child.stdout?.on("data", onData);
    this.child.stderr?.on("data", onData);
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 15_000, what = "log line"): Promise<LogLine> {
    const seen = this.logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: timed out waiting for ${what}\n${this.raw.slice(-3000)}`)), timeoutMs);
      const waiter = {
        match,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      this.waiters.push(waiter);
      // A process that exits will never log it: fail at once with what it said.
      void this.exited.then(({ code, signal }) => {
        if (!this.waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${signal ?? code}) while waiting for ${what}\n${this.raw.slice(-3000)}`));
      });
    });
  }

  waitForMsg(msg: string | RegExp, timeoutMs?: number): Promise<LogLine> {
    return this.waitForLog((l) => (typeof msg === "string" ? l.msg === msg : msg.test(l.msg)), timeoutMs, String(msg));
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** SIGTERM, then waits; returns exit code and how long it took. */
  async stop(): Promise<{ code: number | null; ms: number }> {
    const started = Date.now();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    const { code } = await this.exited;
    return { code, ms: Date.now() - started };
  }
}

/** Env every service needs in tests: its device, bus, quiet-ish logs and a free ops port. */
export function baseEnv(natsUrl: string, device: string): Record<string, string> {
  return {
    PICKET_NATS_URL: natsUrl,
    PICKET_DEVICE_ID: device,
    PICKET_LOG_LEVEL: "info",
    PICKET_HEARTBEAT_MS: "1000",
    PICKET_CAMERA_OPS_PORT: "0",
    PICKET_PIR_OPS_PORT: "0",
    PICKET_BOT_OPS_PORT: "0",
    PICKET_STREAM_OPS_PORT: "0",
    PICKET_WEB_OPS_PORT: "0",
    // The test scene's person would drive the sim PIR; tests drive it themselves.
    PICKET_TEST_SCENE_PIR: "false",
    // Viewers need the web's token, as with npm start: tests that open the stream port directly sign one (viewerQuery).
    PICKET_LIVE_SECRET: TEST_LIVE_SECRET,
    // The web's login: tests log in with it (test/support/web-session.ts).
    PICKET_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    // The pir service's outbox, one per test stack (not the repository's data/outbox).
    PICKET_OUTBOX_DIR: join(tmpdir(), `picket-outbox-${device}`),
  };
}

/** The web and stream services' shared secret in tests. */
export const TEST_LIVE_SECRET = "test-live-secret-0123456789abcdefghijkl";

/** `?token=…` for watching a camera straight from the stream port, as the web service would sign it. */
export function viewerQuery(device: string, profile = "*"): string {
  return `?token=${signLiveToken(TEST_LIVE_SECRET, { device, profile, exp: Date.now() + 3_600_000, sub: "test" })}`;
}

/**
 * Runs one of the command-line tools (`tools/stack/dist/<script>`) against the bus at `natsUrl`
 * (and `device`); resolves with its exit code and output.
 */
export function runCli(script: string, natsUrl: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return runCliOn({ natsUrl }, script, ...args);
}

export function runCliOn(target: { natsUrl: string; device?: string }, script: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, PICKET_NATS_URL: target.natsUrl, ...(target.device === undefined ? {} : { PICKET_DEVICE_ID: target.device }) };
    const child = spawn(process.execPath, [join(ROOT, "tools/stack/dist", script), ...args], { env });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}
