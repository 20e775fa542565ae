// The console's build: TypeScript + Preact (JSX through Vite's own transformer, no plugin), one
// entry, hashed file names under assets/ (served with a year's cache), nothing inlined into
// index.html (the Content-Security-Policy allows no inline script or style). `npm run dev`
// proxies the API to a `vigil serve` on :8080. Unit tests: Vitest, src/**/*.test.ts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    target: "es2022",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    proxy: Object.fromEntries(
      ["/api", "/v2", "/docs", "/openapi.json", "/healthz", "/readyz", "/metrics"].map((p) => [
        p,
        { target: "http://127.0.0.1:8080", ws: true },
      ]),
    ),
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
