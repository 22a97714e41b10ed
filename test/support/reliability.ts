// Figures the fault and bad-input suites measure, for docs/RELIABILITY.md. Each test records
// what it survived; test/reliability-report.ts (the suite's global teardown) writes the page
// from every record of the run.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./services.js";

/** Where a run's records go (one JSON file per record; the report reads them all). */
export const RECORDS_DIR = join(ROOT, "test", "results", "reliability");

export interface FaultRecord {
  kind: "fault";
  /** e.g. "nats-server killed for 60 s while the PIR fires every second". */
  fault: string;
  /** Time from the fault's end (or start, say which in `measured`) to full service, ms. */
  recoveryMs: number;
  /** What recoveryMs measures, e.g. "broker back → last backlog alert delivered". */
  measured: string;
  /** Events (or alerts) that should have been recorded but were not: the target is 0. */
  eventsLost: number;
  /** Alerts a chat received more than once: the target is 0. */
  alertsDuplicated: number;
  /** How many events the fault was tested with. */
  events: number;
  notes?: string;
}

export interface BadInputRecord {
  kind: "bad-input";
  /** e.g. "H.264 parser", "HTTP path traversal". */
  family: string;
  cases: number;
  /** How every case was answered, e.g. "400 with a message; nothing stored". */
  outcome: string;
}

export type ReliabilityRecord = FaultRecord | BadInputRecord;

/** Keeps one record of this run under a stable id (a re-run replaces it). */
export function recordReliability(id: string, record: ReliabilityRecord): void {
  mkdirSync(RECORDS_DIR, { recursive: true });
  writeFileSync(join(RECORDS_DIR, `${id.replace(/[^a-z0-9-]+/gi, "-")}.json`), `${JSON.stringify({ ...record, at: new Date().toISOString() }, null, 2)}\n`);
}
