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
  opsPort: opsPortEntry("camera", 9101),
} satisfies ConfigSpec;
