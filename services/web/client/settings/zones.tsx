import { useEffect, useRef, useState } from "preact/hooks";
import { apiBlob, api, errorText, seg } from "../api.js";
import type { DeviceSettings, MotionSettings } from "../types.js";
import { Section, Status, useAction } from "./section.js";

type Point = [number, number];
type Zone = MotionSettings["zones"][number];
const MAX_SHAPES = 16;
const MAX_POINTS = 64;
const ZONE_NAME = /^[A-Za-z0-9 _-]{1,32}$/;
/** Clicking this close to the first point (fraction of the picture) closes the shape. */
const SNAP = 0.025;

const pointsAttr = (poly: readonly Point[]) => poly.map(([x, y]) => `${x},${y}`).join(" ");
const centre = (poly: readonly Point[]): Point => [poly.reduce((n, p) => n + p[0], 0) / poly.length, poly.reduce((n, p) => n + p[1], 0) / poly.length];
const round = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 10_000) / 10_000;
const at = ([x, y]: Point) => ({ left: `${x * 100}%`, top: `${y * 100}%` });

interface Props {
  device: string;
  settings: DeviceSettings;
  readOnly: boolean;
  onSaved: (patch: Partial<DeviceSettings>) => void;
}

/**
 * Motion zones (only motion inside one counts) and masks (never looked at), drawn as polygons
 * on a fresh snapshot: click points, close the shape, name it. Saved as fractions of the picture.
 */
export function ZonesSection({ device, settings, readOnly, onSaved }: Props) {
  const [zones, setZones] = useState<Zone[]>(settings.motion.zones);
  const [masks, setMasks] = useState<Point[][]>(settings.motion.masks);
  const [draft, setDraft] = useState<Point[]>([]);
  const [closed, setClosed] = useState(false);
  const [kind, setKind] = useState<"zone" | "mask">("zone");
  const [name, setName] = useState("");
  const [dirty, setDirty] = useState(false);
  /** Counts the edits, so a save answered after further edits leaves them unsaved. */
  const edits = useRef(0);
  const edited = () => {
    edits.current += 1;
    setDirty(true);
  };
  const [picture, setPicture] = useState<{ url?: string; error?: string }>({});
  const [shot, setShot] = useState(0);
  const save = useAction();

  // Follows the stored zones and masks only while nothing here is unsaved: another section's
  // save (Detection's sensitivity writes the whole motion setting) must not discard edits.
  useEffect(() => {
    if (dirty) return;
    setZones(settings.motion.zones);
    setMasks(settings.motion.masks);
  }, [settings.motion, dirty]);

  useEffect(() => {
    const ac = new AbortController();
    let url: string | undefined;
    setPicture({});
    apiBlob(`/api/devices/${seg(device)}/snapshot.jpg`, { signal: ac.signal }).then(
      (blob) => {
        url = URL.createObjectURL(blob);
        setPicture({ url });
      },
      (err: unknown) => !ac.signal.aborted && setPicture({ error: errorText(err) }),
    );
    return () => {
      ac.abort();
      if (url !== undefined) URL.revokeObjectURL(url);
    };
  }, [device, shot]);

  const drawing = !readOnly && !closed;
  const addPoint = (e: MouseEvent) => {
    if (!drawing || draft.length >= MAX_POINTS) return;
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const p: Point = [round((e.clientX - box.left) / box.width), round((e.clientY - box.top) / box.height)];
    const first = draft[0];
    if (first !== undefined && draft.length >= 3 && Math.abs(first[0] - p[0]) < SNAP && Math.abs(first[1] - p[1]) < SNAP) setClosed(true);
    else setDraft((d) => [...d, p]);
  };
  const discard = () => {
    setDraft([]);
    setClosed(false);
    setName("");
  };
  const nameTaken = kind === "zone" && zones.some((z) => z.name === name.trim());
  const nameOk = kind === "mask" || (ZONE_NAME.test(name.trim()) && !nameTaken);
  const full = kind === "zone" ? zones.length >= MAX_SHAPES : masks.length >= MAX_SHAPES;
  const add = () => {
    if (!closed || !nameOk || full) return;
    if (kind === "zone") setZones((z) => [...z, { name: name.trim(), polygon: draft }]);
    else setMasks((m) => [...m, draft]);
    edited();
    discard();
  };

  const submit = async () => {
    const body: MotionSettings = { sensitivity: settings.motion.sensitivity, zones, masks };
    const at = edits.current;
    const done = await save.run(() => api<MotionSettings | undefined>(`/api/devices/${seg(device)}/motion`, { method: "PUT", body }), "Zones and masks saved");
    if (done === undefined) return;
    if (edits.current === at) setDirty(false);
    onSaved({ motion: done.value ?? body });
  };

  return (
    <Section
      id="zones"
      title="Motion zones and masks"
      wide
      intro="Zones: with any, only motion inside one counts. Masks: never looked at (a road, a tree in the wind). Click the picture to set points; click the first point again, or Close shape, to finish one."
    >
      <div class="zones-layout">
        <div class="zone-picture">
          <div class={`zone-surface${drawing ? " drawing" : ""}`} onClick={addPoint} data-testid="zone-canvas">
            {picture.url !== undefined ? (
              <img src={picture.url} alt={`Snapshot of ${device}`} draggable={false} />
            ) : (
              <div class="zone-blank">{picture.error !== undefined ? `No picture: ${picture.error}` : "Taking a snapshot…"}</div>
            )}
            <svg viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true">
              {masks.map((m, i) => (
                <polygon key={`m${i}`} class="mask" points={pointsAttr(m)} vector-effect="non-scaling-stroke" />
              ))}
              {zones.map((z) => (
                <polygon key={`z${z.name}`} class="zone" points={pointsAttr(z.polygon)} vector-effect="non-scaling-stroke" />
              ))}
              {draft.length > 1 &&
                (closed ? (
                  <polygon class={`draft ${kind}`} points={pointsAttr(draft)} vector-effect="non-scaling-stroke" />
                ) : (
                  <polyline class="draft" points={pointsAttr(draft)} vector-effect="non-scaling-stroke" />
                ))}
            </svg>
            {zones.map((z) => (
              <span key={z.name} class="zone-label" style={at(centre(z.polygon))}>
                {z.name}
              </span>
            ))}
            {draft.map((p, i) => (
              <span
                key={i}
                class={`pt${i === 0 && draft.length >= 3 && !closed ? " first" : ""}`}
                style={at(p)}
                onClick={(e) => {
                  if (i !== 0 || draft.length < 3 || closed) return;
                  e.stopPropagation();
                  setClosed(true);
                }}
              />
            ))}
          </div>
          <div class="row">
            <button type="button" class="small" onClick={() => setShot((n) => n + 1)} data-testid="zone-refresh">
              New snapshot
            </button>
            {!readOnly && (
              <>
                <button type="button" class="small" onClick={() => setDraft((d) => d.slice(0, -1))} disabled={draft.length === 0 || closed} data-testid="zone-undo">
                  Undo point
                </button>
                <button type="button" class="small" onClick={() => setClosed(true)} disabled={draft.length < 3 || closed} data-testid="zone-close">
                  Close shape
                </button>
                <button type="button" class="ghost small" onClick={discard} disabled={draft.length === 0} data-testid="zone-discard">
                  Discard
                </button>
              </>
            )}
          </div>
          {closed && (
            <form
              class="zone-new"
              onSubmit={(e) => {
                e.preventDefault();
                add();
              }}
            >
              <div class="segmented small" role="radiogroup" aria-label="Kind of shape">
                <label class={kind === "zone" ? "on" : ""} data-testid="zone-kind-zone">
                  <input type="radio" name="shape-kind" checked={kind === "zone"} onChange={() => setKind("zone")} />
                  Zone
                </label>
                <label class={kind === "mask" ? "on" : ""} data-testid="zone-kind-mask">
                  <input type="radio" name="shape-kind" checked={kind === "mask"} onChange={() => setKind("mask")} />
                  Mask
                </label>
              </div>
              {kind === "zone" && (
                <label class="field inline">
                  Name
                  <input value={name} maxLength={32} placeholder="e.g. door" onInput={(e) => setName(e.currentTarget.value)} data-testid="zone-name" />
                </label>
              )}
              <button type="submit" class="primary small" disabled={!nameOk || full} data-testid="zone-add">
                Add {kind}
              </button>
              {kind === "zone" && name !== "" && !nameOk && <span class="status error">{nameTaken ? "That name is taken." : "Letters, digits, space, _ and -; up to 32."}</span>}
              {full && <span class="status error">At most {MAX_SHAPES} {kind}s.</span>}
            </form>
          )}
        </div>
        <div class="zone-lists">
          <h4>Zones</h4>
          {zones.length === 0 ? (
            <p class="muted small">None: motion anywhere in the picture counts.</p>
          ) : (
            <ul class="plain">
              {zones.map((z) => (
                <li key={z.name} data-testid="zone-item">
                  <span class="swatch zone" />
                  <span class="grow">{z.name}</span>
                  {!readOnly && (
                    <button
                      type="button"
                      class="ghost small"
                      onClick={() => {
                        setZones((l) => l.filter((x) => x !== z));
                        edited();
                      }}
                      data-testid="zone-delete"
                      aria-label={`Delete zone ${z.name}`}
                    >
                      Delete
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          <h4>Masks</h4>
          {masks.length === 0 ? (
            <p class="muted small">None.</p>
          ) : (
            <ul class="plain">
              {masks.map((m, i) => (
                <li key={i} data-testid="mask-item">
                  <span class="swatch mask" />
                  <span class="grow">
                    Mask {i + 1} <span class="muted small">({m.length} points)</span>
                  </span>
                  {!readOnly && (
                    <button
                      type="button"
                      class="ghost small"
                      onClick={() => {
                        setMasks((l) => l.filter((x) => x !== m));
                        edited();
                      }}
                      data-testid="mask-delete"
                      aria-label={`Delete mask ${i + 1}`}
                    >
                      Delete
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          {!readOnly && (
            <div class="actions">
              <button type="button" class="primary" onClick={() => void submit()} disabled={save.busy || !dirty} data-testid="zones-save">
                Save zones and masks
              </button>
              {dirty && save.outcome?.kind !== "error" ? <span class="muted small">unsaved changes</span> : <Status outcome={save.outcome} />}
            </div>
          )}
        </div>
      </div>
    </Section>
  );
}
