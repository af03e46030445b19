import { defineConfig, devices } from "@playwright/test";
import { launchOptions } from "./chromium";

// The network lab (run through lab/run.sh, as root): the spec starts `havip serve`, keepalived
// and `havip agent` itself, because it restarts some of them on purpose.
export default defineConfig({
  testDir: "./lab",
  timeout: 240_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: { baseURL: `http://127.0.0.1:${process.env.HAVIP_LAB_PORT ?? "3901"}`, trace: "retain-on-failure" },
  projects: [
    {
      name: "lab",
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1440, height: 900 },
        launchOptions,
      },
    },
  ],
});
