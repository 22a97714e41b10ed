import type { VideoProfile } from "./profiles.js";
import type { Source } from "./source.js";

/** The main picture (the first profile) and what else the one ffmpeg makes of the capture. */
export interface CaptureSettings {
  width: number;
  height: number;
  /** The main picture's frame rate; the capture runs at the highest of it and the extra profiles'. */
  fps: number;
  bitrateKbps: number;
  /** Seconds between keyframes in every profile: each profile's GOP is this times its fps, so keyframes line up in time. */
  keyframeS: number;
  /** Stills per second kept ready for snapshots. */
  snapshotFps: number;
  /** A font for the test scene's clock; the clock is left out without one. */
  fontFile?: string;
  /** Small grayscale frames for the motion detector, on fd 4; none when absent. */
  motion?: MotionFrames;
  /** Text drawn on the test scene (the device id). Only [A-Za-z0-9_-] reaches the filter graph. */
  label?: string;
  /**
   * Smaller profiles encoded from the same capture, each with libx264 as FLV on fd 5, 6, …
   * at its own fps (the main picture above stays on fd 1, encoded or passed through as before).
   */
  extraProfiles?: VideoProfile[];
}

/** Raw 8-bit gray frames of this size and rate, for the motion detector. */
export interface MotionFrames {
  width: number;
  height: number;
  fps: number;
}

export interface Command {
  cmd: string;
  args: string[];
}

/**
 * The processes that capture one source. `ffmpeg` always writes FLV (H.264) to fd 1,
 * JPEG stills to fd 3, with `motion` settings raw gray frames to fd 4, and each extra
 * profile as FLV (H.264) to fd 5, 6, …; all come from the one opener of the camera. `feeder`, when present, pipes its stdout into ffmpeg's stdin.
 * Arguments are arrays, never a shell line.
 */
export interface CapturePlan {
  feeder?: Command;
  ffmpeg: Command;
  /** The video is encoded here (true) or passed through from the source (false). */
  encodes: boolean;
  /** Size of the gray frames on fd 4, when there are any. */
  motion?: MotionFrames;
  /** The extra profiles' FLV outputs, in the order of `extraProfiles`. */
  extraVideos: ExtraVideo[];
  /** Frames per second the camera is captured (or, passed through, assumed to send) at. */
  captureFps: number;
}

export interface ExtraVideo {
  profile: VideoProfile;
  fd: number;
  /** The rate it is encoded at: its profile's, but never above the capture's. */
  fps: number;
}

/** The first fd of the extra profiles' FLV outputs. */
export const FIRST_EXTRA_FD = 5;

const COMMON = ["-hide_banner", "-nostdin", "-loglevel", "warning"];
/** Input options: read without buffering ahead. Output flags are left alone (the FLV muxer needs global headers). */
const LOW_DELAY_IN = ["-fflags", "+nobuffer", "-flags", "+low_delay"];

function encodeArgs(s: { bitrateKbps: number; gop: number }): string[] {
  return [
    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
    "-b:v", `${s.bitrateKbps}k`, "-maxrate", `${s.bitrateKbps}k`, "-bufsize", `${Math.round(s.bitrateKbps / 2)}k`,
    "-g", String(s.gop), "-keyint_min", String(s.gop),
    "-x264-params", "repeat-headers=1",
  ];
}

const flvOut = (fd: number) => ["-f", "flv", "-flush_packets", "1", `pipe:${fd}`];
const VIDEO_OUT = flvOut(1);

/**
 * The capture's frame rate: a source ffmpeg encodes is captured at the highest rate any
 * profile wants, and slower profiles drop frames; a source passed through sends the main
 * picture's rate (rpicam is asked for it; a network camera is assumed to), which no profile can exceed.
 */
export function captureFps(source: Source, s: CaptureSettings): number {
  return passedThrough(source) ? s.fps : Math.max(s.fps, ...(s.extraProfiles ?? []).map((p) => p.fps));
}

/** Sources whose H.264 is copied, not encoded here. */
const passedThrough = (source: Source) => source.kind === "url" || source.kind === "rpicam";

const extraVideos = (s: CaptureSettings, fps: number): ExtraVideo[] => (s.extraProfiles ?? []).map((profile, i) => ({ profile, fd: FIRST_EXTRA_FD + i, fps: Math.min(profile.fps, fps) }));

/**
 * The filter that makes an extra profile from the main picture: area averaging, which is
 * both cheap for the usual halving and free of the aliasing of bilinear; then, for a profile
 * slower than the capture, the rate filter that drops frames.
 */
const scaleFilter = (x: ExtraVideo, fps: number) => `scale=${x.profile.width}:${x.profile.height}:flags=area${x.fps < fps ? `,${rate(x.fps)}` : ""}`;

/**
 * Output options of one extra profile, after the options that pick its frames (`from`):
 * a GOP of the same seconds as the main picture's, so from the same start their keyframes line up.
 */
const extraOut = (x: ExtraVideo, keyframeS: number, from: string[]) => [...from, "-an", ...encodeArgs({ bitrateKbps: x.profile.bitrateKbps, gop: keyframeS * x.fps }), ...flvOut(x.fd)];

function stillsOut(input: string): string[] {
  return ["-map", input, "-an", ...STILL_ENCODER, "-f", "image2pipe", "pipe:3"];
}

/**
 * The JPEG encoder on one thread: with more, ffmpeg holds each still back about 500 ms,
 * which made a still's arrival time (its timestamp) lie about what it shows.
 */
const STILL_ENCODER = ["-c:v", "mjpeg", "-q:v", "4", "-threads", "1"];

/**
 * Rate filter that passes a frame on as soon as it arrives: the default rounding waits for
 * the following frames first (about 270 ms at 2 fps).
 */
const rate = (fps: number) => `fps=${fps}:round=up`;

/** Filter that makes the motion detector's frames. */
function motionFilter(m: MotionFrames): string {
  return `${rate(m.fps)},scale=${m.width}:${m.height}:flags=area,format=gray`;
}

const MOTION_OUT = ["-an", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:4"];

/**
 * Splits a decoded input at `fps` into the encoder's branch `[v]` (at the main picture's
 * rate), the stills `[stills]`, with motion settings `[motion]`, and a scaled branch `[pN]`
 * per extra profile; and the output options of all but `[v]`.
 */
function branches(input: string, s: CaptureSettings, fps: number): { graph: string; outs: string[] } {
  const m = s.motion;
  const extras = extraVideos(s, fps);
  const slowMain = s.fps < fps;
  const labels = [slowMain ? "[v0]" : "[v]", "[s0]", ...(m === undefined ? [] : ["[m0]"]), ...extras.map((_, i) => `[x${i + 1}]`)];
  const graph = [
    `${input}split=${labels.length}${labels.join("")}`,
    ...(slowMain ? [`[v0]${rate(s.fps)}[v]`] : []),
    `[s0]${rate(s.snapshotFps)}[stills]`,
    ...(m === undefined ? [] : [`[m0]${motionFilter(m)}[motion]`]),
    ...extras.map((x, i) => `[x${i + 1}]${scaleFilter(x, fps)}[p${i + 1}]`),
  ].join(";");
  return {
    graph,
    outs: [...stillsOut("[stills]"), ...(m === undefined ? [] : ["-map", "[motion]", ...MOTION_OUT]), ...extras.flatMap((x, i) => extraOut(x, s.keyframeS, ["-map", `[p${i + 1}]`]))],
  };
}

/**
 * For sources passed through: stills, motion frames and extra profiles decoded from input 0.
 * The decoding is paid for the stills anyway; each extra profile adds a scaler and a libx264
 * encoder, which on a Pi (whose hardware encodes the main picture) is most of ffmpeg's CPU.
 */
function decodedOuts(s: CaptureSettings): string[] {
  const stills = ["-map", "0:v:0", "-an", "-vf", rate(s.snapshotFps), ...STILL_ENCODER, "-f", "image2pipe", "pipe:3"];
  const motion = s.motion === undefined ? [] : ["-map", "0:v:0", "-vf", motionFilter(s.motion), ...MOTION_OUT];
  const extras = extraVideos(s, s.fps).flatMap((x) => extraOut(x, s.keyframeS, ["-map", "0:v:0", "-vf", scaleFilter(x, s.fps)]));
  return [...stills, ...motion, ...extras];
}

/**
 * The test scene: a room, a door, a person who walks in and out, a clock. Its two lavfi
 * inputs are paced by `-re`; pacing inside the filter graph (the realtime filter) would let
 * the 2 fps stills branch hold video frames back and release them in bursts.
 */
export function testSceneInputs(s: CaptureSettings): { inputs: string[]; graph: string; outs: string[] } {
  const { width: w, height: h } = s;
  const fps = captureFps({ kind: "test" }, s);
  const label = (s.label ?? "").replace(/[^A-Za-z0-9_-]/g, "").slice(0, 32);
  const clock =
    s.fontFile === undefined || !/^[A-Za-z0-9_./-]+$/.test(s.fontFile)
      ? ""
      : `,drawtext=fontfile=${s.fontFile}:text='${label} %{localtime\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}':x=16:y=16:fontsize=${Math.max(12, Math.round(h / 26))}:fontcolor=white:box=1:boxcolor=black@0.4`;
  const pw = Math.round(w / 8);
  const ph = Math.round(h * 0.55);
  const split = branches("", s, fps);
  return {
    inputs: ["-re", "-f", "lavfi", "-i", `color=c=0x4a5560:s=${w}x${h}:r=${fps}`, "-re", "-f", "lavfi", "-i", `color=c=0xd09060:s=${pw}x${ph}:r=${fps}`],
    graph: [
      "[0]drawbox=x=0:y=ih*0.72:w=iw:h=ih*0.28:color=0x6b5a48:t=fill,drawbox=x=iw*0.62:y=ih*0.18:w=iw*0.14:h=ih*0.54:color=0x3b2a1a:t=fill[room]",
      // Every 45 s the person enters at 8 s and crosses the room in 6 s (TEST_SCENE). The room
      // is empty when the camera starts, so motion detection learns an empty room and the
      // first clip has its pre-roll; the visits are far enough apart to be separate events.
      `[room][1]overlay=x='if(between(mod(t,45),8,14),-w+(W+w)*(mod(t,45)-8)/6,W)':y=H*0.3${clock},${split.graph}`,
    ].join(";"),
    outs: split.outs,
  };
}

/** The main picture and extra profiles of a profile list (the first is the main picture), with what all share. */
export function settingsForProfiles(profiles: readonly VideoProfile[], shared: Omit<CaptureSettings, "width" | "height" | "fps" | "bitrateKbps" | "extraProfiles">): CaptureSettings {
  const [first, ...extras] = profiles;
  if (first === undefined) throw new RangeError("a capture needs at least one profile");
  return { ...shared, width: first.width, height: first.height, fps: first.fps, bitrateKbps: first.bitrateKbps, extraProfiles: extras };
}

/** Builds the capture processes for a source. Pure: unit-tested without a camera. */
export function buildCapturePlan(source: Source, settings: CaptureSettings): CapturePlan {
  const fps = captureFps(source, settings);
  // Motion frames never come faster than the capture: the rate filter would repeat frames.
  const m = settings.motion;
  const s = m === undefined || m.fps <= fps ? settings : { ...settings, motion: { ...m, fps } };
  const plan = { ...planFor(source, s, fps), extraVideos: extraVideos(s, fps), captureFps: fps };
  return s.motion === undefined ? plan : { ...plan, motion: s.motion };
}

function planFor(source: Source, s: CaptureSettings, fps: number): Omit<CapturePlan, "extraVideos" | "captureFps"> {
  const gop = s.keyframeS * s.fps;
  const main = encodeArgs({ bitrateKbps: s.bitrateKbps, gop });
  switch (source.kind) {
    case "test": {
      const scene = testSceneInputs(s);
      return {
        encodes: true,
        ffmpeg: {
          cmd: "ffmpeg",
          args: [...COMMON, ...scene.inputs, "-filter_complex", scene.graph, "-map", "[v]", ...main, ...VIDEO_OUT, ...scene.outs],
        },
      };
    }
    case "file": {
      const split = branches(`[0:v]scale=${s.width}:${s.height},fps=${fps},`, s, fps);
      return {
        encodes: true,
        ffmpeg: {
          cmd: "ffmpeg",
          args: [
            ...COMMON, "-re", "-stream_loop", "-1", "-i", source.path,
            "-filter_complex", split.graph,
            "-map", "[v]", "-an", ...main, ...VIDEO_OUT, ...split.outs,
          ],
        },
      };
    }
    case "url": {
      const rtsp = /^rtsps?:/i.test(source.url);
      return {
        encodes: false,
        ffmpeg: {
          cmd: "ffmpeg",
          args: [
            ...COMMON, ...LOW_DELAY_IN, ...(rtsp ? ["-rtsp_transport", "tcp"] : []), "-timeout", "10000000", "-i", source.url,
            "-map", "0:v:0", "-an", "-c:v", "copy", ...VIDEO_OUT, ...decodedOuts(s),
          ],
        },
      };
    }
    case "v4l2": {
      const split = branches("[0:v]", s, fps);
      return {
        encodes: true,
        ffmpeg: {
          cmd: "ffmpeg",
          args: [
            ...COMMON, ...LOW_DELAY_IN, "-f", "v4l2", "-video_size", `${s.width}x${s.height}`, "-framerate", String(fps), "-i", source.device,
            "-filter_complex", split.graph,
            "-map", "[v]", ...main, ...VIDEO_OUT, ...split.outs,
          ],
        },
      };
    }
    case "rpicam":
      // The Pi's hardware encoder does the work; ffmpeg only repackages and makes stills.
      return {
        encodes: false,
        feeder: {
          cmd: "rpicam-vid",
          args: [
            "-t", "0", "--nopreview", "--inline", "--flush", "--codec", "h264", "--profile", "high", "--level", "4.1",
            "--width", String(s.width), "--height", String(s.height), "--framerate", String(s.fps),
            "--bitrate", String(s.bitrateKbps * 1000), "--intra", String(gop), "-o", "-",
          ],
        },
        ffmpeg: {
          cmd: "ffmpeg",
          args: [
            ...COMMON, ...LOW_DELAY_IN, "-f", "h264", "-framerate", String(s.fps), "-i", "pipe:0",
            "-map", "0:v:0", "-c:v", "copy", ...VIDEO_OUT, ...decodedOuts(s),
          ],
        },
      };
  }
}
