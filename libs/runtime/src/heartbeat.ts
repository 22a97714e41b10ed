import { Heartbeat, subjects, type ServiceName } from "@picket/contracts";
import type { NatsConnection } from "@nats-io/transport-node";
import { readFileSync } from "node:fs";

/** Where Linux (a Raspberry Pi's SoC included) reports the CPU's temperature, in millidegrees. */
export const SOC_TEMPERATURE_FILE = "/sys/class/thermal/thermal_zone0/temp";

/** The CPU's temperature in °C (one decimal), or undefined where it cannot be read (containers without sysfs, most VMs). */
export function readTemperatureC(file = SOC_TEMPERATURE_FILE): number | undefined {
  try {
    const milli = Number(readFileSync(file, "utf8").trim());
    return Number.isFinite(milli) && milli > -50_000 && milli < 150_000 ? Math.round(milli / 100) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** The process's own figures for a heartbeat: uptime, RSS and CPU since the previous call. */
export function processVitals(): () => { uptimeS: number; rssBytes: number; cpuPct: number } {
  let lastCpu = process.cpuUsage();
  let lastAt = process.hrtime.bigint();
  return () => {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(lastCpu);
    const elapsedUs = Number(now - lastAt) / 1000;
    lastCpu = process.cpuUsage();
    lastAt = now;
    const cpuPct = elapsedUs > 0 ? Math.round(((cpu.user + cpu.system) / elapsedUs) * 1000) / 10 : 0;
    return { uptimeS: Math.round(process.uptime()), rssBytes: process.memoryUsage.rss(), cpuPct };
  };
}

/**
 * Publishes this service's heartbeat now and every `intervalMs`. Publishing while the bus is
 * down is harmless (the client buffers a little, then the next beat tells the truth).
 */
export function startHeartbeat(opts: {
  nc: NatsConnection;
  device: string;
  service: ServiceName;
  version: string;
  intervalMs: number;
  vitals?: () => Record<string, number>;
  /** Report the CPU temperature as the `temperatureC` vital where readable (one service per device does). */
  temperature?: boolean;
}): () => void {
  const own = processVitals();
  const temperature = () => {
    const c = opts.temperature === true ? readTemperatureC() : undefined;
    return c === undefined ? {} : { temperatureC: c };
  };
  const beat = () => {
    const hb: Heartbeat = Heartbeat.parse({
      device: opts.device,
      service: opts.service,
      version: opts.version,
      at: Date.now(),
      ...own(),
      vitals: { ...temperature(), ...opts.vitals?.() },
    });
    if (!opts.nc.isClosed()) opts.nc.publish(subjects.heartbeat(opts.device, opts.service), JSON.stringify(hb));
  };
  beat();
  const timer = setInterval(beat, opts.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
