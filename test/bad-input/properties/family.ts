// What a bad-input family is: named fast-check properties that the unit project runs beside
// the modules they test (quickly) and test/bad-input/families.test.ts runs again with more
// cases, recording each family for docs/RELIABILITY.md.
import fc from "fast-check";

/** Every run starts from this seed, so a failure names a case that fails again. */
export const SEED = 20_250_901;

export interface InputProperty {
  name: string;
  /** Cases at scale 1 (the unit project's). */
  runs: number;
  property: fc.IProperty<[unknown]>;
}

export interface BadInputFamily {
  /** Stable id of the family's reliability record. */
  id: string;
  /** The family as docs/RELIABILITY.md names it. */
  family: string;
  /** How every case was answered. */
  outcome: string;
  properties: InputProperty[];
}

/** A property of one generated value, checked `runs` times: it fails by returning false or throwing. */
export function prop<T>(name: string, runs: number, arb: fc.Arbitrary<T>, check: (value: T) => boolean | void): InputProperty {
  return { name, runs, property: fc.property(arb, check) as unknown as fc.IProperty<[unknown]> };
}

export const runsAt = (p: InputProperty, scale: number) => Math.max(1, Math.round(p.runs * scale));

/** Runs every property of `family` with `scale` × its cases; returns how many cases were tried. */
export function runFamily(family: BadInputFamily, scale: number): number {
  let cases = 0;
  for (const p of family.properties) {
    const numRuns = runsAt(p, scale);
    try {
      fc.assert(p.property, { seed: SEED, numRuns });
    } catch (err) {
      throw new Error(`${family.family}: ${p.name}\n${(err as Error).message}`);
    }
    cases += numRuns;
  }
  return cases;
}

/** Expects `fn` to return, or to throw only errors that `allowed` accepts; returns what it returned. */
export function onlyThrows<T>(fn: () => T, allowed: (err: unknown) => boolean): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (!allowed(err)) throw err;
    return undefined;
  }
}

/** `bytes` cut at `cuts` (positions, any order, taken modulo its length): the chunks a pipe might deliver. */
export function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

export const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** Bytes: mostly small values (so start codes, zeros and markers turn up), sometimes anything. */
export const bytes = (maxLength = 256): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.array(fc.oneof(fc.constantFrom(0, 0, 0, 1, 3, 0xff), fc.integer({ min: 0, max: 255 })), { maxLength }).map((a) => Uint8Array.from(a)),
  );
