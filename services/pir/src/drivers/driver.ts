/** A PIR input: reports raw levels (1 = motion) as the pin changes. */
export interface PirDriver {
  readonly name: "gpio" | "sim";
  /** Starts watching; `initial` is the level at start. */
  start(onLevel: (level: 0 | 1) => void): Promise<{ initial: 0 | 1 }>;
  stop(): Promise<void>;
}

export type DriverSpec = { kind: "sim" } | { kind: "gpio"; bcmPin: number };

export function parseDriverSpec(raw: string): DriverSpec {
  if (raw === "sim") return { kind: "sim" };
  const m = /^gpio:(\d{1,2})$/.exec(raw);
  if (m !== null) return { kind: "gpio", bcmPin: Number(m[1]) };
  throw new Error(`"${raw.slice(0, 32)}" is not a PIR driver: use sim or gpio:<bcm pin> (e.g. gpio:17)`);
}
