// Motion throughput: gray frames per second that one core pushes through the camera's motion
// detector at the default 320×180, on a realistic scene (textured garden, sensor noise, a
// person walking through twice) rendered once by the real ffmpeg. The camera analyses 5 fps;
// 2000 frames/s here leaves room for a Pi's cores, several times slower than this machine's.
// Run: node --import tsx bench/motion-throughput.ts
import { performance } from "node:perf_hooks";
import { MotionDetector } from "../services/camera/src/motion/motion-detector.js";
import { SCENES, renderScene } from "../test/support/scenes.js";
import { report, summary } from "./lib/result.js";

const TARGET_FPS = 2_000;
const MEASURE_MS = 4_000;
const WARMUP_MS = 500;
const SCENE = "person-crossing";

const scene = SCENES.find((s) => s.name === SCENE);
if (scene === undefined) throw new Error(`no scene ${SCENE}`);
const frames = await renderScene(scene);
const frameMs = 1000 / scene.fps;

/** Pushes the scene's frames round and round for `ms`, with capture times advancing at the scene's rate; returns per-lap frames/s. */
function drive(detector: MotionDetector, ms: number, clock: { at: number }): { pushed: number; moving: number; lapRates: number[] } {
  const lapRates: number[] = [];
  let pushed = 0;
  let moving = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const start = performance.now();
    for (const frame of frames) {
      if (detector.push(frame, clock.at).moving) moving++;
      clock.at += frameMs;
    }
    lapRates.push((frames.length * 1000) / (performance.now() - start));
    pushed += frames.length;
  }
  return { pushed, moving, lapRates };
}

const detector = new MotionDetector(scene.width, scene.height, scene.settings);
const clock = { at: Date.UTC(2025, 5, 1, 12) };
drive(detector, WARMUP_MS, clock);
const started = performance.now();
const run = drive(detector, MEASURE_MS, clock);
const elapsedMs = performance.now() - started;
const fps = (run.pushed * 1000) / elapsedMs;

// The same at 640×360 (a 4×4 block per analysis cell), for a camera configured with a larger motion width.
const big = await renderScene({ ...scene, width: 640, height: 360, durationS: 10 });
const bigDetector = new MotionDetector(640, 360, scene.settings);
const bigStart = performance.now();
let bigPushed = 0;
for (let at = 0; performance.now() - bigStart < 1_500; bigPushed++) bigDetector.push(big[bigPushed % big.length]!, (at += frameMs));
const bigFps = (bigPushed * 1000) / (performance.now() - bigStart);

report({
  name: "motion-throughput",
  value: fps,
  unit: "frames/s",
  target: `>= ${TARGET_FPS}`,
  met: fps >= TARGET_FPS,
  samples: run.pushed,
  details: {
    scene: SCENE,
    frame: `${scene.width}x${scene.height} gray`,
    analysisGrid: `${detector.gridWidth}x${detector.gridHeight}`,
    measuredMs: Math.round(elapsedMs),
    usPerFrame: Math.round((1000 * elapsedMs) / run.pushed),
    lapFramesPerS: summary(run.lapRates),
    movingFrames: run.moving,
    cpuShareAt5Fps: `${Math.round((5 / fps) * 100 * 1000) / 1000} %`,
    framesPerSAt640x360: Math.round(bigFps),
  },
});
