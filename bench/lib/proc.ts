// Process figures from /proc (Linux): resident memory and process discovery.
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

export interface Memory {
  /** VmRSS, the figure the targets apply to. */
  rssMB: number;
  /** RssAnon: heap, stacks, JIT code: this process's own. */
  anonMB: number;
  /** RssFile + RssShmem: mapped files (the node or ffmpeg binary, libraries), shared between processes running the same binary. */
  fileMB: number;
  /** Proportional set size: shared pages divided among the processes sharing them (smaps_rollup). */
  pssMB: number;
  /** VmHWM, the peak RSS so far. */
  hwmMB: number;
}

const mb = (kB: number) => Math.round((kB / 1024) * 10) / 10;

function kBField(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** Memory of `pid`, or undefined when it is gone. */
export function memory(pid: number): Memory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  let pss = 0;
  try {
    pss = kBField(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"), "Pss");
  } catch {
    // smaps_rollup needs a 4.14+ kernel; PSS is a detail
  }
  return {
    rssMB: mb(kBField(status, "VmRSS")),
    anonMB: mb(kBField(status, "RssAnon")),
    fileMB: mb(kBField(status, "RssFile") + kBField(status, "RssShmem")),
    pssMB: mb(pss),
    hwmMB: mb(kBField(status, "VmHWM")),
  };
}

function pids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** The parent pid and command name from /proc/<pid>/stat (the name may hold spaces and parentheses). */
function stat(pid: number): { ppid: number; comm: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const fields = text.slice(close + 2).split(" ");
    return { comm: text.slice(text.indexOf("(") + 1, close), ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((a) => a !== "");
  } catch {
    return [];
  }
}

/** Direct children of `ppid`, with their command names. */
export function childrenOf(ppid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const pid of pids()) {
    const s = stat(pid);
    if (s !== undefined && s.ppid === ppid) out.push({ pid, comm: s.comm });
  }
  return out;
}

/** The nats-server listening on `port` (found by its command line: `-p <port>`). */
export function findNatsServer(port: number): number | undefined {
  for (const pid of pids()) {
    const args = cmdline(pid);
    if (!(args[0] ?? "").endsWith("nats-server")) continue;
    const i = args.indexOf("-p");
    if (i >= 0 && args[i + 1] === String(port)) return pid;
  }
  return undefined;
}

const TICK_MS = 1000 / Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim() || 100);

/** CPU time (user + system, all threads) of a process so far, ms; undefined when it is gone. */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** CPU time the whole machine has spent busy (all cores, everything but idle and iowait), ms. */
export function machineBusyMs(): number {
  const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  return (f.slice(0, 8).reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0)) * TICK_MS;
}
