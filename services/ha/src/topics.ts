import { isDeviceId } from "@picket/contracts";

/** The two topic prefixes: Home Assistant's discovery prefix and the bridge's own. */
export interface Prefixes {
  /** `homeassistant` unless Home Assistant is set otherwise. */
  discovery: string;
  /** `picket`: state, command and availability topics live under it. */
  topic: string;
}

/** A device's state and command topics, all under `<prefix>/<device>/`. */
export interface DeviceTopics {
  /** `online` / `offline`, from the device's heartbeats (retained). */
  availability: string;
  /** The presence binary sensor: `ON` / `OFF` (retained). */
  presence: string;
  /** The armed switch's state: `ON` / `OFF` (retained). */
  armed: string;
  /** The armed switch's attributes: the stored arming mode (retained JSON). */
  armedAttributes: string;
  /** Home Assistant publishes `ON` / `OFF` here to arm or disarm. */
  armedSet: string;
  /** The last event sensor: its kind and state, e.g. `presence started` (retained). */
  lastEvent: string;
  /** The last event's details: id, time, trigger (retained JSON). */
  lastEventAttributes: string;
  /** The newest event photo's JPEG bytes (retained). */
  snapshot: string;
}

export function deviceTopics(p: Prefixes, device: string): DeviceTopics {
  const base = `${p.topic}/${device}`;
  return {
    availability: `${base}/availability`,
    presence: `${base}/presence`,
    armed: `${base}/armed`,
    armedAttributes: `${base}/armed/attributes`,
    armedSet: `${base}/armed/set`,
    lastEvent: `${base}/last_event`,
    lastEventAttributes: `${base}/last_event/attributes`,
    snapshot: `${base}/snapshot`,
  };
}

/**
 * The bridge's own availability (`online` while it runs; its last will says `offline`), one
 * per bridge so that a device's bridge and a hub's bridge on one broker do not overwrite each
 * other. A device named `bridge` cannot clash with it: no device topic ends in `/status`.
 */
export function bridgeStatusTopic(p: Prefixes, bridgeId: string): string {
  return `${p.topic}/bridge/${bridgeId}/status`;
}

/** The one subscription that receives every device's armed switch commands. */
export function armedCommandFilter(p: Prefixes): string {
  return `${p.topic}/+/armed/set`;
}

/** The device a command topic names (`picket/<device>/armed/set`), or undefined when it is no such topic. */
export function deviceOfArmedCommand(p: Prefixes, topic: string): string | undefined {
  const head = `${p.topic}/`;
  const tail = "/armed/set";
  if (!topic.startsWith(head) || !topic.endsWith(tail)) return undefined;
  const device = topic.slice(head.length, topic.length - tail.length);
  return isDeviceId(device) ? device : undefined;
}
