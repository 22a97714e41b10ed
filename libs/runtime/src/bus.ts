import { setReplicas } from "./jetstream.js";
import { connect, headers as natsHeaders, type NatsConnection, type Msg, type Subscription } from "@nats-io/transport-node";
import { DecodeError, decodeJson } from "@picket/contracts";
import type { z } from "zod";
import type { Logger } from "./logger.js";
import type { ServiceMetrics } from "./metrics.js";

export type { NatsConnection, Msg, Subscription, MsgHdrs } from "@nats-io/transport-node";
export { connect, createInbox, headers as natsHeaders, errors as natsErrors } from "@nats-io/transport-node";

export interface BusOptions {
  url: string;
  name: string;
  log: Logger;
  /** Client ping interval (ms); a dead server is noticed after two missed pings. */
  pingIntervalMs?: number;
  /** Copies of the streams and buckets made through this connection (PICKET_JS_REPLICAS; see replicasFor). */
  replicas?: string | number;
}

/**
 * Connects to NATS and stays connected: waits for a server that is not up yet, and
 * reconnects forever after losing one. Status changes are logged once each.
 */
export async function connectBus(opts: BusOptions): Promise<NatsConnection> {
  const log = opts.log.child({ module: "bus" });
  log.info({ url: opts.url }, "connecting to NATS (waits until it is up)");
  const nc = await connect({
    servers: opts.url,
    name: opts.name,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    pingInterval: opts.pingIntervalMs ?? 5_000,
    maxPingOut: 2,
  });
  log.info({ server: nc.getServer(), maxPayload: nc.info?.max_payload }, "connected to NATS");
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case "disconnect":
          log.warn({ server: s.server }, "lost NATS; reconnecting");
          break;
        case "reconnect":
          log.info({ server: s.server }, "reconnected to NATS");
          break;
        case "error":
          log.error({ err: s.error }, "NATS error");
          break;
        case "slowConsumer":
          log.warn({ subject: s.sub.getSubject() }, "slow NATS consumer; messages dropped");
          break;
        default:
          break;
      }
    }
  })();
  if (opts.replicas !== undefined) setReplicas(nc, Number(opts.replicas));
  return nc;
}

/** Headers from a plain record. */
export function toHeaders(record: Record<string, string>) {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(record)) h.set(k, v);
  return h;
}

/**
 * Subscribes and validates each payload against `schema`. A message that fails is logged
 * (payload nested, truncated) and counted, then dropped; the handler's own errors are logged
 * too. The subscription never ends because of a bad message.
 */
export function subscribeJson<S extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  schema: S,
  handler: (value: z.output<S>, msg: Msg) => void | Promise<void>,
  ctx: {
    log: Logger;
    metrics: ServiceMetrics;
    queue?: string;
    /**
     * Answer a malformed request with `{ok:false,error}` (default true). False for subjects
     * that JetStream also stores: a publish there carries a reply subject for the stream's
     * ack, which an answer from here would spoil.
     */
    answerErrors?: boolean;
  },
): Subscription {
  return nc.subscribe(subject, {
    ...(ctx.queue === undefined ? {} : { queue: ctx.queue }),
    callback: (err, msg) => {
      if (err !== null) {
        ctx.log.error({ err, subject }, "subscription error");
        return;
      }
      let value: z.output<S>;
      try {
        value = decodeJson(schema, msg.data, msg.subject);
      } catch (e) {
        reportBadMessage(ctx, subject, msg, e);
        if ((ctx.answerErrors ?? true) && msg.reply !== undefined && msg.reply !== "") {
          msg.respond(new TextEncoder().encode(JSON.stringify({ ok: false, error: (e as Error).message })));
        }
        return;
      }
      Promise.resolve()
        .then(() => handler(value, msg))
        .catch((e: unknown) => ctx.log.error({ err: e, subject: msg.subject }, "handler failed"));
    },
  });
}

/** Logs and counts a message that failed validation (a core or a JetStream message). */
export function reportBadMessage(
  ctx: { log: Logger; metrics: ServiceMetrics },
  pattern: string,
  msg: Pick<Msg, "subject" | "data">,
  err: unknown,
): void {
  ctx.metrics.badMessages.inc({ subject: pattern });
  const reason = err instanceof DecodeError ? err.reason : String(err);
  ctx.log.warn(
    { subject: msg.subject, reason, payload: { bytes: msg.data.length, head: Buffer.from(msg.data.subarray(0, 64)).toString("base64") } },
    "dropped malformed message",
  );
}

/** Tracks whether the connection is up, so live data is not queued while it is down. */
export function watchConnection(nc: NatsConnection): { readonly connected: boolean } {
  const state = { connected: !nc.isClosed() };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") state.connected = false;
      else if (s.type === "reconnect") state.connected = true;
    }
    state.connected = false;
  })();
  return state;
}
