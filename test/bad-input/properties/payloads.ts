// Every JSON bus payload (decodeJson with each zod contract), the stored arming value, and the
// names and keys read from subjects, URLs and the settings bucket.
import fc from "fast-check";
import type { z } from "zod";
import { DecodeError, decodeJson, encodeJson } from "../../../libs/contracts/src/decode.js";
import * as payloads from "../../../libs/contracts/src/payloads.js";
import { PairedChat, PairingCode, chatIdOfKey, telegramKeys } from "../../../libs/contracts/src/telegram.js";
import { decodeCameraNames, isDeviceId, parseSubject, toDeviceId } from "../../../libs/contracts/src/subjects.js";
import { bytes, onlyThrows, prop, type BadInputFamily } from "./family.js";

const SUBJECT = "picket.cam.test";

/** Each contract with a value it accepts. */
const CONTRACTS: [string, z.ZodType, unknown][] = [
  ["PirEdge", payloads.PirEdge, { device: "cam", level: 1, at: 1, driver: "sim" }],
  ["PirInject", payloads.PirInject, { pulseMs: 300 }],
  ["MotionSettings", payloads.MotionSettings, { sensitivity: 5, masks: [[[0, 0], [1, 0], [1, 1]]], zones: [{ name: "door", polygon: [[0, 0], [0.5, 0], [0.5, 0.5]] }] }],
  ["MotionReport", payloads.MotionReport, { device: "cam", at: 5, moving: true, score: 0.2, box: { x: 0.1, y: 0.1, w: 0.2, h: 0.2 }, zones: ["door"], lightChange: false }],
  ["PresenceEvent", payloads.PresenceEvent, { id: "ev-12345678", kind: "presence", state: "started", device: "cam", at: 9, triggers: ["pir"], test: false, media: { snapshot: "snapshots/ev-12345678.jpg" } }],
  ["MediaEvent", payloads.MediaEvent, { id: "md-12345678", kind: "media", device: "cam", eventId: "ev-12345678", media: "clip", object: "clips/ev-12345678.mp4", bytes: 10, durationMs: 5000, at: 3 }],
  ["EventDeleted", payloads.EventDeleted, { id: "dl-12345678", kind: "deleted", device: "cam", eventId: "ev-12345678", at: 3, by: "admin" }],
  ["ArmingSetting", payloads.ArmingSetting, { mode: "scheduled", schedule: [{ days: [1, 2], from: "22:00", to: "06:30" }] }],
  ["DetectionSettings", payloads.DetectionSettings, { mode: "pir+motion" }],
  ["QualityPresets", payloads.QualityPresets, { presets: [{ name: "high", width: 1280, height: 720, bitrateKbps: 2000, fps: 25 }], phone: "high", desktop: "high" }],
  ["NotificationSettings", payloads.NotificationSettings, { clip: true, silent: false, quietHours: { from: "23:00", to: "07:00" } }],
  ["Snooze", payloads.Snooze, { until: 100, by: "telegram:1" }],
  ["CameraDemand", payloads.CameraDemand, { holder: "stream", ms: 1000 }],
  ["TestAlarmRequest", payloads.TestAlarmRequest, { requestedBy: "web:admin" }],
  ["TestAlarmReply", payloads.TestAlarmReply, { ok: true, eventId: "ev-12345678" }],
  ["SnapshotRequest", payloads.SnapshotRequest, { maxAgeMs: 500, at: 7 }],
  ["ClipRequest", payloads.ClipRequest, { seconds: 10, requestedBy: "telegram:1" }],
  ["ClipReply", payloads.ClipReply, { ok: true, object: "clips/request-x.mp4", bytes: 1, durationMs: 1, at: 1 }],
  ["Heartbeat", payloads.Heartbeat, { device: "cam", service: "camera", version: "0.1.0", at: 1, uptimeS: 1.5, rssBytes: 1000, cpuPct: 3.2, vitals: { fps: 25 } }],
  ["PairedChat", PairedChat, { id: -100123, title: "Family", type: "supergroup", pairedAt: 1, by: "cli", source: "code" }],
  ["PairingCode", PairingCode, { hash: "a".repeat(64), salt: "b".repeat(32), expiresAt: 1, attemptsLeft: 5, createdBy: "cli" }],
];

const contract = fc.constantFrom(...CONTRACTS);
const utf8 = (v: string) => new TextEncoder().encode(v);

/** Values that sit near the edges of what the contracts accept. */
const edgeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, -1, 0, 1, 1.5, -0, 2 ** 53, Number.MAX_VALUE, "", "x".repeat(300), "../../etc", "<script>", "\u0000", [], {}, [[0, 0], [1, 1]], "2e3", true),
  fc.string({ unit: "binary", maxLength: 80 }),
);

/** A JSON path into `v` (object keys and array indexes), chosen by `picks`. */
function pathIn(v: unknown, picks: number[]): (string | number)[] {
  const path: (string | number)[] = [];
  let at = v;
  for (const p of picks) {
    if (Array.isArray(at) && at.length > 0) {
      const i = p % at.length;
      path.push(i);
      at = at[i];
    } else if (typeof at === "object" && at !== null && Object.keys(at).length > 0) {
      const keys = Object.keys(at);
      const k = keys[p % keys.length] as string;
      path.push(k);
      at = (at as Record<string, unknown>)[k];
    } else break;
  }
  return path;
}

type Mutation = { kind: "set"; value: unknown } | { kind: "delete" } | { kind: "extra"; key: string; value: unknown };

/** `v` with one change at `path`: a value replaced, a key deleted, or an unknown key added. */
function mutate(v: unknown, path: (string | number)[], m: Mutation): unknown {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  if (path.length === 0) return m.kind === "set" ? m.value : m.kind === "extra" && typeof copy === "object" && copy !== null ? { ...copy, [m.key]: m.value } : copy;
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (m.kind === "set") parent[last] = m.value;
  else if (m.kind === "delete") {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (typeof target === "object" && target !== null && !Array.isArray(target)) (target as Record<string, unknown>)[m.key] = m.value;
  }
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  edgeValue.map((value): Mutation => ({ kind: "set", value })),
  fc.constant<Mutation>({ kind: "delete" }),
  fc.tuple(fc.string({ maxLength: 12 }), edgeValue).map(([key, value]): Mutation => ({ kind: "extra", key, value })),
);

/**
 * The decoder's promise: a DecodeError with a short, printable reason naming the subject, or a
 * value the contract accepts as it is (so a receiver can trust it).
 */
function decodesCleanly(schema: z.ZodType, data: Uint8Array): boolean {
  const value = onlyThrows(() => decodeJson(schema, data, SUBJECT), (err) => err instanceof DecodeError && err.subject === SUBJECT && err.reason.length > 0 && err.reason.length <= 2_000 && err.message.includes(SUBJECT));
  return value === undefined || schema.safeParse(value).success;
}

export const payloadFamilies: BadInputFamily[] = [
  {
    id: "bad-input-bus-payloads",
    family: "bus payload decoders (decodeJson with each of 21 zod contracts)",
    outcome: "DecodeError naming the subject and the first bad fields (no other error, reason ≤ 2000 characters), or a value the contract accepts; valid payloads round-trip",
    properties: [
      prop("arbitrary bytes", 300, fc.tuple(contract, bytes(200)), ([[, schema], data]) => decodesCleanly(schema, data)),
      prop("arbitrary JSON", 400, fc.tuple(contract, fc.jsonValue({ maxDepth: 4 })), ([[, schema], v]) => decodesCleanly(schema, utf8(JSON.stringify(v) ?? "null"))),
      prop("a valid payload with one field changed, deleted or added", 1_000, fc.tuple(contract, fc.array(fc.nat(), { maxLength: 5 }), mutation), ([[, schema, sample], picks, m]) => {
        const changed = mutate(sample, pathIn(sample, picks), m);
        return decodesCleanly(schema, utf8(JSON.stringify(changed) ?? "null"));
      }),
      prop("valid payloads round-trip", 50, contract, ([, schema, sample]) => {
        const back = decodeJson(schema, encodeJson(schema, sample as never), SUBJECT);
        return JSON.stringify(back) === JSON.stringify(schema.parse(sample));
      }),
      prop("deeply nested and very wide JSON", 30, fc.tuple(contract, fc.integer({ min: 1, max: 20_000 }), fc.boolean()), ([[, schema], n, deep]) => {
        const text = deep ? `${"[".repeat(n)}${"]".repeat(n)}` : `[${"0,".repeat(n)}0]`;
        return decodesCleanly(schema, utf8(text));
      }),
    ],
  },
  {
    id: "bad-input-stored-settings",
    family: "stored settings readers (arming words or JSON)",
    outcome: "the plain words, a valid ArmingSetting, or a SyntaxError / ZodError (which the readers log and skip)",
    properties: [
      prop("arbitrary text", 400, fc.oneof(fc.string({ unit: "binary", maxLength: 60 }), fc.constantFrom(" armed ", "disarmed\n", "ARMED", '{"mode":"armed"}', '{"mode":"scheduled","schedule":[]}'), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "")), (raw) => {
        const v = onlyThrows(() => payloads.parseArming(raw), (err) => err instanceof SyntaxError || (err as Error).name === "ZodError");
        return v === undefined || payloads.ArmingSetting.safeParse(v).success;
      }),
    ],
  },
  {
    id: "bad-input-names",
    family: "device, profile and chat names from subjects, URL paths and bucket keys",
    outcome: "undefined for anything that is not a valid name, never an exception; valid names round-trip; toDeviceId always makes a valid id",
    properties: [
      prop("subjects", 300, fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), fc.array(fc.oneof(fc.constantFrom("picket", "cam", "*", ">", "", "a b"), fc.string({ maxLength: 10 })), { maxLength: 6 }).map((p) => p.join("."))), (s) => {
        const parsed = parseSubject(s);
        return parsed === undefined || (isDeviceId(parsed.device) && s === ["picket", parsed.device, ...parsed.rest].join("."));
      }),
      prop("camera names in URL paths, %-encoded or malformed", 300, fc.tuple(fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ maxLength: 40 }).map(encodeURIComponent), fc.constantFrom("%", "%zz", "%E0%A4%A", "..%2f", "%2e%2e", "cam")), fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("high", "low", "%", "..", "auto"))), ([d, p]) => {
        const names = onlyThrows(() => decodeCameraNames(d, p), () => false);
        return names === undefined || (isDeviceId(names.device) && /^[a-z0-9_-]{1,32}$/.test(names.profile));
      }),
      prop("host names become valid device ids", 300, fc.string({ unit: "binary", maxLength: 100 }), (h) => isDeviceId(toDeviceId(h))),
      prop("paired-chat keys", 300, fc.oneof(fc.string({ maxLength: 40 }).map((s) => `telegram.chats.${s}`), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }).map((n) => telegramKeys.chat(n)), fc.constantFrom("telegram.chats.g0", "telegram.chats.0", "telegram.chats.-5", "telegram.chats.99999999999999999")), (key) => {
        const id = chatIdOfKey(key);
        return id === undefined || (Number.isSafeInteger(id) && id !== 0 && telegramKeys.chat(id) === key);
      }),
    ],
  },
];
