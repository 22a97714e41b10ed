import type { BrowserContext } from "playwright-core";

/** The admin password the tests' web services start with (PICKET_ADMIN_PASSWORD in baseEnv). */
export const TEST_ADMIN_PASSWORD = "test-admin-password-0123";

/** A logged-in client of the web service, as a script would be: cookie plus CSRF token. */
export interface WebSession {
  /** `picket_session=…`, for a Cookie header (websocket upgrades, raw requests). */
  cookie: string;
  csrf: string;
  /** fetch relative to the web's base URL with the session (and the CSRF token on state changes). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Headers for a websocket upgrade from this client. */
  wsHeaders(): Record<string, string>;
  /** Gives a browser context this session, so its pages open logged in. */
  addTo(context: BrowserContext): Promise<void>;
}

/** Logs in as a script would (`POST /api/session`); throws with the server's answer when refused. */
export async function login(web: string, username = "admin", password = TEST_ADMIN_PASSWORD): Promise<WebSession> {
  const res = await fetch(`${web}/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
  if (res.status !== 200) throw new Error(`login as ${username} refused: ${res.status} ${await res.text()}`);
  const { csrf } = (await res.json()) as { csrf: string };
  const set = res.headers.getSetCookie().find((c) => c.startsWith("picket_session="));
  if (set === undefined) throw new Error("login answered without a session cookie");
  const cookie = set.split(";")[0] as string;
  return {
    cookie,
    csrf,
    fetch: (path, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set("cookie", cookie);
      const method = (init.method ?? "GET").toUpperCase();
      if (method !== "GET" && method !== "HEAD") headers.set("x-csrf-token", csrf);
      return fetch(`${web}${path}`, { ...init, headers });
    },
    wsHeaders: () => ({ cookie }),
    addTo: (context) => context.addCookies([{ name: "picket_session", value: cookie.slice("picket_session=".length), url: web }]),
  };
}
