import { realTimers, type Timers } from "@picket/runtime";

/**
 * Who needs the camera, for `PICKET_CAMERA_MODE=on-demand`: each user (a viewer's stream
 * relay, a snapshot request, a PIR edge, a clip being recorded) holds a lease for some time
 * and renews it while it still needs the camera. Leases expire on their own, so a user that
 * crashes cannot keep the camera on. The camera is wanted from the first lease until the
 * last one has ended and a grace period has passed (so a quick re-use does not pay the
 * start-up again). Pure apart from the injected timers.
 */
export class CameraDemand {
  private readonly leases = new Map<string, number>();
  private timer: unknown;
  private wantedNow = false;

  constructor(
    private readonly graceMs: number,
    private readonly onChange: (wanted: boolean) => void,
    private readonly timers: Timers = realTimers,
  ) {}

  /** `holder` needs the camera for `ms` from now; 0 releases its lease. A renewal replaces the old lease. */
  hold(holder: string, ms: number): void {
    if (ms <= 0) this.leases.delete(holder);
    else this.leases.set(holder, this.timers.now() + ms);
    this.evaluate();
  }

  release(holder: string): void {
    this.hold(holder, 0);
  }

  get wanted(): boolean {
    return this.wantedNow;
  }

  /** Current holders and their remaining ms, for health output. */
  holders(): Record<string, number> {
    const now = this.timers.now();
    return Object.fromEntries([...this.leases].map(([h, until]) => [h, Math.max(0, Math.round(until - now))]));
  }

  dispose(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private evaluate(): void {
    const now = this.timers.now();
    for (const [holder, until] of this.leases) if (until <= now) this.leases.delete(holder);
    this.dispose();
    if (this.leases.size > 0) {
      if (!this.wantedNow) this.set(true);
      const next = Math.min(...this.leases.values());
      this.timer = this.timers.setTimeout(() => this.evaluate(), next - now);
      return;
    }
    if (!this.wantedNow) return;
    // The last lease ended: keep the camera through the grace period, then let it go.
    const lastEnded = now;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (this.leases.size === 0 && this.timers.now() >= lastEnded + this.graceMs) this.set(false);
      else this.evaluate();
    }, this.graceMs);
  }

  private set(wanted: boolean): void {
    this.wantedNow = wanted;
    this.onChange(wanted);
  }
}
