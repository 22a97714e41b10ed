// The device's nats-server configuration, written by the launcher (and by tests that need a
// device bus joined to a hub), and the hub's. Pure: the text of a nats-server config file.
import { DEVICE_ID_PATTERN, subjects } from "@picket/contracts";

/**
 * Keepalive of the link to the hub: a silent network failure (packets dropped, no RST) is
 * noticed after about ping_interval × (ping_max + 1), here 5 s × 3 = 15 s, instead of nats-
 * server's default 2 min × 3. A ping is a few bytes every 5 s on an idle link.
 */
export const HUB_PING_INTERVAL_S = 5;
export const HUB_PING_MAX = 2;

export interface DeviceNatsOptions {
  /** Address and port for the device's own services. */
  host: string;
  port: number;
  storeDir: string;
  /** The server's name (unique in a fleet: the device id). */
  serverName: string;
  /** Monitoring port (/varz, /leafz), on `host`; none when undefined. */
  httpPort?: number;
  /**
   * Join a hub as a leaf node: `nats-leaf://host:7422` (credentials as user:password in the
   * URL, or a credentials file). The device's JetStream stays its own (domain = its id):
   * events and media are stored on the device and survive a lost uplink.
   */
  hub?: { url: string; credentialsFile?: string };
}

const quote = (s: string) => JSON.stringify(s);

export function deviceNatsConfig(o: DeviceNatsOptions): string {
  const lines = [
    `server_name: ${quote(o.serverName)}`,
    `host: ${quote(o.host)}`,
    `port: ${o.port}`,
    ...(o.httpPort === undefined ? [] : [`http: ${quote(`${o.host}:${o.httpPort}`)}`]),
    `jetstream {`,
    `  store_dir: ${quote(o.storeDir)}`,
    ...(o.hub === undefined ? [] : [`  domain: ${quote(o.serverName)}`]),
    `}`,
  ];
  if (o.hub !== undefined) {
    const local = devicePublishes(o.serverName);
    lines.push(
      // The device's own services may publish only in its name (and to JetStream, KV, object
      // stores and inboxes): a message in another device's name is refused here, before the
      // leaf link, whatever the hub lets the link carry (see devicePermissions).
      `no_auth_user: ${quote(DEVICE_LOCAL_USER)}`,
      `authorization {`,
      `  users: [`,
      `    { user: ${quote(DEVICE_LOCAL_USER)}, permissions: { publish: { allow: [${local.map(quote).join(", ")}] } } }`,
      `  ]`,
      `}`,
      `ping_interval: "${HUB_PING_INTERVAL_S}s"`,
      `ping_max: ${HUB_PING_MAX}`,
      `leafnodes {`,
      `  remotes: [`,
      // Its events go to the hub only as the hub's server reads them from the device's stream
      // (a source, event-feeds.ts), which catches up after the link was down; sent live as
      // well, the hub would store them twice. Nor does it store the hub's events.
      `    { url: ${quote(o.hub.url)}${o.hub.credentialsFile === undefined ? "" : `, credentials: ${quote(o.hub.credentialsFile)}`}, deny_exports: [${quote(subjects.eventsAll(o.serverName))}], deny_imports: [${quote(subjects.eventsAll())}] }`,
      `  ]`,
      `}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The user a device's own services are on its nats-server (no credentials, on loopback). */
export const DEVICE_LOCAL_USER = "picket.device";

/** What a device's own services may publish on its nats-server when it is joined to a hub. */
export function devicePublishes(id: string): string[] {
  // JetStream: its API, acks and flow control; not `$JS.>` whole (nothing else is needed).
  return [`picket.${id}.>`, "_INBOX.>", "$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "$KV.>", "$O.>"];
}

/** The hub's own JetStream domain (each device's is its id, so no device may be called this). */
export const HUB_DOMAIN = "hub";

/**
 * The user the hub's own services are: they connect to the hub's client port without
 * credentials (`no_auth_user`), which is why that port listens on loopback only. Not a
 * possible device id (a `.` is not allowed in one), so no device can take the name.
 */
export const HUB_LOCAL_USER = "picket.hub";

/**
 * The inbox prefix (nats.js `inboxPrefix`) a device's own requests to the hub must use: the
 * hub delivers `_INBOX.…` to no device (they carry replies to the hub's requests, e.g. other
 * devices' snapshots), only `_INBOX_<device>.…` to that device.
 */
export function deviceInboxPrefix(device: string): string {
  return `_INBOX_${device}`;
}

/**
 * What device `id`'s leaf connection may carry. nats-server reads a leaf user's permissions
 * from the hub's side of the link, as for a client of the hub (checked with real servers in
 * test/fleet-credentials.test.ts):
 * - `publish`: what the device may send into the hub. The hub sends these to the device's
 *   nats-server, which drops anything else before it leaves the device; nats-server 2.9 does
 *   not check them again on the hub, so they bind an unmodified device server only.
 * - `subscribe`: what the hub delivers to the device, checked by the hub itself.
 *
 * Device → hub: its own subjects, and `_INBOX.>` for its answers to the hub's requests (also
 * JetStream API answers and consumer deliveries, which go to inboxes the hub's client chose).
 * Hub → device: its commands and requests, replies to its own requests, the hub's calls to its
 * JetStream (domain = its id) and flow control of consumers reading it (object store gets).
 * Not `$JS.ACK.>`: an ack subject names a stream and consumer but no domain, so acks would
 * also reach every device with a stream of that name; the hub reads devices without acks.
 */
export function devicePermissions(id: string): { publish: string[]; subscribe: string[] } {
  return {
    // The hub's wildcard subscription across devices' heartbeats too: nats-server 2.9 sends a
    // joining leaf only those of the hub's subscriptions its publish permissions allow, compared
    // as written, so `picket.*.heartbeat.*` needs itself listed (a subscription made after the
    // leaf joined is sent anyway). The device's own server still lets its services publish only
    // in its name (deviceNatsConfig). `$JSC.R.>`: the device's JetStream answering the hub's
    // server, which keeps a consumer of the device's events stream (event-feeds.ts); its
    // deliveries come on `picket.<id>.hub-feed.…`, in the device's name.
    publish: [`picket.${id}.>`, subjects.heartbeatsAll(), "_INBOX.>", "$JSC.R.>"],
    subscribe: [`picket.${id}.>`, `${deviceInboxPrefix(id)}.>`, `$JS.${id}.API.>`, "$JS.FC.>"],
  };
}

/** A bcrypt hash as nats-server checks it (`$2a$`, `$2b$` or `$2y$`, cost, 53 characters). */
const BCRYPT_HASH = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

export interface HubDevice {
  id: string;
  /** bcrypt hash of the device's password: the config holds no password itself. */
  passwordHash: string;
}

export interface HubNatsOptions {
  /** Client listener for the hub's own services: loopback (they connect without credentials). */
  host: string;
  port: number;
  storeDir: string;
  serverName?: string;
  /** Monitoring port (/varz, /leafz) on `host`; none when undefined. */
  httpPort?: number;
  /**
   * The listener devices join as leaf nodes (`0.0.0.0:7422` on a real hub). `advertise`: the
   * host:port devices reach it at, when not the listener's own (a port forward, a tunnel): the
   * hub tells joining devices this address, and they use it when they reconnect.
   */
  leaf: { host: string; port: number; advertise?: string };
  /** Where nats-server writes its pid, so `npm run hub` can make it reload. */
  pidFile?: string;
  devices: readonly HubDevice[];
}

/**
 * The hub's nats-server configuration: JetStream (domain `hub`), a loopback client port for
 * the hub's services, and a leaf node listener where each device logs in with its own user,
 * limited to its own subjects (devicePermissions). The users sit in the server's
 * `authorization`, not in `leafnodes`, because nats-server's leaf users cannot carry
 * permissions; `allowed_connection_types` keeps each to its side. Throws on a malformed
 * device (id, hash, duplicate) rather than write a config nats-server would reject.
 */
export function hubNatsConfig(o: HubNatsOptions): string {
  const seen = new Set<string>();
  for (const d of o.devices) {
    if (!DEVICE_ID_PATTERN.test(d.id)) throw new Error(`not a device id: ${quote(d.id.slice(0, 80))}`);
    if (d.id === HUB_DOMAIN) throw new Error(`a device cannot be called "${HUB_DOMAIN}": that is the hub's JetStream domain`);
    if (!BCRYPT_HASH.test(d.passwordHash)) throw new Error(`device ${d.id}: the password hash is not a bcrypt hash`);
    if (seen.has(d.id)) throw new Error(`device ${d.id} is listed twice`);
    seen.add(d.id);
  }
  const list = (items: string[]) => `[${items.map(quote).join(", ")}]`;
  const user = (d: HubDevice) => {
    const p = devicePermissions(d.id);
    return `    { user: ${quote(d.id)}, password: ${quote(d.passwordHash)}, allowed_connection_types: ["LEAFNODE"], permissions: { publish: { allow: ${list(p.publish)} }, subscribe: { allow: ${list(p.subscribe)} } } }`;
  };
  return `${[
    `server_name: ${quote(o.serverName ?? HUB_DOMAIN)}`,
    `host: ${quote(o.host)}`,
    `port: ${o.port}`,
    ...(o.httpPort === undefined ? [] : [`http: ${quote(`${o.host}:${o.httpPort}`)}`]),
    ...(o.pidFile === undefined ? [] : [`pid_file: ${quote(o.pidFile)}`]),
    `jetstream {`,
    `  store_dir: ${quote(o.storeDir)}`,
    `  domain: ${quote(HUB_DOMAIN)}`,
    `}`,
    `ping_interval: "${HUB_PING_INTERVAL_S}s"`,
    `ping_max: ${HUB_PING_MAX}`,
    `no_auth_user: ${quote(HUB_LOCAL_USER)}`,
    `authorization {`,
    `  users: [`,
    // No password: nats-server hands a no_auth_user's stored password to its own check, which
    // a bcrypt hash cannot pass. nats-server warns about it ("Plaintext passwords detected").
    `    { user: ${quote(HUB_LOCAL_USER)}, allowed_connection_types: ["STANDARD"] }`,
    ...o.devices.map(user),
    `  ]`,
    `}`,
    `leafnodes {`,
    `  host: ${quote(o.leaf.host)}`,
    `  port: ${o.leaf.port}`,
    ...(o.leaf.advertise === undefined ? [] : [`  advertise: ${quote(o.leaf.advertise)}`]),
    `}`,
  ].join("\n")}\n`;
}
