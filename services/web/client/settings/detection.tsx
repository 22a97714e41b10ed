import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../api.js";
import type { DetectionSettings, DeviceSettings, MotionSettings, PresenceMode } from "../types.js";
import { Section, Status, useAction } from "./section.js";

const MODES: [PresenceMode, string, string][] = [
  ["auto", "Automatic", "PIR and camera motion must agree while the camera reports motion; PIR alone when it does not."],
  ["pir+motion", "PIR and motion", "Both must agree: the fewest false alarms."],
  ["pir|motion", "PIR or motion", "Either one: misses the least, more false alarms."],
  ["pir", "PIR only", "The infrared sensor alone; the camera only takes the pictures."],
  ["motion", "Motion only", "The camera's motion detection alone (no PIR sensor fitted)."],
];

interface Props {
  device: string;
  settings: DeviceSettings;
  readOnly: boolean;
  onSaved: (patch: Partial<DeviceSettings>) => void;
}

/** What raises an alarm (the presence mode) and how much movement the camera counts. */
export function DetectionSection({ device, settings, readOnly, onSaved }: Props) {
  const [mode, setMode] = useState<PresenceMode>(settings.detection.mode);
  const [sensitivity, setSensitivity] = useState(settings.motion.sensitivity);
  const save = useAction();

  useEffect(() => setMode(settings.detection.mode), [settings.detection]);
  useEffect(() => setSensitivity(settings.motion.sensitivity), [settings.motion.sensitivity]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const base = `/api/devices/${seg(device)}`;
    const done = await save.run(async () => {
      const patch: Partial<DeviceSettings> = {};
      if (mode !== settings.detection.mode) {
        const body: DetectionSettings = { mode };
        patch.detection = (await api<DetectionSettings | undefined>(`${base}/detection`, { method: "PUT", body })) ?? body;
      }
      if (sensitivity !== settings.motion.sensitivity) {
        // The stored zones and masks, never the Zones editor's unsaved ones.
        const body: MotionSettings = { ...settings.motion, sensitivity };
        patch.motion = (await api<MotionSettings | undefined>(`${base}/motion`, { method: "PUT", body })) ?? body;
      }
      return patch;
    }, "Detection saved");
    if (done !== undefined) onSaved(done.value);
  };

  return (
    <Section id="detection" title="Detection" intro="What raises an alarm, and how small a movement the camera counts.">
      <form onSubmit={submit}>
        <fieldset disabled={readOnly}>
          <label class="field">
            Alarm on
            <select value={mode} onChange={(e) => setMode(e.currentTarget.value as PresenceMode)} data-testid="detection-mode">
              {MODES.map(([m, label]) => (
                <option key={m} value={m}>
                  {label}
                </option>
              ))}
            </select>
            <span class="muted small">{MODES.find(([m]) => m === mode)?.[2]}</span>
          </label>
          <label class="field">
            <span>
              Motion sensitivity: <output data-testid="motion-sensitivity-value">{sensitivity}</output>
              <span class="muted"> (1 only large, clear movement … 10 small movement)</span>
            </span>
            <input type="range" min={1} max={10} step={1} value={sensitivity} onInput={(e) => setSensitivity(Number(e.currentTarget.value))} data-testid="motion-sensitivity" />
          </label>
          <div class="actions">
            <button type="submit" class="primary" disabled={save.busy} data-testid="detection-save">
              Save detection
            </button>
            <Status outcome={save.outcome} />
          </div>
        </fieldset>
      </form>
    </Section>
  );
}
