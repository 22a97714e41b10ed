import type { Logger } from "./logger.js";

type Stop = () => void | Promise<void>;

/**
 * Ordered start, reverse-order stop. Each started part registers how to stop it; on SIGTERM
 * or SIGINT the parts stop last-first under one hard deadline (balena kills at 10 s).
 */
export class Lifecycle {
  private readonly stops: { name: string; stop: Stop }[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly log: Logger,
    private readonly opts: { deadlineMs?: number; exit?: (code: number) => void } = {},
  ) {}

  /** Registers a part that has started. */
  add(name: string, stop: Stop): void {
    this.stops.push({ name, stop });
  }

  /** Stops every part, last first. Resolves when done or when the deadline passes. */
  shutdown(reason: string): Promise<void> {
    this.stopping ??= this.run(reason);
    return this.stopping;
  }

  private async run(reason: string): Promise<void> {
    const deadlineMs = this.opts.deadlineMs ?? 8_000;
    const started = Date.now();
    this.log.info({ reason }, "shutting down");
    const all = (async () => {
      for (const { name, stop } of [...this.stops].reverse()) {
        try {
          await stop();
        } catch (err) {
          this.log.error({ err, part: name }, "stop failed");
        }
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), deadlineMs);
    });
    const outcome = await Promise.race([all.then(() => "done" as const), late]);
    clearTimeout(timer);
    if (outcome === "late") this.log.error({ deadlineMs }, "shutdown deadline passed; exiting anyway");
    else this.log.info({ ms: Date.now() - started }, "stopped");
  }

  /** Installs SIGTERM/SIGINT handlers that shut down and exit 0. */
  handleSignals(): void {
    const exit = this.opts.exit ?? ((code: number) => process.exit(code));
    const onSignal = (signal: NodeJS.Signals) => {
      void this.shutdown(signal).then(() => exit(0));
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }
}

/**
 * Runs a service's start-up. A failure during start-up is logged once and exits 1: the
 * restart policy (compose, the stack launcher) decides what happens next.
 */
export async function runMain(log: Logger, lc: Lifecycle, start: () => Promise<void>): Promise<void> {
  lc.handleSignals();
  try {
    await start();
  } catch (err) {
    log.fatal({ err }, "failed to start");
    await lc.shutdown("start-up failed");
    process.exit(1);
  }
}
