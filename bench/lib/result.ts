import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem, hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface BenchResult {
  name: string;
  /** The headline figure (the one the target applies to). */
  value: number;
  unit: string;
  /** e.g. "p95 <= 15" */
  target: string;
  met: boolean;
  samples: number;
  details?: Record<string, unknown>;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Count and p50/p95/p99/max/min of a sample, to 0.1; just `{ n: 0 }` when empty. */
export function summary(values: number[]): { n: number; p50?: number; p95?: number; p99?: number; max?: number; min?: number } {
  if (values.length === 0) return { n: 0 };
  const r = (n: number) => Math.round(n * 10) / 10;
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => r(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number);
  return { n: values.length, p50: at(50), p95: at(95), p99: at(99), max: r(sorted[sorted.length - 1] as number), min: r(sorted[0] as number) };
}

/** Prints the figure (and its details, unless `printDetails` is false) and writes bench/results/<name>.json. */
export function report(result: BenchResult, opts: { printDetails?: boolean } = {}): void {
  const out = {
    ...result,
    value: round(result.value),
    at: new Date().toISOString(),
    machine: { host: hostname(), cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  };
  const file = join(dirname(fileURLToPath(import.meta.url)), "..", "results", `${result.name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`${result.name}: ${out.value} ${result.unit} (target ${result.target}: ${result.met ? "met" : "NOT met"}) over ${result.samples} samples`);
  if (result.details !== undefined && opts.printDetails !== false) console.log(JSON.stringify(result.details, null, 2));
}

/** Reports a latency sample (ms) whose headline is its p95 against `targetP95Ms`, with its summary first in the details. */
export function reportLatency(name: string, latencies: number[], targetP95Ms: number, details: Record<string, unknown>): void {
  const p95 = percentile(latencies, 95);
  report({
    name,
    value: p95,
    unit: "ms",
    target: `p95 <= ${targetP95Ms}`,
    met: p95 <= targetP95Ms,
    samples: latencies.length,
    details: { ...summary(latencies), ...details },
  });
}
