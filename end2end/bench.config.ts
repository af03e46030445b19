import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

// Benchmarks in the browser (`make bench`): the same console, users and login as the tests,
// but measurements, never assertions on time. Not part of `make test`.
export default defineConfig({
  ...base,
  testDir: "./bench",
  testMatch: /.*\.bench\.ts|login\.setup\.ts/,
  projects: [
    { ...base.projects![0], testDir: "./tests" },
    { ...base.projects![1], name: "bench" },
  ],
});
