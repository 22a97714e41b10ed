/** Where the bridge connects: the broker's URL without credentials, and the credentials apart. */
export interface BrokerTarget {
  /** `mqtt://host:1883`, `mqtts://…`, `ws://host:9001/mqtt`, `wss://…`: never with a user or password. */
  url: string;
  username?: string;
  password?: string;
  /** For logs: the URL with the user name and without the password. */
  display: string;
}

const PROTOCOLS = ["mqtt:", "mqtts:", "ws:", "wss:"];

/**
 * Reads `PICKET_MQTT_URL` (`mqtt://user:pass@homeassistant.local:1883`). The user name and
 * password may be %-encoded (a `@` in a password as `%40`); they are taken out of the URL so
 * that nothing downstream (the MQTT client's errors, a log line) ever holds the password.
 * Throws an Error whose message never quotes the password.
 */
export function parseBrokerUrl(raw: string): BrokerTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error("must be a URL such as mqtt://user:password@homeassistant.local:1883");
  }
  if (!PROTOCOLS.includes(u.protocol)) throw new Error(`must start with ${PROTOCOLS.map((p) => `${p}//`).join(", ")} (got ${u.protocol}//)`);
  if (u.hostname === "") throw new Error("names no broker host");
  if (u.search !== "" || u.hash !== "") throw new Error("must not carry a query or a fragment");
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  } catch {
    throw new Error("has a user name or password that is not valid %-encoding (write @ as %40, : as %3A)");
  }
  u.username = "";
  u.password = "";
  // Non-special schemes keep an empty path as it is: mqtt://host:1883 stays without a slash.
  const url = u.toString();
  const display = username === "" ? url : url.replace("//", `//${encodeURIComponent(username)}${password === "" ? "" : ":***"}@`);
  return { url, display, ...(username === "" ? {} : { username }), ...(password === "" ? {} : { password }) };
}
