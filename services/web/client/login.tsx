import { useEffect, useState } from "preact/hooks";
import { ApiError, api, errorText } from "./api.js";
import type { Session } from "./types.js";

/** The login page: user name (admin unless told otherwise) and password. */
export function Login({ onLogin, notice }: { onLogin: (s: Session) => void; notice?: string }) {
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(notice ?? "");
  const [busy, setBusy] = useState(false);
  /** Until when the server refuses further attempts (429). */
  const [blockedUntil, setBlockedUntil] = useState(0);
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    if (blockedUntil === 0) return;
    if (blockedUntil <= now) {
      setBlockedUntil(0);
      setError("");
      return;
    }
    const t = window.setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, [blockedUntil, now]);
  const waitS = Math.ceil((blockedUntil - now) / 1000);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      // The whole answer: it is the session, `passwordFromEnv` included.
      onLogin(await api<Session>("/api/session", { method: "POST", body: { username, password }, quiet401: true }));
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        const s = err.retryAfterS ?? 60;
        setBlockedUntil(Date.now() + s * 1000);
        setNow(Date.now());
        setError(`Too many failed attempts from here. Try again in ${s} s.`);
      } else if (err instanceof ApiError && err.status === 401) setError(err.message || "Wrong user name or password.");
      else setError(errorText(err));
      setPassword("");
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="card login-card" onSubmit={submit} data-testid="login-form">
        <div class="login-brand">
          <img src="/favicon.svg" alt="" width={48} height={48} />
          <h1>Picket</h1>
        </div>
        <label>
          User name
          <input name="username" autocomplete="username" autocapitalize="none" spellcheck={false} required value={username} onInput={(e) => setUsername(e.currentTarget.value)} data-testid="login-user" />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required autoFocus value={password} onInput={(e) => setPassword(e.currentTarget.value)} data-testid="login-password" />
        </label>
        {error !== "" && (
          <p class="form-error" role="alert" data-testid="login-error">
            {waitS > 0 ? `Too many failed attempts from here. Try again in ${waitS} s.` : error}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy || waitS > 0} data-testid="login-submit">
          {busy ? "Logging in…" : "Log in"}
        </button>
        <p class="hint">The first admin password is PICKET_ADMIN_PASSWORD, or the one the web service printed in the device log when it first started.</p>
      </form>
    </main>
  );
}
