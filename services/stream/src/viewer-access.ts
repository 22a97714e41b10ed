import type { IncomingMessage } from "node:http";
import { checkLiveToken } from "@picket/runtime";

export type Access = { ok: true; who: string | undefined } | { ok: false; status: 401 | 403; error: string };

/** The viewer token of a request: `?token=` (HLS players, sockets) or `Authorization: Bearer`. */
export function tokenOf(req: IncomingMessage): string | undefined {
  const fromQuery = new URLSearchParams((req.url ?? "").split("?")[1] ?? "").get("token");
  if (fromQuery !== null) return fromQuery;
  const auth = req.headers.authorization;
  return auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
}

/**
 * Who may watch: with a secret, only a request carrying a token the web service signed for
 * that camera; a browser page of another site (its Origin is not this host) never. Pure
 * apart from reading the request.
 */
export function checkAccess(req: IncomingMessage, secret: string | undefined, device: string, profile: string, now = Date.now()): Access {
  const origin = req.headers.origin;
  if (origin !== undefined && !sameHost(origin, req.headers.host)) return { ok: false, status: 403, error: "cross-site request refused" };
  if (secret === undefined) return { ok: true, who: undefined };
  const check = checkLiveToken(secret, tokenOf(req), device, profile, now);
  if (!check.ok) return { ok: false, status: 401, error: check.reason === "expired" ? "viewer token expired: get a new one from the web UI" : "a viewer token from the web UI is needed" };
  return { ok: true, who: check.claims.sub };
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
