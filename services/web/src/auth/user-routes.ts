import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Authenticator } from "./authenticator.js";
import { errorBody, jsonSchema, parseBody, userBody } from "./http.js";
import { hashPassword } from "./passwords.js";
import { Role, UserName } from "./users.js";

const NewUser = z.object({
  name: UserName,
  password: z.string().min(10, "must be at least 10 characters").max(200, "must be at most 200 characters"),
  role: Role,
});

const nameParams = { type: "object", required: ["name"], properties: { name: { type: "string", pattern: "^[a-z0-9_.-]{1,32}$" } } } as const;

/** The admin's user list: `/api/users…`. */
export async function userRoutes(app: FastifyInstance, auth: Authenticator): Promise<void> {
  const log = auth.log;

  app.get(
    "/api/users",
    {
      config: { access: "admin" },
      schema: { tags: ["users"], summary: "Every user of the web UI", response: { 200: { type: "object", required: ["users"], properties: { users: { type: "array", items: userBody } } } } },
    },
    async () => ({ users: (await auth.users.list()).map((u) => ({ name: u.name, role: u.rec.role })) }),
  );

  app.post<{ Body: unknown }>(
    "/api/users",
    {
      attachValidation: true,
      config: { access: "admin" },
      schema: { tags: ["users"], summary: "Add a user (admin or viewer)", body: jsonSchema(NewUser), response: { 201: userBody, 400: errorBody, 409: errorBody } },
    },
    async (req, reply) => {
      const body = parseBody(NewUser, req.body);
      if (!body.ok) return reply.status(400).send({ error: body.error });
      const { name, password, role } = body.data;
      const made = await auth.users.create(name, { role, hash: await hashPassword(password), passwordChangedAt: auth.now(), fromEnv: false });
      if (!made) return reply.status(409).send({ error: `there is already a user called ${name}` });
      log.info({ user: name, role, by: req.user?.name }, "user added");
      return reply.status(201).send({ name, role });
    },
  );

  app.delete<{ Params: { name: string } }>(
    "/api/users/:name",
    {
      config: { access: "admin" },
      schema: { tags: ["users"], summary: "Remove a user (not yourself, not the last admin); their sessions end", params: nameParams, response: { 204: { type: "null" }, 400: errorBody, 404: errorBody, 409: errorBody } },
    },
    async (req, reply) => {
      const { name } = req.params;
      if (name === req.user?.name) return reply.status(400).send({ error: "you cannot remove yourself; log in as another admin" });
      const users = await auth.users.list();
      const target = users.find((u) => u.name === name);
      if (target === undefined) return reply.status(404).send({ error: `there is no user called ${name}` });
      if (target.rec.role === "admin" && users.filter((u) => u.rec.role === "admin").length <= 1) return reply.status(409).send({ error: "that is the last admin" });
      await auth.users.delete(name);
      log.info({ user: name, by: req.user?.name }, "user removed; their sessions ended");
      return reply.status(204).send();
    },
  );
}
