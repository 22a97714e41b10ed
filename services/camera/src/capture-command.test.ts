import { describe, expect, it } from "vitest";
import { buildCapturePlan, captureFps, settingsForProfiles, testSceneInputs, type CaptureSettings } from "./capture-command.js";
import type { Source } from "./source.js";

const settings: CaptureSettings = { width: 1920, height: 1080, fps: 30, bitrateKbps: 4000, keyframeS: 2, snapshotFps: 2 };

/** Every value that follows `flag` in an argument list (flags such as -map and -c:v repeat per output). */
const after = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));

const sources: Source[] = [
  { kind: "test" },
  { kind: "file", path: "/videos/door.mp4" },
  { kind: "url", url: "rtsp://cam.local/stream" },
  { kind: "v4l2", device: "/dev/video0" },
  { kind: "rpicam" },
];

describe("buildCapturePlan", () => {
  it.each(sources)("$kind: runs programs with argument arrays, video FLV on fd 1 and JPEG stills on fd 3", (source) => {
    const plan = buildCapturePlan(source, settings);
    expect(plan.ffmpeg.cmd).toBe("ffmpeg");
    for (const arg of plan.ffmpeg.args) expect(typeof arg).toBe("string");
    expect(plan.ffmpeg.args).not.toContain("sh");
    expect(after(plan.ffmpeg.args, "-f")).toEqual(expect.arrayContaining(["flv", "image2pipe"]));
    expect(plan.ffmpeg.args).toContain("pipe:1");
    expect(plan.ffmpeg.args.at(-1)).toBe("pipe:3");
    expect(after(plan.ffmpeg.args, "-c:v")).toContain("mjpeg");
    expect(plan.ffmpeg.args).toContain("-nostdin");
  });

  it.each(sources)("$kind: with motion settings, also writes small gray frames on fd 4 from the same input", (source) => {
    const plan = buildCapturePlan(source, { ...settings, motion: { width: 320, height: 180, fps: 5 } });
    const args = plan.ffmpeg.args;
    expect(args.at(-1)).toBe("pipe:4");
    expect(after(args, "-pix_fmt")).toContain("gray");
    expect(args.join(" ")).toContain("fps=5:round=up,scale=320:180:flags=area,format=gray");
    // Still one input: the camera is opened once.
    expect(after(args, "-i")).toHaveLength(source.kind === "test" ? 2 : 1);
  });

  it.each(sources)("$kind: stills come from a one-thread JPEG encoder behind a rate filter that does not wait for later frames", (source) => {
    const args = buildCapturePlan(source, settings).ffmpeg.args;
    const jpeg = args.indexOf("mjpeg");
    expect(args.slice(jpeg, jpeg + 5)).toEqual(["mjpeg", "-q:v", "4", "-threads", "1"]);
    expect(args.join(" ")).toContain("fps=2:round=up");
  });

  it("test: encodes H.264 with a keyframe every gop frames and SPS/PPS repeated at each", () => {
    const plan = buildCapturePlan({ kind: "test" }, settings);
    const args = plan.ffmpeg.args;
    expect(plan.encodes).toBe(true);
    expect(plan.feeder).toBeUndefined();
    expect(after(args, "-c:v")).toEqual(["libx264", "mjpeg"]);
    expect(after(args, "-g")).toEqual(["60"]);
    expect(after(args, "-keyint_min")).toEqual(["60"]);
    expect(after(args, "-x264-params")).toEqual(["repeat-headers=1"]);
    expect(after(args, "-b:v")).toEqual(["4000k"]);
    expect(after(args, "-tune")).toEqual(["zerolatency"]);
    const graph = after(args, "-filter_complex")[0]!;
    // Both scene inputs are paced by -re at the configured size and rate.
    expect(after(args, "-i")[0]).toContain("s=1920x1080:r=30");
    expect(args.filter((a) => a === "-re")).toHaveLength(2);
    expect(graph).not.toContain("realtime");
    expect(graph).toContain("fps=2:round=up[stills]");
  });

  it("file: loops the file as one argument, however odd its name, and scales it", () => {
    const path = "/videos/front door; rm -rf ~ $(reboot).mp4";
    const args = buildCapturePlan({ kind: "file", path }, settings).ffmpeg.args;
    expect(after(args, "-i")).toEqual([path]);
    expect(after(args, "-stream_loop")).toEqual(["-1"]);
    expect(after(args, "-filter_complex")[0]).toContain("scale=1920:1080,fps=30");
    expect(after(args, "-g")).toEqual(["60"]);
  });

  it("url: copies the camera's H.264 without re-encoding", () => {
    const plan = buildCapturePlan({ kind: "url", url: "rtsp://admin:pw@cam.local/stream" }, settings);
    expect(plan.encodes).toBe(false);
    expect(after(plan.ffmpeg.args, "-i")).toEqual(["rtsp://admin:pw@cam.local/stream"]);
    expect(after(plan.ffmpeg.args, "-c:v")).toEqual(["copy", "mjpeg"]);
    expect(plan.ffmpeg.args).not.toContain("libx264");
    expect(after(plan.ffmpeg.args, "-rtsp_transport")).toEqual(["tcp"]);
  });

  it("url: uses RTSP options only for RTSP", () => {
    const args = buildCapturePlan({ kind: "url", url: "http://cam.local/video" }, settings).ffmpeg.args;
    expect(args).not.toContain("-rtsp_transport");
    expect(after(args, "-c:v")).toEqual(["copy", "mjpeg"]);
  });

  it("v4l2: asks the device for the configured size and rate and encodes", () => {
    const plan = buildCapturePlan({ kind: "v4l2", device: "/dev/video2" }, settings);
    expect(plan.encodes).toBe(true);
    expect(after(plan.ffmpeg.args, "-i")).toEqual(["/dev/video2"]);
    expect(after(plan.ffmpeg.args, "-video_size")).toEqual(["1920x1080"]);
    expect(after(plan.ffmpeg.args, "-framerate")).toEqual(["30"]);
    expect(after(plan.ffmpeg.args, "-c:v")).toEqual(["libx264", "mjpeg"]);
  });

  it("rpicam: rpicam-vid encodes in hardware with inline headers and feeds ffmpeg, which only copies", () => {
    const plan = buildCapturePlan({ kind: "rpicam" }, settings);
    expect(plan.encodes).toBe(false);
    const feeder = plan.feeder!;
    expect(feeder.cmd).toBe("rpicam-vid");
    expect(feeder.args).toEqual(expect.arrayContaining(["--inline", "--flush", "--nopreview"]));
    expect(after(feeder.args, "-t")).toEqual(["0"]);
    expect(after(feeder.args, "-o")).toEqual(["-"]);
    expect(after(feeder.args, "--codec")).toEqual(["h264"]);
    expect(after(feeder.args, "--width")).toEqual(["1920"]);
    expect(after(feeder.args, "--height")).toEqual(["1080"]);
    expect(after(feeder.args, "--framerate")).toEqual(["30"]);
    expect(after(feeder.args, "--bitrate")).toEqual(["4000000"]);
    expect(after(feeder.args, "--intra")).toEqual(["60"]);
    expect(after(plan.ffmpeg.args, "-i")).toEqual(["pipe:0"]);
    expect(after(plan.ffmpeg.args, "-f")[0]).toBe("h264");
    expect(after(plan.ffmpeg.args, "-c:v")).toEqual(["copy", "mjpeg"]);
    expect(plan.ffmpeg.args).not.toContain("libx264");
  });
});

describe("buildCapturePlan with extra profiles", () => {
  const low = { name: "low", width: 640, height: 360, bitrateKbps: 400, fps: 30 };
  const tiny = { name: "tiny", width: 320, height: 180, bitrateKbps: 150, fps: 30 };
  const withExtras = { ...settings, extraProfiles: [low, tiny] };
  /** The arguments of the output that writes to `fd`: from the option after the previous output's pipe to the pipe. */
  const outputOf = (args: string[], fd: number) => {
    const end = args.indexOf(`pipe:${fd}`);
    const start = args.slice(0, end).findLastIndex((a) => /^pipe:\d$/.test(a) && a !== "pipe:0") + 1;
    return args.slice(start, end + 1);
  };

  it.each(sources)("$kind: one more FLV output per extra profile, on fd 5, 6, … after stills and motion", (source) => {
    const plan = buildCapturePlan(source, { ...withExtras, motion: { width: 320, height: 180, fps: 5 } });
    expect(plan.extraVideos).toEqual([{ profile: low, fd: 5, fps: 30 }, { profile: tiny, fd: 6, fps: 30 }]);
    const args = plan.ffmpeg.args;
    expect(args.filter((a) => /^pipe:\d$/.test(a) && a !== "pipe:0")).toEqual(["pipe:1", "pipe:3", "pipe:4", "pipe:5", "pipe:6"]);
    // Still one opening of the camera.
    expect(after(args, "-i")).toHaveLength(source.kind === "test" ? 2 : 1);
    for (const [fd, p] of [[5, low], [6, tiny]] as const) {
      const out = outputOf(args, fd);
      expect(after(out, "-f")).toEqual(["flv"]);
      expect(after(out, "-c:v")).toEqual(["libx264"]);
      expect(after(out, "-preset")).toEqual(["ultrafast"]);
      expect(after(out, "-tune")).toEqual(["zerolatency"]);
      expect(after(out, "-b:v")).toEqual([`${p.bitrateKbps}k`]);
      // The main picture's GOP in frames, so keyframes line up, and headers at each.
      expect(after(out, "-g")).toEqual(["60"]);
      expect(after(out, "-keyint_min")).toEqual(["60"]);
      expect(after(out, "-x264-params")).toEqual(["repeat-headers=1"]);
      expect(out).toContain("-an");
    }
  });

  it.each([{ kind: "test" }, { kind: "file", path: "/v.mp4" }, { kind: "v4l2", device: "/dev/video0" }] as Source[])(
    "$kind: each extra profile is a scaled branch of the one filter graph",
    (source) => {
      const args = buildCapturePlan(source, withExtras).ffmpeg.args;
      const graph = after(args, "-filter_complex")[0]!;
      expect(graph).toContain("split=4[v][s0][x1][x2]");
      expect(graph).toContain("[x1]scale=640:360:flags=area[p1]");
      expect(graph).toContain("[x2]scale=320:180:flags=area[p2]");
      expect(after(outputOf(args, 5), "-map")).toEqual(["[p1]"]);
      expect(after(outputOf(args, 6), "-map")).toEqual(["[p2]"]);
      // The main picture is encoded as before, at its own size and bitrate.
      expect(after(outputOf(args, 1), "-b:v")).toEqual(["4000k"]);
    },
  );

  it.each([{ kind: "url", url: "rtsp://cam/s" }, { kind: "rpicam" }] as Source[])("$kind: the main picture is still copied; extra profiles are decoded, scaled and encoded", (source) => {
    const plan = buildCapturePlan(source, withExtras);
    expect(plan.encodes).toBe(false);
    const args = plan.ffmpeg.args;
    expect(after(outputOf(args, 1), "-c:v")).toEqual(["copy"]);
    expect(after(outputOf(args, 5), "-map")).toEqual(["0:v:0"]);
    expect(after(outputOf(args, 5), "-vf")).toEqual(["scale=640:360:flags=area"]);
    expect(after(outputOf(args, 6), "-vf")).toEqual(["scale=320:180:flags=area"]);
    expect(after(args, "-c:v")).toEqual(["copy", "mjpeg", "libx264", "libx264"]);
  });

  it("without extra profiles the plan is the single-profile one", () => {
    for (const source of sources) {
      const plan = buildCapturePlan(source, { ...settings, extraProfiles: [] });
      expect(plan.extraVideos).toEqual([]);
      expect(plan.ffmpeg.args).toEqual(buildCapturePlan(source, settings).ffmpeg.args);
      expect(plan.ffmpeg.args).not.toContain("pipe:5");
    }
  });
});

describe("buildCapturePlan with a frame rate per profile", () => {
  const slow = { ...settings, fps: 10, keyframeS: 2, extraProfiles: [{ name: "mid", width: 960, height: 540, bitrateKbps: 800, fps: 15 }, { name: "tiny", width: 320, height: 180, bitrateKbps: 150, fps: 5 }] };
  const outputOf = (args: string[], fd: number) => {
    const end = args.indexOf(`pipe:${fd}`);
    const start = args.slice(0, end).findLastIndex((a) => /^pipe:\d$/.test(a) && a !== "pipe:0") + 1;
    return args.slice(start, end + 1);
  };

  it("captures an encoding source at the highest rate any profile wants; a passed-through one at the main picture's", () => {
    expect(captureFps({ kind: "test" }, slow)).toBe(15);
    expect(captureFps({ kind: "v4l2", device: "/dev/video0" }, slow)).toBe(15);
    expect(captureFps({ kind: "url", url: "rtsp://cam/s" }, slow)).toBe(10);
    expect(captureFps({ kind: "rpicam" }, slow)).toBe(10);
    expect(captureFps({ kind: "test" }, settings)).toBe(30);
  });

  it("test: the scene runs at the capture rate; the main picture and slower profiles drop frames, each with a GOP of the same seconds", () => {
    const plan = buildCapturePlan({ kind: "test" }, slow);
    const args = plan.ffmpeg.args;
    expect(plan.captureFps).toBe(15);
    expect(after(args, "-i")[0]).toContain(":r=15");
    expect(after(args, "-i")[1]).toContain(":r=15");
    const graph = after(args, "-filter_complex")[0]!;
    expect(graph).toContain("split=4[v0][s0][x1][x2]");
    expect(graph).toContain("[v0]fps=10:round=up[v]");
    // mid runs at the capture rate: no rate filter; tiny drops two frames in three.
    expect(graph).toContain("[x1]scale=960:540:flags=area[p1]");
    expect(graph).toContain("[x2]scale=320:180:flags=area,fps=5:round=up[p2]");
    expect(after(outputOf(args, 1), "-g")).toEqual(["20"]);
    expect(after(outputOf(args, 5), "-g")).toEqual(["30"]);
    expect(after(outputOf(args, 5), "-keyint_min")).toEqual(["30"]);
    expect(after(outputOf(args, 6), "-g")).toEqual(["10"]);
    expect(plan.extraVideos.map((x) => x.fps)).toEqual([15, 5]);
  });

  it("file and v4l2: the input is read at the capture rate", () => {
    expect(after(buildCapturePlan({ kind: "file", path: "/v.mp4" }, slow).ffmpeg.args, "-filter_complex")[0]).toContain("[0:v]scale=1920:1080,fps=15,split=4[v0]");
    expect(after(buildCapturePlan({ kind: "v4l2", device: "/dev/video0" }, slow).ffmpeg.args, "-framerate")).toEqual(["15"]);
  });

  it.each([{ kind: "url", url: "rtsp://cam/s" }, { kind: "rpicam" }] as Source[])("$kind: no profile runs faster than the camera's own picture", (source) => {
    const plan = buildCapturePlan(source, slow);
    const args = plan.ffmpeg.args;
    expect(plan.extraVideos.map((x) => x.fps)).toEqual([10, 5]);
    expect(after(outputOf(args, 5), "-vf")).toEqual(["scale=960:540:flags=area"]);
    expect(after(outputOf(args, 5), "-g")).toEqual(["20"]);
    expect(after(outputOf(args, 6), "-vf")).toEqual(["scale=320:180:flags=area,fps=5:round=up"]);
    expect(after(outputOf(args, 6), "-g")).toEqual(["10"]);
  });

  it("never asks for motion frames faster than the capture", () => {
    const plan = buildCapturePlan({ kind: "rpicam" }, { ...slow, fps: 3, motion: { width: 320, height: 180, fps: 5 } });
    expect(plan.motion).toEqual({ width: 320, height: 180, fps: 3 });
    expect(plan.ffmpeg.args.join(" ")).toContain("fps=3:round=up,scale=320:180:flags=area,format=gray");
    expect(buildCapturePlan({ kind: "test" }, { ...slow, motion: { width: 320, height: 180, fps: 5 } }).motion?.fps).toBe(5);
  });

  it("settingsForProfiles: the first profile is the main picture, the rest extra profiles", () => {
    const [mid, tiny] = slow.extraProfiles;
    const s = settingsForProfiles([{ name: "high", width: 1280, height: 720, bitrateKbps: 2000, fps: 12 }, mid!, tiny!], { keyframeS: 3, snapshotFps: 2 });
    expect(s).toEqual({ width: 1280, height: 720, fps: 12, bitrateKbps: 2000, keyframeS: 3, snapshotFps: 2, extraProfiles: [mid, tiny] });
    expect(() => settingsForProfiles([], { keyframeS: 2, snapshotFps: 2 })).toThrow(RangeError);
  });

  it("rpicam: the first profile's size, rate and bitrate go to rpicam-vid, its GOP in frames too", () => {
    const feeder = buildCapturePlan({ kind: "rpicam" }, { ...slow, width: 1280, height: 720, bitrateKbps: 1500 }).feeder!;
    expect(after(feeder.args, "--width")).toEqual(["1280"]);
    expect(after(feeder.args, "--height")).toEqual(["720"]);
    expect(after(feeder.args, "--framerate")).toEqual(["10"]);
    expect(after(feeder.args, "--bitrate")).toEqual(["1500000"]);
    expect(after(feeder.args, "--intra")).toEqual(["20"]);
  });
});

describe("testSceneInputs", () => {
  const font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

  it("draws the label and a clock when a font is given", () => {
    const graph = testSceneInputs({ ...settings, fontFile: font, label: "front-door_1" }).graph;
    expect(graph).toContain(`drawtext=fontfile=${font}:text='front-door_1 %{localtime`);
  });

  it("leaves the clock out without a font", () => {
    expect(testSceneInputs({ ...settings, label: "pi" }).graph).not.toContain("drawtext");
  });

  it("strips everything but [A-Za-z0-9_-] from a hostile label", () => {
    const label = "x':text=pwned[v];movie=/etc/passwd,\\n%{e:1}";
    const graph = testSceneInputs({ ...settings, fontFile: font, label }).graph;
    expect(graph).toContain("text='xtextpwnedvmovie");
    expect(graph).not.toContain("movie=");
    expect(graph).not.toContain("/etc/passwd");
    expect(graph).not.toContain("%{e");
    expect(graph.split(";")).toHaveLength(testSceneInputs({ ...settings, fontFile: font, label: "pi" }).graph.split(";").length);
  });

  it("caps the label's length", () => {
    expect(testSceneInputs({ ...settings, fontFile: font, label: "a".repeat(100) }).graph).toContain(`text='${"a".repeat(32)} `);
  });

  it.each(["/fonts/a.ttf:text=pwned", "/fonts/a b.ttf", "/fonts/a'.ttf", "/fonts/a.ttf,movie=x", "/fonts/a.ttf;[x]"])("ignores a font path %j that could break out of the filter", (fontFile) => {
    const graph = testSceneInputs({ ...settings, fontFile, label: "pi" }).graph;
    expect(graph).not.toContain("drawtext");
    expect(graph).not.toContain(fontFile);
  });
});
