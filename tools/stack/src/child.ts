import { spawn, type ChildProcess } from "node:child_process";
import { Backoff } from "@picket/runtime";

export interface ChildSpec {
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  /** Resolves start() once a line matches (the child says it is ready). */
  ready: RegExp;
  /** How to ask it to stop (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /** Restart it when it exits (default true). */
  restart?: boolean;
}

/**
 * One supervised child: started in its own process group (so Ctrl-C reaches only the
 * launcher, which then stops children in order), its output handed over line by line, and
 * restarted with backoff if it dies on its own, as compose's restart policy would.
 */
export class SupervisedChild {
  private proc: ChildProcess | undefined;
  private stopping = false;
  private readonly backoff = new Backoff({ initialMs: 1_000, maxMs: 30_000 });
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly spec: ChildSpec,
    private readonly onLine: (name: string, line: string) => void,
    private readonly onEvent: (name: string, msg: string) => void,
  ) {}

  /** Starts and resolves when ready; rejects if it exits first or stays silent for `timeoutMs`. */
  start(timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      // stdin is a pipe the child watches (PICKET_EXIT_WITH_PARENT): if the launcher dies
      // however it dies, the pipe closes and the child shuts down instead of lingering.
      const proc = spawn(this.spec.cmd, this.spec.args, { env: { ...process.env, ...this.spec.env }, stdio: ["pipe", "pipe", "pipe"], detached: true });
      this.proc = proc;
      const startedAt = Date.now();
      let ready = false;
      const timer = setTimeout(() => reject(new Error(`${this.spec.name} did not get ready within ${timeoutMs / 1000} s`)), timeoutMs);
      const lines = (stream: NodeJS.ReadableStream | null) => {
        let pending = "";
        stream?.setEncoding("utf8");
        stream?.on("data", (text: string) => {
          pending += text;
          const parts = pending.split("\n");
          pending = parts.pop() ?? "";
          for (const line of parts) {
            if (line.trim() === "") continue;
            this.onLine(this.spec.name, line);
            if (!ready && this.spec.ready.test(line)) {
              ready = true;
              clearTimeout(timer);
              resolve();
            }
          }
        });
      };
      lines(proc.stdout);
      lines(proc.stderr);
      proc.once("error", (err) => {
        clearTimeout(timer);
        reject(new Error(`${this.spec.name}: could not start ${this.spec.cmd}: ${err.message}`));
      });
      proc.once("exit", (code, signal) => {
        clearTimeout(timer);
        if (this.proc === proc) this.proc = undefined;
        // A failed start rejects (the launcher reports it) and is retried like a crash:
        // a Pi that boots before its network gets its bot once the network is there.
        if (!ready) reject(new Error(`${this.spec.name} exited (${signal ?? code}) before it was ready`));
        if (this.stopping || this.spec.restart === false) return;
        if (Date.now() - startedAt > 30_000) this.backoff.reset();
        const delay = this.backoff.next();
        this.onEvent(this.spec.name, `exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
        this.restartTimer = setTimeout(() => {
          this.start().catch(() => undefined); // its exit already said why, and schedules the next try
        }, delay);
      });
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(graceMs = 10_000): Promise<number | null> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const proc = this.proc;
    if (proc === undefined || proc.exitCode !== null) return proc?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    proc.kill(this.spec.stopSignal ?? "SIGTERM");
    const timer = setTimeout(() => {
      this.onEvent(this.spec.name, `still running after ${graceMs / 1000} s; killing it`);
      proc.kill("SIGKILL");
    }, graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}
