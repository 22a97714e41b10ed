import type { IncomingMessage } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "@picket/runtime";
import type { EventFeed } from "./event-feed.js";
import type { IndexChange } from "./event-index.js";

export interface LiveEventsOptions {
  /** Listeners at once; one more is answered 503. Default 100. */
  maxListeners?: number;
  /** A comment line this often keeps proxies from closing an idle stream. Default 15 s. */
  keepAliveMs?: number;
  /** Checked at each keep-alive: a stream whose session ended (logout, password change, user removed) is closed. */
  stillAllowed?: (req: IncomingMessage) => Promise<boolean>;
  /** A listener that falls this far behind (bytes not yet sent) is dropped. Default 1 MB. */
  maxBufferedBytes?: number;
}

/** One Server-Sent Events message for a change of the timeline. */
export function sseMessage(change: IndexChange): string {
  // JSON.stringify escapes newlines, so the data is always one line.
  return change.type === "event" ? `event: event\ndata: ${JSON.stringify(change.entry)}\n\n` : `event: deleted\ndata: ${JSON.stringify({ id: change.id })}\n\n`;
}

/**
 * `GET /api/events/live`: every change of the timeline as Server-Sent Events, to a bounded
 * number of listeners. Each ends when its client goes, or on `close()` (the app's preClose).
 */
export function createLiveEvents(feed: EventFeed, log: Logger, opts: LiveEventsOptions = {}) {
  const maxListeners = opts.maxListeners ?? 100;
  const keepAliveMs = opts.keepAliveMs ?? 15_000;
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  const ends = new Set<() => void>();

  async function handler(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (ends.size >= maxListeners) {
      log.warn({ listeners: ends.size }, "too many live event listeners; refused one");
      return reply.status(503).header("retry-after", "30").send({ error: "too many open event pages; close one or try again in a minute" });
    }
    reply.hijack();
    const res = reply.raw;
    // Headers set by hooks (a renewed session cookie) go out too: hijacking skips fastify's own sending.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      // nginx and similar proxies would otherwise hold events back in their buffers.
      "x-accel-buffering": "no",
    });
    const write = (text: string) => {
      if (res.writableEnded || res.destroyed) return;
      if (res.writableLength > maxBuffered) {
        log.warn({ buffered: res.writableLength }, "dropped a live event listener that does not keep up");
        res.destroy();
        return;
      }
      res.write(text);
    };
    write("retry: 3000\n: connected\n\n");
    const unsubscribe = feed.onChange((change) => write(sseMessage(change)));
    const keepAlive = setInterval(() => {
      write(": keep-alive\n\n");
      opts.stillAllowed?.(req.raw).then(
        (ok) => {
          if (ok) return;
          write("event: session-ended\ndata: {}\n\n");
          end();
        },
        () => undefined, // the bus away: the next keep-alive asks again
      );
    }, keepAliveMs);
    const end = () => {
      if (!ends.delete(end)) return;
      clearInterval(keepAlive);
      unsubscribe();
      if (!res.writableEnded) res.end();
    };
    ends.add(end);
    // The response's close, not the request's: a GET's request closes as soon as it is read.
    res.once("close", end);
    res.once("error", end);
  }

  return {
    handler,
    get listeners(): number {
      return ends.size;
    },
    /** Ends every stream (the server waits for open connections when it closes). */
    close(): void {
      for (const end of [...ends]) end();
    },
  };
}
