import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { describe } from 'vitest';

/** Debian's Chromium (`apt-get install -y chromium`); CHROMIUM_PATH names another. No browser is downloaded. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Runs `suite` when Chromium is installed. Without it: under CI=true the run fails (the browser tests must
 * run there); elsewhere they are skipped with a loud message.
 */
export function describeInChromium(title: string, suite: () => void): void {
  if (existsSync(CHROMIUM_PATH)) {
    describe(title, { timeout: 60_000 }, suite);
    return;
  }
  const problem = `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${problem}`);
  console.warn(`\n!!! ${problem}: the browser tests are SKIPPED\n`);
  describe.skip(`${title} [chromium: NOT INSTALLED, SKIPPED]`, suite);
}

/** Headless Chromium as root in a closed network: no sandbox, no background calls home. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
