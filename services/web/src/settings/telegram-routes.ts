import type { FastifyInstance } from "fastify";
import type {} from "@fastify/swagger";
import type { z } from "zod";
import { createPairingCode, openPairedChats } from "@picket/runtime";
import type { KV, Logger } from "@picket/runtime";
import { ChatParams, ChatsAnswer, PairingCodeAnswer, changedBy, errors, jsonSchema, outputSchema, refuseInvalid, zodValidation } from "./route-schemas.js";

export interface TelegramRoutesDeps {
  kv: KV;
  log: Logger;
  now: () => number;
}

/**
 * Telegram pairing from the web, admins only, with the bot's own pairing logic and store: a
 * one-time code the household sends to the bot as `/start CODE`, the paired chats, and
 * unpairing. The chats are followed live, so one paired a moment ago is listed.
 */
export async function telegramRoutes(app: FastifyInstance, deps: TelegramRoutesDeps): Promise<void> {
  const { kv, log, now } = deps;
  const chats = await openPairedChats(kv, log);
  app.addHook("onClose", async () => chats.stop());

  app.post(
    "/api/telegram/pairing-code",
    {
      config: { access: "admin" },
      schema: {
        tags: ["telegram"],
        summary: "A one-time pairing code (an hour, 5 tries): send /start CODE to the bot from the chat to pair; it replaces any earlier code",
        response: { 201: outputSchema(PairingCodeAnswer), ...errors },
      },
    },
    async (req, reply) => {
      const made = await createPairingCode(kv, changedBy(req), now());
      // The code itself is shown once, to the admin; never logged.
      log.info({ by: changedBy(req), expiresAt: made.expiresAt }, "pairing code made from the web");
      return reply.status(201).send(made);
    },
  );

  app.get(
    "/api/telegram/chats",
    {
      config: { access: "admin" },
      schema: { tags: ["telegram"], summary: "The chats that get alerts and may command the bot", response: { 200: outputSchema(ChatsAnswer), ...errors } },
    },
    async () => ({ chats: chats.list().map((c) => ({ id: c.id, type: c.type, title: c.title, pairedAt: c.pairedAt, pairedBy: c.by, source: c.source })) }),
  );

  app.route<{ Params: z.infer<typeof ChatParams> }>({
    method: "DELETE",
    url: "/api/telegram/chats/:id",
    config: { access: "admin" },
    attachValidation: true,
    validatorCompiler: zodValidation({ params: ChatParams }),
    schema: { tags: ["telegram"], summary: "Unpair a chat: no more alerts there, and its commands are refused", params: jsonSchema(ChatParams), response: { 204: { type: "null" }, ...errors } },
    handler: async (req, reply) => {
      if (refuseInvalid(req, reply)) return reply;
      const id = Number(req.params.id);
      const was = await chats.unpair(id);
      if (was === undefined) return reply.status(404).send({ error: `chat ${id} is not paired` });
      log.info({ chat: id, by: changedBy(req) }, "chat unpaired from the web");
      return reply.status(204).send();
    },
  });
}
