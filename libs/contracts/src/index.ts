export * from "./subjects.js";
export * from "./decode.js";
export * from "./payloads.js";
export * from "./video.js";
export * from "./live-frame.js";
export * from "./live-viewer.js";
export * from "./telegram.js";
export type * from "./web-api.js";
