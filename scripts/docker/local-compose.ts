/**
 * docker-compose.yml as it runs on a machine without a registry and without Pi hardware
 * (CI, a PC): the same services, settings, restart policies, healthchecks and stop grace
 * periods, with only these changes, each printed in the file's header:
 *
 *   - each Picket service runs its locally built image (scripts/docker/build-images.sh:
 *     picket-<service>:<tag>) instead of building, and nats runs picket-nats:2.9-bookworm
 *     (Debian's nats-server, scripts/docker/base-image.sh) instead of pulling nats:2.9-alpine;
 *   - the camera gets no devices (none exist here: use the `test` or a `file:` source);
 *   - the pir service does not get the host's /sys (use the `sim` PIR);
 *   - the web port is published where asked (default 127.0.0.1:8080) rather than on every
 *     interface;
 *   - optionally, extra environment per service and extra host names (tests).
 *
 * As a command (scripts/docker/compose.sh uses it):
 *   node --import tsx scripts/docker/local-compose.ts [--web 127.0.0.1:8080] [--tag local] > file.yml
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const PICKET_SERVICES = ["camera", "pir", "bot", "stream", "web"] as const;
export type PicketService = (typeof PICKET_SERVICES)[number];
export const LOCAL_NATS_IMAGE = "picket-nats:2.9-bookworm";

export interface LocalComposeOptions {
  /** Tag of the locally built service images (default `local`). */
  tag?: string;
  /** `[address:]port` the web port is published on (default 127.0.0.1:8080). */
  web?: string;
  /** Extra environment per service, added to (or replacing) what the file says. */
  env?: Partial<Record<PicketService | "nats", Record<string, string>>>;
  /** Extra `host:address` entries for every Picket service (e.g. `host.docker.internal:host-gateway`). */
  extraHosts?: string[];
}

type Service = Record<string, unknown> & { environment?: Record<string, string | null>; volumes?: string[] };

/** The local variant of `docker-compose.yml`'s text, as YAML. */
export function localCompose(source: string, opts: LocalComposeOptions = {}): string {
  const doc = parse(source, { merge: true }) as { services: Record<string, Service>; [k: string]: unknown };
  const tag = opts.tag ?? "local";
  const notes: string[] = [];
  for (const [name, svc] of Object.entries(doc.services)) {
    if (name === "nats") {
      svc.image = LOCAL_NATS_IMAGE;
    } else {
      if (svc.build === undefined) throw new Error(`service ${name}: expected a build section in docker-compose.yml`);
      delete svc.build;
      svc.image = `picket-${name}:${tag}`;
      if (opts.extraHosts !== undefined) svc.extra_hosts = [...((svc.extra_hosts as string[] | undefined) ?? []), ...opts.extraHosts];
    }
    if (name === "camera" && svc.devices !== undefined) {
      notes.push(`camera: no devices (was ${(svc.devices as string[]).join(", ")})`);
      delete svc.devices;
    }
    if (name === "pir" && svc.volumes !== undefined) {
      const kept = svc.volumes.filter((v) => !v.startsWith("/sys:"));
      if (kept.length !== svc.volumes.length) notes.push("pir: no host /sys");
      svc.volumes = kept;
    }
    if (name === "web") svc.ports = [`${opts.web ?? "127.0.0.1:8080"}:8080`];
    const extra = opts.env?.[name as PicketService | "nats"];
    if (extra !== undefined) svc.environment = { ...(svc.environment ?? {}), ...extra };
  }
  // The merge key's anchor has done its work; the x- entry is left out of the output.
  for (const key of Object.keys(doc)) if (key.startsWith("x-")) delete doc[key];
  const header = [
    "# Generated from docker-compose.yml by scripts/docker/local-compose.ts: do not edit.",
    `# Local images (picket-<service>:${tag}, ${LOCAL_NATS_IMAGE}); web published on ${opts.web ?? "127.0.0.1:8080"}.`,
    ...notes.map((n) => `# ${n}`),
  ];
  return `${header.join("\n")}\n${stringify(doc, { lineWidth: 0 })}`;
}

/** The local variant of this checkout's docker-compose.yml. */
export function localComposeFile(opts: LocalComposeOptions = {}): string {
  return localCompose(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), opts);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  process.stdout.write(localComposeFile({ web: opt("--web"), tag: opt("--tag") }));
}
