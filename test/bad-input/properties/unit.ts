// The unit project's copies of the bad-input properties: each at its base number of cases.
import fc from "fast-check";
import { describe, it } from "vitest";
import { SEED, runsAt, type BadInputFamily } from "./family.js";

/** One vitest test per property of each family, at scale 1: the unit project's copies. */
export function propertyTests(families: BadInputFamily[]): void {
  for (const family of families) {
    describe(`bad input: ${family.family}`, () => {
      for (const p of family.properties) it(p.name, () => fc.assert(p.property, { seed: SEED, numRuns: runsAt(p, 1) }));
    });
  }
}
