import type { Polygon } from "@picket/contracts";

/** Where the test scene draws its clock (top left), as a motion mask. */
export const TEST_SCENE_CLOCK_MASK: Polygon = [
  [0, 0],
  [0.5, 0],
  [0.5, 0.1],
  [0, 0.1],
];

/** The test scene's timing (see testSceneInputs): every 45 s a person enters at 8 s and crosses the room in 6 s. */
export const TEST_SCENE = { periodMs: 45_000, enterMs: 8_000, crossingMs: 6_000 } as const;

/**
 * What a PIR sensor in the test scene's room would see: warm body in view while the person
 * is inside the frame (a little after entering until a little before leaving). The camera
 * publishes these levels to the `sim` PIR driver, so the demo stack raises real alarms
 * with both PIR and motion, as a room with a real person would. Pure: takes the encoder
 * run's presentation time, which is the scene's own clock.
 */
export class TestScenePir {
  private level: 0 | 1 = 0;

  constructor(private readonly marginMs = 500) {}

  /** The level for a frame at `runPtsMs`, when it changes; otherwise undefined. */
  frame(runPtsMs: number): 0 | 1 | undefined {
    const t = ((runPtsMs % TEST_SCENE.periodMs) + TEST_SCENE.periodMs) % TEST_SCENE.periodMs - TEST_SCENE.enterMs;
    const level: 0 | 1 = t >= this.marginMs && t < TEST_SCENE.crossingMs - this.marginMs ? 1 : 0;
    if (level === this.level) return undefined;
    this.level = level;
    return level;
  }

  /** A new encoder run restarts the scene at t = 0. */
  reset(): 0 | undefined {
    const was = this.level;
    this.level = 0;
    return was === 1 ? 0 : undefined;
  }
}
