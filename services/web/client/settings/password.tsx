import { useState } from "preact/hooks";
import { api } from "../api.js";
import { Section, Status, useAction } from "./section.js";

const MIN_PASSWORD = 10;

/** The logged-in user's own password: no form when PICKET_ADMIN_PASSWORD sets it (the server refuses a change then). */
export function PasswordSection({ fromEnv }: { fromEnv: boolean }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const act = useAction();

  const submit = async (e: Event) => {
    e.preventDefault();
    if (next.length < MIN_PASSWORD) return act.fail(`The new password needs at least ${MIN_PASSWORD} characters.`);
    if (next !== repeat) return act.fail("The new password and its repetition differ.");
    const done = await act.run(() => api("/api/session/password", { method: "POST", body: { current, next } }), "Password changed; your other sessions are logged out");
    if (done === undefined) return;
    setCurrent("");
    setNext("");
    setRepeat("");
  };

  return (
    <Section id="password" title="Password" intro={fromEnv ? "Your password is set by PICKET_ADMIN_PASSWORD on the device: change it there and restart the web service." : undefined}>
      {!fromEnv && (
        <form class="grid-form" onSubmit={submit}>
          <label class="field">
            Current password
            <input type="password" value={current} required autocomplete="current-password" onInput={(e) => setCurrent(e.currentTarget.value)} data-testid="password-current" />
          </label>
          <label class="field">
            New password (at least {MIN_PASSWORD} characters)
            <input type="password" value={next} required minLength={MIN_PASSWORD} autocomplete="new-password" onInput={(e) => setNext(e.currentTarget.value)} data-testid="password-new" />
          </label>
          <label class="field">
            New password again
            <input type="password" value={repeat} required minLength={MIN_PASSWORD} autocomplete="new-password" onInput={(e) => setRepeat(e.currentTarget.value)} data-testid="password-repeat" />
          </label>
          <div class="actions">
            <button type="submit" class="primary" disabled={act.busy} data-testid="password-save">
              Change password
            </button>
            <Status outcome={act.outcome} />
          </div>
        </form>
      )}
    </Section>
  );
}
