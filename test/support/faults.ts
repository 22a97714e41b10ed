// Helpers of the fault tests (test/faults): drive the sim PIR, kill processes hard, and
// compare what the pir service raised with what JetStream stored and Telegram received.
import { readFileSync, readdirSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { EVENTS_STREAM, PresenceEvent, subjects } from "@picket/contracts";
import { jetstreamManager, type NatsConnection } from "@picket/runtime";
import { freePort, waitFor } from "./ports.js";
import { READY, type ServiceName, type Stack } from "./stack.js";
import { ServiceProcess, baseEnv } from "./services.js";
import type { NatsServer } from "./nats.js";
import type { ApiCall, TelegramApiDouble } from "./telegram-api.js";

/** The Telegram double's clock: wall-clock ms, as `ApiCall.receivedAt`. */
export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Pulses the simulated PIR with SIGUSR2 (PICKET_PIR_SIM_SIGNAL=true), which works while the bus
 * is down, every `everyMs`. `target()` names the pir process; null while it is down or
 * starting (SIGUSR2 would stop a process that has no handler for it yet).
 */
export class PirPulser {
  private timer: NodeJS.Timeout | undefined;
  sent = 0;
  constructor(
    private readonly target: () => ServiceProcess | null,
    private readonly everyMs: number,
  ) {}

  start(): this {
    this.fire();
    this.timer = setInterval(() => this.fire(), this.everyMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private fire(): void {
    const p = this.target();
    if (p === null || p.pid === undefined) return;
    p.signal("SIGUSR2");
    this.sent++;
  }
}

/** One presence event as the pir service logged it when it decided it. */
export interface Raised {
  id: string;
  state: "started" | "ended";
}

/** The presence events the given pir processes raised, in the order they raised them. */
export function raised(pirs: readonly ServiceProcess[]): Raised[] {
  return pirs.flatMap((p) =>
    p.logs.filter((l) => (l.msg === "presence started" || l.msg === "presence ended") && typeof l.eventId === "string").map((l) => ({ id: l.eventId as string, state: l.msg === "presence started" ? ("started" as const) : ("ended" as const) })),
  );
}

/** Ids of the events the pir processes logged as stored in JetStream ("presence event recorded"). */
export function recordedIds(pirs: readonly ServiceProcess[]): Set<string> {
  return new Set(pirs.flatMap((p) => p.logs.filter((l) => l.msg === "presence event recorded").map((l) => l.eventId as string)));
}

/** Every presence event of `device` in the events stream, in stream order. */
export async function storedPresence(nc: NatsConnection, device: string): Promise<PresenceEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(EVENTS_STREAM);
  const out: PresenceEvent[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq }).catch(() => null);
    if (m !== null && m.subject === subjects.event(device, "presence")) out.push(PresenceEvent.parse(m.json()));
  }
  return out;
}

/** An alert as a chat received it: which stored event it names (by its time, to the second) and when. */
export interface Received {
  chat: string;
  eventId: string | undefined;
  caption: string;
  at: number;
}

/** `2026-11-24 09:00:03`: how a caption (PICKET_TZ=UTC) shows an event's time. */
const captionTime = (at: number) => new Date(at).toISOString().slice(0, 19).replace("T", " ");

/**
 * The presence alerts Telegram accepted (photo, or text when there was no photo), in the order
 * received, each matched to the started event whose time its caption shows. Throws when two
 * started events share a second: the captions could not tell them apart.
 */
export function receivedAlerts(double: TelegramApiDouble, started: readonly PresenceEvent[]): Received[] {
  const byTime = new Map<string, string>();
  for (const e of started) {
    const t = captionTime(e.at);
    if (byTime.has(t)) throw new Error(`two started events at ${t}: alerts cannot be told apart`);
    byTime.set(t, e.id);
  }
  const alerts = double.calls().filter((c: ApiCall) => c.status === 200 && (c.method === "sendPhoto" || c.method === "sendMessage"));
  return alerts
    .map((c) => ({ c, caption: String(c.method === "sendPhoto" ? c.params.caption : c.params.text) }))
    .filter(({ caption }) => caption.includes("Someone is at"))
    .map(({ c, caption }) => {
      const t = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.exec(caption)?.[0] ?? "";
      return { chat: c.chatId ?? "", eventId: byTime.get(t), caption, at: c.receivedAt };
    });
}

/** What a fault did to the events: compared raised → stored → delivered. */
export interface Ledger {
  raised: Raised[];
  stored: PresenceEvent[];
  /** Raised events not in the stream. */
  lost: string[];
  /** Events stored more than once. */
  storedTwice: string[];
  /** Whether the stream holds the raised events in the order they were raised. */
  inOrder: boolean;
  /** Per chat: the started events' ids in the order the chat received their alerts. */
  alertsByChat: Record<string, (string | undefined)[]>;
  /** Started events a chat never got, by chat. */
  alertsMissing: Record<string, string[]>;
  /** Alerts a chat got more than once (counted once per extra copy). */
  alertsDuplicated: number;
  /** Whether each chat got its alerts in event order. */
  alertsInOrder: boolean;
}

export async function ledger(nc: NatsConnection, device: string, pirs: readonly ServiceProcess[], double: TelegramApiDouble, chats: readonly string[]): Promise<Ledger> {
  const r = raised(pirs);
  const stored = await storedPresence(nc, device);
  const storedIds = stored.map((e) => e.id);
  const count = new Map<string, number>();
  for (const id of storedIds) count.set(id, (count.get(id) ?? 0) + 1);
  const raisedIds = r.map((e) => e.id);
  const started = stored.filter((e, i) => e.state === "started" && storedIds.indexOf(e.id) === i);
  const alerts = receivedAlerts(double, started);
  const alertsByChat: Record<string, (string | undefined)[]> = {};
  const alertsMissing: Record<string, string[]> = {};
  let alertsDuplicated = 0;
  let alertsInOrder = true;
  for (const chat of chats) {
    const got = alerts.filter((a) => a.chat === chat).map((a) => a.eventId);
    alertsByChat[chat] = got;
    alertsMissing[chat] = started.map((e) => e.id).filter((id) => !got.includes(id));
    alertsDuplicated += got.length - new Set(got).size;
    const order = started.map((e) => e.id);
    const positions = got.map((id) => (id === undefined ? -1 : order.indexOf(id)));
    if (positions.some((p, i) => p < 0 || (i > 0 && p <= (positions[i - 1] as number)))) alertsInOrder = false;
  }
  const firstSeen = [...new Set(storedIds)];
  return {
    raised: r,
    stored,
    lost: raisedIds.filter((id) => !count.has(id)),
    storedTwice: [...count].filter(([, n]) => n > 1).map(([id]) => id),
    inOrder: JSON.stringify(firstSeen.filter((id) => raisedIds.includes(id))) === JSON.stringify(raisedIds.filter((id) => count.has(id))),
    alertsByChat,
    alertsMissing,
    alertsDuplicated,
    alertsInOrder,
  };
}

/**
 * Waits until every event the pir processes raised is logged as stored and every chat got
 * each started one; resolves with when the last alert arrived (the double's clock).
 */
export async function waitForDelivery(opts: { nc: NatsConnection; device: string; pirs: () => readonly ServiceProcess[]; double: TelegramApiDouble; chats: readonly string[]; timeoutMs: number }): Promise<number> {
  await waitFor(
    "every raised event stored",
    () => {
      const ids = recordedIds(opts.pirs());
      return raised(opts.pirs()).every((e) => ids.has(e.id)) || undefined;
    },
    opts.timeoutMs,
    200,
  );
  let last = 0;
  await waitFor(
    "every started event's alert in every chat",
    async () => {
      const started = (await storedPresence(opts.nc, opts.device)).filter((e) => e.state === "started");
      const alerts = receivedAlerts(opts.double, started);
      const done = opts.chats.every((chat) => started.every((e) => alerts.some((a) => a.chat === chat && a.eventId === e.id)));
      if (done) last = Math.max(0, ...alerts.map((a) => a.at));
      return done || undefined;
    },
    opts.timeoutMs,
    500,
  );
  return last;
}

/** Waits for the pir's current presence (if any) to end, so every started event has its ended one. */
export async function presenceOver(pirs: () => readonly ServiceProcess[], timeoutMs = 20_000): Promise<void> {
  await waitFor(
    "the last presence to end",
    () => {
      const last = pirs().at(-1);
      if (last === undefined) return true;
      const r = raised([last]);
      return r.length === 0 || r.at(-1)?.state === "ended" || undefined;
    },
    timeoutMs,
    100,
  );
}

/**
 * The pid of this test's nats-server (found by its port and store in /proc), so it can be
 * killed hard: `NatsServer.stop()` only ends it politely.
 */
export function natsPid(nats: NatsServer): number {
  if (nats.pid !== undefined) return nats.pid;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (!(args[0] ?? "").endsWith("nats-server")) continue;
    const port = args[args.indexOf("-p") + 1];
    const store = args[args.indexOf("-sd") + 1];
    if (port === String(nats.port) && store === nats.storeDir) return Number(entry);
  }
  throw new Error(`no nats-server process on port ${nats.port}`);
}

/** SIGKILLs this test's nats-server and waits until its port refuses connections. Start it again with `nats.start()`. */
export async function killNats(nats: NatsServer): Promise<void> {
  process.kill(natsPid(nats), "SIGKILL");
  await waitFor(
    "nats-server's port to close",
    () =>
      new Promise<boolean>((resolve) => {
        const s = connect(nats.port, "127.0.0.1");
        s.once("connect", () => {
          s.destroy();
          resolve(false);
        });
        s.once("error", () => resolve(true));
      }),
    10_000,
    50,
  );
}

/**
 * Starts service `name` again with the stack's environment (`env`: what the stack was started
 * with) and makes it the stack's, so the stack's teardown stops it. Resolves once it is ready.
 */
export async function restartService(stack: Stack, name: ServiceName, env: Record<string, string>, timeoutMs = 30_000): Promise<ServiceProcess> {
  const proc = new ServiceProcess(name, { ...baseEnv(stack.nats.url, stack.device), ...env });
  stack.services[name] = proc;
  await proc.waitForLog((l) => READY[name].test(l.msg), timeoutMs, `${name} ready again`);
  return proc;
}

/**
 * A viewer of the live view through the web service that comes back by itself: after its
 * socket closes (the web, the stream or the camera went away) it connects again every
 * `retryMs`, logging in again when the web asks. Records when each video frame arrived.
 */
export class LiveViewer {
  /** Arrival times of binary (video) messages, `now()` clock. */
  readonly frames: number[] = [];
  connects = 0;
  private ws: WebSocket | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private headers: () => Record<string, string>,
    private readonly relogin: () => Promise<void>,
    private readonly retryMs = 500,
  ) {}

  start(): this {
    this.connect();
    return this;
  }

  /** Resolves once a frame arrived after `since` (`now()` clock); returns its time. */
  frameAfter(since: number, timeoutMs = 30_000): Promise<number> {
    return waitFor("a video frame for the viewer", () => this.frames.find((t) => t > since), timeoutMs, 100);
  }

  close(): void {
    this.closed = true;
    this.ws?.terminate();
  }

  private connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.url, { headers: this.headers() });
    this.ws = ws;
    ws.on("open", () => this.connects++);
    ws.on("message", (_d: unknown, isBinary: boolean) => {
      if (isBinary) this.frames.push(now());
    });
    ws.on("unexpected-response", (_req, res) => {
      if (res.statusCode === 401) void this.relogin().catch(() => undefined);
      ws.terminate();
    });
    ws.on("error", () => undefined);
    ws.on("close", () => {
      if (!this.closed) setTimeout(() => this.connect(), this.retryMs);
    });
  }
}

/** How a {@link TcpGate} treats connections. */
export type GateMode = "open" | "refuse" | "502";

/**
 * A TCP gate in front of a server on 127.0.0.1 (the Telegram double), as the uplink and a
 * reverse proxy are in front of api.telegram.org: `open` passes connections through,
 * `refuse` stops listening (connection refused), `502` answers every request with
 * 502 Bad Gateway. Leaving `open` cuts the connections under way, the long poll included.
 */
export class TcpGate {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private current: GateMode = "open";

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<TcpGate> {
    const gate = new TcpGate(await freePort(), targetPort);
    await gate.listen();
    return gate;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get mode(): GateMode {
    return this.current;
  }

  async set(mode: GateMode): Promise<void> {
    if (mode === this.current) return;
    this.current = mode;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (mode === "refuse") await this.unlisten();
    else if (this.server === undefined) await this.listen();
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return this.unlisten();
  }

  private listen(): Promise<void> {
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
  }

  private unlisten(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  }

  private accept(sock: Socket): void {
    this.sockets.add(sock);
    sock.on("close", () => this.sockets.delete(sock));
    sock.on("error", () => undefined);
    if (this.current === "502") {
      sock.once("data", () => sock.end("HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: 15\r\nconnection: close\r\n\r\n502 Bad Gateway"));
      return;
    }
    const up = connect(this.targetPort, "127.0.0.1");
    this.sockets.add(up);
    up.on("close", () => {
      this.sockets.delete(up);
      sock.destroy();
    });
    up.on("error", () => undefined);
    sock.on("close", () => up.destroy());
    sock.pipe(up).pipe(sock);
  }
}

/** When the last alert of any of `events` (started ones) reached Telegram, in any chat (`now()` clock; 0 if none did). */
export function lastAlertOf(double: TelegramApiDouble, events: readonly PresenceEvent[]): number {
  return Math.max(0, ...receivedAlerts(double, events).filter((a) => a.eventId !== undefined).map((a) => a.at));
}
