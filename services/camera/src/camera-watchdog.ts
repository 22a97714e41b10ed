import { existsSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { CameraStatusEvent } from "@picket/contracts";
import type { Logger } from "@picket/runtime";
import { FrozenPicture, SourceHealth, type SourceState, type StatusChange } from "./source-health.js";
import { sourceMissing, sourcePath, type Source } from "./source.js";

/** What the watchdog acts on: the capture, and the events stream. Injected. */
export interface WatchdogPorts {
  /** Kills the running encoder; the capture restarts it with backoff and reports `failed`. */
  restart(reason: string): void;
  /** A retry waiting for its backoff starts now. */
  retryNow(): void;
  /** While the source is lost, the capture's per-retry lines are logged at debug only. */
  quiet(on: boolean): void;
  /** Stores a status event durably. */
  record(event: CameraStatusEvent): void;
}

export interface WatchdogDeps {
  device: string;
  source: Source;
  log: Logger;
  /** Seconds of a bit-identical picture that count as frozen; 0 never checks. */
  frozenS: number;
  ports: WatchdogPorts;
  exists?: (path: string) => boolean;
}

/**
 * The camera's watchdog over its picture. The capture kills an encoder that gives no frame
 * (a stall, SIGSTOP included); this adds what the capture cannot see: a picture that no
 * longer changes (stills compared byte for byte), and a file or device node that vanished.
 * It turns all of them into one log line per change and a durable `events.camera` record
 * (`restarted`, `lost`, `back`), and retries at once when the source's path reappears.
 */
export function createCameraWatchdog(deps: WatchdogDeps) {
  const { device, source, ports } = deps;
  const log = deps.log.child({ module: "watchdog" });
  const exists = deps.exists ?? existsSync;
  const health = new SourceHealth();
  const frozen = new FrozenPicture(deps.frozenS * 1000);
  let watcher: FSWatcher | undefined;

  const announce = (change: StatusChange | undefined) => {
    if (change === undefined) return;
    const { state, reason, downMs } = change;
    if (state === "lost") log.warn({ reason }, "camera source lost: no picture; retrying with backoff until it is back");
    else if (state === "restarted") log.info({ reason, downMs }, "camera picture back after the watchdog restarted the encoder");
    else log.info({ reason, downMs }, "camera source back: the picture flows again");
    ports.quiet(state === "lost");
    const at = Date.now();
    const rand = Math.random().toString(36).slice(2, 10).padEnd(8, "0");
    ports.record({ id: `cam-${at.toString(36)}-${rand}`, kind: "camera", device, state, reason: reason.slice(0, 200), at, ...(downMs === undefined ? {} : { downMs }) });
  };

  return {
    get state(): SourceState {
      return health.state;
    },
    /** The capture was started on purpose. */
    started(): void {
      health.started();
      frozen.reset();
    },
    /** The capture was stopped on purpose: nothing to watch, nothing to say. */
    stopped(): void {
      health.stopped();
      ports.quiet(false);
    },
    /** A frame of the main picture. Without the frozen check, every frame is a good picture. */
    frame(): void {
      if (deps.frozenS === 0) announce(health.picture());
    },
    /** A still of the main picture: a frozen one is restarted, a changing one is a good picture. */
    still(jpeg: Uint8Array): void {
      if (deps.frozenS === 0) return;
      const verdict = frozen.push(jpeg, Date.now());
      if (verdict === "changed") announce(health.picture());
      else if (verdict === "frozen") ports.restart(`the picture has not changed for ${deps.frozenS} s (frozen)`);
    },
    /** A capture run ended without a stop: a restart is expected to help, unless the source is gone. */
    failed(reason: string, restartInMs: number): void {
      frozen.reset();
      const gone = sourceMissing(source, exists);
      const before = health.state;
      announce(health.failed(gone ?? reason, gone !== undefined));
      if (before === "live" && health.state === "recovering") log.warn({ reason, restartInMs }, "camera picture stopped; the watchdog is restarting the encoder");
    },
    /**
     * Watches the folder of a file or device source: a path that disappears is a camera
     * unplugged, and the capture is ended at once (ffmpeg may go on reading an open file that
     * is gone); one that appears while the source is lost is tried at once, not after the backoff.
     */
    watchSource(capturing: () => boolean): void {
      const path = sourcePath(source);
      if (path === undefined) return;
      try {
        watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
          if (name !== basename(path) || !capturing()) return;
          const missing = sourceMissing(source, exists);
          if (missing !== undefined && health.state !== "lost") ports.restart(missing);
          else if (missing === undefined && health.state === "lost") ports.retryNow();
        });
        watcher.on("error", (err) => log.debug({ err, path }, "stopped watching the source's folder"));
      } catch (err) {
        log.debug({ err, path }, "cannot watch the source's folder; the retries alone will notice it back");
      }
    },
    close(): void {
      health.stopped();
      watcher?.close();
    },
  };
}

export type CameraWatchdog = ReturnType<typeof createCameraWatchdog>;
