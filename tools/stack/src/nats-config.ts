// The device's nats-server configuration, written by the launcher (and by tests that need a
// device bus joined to a hub). Pure: the text of a nats-server config file.

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
    lines.push(
      `ping_interval: "${HUB_PING_INTERVAL_S}s"`,
      `ping_max: ${HUB_PING_MAX}`,
      `leafnodes {`,
      `  remotes: [`,
      `    { url: ${quote(o.hub.url)}${o.hub.credentialsFile === undefined ? "" : `, credentials: ${quote(o.hub.credentialsFile)}`} }`,
      `  ]`,
      `}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
