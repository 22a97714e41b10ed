import { describe, expect, it } from "vitest";
import { MotionDetector } from "../services/camera/src/motion/motion-detector.js";
import { SCENES, motionEpisodes, renderScene, type Episode, type Scene } from "./support/scenes.js";

/** How far an episode may reach beyond the truth: the detector needs two frames to start, and a person half out of view still changes pixels. */
const SLACK_S = 1.5;
/** Light scenes with a sudden step: the detector must say it saw (and ignored) a light change at these times. */
const LIGHT_STEPS: Record<string, number[]> = { "lamp-on": [8, 20], "ir-switch": [12] };

interface Outcome {
  episodes: Episode[];
  lightChanges: number[];
}

async function detect(scene: Scene): Promise<Outcome> {
  const frames = await renderScene(scene);
  const detector = new MotionDetector(scene.width, scene.height, scene.settings);
  const start = Date.UTC(2025, 5, 1, 12);
  const results = frames.map((f, i) => detector.push(f, start + Math.round((i * 1000) / scene.fps)));
  return {
    episodes: motionEpisodes(results.map((r) => r.moving), scene.fps),
    lightChanges: results.flatMap((r, i) => (r.lightChange ? [i / scene.fps] : [])),
  };
}

function expectMatchesTruth(scene: Scene, { episodes, lightChanges }: Outcome): void {
  const shown = JSON.stringify(episodes);
  if (scene.kind === "object") {
    for (const t of scene.truth) {
      expect(episodes.some((e) => e.fromS <= t.toS && e.toS >= t.fromS), `${scene.name}: person at ${t.fromS}–${t.toS} s not seen; episodes ${shown}`).toBe(true);
    }
    for (const e of episodes) {
      const explained = scene.truth.some((t) => e.fromS >= t.fromS - SLACK_S && e.toS <= t.toS + SLACK_S);
      expect(explained, `${scene.name}: motion ${e.fromS}–${e.toS} s outside the truth ${JSON.stringify(scene.truth)}`).toBe(true);
    }
  } else {
    expect(episodes, `${scene.name}: no motion expected`).toEqual([]);
  }
  for (const at of LIGHT_STEPS[scene.name] ?? []) {
    expect(lightChanges.some((t) => t >= at && t <= at + 1), `${scene.name}: light change at ${at} s not reported (${lightChanges})`).toBe(true);
  }
}

describe("motion detector on rendered scenes", () => {
  it("has scenes of every kind", () => {
    expect(new Set(SCENES.map((s) => s.kind))).toEqual(new Set(["object", "light", "noise", "masked", "empty"]));
    expect(SCENES.length).toBeGreaterThanOrEqual(8);
  });

  for (const scene of SCENES) {
    it(`${scene.name} (${scene.kind}): ${scene.description}`, async () => {
      expectMatchesTruth(scene, await detect(scene));
    });
  }

  for (const fps of [2, 10]) {
    for (const name of ["person-crossing", "two-visits", "lamp-on", "cloud"]) {
      it(`${name} at ${fps} fps`, async () => {
        const scene = { ...SCENES.find((s) => s.name === name)!, fps };
        expectMatchesTruth(scene, await detect(scene));
      });
    }
  }
});
