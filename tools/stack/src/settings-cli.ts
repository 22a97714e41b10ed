import { MotionSettings, parseArming, settingsKeys } from "@picket/contracts";
import { openSettings } from "@picket/runtime";
import { cliTarget, connectCli } from "./cli-bus.js";

/**
 * `npm run settings -- <command>` reads and changes a running device's live settings (the
 * `picket-settings` bucket); the services apply a change at once, without a restart.
 *   show                        arming and motion settings
 *   arming armed|disarmed       arm or disarm
 *   arming '<json>'             a weekly schedule, e.g.
 *                               '{"mode":"scheduled","schedule":[{"days":[1,2,3,4,5],"from":"08:00","to":"18:00"}]}'
 *   motion '<json>'             sensitivity, masks and zones, e.g.
 *                               '{"sensitivity":6,"masks":[[[0,0],[0.3,0],[0.3,0.1],[0,0.1]]]}'
 * PICKET_DEVICE_ID and PICKET_NATS_URL select the device and bus, as for the services.
 */
const usage = "usage: npm run settings -- show | arming armed|disarmed|'<schedule json>' | motion '<json>'";
const [command, value] = process.argv.slice(2);
const { device } = cliTarget;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

/** The value to store, checked here so a typo never reaches the services. */
function validated(): { key: string; text: string } | undefined {
  if (command === "show") return undefined;
  if (value === undefined) fail(usage);
  try {
    if (command === "arming") {
      const setting = parseArming(value);
      return { key: settingsKeys.arming(device), text: setting.mode === "scheduled" ? JSON.stringify(setting) : setting.mode };
    }
    if (command === "motion") return { key: settingsKeys.motion(device), text: JSON.stringify(MotionSettings.parse(JSON.parse(value))) };
  } catch (err) {
    const detail = err instanceof SyntaxError ? `not JSON: ${err.message}` : err instanceof Error && "issues" in err ? JSON.stringify((err as { issues: unknown }).issues) : String(err);
    fail(`${command}: ${detail}\n${usage}`);
  }
  fail(usage);
}

const change = validated();
const nc = await connectCli();
try {
  const kv = await openSettings(nc);
  if (change !== undefined) {
    await kv.put(change.key, change.text);
    console.log(`${device}: ${change.key} = ${change.text}`);
  } else {
    for (const key of [settingsKeys.arming(device), settingsKeys.motion(device)]) {
      const entry = await kv.get(key);
      console.log(`${key} = ${entry === null || entry.operation !== "PUT" ? "(default)" : entry.string()}`);
    }
  }
} finally {
  await nc.close();
}
