import { describe, expect, it } from "vitest";
import { HUB_LOCAL_USER, deviceInboxPrefix, deviceNatsConfig, devicePermissions, hubNatsConfig, type HubNatsOptions } from "./nats-config.js";

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
    // Its events reach the hub only as the hub reads its stream (so the hub catches up after a lost link, and stores each once).
    expect(text).toContain('deny_exports: ["picket.door.events.>"], deny_imports: ["picket.*.events.>"] }');
    expect(text).toContain('ping_interval: "5s"');
    expect(text).toContain('http: "127.0.0.1:8222"');
    // Its own services publish only in its name there (and to JetStream, KV, object stores, inboxes).
    expect(text).toContain('no_auth_user: "picket.device"');
    expect(text).toContain('{ user: "picket.device", permissions: { publish: { allow: ["picket.door.>", "_INBOX.>", "$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "$KV.>", "$O.>"] } } }');
  });

  it("quotes what it is given, so a name cannot add configuration", () => {
    const text = deviceNatsConfig({ host: "127.0.0.1", port: 4222, storeDir: '/d"\nauthorization { }', serverName: "door" });
    expect(text.split("\n").filter((l) => l.startsWith("authorization"))).toEqual([]);
  });
});

describe("devicePermissions", () => {
  it("lets a device send only its own subjects and answers (and the hub's wildcard interests, which its own server narrows to its name), and receive only what is addressed to it", () => {
    const p = devicePermissions("door");
    // `$JSC.R.>`: its JetStream answering the hub server's feed of its events (the consumer it keeps there).
    expect(p.publish).toEqual(["picket.door.>", "picket.*.heartbeat.*", "_INBOX.>", "$JSC.R.>"]);
    expect(p.subscribe).toEqual(["picket.door.>", `${deviceInboxPrefix("door")}.>`, "$JS.door.API.>", "$JS.FC.>"]);
    // Nothing of another device delivered to it, no hub inbox (other devices' answers), no ack subject (no domain in it).
    expect(p.subscribe.some((s) => s.startsWith("picket.*") || s === ">" || s.startsWith("$JS.ACK"))).toBe(false);
    expect(p.publish.some((s) => s === ">" || s.startsWith("picket.*.video") || s.startsWith("$JS.ACK"))).toBe(false);
    expect(p.subscribe).not.toContain("_INBOX.>");
  });
});

describe("hubNatsConfig", () => {
  const hash = `$2b$08$${"a".repeat(53)}`;
  const base: HubNatsOptions = { host: "127.0.0.1", port: 4222, storeDir: "/data/nats", httpPort: 8222, leaf: { host: "0.0.0.0", port: 7422 }, pidFile: "/data/hub/nats.pid", devices: [] };

  it("runs JetStream in the hub domain, a loopback client port for its own services and a leaf listener", () => {
    const text = hubNatsConfig(base);
    expect(text).toContain('domain: "hub"');
    expect(text).toContain('host: "127.0.0.1"\nport: 4222');
    expect(text).toContain('leafnodes {\n  host: "0.0.0.0"\n  port: 7422\n}');
    expect(text).toContain(`no_auth_user: "${HUB_LOCAL_USER}"`);
    expect(text).toContain(`{ user: "${HUB_LOCAL_USER}", allowed_connection_types: ["STANDARD"] }`);
    expect(text).toContain('pid_file: "/data/hub/nats.pid"');
    expect(text).toContain('http: "127.0.0.1:8222"');
  });

  it("tells joining devices the address they reach it at, when given, instead of its own interfaces'", () => {
    expect(hubNatsConfig({ ...base, leaf: { host: "0.0.0.0", port: 7422, advertise: "hub.example.net:7422" } })).toContain('leafnodes {\n  host: "0.0.0.0"\n  port: 7422\n  advertise: "hub.example.net:7422"\n}');
    expect(hubNatsConfig(base)).not.toContain("advertise");
  });

  it("has one leaf-only user per device, with its hash and its own permissions", () => {
    const text = hubNatsConfig({ ...base, devices: [{ id: "door", passwordHash: hash }, { id: "shed", passwordHash: hash }] });
    const door = text.split("\n").find((l) => l.includes('user: "door"')) ?? "";
    expect(door).toContain(`password: "${hash}"`);
    expect(door).toContain('allowed_connection_types: ["LEAFNODE"]');
    expect(door).toContain('publish: { allow: ["picket.door.>", "picket.*.heartbeat.*", "_INBOX.>", "$JSC.R.>"] }');
    expect(door).toContain('subscribe: { allow: ["picket.door.>", "_INBOX_door.>", "$JS.door.API.>", "$JS.FC.>"] }');
    expect(text).toContain('user: "shed"');
  });

  it("refuses what nats-server would reject or misread, instead of writing it", () => {
    expect(() => hubNatsConfig({ ...base, devices: [{ id: "door", passwordHash: "plain-password" }] })).toThrow(/not a bcrypt hash/);
    expect(() => hubNatsConfig({ ...base, devices: [{ id: "hub", passwordHash: hash }] })).toThrow(/JetStream domain/);
    expect(() => hubNatsConfig({ ...base, devices: [{ id: "a.b", passwordHash: hash }] })).toThrow(/not a device id/);
    expect(() => hubNatsConfig({ ...base, devices: [{ id: "door", passwordHash: hash }, { id: "door", passwordHash: hash }] })).toThrow(/twice/);
  });

  it("quotes what it is given, so a path cannot add configuration", () => {
    const text = hubNatsConfig({ ...base, storeDir: '/d"\nauthorization { }', pidFile: '/p"\nno_auth_user: "x"' });
    expect(text.split("\n").filter((l) => l.startsWith("authorization") || l.startsWith("no_auth_user")).length).toBe(2);
  });
});
