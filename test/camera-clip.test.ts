import { ClipReply, subjects, type ClipRequest } from "@picket/contracts";
import { openMediaReader, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { testBus } from "./support/bus.js";
import { playInChromium, probeMp4 } from "./support/mp4.js";
import { startNats } from "./support/nats.js";
import { freePort } from "./support/ports.js";
import { ServiceProcess, baseEnv } from "./support/services.js";
import { startCameraStack, type Cleanups } from "./support/stack.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const cameraStack = (env: Record<string, string> = {}) => startCameraStack(cleanups, env);

/** Asks for a clip (raw payload or a request) and returns the decoded reply and how long it took. */
async function askClip(nc: NatsConnection, device: string, body: ClipRequest | string, timeoutMs = 30_000): Promise<{ reply: ClipReply; ms: number }> {
  const started = Date.now();
  const msg = await nc.request(subjects.clipRequest(device), typeof body === "string" ? body : JSON.stringify(body), { timeout: timeoutMs });
  return { reply: ClipReply.parse(msg.json()), ms: Date.now() - started };
}

describe("clip on request", () => {
  it("records the last 4 s to a playable 1280x720 H.264 MP4 in the media bucket, and refuses bad requests clearly", async () => {
    const { stack, nc } = await cameraStack();
    const { reply, ms } = await askClip(nc, stack.device, { seconds: 4, requestedBy: "test" });
    expect(reply).toMatchObject({ ok: true, object: expect.stringMatching(/^clips\/request-[a-z0-9]+-[0-9a-f]{8}\.mp4$/) });
    if (!reply.ok) throw new Error(reply.error);
    // The camera had run for less than 4 s: it recorded on until 4 s were covered, then answered.
    expect(ms).toBeLessThan(4_000 + 5_000);
    expect(reply.durationMs).toBeGreaterThanOrEqual(3_900);
    expect(reply.durationMs).toBeLessThanOrEqual(4_100);
    expect(Math.abs(Date.now() - reply.at)).toBeLessThan(15_000);

    const mp4 = (await openMediaReader(nc).get(reply.object)) as Uint8Array;
    expect(mp4.length).toBe(reply.bytes);
    const probe = await probeMp4(mp4);
    expect(probe).toMatchObject({ codec: "h264", width: 1280, height: 720 });
    expect(Math.abs(probe.durationS - 4)).toBeLessThan(1.5);
    expect(probe.durationS).toBeCloseTo(reply.durationMs / 1000, 1);
    const played = await playInChromium(mp4);
    expect(played).toMatchObject({ width: 1280, height: 720 });
    expect(played.readyState).toBeGreaterThanOrEqual(2);
    expect(played.presented).toBeGreaterThanOrEqual(1);
    expect(played.advanced).toBeGreaterThan(0.2);

    const refused = async (body: string) => (await askClip(nc, stack.device, body, 5_000)).reply;
    expect(await refused("not json")).toEqual({ ok: false, error: expect.stringMatching(/payload is not JSON/) });
    expect(await refused(JSON.stringify({ seconds: 4, format: "gif" }))).toEqual({ ok: false, error: expect.stringMatching(/Unrecognized key: "format"/) });
    expect(await refused(JSON.stringify({ seconds: 0 }))).toEqual({ ok: false, error: expect.stringMatching(/seconds: must be 1 to 60 seconds/) });
    expect(await refused(JSON.stringify({ seconds: 61 }))).toEqual({ ok: false, error: expect.stringMatching(/seconds: must be 1 to 60 seconds/) });
    expect(await refused(JSON.stringify({ seconds: 2.5 }))).toEqual({ ok: false, error: expect.stringMatching(/seconds: must be a whole number/) });
  });

  it("takes a 10 s clip mostly from the frames it keeps, two at once, and tells a third it is busy", async () => {
    const { stack, nc } = await cameraStack();
    // Let the ring fill (it keeps the 5 s pre-roll plus a keyframe interval and a margin).
    await new Promise((r) => setTimeout(r, 9_000));
    const [a, b, c] = await Promise.all([askClip(nc, stack.device, { seconds: 10 }), askClip(nc, stack.device, { seconds: 10 }), askClip(nc, stack.device, { seconds: 10 })]);
    const replies = [a, b, c].map((r) => r.reply);
    expect(replies.filter((r) => r.ok)).toHaveLength(2);
    expect(replies.find((r) => !r.ok)).toEqual({ ok: false, error: expect.stringMatching(/^busy: 2 clips are being made/) });
    for (const { reply, ms } of [a, b, c]) {
      if (!reply.ok) {
        expect(ms).toBeLessThan(1_000);
        continue;
      }
      expect(reply.durationMs).toBeGreaterThanOrEqual(9_900);
      expect(reply.durationMs).toBeLessThanOrEqual(10_100);
      // About 8 s came from the ring: only the rest was recorded live.
      expect(ms).toBeLessThan(10_000);
      expect((await probeMp4((await openMediaReader(nc).get(reply.object)) as Uint8Array)).durationS).toBeCloseTo(10, 0);
    }
  });

  it("on demand, a request starts the camera and holds it while the clip is recorded", async () => {
    const { stack, nc } = await cameraStack({ PICKET_CAMERA_MODE: "on-demand", PICKET_CAMERA_IDLE_S: "1" });
    const { reply } = await askClip(nc, stack.device, { seconds: 3 });
    expect(reply).toMatchObject({ ok: true, durationMs: expect.any(Number) });
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.durationMs).toBeGreaterThanOrEqual(2_900);
    const camera = stack.get("camera");
    expect(camera.logs.some((l) => l.msg === "camera wanted; starting it" && JSON.stringify(l.holders).includes("clip-"))).toBe(true);
    // Released once recorded: the camera stops after its grace period.
    await camera.waitForMsg("no one needs the camera; stopping it", 15_000);
  });

  it("answers no video, with the reason, within the asked seconds plus 10 s when the camera's source is gone", async () => {
    const nats = await startNats();
    cleanups.push(() => nats.dispose());
    const camera = new ServiceProcess("camera", { ...baseEnv(nats.url, "dead-cam"), PICKET_CAMERA_SOURCE: `http://127.0.0.1:${await freePort()}/stream` });
    cleanups.push(() => camera.stop());
    const nc = await testBus(nats.url);
    cleanups.push(() => nc.close());
    // The server handles a connection's messages in order: after its first heartbeat, the camera's subscriptions are in place.
    const beat = nc.subscribe(subjects.heartbeat("dead-cam", "camera"), { max: 1 });
    for await (const _ of beat) break;
    const { reply, ms } = await askClip(nc, "dead-cam", { seconds: 2 });
    expect(reply).toEqual({ ok: false, error: expect.stringMatching(/^the camera gave no video \(it has made none since it started\): its encoder is not running or its source is gone$/) });
    expect(ms).toBeLessThan(2_000 + 10_000);
  });
});
