// images: the uncompressed size of each Picket service image, built from this checkout on the
// local Debian bookworm base (scripts/docker/build-images.sh; the base: scripts/docker/
// base-image.sh). Target: each service image <= 250 MB.
//
// Sizes are Docker's (`docker image inspect` .Size: every layer, uncompressed, in MB of
// 10^6 bytes). The details split each image into the base (Debian + Node, shared by all five
// on a device), what the service adds (its production node_modules and compiled code), and for
// the camera the ffmpeg it carries.
import { buildImages, docker, engineProblem, PICKET_SERVICES } from "../test/containers/compose-stack.js";
import { report } from "./lib/result.js";

const TARGET_MB = 250;
const MB = 1e6;
const BASE = "picket-node:20-bookworm";

const problem = await engineProblem();
if (problem !== undefined) {
  console.error(`images: cannot run: ${problem} (bash scripts/docker/engine.sh as root makes an engine reachable)`);
  process.exit(1);
}
await buildImages();

const size = async (image: string) => Number((await docker("image", "inspect", "--format", "{{.Size}}", image)).trim()) / MB;
/** The image's layers with the instruction that made each, newest first. */
const layers = async (image: string) =>
  (await docker("history", "--no-trunc", "--format", "{{.Size}}\t{{.CreatedBy}}", image))
    .trim()
    .split("\n")
    .map((l) => {
      const [s = "0B", by = ""] = l.split("\t");
      const m = /^([\d.]+)\s*([kMG]?B)$/.exec(s.replace(/\s/g, ""));
      const unit = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m?.[2] ?? "B"] ?? 1;
      return { mb: (Number(m?.[1] ?? 0) * unit) / MB, by };
    });

const base = await size(BASE);
const debian = await size("picket-debian:bookworm");
const nats = await size("picket-nats:2.9-bookworm");
const images: Record<string, { mb: number; overBaseMb: number; layersMb: Record<string, number> }> = {};
for (const s of PICKET_SERVICES) {
  const image = `picket-${s}:local`;
  const mb = await size(image);
  const own = (await layers(image)).filter((l) => l.mb >= 0.5);
  const named: Record<string, number> = {};
  for (const l of own) {
    // BuildKit records a COPY --from by its paths: the Dockerfile's ffmpeg and app stages.
    const what = /^COPY \/out\/ \//.test(l.by) ? "ffmpeg and what it loads" : /^COPY \/src \/app/.test(l.by) ? "app: production node_modules and compiled code" : /COPY usr\/local/.test(l.by) ? "base: node, npm, headers" : l.by === "" || /import/i.test(l.by) ? "base: debian bookworm" : l.by.slice(0, 60);
    named[what] = Math.round(((named[what] ?? 0) + l.mb) * 10) / 10;
  }
  images[s] = { mb: Math.round(mb * 10) / 10, overBaseMb: Math.round((mb - base) * 10) / 10, layersMb: named };
}
const largest = Math.max(...Object.values(images).map((i) => i.mb));
const over = Object.entries(images).filter(([, i]) => i.mb > TARGET_MB).map(([s]) => s);

report({
  name: "images",
  value: largest,
  unit: "MB",
  target: `each service image <= ${TARGET_MB}`,
  met: over.length === 0,
  samples: PICKET_SERVICES.length,
  details: {
    headline: "the largest of the five service images, uncompressed (docker image inspect .Size, MB = 10^6 bytes), on the local Debian bookworm base",
    images,
    over: over.length > 0 ? over : undefined,
    base: { [BASE]: Math.round(base * 10) / 10, "picket-debian:bookworm": Math.round(debian * 10) / 10, "picket-nats:2.9-bookworm": Math.round(nats * 10) / 10 },
    onDevice: {
      note: "layers are shared: a device stores the base once and each service's own layers on top",
      totalMb: Math.round((base + Object.values(images).reduce((a, i) => a + i.overBaseMb, 0)) * 10) / 10,
    },
  },
});
process.exit(0);
