import { Counter, Registry, collectDefaultMetrics } from "prom-client";

export { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface ServiceMetrics {
  registry: Registry;
  /** Bus messages that failed validation, by subject pattern. */
  badMessages: Counter<"subject">;
}

/** A registry with Node's default metrics and the counters every service has. */
export function createMetrics(service: string, device: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service, device });
  collectDefaultMetrics({ register: registry, prefix: "picket_" });
  const badMessages = new Counter({
    name: "picket_bad_messages_total",
    help: "Bus messages that failed validation and were dropped after logging",
    labelNames: ["subject"] as const,
    registers: [registry],
  });
  return { registry, badMessages };
}
