import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText } from "../api.js";
import { localDay } from "../format.js";
import type { DeviceList, EventEntry, EventPage, Trigger, User } from "../types.js";
import { EventItem } from "./event-item.js";
import { useLiveEvents } from "./live-events.js";

interface Filters {
  device: string;
  /** A date input's value, YYYY-MM-DD, or empty. */
  day: string;
  trigger: Trigger | "";
}

const PAGE = 30;

function query(f: Filters, before?: string): string {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (f.device !== "") q.set("device", f.device);
  if (f.trigger !== "") q.set("trigger", f.trigger);
  const range = localDay(f.day);
  if (range !== undefined) {
    q.set("from", String(range.from));
    q.set("to", String(range.to));
  }
  if (before !== undefined) q.set("before", before);
  return q.toString();
}

function matches(f: Filters, e: EventEntry): boolean {
  const range = localDay(f.day);
  return (f.device === "" || e.device === f.device) && (f.trigger === "" || e.triggers.includes(f.trigger)) && (range === undefined || (e.at >= range.from && e.at <= range.to));
}

const today = (): string => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};

/** The event timeline, newest first, with filters, paging and live additions. */
export function EventsTab({ fleet, user }: { fleet: DeviceList; user: User }) {
  const [filters, setFilters] = useState<Filters>({ device: "", day: "", trigger: "" });
  const [events, setEvents] = useState<EventEntry[]>([]);
  const [more, setMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState("");
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const current = useRef({ filters, more, events });
  current.current = { filters, more, events };

  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    setError("");
    api<EventPage>(`/api/events?${query(filters)}`, { signal: ac.signal }).then(
      (page) => {
        setEvents(page.events);
        setMore(page.more);
        setLoading(false);
      },
      (err: unknown) => {
        if (ac.signal.aborted) return;
        setEvents([]);
        setMore(false);
        setError(errorText(err));
        setLoading(false);
      },
    );
    return () => ac.abort();
  }, [filters]);

  const loadMore = async () => {
    const last = events.at(-1);
    if (last === undefined) return;
    setLoading(true);
    try {
      const page = await api<EventPage>(`/api/events?${query(filters, last.id)}`);
      setEvents((list) => [...list, ...page.events.filter((e) => !list.some((x) => x.id === e.id))]);
      setMore(page.more);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoading(false);
    }
  };

  const live = useLiveEvents({
    changed(e) {
      const { filters: f, more: hasMore, events: list } = current.current;
      if (list.some((x) => x.id === e.id)) {
        setEvents((l) => l.map((x) => (x.id === e.id ? e : x)));
        return;
      }
      const oldest = list.at(-1);
      // Older than the page shown, with more pages to come: it shows up when paged to.
      if (!matches(f, e) || (hasMore && oldest !== undefined && e.at < oldest.at)) return;
      setEvents((l) => [...l.filter((x) => x.id !== e.id), e].sort((a, b) => b.at - a.at));
      setFresh((s) => new Set(s).add(e.id));
    },
    deleted(id) {
      setEvents((l) => l.filter((x) => x.id !== id));
    },
    reopened() {
      setFilters((f) => ({ ...f }));
    },
  });

  const set = <K extends keyof Filters>(key: K, value: Filters[K]) => setFilters((f) => ({ ...f, [key]: value }));
  const filtered = filters.device !== "" || filters.day !== "" || filters.trigger !== "";
  return (
    <section class="events" aria-labelledby="events-title">
      <div class="toolbar">
        <h2 id="events-title">Events</h2>
        <span class={`live-dot ${live}`} data-testid="events-live" title={live === "on" ? "New events appear as they happen" : "Not receiving new events; retrying"}>
          {live === "on" ? "live" : live === "connecting" ? "connecting…" : "updates paused"}
        </span>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Camera
          <select value={filters.device} onChange={(e) => set("device", e.currentTarget.value)} data-testid="events-filter-device">
            <option value="">all cameras</option>
            {fleet.devices.map((d) => (
              <option key={d.id} value={d.id}>
                {d.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Day
          <input type="date" value={filters.day} max={today()} onChange={(e) => set("day", e.currentTarget.value)} data-testid="events-filter-day" />
        </label>
        <label>
          Trigger
          <select value={filters.trigger} onChange={(e) => set("trigger", e.currentTarget.value as Filters["trigger"])} data-testid="events-filter-trigger">
            <option value="">any</option>
            <option value="pir">PIR</option>
            <option value="motion">motion</option>
            <option value="test">test alarm</option>
          </select>
        </label>
        {filtered && (
          <button type="button" class="ghost" onClick={() => setFilters({ device: "", day: "", trigger: "" })} data-testid="events-filter-clear">
            Clear filters
          </button>
        )}
      </form>
      {error !== "" && (
        <p class="banner error" role="alert" data-testid="events-error">
          Could not load events: {error}
        </p>
      )}
      {!loading && error === "" && events.length === 0 && (
        <p class="empty" data-testid="events-empty">
          {filtered ? "No events match these filters." : "No events yet. A test alarm on the Live tab makes one."}
        </p>
      )}
      <ol class="timeline" data-testid="events-list">
        {events.map((e) => (
          <EventItem key={e.id} entry={e} admin={user.role === "admin"} fresh={fresh.has(e.id)} onDeleted={(id) => setEvents((l) => l.filter((x) => x.id !== id))} />
        ))}
      </ol>
      {more && (
        <button type="button" class="more" onClick={() => void loadMore()} disabled={loading} data-testid="events-more">
          {loading ? "Loading…" : "Load more"}
        </button>
      )}
      {loading && events.length === 0 && <p class="empty">Loading events…</p>}
    </section>
  );
}
