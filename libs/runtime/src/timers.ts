/**
 * Time as the domain modules need it, injected so unit tests can drive it by hand.
 * `now()` is monotonic: a wall-clock jump (a Pi without an RTC setting its time) must not
 * stretch or cut a debounce, a cooldown or a lease.
 */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
