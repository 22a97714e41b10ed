/**
 * Service settings for benches that time one alarm per PIR pulse: PIR alone raises the
 * alarm, and a presence ends 1 s after the emulated sensor's 1 s hold, with no block time
 * and no cooldown, so the next pulse is a new visit soon after. The test scene does not
 * drive the PIR.
 */
export const ONE_VISIT_PER_PULSE: Record<string, string> = {
  PICKET_PRESENCE_MODE: "pir",
  PICKET_PRESENCE_COOLDOWN_MS: "0",
  PICKET_PRESENCE_GAP_MS: "1000",
  PICKET_PIR_HOLD_S: "1",
  PICKET_PIR_BLOCK_MS: "0",
  PICKET_TEST_SCENE_PIR: "false",
};
