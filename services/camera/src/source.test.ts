import { describe, expect, it } from "vitest";
import { SourceError, describeSource, parseSource } from "./source.js";

describe("parseSource", () => {
  it("accepts each form", () => {
    expect(parseSource("test")).toEqual({ kind: "test" });
    expect(parseSource("rpicam")).toEqual({ kind: "rpicam" });
    expect(parseSource("file:/videos/front door.mp4")).toEqual({ kind: "file", path: "/videos/front door.mp4" });
    expect(parseSource("file:clips/a.mkv")).toEqual({ kind: "file", path: "clips/a.mkv" });
    expect(parseSource("v4l2:/dev/video0")).toEqual({ kind: "v4l2", device: "/dev/video0" });
    expect(parseSource("v4l2:/dev/video12")).toEqual({ kind: "v4l2", device: "/dev/video12" });
    expect(parseSource("rtsp://admin:pw@192.168.1.20:554/stream1")).toEqual({ kind: "url", url: "rtsp://admin:pw@192.168.1.20:554/stream1" });
    expect(parseSource("rtsps://cam.local/live")).toEqual({ kind: "url", url: "rtsps://cam.local/live" });
    expect(parseSource("http://cam.local/video.h264")).toEqual({ kind: "url", url: "http://cam.local/video.h264" });
    expect(parseSource("https://cam.local/video")).toEqual({ kind: "url", url: "https://cam.local/video" });
  });

  it("ignores surrounding whitespace and accepts an upper-case scheme", () => {
    expect(parseSource("  test\n")).toEqual({ kind: "test" });
    expect(parseSource("RTSP://cam.local/x")).toMatchObject({ kind: "url" });
  });

  it.each([
    ["", /unknown source/],
    ["camera", /unknown source/],
    ["Test", /unknown source/],
    ["ftp://cam/x", /unknown source/],
    ["/dev/video0", /unknown source/],
    ["file:", /file: needs a path/],
    ["file:-i", /file: needs a path/],
    ["file:a\nb", /file: needs a path/],
    ["v4l2:/dev/sda", /v4l2:\/dev\/video0/],
    ["v4l2:/dev/video", /v4l2:\/dev\/video0/],
    ["v4l2:/dev/video0;reboot", /v4l2:\/dev\/video0/],
    ["rtsp://", /host/],
    ["rtsp://a b/x", /URL/],
  ])("rejects %j with a SourceError", (raw, message) => {
    expect(() => parseSource(raw)).toThrow(SourceError);
    expect(() => parseSource(raw)).toThrow(message);
  });

  it("lists every accepted form when it does not recognise the source", () => {
    const message = (() => {
      try {
        parseSource("webcam");
      } catch (err) {
        return (err as Error).message;
      }
      return "";
    })();
    for (const form of ["test", "file:PATH", "rtsp://", "http://", "v4l2:/dev/videoN", "rpicam"]) expect(message).toContain(form);
  });

  it("quotes at most 40 characters of an unknown source", () => {
    expect(() => parseSource("x".repeat(500))).toThrow(/"x{40}"/);
  });
});

describe("describeSource", () => {
  it("hides a URL's password but keeps the rest", () => {
    const described = describeSource(parseSource("rtsp://admin:hunter2@cam.local:554/stream1"));
    expect(described).toBe("rtsp://admin:***@cam.local:554/stream1");
    expect(describeSource(parseSource("http://user:p%40ss@cam/mjpeg"))).not.toContain("p%40ss");
  });

  it("leaves a URL without a password as it is", () => {
    expect(describeSource(parseSource("rtsp://cam.local/live"))).toBe("rtsp://cam.local/live");
    expect(describeSource(parseSource("rtsp://viewer@cam.local/live"))).toBe("rtsp://viewer@cam.local/live");
  });

  it("names the other sources as they were written", () => {
    for (const raw of ["test", "rpicam", "file:/videos/a.mp4", "v4l2:/dev/video2"]) expect(describeSource(parseSource(raw))).toBe(raw);
  });
});

describe("sourceMissing", () => {
  it("names a missing file or device node, and nothing for sources without a path", async () => {
    const { sourceMissing } = await import("./source.js");
    const none = () => false;
    expect(sourceMissing({ kind: "file", path: "/v/door.mp4" }, none)).toBe("the source file /v/door.mp4 is missing");
    expect(sourceMissing({ kind: "v4l2", device: "/dev/video0" }, none)).toMatch(/\/dev\/video0 is gone/);
    expect(sourceMissing({ kind: "file", path: "/v/door.mp4" }, () => true)).toBeUndefined();
    expect(sourceMissing({ kind: "url", url: "rtsp://cam/x" }, none)).toBeUndefined();
  });
});
