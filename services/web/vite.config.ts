import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// The web client: an SPA under client/, built into dist/public, which the web service serves
// as static files. Its CSP allows no inline script or style, so nothing here may add any.
export default defineConfig({
  root: "client",
  publicDir: "public",
  plugins: [preact()],
  build: {
    outDir: "../dist/public",
    emptyOutDir: true,
    // Browsers a household still has: iOS 15 Safari, a Chromium of 2022.
    target: ["chrome100", "safari15", "firefox110"],
    // The polyfill is for browsers without <link rel=modulepreload>; not worth a CSP hole.
    modulePreload: { polyfill: false },
    sourcemap: true,
    reportCompressedSize: false,
  },
});
