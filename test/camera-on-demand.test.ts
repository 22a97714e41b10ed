import { decodeLiveFrame, subjects, type CameraDemand, type PirEdge } from "@picket/contracts";
import type { NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { testBus } from "./support/bus.js";
import WebSocket from "ws";
import { freePort, waitFor } from "./support/ports.js";
import { viewerQuery } from "./support/services.js";
import { startStack, type Stack } from "./support/stack.js";
import { jpegDimensions } from "./support/telegram-api.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Counts video messages on the bus, to tell whether the camera is capturing. */
function videoCounter(nc: NatsConnection, device: string) {
  const counter = { total: 0, at: 0 };
  nc.subscribe(subjects.video(device, "high"), {
    callback: () => {
      counter.total++;
      counter.at = Date.now();
    },
  });
  return counter;
}

const quietFor = async (counter: { at: number }, ms: number) => waitFor(`no video for ${ms} ms`, () => Date.now() - Math.max(counter.at, 1) > ms || undefined, 20_000);

describe("camera on demand", () => {
  it("stays off until needed: a snapshot, a viewer's lease or a PIR edge starts it, and it stops a grace period after the last user", async () => {
    const stack: Stack = await startStack({ services: ["camera"], env: { PICKET_CAMERA_MODE: "on-demand", PICKET_CAMERA_IDLE_S: "1" } });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    const camera = stack.get("camera");
    const video = videoCounter(nc, stack.device);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(video.total).toBe(0);

    // A snapshot request starts the camera and gets its first picture.
    const reply = await nc.request(subjects.snapshot(stack.device), JSON.stringify({ maxAgeMs: 2_000 }), { timeout: 20_000 });
    expect(reply.headers?.get("Picket-Error") ?? "").toBe("");
    expect(jpegDimensions(Buffer.from(reply.data))).toEqual({ width: 1280, height: 720 });
    await waitFor("video while the camera runs", () => video.total > 10 || undefined);
    await camera.waitForMsg("no one needs the camera; stopping it", 15_000);
    await quietFor(video, 1_000);

    // A viewer's relay holds the camera while it renews its lease.
    const hold = (ms: number) => nc.publish(subjects.cameraDemand(stack.device), JSON.stringify({ holder: "stream-high", ms } satisfies CameraDemand));
    hold(3_000);
    await waitFor("video for the viewer", () => video.total > 20 || undefined, 20_000);
    const renew = setInterval(() => hold(3_000), 1_000);
    cleanups.push(async () => clearInterval(renew));
    const before = video.total;
    await new Promise((r) => setTimeout(r, 4_000));
    expect(video.total - before).toBeGreaterThan(50);
    clearInterval(renew);
    hold(0);
    const stops = camera.logs.filter((l) => l.msg === "no one needs the camera; stopping it").length;
    await camera.waitForLog((l) => l.msg === "no one needs the camera; stopping it" && camera.logs.filter((x) => x.msg === l.msg).length > stops, 15_000);
    await quietFor(video, 1_000);

    // A PIR edge wakes it, so the event gets a picture and a clip.
    const total = video.total;
    nc.publish(subjects.pirEdge(stack.device), JSON.stringify({ device: stack.device, level: 1, at: Date.now(), driver: "sim" } satisfies PirEdge));
    await waitFor("video after the PIR edge", () => video.total > total + 10 || undefined, 20_000);
    expect(camera.logs.some((l) => l.msg === "camera wanted; starting it" && JSON.stringify(l.holders).includes("pir"))).toBe(true);
  });

  it("a live viewer starts the camera through the stream service, and leaving lets it stop", async () => {
    const streamPort = await freePort();
    const stack: Stack = await startStack({
      services: ["camera", "stream"],
      env: { PICKET_CAMERA_MODE: "on-demand", PICKET_CAMERA_IDLE_S: "1", PICKET_STREAM_PORT: String(streamPort) },
    });
    cleanups.push(() => stack.stop());
    const camera = stack.get("camera");
    const frames: number[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${streamPort}/live/${stack.device}/high${viewerQuery(stack.device)}`);
    cleanups.push(async () => ws.terminate());
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) frames.push(decodeLiveFrame(new Uint8Array(data)).seq);
    });
    await waitFor("live frames from a camera that was off", () => frames.length > 25 || undefined, 20_000);
    expect(camera.logs.some((l) => l.msg === "camera wanted; starting it" && JSON.stringify(l.holders).includes("stream-high"))).toBe(true);
    ws.close();
    await camera.waitForMsg("no one needs the camera; stopping it", 15_000);
  });
});
