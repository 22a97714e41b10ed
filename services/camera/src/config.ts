import { z } from "zod";
import { commonConfig, env, opsPortEntry, type ConfigOf, type ConfigSpec } from "@picket/runtime";
import { PROFILE_PATTERN } from "@picket/contracts";
import { parseSource } from "./source.js";
import { isProfileError, parseProfileList, resolveProfiles, type ProfileEntry, type VideoProfile } from "./profiles.js";

export const cameraConfig = {
  ...commonConfig,
  source: {
    env: "PICKET_CAMERA_SOURCE",
    schema: env.parsed("test", parseSource),
    doc: "Where video comes from: test, file:PATH, rtsp://…, http://…, v4l2:/dev/videoN or rpicam.",
    defaultDoc: "test",
  },
  width: { env: "PICKET_CAMERA_WIDTH", schema: env.int(1280, 160, 3840), doc: "Capture width in pixels (unless PICKET_CAMERA_PROFILES gives the first profile's size)." },
  height: { env: "PICKET_CAMERA_HEIGHT", schema: env.int(720, 120, 2160), doc: "Capture height in pixels (unless PICKET_CAMERA_PROFILES gives it)." },
  fps: { env: "PICKET_CAMERA_FPS", schema: env.int(25, 1, 60), doc: "Frames per second of every profile that does not give its own (PICKET_CAMERA_PROFILES `/fps`)." },
  bitrateKbps: { env: "PICKET_CAMERA_BITRATE_KBPS", schema: env.int(2000, 100, 20_000), doc: "Video bitrate of the first profile, kbit/s (unless PICKET_CAMERA_PROFILES gives it)." },
  keyframeS: { env: "PICKET_CAMERA_KEYFRAME_S", schema: env.int(2, 1, 10), doc: "Seconds between keyframes (a new viewer starts at one)." },
  profileEntries: {
    env: "PICKET_CAMERA_PROFILES",
    schema: z
      .string()
      .optional()
      .transform((v, ctx): ProfileEntry[] | undefined => {
        if (v === undefined) return undefined;
        try {
          return parseProfileList(v);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
          return z.NEVER;
        }
      }),
    doc: "Quality profiles encoded from the one capture, each published on `picket.<device>.video.<name>`: `name:WIDTHxHEIGHT@kbps[/fps],…` (fps defaults to PICKET_CAMERA_FPS). The first is the camera's own picture (clips, stills and motion use it); a bare first name takes PICKET_CAMERA_WIDTH, _HEIGHT and _BITRATE_KBPS. Quality presets saved in the web's Settings (settings bucket `devices.<device>.presets`) replace these live, until deleted. Unset: high at those, plus low 640 wide in the camera's shape at 400 kbps if the camera is wider. Each further profile is one more scaler and libx264 encoder in the camera's ffmpeg (even with rpicam, whose first profile the Pi's hardware encodes): 640x360 at 25 fps adds about a third to the camera's CPU, far more on a Pi's slow cores, so set just `high` for one.",
    defaultDoc: "high,low:640x360@400",
  },
  legacyProfile: {
    env: "PICKET_CAMERA_PROFILE",
    schema: z.string().regex(PROFILE_PATTERN, "must be a profile name like high").optional(),
    doc: "Deprecated, use PICKET_CAMERA_PROFILES: the first profile's name when that is unset (when both are set, they must agree).",
    defaultDoc: "high",
  },
  snapshotFps: { env: "PICKET_SNAPSHOT_FPS", schema: env.int(2, 1, 10), doc: "Stills per second kept ready, so an alert's photo never waits for an encoder." },
  mode: {
    env: "PICKET_CAMERA_MODE",
    schema: env.oneOf(["always", "on-demand"] as const, "always"),
    doc: "always: capture all the time (motion detection and clip pre-roll need this). on-demand: the camera runs only while a viewer, a snapshot, a PIR edge or a clip needs it, to save power; then there is no pre-roll.",
  },
  idleS: { env: "PICKET_CAMERA_IDLE_S", schema: env.int(20, 0, 3_600), doc: "on-demand: seconds the camera keeps running after its last user, so a quick re-use does not pay the start-up again." },
  motionFps: { env: "PICKET_MOTION_FPS", schema: env.int(5, 0, 15), doc: "Frames per second the motion detector looks at (0 turns camera motion detection off)." },
  motionWidth: { env: "PICKET_MOTION_WIDTH", schema: env.int(320, 64, 640), doc: "Width of the motion detector's frames, pixels (height follows the aspect ratio)." },
  sensitivity: { env: "PICKET_MOTION_SENSITIVITY", schema: env.int(5, 1, 10), doc: "Motion sensitivity 1 (only large, clear movement) to 10 (small movement), until set in the settings bucket with masks and zones." },
  preRollS: { env: "PICKET_CLIP_PRE_S", schema: env.int(5, 0, 30), doc: "Seconds of video before the trigger in an event's clip." },
  postRollS: { env: "PICKET_CLIP_POST_S", schema: env.int(10, 1, 120), doc: "Seconds of video after the trigger in an event's clip." },
  mediaMaxMb: { env: "PICKET_MEDIA_MAX_MB", schema: env.int(1024, 16, 1_000_000), doc: "Quota of the media store (events' snapshots and clips), MB; the oldest go first." },
  mediaMaxAgeH: { env: "PICKET_MEDIA_MAX_AGE_H", schema: env.int(168, 1, 87_600), doc: "Snapshots and clips older than this many hours are deleted." },
  testScenePir: { env: "PICKET_TEST_SCENE_PIR", schema: env.bool(true), doc: "test source: tell the sim PIR when the scene's person is in the room, so the demo raises real alarms." },
  opsPort: opsPortEntry("camera", 9101),
} satisfies ConfigSpec;

export type CameraConfig = ConfigOf<typeof cameraConfig>;

/** The profiles to encode, from PICKET_CAMERA_PROFILES and the camera settings; throws ProfileError. */
export function cameraProfiles(cfg: CameraConfig): VideoProfile[] {
  return resolveProfiles(cfg.profileEntries, {
    width: cfg.width,
    height: cfg.height,
    bitrateKbps: cfg.bitrateKbps,
    fps: cfg.fps,
    ...(cfg.legacyProfile === undefined ? {} : { legacyName: cfg.legacyProfile }),
  });
}

/** Checks between camera settings, for bootService: each problem names its variable. */
export function checkCameraConfig(cfg: CameraConfig): string[] {
  try {
    cameraProfiles(cfg);
    return [];
  } catch (err) {
    if (isProfileError(err)) return [`PICKET_CAMERA_PROFILES: ${err.message}`];
    throw err;
  }
}
