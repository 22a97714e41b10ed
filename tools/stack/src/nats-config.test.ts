import { describe, expect, it } from "vitest";
import { deviceNatsConfig } from "./nats-config.js";

describe("deviceNatsConfig", () => {
  it("runs the device's own bus with JetStream, and no hub link unless asked", () => {
    const text = deviceNatsConfig({ host: "127.0.0.1", port: 4222, storeDir: "/data/nats", serverName: "door" });
    expect(text).toContain('store_dir: "/data/nats"');
    expect(text).not.toContain("leafnodes");
    expect(text).not.toContain("domain");
  });

  it("joins a hub as a leaf node with its own JetStream domain and a short keepalive", () => {
    const text = deviceNatsConfig({ host: "127.0.0.1", port: 4222, storeDir: "/d", serverName: "door", httpPort: 8222, hub: { url: "nats-leaf://hub.lan:7422", credentialsFile: "/run/door.creds" } });
    expect(text).toContain('domain: "door"');
    expect(text).toContain('url: "nats-leaf://hub.lan:7422", credentials: "/run/door.creds"');
    expect(text).toContain('ping_interval: "5s"');
    expect(text).toContain('http: "127.0.0.1:8222"');
  });

  it("quotes what it is given, so a name cannot add configuration", () => {
    const text = deviceNatsConfig({ host: "127.0.0.1", port: 4222, storeDir: '/d"\nauthorization { }', serverName: "door" });
    expect(text.split("\n").filter((l) => l.startsWith("authorization"))).toEqual([]);
  });
});
