// Debian's mosquitto and an MQTT client acting as Home Assistant, for the bridge's tests.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { freePort } from "./ports.js";
import type { Cleanups } from "./stack.js";

export const USER = "ha-user";
// Shaped so that a log line with it, whole or %-encoded, would be found below.
export const PASSWORD = "Pw-0f-the-broker@home";

/** Debian's mosquitto on a free loopback port, with a password file and no persistence: a restart forgets every retained message. */
export async function startMosquitto(cleanups: Cleanups): Promise<{ port: number; stop(): Promise<void>; start(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "picket-mosquitto-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  // Started as root, mosquitto drops to its own user, which must read the password file.
  chmodSync(dir, 0o755);
  const made = spawnSync("mosquitto_passwd", ["-c", "-b", join(dir, "passwd"), USER, PASSWORD]);
  if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr.toString()}`);
  writeFileSync(join(dir, "mosquitto.conf"), [`listener ${port} 127.0.0.1`, "allow_anonymous false", `password_file ${join(dir, "passwd")}`, "persistence false", "log_dest stderr", ""].join("\n"));
  let proc: ChildProcess | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const p = spawn("mosquitto", ["-c", join(dir, "mosquitto.conf")], { stdio: ["ignore", "ignore", "pipe"] });
      proc = p;
      let log = "";
      p.stderr?.on("data", (d: Buffer) => {
        log += d.toString();
        if (/mosquitto version \S+ running/.test(log)) resolve();
      });
      p.once("exit", (code) => reject(new Error(`mosquitto exited with ${code}:\n${log}`)));
    });
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (p?.exitCode !== null || !p.kill("SIGTERM")) return;
    await once(p, "exit");
  };
  await start();
  cleanups.push(stop);
  return { port, start, stop };
}

/** An MQTT client acting as Home Assistant: subscribed to discovery and to Picket's topics, keeping every message. */
export class HomeAssistant {
  /** The newest payload of each topic (an empty retained message removes it, as on the broker). */
  readonly latest = new Map<string, Buffer>();
  readonly history: { topic: string; text: string }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload) => {
      this.history.push({ topic, text: payload.length < 200 ? payload.toString() : `<${payload.length} bytes>` });
      if (payload.length === 0) this.latest.delete(topic);
      else this.latest.set(topic, payload);
    });
  }

  static async connect(port: number): Promise<HomeAssistant> {
    // Resubscribes after a broker restart, and so gets what is retained then.
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: USER, password: PASSWORD, reconnectPeriod: 200, clientId: `ha-${Math.random().toString(36).slice(2, 8)}` });
    const ha = new HomeAssistant(client);
    await client.subscribeAsync(["homeassistant/#", "picket/#"], { qos: 1 });
    return ha;
  }

  text(topic: string): string | undefined {
    return this.latest.get(topic)?.toString();
  }

  json(topic: string): Record<string, unknown> | undefined {
    const t = this.text(topic);
    return t === undefined ? undefined : (JSON.parse(t) as Record<string, unknown>);
  }

  /** Payloads seen on `topic` since history entry `from`. */
  since(from: number, topic: string): string[] {
    return this.history.slice(from).filter((m) => m.topic === topic).map((m) => m.text);
  }
}

/** The four discovery topics of device `d`. */
export const configTopics = (d: string) => [
  `homeassistant/binary_sensor/picket_${d}/presence/config`,
  `homeassistant/switch/picket_${d}/armed/config`,
  `homeassistant/sensor/picket_${d}/last_event/config`,
  `homeassistant/image/picket_${d}/snapshot/config`,
];
