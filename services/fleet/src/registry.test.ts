import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@picket/runtime";
import { afterAll, describe, expect, it } from "vitest";
import { RegistryFollower, registeredIds } from "./registry.js";

const dir = mkdtempSync(join(tmpdir(), "picket-registry-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ service: "fleet", device: "hub", level: "silent" });

describe("the hub's device registry, as the fleet reads it", () => {
  it("takes the ids `npm run hub` keeps, and refuses a file that is not one", () => {
    expect(registeredIds(JSON.stringify({ devices: [{ id: "door", passwordHash: "x", addedAt: "2026-11-25T00:00:00Z" }, { id: "shed" }] }))).toEqual(new Set(["door", "shed"]));
    expect(() => registeredIds("{")).toThrow();
    expect(() => registeredIds(JSON.stringify({ devices: [{ id: "a.b" }] }))).toThrow();
  });

  it("is empty before the file exists, follows its changes, and keeps the last good list when it does not read", async () => {
    const path = join(dir, "devices.json");
    const follower = new RegistryFollower(path, log);
    expect([...(await follower.refresh())]).toEqual([]);
    const write = (text: string, at: number) => {
      writeFileSync(path, text);
      utimesSync(path, at, at);
    };
    write(JSON.stringify({ devices: [{ id: "door" }, { id: "shed" }] }), 1_000);
    expect([...(await follower.refresh())].sort()).toEqual(["door", "shed"]);
    write(JSON.stringify({ devices: [{ id: "door" }] }), 2_000);
    expect([...(await follower.refresh())]).toEqual(["door"]);
    write("{ half a file", 3_000);
    expect([...(await follower.refresh())]).toEqual(["door"]);
  });
});
