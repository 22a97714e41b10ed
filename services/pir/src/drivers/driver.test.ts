import { describe, expect, it } from "vitest";
import { parseDriverSpec } from "./driver.js";

describe("parseDriverSpec", () => {
  it("accepts sim and gpio:<pin>", () => {
    expect(parseDriverSpec("sim")).toEqual({ kind: "sim" });
    expect(parseDriverSpec("gpio:17")).toEqual({ kind: "gpio", bcmPin: 17 });
    expect(parseDriverSpec("gpio:4")).toEqual({ kind: "gpio", bcmPin: 4 });
  });

  it.each(["", "gpio", "gpio:", "gpio:-1", "gpio:123", "gpio:1.5", "gpio:17 ", "GPIO:17", "sim2", "gpio:17;ls"])("rejects %j, saying what is accepted", (raw) => {
    expect(() => parseDriverSpec(raw)).toThrow(/use sim or gpio:<bcm pin>/);
  });

  it("quotes at most 32 characters of a bad value", () => {
    expect(() => parseDriverSpec("y".repeat(100))).toThrow(`"${"y".repeat(32)}"`);
  });
});
