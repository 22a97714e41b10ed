/**
 * pir-chatter: a PIR pin that chatters (a loose wire, interference) must cost little CPU
 * and raise no event storm. Drives the pir service's real input path (every raw edge counted
 * by the HC-SR501 interpreter, the leading-edge debouncer, the interpreter's levels) with
 * EDGES_PER_S edges a second for DURATION_S on real timers, and reports the CPU time per
 * edge and the levels that came out. (onoff's own cost per interrupt is not included: no
 * GPIO here.)
 */
import { Debouncer } from "../services/pir/src/debounce.js";
import { PIR_INTERPRETER_DEFAULTS, PirInterpreter } from "../services/pir/src/hcsr501.js";
import { report } from "./lib/result.js";

const EDGES_PER_S = 5_000;
const DURATION_S = 3;
const TARGET_CPU_PCT = 5;

const emitted: number[] = [];
const interpreter = new PirInterpreter({ ...PIR_INTERPRETER_DEFAULTS, warmupMs: 0 }, (level) => emitted.push(level));
const debouncer = new Debouncer(0, 50, (level, mono) => interpreter.input(level, mono));

let level: 0 | 1 = 0;
let edges = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise<void>((resolve) => {
  // Edges come in bursts every millisecond, as interrupts queued between two event-loop turns.
  const perTick = EDGES_PER_S / 1000;
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) {
      level = level === 1 ? 0 : 1;
      edges++;
      interpreter.rawEdge(performance.now());
      debouncer.input(level);
    }
    if (performance.now() - t0 >= DURATION_S * 1000) {
      clearInterval(timer);
      resolve();
    }
  }, 1);
});
const elapsedMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
// The service's own input path: the CPU the edges cost, without the idle timer loop around them.
const idle0 = process.cpuUsage();
const i0 = performance.now();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    if (performance.now() - i0 >= DURATION_S * 1000) {
      clearInterval(timer);
      resolve();
    }
  }, 1);
});
const idle = process.cpuUsage(idle0);
const loopMs = (idle.user + idle.system) / 1000;
const edgeCpuMs = Math.max(0, cpuMs - loopMs);
const cpuPct = (100 * edgeCpuMs) / elapsedMs;
debouncer.dispose();
interpreter.dispose();

report({
  name: "pir-chatter",
  value: Math.round(cpuPct * 100) / 100,
  unit: "% of one core",
  target: `<= ${TARGET_CPU_PCT} % at ${EDGES_PER_S} edges/s, and no event storm`,
  met: cpuPct <= TARGET_CPU_PCT && emitted.length <= 2,
  samples: edges,
  details: {
    edgesPerS: Math.round(edges / (elapsedMs / 1000)),
    usPerEdge: Math.round((1000 * edgeCpuMs) / edges * 100) / 100,
    levelsReported: emitted.length,
    interpreter: interpreter.status,
    note: "the JavaScript input path only; onoff's epoll read per interrupt comes on top on a Pi",
  },
});
