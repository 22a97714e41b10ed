// Bad input for the bus and websocket decoders: decode.ts with payloads.ts and telegram.ts,
// subjects.ts, video.ts, live-frame.ts and live-viewer.ts.
import { describe, expect, it } from "vitest";
import { liveFamilies } from "../../../test/bad-input/properties/live.js";
import { payloadFamilies } from "../../../test/bad-input/properties/payloads.js";
import { propertyTests } from "../../../test/bad-input/properties/unit.js";
import { isDecodeError } from "./decode.js";
import { readVideoHeaders, videoHeaders } from "./video.js";

propertyTests([...payloadFamilies, ...liveFamilies]);

describe("bad input regressions: video headers", () => {
  it("refuses a 16-digit integer beyond 2^53, where seq + 1 === seq", () => {
    const h = videoHeaders({ seq: 1, ptsUs: 0, capturedUs: 0, key: true, codec: "avc1.42c01f", width: 2, height: 2 });
    const get = (over: Record<string, string>) => ({ get: (n: string) => over[n] ?? h[n] ?? "" });
    let err: unknown;
    try {
      readVideoHeaders(get({ "Picket-Seq": "9999999999999999" }), "s");
    } catch (e) {
      err = e;
    }
    expect(isDecodeError(err) && err.reason).toBe(`header Picket-Seq must be at most ${Number.MAX_SAFE_INTEGER}`);
    expect(readVideoHeaders(get({ "Picket-Seq": String(Number.MAX_SAFE_INTEGER) }), "s").seq).toBe(Number.MAX_SAFE_INTEGER);
  });
});
