// Every bad-input property family at full scale, each recorded with its case count for
// docs/RELIABILITY.md. The same properties run quickly in the unit project.
import { describe, expect, it } from "vitest";
import { recordReliability } from "../support/reliability.js";
import { FAMILIES, FULL_SCALE, runFamily } from "./properties.js";

describe("bad input: property families", () => {
  it("has one family per parser and decoder, each with a stable id", () => {
    expect(new Set(FAMILIES.map((f) => f.id)).size).toBe(FAMILIES.length);
  });

  for (const family of FAMILIES) {
    it(family.family, () => {
      const cases = runFamily(family, FULL_SCALE);
      recordReliability(family.id, { kind: "bad-input", family: family.family, cases, outcome: family.outcome });
    });
  }
});
