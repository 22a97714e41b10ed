// Prints the PICKET_ variables of every service as a Markdown table (for the README).
// Run after `npm run build`: node scripts/config-table.mjs
const services = ["camera", "pir", "bot", "stream", "web", "fleet", "ha"];
const rows = new Map();
for (const name of services) {
  const mod = await import(`../services/${name}/dist/config.js`);
  const spec = Object.values(mod).find((v) => v && typeof v === "object" && "deviceId" in v);
  for (const entry of Object.values(spec)) {
    const row = rows.get(entry.env) ?? { entry, services: [] };
    row.services.push(name);
    rows.set(entry.env, row);
  }
}
const def = (entry) => {
  if (entry.defaultDoc !== undefined) return entry.defaultDoc;
  if (entry.secret) return "(none)";
  const r = entry.schema.safeParse(undefined);
  if (!r.success || r.data === undefined) return "(none)";
  return typeof r.data === "object" ? JSON.stringify(r.data) : String(r.data);
};
console.log("| variable | default | used by | meaning |\n|---|---|---|---|");
for (const [env, { entry, services: used }] of rows) {
  const by = used.length === services.length ? "all" : used.join(", ");
  console.log(`| \`${env}\` | \`${def(entry)}\` | ${by} | ${entry.doc.replace(/\|/g, "\\|")} |`);
}
