import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { BCRYPT_COST, checkDeviceId, newDevicePassword, parseRegistry, withDevice, withoutDevice, type Registry } from "./hub-registry.js";

const t0 = new Date("2026-01-01T10:00:00Z");
const t1 = new Date("2026-02-01T10:00:00Z");

describe("device registry", () => {
  it("makes a long URL-safe password and keeps only its bcrypt hash", () => {
    const { password, passwordHash } = newDevicePassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(passwordHash).toMatch(new RegExp(`^\\$2b\\$0${BCRYPT_COST}\\$`));
    expect(passwordHash).not.toContain(password);
    expect(bcrypt.compareSync(password, passwordHash)).toBe(true);
    expect(newDevicePassword().password).not.toBe(password);
  });

  it("adds a device, refuses it again, and gives it a new password only with rotate", () => {
    const one = withDevice({ devices: [] }, { id: "door", passwordHash: "h1" }, t0, false);
    expect(one.devices).toEqual([{ id: "door", passwordHash: "h1", addedAt: t0.toISOString() }]);
    expect(() => withDevice(one, { id: "door", passwordHash: "h2" }, t1, false)).toThrow(/already registered.*--rotate/);
    const rotated = withDevice(one, { id: "door", passwordHash: "h2" }, t1, true);
    expect(rotated.devices).toEqual([{ id: "door", passwordHash: "h2", addedAt: t0.toISOString(), rotatedAt: t1.toISOString() }]);
  });

  it("removes a registered device and says so when there is none", () => {
    const reg: Registry = { devices: [{ id: "door", passwordHash: "h", addedAt: "x" }, { id: "shed", passwordHash: "h", addedAt: "x" }] };
    expect(withoutDevice(reg, "door").devices.map((d) => d.id)).toEqual(["shed"]);
    expect(() => withoutDevice(reg, "gate")).toThrow(/not registered/);
  });

  it("accepts only device ids, and not the hub's own domain", () => {
    expect(checkDeviceId("door-1_b")).toBe("door-1_b");
    for (const bad of ["", "a.b", "a b", "x".repeat(65), "picket.*", "hub"]) expect(() => checkDeviceId(bad)).toThrow();
  });

  it("reads a registry file and names what is wrong in a damaged one", () => {
    expect(parseRegistry('{"devices":[{"id":"door","passwordHash":"h","addedAt":"t"}]}', "f").devices[0]?.id).toBe("door");
    expect(() => parseRegistry("{", "f")).toThrow(/f is not JSON/);
    expect(() => parseRegistry("{}", "f")).toThrow(/expected/);
    expect(() => parseRegistry('{"devices":[{"id":"a.b","passwordHash":"h","addedAt":"t"}]}', "f")).toThrow(/device #1/);
  });
});
