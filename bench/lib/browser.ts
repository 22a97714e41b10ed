// Headless Chromium for the benchmarks: Debian's /usr/bin/chromium (never a downloaded one),
// with a fresh profile that Playwright makes and removes itself.
import type { Page } from "playwright-core";

export { launchChromium } from "../../test/support/chromium.js";

/** What `window.picket.players[device]` exposes (services/web/client/player.ts). */
export interface PlayerView {
  state: string;
  decoded: number;
  fps: number;
  kbps: number;
  codec: string;
  width: number;
  height: number;
}

/** The player's stats for `device`, or undefined before the page made one. */
export function playerStats(page: Page, device: string): Promise<PlayerView | undefined> {
  return page.evaluate((d) => {
    const w = globalThis as unknown as { picket?: { players: Record<string, { stats: PlayerView }> } };
    const s = w.picket?.players[d]?.stats;
    return s === undefined ? undefined : { ...s };
  }, device);
}

/** Resolves once the page's player for `device` has decoded a frame. */
export async function waitForFirstFrame(page: Page, device: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await playerStats(page, device);
    if (s !== undefined && s.decoded > 0) return;
    if (Date.now() > deadline) throw new Error(`no decoded frame in ${timeoutMs} ms (player: ${JSON.stringify(s)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
