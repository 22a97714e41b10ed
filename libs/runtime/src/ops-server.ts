import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import type { Logger } from "./logger.js";

export interface Health {
  ok: boolean;
  [detail: string]: unknown;
}

/**
 * A tiny HTTP server with `/healthz` (200 when healthy, 503 otherwise, JSON details) and
 * `/metrics` (Prometheus text). Other paths get 404. `extra` may handle more routes and
 * returns true when it did.
 */
export async function startOpsServer(opts: {
  port: number;
  host?: string;
  registry: Registry;
  health: () => Health;
  log: Logger;
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean;
}): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") {
      const h = opts.health();
      res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify(h));
      return;
    }
    if (req.method === "GET" && path === "/metrics") {
      opts.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { "content-type": opts.registry.contentType });
          res.end(text);
        })
        .catch((err: unknown) => {
          opts.log.error({ err }, "metrics failed");
          res.writeHead(500).end();
        });
      return;
    }
    if (opts.extra?.(req, res) === true) return;
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "not found" }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : opts.port;
  opts.log.child({ module: "ops" }).info({ port }, "serving /healthz and /metrics");
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
