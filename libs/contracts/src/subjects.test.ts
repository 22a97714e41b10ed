import { describe, expect, it } from "vitest";
import { decodeCameraNames, isDeviceId, parseSubject, subjects, toDeviceId } from "./subjects.js";

describe("isDeviceId", () => {
  it("accepts one subject token of letters, digits, - and _", () => {
    for (const id of ["pi", "front-door", "Garage_2", "a", "x".repeat(64)]) expect(isDeviceId(id)).toBe(true);
  });

  it("rejects anything that would change the subject's shape or is too long", () => {
    for (const id of ["", "pi.local", "a*", ">", "a b", "front/door", "x".repeat(65), "dévice"]) expect(isDeviceId(id)).toBe(false);
  });
});

describe("toDeviceId", () => {
  it("turns host names into valid device ids", () => {
    expect(toDeviceId("pi.local")).toBe("pi-local");
    expect(toDeviceId("front door (2)")).toBe("front-door-2");
    expect(toDeviceId("..edge..")).toBe("edge");
  });

  it("falls back to picket when nothing usable is left", () => {
    expect(toDeviceId("")).toBe("picket");
    expect(toDeviceId("...")).toBe("picket");
  });

  it("always returns a valid device id, even for long or odd names", () => {
    for (const host of ["a".repeat(200), "ünïcödé-höst", "a.b.c.d.e", "-x-", "名前"]) expect(isDeviceId(toDeviceId(host))).toBe(true);
  });
});

describe("parseSubject", () => {
  it("splits a picket subject into device and the rest", () => {
    expect(parseSubject(subjects.video("pi", "high"))).toEqual({ device: "pi", rest: ["video", "high"] });
    expect(parseSubject(subjects.heartbeat("garage", "camera"))).toEqual({ device: "garage", rest: ["heartbeat", "camera"] });
  });

  it("rejects other prefixes, too few tokens and wildcard devices", () => {
    expect(parseSubject("other.pi.video.high")).toBeUndefined();
    expect(parseSubject("picket.pi")).toBeUndefined();
    expect(parseSubject("picket")).toBeUndefined();
    expect(parseSubject("")).toBeUndefined();
    expect(parseSubject("picket.*.video.high")).toBeUndefined();
    expect(parseSubject("picket..video")).toBeUndefined();
  });
});

describe("decodeCameraNames", () => {
  it("decodes a camera named in a URL path, and refuses bad names and malformed escapes", () => {
    expect(decodeCameraNames("front%2Ddoor", "high")).toEqual({ device: "front-door", profile: "high" });
    for (const [d, p] of [["..%2F..%2Fetc", "high"], ["dev", "HIGH!"], ["%zz", "high"], ["dev", ""]]) expect(decodeCameraNames(d as string, p as string)).toBeUndefined();
  });
});
