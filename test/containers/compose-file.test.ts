// docker-compose.yml and balena.yml against the services' own config schemas, without Docker:
// every setting a user may change reaches its service, nothing is passed that no service
// reads, balena's fleet defaults are the services' defaults, and the container rules of
// issue 8 hold (not privileged, only the web port published, restart, stop grace, health).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, type ConfigSpec } from "@picket/runtime";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { botConfig } from "../../services/bot/src/config.js";
import { cameraConfig } from "../../services/camera/src/config.js";
import { pirConfig } from "../../services/pir/src/config.js";
import { streamConfig } from "../../services/stream/src/config.js";
import { webConfig } from "../../services/web/src/config.js";
import { ROOT, localCompose } from "../../scripts/docker/local-compose.js";

const specs: Record<string, ConfigSpec> = { camera: cameraConfig, pir: pirConfig, bot: botConfig, stream: streamConfig, web: webConfig };

/** Variables a service reads that docker-compose.yml deliberately does not pass through, and why. */
const NOT_PASSED: Record<string, string> = {
  PICKET_HTTP_PORT: "wiring: the port mapping and healthcheck assume 8080",
  PICKET_HTTP_HOST: "wiring: 0.0.0.0 in a container (the default)",
  PICKET_STREAM_PORT: "wiring: the web reaches ws://stream:8081",
  PICKET_CAMERA_OPS_PORT: "wiring: the healthcheck's port",
  PICKET_PIR_OPS_PORT: "wiring: the healthcheck's port",
  PICKET_BOT_OPS_PORT: "wiring: the healthcheck's port",
  PICKET_WEB_OPS_PORT: "wiring: nothing outside the container scrapes it here",
  PICKET_PIR_SIM_SIGNAL: "for tests of the process, not a deployment setting",
  PICKET_EXIT_WITH_PARENT: "npm start's launcher; in a container the service is PID 1",
  PICKET_TELEGRAM_WEBHOOK_URL: "webhooks need an inbound port the stack does not publish (long polling works everywhere)",
  PICKET_TELEGRAM_WEBHOOK_SECRET: "as PICKET_TELEGRAM_WEBHOOK_URL",
  PICKET_TELEGRAM_WEBHOOK_PORT: "as PICKET_TELEGRAM_WEBHOOK_URL",
};

interface ComposeService {
  environment?: Record<string, string | null>;
  ports?: string[];
  privileged?: boolean;
  restart?: string;
  stop_grace_period?: string;
  healthcheck?: Record<string, unknown>;
  labels?: Record<string, string>;
  devices?: string[];
  cap_add?: string[];
}

const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as { version: string; services: Record<string, ComposeService> };

describe("docker-compose.yml", () => {
  it("passes every variable a service reads, except its wiring, and none that it does not read", () => {
    for (const [name, spec] of Object.entries(specs)) {
      const reads = new Set(Object.values(spec).map((e) => e.env));
      const passed = new Set(Object.keys(compose.services[name]?.environment ?? {}));
      const missing = [...reads].filter((v) => !passed.has(v) && NOT_PASSED[v] === undefined);
      const unknown = [...passed].filter((v) => !reads.has(v));
      expect({ service: name, missing }).toEqual({ service: name, missing: [] });
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  it("runs no service privileged or with added capabilities, publishes the web port alone, and gives every service a restart policy, 10 s to stop and a healthcheck", () => {
    expect(compose.version).toBe("2.4");
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.privileged ?? false, name).toBe(false);
      expect(svc.cap_add ?? [], name).toEqual([]);
      expect(svc.ports ?? [], name).toEqual(name === "web" ? ["8080:8080"] : []);
      expect(svc.restart, name).toBe("unless-stopped");
      expect(svc.stop_grace_period, name).toBe("10s");
      expect(svc.healthcheck, name).toBeDefined();
      // No balena feature labels but the pir's sysfs (onoff's GPIO).
      const features = Object.keys(svc.labels ?? {}).filter((l) => l.startsWith("io.balena.features."));
      expect(features, name).toEqual(name === "pir" ? ["io.balena.features.sysfs"] : []);
    }
    expect(compose.services.camera?.devices).toEqual(["/dev/video0", "/dev/dma_heap"]);
    for (const name of ["nats", "pir", "bot", "stream", "web"]) expect(compose.services[name]?.devices, name).toBeUndefined();
  });

  it("never lets balena run two camera containers at once (no hand-over update strategy)", () => {
    const strategy = compose.services.camera?.labels?.["io.balena.update.strategy"];
    expect(["download-then-kill", "kill-then-download", "delete-then-download"]).toContain(strategy);
  });

  it("has a local variant for machines without a registry or Pi hardware that differs only where it says", () => {
    const local = parse(localCompose(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), { web: "127.0.0.1:18080" })) as { services: Record<string, ComposeService & { image: string; build?: unknown; volumes?: string[] }> };
    expect(local.services.nats?.image).toBe("picket-nats:2.9-bookworm");
    expect(local.services.camera?.image).toBe("picket-camera:local");
    expect(local.services.camera?.build).toBeUndefined();
    expect(local.services.camera?.devices).toBeUndefined();
    expect(local.services.pir?.volumes).toEqual(["pir-data:/data"]);
    expect(local.services.web?.ports).toEqual(["127.0.0.1:18080:8080"]);
    expect(local.services.web?.environment).toEqual(compose.services.web?.environment);
  });
});

describe("balena.yml", () => {
  const balena = parse(readFileSync(join(ROOT, "balena.yml"), "utf8")) as { data: { applicationEnvironmentVariables: Record<string, string>[] } };
  const vars = Object.assign({}, ...balena.data.applicationEnvironmentVariables) as Record<string, string>;

  it("starts a new fleet with the services' own defaults", () => {
    // The device id is meant to be set per device; the rest must change nothing.
    const { PICKET_DEVICE_ID: _id, ...rest } = vars;
    for (const [name, spec] of Object.entries(specs)) {
      const { deviceId: _a, ...withFleet } = loadConfig(spec, rest) as Record<string, unknown>;
      const { deviceId: _b, ...without } = loadConfig(spec, {}) as Record<string, unknown>;
      expect(withFleet, name).toEqual(without);
    }
  });

  it("names only variables some service reads", () => {
    const read = new Set(Object.values(specs).flatMap((s) => Object.values(s).map((e) => e.env)));
    expect(Object.keys(vars).filter((v) => !read.has(v))).toEqual([]);
  });
});
