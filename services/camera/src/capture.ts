import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { wallClockUs } from "@picket/contracts";
import { Backoff, hideUrlPasswords, type Logger } from "@picket/runtime";
import type { CapturePlan } from "./capture-command.js";
import { FlvDemuxer } from "./flv-demuxer.js";
import { NalType, nalType, parseSps, splitAvcc, toAnnexB, type AvcConfig, type SpsInfo } from "./h264.js";
import { JpegSplitter } from "./jpeg-splitter.js";
import { RawFrameSplitter } from "./raw-frames.js";

/** One encoded access unit, Annex-B, SPS/PPS in front of every keyframe. */
export interface EncodedFrame {
  data: Uint8Array;
  key: boolean;
  ptsUs: number;
  /** Presentation time within the current encoder run (a test scene's own clock), ms. */
  runPtsMs: number;
  capturedUs: number;
  codec: string;
  width: number;
  height: number;
}

export interface CaptureHandlers {
  /** An access unit of output `output`: 0 is the main picture (fd 1), i the plan's extra video i − 1. */
  frame(f: EncodedFrame, output: number): void;
  still(jpeg: Buffer, capturedUs: number): void;
  /** A small gray frame for the motion detector (only with `plan.motion`); valid during the call only. */
  gray?(frame: Uint8Array, capturedUs: number): void;
  /**
   * A run ended without a stop: it stalled, was restarted (`restart`), produced garbage or
   * exited. `reason` says which for an operator; the next run starts in `restartInMs`.
   */
  failed?(reason: string, restartInMs: number): void;
}

export interface CaptureOptions {
  log: Logger;
  /** Wall clock in µs. */
  nowUs?: () => number;
  /** No frame for this long while running: the encoder is stuck (or SIGSTOPped) and gets killed. Default 3 s. */
  stallMs?: number;
  /** Allowance for the first frame after a start (network cameras take a while). */
  firstFrameMs?: number;
  backoff?: Backoff;
  /** Names of the outputs (main first), for the logs; `profiles` in the main one's "stream parameters" line. */
  outputNames?: string[];
}

/** ffmpeg lines that say nothing an operator can act on. */
const NOISE = /deprecated pixel format used|Failed to update header with correct/;


/**
 * Runs the capture processes of a plan and turns their output into frames and stills.
 * When they die, stall or emit garbage they are killed and restarted with backoff; PTS stay
 * monotonic across restarts.
 */
export class Capture {
  private child: ChildProcess | undefined;
  private feeder: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private ptsBaseUs = 0;
  private lastPtsUs = -1;
  private runStartedAt = 0;
  /** Why the running encoder is being killed, for the `failed` handler. */
  private killReason: string | undefined;
  /** The encoder's last line on stderr in this run (passwords hidden). */
  private lastError: string | undefined;
  private readonly backoff: Backoff;
  private readonly nowUs: () => number;
  private outputNames: string[] | undefined;
  restarts = 0;
  lastFrameAtUs = 0;
  /** While the source is known to be gone, each retry's exit and ffmpeg's lines are logged at debug only. */
  quiet = false;

  constructor(
    private plan: CapturePlan,
    private readonly handlers: CaptureHandlers,
    private readonly opts: CaptureOptions,
  ) {
    // At most 10 s between retries: a camera plugged back in is seen within seconds.
    this.backoff = opts.backoff ?? new Backoff({ initialMs: 500, maxMs: 10_000 });
    this.nowUs = opts.nowUs ?? wallClockUs;
    this.outputNames = opts.outputNames;
  }

  /**
   * The plan (and output names) the next start runs; the running processes are not touched,
   * so stop first to change them live. The timeline (PTS) continues across the change.
   */
  replan(plan: CapturePlan, outputNames: string[]): void {
    this.plan = plan;
    this.outputNames = outputNames;
  }

  start(): void {
    this.stopping = false;
    this.launch();
  }

  /** The running encoder's pid, for tests and diagnostics. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Kills the running encoder (a frozen picture, a source gone); it is restarted with backoff, `failed` saying `reason`. */
  restart(reason: string): void {
    const child = this.child;
    if (child === undefined || this.stopping) return;
    this.killReason ??= reason;
    child.kill("SIGKILL");
  }

  /** A retry waiting for its backoff starts now (the source is back). */
  retryNow(): void {
    if (this.stopping || this.child !== undefined || this.restartTimer === undefined) return;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.launch();
  }

  private launch(): void {
    const log = this.opts.log;
    const stills = new JpegSplitter();
    const { ffmpeg, feeder, extraVideos } = this.plan;
    if (feeder !== undefined) {
      this.feeder = spawn(feeder.cmd, feeder.args, { stdio: ["ignore", "pipe", "pipe"] });
      this.feeder.on("error", (err) => log.error({ err, cmd: feeder.cmd }, "could not start the camera feeder"));
      this.pipeStderr(this.feeder.stderr, feeder.cmd);
    }
    const motion = this.plan.motion;
    // fd 4 is /dev/null without motion frames, so the extra videos keep their fds 5, 6, …
    const lastFd = Math.max(motion === undefined ? 3 : 4, ...extraVideos.map((x) => x.fd));
    const stdio = Array.from({ length: lastFd + 1 }, (_, fd) => (fd === 0 ? (feeder === undefined ? "ignore" : "pipe") : fd === 4 && motion === undefined ? "ignore" : "pipe"));
    const child = spawn(ffmpeg.cmd, ffmpeg.args, { stdio });
    this.child = child;
    this.restartTimer = undefined;
    this.killReason = undefined;
    this.lastError = undefined;
    this.runStartedAt = Date.now();
    if (feeder !== undefined && this.feeder?.stdout != null && child.stdin != null) {
      this.feeder.stdout.pipe(child.stdin).on("error", () => undefined);
    }
    if (this.quiet) log.debug({ pid: child.pid, restarts: this.restarts }, "encoder started");
    else log.info({ pid: child.pid, restarts: this.restarts }, "encoder started");
    this.armStallTimer(this.opts.firstFrameMs ?? 15_000);
    child.on("error", (err) => log.error({ err, cmd: ffmpeg.cmd }, "could not start the encoder"));
    this.pipeStderr(child.stderr, "ffmpeg");
    this.readVideo(child, child.stdout, 0);
    extraVideos.forEach((x, i) => this.readVideo(child, child.stdio[x.fd] as Readable | null, i + 1));
    const fd3 = child.stdio[3] as Readable | null | undefined;
    fd3?.on("data", (chunk: Buffer) => {
      if (this.child !== child) return;
      for (const jpeg of stills.push(chunk)) this.handlers.still(jpeg, this.nowUs());
    });
    const fd4 = child.stdio[4] as Readable | null | undefined;
    if (motion !== undefined && fd4 != null) {
      const gray = new RawFrameSplitter(motion.width * motion.height);
      fd4.on("data", (chunk: Buffer) => {
        if (this.child !== child) return;
        gray.push(chunk, (frame) => this.handlers.gray?.(frame, this.nowUs()));
      });
    }
    child.on("close", (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.feeder?.kill("SIGKILL");
      this.feeder = undefined;
      clearTimeout(this.stallTimer);
      // Next run continues the timeline one frame after the last.
      if (this.lastPtsUs >= 0) this.ptsBaseUs = this.lastPtsUs + 40_000;
      if (this.stopping) return;
      if (Date.now() - this.runStartedAt > 10_000) this.backoff.reset();
      const delay = this.backoff.next();
      this.restarts++;
      const reason = this.killReason ?? `the encoder exited (${signal ?? `code ${code}`})${this.lastError === undefined ? "" : `: ${this.lastError}`}`;
      log[this.quiet ? "debug" : "warn"]({ code, signal, reason, restartInMs: delay }, "encoder exited; restarting");
      this.restartTimer = setTimeout(() => this.launch(), delay);
      this.handlers.failed?.(reason, delay);
    });
  }

  /** Turns one FLV output of the encoder into frames of `output`. */
  private readVideo(child: ChildProcess, stream: Readable | null, output: number): void {
    if (stream === null) return;
    const log = this.opts.log;
    const demuxer = new FlvDemuxer();
    let config: AvcConfig | undefined;
    let sps: SpsInfo | undefined;
    const parameters = (info: SpsInfo) => {
      const names = this.outputNames;
      const profile = names?.[output];
      // Once per run for the main picture (tests and operators wait for it); the others say so apart.
      if (output === 0) log.info({ ...(profile === undefined ? {} : { profile, profiles: names }), codec: info.codec, width: info.width, height: info.height }, "stream parameters");
      else log.info({ profile, codec: info.codec, width: info.width, height: info.height }, "profile stream parameters");
    };
    stream.on("data", (chunk: Buffer) => {
      if (this.child !== child) return;
      try {
        for (const item of demuxer.push(chunk)) {
          if (item.kind === "config") {
            config = item.config;
            sps = parseSps(item.config.sps[0] as Uint8Array);
            parameters(sps);
            continue;
          }
          if (config === undefined) {
            // No out-of-band parameter sets: take them from the first keyframe (ffmpeg writes 4-byte lengths).
            const nals = splitAvcc(item.data, 4);
            const spsNals = nals.filter((n) => nalType(n) === NalType.sps);
            const ppsNals = nals.filter((n) => nalType(n) === NalType.pps);
            if (spsNals.length === 0 || ppsNals.length === 0) continue;
            config = { lengthSize: 4, sps: spsNals, pps: ppsNals };
            sps = parseSps(spsNals[0] as Uint8Array);
            parameters(sps);
          }
          if (sps === undefined) continue;
          this.emitFrame(item.data, item.key, item.ptsMs, config, sps, output);
        }
      } catch (err) {
        log.error({ err, output: this.outputNames?.[output] ?? output }, "encoder output is corrupt; restarting it");
        this.killReason ??= "the encoder's output was corrupt";
        child.kill("SIGKILL");
      }
    });
  }

  private emitFrame(sample: Uint8Array, key: boolean, ptsMs: number, config: AvcConfig, sps: SpsInfo, output: number): void {
    let nals = splitAvcc(sample, config.lengthSize);
    const isKey = key || nals.some((n) => nalType(n) === NalType.idr);
    if (isKey && !nals.some((n) => nalType(n) === NalType.sps)) {
      // Pass-through sources often carry parameter sets only out of band.
      nals = [...config.sps, ...config.pps, ...nals.filter((n) => nalType(n) !== NalType.aud)];
    }
    // Every output shares the run's timeline: the main picture's clock.
    const ptsUs = this.ptsBaseUs + ptsMs * 1000;
    const capturedUs = this.nowUs();
    if (output === 0) {
      this.lastPtsUs = ptsUs;
      this.lastFrameAtUs = capturedUs;
      // The main picture is what clips, stills and health stand on: its silence is a stall.
      this.armStallTimer(this.opts.stallMs ?? 3_000);
    }
    this.handlers.frame({ data: toAnnexB(nals), key: isKey, ptsUs, runPtsMs: ptsMs, capturedUs, codec: sps.codec, width: sps.width, height: sps.height }, output);
  }

  private armStallTimer(ms: number): void {
    clearTimeout(this.stallTimer);
    const child = this.child;
    this.stallTimer = setTimeout(() => {
      if (this.child !== child || child === undefined) return;
      const first = this.lastFrameAtUs < this.runStartedAt * 1000;
      this.opts.log[this.quiet ? "debug" : "warn"]({ stalledMs: ms }, "no frame from the encoder; killing it");
      this.killReason ??= first ? `no picture within ${Math.round(ms / 1000)} s of starting` : `no frame for ${Math.round(ms / 1000)} s (the encoder stalled)`;
      child.kill("SIGKILL");
    }, ms);
  }

  private pipeStderr(stream: Readable | null, name: string): void {
    if (stream === null) return;
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (text: string) => {
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const raw of lines) {
        if (raw.trim() === "" || NOISE.test(raw)) continue;
        const line = hideUrlPasswords(raw.slice(0, 300));
        this.lastError = line.trim().slice(0, 120);
        this.opts.log[this.quiet ? "debug" : "warn"]({ process: name, line }, "encoder says");
      }
    });
  }

  /** Stops the processes: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.stallTimer);
    const child = this.child;
    this.feeder?.kill("SIGTERM");
    if (child === undefined || child.exitCode !== null) return;
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await closed;
    clearTimeout(timer);
  }
}
