import { afterEach, describe, expect, it } from "vitest";
import { Lifecycle } from "./lifecycle.js";
import { createLogger } from "./logger.js";

function logged() {
  const lines: { level: string; msg: string; part?: string; [k: string]: unknown }[] = [];
  const log = createLogger({ service: "test", device: "pi", level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

describe("Lifecycle", () => {
  it("stops parts in reverse order of starting", async () => {
    const { log } = logged();
    const lc = new Lifecycle(log);
    const order: string[] = [];
    lc.add("bus", () => void order.push("bus"));
    lc.add("camera", async () => {
      await Promise.resolve();
      order.push("camera");
    });
    lc.add("http", () => void order.push("http"));
    await lc.shutdown("test");
    expect(order).toEqual(["http", "camera", "bus"]);
  });

  it("goes on stopping after a part fails, and logs which part failed", async () => {
    const { log, lines } = logged();
    const lc = new Lifecycle(log);
    const order: string[] = [];
    lc.add("bus", () => void order.push("bus"));
    lc.add("camera", () => {
      throw new Error("device busy");
    });
    lc.add("http", async () => {
      throw new Error("close failed");
    });
    await lc.shutdown("test");
    expect(order).toEqual(["bus"]);
    expect(lines.filter((l) => l.msg === "stop failed").map((l) => l.part)).toEqual(["http", "camera"]);
  });

  it("stops each part once when asked twice", async () => {
    const { log } = logged();
    const lc = new Lifecycle(log);
    let stops = 0;
    lc.add("x", () => void stops++);
    await Promise.all([lc.shutdown("a"), lc.shutdown("b")]);
    await lc.shutdown("c");
    expect(stops).toBe(1);
  });

  it("gives up on a part that never stops once the deadline passes", async () => {
    const { log, lines } = logged();
    const lc = new Lifecycle(log, { deadlineMs: 30 });
    lc.add("stuck", () => new Promise<void>(() => {}));
    const t0 = Date.now();
    await lc.shutdown("test");
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(lines.some((l) => l.level === "error" && l.msg.includes("deadline"))).toBe(true);
  });

  describe("on a signal", () => {
    let added: NodeJS.SignalsListener[] = [];
    afterEach(() => {
      for (const l of added) {
        process.removeListener("SIGTERM", l);
        process.removeListener("SIGINT", l);
      }
      added = [];
    });

    it("shuts down and exits 0, even when a part never stops", async () => {
      const { log } = logged();
      const codes: number[] = [];
      let exited!: () => void;
      const done = new Promise<void>((resolve) => (exited = resolve));
      const lc = new Lifecycle(log, {
        deadlineMs: 30,
        exit: (code) => {
          codes.push(code);
          exited();
        },
      });
      const order: string[] = [];
      lc.add("first", () => void order.push("first"));
      lc.add("stuck", () => new Promise<void>(() => {}));
      const before = new Set([...process.listeners("SIGTERM"), ...process.listeners("SIGINT")]);
      lc.handleSignals();
      added = [...process.listeners("SIGTERM"), ...process.listeners("SIGINT")].filter((l) => !before.has(l));
      expect(added.length).toBeGreaterThan(0);
      process.emit("SIGTERM", "SIGTERM");
      await done;
      expect(codes).toEqual([0]);
      expect(order).toEqual([]);
    });
  });
});
