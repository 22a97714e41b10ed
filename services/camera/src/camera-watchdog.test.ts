import { CameraStatusEvent } from "@picket/contracts";
import { createLogger } from "@picket/runtime";
import { describe, expect, it } from "vitest";
import { createCameraWatchdog } from "./camera-watchdog.js";

function watched(frozenS: number, present = true) {
  const calls = { restarts: [] as string[], retries: 0, quiet: [] as boolean[], events: [] as CameraStatusEvent[] };
  const dog = createCameraWatchdog({
    device: "cam-1",
    source: { kind: "file", path: "/videos/door.mp4" },
    log: createLogger({ service: "test", device: "cam-1", level: "silent" }),
    frozenS,
    exists: () => present,
    ports: {
      restart: (reason) => calls.restarts.push(reason),
      retryNow: () => calls.retries++,
      quiet: (on) => calls.quiet.push(on),
      record: (event) => calls.events.push(CameraStatusEvent.parse(event)),
    },
  });
  return { dog, calls };
}

describe("camera watchdog", () => {
  it("restarts a frozen picture (bit-identical stills) once, and records `restarted` when it changes again", async () => {
    const { dog, calls } = watched(0.05);
    dog.started();
    dog.still(Buffer.from([1]));
    dog.still(Buffer.from([2]));
    expect(dog.state).toBe("live");
    await new Promise((r) => setTimeout(r, 80));
    dog.still(Buffer.from([2]));
    dog.still(Buffer.from([2]));
    expect(calls.restarts).toEqual(["the picture has not changed for 0.05 s (frozen)"]);
    dog.failed(calls.restarts[0] as string, 300);
    dog.still(Buffer.from([2]));
    dog.still(Buffer.from([3]));
    expect(calls.events).toMatchObject([{ kind: "camera", device: "cam-1", state: "restarted", reason: "the picture has not changed for 0.05 s (frozen)" }]);
  });

  it("says `lost` once for a source whose file is gone, goes quiet, and `back` when the picture returns", () => {
    const gone = watched(0, false);
    gone.dog.started();
    gone.dog.frame();
    gone.dog.failed("the encoder exited (code 1)", 500);
    gone.dog.failed("the encoder exited (code 1)", 1_000);
    expect(gone.calls.events.map((e) => [e.state, e.reason])).toEqual([["lost", "the source file /videos/door.mp4 is missing"]]);
    expect(gone.calls.quiet).toEqual([true]);
    gone.dog.frame();
    expect(gone.calls.events.map((e) => e.state)).toEqual(["lost", "back"]);
    expect(gone.calls.quiet).toEqual([true, false]);
  });

  it("never checks the picture with a threshold of 0, and says nothing about a stop on purpose", () => {
    const { dog, calls } = watched(0);
    dog.started();
    for (let i = 0; i < 10; i++) dog.still(Buffer.from([1]));
    dog.frame();
    dog.stopped();
    dog.failed("the encoder exited (SIGTERM)", 0);
    expect(calls.restarts).toEqual([]);
    expect(calls.events).toEqual([]);
  });
});
