import type { DeviceList } from "./types.js";

/** A refused or failed request, with the server's own message (`{ error }`) when it gave one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** From a 429's `retryAfterS` or Retry-After header. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

/** The message to show a user for any failure. */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

let csrf = "";
let unauthorized: () => void = () => undefined;

/** The CSRF token every state change carries (from the login answer or GET /api/session). */
export function setCsrf(token: string): void {
  csrf = token;
}

/** Called when a request answers 401 after login: the session ended (expired, logged out elsewhere). */
export function onUnauthorized(fn: () => void): void {
  unauthorized = fn;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  /** Do not treat a 401 as the end of the session (the login and session calls). */
  quiet401?: boolean;
}

/**
 * A JSON request to the web service: the body as JSON, `x-csrf-token` on anything but GET,
 * the answer's JSON (undefined for 204). Throws an ApiError with the server's message.
 */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await request(path, opts);
  if (res.status === 204) return undefined as T;
  return (await res.json().catch(() => undefined)) as T;
}

/** A binary GET (a snapshot), with the same errors as `api`. */
export async function apiBlob(path: string, opts: Pick<RequestOptions, "signal"> = {}): Promise<Blob> {
  return (await request(path, opts)).blob();
}

async function request(path: string, opts: RequestOptions): Promise<Response> {
  const method = opts.method ?? "GET";
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-csrf-token"] = csrf;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal, credentials: "same-origin" });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "No answer from the device: is it on the network?");
  }
  if (res.ok) return res;
  if (res.status === 401 && opts.quiet401 !== true) unauthorized();
  const body: unknown = await res.json().catch(() => undefined);
  const said = typeof body === "object" && body !== null && typeof (body as { error?: unknown }).error === "string" ? (body as { error: string }).error : undefined;
  const retry = Number((body as { retryAfterS?: unknown } | undefined)?.retryAfterS ?? res.headers.get("retry-after") ?? Number.NaN);
  // A bare 404 from a route the web service does not have yet (older than this page).
  const missing = res.status === 404 && (said === undefined || said === "not found");
  const message = missing ? `this device's web service does not offer ${path.split("?")[0]} (404): is it up to date?` : (said ?? `${res.status} ${res.statusText}`);
  throw new ApiError(res.status, message, Number.isFinite(retry) ? retry : undefined);
}

/** `encodeURIComponent` for a path segment. */
export const seg = (s: string): string => encodeURIComponent(s);

export const getDevices = (opts: Pick<RequestOptions, "signal" | "quiet401"> = {}): Promise<DeviceList> => api<DeviceList>("/api/devices", opts);
