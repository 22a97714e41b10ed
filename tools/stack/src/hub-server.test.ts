import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hubConfigFor, hubFiles, joinedDevices, runningHubPid, writeHubConfig } from "./hub-server.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "picket-hub-files-"));
  dirs.push(d);
  return d;
};

describe("hub files", () => {
  it("makes later configs with the settings the hub started with, in files only its owner reads", () => {
    const files = hubFiles(tmp());
    expect(hubConfigFor(files, { devices: [] })).toBeUndefined();
    writeHubConfig(files, { host: "127.0.0.1", port: 14222, storeDir: "/s", leaf: { host: "0.0.0.0", port: 17422 }, pidFile: files.pidFile }, { devices: [] });
    for (const f of [files.config, files.settings]) expect(statSync(f).mode & 0o777).toBe(0o600);
    const later = hubConfigFor(files, { devices: [{ id: "door", passwordHash: `$2b$08$${"b".repeat(53)}`, addedAt: "t" }] });
    expect(later).toContain("port: 14222");
    expect(later).toContain("port: 17422");
    expect(later).toContain('user: "door"');
  });

  it("finds no hub to signal without a pid file, or with one naming a process that is not nats-server", () => {
    const files = hubFiles(tmp());
    expect(runningHubPid(files)).toBeUndefined();
    writeHubConfig(files, { host: "127.0.0.1", port: 1, storeDir: "/s", leaf: { host: "0.0.0.0", port: 2 } }, { devices: [] });
    rmSync(files.pidFile, { force: true });
    writeFileSync(files.pidFile, String(process.pid));
    expect(runningHubPid(files)).toBeUndefined();
  });

  it("knows the joined devices by their JetStream domain in /leafz", () => {
    const leafz = { leafs: [{ subscriptions_list: ["$LDS.x", "$JS.shed.API.INFO", "$JS.shed.API.STREAM.>"] }, { subscriptions_list: ["$JS.door.API.INFO", "picket.door.>"] }, {}] };
    expect(joinedDevices(leafz)).toEqual(["door", "shed"]);
    expect(joinedDevices({ leafnodes: 0 })).toEqual([]);
  });
});
