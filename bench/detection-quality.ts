// Detection quality: event-level precision, recall and F1 per scene over the synthetic scene
// corpus (test/support/scenes.ts, rendered by the real ffmpeg). Each scene's frames go through
// the real camera MotionDetector; its reports (as the camera publishes them) and the scene's
// PIR stimuli (through the emulated HC-SR501) drive the real PresenceEngine on a fake clock,
// with the PIR service's default settings. A `started` event inside a truth interval (± 2 s)
// not yet matched is a true positive, any other a false positive; an unmatched interval a miss.
// Target: F1 >= 0.95 over the object scenes and no event on the other scenes, in `pir+motion`
// and `motion` (`pir` and `pir|motion` are shown for comparison).
// Run: npm run bench -- detection-quality
import type { PresenceEvent } from "@picket/contracts";
import { loadConfig } from "@picket/runtime";
import { MotionDetector } from "../services/camera/src/motion/motion-detector.js";
import { pirConfig } from "../services/pir/src/config.js";
import type { Timers } from "../services/pir/src/debounce.js";
import { Hcsr501Model } from "../services/pir/src/hcsr501.js";
import { ArmingPolicy } from "../services/pir/src/presence/arming-schedule.js";
import { PresenceEngine, type MotionInput, type PresenceMode } from "../services/pir/src/presence/presence-engine.js";
import { SCENES, motionEpisodes, renderScene, type Scene } from "../test/support/scenes.js";
import { report } from "./lib/result.js";

const TARGET_F1 = 0.95;
const SLACK_S = 2;
const MIN_SCENES = 8;
const TARGET_MODES: PresenceMode[] = ["pir+motion", "motion"];
const MODES: PresenceMode[] = [...TARGET_MODES, "pir", "pir|motion"];
/** Wall clock of a scene's first frame; the monotonic clock is ms since then. */
const T0 = Date.UTC(2025, 5, 1, 12);
/** The PIR service's defaults, read from its config spec with no PICKET_ variables set. */
const cfg = loadConfig(pirConfig, {});

/** A report the camera's motion publisher sends, at the frame's capture time (ms from the start). */
interface Report {
  ms: number;
  input: MotionInput;
}

/** Timers on a fake clock, for the emulated HC-SR501. */
class FakeTimers implements Timers {
  private queue: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  constructor(private readonly clock: { now: number }) {}
  now(): number {
    return this.clock.now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const t = { at: this.clock.now + Math.max(0, ms), seq: this.seq++, fn };
    this.queue.push(t);
    return t;
  }
  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((t) => t !== handle);
  }
  nextAt(): number {
    return this.queue.reduce((min, t) => Math.min(min, t.at), Number.POSITIVE_INFINITY);
  }
  /** Runs the earliest timer (the clock is advanced to it by the caller). */
  fireNext(): void {
    const first = this.queue.reduce((a, b) => (b.at < a.at || (b.at === a.at && b.seq < a.seq) ? b : a));
    this.queue = this.queue.filter((t) => t !== first);
    first.fn();
  }
}

/** Runs the detector over the scene's frames; returns per-frame `moving` and the reports published. */
async function analyse(scene: Scene): Promise<{ moving: boolean[]; reports: Report[]; lightChanges: number }> {
  const frames = await renderScene(scene);
  const detector = new MotionDetector(scene.width, scene.height, scene.settings);
  const moving: boolean[] = [];
  const reports: Report[] = [];
  let was = false;
  let lightChanges = 0;
  frames.forEach((frame, i) => {
    const ms = (i * 1000) / scene.fps;
    const at = T0 + ms;
    const r = detector.push(frame, at);
    moving.push(r.moving);
    // As services/camera/src/motion-publisher.ts: a light-change report, every moving frame, one report when it stops.
    if (r.lightChange) {
      lightChanges++;
      reports.push({ ms, input: { moving: false, score: 0, at, zones: [] } });
    }
    if (r.moving) reports.push({ ms, input: { moving: true, score: r.score, at, zones: r.zones } });
    else if (was) reports.push({ ms, input: { moving: false, score: r.score, at, zones: [] } });
    was = r.moving;
  });
  return { moving, reports, lightChanges };
}

/** Drives the engine with every input and deadline in one time-ordered loop; returns the events it raised. */
function simulate(scene: Scene, reports: Report[], mode: PresenceMode): PresenceEvent[] {
  const clock = { now: 0 };
  const timers = new FakeTimers(clock);
  const events: PresenceEvent[] = [];
  const take = (es: PresenceEvent[]) => events.push(...es);
  let n = 0;
  const engine = new PresenceEngine(
    {
      device: "bench",
      mode,
      newId: (at) => `${at}-${n++}`,
      confirmWindowMs: cfg.confirmMs,
      activation: { pulses: cfg.pulses, windowMs: cfg.pulseWindowMs },
      motionMinMs: cfg.motionMinMs,
      eventGapMs: cfg.eventGapMs,
      cooldownMs: cfg.cooldownMs,
    },
    new ArmingPolicy({ mode: "armed" }, "UTC"),
  );
  const sensor = new Hcsr501Model(
    { holdMs: cfg.holdS * 1000, trigger: cfg.trigger, blockMs: cfg.blockMs, warmupMs: 0, warmupNoise: false },
    (level) => take(engine.onPir(level, T0 + clock.now, clock.now)),
    timers,
  );
  const inputs: { ms: number; run: () => void }[] = [
    ...scene.pirPulses.flatMap((p) => [
      { ms: p.atS * 1000, run: () => sensor.stimulus(true) },
      { ms: (p.atS + p.durationS) * 1000, run: () => sensor.stimulus(false) },
    ]),
    ...reports.map((r) => ({ ms: r.ms, run: () => take(engine.onMotion(r.input, clock.now)) })),
  ].sort((a, b) => a.ms - b.ms);
  // Long enough after the scene for every event to end (gap) and every cooldown to run out.
  const endMs = scene.durationS * 1000 + cfg.eventGapMs + cfg.cooldownMs + 10_000;
  let next = 0;
  let lastTick = Number.NaN;
  for (;;) {
    const inputMs = inputs[next]?.ms ?? Number.POSITIVE_INFINITY;
    const timerMs = timers.nextAt();
    const deadline = engine.nextDeadlineMono() ?? Number.POSITIVE_INFINITY;
    const t = Math.min(inputMs, timerMs, deadline);
    if (t > endMs) break;
    clock.now = Math.max(clock.now, t);
    if (deadline === t) {
      if (t === lastTick) throw new Error(`${scene.name}/${mode}: the engine's deadline ${t} does not advance`);
      lastTick = t;
      take(engine.tick(T0 + clock.now, clock.now));
    } else if (timerMs === t) timers.fireNext();
    else inputs[next++]!.run();
  }
  sensor.dispose();
  return events;
}

interface Score {
  events: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  /** Why each truth interval was missed: an earlier event still running (merged), its cooldown, or nothing raised. */
  missed: ("merged" | "cooldown" | "unseen")[];
  startsS: number[];
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
/** a / b to 0.001, null when b is 0 (nothing to measure). */
const ratio = (a: number, b: number) => (b === 0 ? null : r3(a / b));
const prf = (tp: number, fp: number, fn: number) => ({ precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), f1: ratio(2 * tp, 2 * tp + fp + fn) });

function score(scene: Scene, events: PresenceEvent[]): Score {
  const sec = (at: number) => (at - T0) / 1000;
  const starts = events.filter((e) => e.state === "started");
  const spans = starts.map((s) => {
    const ended = events.find((e) => e.state === "ended" && e.startedId === s.id);
    return { fromS: sec(s.at), toS: ended === undefined ? Number.POSITIVE_INFINITY : sec(ended.at) };
  });
  const matched = scene.truth.map(() => false);
  let tp = 0;
  for (const { fromS: t } of spans) {
    const k = scene.truth.findIndex((iv, i) => !matched[i] && t >= iv.fromS - SLACK_S && t <= iv.toS + SLACK_S);
    if (k >= 0) {
      matched[k] = true;
      tp++;
    }
  }
  const fn = matched.filter((m) => !m).length;
  // The engine ends an event eventGapMs after its last sign (ended.at), then holds new ones off for cooldownMs.
  const [gapS, coolS] = [cfg.eventGapMs / 1000, cfg.cooldownMs / 1000];
  const missed = scene.truth
    .filter((_, i) => !matched[i])
    .map((iv) => (spans.some((s) => s.fromS < iv.fromS && iv.fromS < s.toS + gapS) ? "merged" : spans.some((s) => iv.fromS >= s.toS + gapS && iv.fromS < s.toS + gapS + coolS) ? "cooldown" : "unseen"));
  const fp = starts.length - tp;
  return { events: starts.length, tp, fp, fn, ...prf(tp, fp, fn), missed, startsS: spans.map((s) => r3(s.fromS)) };
}

// Render and analyse every scene (ffmpeg in parallel), then score each presence mode.
const analysed = await Promise.all(SCENES.map(async (scene) => ({ scene, ...(await analyse(scene)) })));
const rows = analysed.map(({ scene, moving, reports, lightChanges }) => ({
  scene,
  episodes: motionEpisodes(moving, scene.fps),
  movingFrames: moving.filter(Boolean).length,
  lightChanges,
  modes: Object.fromEntries(MODES.map((mode) => [mode, score(scene, simulate(scene, reports, mode))])) as Record<PresenceMode, Score>,
}));

const objects = rows.filter((r) => r.scene.kind === "object");
const others = rows.filter((r) => r.scene.kind !== "object");
/** Per mode: TP/FP/FN and F1 summed over the object scenes (micro-average), and the events raised on the other scenes. */
const total = (mode: PresenceMode) => {
  const sum = (k: "tp" | "fp" | "fn") => objects.reduce((s, r) => s + r.modes[mode][k], 0);
  const [tp, fp, fn] = [sum("tp"), sum("fp"), sum("fn")];
  return { objectScenes: { tp, fp, fn, ...prf(tp, fp, fn) }, eventsOnNonObjectScenes: others.reduce((s, r) => s + r.modes[mode].events, 0) };
};
const totals = Object.fromEntries(MODES.map((mode) => [mode, total(mode)])) as Record<PresenceMode, ReturnType<typeof total>>;

// The table: per scene and mode, TP/FP/FN and F1 (or the event count on scenes with nothing to find).
const fmt = (x: number | null) => (x === null ? "  -  " : x.toFixed(2));
const why = (missed: Score["missed"]) => (["merged", "cooldown"] as const).map((k) => [k[0], missed.filter((m) => m === k).length] as const).map(([c, n]) => (n > 0 ? ` ${c}${n}` : "")).join("");
const objCell = (s: { tp: number; fp: number; fn: number; f1: number | null }, missed: Score["missed"] = []) => `${s.tp}/${s.fp}/${s.fn} F1 ${fmt(s.f1)}${why(missed)}`;
const evCell = (n: number) => `${n} event${n === 1 ? "" : "s"}`;
const cell = (s: Score, kind: string) => (kind === "object" ? objCell(s, s.missed) : evCell(s.events));
const W = 20;
console.log(`\n${"scene".padEnd(20)}${"kind".padEnd(8)}truth epis  ${MODES.map((m) => m.padEnd(W)).join("")}`);
for (const r of rows) {
  const head = `${r.scene.name.padEnd(20)}${r.scene.kind.padEnd(8)}${String(r.scene.truth.length).padStart(5)}${String(r.episodes.length).padStart(5)}  `;
  console.log(head + MODES.map((m) => cell(r.modes[m], r.scene.kind).padEnd(W)).join(""));
}
console.log(`${"object scenes (all)".padEnd(38)}${MODES.map((m) => objCell(totals[m].objectScenes).padEnd(W)).join("")}`);
console.log(`${"events, non-object".padEnd(38)}${MODES.map((m) => evCell(totals[m].eventsOnNonObjectScenes).padEnd(W)).join("")}`);
console.log("cells: TP/FP/FN F1 (mN/cN: N misses inside an earlier, still running event / its cooldown); epis: camera motion episodes (3 s merge)\n");

const misses = TARGET_MODES.flatMap((mode) => [
  ...((totals[mode].objectScenes.f1 ?? 0) < TARGET_F1 ? [`${mode}: object F1 ${fmt(totals[mode].objectScenes.f1)} < ${TARGET_F1}`] : []),
  ...objects.filter((r) => r.modes[mode].fp + r.modes[mode].fn > 0).map((r) => `${mode}/${r.scene.name}: ${r.modes[mode].tp}/${r.modes[mode].fp}/${r.modes[mode].fn}${r.modes[mode].missed.length > 0 ? ` (missed: ${r.modes[mode].missed.join(", ")})` : ""}`),
  ...others.filter((r) => r.modes[mode].events > 0).map((r) => `${mode}/${r.scene.name}: ${r.modes[mode].events} event(s) at ${r.modes[mode].startsS.join(", ")} s`),
]);
const worstF1 = Math.min(...TARGET_MODES.map((m) => totals[m].objectScenes.f1 ?? 0));
const met = worstF1 >= TARGET_F1 && TARGET_MODES.every((m) => totals[m].eventsOnNonObjectScenes === 0);
const small = SCENES.length < MIN_SCENES ? ` (but only ${SCENES.length} scenes in the corpus, fewer than ${MIN_SCENES})` : "";
console.log(`verdict: target ${met ? "met" : "NOT met"}${small}${misses.length > 0 ? ` — ${misses.join("; ")}` : ""}\n`);

report({
  name: "detection-quality",
  value: worstF1,
  unit: "F1 (object scenes, worst of pir+motion / motion)",
  target: `F1 >= ${TARGET_F1} on object scenes and 0 events on light/noise/masked/empty scenes, for ${TARGET_MODES.join(" and ")}`,
  met,
  samples: SCENES.length,
  details: {
    scenes: SCENES.length,
    slackS: SLACK_S,
    engine: { eventGapMs: cfg.eventGapMs, cooldownMs: cfg.cooldownMs, confirmMs: cfg.confirmMs, motionMinMs: cfg.motionMinMs, pulses: cfg.pulses, pir: { holdS: cfg.holdS, blockMs: cfg.blockMs, trigger: cfg.trigger } },
    totals,
    misses,
    perScene: Object.fromEntries(
      rows.map(({ scene: { name, kind, truth }, episodes, movingFrames, lightChanges, modes }) => [
        name,
        { kind, truth: truth.map((t) => [t.fromS, t.toS]), motionEpisodes: episodes.map((e) => [e.fromS, e.toS]), movingFrames, lightChanges, modes },
      ]),
    ),
  },
});
