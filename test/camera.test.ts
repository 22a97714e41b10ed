import { PartAssembler, readVideoHeaders, subjects } from "@picket/contracts";
import type { NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { metricTotal, testBus } from "./support/bus.js";
import { ffprobe, nalTypes } from "./support/media.js";
import { startCameraStack, startStack, type Cleanups } from "./support/stack.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const cameraStack = (env: Record<string, string> = {}) => startCameraStack(cleanups, env);

interface Unit {
  seq: number;
  key: boolean;
  data: Uint8Array;
  capturedUs?: number;
}

/** Collects access units from the bus until `until` says stop. */
function collect(nc: NatsConnection, device: string, until: (units: Unit[]) => boolean): Promise<Unit[]> {
  return new Promise((resolve) => {
    const units: Unit[] = [];
    const sub = nc.subscribe(subjects.video(device, "high"), {
      callback: (_err, msg) => {
        const meta = readVideoHeaders(msg.headers, msg.subject);
        units.push({ seq: meta.seq, key: meta.key, data: msg.data, capturedUs: meta.capturedUs });
        if (until(units)) {
          sub.unsubscribe();
          resolve(units);
        }
      },
    });
  });
}

describe("camera service", () => {
  it("publishes decodable 1280x720 H.264, SPS/PPS before every keyframe, and a snapshot taken while streaming leaves no gap", async () => {
    const { stack, nc } = await cameraStack();
    let snapshot: Promise<import("@picket/runtime").Msg> | undefined;
    const units = await collect(nc, stack.device, (u) => {
      if (u.length === 30) snapshot = nc.request(subjects.snapshot(stack.device), new Uint8Array(0), { timeout: 5_000 });
      return u.length >= 125 && u.filter((x) => x.key).length >= 2;
    });
    const reply = await (snapshot as Promise<import("@picket/runtime").Msg>);

    expect(reply.headers?.get("Picket-Error") ?? "").toBe("");
    expect(await ffprobe(Buffer.from(reply.data))).toEqual({ codec_name: "mjpeg", width: 1280, height: 720 });
    // No gap: every sequence number from the first to the last arrived.
    const seqs = units.map((u) => u.seq);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
    for (const u of units.filter((x) => x.key)) {
      const types = nalTypes(u.data);
      expect(types.indexOf(7)).toBeGreaterThanOrEqual(0);
      expect(types.indexOf(7)).toBeLessThan(types.indexOf(5));
      expect(types.indexOf(8)).toBeLessThan(types.indexOf(5));
    }
    // The units, from the first keyframe on, are a stream a real decoder plays.
    const fromKey = units.slice(units.findIndex((u) => u.key));
    const probed = await ffprobe(Buffer.concat(fromKey.map((u) => u.data)), { format: "h264", countFrames: true });
    expect(probed).toMatchObject({ codec_name: "h264", width: 1280, height: 720 });
    expect(Number(probed.nb_read_frames)).toBe(fromKey.length);
  });

  it("restarts a killed encoder and the video resumes at a keyframe, its sequence continuing", async () => {
    const { stack, nc } = await cameraStack();
    const camera = stack.get("camera");
    let killed = false;
    const units = await collect(nc, stack.device, (u) => {
      if (u.length === 10 && !killed) {
        killed = true;
        void camera.waitForMsg("encoder started").then((l) => process.kill(l.pid as number, "SIGKILL"));
      }
      return camera.logs.filter((l) => l.msg === "stream parameters").length === 2 && u.length > 30;
    });
    expect(camera.logs.some((l) => l.msg === "encoder exited; restarting")).toBe(true);
    const seqs = units.map((u) => u.seq);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
    // The restart shows as a pause of at least the restart backoff; the first unit after it is a keyframe.
    const resumedAt = units.findIndex((u, i) => i > 0 && (u.capturedUs as number) - (units[i - 1]?.capturedUs as number) > 250_000);

    expect(resumedAt).toBeGreaterThan(0);
    expect(units[resumedAt]?.key).toBe(true);
  });

  it("answers a malformed snapshot request with a clear error, counts it, and keeps streaming", async () => {
    const { stack, nc } = await cameraStack();
    const camera = stack.get("camera");
    const ops = (await camera.waitForMsg("serving /healthz and /metrics")).port as number;
    const reply = await nc.request(subjects.snapshot(stack.device), new TextEncoder().encode("{not json"), { timeout: 5_000 });
    expect(reply.headers?.get("Picket-Error")).toMatch(/not JSON/);
    await camera.waitForMsg("dropped malformed message");
    expect(await metricTotal(ops, "picket_bad_messages_total")).toBe(1);
    const units = await collect(nc, stack.device, (u) => u.length >= 5);
    expect(units).toHaveLength(5);
    const health = (await (await fetch(`http://127.0.0.1:${ops}/healthz`)).json()) as { ok: boolean };
    expect(health.ok).toBe(true);
  });

  it("answers a snapshot of a past moment from its last seconds of stills, and says when it has none", async () => {
    const { nc, stack } = await cameraStack();
    await new Promise((r) => setTimeout(r, 3_000));
    const moment = Date.now() - 1_500;
    const reply = await nc.request(subjects.snapshot(stack.device), JSON.stringify({ at: moment }), { timeout: 5_000 });
    expect(reply.headers?.get("Picket-Error") ?? "").toBe("");
    const capturedMs = Number(reply.headers?.get("Picket-Captured-Us")) / 1000;
    // Stills come twice a second: the one of that moment, not the newest.
    expect(Math.abs(capturedMs - moment)).toBeLessThanOrEqual(600);
    expect(reply.data.length).toBeGreaterThan(1_000);
    const old = await nc.request(subjects.snapshot(stack.device), JSON.stringify({ at: Date.now() - 60_000 }), { timeout: 5_000 });
    expect(old.data.length).toBe(0);
    expect(old.headers?.get("Picket-Error")).toBe("no picture of that moment");
  });

  it("sends access units larger than the server's max_payload in parts, which join into decodable video", async () => {
    const stack = await startStack({ services: ["camera"], nats: { maxPayload: 8192 } });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    const assembler = new PartAssembler();
    const units: Unit[] = [];
    let parts = 0;
    await new Promise<void>((resolve) => {
      const sub = nc.subscribe(subjects.video(stack.device, "high"), {
        callback: (_err, msg) => {
          const meta = readVideoHeaders(msg.headers, msg.subject);
          if (meta.part !== undefined) parts++;
          const whole = assembler.push(meta, msg.data);
          if (whole !== undefined) units.push({ seq: meta.seq, key: meta.key, data: whole });
          if (units.filter((u) => u.key).length >= 2) {
            sub.unsubscribe();
            resolve();
          }
        },
      });
    });
    expect(parts).toBeGreaterThan(0);
    expect(assembler.dropped).toBe(0);
    expect(Math.max(...units.map((u) => u.data.length))).toBeGreaterThan(8192);
    const fromKey = units.slice(units.findIndex((u) => u.key));
    const probed = await ffprobe(Buffer.concat(fromKey.map((u) => u.data)), { format: "h264", countFrames: true });
    expect(Number(probed.nb_read_frames)).toBe(fromKey.length);
  });
});
