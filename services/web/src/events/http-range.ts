/** The bytes a `Range` header asks for, inclusive, or why none can be served. */
export type RangeAnswer = { kind: "all" } | { kind: "part"; start: number; end: number } | { kind: "unsatisfiable" };

/**
 * Reads a `Range: bytes=…` header for a body of `size` bytes (RFC 9110 §14): `a-b`, `a-`
 * and the suffix form `-n`. No header, another unit, a malformed value or several ranges
 * answer `all` (a server may ignore a Range it does not serve); a range that starts past
 * the end answers `unsatisfiable` (416). An end past the body is cut to the last byte.
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: "all" };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return { kind: "all" };
  const [, first = "", last = ""] = m;
  if (first === "" && last === "") return { kind: "all" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "part", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return { kind: "all" };
  if (start >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Number(last);
  return { kind: "part", start, end: Math.min(end, size - 1) };
}
