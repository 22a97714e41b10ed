import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, commonConfig, env, isConfigError, loadConfig, type ConfigSpec } from "./config.js";

const spec = {
  port: { env: "PICKET_T_PORT", schema: env.port(8080), doc: "" },
  retries: { env: "PICKET_T_RETRIES", schema: env.int(3, 0, 10), doc: "" },
  verbose: { env: "PICKET_T_VERBOSE", schema: env.bool(false), doc: "" },
  mode: { env: "PICKET_T_MODE", schema: env.oneOf(["fast", "slow"], "fast"), doc: "" },
  upstream: { env: "PICKET_T_UPSTREAM", schema: env.url("http://127.0.0.1:1", ["http:", "https:"]), doc: "" },
  name: { env: "PICKET_T_NAME", schema: env.str("cam"), doc: "" },
  token: { env: "PICKET_T_TOKEN", schema: z.string().regex(/^\d+:[\w-]{30,}$/, "must look like a bot token"), doc: "", secret: true },
} satisfies ConfigSpec;

const goodToken = "123456789:AAH-abcdefghijklmnopqrstuvwxyz0123";

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(isConfigError(err)).toBe(true);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies defaults when variables are unset or blank", () => {
    expect(loadConfig(spec, { PICKET_T_TOKEN: goodToken, PICKET_T_PORT: "", PICKET_T_MODE: "   " })).toEqual({
      port: 8080,
      retries: 3,
      verbose: false,
      mode: "fast",
      upstream: "http://127.0.0.1:1",
      name: "cam",
      token: goodToken,
    });
  });

  it("parses and trims every kind of value", () => {
    const cfg = loadConfig(spec, {
      PICKET_T_PORT: " 0 ",
      PICKET_T_RETRIES: "10",
      PICKET_T_VERBOSE: "yes",
      PICKET_T_MODE: "slow",
      PICKET_T_UPSTREAM: "https://example.com/x",
      PICKET_T_NAME: "door",
      PICKET_T_TOKEN: goodToken,
    });
    expect(cfg).toMatchObject({ port: 0, retries: 10, verbose: true, mode: "slow", upstream: "https://example.com/x", name: "door" });
  });

  it("reports every bad variable at once, each by name", () => {
    const err = configError(() =>
      loadConfig(spec, {
        PICKET_T_PORT: "70000",
        PICKET_T_RETRIES: "three",
        PICKET_T_VERBOSE: "maybe",
        PICKET_T_MODE: "medium",
        PICKET_T_UPSTREAM: "ftp://example.com",
        PICKET_T_TOKEN: goodToken,
      }),
    );
    expect(err.problems).toHaveLength(5);
    for (const name of ["PICKET_T_PORT", "PICKET_T_RETRIES", "PICKET_T_VERBOSE", "PICKET_T_MODE", "PICKET_T_UPSTREAM"]) {
      expect(err.message).toContain(name);
    }
    expect(err.problems.find((p) => p.startsWith("PICKET_T_PORT"))).toContain("≤ 65535");
    expect(err.problems.find((p) => p.startsWith("PICKET_T_RETRIES"))).toContain("must be an integer");
    expect(err.problems.find((p) => p.startsWith("PICKET_T_VERBOSE"))).toContain("true or false");
    expect(err.problems.find((p) => p.startsWith("PICKET_T_MODE"))).toContain("fast, slow");
    expect(err.problems.find((p) => p.startsWith("PICKET_T_UPSTREAM"))).toContain("http: or https:");
  });

  it("shows a bad non-secret value so the user can see the typo", () => {
    expect(configError(() => loadConfig(spec, { PICKET_T_MODE: "medium", PICKET_T_TOKEN: goodToken })).message).toContain('"medium"');
  });

  it("never shows a secret's value, and still names it", () => {
    const secret = "987654:this-is-secret";
    const err = configError(() => loadConfig(spec, { PICKET_T_TOKEN: secret }));
    expect(err.message).toContain("PICKET_T_TOKEN");
    expect(err.message).not.toContain("this-is-secret");
    expect(err.message).not.toContain("987654");
  });

  it("reports a missing required value", () => {
    expect(configError(() => loadConfig(spec, {})).problems).toEqual([expect.stringMatching(/^PICKET_T_TOKEN: /)]);
  });
});

describe("env helpers", () => {
  const one = <S extends z.ZodType>(schema: S, value: string | undefined) => schema.safeParse(value);

  it("int accepts the bounds and rejects outside them or non-integers", () => {
    const s = env.int(5, -2, 9);
    expect(one(s, "-2").data).toBe(-2);
    expect(one(s, "9").data).toBe(9);
    expect(one(s, undefined).data).toBe(5);
    for (const bad of ["-3", "10", "1.5", "1e3", "0x10", "5 5"]) expect(one(s, bad).success).toBe(false);
  });

  it("bool reads the usual spellings", () => {
    const s = env.bool(true);
    for (const yes of ["1", "true", "yes", "on"]) expect(one(s, yes).data).toBe(true);
    for (const no of ["0", "false", "no", "off"]) expect(one(s, no).data).toBe(false);
    expect(one(s, undefined).data).toBe(true);
    expect(one(s, "TRUE").success).toBe(false);
  });

  it("url accepts only the given protocols", () => {
    const s = env.url("nats://127.0.0.1:4222", ["nats:", "tls:"]);
    expect(one(s, "tls://nats.example:4222").data).toBe("tls://nats.example:4222");
    expect(one(s, undefined).data).toBe("nats://127.0.0.1:4222");
    expect(one(s, "http://x").success).toBe(false);
    expect(one(s, "not a url").success).toBe(false);
  });

  it("oneOf accepts only its values", () => {
    const s = env.oneOf(["a", "b"], "b");
    expect(one(s, "a").data).toBe("a");
    expect(one(s, undefined).data).toBe("b");
    expect(one(s, "c").success).toBe(false);
  });
});

describe("commonConfig", () => {
  it("rejects a device id that is not a subject token", () => {
    expect(configError(() => loadConfig(commonConfig, { PICKET_DEVICE_ID: "pi.local" })).message).toContain("PICKET_DEVICE_ID");
  });

  it("defaults to a valid device id and the local NATS server", () => {
    const cfg = loadConfig(commonConfig, {});
    expect(cfg.deviceId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(cfg).toMatchObject({ natsUrl: "nats://127.0.0.1:4222", logLevel: "info", heartbeatMs: 2000 });
  });
});

describe("camera URLs in errors", () => {
  it("never shows a URL's password in a config error", () => {
    const spec = { source: { env: "PICKET_CAMERA_SOURCE", schema: env.parsed("test", (raw: string) => {
      if (raw.includes("bad")) throw new Error(`unknown source "${raw}"`);
      return raw;
    }), doc: "source" } } satisfies ConfigSpec;
    try {
      loadConfig(spec, { PICKET_CAMERA_SOURCE: "rtsp://admin:hunter2@cam.local/bad" });
      expect.unreachable();
    } catch (err) {
      expect(String((err as Error).message)).not.toContain("hunter2");
      expect(String((err as Error).message)).toContain("rtsp://admin:***@cam.local/bad");
    }
  });
});

describe("device id", () => {
  it("takes PICKET_DEVICE_ID, else balena's device name, else the host name", () => {
    const spec = { deviceId: commonConfig.deviceId } satisfies ConfigSpec;
    expect(loadConfig(spec, { PICKET_DEVICE_ID: "porch", BALENA_DEVICE_NAME_AT_INIT: "red-sunset" }).deviceId).toBe("porch");
    expect(loadConfig(spec, { BALENA_DEVICE_NAME_AT_INIT: "red-sunset" }).deviceId).toBe("red-sunset");
    expect(loadConfig(spec, {}).deviceId).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(() => loadConfig(spec, { PICKET_DEVICE_ID: "front door" })).toThrow(/PICKET_DEVICE_ID/);
  });
});
