import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
// The OpenAPI fields of route schemas (tags, summary) are typed by the swagger plugin.
import type {} from "@fastify/swagger";
import { DEVICE_ID_PATTERN, Trigger } from "@picket/contracts";
import type { Logger, NatsConnection } from "@picket/runtime";
import { deleteEvent } from "./event-delete.js";
import type { EventFeed } from "./event-feed.js";
import { isUnknownCursor, type EventEntry, type EventQuery } from "./event-index.js";
import { createLiveEvents, type LiveEventsOptions } from "./event-live.js";
import { openEventMedia, type EventMedia } from "./event-media.js";
import { errorBody } from "../auth/http.js";
import { parseRange } from "./http-range.js";

export interface EventRoutesDeps {
  nc: NatsConnection;
  log: Logger;
  feed: EventFeed;
  /** The events' snapshots and clips (default: the media bucket). */
  media?: EventMedia;
  /** Time zone of the times in download file names (default: this process's). */
  timeZone?: string;
  live?: LiveEventsOptions;
}

/** An event id in a URL: what the contracts allow, so no path or subject can hide in it. */
export const EVENT_ID_PATTERN = "^[A-Za-z0-9_-]{8,64}$";
const eventId = { type: "string", pattern: EVENT_ID_PATTERN } as const;
const idParams = { type: "object", required: ["id"], additionalProperties: false, properties: { id: eventId } } as const;
const nullable = <T extends object>(schema: T) => ({ anyOf: [schema, { type: "null" }] }) as const;

export const eventEntrySchema = {
  type: "object",
  additionalProperties: false,
  required: ["id", "device", "at", "endedAt", "triggers", "test", "snapshot", "clip", "clipPending", "mediaError"],
  properties: {
    id: { type: "string", description: "The presence event's id (its `started` record)." },
    device: { type: "string" },
    at: { type: "integer", description: "When it started, ms since epoch." },
    endedAt: { type: ["integer", "null"], description: "When it ended, ms since epoch; null while it goes on." },
    triggers: { type: "array", items: { type: "string", enum: Trigger.options } },
    test: { type: "boolean", description: "A test alarm." },
    snapshot: nullable({ type: "object", required: ["bytes"], properties: { bytes: { type: "integer" } } }),
    clip: nullable({ type: "object", required: ["bytes", "durationMs"], properties: { bytes: { type: "integer" }, durationMs: { type: "integer" } } }),
    clipPending: { type: "boolean", description: "The camera is still recording or storing the clip." },
    mediaError: { type: ["string", "null"], description: "Why a snapshot or clip is missing." },
  },
} as const;

const listQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    device: { type: "string", pattern: DEVICE_ID_PATTERN.source },
    trigger: { type: "string", enum: Trigger.options },
    from: { type: "integer", minimum: 0, description: "Events at or after this time, ms since epoch." },
    to: { type: "integer", minimum: 0, description: "Events at or before this time, ms since epoch." },
    before: { ...eventId, description: "The next page: events older than this one." },
    limit: { type: "integer", minimum: 1, maximum: 100, default: 30 },
  },
} as const;

const mediaQuery = {
  type: "object",
  additionalProperties: false,
  properties: { download: { type: "string", enum: ["0", "1"], description: "1: save as a file (Content-Disposition: attachment)." } },
} as const;

const MEDIA = {
  snapshot: { type: "image/jpeg", ext: "jpg" },
  clip: { type: "video/mp4", ext: "mp4" },
} as const;

/** `YYYYMMDD-HHMMSS` of a time in a time zone, for file names. */
function fileStamp(at: number, timeZone: string | undefined): string {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(at);
  const p = (type: Intl.DateTimeFormatPartTypes) => parts.find((x) => x.type === type)?.value ?? "00";
  return `${p("year")}${p("month")}${p("day")}-${p("hour")}${p("minute")}${p("second")}`;
}

type IdRequest = FastifyRequest<{ Params: { id: string }; Querystring: { download?: "0" | "1" } }>;

/**
 * The Events API: the timeline (`GET /api/events`, `/api/events/:id`), an event's snapshot and
 * clip (by id only; byte ranges for seeking; `?download=1`), `DELETE /api/events/:id` (admins)
 * and `GET /api/events/live` (Server-Sent Events). Registered on `app` itself.
 */
export async function eventRoutes(app: FastifyInstance, deps: EventRoutesDeps): Promise<void> {
  const { feed } = deps;
  const log = deps.log.child({ module: "events" });
  const media = deps.media ?? openEventMedia(deps.nc);
  const live = createLiveEvents(feed, log, deps.live);
  app.addHook("preClose", async () => live.close());

  app.get<{ Querystring: Omit<EventQuery, "limit"> & { limit?: number } }>(
    "/api/events",
    {
      schema: {
        tags: ["events"],
        summary: "The events, newest first, filtered, one page at a time",
        querystring: listQuery,
        response: { 200: { type: "object", required: ["events", "more"], properties: { events: { type: "array", items: eventEntrySchema }, more: { type: "boolean" } } }, 400: errorBody },
      },
    },
    async (req, reply) => {
      try {
        return feed.index.query({ ...req.query, limit: req.query.limit ?? 30 });
      } catch (err) {
        if (isUnknownCursor(err)) return reply.status(400).send({ error: err.message });
        throw err;
      }
    },
  );

  app.get(
    "/api/events/live",
    {
      exposeHeadRoute: false,
      schema: {
        tags: ["events"],
        summary: "New and changed events as Server-Sent Events (`event: event`, `event: deleted`)",
        response: { 200: { description: "text/event-stream", content: { "text/event-stream": { schema: { type: "string" } } } }, 503: errorBody },
      },
    },
    live.handler,
  );

  app.get<{ Params: { id: string } }>(
    "/api/events/:id",
    { schema: { tags: ["events"], summary: "One event", params: idParams, response: { 200: eventEntrySchema, 404: errorBody } } },
    async (req, reply) => {
      const entry = feed.index.get(req.params.id);
      return entry ?? reply.status(404).send({ error: "no such event (deleted, or too old)" });
    },
  );

  const serveMedia = (kind: "snapshot" | "clip") => async (req: IdRequest, reply: FastifyReply) => {
    const entry: EventEntry | undefined = feed.index.get(req.params.id);
    if (entry === undefined) return reply.status(404).send({ error: "no such event (deleted, or too old)" });
    let bytes: Uint8Array | undefined;
    try {
      bytes = await media.get(entry.id, kind, entry.device);
    } catch (err) {
      log.warn({ err, eventId: entry.id, media: kind }, "could not read an event's media");
      return reply.status(503).send({ error: `could not read the ${kind} (${(err as Error).message}); try again` });
    }
    if (bytes === undefined) {
      const why = kind === "clip" && entry.clipPending ? "the clip is still being recorded; try again in a few seconds" : `this event has no ${kind} stored${entry.mediaError === null ? "" : ` (${entry.mediaError})`}`;
      return reply.status(404).send({ error: why });
    }
    const { type, ext } = MEDIA[kind];
    reply.header("accept-ranges", "bytes").header("cache-control", "private, max-age=3600");
    if (req.query.download === "1") reply.header("content-disposition", `attachment; filename="picket-${entry.device}-${fileStamp(entry.at, deps.timeZone)}.${ext}"`);
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const range = parseRange(req.headers.range, body.length);
    if (range.kind === "unsatisfiable") return reply.status(416).header("content-range", `bytes */${body.length}`).send({ error: `range not satisfiable: the ${kind} has ${body.length} bytes` });
    if (range.kind === "part") {
      return reply
        .status(206)
        .header("content-range", `bytes ${range.start}-${range.end}/${body.length}`)
        .type(type)
        .send(body.subarray(range.start, range.end + 1));
    }
    return reply.type(type).send(body);
  };
  const binary = (type: string, what: string) => ({ description: what, content: { [type]: { schema: { type: "string", format: "binary" } } } });
  for (const kind of ["snapshot", "clip"] as const) {
    const { type, ext } = MEDIA[kind];
    app.get<{ Params: { id: string }; Querystring: { download?: "0" | "1" } }>(
      `/api/events/:id/${kind}.${ext}`,
      {
        schema: {
          tags: ["events"],
          summary: kind === "snapshot" ? "The event's trigger photo (JPEG)" : "The event's clip (MP4; byte ranges for seeking)",
          params: idParams,
          querystring: mediaQuery,
          response: { 200: binary(type, "the whole file"), 206: binary(type, "the asked range"), 404: errorBody, 416: errorBody, 503: errorBody },
        },
      },
      serveMedia(kind),
    );
  }

  app.delete<{ Params: { id: string } }>(
    "/api/events/:id",
    {
      config: { access: "admin" },
      schema: { tags: ["events"], summary: "Deletes an event, its photo and its clip (admins)", params: idParams, response: { 204: { type: "null", description: "deleted" }, 404: errorBody, 503: errorBody } },
    },
    async (req, reply) => {
      const by = (req as FastifyRequest & { user?: { name: string } }).user?.name ?? "web";
      try {
        const found = await deleteEvent({ nc: deps.nc, log, feed, media }, req.params.id, by);
        if (!found) return reply.status(404).send({ error: "no such event (deleted, or too old)" });
        return reply.status(204).send();
      } catch (err) {
        log.error({ err, eventId: req.params.id }, "could not delete an event");
        return reply.status(503).send({ error: `could not delete the event (${(err as Error).message}); try again` });
      }
    },
  );
}
