// Every service's configuration spec, for the config family's full run.
import { botConfig, checkBotConfig } from "../../../services/bot/src/config.js";
import { cameraConfig, checkCameraConfig, type CameraConfig } from "../../../services/camera/src/config.js";
import { pirConfig } from "../../../services/pir/src/config.js";
import { streamConfig } from "../../../services/stream/src/config.js";
import { webConfig } from "../../../services/web/src/config.js";
import { configFamily, type ConfigUnderTest } from "./configs.js";

export const SERVICE_CONFIGS: ConfigUnderTest[] = [
  { name: "camera", spec: cameraConfig, check: (cfg: CameraConfig) => checkCameraConfig(cfg) },
  { name: "pir", spec: pirConfig },
  { name: "bot", spec: botConfig, check: checkBotConfig },
  { name: "stream", spec: streamConfig },
  { name: "web", spec: webConfig },
] as ConfigUnderTest[];

export const serviceConfigFamilies = [configFamily(SERVICE_CONFIGS, "service configuration from the environment (camera, pir, bot, stream, web specs through loadConfig)")];
