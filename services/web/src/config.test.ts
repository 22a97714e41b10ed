import { describe, expect, it } from "vitest";
import { parseTrustedProxies } from "./config.js";

describe("PICKET_HTTP_TRUST_PROXY", () => {
  it("takes proxies' addresses and ranges", () => {
    expect(parseTrustedProxies("")).toEqual([]);
    expect(parseTrustedProxies("127.0.0.1, 172.16.0.0/12,::1,fd00::/8")).toEqual(["127.0.0.1", "172.16.0.0/12", "::1", "fd00::/8"]);
  });

  it("refuses anything else, with what it wants, and never `true` (any client could claim any address)", () => {
    for (const bad of ["true", "proxy.lan", "10.0.0.0/33", "1.2.3.4/8/1", "::1/129"]) expect(() => parseTrustedProxies(bad), bad).toThrow(/not an address or range/);
  });
});
