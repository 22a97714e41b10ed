import { hostname } from "node:os";
import { isAbsolute, join } from "node:path";
import { commonConfig, env, hideUrlPasswords, loadConfig, roleEntry, type ConfigOf, type ConfigSpec } from "@picket/runtime";

/**
 * The PICKET_ variables `npm start`'s launcher and `npm run hub` read (the services read their
 * own). The README lists each; a unit test checks that it does.
 */
export const stackConfig = {
  deviceId: commonConfig.deviceId,
  role: roleEntry,
  natsUrl: {
    env: "PICKET_NATS_URL",
    schema: env.optionalStr(),
    doc: "The NATS server to use. `npm start` spawns one on 127.0.0.1:4222 unless this is set.",
    defaultDoc: "nats://127.0.0.1:4222",
  },
  natsPort: { env: "PICKET_NATS_PORT", schema: env.port(4222), doc: "Port of the NATS server it spawns (on 127.0.0.1)." },
  dataDir: {
    env: "PICKET_DATA_DIR",
    schema: env.optionalStr(),
    doc: "Where that NATS server keeps JetStream (events, settings) and its config; a hub also keeps its device registry in `hub/` there.",
    defaultDoc: "./data",
  },
  logFormat: { env: "PICKET_LOG_FORMAT", schema: env.oneOf(["text", "json"], "text"), doc: "`json` passes the services' JSON log lines through unchanged; `text` prints readable lines." },
  hubUrl: {
    env: "PICKET_HUB_URL",
    schema: env.parsed("", (v): string | undefined => {
      if (v === "") return undefined;
      if (!URL.canParse(v) || !["nats-leaf:", "nats:", "tls:"].includes(new URL(v).protocol)) throw new Error("must be a URL like nats-leaf://<device id>:<password>@<hub>:7422 (printed by the hub's npm run hub -- add-device)");
      return v;
    }),
    secret: true,
    doc: "Device: join the hub at this address as a leaf node, e.g. `nats-leaf://door:<password>@hub.lan:7422` as printed by the hub's `npm run hub -- add-device door`. The user must be PICKET_DEVICE_ID. Logged with the password masked.",
    defaultDoc: "none: no hub",
  },
  hubLeafPort: { env: "PICKET_HUB_LEAF_PORT", schema: env.port(7422), doc: "Hub: the port devices join on (leaf nodes, on every interface)." },
  hubMonitorPort: { env: "PICKET_HUB_MONITOR_PORT", schema: env.port(8222), doc: "Hub: the NATS server's monitoring port on 127.0.0.1 (/leafz lists the joined devices; `npm run hub -- list` reads it)." },
  hubHost: {
    env: "PICKET_HUB_HOST",
    schema: env.parsed("", (v): string | undefined => {
      if (v !== "" && !/^[A-Za-z0-9.:[\]-]+$/.test(v)) throw new Error("must be a host name or address");
      return v === "" ? undefined : v;
    }),
    doc: "Hub: its address as devices reach it, put into the PICKET_HUB_URL that `npm run hub -- add-device` prints, and told to joining devices for their reconnects (instead of the addresses of its own interfaces).",
    defaultDoc: "this machine's host name",
  },
} satisfies ConfigSpec;

export type StackConfig = ConfigOf<typeof stackConfig>;

export function loadStackConfig(environment: NodeJS.ProcessEnv): StackConfig {
  return loadConfig(stackConfig, environment);
}

/** The data directory: PICKET_DATA_DIR (relative to the working directory), else `<repo>/data`. */
export function dataDirOf(cfg: StackConfig, repoRoot: string): string {
  if (cfg.dataDir === undefined) return join(repoRoot, "data");
  return isAbsolute(cfg.dataDir) ? cfg.dataDir : join(process.cwd(), cfg.dataDir);
}

/** The address a device joins the hub at, with its credentials. */
export function hubUrlFor(device: string, password: string, host: string, port: number): string {
  return `nats-leaf://${device}:${password}@${host}:${port}`;
}

export const defaultHubHost = (): string => hostname();

/**
 * Checks PICKET_HUB_URL against the device it is for, and gives the URL to log (password
 * masked). The hub's permissions are for the user's own subjects: a device that logged in as
 * another id would have all its messages dropped, so that is refused here, by name.
 */
export function checkHubUrl(url: string, device: string): { masked: string } {
  const user = decodeURIComponent(new URL(url).username);
  if (user !== "" && user !== device) throw new Error(`PICKET_HUB_URL logs in as "${user}" but this device is "${device}" (PICKET_DEVICE_ID): the hub lets a device publish only as itself`);
  return { masked: hideUrlPasswords(url) };
}
