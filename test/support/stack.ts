import type { NatsConnection } from "@picket/runtime";
import { testBus } from "./bus.js";
import { startNats, type NatsOptions, type NatsServer } from "./nats.js";
import { ServiceProcess, baseEnv } from "./services.js";

export type ServiceName = "camera" | "pir" | "bot" | "stream" | "web";

export interface Stack {
  nats: NatsServer;
  device: string;
  services: Partial<Record<ServiceName, ServiceProcess>>;
  get(name: ServiceName): ServiceProcess;
  /** Stops services in reverse start order, then nats; returns each service's exit code. */
  stop(): Promise<Record<string, { code: number | null; ms: number }>>;
}

/** Ready when each service has logged this (after its start-up finished). */
export const READY: Record<ServiceName, RegExp> = {
  camera: /^stream parameters$|^camera on demand/,
  pir: /^simulated PIR|^PIR on GPIO/,
  bot: /^bot (is )?(polling|off|taking updates)/,
  stream: /^serving viewers/,
  web: /^web UI on/,
};

/**
 * A real nats-server and the named services started in order, each waited for until it says
 * it is ready. `env` applies to every service (per-service env in `envFor`).
 */
export async function startStack(opts: {
  services: ServiceName[];
  device?: string;
  env?: Record<string, string>;
  envFor?: Partial<Record<ServiceName, Record<string, string>>>;
  nats?: NatsOptions;
}): Promise<Stack> {
  const nats = await startNats(opts.nats);
  const device = opts.device ?? `dev-${Math.random().toString(36).slice(2, 8)}`;
  const services: Partial<Record<ServiceName, ServiceProcess>> = {};
  const order: ServiceName[] = [];
  const stack: Stack = {
    nats,
    device,
    services,
    get(name) {
      const s = services[name];
      if (s === undefined) throw new Error(`${name} is not part of this stack`);
      return s;
    },
    async stop() {
      const codes: Record<string, { code: number | null; ms: number }> = {};
      for (const name of [...order].reverse()) codes[name] = await (services[name] as ServiceProcess).stop();
      await nats.dispose();
      return codes;
    },
  };
  try {
    for (const name of opts.services) {
      const proc = new ServiceProcess(name, { ...baseEnv(nats.url, device), ...opts.env, ...opts.envFor?.[name] });
      services[name] = proc;
      order.push(name);
      await proc.waitForLog((l) => READY[name].test(l.msg), 20_000, `${name} ready`);
    }
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
  return stack;
}

/** A test's teardown steps, run in reverse after each test. */
export type Cleanups = (() => Promise<unknown>)[];

/** nats and the camera alone, with a bus connection for the test; torn down by `cleanups`. */
export async function startCameraStack(cleanups: Cleanups, env: Record<string, string> = {}): Promise<{ stack: Stack; nc: NatsConnection }> {
  const stack = await startStack({ services: ["camera"], env });
  cleanups.push(() => stack.stop());
  const nc = await testBus(stack.nats.url);
  cleanups.push(() => nc.close());
  return { stack, nc };
}
