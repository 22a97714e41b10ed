import type { PresenceEvent, Trigger } from "@picket/contracts";
import type { ArmingPolicy } from "./arming-schedule.js";
import { PulsePattern } from "./pulse-pattern.js";

/**
 * What establishes presence:
 * - `pir`: a PIR activation (see `activation`);
 * - `motion`: camera motion that has persisted `motionMinMs`;
 * - `pir+motion`: a PIR activation and camera motion within `confirmWindowMs` of each other, in either order;
 * - `pir|motion`: either of the first two.
 */
export type PresenceMode = "pir" | "motion" | "pir+motion" | "pir|motion";

export interface PresenceOptions {
  device: string;
  mode: PresenceMode;
  /**
   * pir+motion: a PIR activation and camera motion must come within this window of each other
   * (either order). Each is a span, not an instant: the PIR from its activating rise until it
   * falls, motion from its first to its latest moving report; the spans must come within
   * this many ms. Default 4000.
   */
  confirmWindowMs: number;
  /** `pulses` PIR rises within `windowMs` count as one PIR activation (1 = every rise). Default 1 / 10 000 ms. */
  activation: { pulses: number; windowMs: number };
  /** `motion` and `pir|motion`: motion must persist this long before it counts alone. Default 1000. */
  motionMinMs: number;
  /** Moving reports further apart than this belong to separate runs of motion (the detector reports a few times a second). Default 3000. */
  motionStaleMs: number;
  /** No sign of presence (PIR high or rising, a moving report) for this long → presence ended. Default 30 000. */
  eventGapMs: number;
  /** After an event ends by `eventGapMs`, no new event starts for this long. Default 30 000. */
  cooldownMs: number;
  /** A new event id for an event at wall-clock `atMs`. */
  newId: (atMs: number) => string;
}

export const PRESENCE_DEFAULTS: Readonly<Omit<PresenceOptions, "device" | "newId">> = {
  mode: "pir",
  confirmWindowMs: 4_000,
  activation: { pulses: 1, windowMs: 10_000 },
  motionMinMs: 1_000,
  motionStaleMs: 3_000,
  eventGapMs: 30_000,
  cooldownMs: 30_000,
};

/** The options a caller must give; the rest default to `PRESENCE_DEFAULTS`. */
export type PresenceInit = Pick<PresenceOptions, "device" | "newId"> & Partial<Omit<PresenceOptions, "device" | "newId">>;

/** A camera motion report as the engine needs it (a `MotionReport` fits). `at` is the frame's capture wall-clock. */
export interface MotionInput {
  moving: boolean;
  score: number;
  at: number;
  zones?: readonly string[];
}

export interface PresenceState {
  mode: PresenceMode;
  present: boolean;
  armed: boolean;
  /** `describe()` of the arming policy. */
  arming: string;
  currentEventId?: string;
  pirHigh: boolean;
  moving: boolean;
  motionScore: number;
  motionZones: readonly string[];
  /** Monotonic time until which new events are suppressed, when in the future of the latest input. */
  cooldownUntilMono?: number;
  /** Wall-clock of the latest sign of presence during the current event. */
  lastEvidenceAt?: number;
}

/** Re-read the schedule at least this often, so a wall-clock jump (NTP on a Pi without RTC) is noticed soon. */
const SCHEDULE_RECHECK_MS = 60_000;

interface Span {
  start: number;
  /** Still going on: the end is "now". */
  open: boolean;
  end: number;
  at: number;
}

/**
 * The presence decision as one pure state machine. No timers: the caller calls `tick` at
 * `nextDeadlineMono()` (and may call it any time). Every method takes the wall clock `at`
 * (only for arming and for the events' times) and a monotonic `mono` (for every duration, so
 * a wall-clock jump neither stretches nor cuts a gap or cooldown; a `mono` older than one
 * already seen is treated as that one).
 *
 * - Presence starts when the mode's condition holds while armed and outside the cooldown.
 *   Evidence from while disarmed does not count: PIR activations before arming are forgotten,
 *   and motion persistence counts from arming. Evidence during a cooldown raises nothing, but
 *   if it is still going on when the cooldown ends (PIR still high, motion still reported),
 *   presence starts then.
 * - The started event's `at`: the input that completed the condition (a PIR rise, a motion
 *   frame's capture time, or the tick that ended a cooldown). In `pir+motion` it is the capture
 *   time of the latest moving frame, so the event's snapshot is the frame nearest the PIR
 *   activation that shows movement. Triggers: `pir+motion` lists both; `pir|motion` what held.
 * - While present, any sign of presence continues the one event whatever the mode: each PIR
 *   rise, a PIR held high (until it falls), each moving report. After `eventGapMs` without one,
 *   the event ends: `ended` with its own id, `startedId`, `at` = the last sign's wall-clock and
 *   triggers = the kinds of evidence seen during the event; then the cooldown runs.
 * - Disarming (a new policy, or a schedule boundary noticed at an input or tick) ends a running
 *   event at once, with no cooldown.
 * - Events carry `test: false` and no `media` (the service adds it).
 */
export class PresenceEngine {
  readonly opts: PresenceOptions;
  private policy: ArmingPolicy;
  private armed: boolean | undefined;
  private armedSinceMono = Number.NEGATIVE_INFINITY;
  private scheduleDeadlineMono: number | undefined;
  private lastMono = Number.NEGATIVE_INFINITY;
  private readonly pattern: PulsePattern;
  private pirHigh = false;
  /** The latest PIR activation: from its rise until the PIR fell. */
  private pir: Span | undefined;
  /** The latest run of motion: from its first to its latest moving report. */
  private motion: Span | undefined;
  private motionScore = 0;
  private motionZones: readonly string[] = [];
  private event: { id: string; seen: Set<Trigger> } | undefined;
  private lastEvidenceMono = Number.NEGATIVE_INFINITY;
  private lastEvidenceAt = 0;
  private cooldownUntilMono = Number.NEGATIVE_INFINITY;

  constructor(init: PresenceInit, arming: ArmingPolicy) {
    this.opts = { ...PRESENCE_DEFAULTS, ...init, activation: { ...(init.activation ?? PRESENCE_DEFAULTS.activation) } };
    this.pattern = new PulsePattern(this.opts.activation.pulses, this.opts.activation.windowMs);
    this.policy = arming;
  }

  /** A new arming policy from now on. Disarming ends a running event. */
  setArming(policy: ArmingPolicy, at: number, mono: number): PresenceEvent[] {
    this.policy = policy;
    return this.step(at, mono, () => undefined);
  }

  /** Another mode from now on (`auto` follows whether the camera's motion detector runs). */
  setMode(mode: PresenceMode, at: number, mono: number): PresenceEvent[] {
    this.opts.mode = mode;
    // The new mode's condition may hold already (a PIR high when motion is no longer needed).
    return this.step(at, mono, () => at);
  }

  /** A PIR level change (debounced, interpreted). */
  onPir(level: 0 | 1, at: number, mono: number): PresenceEvent[] {
    return this.step(at, mono, (m) => {
      if ((level === 1) === this.pirHigh) return undefined;
      this.pirHigh = level === 1;
      if (level === 0) {
        if (this.pir?.open === true) Object.assign(this.pir, { open: false, end: m });
        this.evidence("pir", at, m);
        return undefined;
      }
      if (this.armed === true && this.pattern.rise(m)) this.pir = { start: m, open: true, end: m, at };
      this.evidence("pir", at, m);
      return at;
    });
  }

  /** A camera motion report; `mono` is when it arrived. */
  onMotion(report: MotionInput, mono: number): PresenceEvent[] {
    return this.step(report.at, mono, (m) => {
      this.motionScore = report.score;
      this.motionZones = report.zones ?? [];
      if (!report.moving) {
        if (this.motion !== undefined) this.motion.open = false;
        return undefined;
      }
      const run = this.motion;
      if (run !== undefined && run.open && m - run.end <= this.opts.motionStaleMs) Object.assign(run, { end: m, at: report.at });
      else this.motion = { start: m, open: true, end: m, at: report.at };
      this.evidence("motion", report.at, m);
      return report.at;
    });
  }

  /** A test alarm: `started`, triggers `["test"]`, `test: true`, whatever the arming; changes no state. */
  testAlarm(at: number): PresenceEvent {
    return this.make("started", at, ["test"], true);
  }

  /** Ends a quiet event, follows schedule boundaries, and starts presence that outlasted a cooldown. */
  tick(at: number, mono: number): PresenceEvent[] {
    return this.step(at, mono, () => at);
  }

  /** When `tick` has something to do next, on the monotonic clock; undefined when nothing is due. */
  nextDeadlineMono(): number | undefined {
    const due: number[] = [];
    if (this.event !== undefined && !this.pirHigh) due.push(this.lastEvidenceMono + this.opts.eventGapMs);
    const ongoing = this.pirHigh || this.motionOngoing(this.lastMono);
    if (this.event === undefined && this.cooldownUntilMono > this.lastMono && ongoing) due.push(this.cooldownUntilMono);
    if (this.scheduleDeadlineMono !== undefined) due.push(this.scheduleDeadlineMono);
    return due.length === 0 ? undefined : Math.min(...due);
  }

  get state(): PresenceState {
    return {
      mode: this.opts.mode,
      present: this.event !== undefined,
      armed: this.armed ?? false,
      arming: this.policy.describe(),
      ...(this.event !== undefined && { currentEventId: this.event.id, lastEvidenceAt: this.lastEvidenceAt }),
      pirHigh: this.pirHigh,
      moving: this.motionOngoing(this.lastMono),
      motionScore: this.motionScore,
      motionZones: this.motionZones,
      ...(this.cooldownUntilMono > this.lastMono && { cooldownUntilMono: this.cooldownUntilMono }),
    };
  }

  /** Whether the current policy arms the device at wall-clock `at`. */
  armedAt(at: number): boolean {
    return this.policy.isArmed(at);
  }

  /**
   * One input: settle what time alone decides (a quiet event ends, arming follows the policy),
   * apply the input, then see whether presence starts. `apply` returns the wall-clock the
   * input stands for, or undefined when it cannot start presence.
   */
  private step(at: number, mono: number, apply: (mono: number) => number | undefined): PresenceEvent[] {
    const m = Math.max(mono, this.lastMono);
    this.lastMono = m;
    const out: PresenceEvent[] = [];
    this.endIfQuiet(m, out);
    this.followArming(at, m, out);
    const inputAt = apply(m);
    if (inputAt !== undefined) this.maybeStart(inputAt, m, out);
    return out;
  }

  private endIfQuiet(mono: number, out: PresenceEvent[]): void {
    const endsAt = this.lastEvidenceMono + this.opts.eventGapMs;
    if (this.event === undefined || this.pirHigh || mono < endsAt) return;
    out.push(this.end());
    // Counted from when the event ended by rule, so a late tick does not stretch it.
    this.cooldownUntilMono = endsAt + this.opts.cooldownMs;
    // The activation belonged to the event that just ended; it must not confirm new motion.
    this.pir = undefined;
  }

  private followArming(at: number, mono: number, out: PresenceEvent[]): void {
    const armed = this.policy.isArmed(at);
    if (armed && this.armed !== true) {
      this.armedSinceMono = mono;
      this.pattern.reset();
      this.pir = undefined;
    }
    if (!armed && this.event !== undefined) {
      if (this.pirHigh) this.evidence("pir", at, mono);
      out.push(this.end());
    }
    this.armed = armed;
    const next = this.policy.nextChange(at);
    this.scheduleDeadlineMono = next === undefined ? undefined : mono + Math.min(Math.max(next - at, 0), SCHEDULE_RECHECK_MS);
  }

  /** A sign of presence: continues the current event, if any. */
  private evidence(kind: Trigger, at: number, mono: number): void {
    if (this.event === undefined) return;
    this.event.seen.add(kind);
    this.lastEvidenceMono = Math.max(this.lastEvidenceMono, mono);
    this.lastEvidenceAt = at;
  }

  private maybeStart(at: number, mono: number, out: PresenceEvent[]): void {
    if (this.event !== undefined || this.armed !== true || mono < this.cooldownUntilMono) return;
    const triggers = this.triggers(mono);
    if (triggers.length === 0) return;
    const eventAt = this.opts.mode === "pir+motion" ? (this.motion?.at ?? at) : at;
    const started = this.make("started", eventAt, triggers, false);
    this.event = { id: started.id, seen: new Set(triggers) };
    this.lastEvidenceMono = mono;
    this.lastEvidenceAt = at;
    out.push(started);
  }

  /** Which of the mode's conditions hold at `mono`. */
  private triggers(mono: number): Trigger[] {
    const pir = this.pir !== undefined && this.pir.start >= this.armedSinceMono ? this.pir : undefined;
    const pirNow = pir?.open === true;
    const motionRun = this.motion !== undefined && this.motion.end >= this.armedSinceMono ? this.motion : undefined;
    const motionNow = this.motionOngoing(mono);
    const persisted = motionNow && motionRun !== undefined && motionRun.end - Math.max(motionRun.start, this.armedSinceMono) >= this.opts.motionMinMs;
    switch (this.opts.mode) {
      case "pir":
        return pirNow ? ["pir"] : [];
      case "motion":
        return persisted ? ["motion"] : [];
      case "pir|motion":
        return [...(pirNow ? (["pir"] as const) : []), ...(persisted ? (["motion"] as const) : [])];
      case "pir+motion": {
        if (pir === undefined || motionRun === undefined || !(pirNow || motionNow)) return [];
        const w = this.opts.confirmWindowMs;
        const pirEnd = pir.open ? mono : pir.end;
        return pir.start <= motionRun.end + w && motionRun.start <= pirEnd + w ? ["pir", "motion"] : [];
      }
    }
  }

  private motionOngoing(mono: number): boolean {
    return this.motion !== undefined && this.motion.open && mono - this.motion.end <= this.opts.motionStaleMs;
  }

  private end(): PresenceEvent {
    const event = this.event as { id: string; seen: Set<Trigger> };
    this.event = undefined;
    const triggers = (["pir", "motion"] as const).filter((t) => event.seen.has(t));
    return { ...this.make("ended", this.lastEvidenceAt, triggers, false), startedId: event.id };
  }

  private make(state: PresenceEvent["state"], at: number, triggers: Trigger[], test: boolean): PresenceEvent {
    const when = Math.round(at);
    return { id: this.opts.newId(when), kind: "presence", state, device: this.opts.device, at: when, triggers, test };
  }
}
