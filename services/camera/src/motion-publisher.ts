import { MotionReport, MotionSettings, subjects, type Box } from "@picket/contracts";
import { Counter, type Logger, type NatsConnection, type ServiceMetrics } from "@picket/runtime";

/** What the publisher needs of a detector (MotionDetector in ./motion). */
export interface Detector {
  push(frame: Uint8Array, atMs: number): { moving: boolean; score: number; box: Box | null; zones: string[]; lightChange: boolean };
  updateSettings(settings: MotionSettings): void;
}

export interface MotionPublisherDeps {
  nc: NatsConnection;
  device: string;
  log: Logger;
  metrics: ServiceMetrics;
  detector: Detector;
}

/**
 * Runs the motion detector on the capture's small gray frames and publishes what it sees on
 * `picket.<d>.motion`: every analysed frame while something moves (a few a second), one
 * report when it stops, and one when a whole-frame light change was ignored. Quiet frames
 * cost no bus traffic.
 */
export function createMotionPublisher(deps: MotionPublisherDeps) {
  const { nc, device } = deps;
  const log = deps.log.child({ module: "motion" });
  const subject = subjects.motion(device);
  const reports = new Counter({ name: "picket_motion_reports_total", help: "Motion reports published", labelNames: ["kind"] as const, registers: [deps.metrics.registry] });
  const frames = new Counter({ name: "picket_motion_frames_total", help: "Frames the motion detector analysed", registers: [deps.metrics.registry] });
  let moving = false;
  let lastScore = 0;
  let episodes = 0;
  let lightChanges = 0;

  const publish = (report: MotionReport, kind: string) => {
    reports.inc({ kind });
    nc.publish(subject, JSON.stringify(report));
  };

  return {
    /** One gray frame captured at `capturedUs` (wall clock, µs). */
    frame(gray: Uint8Array, capturedUs: number): void {
      const at = Math.round(capturedUs / 1000);
      const r = deps.detector.push(gray, at);
      frames.inc();
      lastScore = r.score;
      if (r.lightChange) {
        lightChanges++;
        log.info({ at }, "whole-frame light change ignored");
        publish({ device, at, moving: false, score: 0, box: null, zones: [], lightChange: true }, "light-change");
      }
      if (r.moving) {
        if (!moving) {
          episodes++;
          log.info({ score: round(r.score), box: r.box, zones: r.zones }, "motion started");
        }
        moving = true;
        publish({ device, at, moving: true, score: round(r.score), box: r.box, zones: r.zones, lightChange: false }, "moving");
      } else if (moving) {
        moving = false;
        log.info("motion stopped");
        publish({ device, at, moving: false, score: round(r.score), box: null, zones: [], lightChange: false }, "stopped");
      }
    },
    /** New masks, zones or sensitivity, live. */
    updateSettings(settings: MotionSettings): void {
      deps.detector.updateSettings(settings);
      log.info({ sensitivity: settings.sensitivity, masks: settings.masks.length, zones: settings.zones.map((z) => z.name) }, "motion settings");
    },
    vitals(): Record<string, number> {
      return { motion: moving ? 1 : 0, motionScore: round(lastScore), motionEpisodes: episodes, lightChanges };
    },
  };
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** Parses the settings bucket's motion value (JSON). */
export function parseMotionSettings(raw: string): MotionSettings {
  return MotionSettings.parse(JSON.parse(raw));
}

export type MotionPublisher = ReturnType<typeof createMotionPublisher>;
