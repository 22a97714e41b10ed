import { EVENTS_STREAM, PresenceEvent, decodeJson, subjects } from "@picket/contracts";
import { DeliverPolicy, jetstream, type NatsConnection } from "@picket/runtime";

/** Messages read per fetch; a household's week of events is a few hundred. */
const BATCH = 500;
/** A week of events is read in at most this many messages (the newest `n` are kept). */
const MAX_READ = 20_000;

/**
 * The last `n` started presence events of `device` since `sinceMs`, oldest first, read from the
 * events stream with an ordered (ephemeral) consumer. Malformed records are skipped.
 */
export async function recentAlerts(nc: NatsConnection, device: string, n: number, sinceMs: number): Promise<PresenceEvent[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(EVENTS_STREAM, {
    // One subject as a string: nats-server 2.9 takes a single filter, not a list.
    filter_subjects: subjects.event(device, "presence"),
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(sinceMs).toISOString(),
  });
  const out: PresenceEvent[] = [];
  let read = 0;
  try {
    while (read < MAX_READ) {
      const batch = await consumer.fetch({ max_messages: BATCH, expires: 1_000 });
      let got = 0;
      let pending = 0;
      for await (const m of batch) {
        got++;
        pending = m.info.pending;
        try {
          const e = decodeJson(PresenceEvent, m.data, m.subject);
          if (e.state === "started" && e.device === device) {
            out.push(e);
            if (out.length > n) out.shift();
          }
        } catch {
          // A malformed record was reported when it was written; it is no alert.
        }
        if (pending === 0) break;
      }
      read += got;
      if (got === 0 || pending === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return out;
}
