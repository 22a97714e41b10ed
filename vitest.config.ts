import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["libs/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "tools/*/src/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          // Writes docs/RELIABILITY.md from what the fault and bad-input tests measured.
          globalSetup: ["test/reliability-report.ts"],
          // Each file runs a real stack (nats-server, ffmpeg, Chromium): one at a time on 2 cores.
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
