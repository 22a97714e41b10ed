import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cameraConfig } from "../services/camera/src/config.js";
import { pirConfig } from "../services/pir/src/config.js";
import { botConfig } from "../services/bot/src/config.js";
import { streamConfig } from "../services/stream/src/config.js";
import { webConfig } from "../services/web/src/config.js";
import { fleetConfig } from "../services/fleet/src/config.js";
import { haConfig } from "../services/ha/src/config.js";
import { ROOT } from "./support/services.js";

describe("README", () => {
  it("documents every PICKET_ variable a service reads", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const vars = [cameraConfig, pirConfig, botConfig, streamConfig, webConfig, fleetConfig, haConfig].flatMap((spec) => Object.values(spec).map((e) => e.env));
    const missing = [...new Set(vars)].filter((v) => !readme.includes(`| \`${v}\` |`));
    expect(missing).toEqual([]);
  });
});
