import type { ServiceName } from "@picket/contracts";
import { ConfigError, isConfigError, loadConfig, type ConfigOf, type ConfigSpec } from "./config.js";
import { Lifecycle } from "./lifecycle.js";
import { createLogger, type Logger } from "./logger.js";
import { createMetrics, type ServiceMetrics } from "./metrics.js";

/**
 * The first lines of every main.ts: validated config (or one clear fatal line and exit 1),
 * the root logger, metrics and the lifecycle with its signal handlers.
 */
export function bootService<S extends ConfigSpec & { deviceId: unknown; logLevel: unknown; exitWithParent: unknown }>(
  service: ServiceName,
  spec: S,
  /** Checks between settings (one needs another): each problem is a line naming the variables. */
  check?: (cfg: ConfigOf<S>) => string[],
): { cfg: ConfigOf<S>; log: Logger; lc: Lifecycle; metrics: ServiceMetrics } {
  let cfg: ConfigOf<S>;
  try {
    cfg = loadConfig(spec, process.env);
    const problems = check?.(cfg) ?? [];
    if (problems.length > 0) throw new ConfigError(problems);
  } catch (err) {
    const log = createLogger({ service, device: process.env.PICKET_DEVICE_ID ?? "-", level: "info" });
    if (isConfigError(err)) log.fatal({ problems: err.problems }, `bad configuration: ${err.problems.join("; ")}`);
    else log.fatal({ err }, "bad configuration");
    process.exit(1);
  }
  const device = cfg.deviceId as string;
  const log = createLogger({ service, device, level: cfg.logLevel as string });
  const lc = new Lifecycle(log);
  if (cfg.exitWithParent === true) {
    // The launcher holds the other end of stdin, which closes when it dies, however it dies;
    // a re-parented process (the parent pid changes) is the backstop.
    // Its stdout is gone too: log nothing more (a write to the dead pipe would be retried at
    // exit for ever), stop the parts in order, then leave without running exit handlers.
    const gone = () => {
      log.level = "silent";
      void lc.shutdown("the launcher is gone").then(() => process.kill(process.pid, "SIGKILL"));
    };
    process.stdin.on("end", gone);
    process.stdin.on("error", () => undefined);
    process.stdin.resume();
    const parent = process.ppid;
    setInterval(() => process.ppid !== parent && gone(), 1_000).unref();
  }
  return { cfg, log, lc, metrics: createMetrics(service, device) };
}
