import { commonConfig, env, publicUrlEntry, liveSecretEntry, type ConfigSpec } from "@picket/runtime";

export const webConfig = {
  ...commonConfig,
  liveSecret: liveSecretEntry,
  publicUrl: publicUrlEntry,
  port: { env: "PICKET_HTTP_PORT", schema: env.port(8080), doc: "Port of the web UI and HTTP API (also /healthz and /metrics)." },
  host: { env: "PICKET_HTTP_HOST", schema: env.str("0.0.0.0"), doc: "Address the web UI listens on." },
  streamUrl: {
    env: "PICKET_STREAM_URL",
    schema: env.url("ws://127.0.0.1:8081", ["ws:", "wss:"]),
    doc: "Where the web service finds the stream service; browsers only ever talk to the web port.",
  },
} satisfies ConfigSpec;
