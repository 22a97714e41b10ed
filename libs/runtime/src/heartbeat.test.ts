import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readTemperatureC } from "./heartbeat.js";

describe("readTemperatureC", () => {
  const file = (text: string) => {
    const f = join(mkdtempSync(join(tmpdir(), "picket-temp-")), "temp");
    writeFileSync(f, text);
    return f;
  };

  it("reads the kernel's millidegrees as °C with one decimal", () => {
    expect(readTemperatureC(file("48312\n"))).toBe(48.3);
    expect(readTemperatureC(file("-5000"))).toBe(-5);
  });

  it("gives nothing where the file is missing or says something unlikely", () => {
    expect(readTemperatureC("/nonexistent/thermal")).toBeUndefined();
    expect(readTemperatureC(file("hot"))).toBeUndefined();
    expect(readTemperatureC(file("999999"))).toBeUndefined();
  });
});
