import mqtt from "mqtt";
import type { Logger } from "@picket/runtime";
import type { BrokerTarget } from "./broker-url.js";

/** The broker refused the bridge's user name or password: retrying will not help. */
export class MqttAuthError extends Error {
  override readonly name = "MqttAuthError";
}

export function isMqttAuthError(err: unknown): err is MqttAuthError {
  return err instanceof MqttAuthError;
}

/** CONNACK codes that mean bad credentials: MQTT 3.1.1's 4 and 5, MQTT 5's 134 and 135. */
const AUTH_REFUSALS = new Set([4, 5, 134, 135]);

export interface MqttLinkDeps {
  broker: BrokerTarget;
  clientId: string;
  /** The bridge's status topic: `online` (retained) once connected; its last will, and a clean stop, say `offline`. */
  statusTopic: string;
  /** Topic filters taken on each connection. */
  subscriptions: string[];
  log: Logger;
  /** After each connection (the first and every reconnection): publish everything again, as the broker may have lost it. */
  onConnect: () => Promise<void>;
  /** A message on a subscribed topic; `retained` when it was stored on the broker rather than sent now. */
  onMessage: (topic: string, payload: Buffer, retained: boolean) => void;
  /** The broker refused the credentials. */
  onFatal: (err: MqttAuthError) => void;
}

export interface MqttLink {
  readonly connected: boolean;
  /** Publishes with QoS 1; does nothing while disconnected (the next connection publishes the state as it is then). */
  publish(topic: string, payload: string | Uint8Array, retain: boolean): Promise<void>;
  /** Says `offline` on the status topic, then disconnects. */
  close(): Promise<void>;
}

/**
 * The bridge's MQTT connection (mqtt.js): reconnects for ever, every second, and logs each
 * loss and return once. The password is handed to the client apart from the URL and is never
 * logged.
 */
export function openMqttLink(deps: MqttLinkDeps): MqttLink {
  const log = deps.log.child({ module: "mqtt" });
  const { broker, statusTopic } = deps;
  const client = mqtt.connect(broker.url, {
    clientId: deps.clientId,
    ...(broker.username === undefined ? {} : { username: broker.username }),
    ...(broker.password === undefined ? {} : { password: broker.password }),
    clean: true,
    keepalive: 30,
    connectTimeout: 10_000,
    reconnectPeriod: 1_000,
    // A broker that is starting may refuse for a moment ("server unavailable"); bad credentials end it below.
    reconnectOnConnackError: true,
    // Subscriptions are taken anew on each connection, below.
    resubscribe: false,
    // Nothing is queued while disconnected: each connection publishes the current states.
    queueQoSZero: false,
    will: { topic: statusTopic, payload: Buffer.from("offline"), qos: 1, retain: true },
  });
  let everConnected = false;
  let troubleLogged = false;
  let closing = false;

  client.on("connect", () => {
    log.info({ broker: broker.display }, everConnected ? "reconnected to the MQTT broker; publishing everything again" : "connected to the MQTT broker");
    everConnected = true;
    troubleLogged = false;
    void (async () => {
      await client.publishAsync(statusTopic, "online", { qos: 1, retain: true });
      await client.subscribeAsync(deps.subscriptions, { qos: 1 });
      await deps.onConnect();
    })().catch((err: unknown) => log.warn({ err }, "publishing to the MQTT broker failed; done again on the next connection"));
  });
  client.on("error", (err) => {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "number" && AUTH_REFUSALS.has(code)) {
      client.end(true);
      deps.onFatal(new MqttAuthError(`the MQTT broker refused the user name or password of PICKET_MQTT_URL (${err.message})`));
      return;
    }
    if (troubleLogged) return;
    troubleLogged = true;
    log.warn({ broker: broker.display, reason: err.message }, everConnected ? "MQTT broker error; reconnecting" : "cannot reach the MQTT broker yet; retrying every second");
  });
  client.on("close", () => {
    if (closing || troubleLogged || !everConnected) return;
    troubleLogged = true;
    log.warn({ broker: broker.display }, "lost the MQTT broker; reconnecting");
  });
  client.on("message", (topic, payload, packet) => deps.onMessage(topic, payload, packet.retain));

  return {
    get connected() {
      return client.connected;
    },
    async publish(topic, payload, retain) {
      if (!client.connected) return;
      await client.publishAsync(topic, Buffer.from(payload), { qos: 1, retain });
    },
    async close() {
      closing = true;
      if (client.connected) await client.publishAsync(statusTopic, "offline", { qos: 1, retain: true }).catch(() => undefined);
      // Forced: the status above is acknowledged, and nothing else is worth waiting for.
      await client.endAsync(true);
    },
  };
}
