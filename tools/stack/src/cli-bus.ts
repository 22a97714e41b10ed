import { hostname } from "node:os";
import { toDeviceId } from "@picket/contracts";
import { connect, type NatsConnection } from "@picket/runtime";

/** The device and bus a command-line tool talks to: PICKET_DEVICE_ID and PICKET_NATS_URL, as for the services. */
export const cliTarget = {
  device: process.env.PICKET_DEVICE_ID || toDeviceId(hostname()),
  url: process.env.PICKET_NATS_URL || "nats://127.0.0.1:4222",
};

/** Connects, or exits 1 with one line saying the stack seems not to run. */
export function connectCli(): Promise<NatsConnection> {
  return connect({ servers: cliTarget.url, timeout: 3_000 }).catch((err: Error) => {
    console.error(`cannot reach NATS at ${cliTarget.url}: ${err.message} (is \`npm start\` running?)`);
    process.exit(1);
  });
}
