import type { PRESET_LIMITS } from "@picket/contracts";
import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../api.js";
import type { DeviceSettings, QualityPreset, QualityPresets } from "../types.js";
import { Section, Status, useAction } from "./section.js";

/** The contract's limits, repeated so zod stays out of the page; `satisfies` keeps them equal. */
const LIMITS = { width: [160, 3840], height: [120, 2160], bitrateKbps: [100, 20_000], fps: [1, 60], count: 4 } as const satisfies typeof PRESET_LIMITS;

/** A starting table when the camera's own presets cannot be read. */
const STARTER: QualityPresets = {
  presets: [
    { name: "high", width: 1280, height: 720, bitrateKbps: 2000, fps: 25 },
    { name: "low", width: 640, height: 360, bitrateKbps: 500, fps: 15 },
  ],
  phone: "low",
  desktop: "high",
};

type NumberKey = "width" | "height" | "bitrateKbps" | "fps";
const COLUMNS: [NumberKey, string, number][] = [
  ["width", "Width", 2],
  ["height", "Height", 2],
  ["bitrateKbps", "kbit/s", 1],
  ["fps", "fps", 1],
];

interface Props {
  device: string;
  settings: DeviceSettings;
  readOnly: boolean;
  onSaved: (patch: Partial<DeviceSettings>) => void;
  /** Reads the settings again (after going back to the camera's own presets). */
  onReload: () => void;
}

/** Named quality profiles the camera encodes, best first, and which one `auto` gives phones and desktops. */
export function PresetsSection({ device, settings, readOnly, onSaved, onReload }: Props) {
  const initial = settings.presets ?? STARTER;
  const [presets, setPresets] = useState<QualityPreset[]>(initial.presets);
  const [phone, setPhone] = useState(initial.phone);
  const [desktop, setDesktop] = useState(initial.desktop);
  const save = useAction();

  useEffect(() => {
    const p = settings.presets ?? STARTER;
    setPresets(p.presets);
    setPhone(p.phone);
    setDesktop(p.desktop);
  }, [settings.presets]);

  const edit = (i: number, patch: Partial<QualityPreset>) => setPresets((l) => l.map((p, j) => (j === i ? { ...p, ...patch } : p)));
  const names = presets.map((p) => p.name);
  const add = () => {
    let n = presets.length + 1;
    while (names.includes(`preset${n}`)) n++;
    setPresets((l) => [...l, { name: `preset${n}`, width: 640, height: 360, bitrateKbps: 600, fps: 15 }]);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const body: QualityPresets = { presets, phone: names.includes(phone) ? phone : (names.at(-1) ?? ""), desktop: names.includes(desktop) ? desktop : (names[0] ?? "") };
    const done = await save.run(() => api<QualityPresets | undefined>(`/api/devices/${seg(device)}/presets`, { method: "PUT", body }), "Presets saved: the camera restarts its encoder and viewers reconnect");
    if (done !== undefined) onSaved({ presets: done.value ?? body, presetsSource: "settings" });
  };
  const reset = async () => {
    const done = await save.run(() => api(`/api/devices/${seg(device)}/presets`, { method: "DELETE" }), "Back to the camera's own presets");
    if (done !== undefined) onReload();
  };

  return (
    <Section
      id="presets"
      title="Quality presets"
      wide
      intro={`Profiles the camera encodes, best first (the first is also what clips and snapshots use). Live viewers on auto start on the preset named for their kind of device and step down the list when their network falls behind. Up to ${LIMITS.count}.`}
    >
      {settings.presetsError !== undefined && settings.presets === null && (
        <p class="banner error" data-testid="presets-error">
          Could not read the camera's presets: {settings.presetsError}. Saving this table sets them.
        </p>
      )}
      <p class="muted small" data-testid="presets-source">
        {settings.presetsSource === "settings" ? "Set here." : settings.presetsSource === "camera" ? "The camera's own (PICKET_CAMERA_PROFILES)." : ""}
      </p>
      <form onSubmit={submit}>
        <fieldset disabled={readOnly}>
          <div class="table-scroll">
            <table class="presets">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  {COLUMNS.map(([, label]) => (
                    <th key={label} scope="col">
                      {label}
                    </th>
                  ))}
                  <th>
                    <span class="visually-hidden">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {presets.map((p, i) => (
                  <tr key={i} data-testid="preset-row">
                    <td data-label="Name">
                      <input class="name-input" value={p.name} required pattern="[a-z0-9_\-]{1,32}" maxLength={32} aria-label="Name" onInput={(e) => edit(i, { name: e.currentTarget.value })} data-testid="preset-name" />
                    </td>
                    {COLUMNS.map(([key, label, step]) => (
                      <td key={key} data-label={label}>
                        <input
                          type="number"
                          inputMode="numeric"
                          required
                          min={LIMITS[key][0]}
                          max={LIMITS[key][1]}
                          step={step}
                          value={p[key]}
                          aria-label={label}
                          onInput={(e) => edit(i, { [key]: e.currentTarget.valueAsNumber })}
                          data-testid={`preset-${key}`}
                        />
                      </td>
                    ))}
                    <td class="remove">
                      <button type="button" class="ghost small" onClick={() => setPresets((l) => l.filter((_, j) => j !== i))} disabled={presets.length <= 1} data-testid="preset-remove" aria-label={`Remove ${p.name}`}>
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="row">
            <button type="button" class="small" onClick={add} disabled={presets.length >= LIMITS.count} data-testid="preset-add">
              Add a preset
            </button>
          </div>
          <div class="row wrap">
            <label class="field inline">
              Phones get
              <select value={phone} onChange={(e) => setPhone(e.currentTarget.value)} data-testid="preset-phone">
                {names.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
            <label class="field inline">
              Desktops get
              <select value={desktop} onChange={(e) => setDesktop(e.currentTarget.value)} data-testid="preset-desktop">
                {names.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div class="actions">
            <button type="submit" class="primary" disabled={save.busy} data-testid="presets-save">
              Save presets
            </button>
            <button type="button" class="ghost" onClick={() => void reset()} disabled={save.busy || settings.presetsSource === "camera"} data-testid="presets-reset">
              Use camera defaults
            </button>
            <Status outcome={save.outcome} />
          </div>
        </fieldset>
      </form>
    </Section>
  );
}
