import type { FastifyInstance, FastifyReply } from "fastify";
// The OpenAPI fields of route schemas (tags, summary) are typed by the swagger plugin.
import type {} from "@fastify/swagger";
import type { z } from "zod";
import {
  ArmingSetting,
  DetectionSettings,
  MotionSettings,
  NotificationSettings,
  QualityPresets,
  Snooze,
  parseArming,
  settingsKeys,
} from "@picket/contracts";
import { SettingWriteError, deviceSettingsStores, openSettings, type KV, type Logger, type NatsConnection } from "@picket/runtime";
import type { DeviceDirectory } from "@picket/runtime";
import { armingSummary, pirReport } from "./arming-summary.js";
import {
  DeviceListAnswer,
  DeviceParams,
  DeviceSettingsAnswer,
  SnoozeAnswer,
  SnoozeRequest,
  changedBy,
  errors,
  jsonSchema,
  outputSchema,
  refuseInvalid,
  zodValidation,
} from "./route-schemas.js";
import { askCameraPresets, hasStoredSettings, jsonOf, readStored } from "./settings-store.js";
import { telegramRoutes } from "./telegram-routes.js";

export interface SettingsRoutesDeps {
  nc: NatsConnection;
  log: Logger;
  directory: DeviceDirectory;
  /** The web's own device: always known, so its settings can be written before any heartbeat. */
  device: string;
  /** A hub: each device's settings are its own, read and written there (deviceSettingsStore). */
  hub?: boolean;
  now?: () => number;
}

/** The settings a PUT writes as they are: each with its contract, its key and the docs' summary. */
const DEVICE_SETTINGS = {
  arming: { contract: ArmingSetting, key: settingsKeys.arming, summary: "Arm, disarm, or arm on a weekly schedule (the device's time zone)" },
  motion: { contract: MotionSettings, key: settingsKeys.motion, summary: "Camera motion: sensitivity 1–10, masks and zones (polygons in frame fractions)" },
  detection: { contract: DetectionSettings, key: settingsKeys.detection, summary: "What raises an alarm: pir, motion, pir+motion, pir|motion, or auto" },
  presets: { contract: QualityPresets, key: settingsKeys.presets, summary: "The camera's quality presets, best first (the camera restarts its encoder)" },
} as const;

const parseSnooze = jsonOf((v) => Snooze.parse(v));
const parseMotion = jsonOf((v) => MotionSettings.parse(v));
const parseDetection = jsonOf((v) => DetectionSettings.parse(v));
const parsePresets = jsonOf((v) => QualityPresets.parse(v));
const parseNotifications = jsonOf((v) => NotificationSettings.parse(v));

/**
 * The device list and every live setting the web changes: arming, snooze, motion, detection,
 * quality presets per device; the household's notification preferences; Telegram pairing.
 * Values are checked by the contracts and stored as their canonical JSON in the settings
 * bucket, where the services follow them live. A device never heard of (and without stored
 * settings) is a 404, so a typo in a URL never creates keys. Call it directly (not through
 * `app.register`), after the auth hook.
 */
export async function settingsRoutes(app: FastifyInstance, deps: SettingsRoutesDeps): Promise<void> {
  const log = deps.log.child({ module: "settings" });
  const now = deps.now ?? Date.now;
  const kv = await openSettings(deps.nc);
  // On a hub, a device's settings are in its own bucket: read there, written by asking it.
  const storeOf = deviceSettingsStores(deps.nc, kv, deps.hub === true ? { hub: deps.device, by: "the hub's web" } : {});
  // A hub knows the devices it has heard (a made-up id in a URL opens nothing); a device also its stored ones.
  const known = async (id: string) => deps.directory.has(id) || (deps.hub !== true && (await hasStoredSettings(kv, id).catch(() => false)));
  /** A write the device did not take (a hub's device offline, or refusing): 503 with the reason, nothing changed. */
  const written = async (reply: FastifyReply, write: () => Promise<unknown>): Promise<boolean> => {
    try {
      await write();
      return true;
    } catch (err) {
      if (!(err instanceof SettingWriteError)) throw err;
      log.warn({ reason: err.message }, "a setting was not changed: the device did not take it");
      await reply.status(503).send({ error: err.message });
      return false;
    }
  };
  const notFound = (id: string) => ({ error: `no device "${id}" has been heard from` });

  app.get(
    "/api/devices",
    {
      config: { access: "viewer" },
      schema: { tags: ["devices"], summary: "Every device: state, what is wrong, camera figures, versions, arming and snooze", response: { 200: outputSchema(DeviceListAnswer), ...errors } },
    },
    async () => {
      const at = now();
      const views = deps.directory.list(at);
      const devices = await Promise.all(
        views.map(async (v) => {
          const store = storeOf(v.id);
          // A hub's device that cannot be read now shows as if unset, not as an error for every device.
          const read = <T>(key: string, parse: (raw: string) => T) => readStored(store, key, parse, log).catch(() => undefined);
          const [arming, snooze] = await Promise.all([read(settingsKeys.arming(v.id), parseArming), read(settingsKeys.snooze(v.id), parseSnooze)]);
          const until = snooze?.value.until;
          return {
            ...v,
            armed: armingSummary(arming, pirReport(v.services.pir, at, deps.directory.offlineAfterMs)),
            snoozedUntil: until !== undefined && until > at ? until : null,
          };
        }),
      );
      return { self: deps.device, devices };
    },
  );

  app.route<{ Params: z.infer<typeof DeviceParams> }>({
    method: "GET",
    url: "/api/devices/:id/settings",
    config: { access: "viewer" },
    attachValidation: true,
    validatorCompiler: zodValidation({ params: DeviceParams }),
    schema: {
      tags: ["settings"],
      summary: "A device's settings, defaults where unset; presets stored, else the camera's own",
      params: jsonSchema(DeviceParams),
      response: { 200: outputSchema(DeviceSettingsAnswer), ...errors },
    },
    handler: async (req, reply) => {
      if (refuseInvalid(req, reply)) return reply;
      const { id } = req.params;
      if (!(await known(id))) return reply.status(404).send(notFound(id));
      const at = now();
      const store = storeOf(id);
      let stored;
      try {
        stored = await Promise.all([
          readStored(store, settingsKeys.arming(id), parseArming, log),
          readStored(store, settingsKeys.snooze(id), parseSnooze, log),
          readStored(store, settingsKeys.motion(id), parseMotion, log),
          readStored(store, settingsKeys.detection(id), parseDetection, log),
          readStored(store, settingsKeys.presets(id), parsePresets, log),
        ]);
      } catch (err) {
        // A hub's device that cannot be reached now: say so, rather than a 500.
        if (deps.hub !== true) throw err;
        log.warn({ device: id, err }, "could not read a device's settings");
        return reply.status(503).send({ error: "it is not reachable from the hub now (offline, or running Picket older than the hub's)" });
      }
      const [arming, snooze, motion, detection, presets] = stored;
      const pir = pirReport(deps.directory.get(id, at)?.services.pir, at, deps.directory.offlineAfterMs);
      const base = {
        arming: arming?.value ?? { mode: armingSummary(undefined, pir).mode },
        snooze: snooze !== undefined && snooze.value.until > at ? snooze.value : null,
        motion: motion?.value ?? MotionSettings.parse({}),
        // Unset, the pir service runs its PICKET_PRESENCE_MODE, auto unless set otherwise.
        detection: detection?.value ?? { mode: "auto" as const },
      };
      if (presets !== undefined) return { ...base, presets: presets.value, presetsSource: "settings" as const };
      const asked = await askCameraPresets(deps.nc, id);
      return asked.ok ? { ...base, presets: asked.presets, presetsSource: "camera" as const } : { ...base, presets: null, presetsError: asked.error };
    },
  });

  for (const [name, s] of Object.entries(DEVICE_SETTINGS)) {
    app.route<{ Params: z.infer<typeof DeviceParams>; Body: unknown }>({
      method: "PUT",
      url: `/api/devices/:id/${name}`,
      config: { access: "admin" },
      attachValidation: true,
      validatorCompiler: zodValidation({ params: DeviceParams, body: s.contract }),
      schema: { tags: ["settings"], summary: s.summary, params: jsonSchema(DeviceParams), body: jsonSchema(s.contract), response: { 200: outputSchema(s.contract), ...errors } },
      handler: async (req, reply) => {
        if (refuseInvalid(req, reply)) return reply;
        const { id } = req.params;
        if (!(await known(id))) return reply.status(404).send(notFound(id));
        if (!(await written(reply, () => storeOf(id).put(s.key(id), JSON.stringify(req.body))))) return reply;
        log.info({ device: id, setting: name, by: changedBy(req) }, "setting changed from the web");
        return req.body;
      },
    });
  }

  app.route<{ Params: z.infer<typeof DeviceParams> }>({
    method: "DELETE",
    url: "/api/devices/:id/presets",
    config: { access: "admin" },
    attachValidation: true,
    validatorCompiler: zodValidation({ params: DeviceParams }),
    schema: { tags: ["settings"], summary: "Forget the stored presets: the camera runs its own configuration again", params: jsonSchema(DeviceParams), response: { 204: { type: "null" }, ...errors } },
    handler: async (req, reply) => {
      if (refuseInvalid(req, reply)) return reply;
      const { id } = req.params;
      if (!(await known(id))) return reply.status(404).send(notFound(id));
      if (!(await written(reply, () => storeOf(id).delete(settingsKeys.presets(id))))) return reply;
      log.info({ device: id, setting: "presets", by: changedBy(req) }, "setting reset from the web");
      return reply.status(204).send();
    },
  });

  app.route<{ Params: z.infer<typeof DeviceParams>; Body: SnoozeRequest }>({
    method: "PUT",
    url: "/api/devices/:id/snooze",
    config: { access: "admin" },
    attachValidation: true,
    validatorCompiler: zodValidation({ params: DeviceParams, body: SnoozeRequest }),
    schema: {
      tags: ["settings"],
      summary: "Hold back alerts for 1–1440 minutes from now (0 ends the snooze); detection and events go on",
      params: jsonSchema(DeviceParams),
      body: jsonSchema(SnoozeRequest),
      response: { 200: outputSchema(SnoozeAnswer), ...errors },
    },
    handler: async (req, reply) => {
      if (refuseInvalid(req, reply)) return reply;
      const { id } = req.params;
      if (!(await known(id))) return reply.status(404).send(notFound(id));
      if (req.body.minutes === 0) {
        if (!(await written(reply, () => storeOf(id).delete(settingsKeys.snooze(id))))) return reply;
        log.info({ device: id, by: changedBy(req) }, "snooze ended from the web");
        return { until: null };
      }
      const value: Snooze = { until: now() + req.body.minutes * 60_000, by: changedBy(req) };
      if (!(await written(reply, () => storeOf(id).put(settingsKeys.snooze(id), JSON.stringify(Snooze.parse(value)))))) return reply;
      log.info({ device: id, until: value.until, by: value.by }, "alerts snoozed from the web");
      return { until: value.until };
    },
  });

  await notificationRoutes(app, kv, log);
  await telegramRoutes(app, { kv, log, now });
}

/** `GET/PUT /api/notifications`: the household's notification preferences (the bots follow them). */
async function notificationRoutes(app: FastifyInstance, kv: KV, log: Logger): Promise<void> {
  const key = settingsKeys.notifications();
  app.get(
    "/api/notifications",
    {
      config: { access: "viewer" },
      schema: { tags: ["settings"], summary: "How alerts arrive: clip after the photo, silent, quiet hours", response: { 200: outputSchema(NotificationSettings), ...errors } },
    },
    async () => (await readStored(kv, key, parseNotifications, log))?.value ?? NotificationSettings.parse({}),
  );
  app.route<{ Body: NotificationSettings }>({
    method: "PUT",
    url: "/api/notifications",
    config: { access: "admin" },
    attachValidation: true,
    validatorCompiler: zodValidation({ body: NotificationSettings }),
    schema: {
      tags: ["settings"],
      summary: "Change how alerts arrive (quiet hours in the bot's time zone; `to` before `from` runs past midnight)",
      body: jsonSchema(NotificationSettings),
      response: { 200: outputSchema(NotificationSettings), ...errors },
    },
    handler: async (req, reply) => {
      if (refuseInvalid(req, reply)) return reply;
      await kv.put(key, JSON.stringify(req.body));
      log.info({ setting: "notifications", by: changedBy(req) }, "setting changed from the web");
      return req.body;
    },
  });
}
