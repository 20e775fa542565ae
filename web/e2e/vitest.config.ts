// The browser suite: every e2e/*.e2e.ts file, each with its own `vigil serve` and headless
// Chromium (harness.ts), files one after another. Run by ctest (label "browser") through
// scripts/test-web.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
