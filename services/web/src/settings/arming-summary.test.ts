import { describe, expect, it } from "vitest";
import type { ArmingSetting } from "@picket/contracts";
import { PIR_FOLLOWS_MS, armingSummary, pirReport } from "./arming-summary.js";

const T = 1_000_000;
const schedule: ArmingSetting = { mode: "scheduled", schedule: [{ days: [1, 2, 3, 4, 5], from: "22:00", to: "07:00" }] };
const stored = (value: ArmingSetting, changedAt = T) => ({ value, changedAt });

describe("armingSummary", () => {
  it("armed and disarmed say so themselves, whatever an older pir report says", () => {
    expect(armingSummary(stored({ mode: "armed" }), { armed: false, heardAt: T - 1000 })).toEqual({ mode: "armed", armedNow: true });
    expect(armingSummary(stored({ mode: "disarmed" }), { armed: true, heardAt: T - 1000 })).toEqual({ mode: "disarmed", armedNow: false });
    expect(armingSummary(stored({ mode: "armed" }), undefined)).toEqual({ mode: "armed", armedNow: true });
  });

  it("a schedule is armed now as the pir service reports it, once it reported after the change", () => {
    expect(armingSummary(stored(schedule), { armed: true, heardAt: T + PIR_FOLLOWS_MS })).toEqual({ mode: "scheduled", armedNow: true });
    expect(armingSummary(stored(schedule), { armed: false, heardAt: T + 5_000 })).toEqual({ mode: "scheduled", armedNow: false });
  });

  it("a schedule does not claim to be armed on a report from before the change, nor without a pir service", () => {
    expect(armingSummary(stored(schedule), { armed: true, heardAt: T + PIR_FOLLOWS_MS - 1 })).toEqual({ mode: "scheduled", armedNow: false });
    expect(armingSummary(stored(schedule), undefined)).toEqual({ mode: "scheduled", armedNow: false });
  });

  it("unset: the pir service's default as it reports it, else armed", () => {
    expect(armingSummary(undefined, undefined)).toEqual({ mode: "armed", armedNow: true });
    expect(armingSummary(undefined, { armed: false, heardAt: T })).toEqual({ mode: "disarmed", armedNow: false });
    expect(armingSummary(undefined, { armed: true, heardAt: T })).toEqual({ mode: "armed", armedNow: true });
  });
});

describe("pirReport", () => {
  it("reads vitals.armed from a live pir heartbeat, and nothing from a silent one", () => {
    expect(pirReport({ ageMs: 300, vitals: { armed: 1 } }, T, 10_000)).toEqual({ armed: true, heardAt: T - 300 });
    expect(pirReport({ ageMs: 300, vitals: { armed: 0 } }, T, 10_000)).toEqual({ armed: false, heardAt: T - 300 });
    expect(pirReport({ ageMs: 10_000, vitals: { armed: 1 } }, T, 10_000)).toBeUndefined();
    expect(pirReport({ ageMs: 0, vitals: {} }, T, 10_000)).toBeUndefined();
    expect(pirReport(undefined, T, 10_000)).toBeUndefined();
  });
});
