// Bad input for the camera's stream parsers: h264.ts, flv-demuxer.ts and jpeg-splitter.ts.
import { describe, expect, it } from "vitest";
import { cameraStreamFamilies } from "../../../test/bad-input/properties/camera-streams.js";
import { h264Families } from "../../../test/bad-input/properties/h264.js";
import { propertyTests } from "../../../test/bad-input/properties/unit.js";
import { splitAnnexB } from "./h264.js";

propertyTests([...h264Families, ...cameraStreamFamilies]);

describe("bad input regressions: Annex-B", () => {
  it("strips trailing zero bytes from the last unit as from the others", () => {
    const hex = (b: Uint8Array[]) => b.map((n) => Buffer.from(n).toString("hex"));
    expect(hex(splitAnnexB(Uint8Array.of(0, 0, 1, 1, 1, 0)))).toEqual(["0101"]);
    expect(hex(splitAnnexB(Uint8Array.of(0, 0, 1, 0x65, 0, 0, 0, 1, 0x41, 0, 0)))).toEqual(["65", "41"]);
    expect(splitAnnexB(Uint8Array.of(0, 0, 1, 0, 0))).toEqual([]);
  });
});
