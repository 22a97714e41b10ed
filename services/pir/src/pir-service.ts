import { Heartbeat, MotionReport, PirEdge, PresenceEvent, TestAlarmRequest, mediaNames, parseArming, settingsKeys, subjects, type ArmingSetting, type DetectionSettings } from "@picket/contracts";
import {
  Counter,
  EventRecorder,
  ensureEventsStream,
  subscribeJson,
  watchConnection,
  watchSetting,
  type EventOutbox,
  type JetStreamClient,
  type KV,
  type Logger,
  type NatsConnection,
  type ServiceMetrics,
  type SettingWatch,
  type Subscription,
} from "@picket/runtime";
import { Debouncer } from "./debounce.js";
import type { PirDriver } from "./drivers/driver.js";
import { PirInterpreter, PIR_INTERPRETER_DEFAULTS } from "./hcsr501.js";
import { ArmingPolicy } from "./presence/arming-schedule.js";
import { newEventId } from "./presence/event-id.js";
import { PresenceEngine } from "./presence/presence-engine.js";
import { effectiveMode, parseDetection, type PresenceModeSetting } from "./presence/presence-mode.js";

export type { PresenceModeSetting };

export interface PirServiceDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  settings: KV;
  log: Logger;
  metrics: ServiceMetrics;
  device: string;
  driver: PirDriver;
  debounceMs: number;
  /** PICKET_PRESENCE_MODE: the mode while the settings bucket has none for this device. */
  presenceMode: PresenceModeSetting;
  confirmMs: number;
  pulses: number;
  pulseWindowMs: number;
  motionMinMs: number;
  eventGapMs: number;
  cooldownMs: number;
  timeZone: string;
  /** The sensor's settling time after power-on, ms (0 for the sim driver). */
  warmupMs: number;
  /** When the sensor was powered on, on the monotonic clock (with the Pi: boot). */
  sensorStartedMono: number;
  blockMs: number;
  /** A PIR high for this long is treated as stuck until it falls (0: never). */
  stuckMs: number;
  armed: boolean;
  /** Where events wait, durably, until JetStream has them (none: in memory only). */
  outbox?: EventOutbox<PresenceEvent> | undefined;
}

/** `auto` trusts camera motion while the camera's heartbeats say its detector runs. */
const CAMERA_MOTION_STALE_MS = 10_000;

/**
 * Watches the PIR and the camera's motion reports and decides presence with the presence
 * engine: a started or ended event is stored in JetStream before anything reacts to it.
 * Arming (armed, disarmed or a weekly schedule) and the presence mode live in the settings
 * bucket and changes take effect without a restart.
 */
export function createPirService(deps: PirServiceDeps) {
  const { nc, device } = deps;
  const log = deps.log.child({ module: "presence" });
  const link = watchConnection(nc);
  const recorder = new EventRecorder<PresenceEvent>(deps.js, log, (e) => PresenceEvent.parse(e), () => ensureEventsStream(nc), undefined, deps.outbox);
  // A publish sent while the bus was away may never be answered: the bus back, the oldest event goes again at once.
  void (async () => {
    for await (const s of nc.status()) if (s.type === "reconnect") recorder.retryNow();
  })();
  const edges = new Counter({ name: "picket_pir_edges_total", help: "PIR edges after debounce and interpretation", labelNames: ["level"] as const, registers: [deps.metrics.registry] });
  const rawEdges = new Counter({ name: "picket_pir_raw_edges_total", help: "Raw PIR pin changes", registers: [deps.metrics.registry] });
  const alarms = new Counter({ name: "picket_presence_events_total", help: "Presence events raised", labelNames: ["state", "trigger"] as const, registers: [deps.metrics.registry] });
  const defaultArming: ArmingSetting = { mode: deps.armed ? "armed" : "disarmed" };
  const engine = new PresenceEngine(
    {
      device,
      mode: effectiveMode(deps.presenceMode, false),
      confirmWindowMs: deps.confirmMs,
      activation: { pulses: deps.pulses, windowMs: deps.pulseWindowMs },
      motionMinMs: deps.motionMinMs,
      eventGapMs: deps.eventGapMs,
      cooldownMs: deps.cooldownMs,
      newId: (at) => newEventId(at),
    },
    new ArmingPolicy(defaultArming, deps.timeZone),
  );
  const interpreter = new PirInterpreter(
    { warmupMs: deps.warmupMs, blockMs: deps.blockMs, chatter: PIR_INTERPRETER_DEFAULTS.chatter },
    (level, mono) => onEdge(level, mono),
    undefined,
    deps.sensorStartedMono,
  );
  let debouncer: Debouncer | undefined;
  let subs: Subscription[] = [];
  let armingWatch: SettingWatch | undefined;
  let detectionWatch: SettingWatch | undefined;
  /** The mode asked for: the settings bucket's, else PICKET_PRESENCE_MODE. */
  let configuredMode: PresenceModeSetting = deps.presenceMode;
  let deadline: NodeJS.Timeout | undefined;
  let lastEdgeAt = 0;
  let stuck = false;
  let stuckTimer: NodeJS.Timeout | undefined;
  let cameraMotionUntil = Number.NEGATIVE_INFINITY;
  let stopped = false;

  const wallOf = (mono: number) => Math.round(Date.now() - (performance.now() - mono));

  /** Stores what the engine decided, then keeps one timer for its next deadline. */
  const apply = (events: PresenceEvent[]) => {
    for (const e of events) {
      const event = e.state === "started" ? { ...e, media: { snapshot: mediaNames.snapshot(e.id), clip: mediaNames.clip(e.id) } } : e;
      for (const t of event.triggers) alarms.inc({ state: event.state, trigger: t });
      log.info({ eventId: event.id, state: event.state, triggers: event.triggers, startedId: event.startedId }, event.state === "started" ? "presence started" : "presence ended");
      void recorder.record(event);
    }
    schedule();
  };

  const schedule = () => {
    clearTimeout(deadline);
    if (stopped) return;
    const due = engine.nextDeadlineMono();
    if (due === undefined) return;
    deadline = setTimeout(() => apply(engine.tick(Date.now(), performance.now())), Math.max(0, due - performance.now()));
  };

  /** `mono` is when the level changed, on the monotonic clock. */
  function onEdge(level: 0 | 1, mono: number): void {
    clearTimeout(stuckTimer);
    if (level === 1 && deps.stuckMs > 0) stuckTimer = setTimeout(onStuck, deps.stuckMs);
    const at = wallOf(mono);
    lastEdgeAt = at;
    edges.inc({ level: String(level) });
    const edge: PirEdge = { device, level, at, driver: deps.driver.name };
    nc.publish(subjects.pirEdge(device), JSON.stringify(edge));
    if (stuck) {
      stuck = false;
      log.info("the PIR changed again: trusting it again");
      // The engine was already told it fell.
      if (level === 0) return;
    }
    const events = engine.onPir(level, at, mono);
    if (level === 1 && events.length === 0 && !engine.state.present) log.debug({ armed: engine.state.armed }, "PIR rise without alarm (disarmed, cooling down or not confirmed yet)");
    apply(events);
  }

  /**
   * A PIR high for very long is a fault (a heater in view, a broken part), not a visitor: it
   * stops counting as presence until it falls, so the event ends and the camera (in `motion`
   * or `pir|motion`) can raise the next alarm.
   */
  function onStuck(): void {
    stuck = true;
    log.warn({ highForS: Math.round(deps.stuckMs / 1000) }, "the PIR has been high for too long: treating it as stuck until it falls");
    apply(engine.onPir(0, Date.now(), performance.now()));
  }

  /**
   * `auto`: PIR confirmed by motion while the camera's detector runs; PIR alone when it does
   * not. Followed in every mode, so a switch to `auto` knows at once.
   */
  const followCamera = (hb: Heartbeat) => {
    if ((hb.vitals.motionFps ?? 0) > 0) cameraMotionUntil = performance.now() + CAMERA_MOTION_STALE_MS;
    checkAutoMode();
  };
  const checkAutoMode = () => {
    if (configuredMode !== "auto") return;
    const mode = effectiveMode("auto", performance.now() < cameraMotionUntil);
    if (engine.opts.mode === mode) return;
    log.info({ mode }, mode === "pir" ? "camera motion not available: PIR alone raises alarms" : "camera motion available: PIR confirmed by motion raises alarms");
    apply(engine.setMode(mode, Date.now(), performance.now()));
  };
  let autoTimer: NodeJS.Timeout | undefined;

  /** Puts `configuredMode` in force: `auto` re-checks the camera every 2 s, a fixed mode goes to the engine. */
  const followMode = () => {
    clearInterval(autoTimer);
    autoTimer = undefined;
    if (stopped) return;
    if (configuredMode === "auto") {
      autoTimer = setInterval(checkAutoMode, 2_000);
      checkAutoMode();
    } else if (engine.opts.mode !== configuredMode) {
      apply(engine.setMode(configuredMode, Date.now(), performance.now()));
    }
  };

  /** The detection setting, live; unset (or deleted) goes back to PICKET_PRESENCE_MODE. */
  const setDetection = (setting: DetectionSettings | undefined) => {
    const previous = configuredMode;
    configuredMode = setting?.mode ?? deps.presenceMode;
    followMode();
    log.info({ mode: configuredMode, previous, effective: engine.opts.mode, source: setting === undefined ? "PICKET_PRESENCE_MODE" : "settings" }, "presence mode");
  };

  return {
    async start(): Promise<void> {
      const ctx = { log, metrics: deps.metrics };
      // What an earlier run raised but could not store goes first.
      recorder.resume();
      apply(engine.tick(Date.now(), performance.now()));
      armingWatch = await watchSetting(
        deps.settings,
        settingsKeys.arming(device),
        parseArming,
        (setting) => {
          const policy = new ArmingPolicy(setting ?? defaultArming, deps.timeZone);
          apply(engine.setArming(policy, Date.now(), performance.now()));
          log.info({ arming: policy.describe(), armedNow: engine.state.armed }, "arming");
        },
        log,
      );
      subs = [
        subscribeJson(nc, subjects.motion(device), MotionReport, (r) => apply(engine.onMotion(r, performance.now())), ctx),
        subscribeJson(nc, subjects.heartbeat(device, "camera"), Heartbeat, followCamera, ctx),
        subscribeJson(
          nc,
          subjects.testAlarm(device),
          TestAlarmRequest,
          async (req, msg) => {
            const e = engine.testAlarm(Date.now());
            const event: PresenceEvent = { ...e, media: { snapshot: mediaNames.snapshot(e.id), clip: mediaNames.clip(e.id) } };
            alarms.inc({ state: "started", trigger: "test" });
            log.info({ eventId: event.id, requestedBy: req.requestedBy }, "test alarm");
            const stored = await recorder.record(event);
            msg.respond(JSON.stringify(stored ? { ok: true, eventId: event.id } : { ok: false, error: "service stopping; event not stored" }));
          },
          ctx,
        ),
      ];
      followMode();
      detectionWatch = await watchSetting(deps.settings, settingsKeys.detection(device), parseDetection, setDetection, log);
      log.info({ mode: configuredMode, timeZone: deps.timeZone, warmupMs: deps.warmupMs }, "presence detection on");

      const { initial } = await deps.driver.start((level) => {
        rawEdges.inc();
        interpreter.rawEdge(performance.now());
        debouncer?.input(level);
      });
      debouncer = new Debouncer(initial, deps.debounceMs, (level, mono) => interpreter.input(level, mono));
      if (initial === 1) interpreter.input(1, performance.now());
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(deadline);
      clearTimeout(stuckTimer);
      clearInterval(autoTimer);
      await deps.driver.stop();
      debouncer?.dispose();
      interpreter.dispose();
      for (const s of subs) s.unsubscribe();
      armingWatch?.stop();
      detectionWatch?.stop();
      await recorder.stop();
    },
    health() {
      // Unhealthy while an alarm cannot be stored: it has not reached anyone yet.
      const stuckMs = recorder.oldestPendingMs();
      const state = engine.state;
      const sensor = interpreter.status;
      return {
        ok: link.connected && stuckMs < 5_000,
        nats: link.connected,
        armed: state.armed,
        arming: state.arming,
        mode: state.mode,
        presenceMode: configuredMode,
        present: state.present,
        sensor: stuck ? "stuck-high" : sensor.state,
        sensorWarmupLeftMs: sensor.warmupLeftMs,
        pendingEvents: recorder.pending,
        oldestPendingMs: stuckMs,
        outboxEvents: deps.outbox?.size ?? -1,
      };
    },
    vitals(): Record<string, number> {
      const state = engine.state;
      const sensor = interpreter.status;
      return {
        armed: state.armed ? 1 : 0,
        present: state.present ? 1 : 0,
        pirWarmingUp: sensor.state === "warming-up" ? 1 : 0,
        pirChattering: sensor.state === "chattering" ? 1 : 0,
        pirStuck: stuck ? 1 : 0,
        pirGlitches: sensor.glitches,
        pendingEvents: recorder.pending,
        lastEdgeAgeS: lastEdgeAt === 0 ? -1 : Math.round((Date.now() - lastEdgeAt) / 1000),
      };
    },
  };
}
