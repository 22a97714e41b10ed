/**
 * web-weight: the JavaScript and CSS a browser fetches for the web app's first page, gzip
 * (zlib level 9), against a target of 100 KB (1 KB = 1000 bytes). Reads the built client
 * (services/web/dist/public, made by `npm run build`, which `npm run bench` runs first):
 * index.html's scripts, stylesheets and modulepreloads, and the static imports of those
 * scripts. The chunks the page loads only on demand (the MSE player with mux.js, the HLS
 * player with hls.js) are listed in the details, not counted.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { report } from "./lib/result.js";

const TARGET_KB = 100;
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "services", "web", "dist", "public");
const indexFile = join(root, "index.html");
if (!existsSync(indexFile)) {
  console.error(`web-weight: ${indexFile} is missing; build first (npm run build)`);
  process.exit(1);
}

interface Weight {
  file: string;
  bytes: number;
  gzipBytes: number;
}

const weigh = (file: string): Weight => {
  const data = readFileSync(join(root, file));
  return { file, bytes: data.length, gzipBytes: gzipSync(data, { level: 9 }).length };
};

/** Site paths ("/assets/x.js") of what the page itself references, without external URLs. */
function referencedByHtml(html: string): string[] {
  const found: string[] = [];
  for (const [tag] of html.matchAll(/<(?:script|link)\b[^>]*>/gi)) {
    const attr = (name: string) => new RegExp(`\\b${name}\\s*=\\s*["']([^"']*)["']`, "i").exec(tag)?.[1];
    const isScript = /^<script/i.test(tag);
    const rel = attr("rel")?.toLowerCase() ?? "";
    const url = isScript ? attr("src") : rel === "stylesheet" || rel === "modulepreload" ? attr("href") : undefined;
    if (url !== undefined && url.startsWith("/") && !url.startsWith("//")) found.push(url.slice(1));
  }
  return found;
}

/** Files a script imports statically (`import … from "./x.js"`, `import "./x.js"`), as paths under root; `import(…)` is lazy and left out. */
function staticImports(file: string): string[] {
  const code = readFileSync(join(root, file), "utf8");
  const out: string[] = [];
  for (const m of code.matchAll(/(?:^|[;\s}])import\s*(?:[\w$*{},\s]+?\s*from\s*)?["'](\.{1,2}\/[^"']+|\/[^"']+)["']/g)) {
    const spec = m[1] as string;
    out.push(spec.startsWith("/") ? spec.slice(1) : posix.normalize(posix.join(posix.dirname(file), spec)));
  }
  return out;
}

const html = readFileSync(indexFile, "utf8");
const firstPage = new Set<string>();
const queue = referencedByHtml(html);
while (queue.length > 0) {
  const file = queue.shift() as string;
  if (firstPage.has(file)) continue;
  if (!existsSync(join(root, file))) throw new Error(`index.html refers to ${file}, which the build does not have`);
  firstPage.add(file);
  if (file.endsWith(".js")) queue.push(...staticImports(file));
}

const counted = [...firstPage].filter((f) => /\.(m?js|css)$/.test(f)).map(weigh);
const assets = existsSync(join(root, "assets")) ? readdirSync(join(root, "assets")).map((f) => `assets/${f}`) : [];
const lazy = assets.filter((f) => /\.(m?js|css)$/.test(f) && !firstPage.has(f)).map(weigh);
const totalKB = counted.reduce((n, w) => n + w.gzipBytes, 0) / 1000;
const kb = (w: Weight) => ({ file: w.file, kB: Math.round(w.bytes / 100) / 10, gzipKB: Math.round(w.gzipBytes / 100) / 10 });

report({
  name: "web-weight",
  value: totalKB,
  unit: "KB gzip",
  target: `<= ${TARGET_KB}`,
  met: totalKB <= TARGET_KB,
  samples: counted.length,
  details: {
    headline: "JavaScript and CSS of the first page (index.html's scripts, stylesheets, modulepreloads and their static imports), each gzipped at level 9, summed; 1 KB = 1000 bytes",
    js: Math.round(counted.filter((w) => !w.file.endsWith(".css")).reduce((n, w) => n + w.gzipBytes, 0) / 100) / 10,
    css: Math.round(counted.filter((w) => w.file.endsWith(".css")).reduce((n, w) => n + w.gzipBytes, 0) / 100) / 10,
    firstPage: counted.map(kb),
    lazy: lazy.map(kb),
  },
});
