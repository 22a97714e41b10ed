import { describe, expect, it } from "vitest";
import { TEST_SCENE, TestScenePir } from "./test-scene-pir.js";

function levels(pir: TestScenePir, fromMs: number, toMs: number, stepMs = 40) {
  const changes: [number, 0 | 1][] = [];
  for (let t = fromMs; t < toMs; t += stepMs) {
    const level = pir.frame(t);
    if (level !== undefined) changes.push([t, level]);
  }
  return changes;
}

describe("TestScenePir", () => {
  it("is high while the person is in the room, once per crossing", () => {
    const changes = levels(new TestScenePir(500), 0, 2 * TEST_SCENE.periodMs);
    expect(changes).toEqual([
      [8_520, 1],
      [13_520, 0],
      [53_520, 1],
      [58_520, 0],
    ]);
  });

  it("reports nothing while the room is empty", () => {
    expect(levels(new TestScenePir(), 14_000, 53_000)).toEqual([]);
  });

  it("falls when the encoder restarts mid-crossing", () => {
    const pir = new TestScenePir();
    expect(pir.frame(10_000)).toBe(1);
    expect(pir.reset()).toBe(0);
    expect(pir.reset()).toBeUndefined();
  });
});
