import { useState } from "preact/hooks";
import { api, errorText, seg } from "../api.js";
import { bytes, span, when } from "../format.js";
import { toast } from "../toast.js";
import type { EventEntry } from "../types.js";

const TRIGGER_LABEL = { pir: "PIR", motion: "motion", test: "test" } as const;

/** One event on the timeline: its trigger photo, the clip inline on a tap, downloads and (admins) delete. */
export function EventItem({ entry, admin, fresh, onDeleted }: { entry: EventEntry; admin: boolean; fresh: boolean; onDeleted: (id: string) => void }) {
  const [playing, setPlaying] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const base = `/api/events/${seg(entry.id)}`;
  const photo = entry.snapshot === null ? undefined : `${base}/snapshot.jpg`;

  const remove = async () => {
    setDeleting(true);
    try {
      await api(base, { method: "DELETE" });
      toast("Event deleted");
      onDeleted(entry.id);
    } catch (err) {
      toast(`Could not delete the event: ${errorText(err)}`, "error");
      setDeleting(false);
      setConfirming(false);
    }
  };

  const clipState =
    entry.clip !== null
      ? `clip ${span(entry.clip.durationMs)}, ${bytes(entry.clip.bytes)}`
      : entry.clipPending
        ? "clip on its way…"
        : entry.mediaError !== null
          ? entry.mediaError
          : "no clip";

  return (
    <li class={`event${fresh ? " fresh" : ""}`} data-testid="event" data-event-id={entry.id} data-device={entry.device}>
      <div class="event-media">
        {playing && entry.clip !== null ? (
          <video class="clip" controls autoplay playsInline src={`${base}/clip.mp4`} poster={photo} data-testid="event-video" />
        ) : photo !== undefined ? (
          <button type="button" class="photo" onClick={() => setPlaying(entry.clip !== null)} disabled={entry.clip === null} data-testid="event-photo" aria-label={entry.clip === null ? "Trigger photo" : "Play the clip"}>
            <img src={photo} loading="lazy" alt={`Trigger photo from ${entry.device}, ${when(entry.at)}`} />
            {entry.clip !== null && <span class="play" aria-hidden="true" />}
          </button>
        ) : (
          <div class="photo missing">{entry.mediaError ?? "photo on its way…"}</div>
        )}
      </div>
      <div class="event-info">
        <div class="event-head">
          <strong>{entry.device}</strong>
          <time dateTime={new Date(entry.at).toISOString()}>{when(entry.at)}</time>
        </div>
        <div class="event-tags">
          {entry.triggers.map((t) => (
            <span key={t} class={`badge trigger-${t}`}>
              {TRIGGER_LABEL[t]}
            </span>
          ))}
          {entry.test && !entry.triggers.includes("test") && <span class="badge trigger-test">test</span>}
          {/* A test alarm is one moment: it never gets an end, so it is not "going on". */}
          {entry.endedAt !== null ? <span class="muted">lasted {span(entry.endedAt - entry.at)}</span> : !entry.test && <span class="muted">going on</span>}
        </div>
        <div class="muted small" data-testid="event-clip-state">
          {clipState}
        </div>
        <div class="event-actions">
          {photo !== undefined && (
            <a class="button small" href={`${photo}?download=1`} download data-testid="event-download-photo">
              Download photo
            </a>
          )}
          {entry.clip !== null && (
            <a class="button small" href={`${base}/clip.mp4?download=1`} download data-testid="event-download-clip">
              Download clip
            </a>
          )}
          {admin &&
            (confirming ? (
              <span class="confirm">
                <button type="button" class="danger small" onClick={() => void remove()} disabled={deleting} data-testid="event-delete-confirm">
                  {deleting ? "Deleting…" : "Delete for good"}
                </button>
                <button type="button" class="small" onClick={() => setConfirming(false)} disabled={deleting}>
                  Keep
                </button>
              </span>
            ) : (
              <button type="button" class="ghost small" onClick={() => setConfirming(true)} data-testid="event-delete">
                Delete
              </button>
            ))}
        </div>
      </div>
    </li>
  );
}
