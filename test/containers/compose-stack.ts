// The device stack as containers, for the container tests and the images/cold-start
// benchmarks: docker-compose.yml's local variant (scripts/docker/local-compose.ts) brought up
// under its own project name with the Docker CLI and Compose. (testcontainers'
// DockerComposeEnvironment would do the same; it is not installed, see docs/deploy.md.)
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PICKET_SERVICES, ROOT, localComposeFile, type LocalComposeOptions, type PicketService } from "../../scripts/docker/local-compose.js";

const run = promisify(execFile);
export { PICKET_SERVICES, type PicketService };
export type StackService = PicketService | "nats";
export const ALL_SERVICES: StackService[] = ["nats", ...PICKET_SERVICES];

/** The Docker client (scripts/docker/engine.sh picks one that builds with BuildKit). */
export const DOCKER = process.env.PICKET_DOCKER ?? "docker";

/** Why no Docker engine can be used here, or undefined when one answers. */
export async function engineProblem(): Promise<string | undefined> {
  try {
    await run(DOCKER, ["info", "--format", "{{.ServerVersion}}"], { timeout: 15_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    return e.code === "ENOENT" ? `no docker client (${DOCKER})` : `no Docker engine answers: ${(e.stderr ?? e.message).trim().split("\n")[0]}`;
  }
  if ((await composeCommand()) === undefined) return "neither `docker compose` nor docker-compose is installed";
  return undefined;
}

let composeCmd: string[] | undefined;
/** `docker compose` (v2) where installed, else docker-compose (v1, Debian's). */
export async function composeCommand(): Promise<string[] | undefined> {
  if (composeCmd !== undefined) return composeCmd;
  const candidates = process.env.PICKET_COMPOSE !== undefined ? [process.env.PICKET_COMPOSE.split(" ")] : [[DOCKER, "compose"], ["docker-compose"]];
  for (const c of candidates) {
    try {
      await run(c[0] as string, [...c.slice(1), "version"], { timeout: 15_000 });
      composeCmd = c;
      return c;
    } catch {
      // Not this one; try the next.
    }
  }
  return undefined;
}

/** Builds the five service images and the base images if absent (cached by Docker: seconds when nothing changed). */
export function buildImages(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(ROOT, "scripts/docker/build-images.sh")], { stdio: ["ignore", "inherit", "pipe"] });
    let err = "";
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`build-images.sh exited ${code}\n${err.slice(-3000)}`))));
  });
}

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run(DOCKER, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export interface ContainerState {
  id: string;
  running: boolean;
  exitCode: number;
  pid: number;
  restartCount: number;
  startedAt: number;
  finishedAt: number;
  health: string;
}

export interface ComposeStack {
  project: string;
  /** The web UI, as published on the loopback. */
  web: string;
  /** Runs a Compose command for this project; resolves with its output, rejects on a non-zero exit. */
  compose(...args: string[]): Promise<string>;
  /** The container of a service (its id). */
  container(service: StackService): Promise<string>;
  state(service: StackService): Promise<ContainerState>;
  /** A service's log lines parsed as JSON where they are. */
  logs(service: StackService): Promise<Record<string, unknown>[]>;
  /** `down -v`: containers, network and volumes gone. */
  down(): Promise<void>;
}

export interface ComposeStackOptions extends Omit<LocalComposeOptions, "web"> {
  /** Host port for the web (on 127.0.0.1). */
  webPort: number;
  /** Extra bind mounts per service (`host:container`). */
  binds?: Partial<Record<PicketService, string[]>>;
}

/** Writes the local compose file for a new project and returns its handle; nothing is started. */
export async function composeStack(opts: ComposeStackOptions): Promise<ComposeStack> {
  const cmd = await composeCommand();
  if (cmd === undefined) throw new Error("no Compose here");
  const project = `picket-ct-${Math.random().toString(36).slice(2, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), `${project}-`));
  let yaml = localComposeFile({ ...opts, web: `127.0.0.1:${opts.webPort}` });
  if (opts.binds !== undefined) {
    // Appended through the YAML library rather than by hand: parse, add, write.
    const { parse, stringify } = await import("yaml");
    const doc = parse(yaml) as { services: Record<string, { volumes?: string[] }> };
    for (const [name, binds] of Object.entries(opts.binds)) {
      const svc = doc.services[name] as { volumes?: string[] };
      svc.volumes = [...(svc.volumes ?? []), ...(binds ?? [])];
    }
    yaml = stringify(doc, { lineWidth: 0 });
  }
  const file = join(dir, "docker-compose.yml");
  writeFileSync(file, yaml);
  const base = [...cmd.slice(1), "-p", project, "--project-directory", dir, "-f", file];
  const compose = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(cmd[0] as string, [...base, ...args], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
      return stdout + stderr;
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`compose ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
    }
  };
  const container = async (service: StackService) => {
    const id = (await compose("ps", "-q", service)).trim().split("\n")[0] ?? "";
    if (!/^[0-9a-f]{12,}$/.test(id)) throw new Error(`no container for ${service} in ${project}`);
    return id;
  };
  return {
    project,
    web: `http://127.0.0.1:${opts.webPort}`,
    compose,
    container,
    async state(service) {
      const id = await container(service);
      const [s] = JSON.parse(await docker("inspect", id)) as { Id: string; RestartCount: number; State: { Running: boolean; ExitCode: number; Pid: number; StartedAt: string; FinishedAt: string; Health?: { Status: string } } }[];
      if (s === undefined) throw new Error(`docker inspect ${id}: nothing`);
      return {
        id: s.Id,
        running: s.State.Running,
        exitCode: s.State.ExitCode,
        pid: s.State.Pid,
        restartCount: s.RestartCount,
        startedAt: Date.parse(s.State.StartedAt),
        finishedAt: Date.parse(s.State.FinishedAt),
        health: s.State.Health?.Status ?? "none",
      };
    },
    async logs(service) {
      const { stdout, stderr } = await run(DOCKER, ["logs", await container(service)], { maxBuffer: 64 * 1024 * 1024 });
      return (stdout + stderr)
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return { msg: l };
          }
        });
    },
    async down() {
      await compose("down", "-v", "--remove-orphans", "-t", "10").catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The address containers reach this host on: what `host-gateway` resolves to in a container (Docker's default bridge). */
export async function hostGatewayAddress(image = "picket-debian:bookworm"): Promise<string> {
  const out = await docker("run", "--rm", "--network", "none", "--add-host", "gateway.probe:host-gateway", image, "getent", "hosts", "gateway.probe");
  const ip = out.trim().split(/\s+/)[0] ?? "";
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new Error(`host-gateway resolves to no IPv4 address: ${out}`);
  return ip;
}

/** A TCP relay from `host:port` to a loopback port, so containers reach a server that listens on 127.0.0.1 only. */
export async function relay(host: string, target: number): Promise<{ port: number; close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(target, "127.0.0.1");
    for (const s of [inbound, outbound]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => (s === inbound ? outbound : inbound).destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}

/** The services' settings for a test stack: its device, a Bot API server, the tests' web password and live secret. */
export function stackEnv(opts: { device: string; apiRoot: string; token: string; chat: string; liveSecret: string; adminPassword: string }): NonNullable<LocalComposeOptions["env"]> {
  const common = { PICKET_DEVICE_ID: opts.device, PICKET_LOG_LEVEL: "info", PICKET_HEARTBEAT_MS: "1000" };
  return {
    // The test scene's person would raise alarms of its own.
    camera: { ...common, PICKET_TEST_SCENE_PIR: "false" },
    pir: common,
    bot: {
      ...common,
      PICKET_TELEGRAM_TOKEN: opts.token,
      PICKET_TELEGRAM_CHATS: opts.chat,
      PICKET_TELEGRAM_API_ROOT: opts.apiRoot,
      PICKET_TELEGRAM_UPLOAD_TIMEOUT_MS: "4000",
    },
    stream: { ...common, PICKET_LIVE_SECRET: opts.liveSecret },
    web: { ...common, PICKET_LIVE_SECRET: opts.liveSecret, PICKET_ADMIN_PASSWORD: opts.adminPassword },
  };
}

/** Each service's first log line saying it is ready (as test/support/stack.ts waits for them in process tests). */
export const READY_LOG: Record<PicketService, RegExp> = {
  camera: /^stream parameters$|^camera on demand/,
  pir: /^simulated PIR|^PIR on GPIO/,
  bot: /^alert consumer ready$/,
  stream: /^serving viewers/,
  web: /^web UI on/,
};
