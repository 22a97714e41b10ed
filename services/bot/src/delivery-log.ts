import { Kvm, replicasFor, type KV, type Logger, type NatsConnection } from "@picket/runtime";
import { z } from "zod";

/** The bot's own durable memory: which chat got which alert, so a restart sends nothing twice. */
export const BOT_STATE_BUCKET = "picket-bot";
/** An alert is redelivered within minutes at most; a week is plenty. */
const KEEP_MS = 7 * 24 * 3_600_000;

const ChatDelivery = z.object({
  /** The alert's message in that chat (its clip replies to it). */
  msg: z.number().int().optional(),
  /** Telegram refused it for good (bot blocked, kicked from the group). */
  gaveUp: z.boolean().optional(),
  /** The event's clip got there (or was given up on). */
  clip: z.boolean().optional(),
});
export const DeliveryRecord = z.object({
  /** By chat id. */
  chats: z.record(z.string(), ChatDelivery),
  /** Held back by a snooze: no alert and no clip was sent. */
  snoozed: z.boolean().optional(),
});
export type DeliveryRecord = z.infer<typeof DeliveryRecord>;
export type ChatDelivery = z.infer<typeof ChatDelivery>;

export interface DeliveryLog {
  get(eventId: string): Promise<DeliveryRecord | undefined>;
  /** Changes an event's record; changes to one event are applied one after another. */
  update(eventId: string, change: (rec: DeliveryRecord) => void): Promise<void>;
}

/**
 * A {@link DeliveryLog} kept in memory (the last `max` events) and written through to a KV
 * bucket, so a bot restarted mid-delivery knows which chats already have an alert. A write
 * that fails (the broker is away) is logged: the memory still prevents repeats in this run.
 */
export function kvDeliveryLog(kv: KV | undefined, log: Logger, max = 1_000): DeliveryLog {
  const cache = new Map<string, Promise<DeliveryRecord | undefined>>();
  const remember = (id: string, p: Promise<DeliveryRecord | undefined>) => {
    cache.delete(id);
    cache.set(id, p);
    while (cache.size > max) cache.delete(cache.keys().next().value as string);
  };
  /** Events whose stored record could not be read: writing over it would lose what it holds. */
  const unsure = new Set<string>();
  const stored = async (id: string): Promise<{ ok: true; rec: DeliveryRecord | undefined } | { ok: false; err: unknown }> => {
    if (kv === undefined) return { ok: true, rec: undefined };
    try {
      const entry = await kv.get(key(id));
      return { ok: true, rec: entry === null || entry.operation !== "PUT" ? undefined : DeliveryRecord.parse(entry.json()) };
    } catch (err) {
      return { ok: false, err };
    }
  };
  const read = async (id: string): Promise<DeliveryRecord | undefined> => {
    const r = await stored(id);
    if (r.ok) return r.rec;
    unsure.add(id);
    if (unsure.size > max) unsure.delete(unsure.values().next().value as string);
    log.warn({ err: r.err, eventId: id }, "could not read the delivery record; treating the alert as new");
    return undefined;
  };
  const get = (id: string): Promise<DeliveryRecord | undefined> => {
    const hit = cache.get(id);
    if (hit !== undefined) return hit;
    const p = read(id);
    remember(id, p);
    return p;
  };
  return {
    get,
    update(id, change) {
      const next = get(id).then(async (rec) => {
        let base = rec;
        let writable = true;
        if (unsure.has(id)) {
          // The stored record was unreadable before: read it again and keep what it holds.
          const again = await stored(id);
          if (again.ok) {
            unsure.delete(id);
            base = merged(again.rec, rec);
          } else writable = false;
        }
        const copy: DeliveryRecord = structuredClone(base ?? { chats: {} });
        change(copy);
        if (kv !== undefined && writable) {
          await kv.put(key(id), JSON.stringify(copy)).catch((err: unknown) => log.warn({ err, eventId: id }, "could not store the delivery record; a restart may send this alert again"));
        } else if (kv !== undefined) {
          log.warn({ eventId: id }, "delivery record kept in memory only: the stored one cannot be read, and writing would lose it");
        }
        return copy;
      });
      remember(id, next);
      return next.then(() => undefined);
    },
  };
}

/** The stored record with what this run knows on top (a chat's entries joined). */
function merged(stored: DeliveryRecord | undefined, known: DeliveryRecord | undefined): DeliveryRecord | undefined {
  if (stored === undefined || known === undefined) return stored ?? known;
  const chats = { ...stored.chats };
  for (const [chat, d] of Object.entries(known.chats)) chats[chat] = { ...chats[chat], ...d };
  return { chats, ...(stored.snoozed === true || known.snoozed === true ? { snoozed: true } : {}) };
}

function key(eventId: string): string {
  return `alerts.${eventId}`;
}

/** Opens (creating if needed) the bot's state bucket. */
export async function openBotState(nc: NatsConnection): Promise<KV> {
  return new Kvm(nc).create(BOT_STATE_BUCKET, { history: 1, ttl: KEEP_MS, replicas: replicasFor(nc) });
}
