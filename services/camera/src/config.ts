import { z } from "zod";
import { commonConfig, env, opsPortEntry, type ConfigSpec } from "@picket/runtime";
import { PROFILE_PATTERN } from "@picket/contracts";
import { parseSource } from "./source.js";

export const cameraConfig = {
  ...commonConfig,
  source: {
    env: "PICKET_CAMERA_SOURCE",
    schema: env.parsed("test", parseSource),
    doc: "Where video comes from: test, file:PATH, rtsp://…, http://…, v4l2:/dev/videoN or rpicam.",
    defaultDoc: "test",
  },
  width: { env: "PICKET_CAMERA_WIDTH", schema: env.int(1280, 160, 3840), doc: "Capture width in pixels." },
  height: { env: "PICKET_CAMERA_HEIGHT", schema: env.int(720, 120, 2160), doc: "Capture height in pixels." },
  fps: { env: "PICKET_CAMERA_FPS", schema: env.int(25, 1, 60), doc: "Frames per second." },
  bitrateKbps: { env: "PICKET_CAMERA_BITRATE_KBPS", schema: env.int(2000, 100, 20_000), doc: "Video bitrate, kbit/s." },
  keyframeS: { env: "PICKET_CAMERA_KEYFRAME_S", schema: env.int(2, 1, 10), doc: "Seconds between keyframes (a new viewer starts at one)." },
  profile: {
    env: "PICKET_CAMERA_PROFILE",
    schema: z.string().regex(PROFILE_PATTERN, "must be a profile name like high").optional().transform((v) => v ?? "high"),
    doc: "Name of the quality profile this camera publishes.",
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
