import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api.js";
import type { Notifications } from "../types.js";
import { Section, Status, useAction } from "./section.js";

/** The household's alert preferences (every device), applied by the bot at once. */
export function NotificationsSection({ readOnly }: { readOnly: boolean }) {
  const [prefs, setPrefs] = useState<Notifications | undefined>(undefined);
  const [quiet, setQuiet] = useState({ from: "22:00", to: "07:00" });
  const [error, setError] = useState("");
  const save = useAction();

  useEffect(() => {
    const ac = new AbortController();
    api<Notifications>("/api/notifications", { signal: ac.signal }).then(
      (p) => {
        setPrefs(p);
        if (p.quietHours !== null) setQuiet(p.quietHours);
      },
      (err: unknown) => !ac.signal.aborted && setError(errorText(err)),
    );
    return () => ac.abort();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (prefs === undefined) return;
    const done = await save.run(() => api<Notifications | undefined>("/api/notifications", { method: "PUT", body: prefs }), "Notification settings saved");
    if (done?.value !== undefined) setPrefs(done.value);
  };

  return (
    <Section id="notifications" title="Notifications" intro="How alerts reach Telegram, for every camera.">
      {error !== "" && <p class="banner error">Could not read them: {error}</p>}
      {prefs !== undefined && (
        <form onSubmit={submit}>
          <fieldset disabled={readOnly}>
            <label class="check">
              <input type="checkbox" checked={prefs.clip} onChange={(e) => setPrefs({ ...prefs, clip: e.currentTarget.checked })} data-testid="notify-clip" />
              Send the clip after the photo
            </label>
            <label class="check">
              <input type="checkbox" checked={prefs.silent} onChange={(e) => setPrefs({ ...prefs, silent: e.currentTarget.checked })} data-testid="notify-silent" />
              Every alert without sound
            </label>
            <label class="check">
              <input type="checkbox" checked={prefs.quietHours !== null} onChange={(e) => setPrefs({ ...prefs, quietHours: e.currentTarget.checked ? quiet : null })} data-testid="notify-quiet" />
              Quiet hours: alerts without sound
            </label>
            {prefs.quietHours !== null && (
              <div class="times indent">
                <label>
                  from
                  <input
                    type="time"
                    required
                    value={prefs.quietHours.from}
                    onChange={(e) => {
                      const q = { ...quiet, from: e.currentTarget.value };
                      setQuiet(q);
                      setPrefs({ ...prefs, quietHours: q });
                    }}
                    data-testid="notify-quiet-from"
                  />
                </label>
                <label>
                  to
                  <input
                    type="time"
                    required
                    value={prefs.quietHours.to}
                    onChange={(e) => {
                      const q = { ...quiet, to: e.currentTarget.value };
                      setQuiet(q);
                      setPrefs({ ...prefs, quietHours: q });
                    }}
                    data-testid="notify-quiet-to"
                  />
                </label>
              </div>
            )}
            <div class="actions">
              <button type="submit" class="primary" disabled={save.busy} data-testid="notifications-save">
                Save notifications
              </button>
              <Status outcome={save.outcome} />
            </div>
          </fieldset>
        </form>
      )}
    </Section>
  );
}
