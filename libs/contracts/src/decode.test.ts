import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DecodeError, decodeJson, encodeJson, isDecodeError } from "./decode.js";

const Schema = z.strictObject({ name: z.string(), count: z.number().int() });
const bytes = (text: string) => new TextEncoder().encode(text);

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    expect(isDecodeError(err)).toBe(true);
    return err as DecodeError;
  }
  throw new Error("expected a DecodeError");
}

describe("decodeJson", () => {
  it("returns the validated value", () => {
    expect(decodeJson(Schema, bytes('{"name":"door","count":3}'), "s")).toEqual({ name: "door", count: 3 });
  });

  it("round-trips with encodeJson", () => {
    const value = { name: "ü ✓", count: -1 };
    expect(decodeJson(Schema, encodeJson(Schema, value), "s")).toEqual(value);
  });

  it("rejects bytes that are not UTF-8", () => {
    const err = decodeError(() => decodeJson(Schema, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "picket.pi.x"));
    expect(err.reason).toBe("payload is not UTF-8");
    expect(err.subject).toBe("picket.pi.x");
    expect(err.message).toContain("picket.pi.x");
  });

  it("rejects text that is not JSON, including an empty payload", () => {
    expect(decodeError(() => decodeJson(Schema, bytes("{name: door}"), "s")).reason).toBe("payload is not JSON");
    expect(decodeError(() => decodeJson(Schema, new Uint8Array(0), "s")).reason).toBe("payload is not JSON");
  });

  it("names each field that does not match the schema", () => {
    const err = decodeError(() => decodeJson(Schema, bytes('{"name":5,"count":1.5}'), "s"));
    expect(err.reason).toMatch(/^name: .+; count: .+$/);
  });

  it("names the root when the payload has the wrong shape", () => {
    expect(decodeError(() => decodeJson(Schema, bytes("[1,2]"), "s")).reason).toMatch(/^\(root\): /);
    expect(decodeError(() => decodeJson(Schema, bytes("null"), "s")).reason).toMatch(/^\(root\): /);
  });

  it("rejects unknown keys of a strict schema", () => {
    expect(decodeError(() => decodeJson(Schema, bytes('{"name":"a","count":1,"admin":true}'), "s")).reason).toContain("admin");
  });

  it("keeps the reason to at most five issues", () => {
    const Wide = z.strictObject(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}`, z.string()])));
    expect(decodeError(() => decodeJson(Wide, bytes("{}"), "s")).reason.split("; ")).toHaveLength(5);
  });
});
