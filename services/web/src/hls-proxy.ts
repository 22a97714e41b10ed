import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "@picket/runtime";
import { parseHlsRequest } from "./hls-request.js";
import { withViewerToken, type ViewerTokens } from "./viewer-tokens.js";

/** The upstream's headers that matter to a player; the rest stays between the services. */
const PASSED = ["content-type", "content-length", "cache-control", "location"] as const;

/**
 * `GET /hls/<device>/<profile>/<file>` on the web port, forwarded to the stream service's
 * HLS (query included, for blocking playlist reloads) so one port serves everything. The
 * upstream request ends when the player goes away, so a held request does not linger.
 */
export function createHlsProxy(opts: { streamUrl: string; log: Logger; token?: ViewerTokens }) {
  const log = opts.log.child({ module: "hls-proxy" });
  const base = new URL(opts.streamUrl.replace(/^ws/, "http"));
  const request = base.protocol === "https:" ? httpsRequest : httpRequest;

  return (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const parsed = parseHlsRequest(req.url);
    if (parsed === undefined) return reply.status(404).type("text/plain").send("expected /hls/<device>/<profile>/index.m3u8\n");
    if (parsed === "bad-name") return reply.status(400).type("text/plain").send("bad device or profile name\n");
    const { device, profile, file, token: own } = parsed;
    // A player with a link brings its own token (checked by the auth hook, and again by the
    // stream); a logged-in page gets one signed here. Never both: a request that carries a
    // token is never given the web's.
    const token = own === undefined ? opts.token?.(device, profile) : undefined;
    const query = parsed.query.toString();
    const upstream = request(
      {
        host: base.hostname,
        port: base.port,
        method: req.method,
        // The web's token goes as a header: in the query the stream would write it into the
        // playlist's URIs for the browser to see. A player's own stays in the query, so its
        // playlist names the files with it.
        path: `/hls/${device}/${profile}/${file}${withViewerToken(query === "" ? "" : `?${query}`, own)}`,
        headers: { "user-agent": String(req.headers["user-agent"] ?? "").slice(0, 512), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      },
      (res) => {
        for (const name of PASSED) {
          const value = res.headers[name];
          if (value !== undefined) void reply.header(name, value);
        }
        void reply.status(res.statusCode ?? 502).send(res);
      },
    );
    let playerGone = false;
    upstream.on("error", (err) => {
      if (playerGone || reply.raw.headersSent) return;
      log.warn({ err: { message: err.message }, device, profile }, "stream service unreachable");
      void reply.status(502).type("text/plain").send("stream service unreachable\n");
    });
    reply.raw.on("close", () => {
      playerGone = !reply.raw.writableFinished;
      upstream.destroy();
    });
    upstream.end();
    return reply;
  };
}
