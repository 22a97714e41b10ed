import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../api.js";
import { soon } from "../format.js";
import type { ArmingSetting, ArmingWindow, DeviceSettings } from "../types.js";
import { Section, Status, useAction } from "./section.js";

type Mode = ArmingSetting["mode"];

/** Monday first, as a week is read here; the values are the contract's (0 = Sunday). */
const DAYS: [number, string][] = [
  [1, "Mon"],
  [2, "Tue"],
  [3, "Wed"],
  [4, "Thu"],
  [5, "Fri"],
  [6, "Sat"],
  [0, "Sun"],
];
const MAX_WINDOWS = 32;
const NEW_WINDOW: ArmingWindow = { days: [1, 2, 3, 4, 5], from: "08:00", to: "17:00" };

const MODES: [Mode, string][] = [
  ["armed", "Armed"],
  ["disarmed", "Disarmed"],
  ["scheduled", "Scheduled"],
];

interface Props {
  device: string;
  settings: DeviceSettings;
  readOnly: boolean;
  onSaved: (patch: Partial<DeviceSettings>) => void;
}

/** Arming (armed, disarmed, or a weekly schedule) and the alert snooze. */
export function ArmingSection({ device, settings, readOnly, onSaved }: Props) {
  const [mode, setMode] = useState<Mode>(settings.arming.mode);
  const [schedule, setSchedule] = useState<ArmingWindow[]>(settings.arming.mode === "scheduled" ? settings.arming.schedule : [NEW_WINDOW]);
  const save = useAction();

  useEffect(() => {
    setMode(settings.arming.mode);
    if (settings.arming.mode === "scheduled") setSchedule(settings.arming.schedule);
  }, [settings.arming]);

  const change = (i: number, w: Partial<ArmingWindow>) => setSchedule((s) => s.map((x, j) => (j === i ? { ...x, ...w } : x)));
  const toggleDay = (i: number, day: number, on: boolean) =>
    setSchedule((s) => s.map((x, j) => (j === i ? { ...x, days: on ? [...new Set([...x.days, day])].sort() : x.days.filter((d) => d !== day) } : x)));

  const submit = async (e: Event) => {
    e.preventDefault();
    if (mode === "scheduled" && schedule.length === 0) return save.fail("Add at least one window, or choose armed or disarmed.");
    const empty = schedule.findIndex((w) => w.days.length === 0);
    if (mode === "scheduled" && empty >= 0) return save.fail(`Window ${empty + 1} has no day ticked.`);
    const body: ArmingSetting = mode === "scheduled" ? { mode, schedule } : { mode };
    const stored = await save.run(() => api<ArmingSetting>(`/api/devices/${seg(device)}/arming`, { method: "PUT", body }), mode === "scheduled" ? "Schedule saved" : `Saved: ${mode}`);
    if (stored !== undefined) onSaved({ arming: stored.value ?? body });
  };

  return (
    <Section id="arming" title="Arming" intro="While armed, presence raises an alarm. On a schedule, the device arms itself during the windows below (its own time zone; a window whose end is before its start runs past midnight).">
      <form onSubmit={submit}>
        <fieldset disabled={readOnly}>
          <div class="segmented" role="radiogroup" aria-label="Arming">
            {MODES.map(([m, label]) => (
              <label key={m} class={mode === m ? "on" : ""} data-testid={`arming-mode-${m}`}>
                <input type="radio" name={`arming-${device}`} value={m} checked={mode === m} onChange={() => setMode(m)} />
                {label}
              </label>
            ))}
          </div>
          {mode === "scheduled" && (
            <div class="schedule" data-testid="schedule">
              {schedule.map((w, i) => (
                <div class="window" key={i} data-testid="schedule-window">
                  <div class="days" role="group" aria-label={`Days of window ${i + 1}`}>
                    {DAYS.map(([day, label]) => (
                      <label key={day} class={`day${w.days.includes(day) ? " on" : ""}`} data-testid={`schedule-day-${day}`}>
                        <input type="checkbox" checked={w.days.includes(day)} onChange={(e) => toggleDay(i, day, e.currentTarget.checked)} />
                        {label}
                      </label>
                    ))}
                  </div>
                  <div class="times">
                    <label>
                      from
                      <input type="time" required value={w.from} onChange={(e) => change(i, { from: e.currentTarget.value })} data-testid="schedule-from" />
                    </label>
                    <label>
                      to
                      <input type="time" required value={w.to} onChange={(e) => change(i, { to: e.currentTarget.value })} data-testid="schedule-to" />
                    </label>
                    <button type="button" class="ghost small" onClick={() => setSchedule((s) => s.filter((_, j) => j !== i))} data-testid="schedule-remove" aria-label={`Remove window ${i + 1}`}>
                      Remove
                    </button>
                  </div>
                </div>
              ))}
              <button type="button" class="small" onClick={() => setSchedule((s) => [...s, NEW_WINDOW])} disabled={schedule.length >= MAX_WINDOWS} data-testid="schedule-add">
                Add a window
              </button>
            </div>
          )}
          <div class="actions">
            <button type="submit" class="primary" disabled={save.busy} data-testid="arming-save">
              Save arming
            </button>
            <Status outcome={save.outcome} />
          </div>
        </fieldset>
      </form>
      <Snooze device={device} settings={settings} readOnly={readOnly} onSaved={onSaved} />
    </Section>
  );
}

function Snooze({ device, settings, readOnly, onSaved }: Props) {
  const act = useAction();
  const until = settings.snooze !== null && settings.snooze.until > Date.now() ? settings.snooze.until : null;
  const snooze = async (minutes: number) => {
    const answer = await act.run(
      () => api<{ until: number | null }>(`/api/devices/${seg(device)}/snooze`, { method: "PUT", body: { minutes } }),
      minutes === 0 ? "Alerts are on again" : "Alerts snoozed",
    );
    if (answer !== undefined) onSaved({ snooze: answer.value?.until == null ? null : { until: answer.value.until } });
  };
  return (
    <div class="snooze" data-testid="snooze">
      <h4>Snooze alerts</h4>
      <p class="muted small" data-testid="snooze-state">
        {until === null ? "Alerts are on." : `Alerts are snoozed until ${soon(until)}. Events are still recorded.`}
      </p>
      <fieldset disabled={readOnly} class="row">
        <button type="button" onClick={() => void snooze(60)} disabled={act.busy} data-testid="snooze-1h">
          Snooze 1 h
        </button>
        <button type="button" onClick={() => void snooze(24 * 60)} disabled={act.busy} data-testid="snooze-24h">
          Snooze 24 h
        </button>
        {until !== null && (
          <button type="button" class="primary" onClick={() => void snooze(0)} disabled={act.busy} data-testid="snooze-clear">
            End snooze
          </button>
        )}
        <Status outcome={act.outcome} />
      </fieldset>
    </div>
  );
}
