import { PirEdge, PresenceEvent, TestAlarmRequest, settingsKeys, subjects } from "@picket/contracts";
import {
  Counter,
  EventRecorder,
  ensureEventsStream,
  subscribeJson,
  watchConnection,
  type JetStreamClient,
  type KV,
  type Logger,
  type NatsConnection,
  type ServiceMetrics,
  type Subscription,
} from "@picket/runtime";
import { Debouncer } from "./debounce.js";
import type { PirDriver } from "./drivers/driver.js";
import { PresenceRule, newEventId, type Arming } from "./presence-rule.js";

export interface PirServiceDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  settings: KV;
  log: Logger;
  metrics: ServiceMetrics;
  device: string;
  driver: PirDriver;
  debounceMs: number;
  cooldownMs: number;
  armed: boolean;
}

/**
 * Watches the PIR, publishes its edges, and decides presence: an event is stored in
 * JetStream before anything reacts to it. Arming lives in the settings bucket and changes
 * take effect without a restart.
 */
export function createPirService(deps: PirServiceDeps) {
  const { nc, device } = deps;
  const log = deps.log.child({ module: "pir" });
  const link = watchConnection(nc);
  const rule = new PresenceRule({ device, cooldownMs: deps.cooldownMs, newId: (at) => newEventId(at) });
  const recorder = new EventRecorder<PresenceEvent>(deps.js, log, (e) => PresenceEvent.parse(e), () => ensureEventsStream(nc));
  const edges = new Counter({ name: "picket_pir_edges_total", help: "Debounced PIR edges", labelNames: ["level"] as const, registers: [deps.metrics.registry] });
  const alarms = new Counter({ name: "picket_presence_events_total", help: "Presence events raised", labelNames: ["trigger"] as const, registers: [deps.metrics.registry] });
  let debouncer: Debouncer | undefined;
  let testSub: Subscription | undefined;
  let watcher: AsyncIterable<unknown> & { stop?: () => void } | undefined;
  let lastEdgeAt = 0;

  /** `mono` is when the level changed on the debouncer's monotonic clock. */
  const onEdge = (level: 0 | 1, mono: number) => {
    const at = Math.round(Date.now() - (performance.now() - mono));
    lastEdgeAt = at;
    edges.inc({ level: String(level) });
    const edge: PirEdge = { device, level, at, driver: deps.driver.name };
    nc.publish(subjects.pirEdge(device), JSON.stringify(edge));
    const event = rule.onPir(level, at, mono);
    if (event === undefined) {
      if (level === 1) log.debug({ armed: rule.armed }, "PIR rise without alarm (disarmed or cooling down)");
      return;
    }
    alarms.inc({ trigger: "pir" });
    void recorder.record(event);
  };

  const applyArming = (value: string | undefined, source: string) => {
    const arming: Arming = value === "disarmed" ? "disarmed" : value === "armed" ? "armed" : deps.armed ? "armed" : "disarmed";
    if (value !== undefined && value !== "armed" && value !== "disarmed") log.warn({ value: value.slice(0, 32) }, "ignoring unknown arming value");
    rule.setArming(arming);
    log.info({ arming, source }, "arming");
  };

  return {
    async start(): Promise<void> {
      const key = settingsKeys.arming(device);
      applyArming(undefined, "default");
      // The watcher delivers the stored value first (if any), then every change.
      const iter = await deps.settings.watch({ key });
      watcher = iter as typeof watcher;
      void (async () => {
        for await (const e of iter) applyArming(e.operation === "PUT" ? e.string() : undefined, "settings");
      })();

      testSub = subscribeJson(
        nc,
        subjects.testAlarm(device),
        TestAlarmRequest,
        async (req, msg) => {
          const event = rule.testAlarm(Date.now());
          alarms.inc({ trigger: "test" });
          log.info({ eventId: event.id, requestedBy: req.requestedBy }, "test alarm");
          const stored = await recorder.record(event);
          msg.respond(JSON.stringify(stored ? { ok: true, eventId: event.id } : { ok: false, error: "service stopping; event not stored" }));
        },
        { log, metrics: deps.metrics },
      );

      const { initial } = await deps.driver.start((level) => debouncer?.input(level));
      debouncer = new Debouncer(initial, deps.debounceMs, onEdge);
    },
    async stop(): Promise<void> {
      await deps.driver.stop();
      debouncer?.dispose();
      testSub?.unsubscribe();
      watcher?.stop?.();
      recorder.stop();
    },
    health() {
      // Unhealthy while an alarm cannot be stored: it has not reached anyone yet.
      const stuckMs = recorder.oldestPendingMs();
      return { ok: link.connected && stuckMs < 5_000, nats: link.connected, armed: rule.armed, pendingEvents: recorder.pending, oldestPendingMs: stuckMs };
    },
    vitals(): Record<string, number> {
      return { armed: rule.armed ? 1 : 0, pendingEvents: recorder.pending, lastEdgeAgeS: lastEdgeAt === 0 ? -1 : Math.round((Date.now() - lastEdgeAt) / 1000) };
    },
  };
}
