import { signLiveToken } from "@picket/runtime";

/** Signs a token for watching one camera, or undefined when no secret is set. */
export type ViewerTokens = (device: string, profile: string) => string | undefined;

/** How long a token the web hands on to the stream service is good for; it only opens a stream. */
const TOKEN_TTL_MS = 60_000;

/**
 * The web service's signer: it vouches for its viewers to the stream service. Until login
 * arrives, everyone who can reach the web port is a viewer; the stream port itself then
 * takes no one without a token.
 */
export function viewerTokens(secret: string | undefined, now: () => number = Date.now): ViewerTokens {
  return (device, profile) => (secret === undefined ? undefined : signLiveToken(secret, { device, profile, exp: now() + TOKEN_TTL_MS, sub: "web" }));
}

/** `query` (`""` or `?a=b…`) with `token` set, replacing any the client sent. */
export function withViewerToken(query: string, token: string | undefined): string {
  const params = new URLSearchParams(query.startsWith("?") ? query.slice(1) : query);
  params.delete("token");
  if (token !== undefined) params.set("token", token);
  const s = params.toString();
  return s === "" ? "" : `?${s}`;
}

/**
 * Whether a browser request's Origin may open a camera: none (not a browser page), this
 * host itself, or the public address the household uses (a reverse proxy in front).
 */
export function originAllowed(origin: string | undefined, host: string | undefined, publicOrigin?: string): boolean {
  if (origin === undefined) return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  return (host !== undefined && o.host === host) || (publicOrigin !== undefined && o.origin === publicOrigin);
}
