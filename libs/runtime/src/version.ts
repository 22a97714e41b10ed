/** Picket's version, reported in heartbeats and the UI. */
export const VERSION = "0.1.0";
