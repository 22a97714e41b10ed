import { timingSafeEqual } from "node:crypto";

/** Whether a request's CSRF header equals the session's token (constant time for equal lengths). */
export function csrfMatches(sent: string | string[] | undefined, expected: string): boolean {
  if (typeof sent !== "string") return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The origin (`scheme://host[:port]`) of a URL, or undefined when it is not one. */
export function originOf(url: string | undefined): string | undefined {
  if (url === undefined || url === "null") return undefined;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a state-changing request's `Origin` header is acceptable: absent (not a browser,
 * or one that does not send it), the request's own origin (`protocol` + `host` as this
 * server saw them), or the public address the household uses (a reverse proxy in front).
 * `null` (a sandboxed or privacy-stripped page) is refused.
 */
export function requestOriginAllowed(origin: string | string[] | undefined, own: { protocol: string; host: string | undefined }, publicOrigin: string | undefined): boolean {
  if (origin === undefined) return true;
  if (typeof origin !== "string") return false;
  const sent = originOf(origin);
  if (sent === undefined) return false;
  return (own.host !== undefined && sent === originOf(`${own.protocol}://${own.host}`)) || (publicOrigin !== undefined && sent === publicOrigin);
}
