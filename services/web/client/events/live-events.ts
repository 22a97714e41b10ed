import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import type { EventEntry } from "../types.js";

export interface LiveEventHandlers {
  /** A new event, or a change to one (its clip arrived, it ended). */
  changed(e: EventEntry): void;
  deleted(id: string): void;
  /** The stream is back after a break: what happened meanwhile was not sent. */
  reopened(): void;
}

export type LiveState = "connecting" | "on" | "off";

/** After the server refused the stream (not a dropped connection, which EventSource retries itself). */
const RETRY_MS = 5_000;

/**
 * `GET /api/events/live` (server-sent events) while the component is shown: `event` and
 * `deleted` messages go to the handlers. A refused stream is tried again after a session check,
 * so an ended session shows the login page rather than a silent timeline.
 */
export function useLiveEvents(handlers: LiveEventHandlers): LiveState {
  const [state, setState] = useState<LiveState>("connecting");
  const on = useRef(handlers);
  on.current = handlers;

  useEffect(() => {
    let source: EventSource | undefined;
    let retry: number | undefined;
    let closed = false;
    let opened = false;
    const parse = (m: MessageEvent<string>): unknown => {
      try {
        return JSON.parse(m.data);
      } catch {
        return undefined; // a malformed message is skipped
      }
    };
    const open = () => {
      const es = new EventSource("/api/events/live");
      source = es;
      es.onopen = () => {
        setState("on");
        if (opened) on.current.reopened();
        opened = true;
      };
      es.addEventListener("event", (m) => {
        const e = parse(m as MessageEvent<string>) as EventEntry | undefined;
        if (typeof e?.id === "string") on.current.changed(e);
      });
      es.addEventListener("deleted", (m) => {
        const d = parse(m as MessageEvent<string>) as { id?: unknown } | undefined;
        if (typeof d?.id === "string") on.current.deleted(d.id);
      });
      es.onerror = () => {
        if (es.readyState === EventSource.CONNECTING) return setState("connecting");
        es.close();
        setState("off");
        retry = window.setTimeout(() => {
          // A 401 here ends the session in the page; otherwise try the stream again.
          api("/api/session").then(
            () => !closed && open(),
            () => !closed && open(),
          );
        }, RETRY_MS);
      };
    };
    open();
    return () => {
      closed = true;
      clearTimeout(retry);
      source?.close();
    };
  }, []);
  return state;
}
