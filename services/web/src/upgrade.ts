import type { Server } from "node:http";
import type { Logger } from "@picket/runtime";
import type { Auth } from "./auth/auth-plugin.js";
import type { createLiveProxy } from "./live-proxy.js";

/**
 * Websocket upgrades on the web port: the same login as every HTTP route (the session cookie
 * and the page's own Origin), then the live proxy, which closes the socket when the session
 * ends. Anything else is answered with a status line, never left hanging.
 */
export function serveUpgrades(server: Server, auth: Auth, proxy: ReturnType<typeof createLiveProxy>, log: Logger): void {
  server.on("upgrade", (req, socket, head: Buffer) => {
    // Node drops its own error listener on upgrade: without one, a client's reset would crash us.
    socket.on("error", () => socket.destroy());
    void (async () => {
      const verdict = await auth.authenticateUpgrade(req);
      if (!verdict.ok) {
        const status = verdict.status === 401 ? "401 Unauthorized" : "403 Forbidden";
        return void socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ error: verdict.reason })}`);
      }
      if (!proxy.handleUpgrade(req, socket, head, () => auth.stillValid(req))) socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
    })().catch((err: unknown) => {
      log.warn({ err }, "websocket upgrade failed");
      socket.destroy();
    });
  });
}
