/** Test helpers for H.264 and fMP4 (`@picket/contracts/testing`): fixtures to write, a box reader to check. */
export * from "./h264-units.js";
export * from "./mp4-boxes.js";
