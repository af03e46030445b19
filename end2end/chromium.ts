// Debian's Chromium (scripts/setup.sh --test installs it; browsers cannot be downloaded here),
// with the flags that keep it off the network. Shared by the browser tests and the lab.
export const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
  ],
};
