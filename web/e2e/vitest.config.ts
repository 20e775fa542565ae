// The browser suite: one `vigil serve` and one headless Chromium for the whole run (e2e/setup.ts),
// files one after another. Run by ctest (label "browser") through scripts/test-browser.
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
