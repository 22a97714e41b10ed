import { choosePlayer, type PlayerChoice } from "../player/player.js";

// The page's URL parameters for the live view, as before the app: tests, benchmarks and
// people whose browser misbehaves on the detected path rely on them.
const params = new URLSearchParams(location.search);

/** `?player=webcodecs|mse|hls`, `?hls=native|hlsjs`: decided once per page, started at once (detection is async). */
export const playerChoice: Promise<PlayerChoice> = choosePlayer(params);

/** `?profile=`: what every tile asks for instead of auto or the remembered choice. */
export const urlProfile: string | undefined = /^[a-z0-9_-]{1,32}$/.test(params.get("profile") ?? "") ? (params.get("profile") as string) : undefined;
