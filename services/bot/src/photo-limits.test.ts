import { describe, expect, it } from "vitest";
import { jpegSize, photoProblem } from "./photo-limits.js";
import { jpegHead } from "./testing.js";

describe("photo limits", () => {
  it("reads a JPEG's size and lets a camera picture through", () => {
    expect(jpegSize(jpegHead(1280, 720))).toEqual({ width: 1280, height: 720 });
    expect(photoProblem(jpegHead(1920, 1080))).toBeUndefined();
    expect(photoProblem(jpegHead(4056, 3040))).toBeUndefined();
  });

  it("says why Telegram would refuse a picture: over 10 MB, too large, too narrow, not a JPEG", () => {
    expect(photoProblem(jpegHead(1280, 720, 11 * 1024 * 1024))).toMatch(/11\.0 MB, more than Telegram's 10 MB/);
    expect(photoProblem(jpegHead(8000, 4000))).toMatch(/8000x4000, larger than Telegram takes/);
    expect(photoProblem(jpegHead(4000, 100))).toMatch(/too narrow/);
    expect(photoProblem(Buffer.from("not a picture"))).toMatch(/not a JPEG/);
  });
});
