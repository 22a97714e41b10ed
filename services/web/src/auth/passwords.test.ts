import { describe, expect, it } from "vitest";
import { UNMATCHABLE_HASH, generatePassword, hashPassword, verifyPassword } from "./passwords.js";

describe("passwords", () => {
  it("hashes with scrypt and a fresh salt, and verifies only the right password", async () => {
    const a = await hashPassword("correct horse battery");
    const b = await hashPassword("correct horse battery");
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse battery", a)).toBe(true);
    expect(await verifyPassword("correct horse batterY", a)).toBe(false);
    expect(await verifyPassword("", a)).toBe(false);
  });

  it("never matches a malformed or tampered hash", async () => {
    const good = await hashPassword("secret-secret");
    const parts = good.split("$");
    expect(await verifyPassword("secret-secret", parts.slice(0, 5).join("$"))).toBe(false);
    expect(await verifyPassword("secret-secret", ["bcrypt", ...parts.slice(1)].join("$"))).toBe(false);
    expect(await verifyPassword("secret-secret", ["scrypt", String(1 << 24), ...parts.slice(2)].join("$"))).toBe(false);
    expect(await verifyPassword("secret-secret", [...parts.slice(0, 5), Buffer.alloc(32).toString("base64url")].join("$"))).toBe(false);
    expect(await verifyPassword("", UNMATCHABLE_HASH)).toBe(false);
  });

  it("generates long passwords from an unambiguous alphabet", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      expect(p).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{20}$/);
      expect(p).not.toMatch(/[01lIoO]/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
  });
});
