import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ChildSpec } from "./child.js";
import { loadRegistry, writePrivateFile } from "./hub-registry.js";
import { hubFiles, writeHubConfig } from "./hub-server.js";
import { deviceNatsConfig } from "./nats-config.js";
import { checkHubUrl, type StackConfig } from "./stack-config.js";

/** The nats-server `npm start` runs, and what to tell the user about it. */
export interface NatsLaunch {
  spec: ChildSpec;
  /** The bus the services use. */
  url: string;
  /** Lines for the launcher's log (no secret in them). */
  notes: string[];
}

/**
 * Writes the nats-server config for this machine's role into the data directory (mode 0600:
 * a device's holds its hub password, a hub's the devices' hashes) and says how to run it.
 * A device: its own bus with JetStream, joined to the hub as a leaf node when PICKET_HUB_URL
 * is set. A hub: the hub's bus (hubNatsConfig) with the registered devices; it is restarted
 * if it stops, since `npm run hub -- remove-device` stops it to cut a device's link.
 */
export function prepareNats(cfg: StackConfig, dataDir: string): NatsLaunch {
  const store = join(dataDir, "nats");
  mkdirSync(store, { recursive: true });
  const url = `nats://127.0.0.1:${cfg.natsPort}`;
  // nats-server exits 0 on SIGINT (1 on SIGTERM).
  const spec = (config: string, restart: boolean): ChildSpec => ({ name: "nats", cmd: "nats-server", args: ["-c", config], ready: /Server is ready/, stopSignal: "SIGINT", restart });
  if (cfg.role === "hub") {
    if (cfg.hubUrl !== undefined) throw new Error("PICKET_HUB_URL is for a device that joins a hub; this is the hub (PICKET_ROLE=hub)");
    const files = hubFiles(dataDir);
    const registry = loadRegistry(files.registry);
    writeHubConfig(files, { host: "127.0.0.1", port: cfg.natsPort, storeDir: store, httpPort: cfg.hubMonitorPort, leaf: { host: "0.0.0.0", port: cfg.hubLeafPort, ...(cfg.hubHost === undefined ? {} : { advertise: `${cfg.hubHost}:${cfg.hubLeafPort}` }) }, pidFile: files.pidFile }, registry);
    const n = registry.devices.length;
    return {
      spec: spec(files.config, true),
      url,
      notes: [
        `hub: devices join on port ${cfg.hubLeafPort}; ${n === 0 ? "no device registered yet" : `${n} device${n === 1 ? "" : "s"} registered`} (npm run hub -- add-device <id>)`,
        // Said before nats-server says it, so that nobody goes looking for a password in clear.
        `hub: nats-server's "Plaintext passwords detected" is about the hub's own services' user, which has no password and logs in on 127.0.0.1 only; devices' passwords are bcrypt hashes`,
      ],
    };
  }
  const hub = cfg.hubUrl === undefined ? undefined : { url: cfg.hubUrl, ...checkHubUrl(cfg.hubUrl, cfg.deviceId) };
  const config = join(dataDir, "nats.conf");
  writePrivateFile(config, deviceNatsConfig({ host: "127.0.0.1", port: cfg.natsPort, storeDir: store, serverName: cfg.deviceId, ...(hub === undefined ? {} : { hub: { url: hub.url } }) }));
  return { spec: spec(config, false), url, notes: hub === undefined ? [] : [`device ${cfg.deviceId} joins the hub at ${hub.masked}`] };
}
