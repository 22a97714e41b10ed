import type { CameraFigures, DeviceState, DeviceView, Heartbeat, ServiceName, ServiceView } from "@picket/contracts";

export type { CameraFigures, DeviceState, DeviceView, ServiceView };

interface Beat {
  hb: Heartbeat;
  receivedAt: number;
}

/** A camera frame older than this while capturing means the picture is frozen. */
export const FRAME_STALE_MS = 5_000;
/**
 * An optional service (the bot, the Home Assistant bridge) silent this long while its device
 * lives is taken as removed (a bot taken off a device that joined a hub), not as unwell: the
 * device is not called degraded for it any more. The alarm and video path (camera, pir, stream,
 * web) is never forgotten: a device without one of those is always news.
 */
export const SERVICE_GONE_MS = 10 * 60_000;
const OPTIONAL_SERVICES: ReadonlySet<ServiceName> = new Set(["bot", "ha"]);
const TEMPERATURE_VITALS = ["temperatureC", "socTempC", "cpuTempC"] as const;

/** `8 s`, `3 min`, `2 h`, `4 d`: how long, for a problem text. */
export function describeAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3_600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/**
 * The camera's own trouble from its (fresh) heartbeat, or undefined when its picture is fine.
 * A camera on demand that is off (`capturing` 0) is fine: it starts when someone needs it.
 * The frame age is the one the camera saw when it beat: a healthy camera's frames keep coming
 * after that, so the heartbeat's own age is not added.
 */
export function cameraProblem(vitals: Record<string, number>, frameStaleMs = FRAME_STALE_MS): string | undefined {
  if (vitals.capturing === 0) return undefined;
  const age = vitals.lastFrameAgeMs;
  if (age === undefined || age < 0) return "the camera is on but delivers no frames";
  if (age > frameStaleMs) return `the camera's newest frame is ${describeAge(age)} old`;
  if ((vitals.fps ?? 0) <= 0) return "the camera reports 0 frames per second";
  return undefined;
}

/**
 * What is known of devices from their heartbeats (the web's Devices tab, the hub's failure
 * detector). A device is online while any service's heartbeat is younger than
 * `offlineAfterMs`, and degraded while it lives but its camera does not (see
 * DeviceView.state). Pure: time is passed in.
 */
export class DeviceDirectory {
  private readonly beats = new Map<string, Map<ServiceName, Beat>>();

  constructor(
    /** The device this runs on, listed first even before its first heartbeat; none on a hub's detector. */
    private readonly ownDevice: string | undefined,
    /** A service whose heartbeat is this old is silent; a device with only such ones is offline. */
    readonly offlineAfterMs: number,
    private readonly frameStaleMs = FRAME_STALE_MS,
    /** A bound against a flood of made-up device ids: devices past it are not recorded. */
    private readonly maxDevices = 1000,
    private readonly serviceGoneMs = SERVICE_GONE_MS,
  ) {}

  record(hb: Heartbeat, receivedAt: number): void {
    let services = this.beats.get(hb.device);
    if (services === undefined) {
      if (this.beats.size >= this.maxDevices) return;
      services = new Map();
      this.beats.set(hb.device, services);
    }
    services.set(hb.service, { hb, receivedAt });
  }

  /** Forgets everything heard of `device` (a device removed from a hub). */
  forget(device: string): void {
    this.beats.delete(device);
  }

  /** Whether the device has been heard from (the web's own device always counts). */
  has(device: string): boolean {
    return (this.ownDevice !== undefined && device === this.ownDevice) || this.beats.has(device);
  }

  /** The devices heard from (not the own device unless it was). */
  heard(): IterableIterator<string> {
    return this.beats.keys();
  }

  /** Every device: the web's own first, then the others by name. */
  list(now: number): DeviceView[] {
    const ids = new Set([...(this.ownDevice === undefined ? [] : [this.ownDevice]), ...this.beats.keys()]);
    return [...ids].sort((a, b) => (a === this.ownDevice ? -1 : b === this.ownDevice ? 1 : a.localeCompare(b))).map((id) => this.viewOf(id, now));
  }

  /** One device, or undefined when it was never heard from (and is not the web's own). */
  get(id: string, now: number): DeviceView | undefined {
    return this.has(id) ? this.viewOf(id, now) : undefined;
  }

  private viewOf(id: string, now: number): DeviceView {
    const services = this.beats.get(id) ?? new Map<ServiceName, Beat>();
    const view: DeviceView = { id, state: "offline", problem: null, lastSeenAgoMs: null, uptimeS: null, temperatureC: null, camera: null, versions: {}, services: {} };
    const silent: string[] = [];
    for (const [name, { hb, receivedAt }] of services) {
      const ageMs = now - receivedAt;
      view.versions[name] = hb.version;
      view.services[name] = { ageMs, uptimeS: hb.uptimeS, cpuPct: hb.cpuPct, rssBytes: hb.rssBytes, vitals: hb.vitals };
      view.lastSeenAgoMs = view.lastSeenAgoMs === null ? ageMs : Math.min(view.lastSeenAgoMs, ageMs);
      if (ageMs >= this.offlineAfterMs) {
        if (!OPTIONAL_SERVICES.has(name) || ageMs < this.serviceGoneMs) silent.push(`the ${name} service has been silent for ${describeAge(ageMs)}`);
        continue;
      }
      view.uptimeS = Math.max(view.uptimeS ?? 0, hb.uptimeS);
      const temperature = TEMPERATURE_VITALS.map((k) => hb.vitals[k]).find((v) => v !== undefined);
      if (temperature !== undefined && view.temperatureC === null) view.temperatureC = temperature;
    }
    if (view.lastSeenAgoMs === null || view.lastSeenAgoMs >= this.offlineAfterMs) {
      view.problem = view.lastSeenAgoMs === null ? "not heard from yet" : `not heard from for ${describeAge(view.lastSeenAgoMs)}`;
      return view;
    }
    const problems: string[] = [];
    const camera = services.get("camera");
    const cameraAge = camera === undefined ? undefined : now - camera.receivedAt;
    if (camera === undefined || cameraAge === undefined) problems.push("no camera service heard from on this device");
    else if (cameraAge < this.offlineAfterMs) {
      const v = camera.hb.vitals;
      view.camera = { fps: v.fps ?? 0, kbps: v.bitrateKbps ?? 0, frameAgeMs: v.lastFrameAgeMs === undefined || v.lastFrameAgeMs < 0 ? null : v.lastFrameAgeMs };
      const trouble = cameraProblem(v, this.frameStaleMs);
      if (trouble !== undefined) problems.push(trouble);
    }
    // The camera's silence first: it is what a person looks for.
    problems.push(...silent.sort((a, b) => Number(b.startsWith("the camera")) - Number(a.startsWith("the camera"))));
    view.state = problems.length === 0 ? "online" : "degraded";
    view.problem = problems.length === 0 ? null : problems.join("; ");
    return view;
  }
}
