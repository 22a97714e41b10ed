import { describe, expect, it } from "vitest";
import { effectiveMode, parseDetection } from "./presence-mode.js";

describe("effectiveMode", () => {
  it("auto trusts camera motion only while the camera's detector runs", () => {
    expect(effectiveMode("auto", true)).toBe("pir+motion");
    expect(effectiveMode("auto", false)).toBe("pir");
  });

  it("a fixed mode is what it says, whatever the camera does", () => {
    for (const mode of ["pir", "motion", "pir+motion", "pir|motion"] as const) {
      expect(effectiveMode(mode, true)).toBe(mode);
      expect(effectiveMode(mode, false)).toBe(mode);
    }
  });
});

describe("parseDetection", () => {
  it("reads the stored JSON", () => {
    expect(parseDetection('{"mode":"pir|motion"}')).toEqual({ mode: "pir|motion" });
    expect(parseDetection(' {"mode":"auto"} ')).toEqual({ mode: "auto" });
  });

  it("refuses anything else, so the last good mode stays", () => {
    expect(() => parseDetection("pir")).toThrow();
    expect(() => parseDetection('{"mode":"pir&motion"}')).toThrow();
    expect(() => parseDetection('{"mode":"pir","extra":1}')).toThrow();
    expect(() => parseDetection("{}")).toThrow();
  });
});
