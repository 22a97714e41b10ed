import { decodeCameraNames } from "@picket/contracts";
import { checkLiveToken } from "@picket/runtime";

const PATH = /^\/hls\/([^/?]+)\/([^/?]+)\/([A-Za-z0-9._-]{1,64})(\?.*)?$/;

/** `/hls/<device>/<profile>/<file>[?query]` taken apart once, for the auth hook and the proxy alike. */
export interface HlsRequest {
  device: string;
  profile: string;
  file: string;
  query: URLSearchParams;
  /** A player's own link token (hls-links.ts), when the query carries one. */
  token: string | undefined;
}

/** Parses an HLS URL; `"bad-name"` when the camera or profile name is not one, undefined when it is not an HLS file URL. */
export function parseHlsRequest(url: string): HlsRequest | "bad-name" | undefined {
  const m = PATH.exec(url);
  if (m === null) return undefined;
  const names = decodeCameraNames(m[1] as string, m[2] as string);
  if (names === undefined) return "bad-name";
  const query = new URLSearchParams((m[4] ?? "").slice(1));
  return { ...names, file: m[3] as string, query, token: query.get("token") ?? undefined };
}

/** Who signs links (`sub` starts so); a viewer token the web hands a page never opens HLS without a session. */
export const LINK_SUBJECT_PREFIX = "link:";

/**
 * Whether a request may fetch HLS on its link token alone, without a session: only with the
 * secret configured, and only for a valid, unexpired link token of that very camera and profile.
 */
export function linkTokenOpens(secret: string | undefined, req: HlsRequest, now = Date.now()): boolean {
  if (secret === undefined || req.token === undefined) return false;
  const check = checkLiveToken(secret, req.token, req.device, req.profile, now);
  return check.ok && (check.claims.sub ?? "").startsWith(LINK_SUBJECT_PREFIX);
}
