import { commonConfig, env, liveSecretEntry, type ConfigSpec } from "@picket/runtime";

export const streamConfig = {
  ...commonConfig,
  liveSecret: liveSecretEntry,
  autoProfiles: {
    env: "PICKET_STREAM_AUTO_PROFILES",
    schema: env.parsed("high,low", (v) => {
      const list = v.split(",").map((p) => p.trim()).filter((p) => p !== "");
      if (list.length === 0 || list.some((p) => !/^[a-z0-9_-]{1,32}$/.test(p) || p === "auto")) throw new Error("must be profile names, best first, e.g. high,low");
      return list;
    }),
    doc: "The profiles a viewer of `auto` moves between, best first: phones start on the last, others on the first; a viewer that keeps falling behind steps down, one that keeps up steps back up. A camera with quality presets (the web's Settings) uses those instead: their names in order, phones starting on its `phone` preset, others on `desktop`.",
  },
  port: { env: "PICKET_STREAM_PORT", schema: env.port(8081), doc: "Port of the stream service (viewer websockets, HLS, /healthz, /metrics). The web service proxies to it." },
  host: { env: "PICKET_STREAM_HOST", schema: env.str("127.0.0.1"), doc: "Address the stream service listens on (0.0.0.0 in containers)." },
  highWaterBytes: { env: "PICKET_STREAM_HIGH_WATER_BYTES", schema: env.int(512 * 1024, 16 * 1024, 64 * 1024 * 1024), doc: "A viewer with more than this queued skips to the next keyframe." },
  sourceTimeoutMs: { env: "PICKET_STREAM_SOURCE_TIMEOUT_MS", schema: env.int(3_000, 500, 60_000), doc: "No frame for this long: viewers are told the camera is lost." },
  hlsIdleMs: { env: "PICKET_STREAM_HLS_IDLE_MS", schema: env.int(30_000, 1_000, 600_000), doc: "An HLS stream with no playlist or segment request for this long stops being packaged (and lets an on-demand camera stop)." },
  hlsStartTimeoutMs: { env: "PICKET_STREAM_HLS_START_TIMEOUT_MS", schema: env.int(15_000, 1_000, 120_000), doc: "How long an HLS request waits for the stream's first segment before answering 503." },
} satisfies ConfigSpec;
