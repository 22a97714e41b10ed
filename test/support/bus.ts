import { connectBus, createLogger, type NatsConnection } from "@picket/runtime";

/** A NATS connection for a test, with a silent logger. */
export function testBus(url: string, name = "test"): Promise<NatsConnection> {
  return connectBus({ url, name, log: createLogger({ service: "test", device: "test", level: "silent" }) });
}

/** Reads a counter's total from a Prometheus text exposition, summing its label sets. */
export async function metricTotal(opsPort: number, name: string, labelFilter = ""): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labelFilter !== "" && !line.includes(labelFilter)) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}
