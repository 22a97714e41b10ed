// Every bad-input property family: the unit project runs each beside its module
// (`*.property.test.ts`), test/bad-input/families.test.ts runs them all with more cases and
// records them for docs/RELIABILITY.md.
import type { BadInputFamily } from "./properties/family.js";
import { botInputFamilies } from "./properties/bot-input.js";
import { cameraStreamFamilies } from "./properties/camera-streams.js";
import { h264Families } from "./properties/h264.js";
import { liveTokenFamilies } from "./properties/live-token.js";
import { liveFamilies } from "./properties/live.js";
import { pairingFamilies } from "./properties/pairing.js";
import { payloadFamilies } from "./properties/payloads.js";
import { serviceConfigFamilies } from "./properties/service-configs.js";

export { runFamily, SEED, type BadInputFamily } from "./properties/family.js";

export const FAMILIES: BadInputFamily[] = [
  ...h264Families,
  ...cameraStreamFamilies,
  ...payloadFamilies,
  ...liveFamilies,
  ...liveTokenFamilies,
  ...serviceConfigFamilies,
  ...botInputFamilies,
  ...pairingFamilies,
];

/** The integration run tries this many times the unit project's cases. */
export const FULL_SCALE = 5;
