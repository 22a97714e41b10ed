// Viewer tokens as a stranger might present them to the stream service.
import fc from "fast-check";
import { checkLiveToken, signLiveToken } from "../../../libs/runtime/src/live-token.js";
import { onlyThrows, prop, type BadInputFamily } from "./family.js";

export const liveTokenFamilies: BadInputFamily[] = [
  {
    id: "bad-input-viewer-tokens",
    family: "viewer tokens (checkLiveToken)",
    outcome: "malformed, bad-signature, expired or wrong-camera, never an exception; only a token signed with the secret for this camera opens it",
    properties: [
      prop("arbitrary and tampered tokens", 800, fc.oneof(
        fc.anything(),
        fc.string({ unit: "binary", maxLength: 120 }),
        fc.tuple(fc.base64String({ maxLength: 60 }), fc.base64String({ maxLength: 60 })).map(([a, b]) => `${a}.${b}`.replace(/=/g, "")),
        fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 50 })).map(([claims, secret]) => signLiveToken(secret.padEnd(32, "x"), claims as never)),
        fc.string({ maxLength: 3_000 }),
      ), (token) => {
        const r = onlyThrows(() => checkLiveToken("s".repeat(40), token, "cam", "high", 1_000), () => false);
        return r !== undefined && r.ok === false;
      }),
      prop("a token signed with the secret opens exactly its camera until it expires", 300, fc.tuple(fc.constantFrom("cam", "*", "other"), fc.constantFrom("high", "*", "low"), fc.integer({ min: 0, max: 2_000 })), ([device, profile, exp]) => {
        const r = checkLiveToken("s".repeat(40), signLiveToken("s".repeat(40), { device, profile, exp }), "cam", "high", 1_000);
        const fits = (device === "cam" || device === "*") && (profile === "high" || profile === "*");
        return r.ok === (exp > 1_000 && fits);
      }),
    ],
  },
];
