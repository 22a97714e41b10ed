import { subjects } from "@picket/contracts";
import { cliTarget, connectCli } from "./cli-bus.js";

/**
 * `npm run pir -- <command>` drives a running stack's simulated PIR and test alarm:
 *   pulse [ms]    PIR high for ms (default 2000), then low
 *   level 0|1     set the PIR level
 *   test-alarm    raise a test alarm through the whole path
 * PICKET_DEVICE_ID and PICKET_NATS_URL select the device and bus, as for the services.
 */
const usage = "usage: npm run pir -- pulse [ms] | level 0|1 | test-alarm";
const [command, arg] = process.argv.slice(2);
const { device } = cliTarget;

let subject: string;
let body: unknown;
if (command === "pulse") {
  const ms = arg === undefined ? 2_000 : Number(arg);
  if (!Number.isInteger(ms) || ms < 1 || ms > 60_000) throw new Error(`pulse length must be 1–60000 ms\n${usage}`);
  subject = subjects.pirInject(device);
  body = { pulseMs: ms };
} else if (command === "level" && (arg === "0" || arg === "1")) {
  subject = subjects.pirInject(device);
  body = { level: Number(arg) };
} else if (command === "test-alarm") {
  subject = subjects.testAlarm(device);
  body = { requestedBy: "cli" };
} else {
  console.error(usage);
  process.exit(2);
}

const nc = await connectCli();
try {
  const reply = await nc.request(subject, JSON.stringify(body), { timeout: 10_000 });
  console.log(`${device}: ${reply.string()}`);
} catch (err) {
  console.error(`${device}: no answer on ${subject} (${(err as Error).message}); is the pir service running with PICKET_PIR=sim?`);
  process.exitCode = 1;
} finally {
  await nc.close();
}
