// npm run bench -- NAME  runs bench/NAME.ts; without a name, every benchmark in turn.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3)).sort();
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!all.includes(name)) {
    console.error(`unknown benchmark "${name}"; there are: ${all.join(", ")}`);
    process.exit(2);
  }
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(here, `${name}.ts`)], { stdio: "inherit", cwd: join(here, "..") });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
