import { ConfigError, loadConfig } from "@picket/runtime";
import { describe, expect, it } from "vitest";
import { cameraConfig, cameraProfiles, checkCameraConfig } from "./config.js";
import { QualityPresets } from "@picket/contracts";
import { MAX_PROFILES, ProfileError, parseProfileList, presetsOfProfiles, profilesOfPresets, resolveProfiles, sameProfiles } from "./profiles.js";

const camera = { width: 1280, height: 720, bitrateKbps: 2000, fps: 25 };

describe("parseProfileList", () => {
  it("reads name:WIDTHxHEIGHT@kbps entries, spaces around commas allowed", () => {
    expect(parseProfileList("high:1280x720@2000, low:640x360@400")).toEqual([
      { name: "high", width: 1280, height: 720, bitrateKbps: 2000 },
      { name: "low", width: 640, height: 360, bitrateKbps: 400 },
    ]);
  });

  it("reads an optional /fps after the bitrate", () => {
    expect(parseProfileList("high:1280x720@2000/15,low:640x360@400")).toEqual([
      { name: "high", width: 1280, height: 720, bitrateKbps: 2000, fps: 15 },
      { name: "low", width: 640, height: 360, bitrateKbps: 400 },
    ]);
  });

  it("lets the first entry be a bare name, which takes the camera's size", () => {
    expect(parseProfileList("high")).toEqual([{ name: "high" }]);
    expect(parseProfileList("main,sd:640x360@400")).toEqual([{ name: "main" }, { name: "sd", width: 640, height: 360, bitrateKbps: 400 }]);
  });

  it.each([
    ["high:1280x720", /is not name:WIDTHxHEIGHT@kbps/],
    ["high:1280*720@2000", /is not name:WIDTHxHEIGHT@kbps/],
    ["high:1280x720@2000k", /is not name:WIDTHxHEIGHT@kbps/],
    ["high,,low:640x360@400", /profile 2 is empty/],
    ["high,", /profile 2 is empty/],
    ["high,low", /"low" needs its size and bitrate, e.g. low:640x360@400/],
    ["High:1280x720@2000", /profile name "High" must be 1–32 of a–z 0–9 _ -/],
    ["hi.gh", /is not name|must be 1–32/],
    [":1280x720@2000", /profile name "" must be/],
    ["auto:1280x720@2000", /"auto" is what a viewer asks for/],
    ["high:1281x720@2000", /must have an even width and height/],
    ["high:1280x720@50", /kbps 50 is outside 100–20000/],
    ["high:8000x720@2000", /width 8000 is outside 160–3840/],
    ["high:1280x100@2000", /height 100 is outside 120–2160/],
    ["high:1280x720@2000/0", /fps 0 is outside 1–60/],
    ["high:1280x720@2000/61", /fps 61 is outside 1–60/],
    ["high:1280x720@2000/", /is not name:WIDTHxHEIGHT@kbps\[\/fps\]/],
    ["high/10", /profile name "high\/10" must be/],
  ])("refuses %j with a clear error", (raw, message) => {
    expect(() => parseProfileList(raw)).toThrow(ProfileError);
    expect(() => parseProfileList(raw)).toThrow(message);
  });

  it(`allows at most ${MAX_PROFILES} profiles`, () => {
    const list = ["a", "b:640x360@400", "c:480x270@300", "d:320x180@200", "e:320x180@100"];
    expect(parseProfileList(list.slice(0, MAX_PROFILES).join(","))).toHaveLength(MAX_PROFILES);
    expect(() => parseProfileList(list.join(","))).toThrow(/at most 4 profiles/);
  });
});

describe("resolveProfiles", () => {
  it("defaults to high at the camera's size plus low 640x360 at 400 kbps", () => {
    expect(resolveProfiles(undefined, camera)).toEqual([
      { name: "high", width: 1280, height: 720, bitrateKbps: 2000, fps: 25 },
      { name: "low", width: 640, height: 360, bitrateKbps: 400, fps: 25 },
    ]);
    expect(resolveProfiles(undefined, { width: 1920, height: 1080, bitrateKbps: 4000, fps: 25 })[0]).toEqual({ name: "high", width: 1920, height: 1080, bitrateKbps: 4000, fps: 25 });
  });

  it("makes the default low in the camera's shape, and none for a camera not wider than 640", () => {
    expect(resolveProfiles(undefined, { width: 1280, height: 960, bitrateKbps: 2000, fps: 25 })[1]).toEqual({ name: "low", width: 640, height: 480, bitrateKbps: 400, fps: 25 });
    expect(resolveProfiles(undefined, { width: 640, height: 480, bitrateKbps: 1000, fps: 25 })).toEqual([{ name: "high", width: 640, height: 480, bitrateKbps: 1000, fps: 25 }]);
    expect(resolveProfiles(undefined, { width: 320, height: 240, bitrateKbps: 500, fps: 25 })).toHaveLength(1);
  });

  it("names the first profile after the deprecated PICKET_CAMERA_PROFILE, without a second low", () => {
    expect(resolveProfiles(undefined, { ...camera, legacyName: "hd" }).map((p) => p.name)).toEqual(["hd", "low"]);
    expect(resolveProfiles(undefined, { ...camera, legacyName: "low" })).toEqual([{ name: "low", width: 1280, height: 720, bitrateKbps: 2000, fps: 25 }]);
  });

  it("gives a bare first name the camera's size, and an explicit one its own", () => {
    expect(resolveProfiles([{ name: "high" }], camera)).toEqual([{ name: "high", ...camera }]);
    expect(resolveProfiles(parseProfileList("main:1920x1080@4000,sd:640x360@400"), camera)[0]).toEqual({ name: "main", width: 1920, height: 1080, bitrateKbps: 4000, fps: 25 });
  });

  it("gives every profile without its own fps the camera's", () => {
    expect(resolveProfiles(parseProfileList("high,low:640x360@400/10,tiny:320x180@200"), camera).map((p) => p.fps)).toEqual([25, 10, 25]);
    expect(resolveProfiles(parseProfileList("high:1280x720@2000/12"), camera)[0]?.fps).toBe(12);
  });

  it("refuses a name used twice", () => {
    expect(() => resolveProfiles(parseProfileList("high,low:640x360@400,low:320x180@200"), camera)).toThrow('profile name "low" appears twice');
  });

  it("refuses a later profile larger than the first, in either dimension", () => {
    expect(() => resolveProfiles(parseProfileList("high,big:1920x1080@4000"), camera)).toThrow("big (1920x1080) is larger than the first profile high (1280x720)");
    expect(() => resolveProfiles(parseProfileList("high:640x360@400,tall:320x480@300"), camera)).toThrow(/tall \(320x480\) is larger/);
    expect(resolveProfiles(parseProfileList("high,same:1280x720@1000"), camera)).toHaveLength(2);
  });

  it("refuses a PICKET_CAMERA_PROFILE that disagrees with the list's first name, and accepts one that agrees", () => {
    expect(() => resolveProfiles(parseProfileList("main,low:640x360@400"), { ...camera, legacyName: "high" })).toThrow(/PICKET_CAMERA_PROFILE \(high\) is deprecated and disagrees .* \(main\); unset it/);
    expect(resolveProfiles(parseProfileList("high,low:640x360@400"), { ...camera, legacyName: "high" })).toHaveLength(2);
  });
});

describe("presets and profiles", () => {
  const profiles = resolveProfiles(parseProfileList("high,low:640x360@400/10"), camera);

  it("shows configured profiles as valid QualityPresets: phones on the last, desktops on the first", () => {
    const presets = presetsOfProfiles(profiles);
    expect(QualityPresets.parse(presets)).toEqual({
      presets: [
        { name: "high", width: 1280, height: 720, bitrateKbps: 2000, fps: 25 },
        { name: "low", width: 640, height: 360, bitrateKbps: 400, fps: 10 },
      ],
      phone: "low",
      desktop: "high",
    });
    expect(profilesOfPresets(presets)).toEqual(profiles);
    expect(presetsOfProfiles(profiles.slice(0, 1))).toMatchObject({ phone: "high", desktop: "high" });
  });

  it("tells a change of any size, rate, bitrate, name or order from none", () => {
    expect(sameProfiles(profiles, resolveProfiles(parseProfileList("high,low:640x360@400/10"), camera))).toBe(true);
    for (const other of ["high,low:640x360@400/11", "high,low:640x360@401/10", "high,low:640x352@400/10", "high,lo:640x360@400/10", "high"]) {
      expect(sameProfiles(profiles, resolveProfiles(parseProfileList(other), camera)), other).toBe(false);
    }
    expect(sameProfiles(profiles, [...profiles].reverse())).toBe(false);
  });
});

describe("camera config", () => {
  const load = (env: Record<string, string>) => loadConfig(cameraConfig, env);

  it("keeps PICKET_CAMERA_WIDTH, _HEIGHT and _BITRATE_KBPS as the first profile's values", () => {
    const cfg = load({ PICKET_CAMERA_WIDTH: "1920", PICKET_CAMERA_HEIGHT: "1080", PICKET_CAMERA_BITRATE_KBPS: "3000" });
    expect(checkCameraConfig(cfg)).toEqual([]);
    expect(cameraProfiles(cfg)).toEqual([
      { name: "high", width: 1920, height: 1080, bitrateKbps: 3000, fps: 25 },
      { name: "low", width: 640, height: 360, bitrateKbps: 400, fps: 25 },
    ]);
  });

  it("gives profiles PICKET_CAMERA_FPS unless they name their own", () => {
    expect(cameraProfiles(load({ PICKET_CAMERA_FPS: "12", PICKET_CAMERA_PROFILES: "high,low:640x360@400/6" })).map((p) => p.fps)).toEqual([12, 6]);
  });

  it("PICKET_CAMERA_PROFILES=high encodes one profile", () => {
    expect(cameraProfiles(load({ PICKET_CAMERA_PROFILES: "high" }))).toEqual([{ name: "high", width: 1280, height: 720, bitrateKbps: 2000, fps: 25 }]);
  });

  it("names the variable when its syntax is bad", () => {
    expect(() => load({ PICKET_CAMERA_PROFILES: "high,low:640x360" })).toThrow(ConfigError);
    expect(() => load({ PICKET_CAMERA_PROFILES: "high,low:640x360" })).toThrow(/PICKET_CAMERA_PROFILES \(got "high,low:640x360"\): "low:640x360" is not name:WIDTHxHEIGHT@kbps/);
  });

  it("reports problems between settings as lines naming the variable", () => {
    expect(checkCameraConfig(load({ PICKET_CAMERA_WIDTH: "320", PICKET_CAMERA_HEIGHT: "240", PICKET_CAMERA_PROFILES: "high,low:640x360@400" }))).toEqual([
      "PICKET_CAMERA_PROFILES: low (640x360) is larger than the first profile high (320x240), which is the camera's own picture",
    ]);
    expect(checkCameraConfig(load({ PICKET_CAMERA_PROFILES: "main,low:640x360@400", PICKET_CAMERA_PROFILE: "high" }))[0]).toMatch(/^PICKET_CAMERA_PROFILES: PICKET_CAMERA_PROFILE \(high\) is deprecated/);
  });
});
