import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { root } from './harness';

/** Where browser tests save their screenshots (git-ignored). */
export const shots = join(root, 'e2e', 'screenshots');

/**
 * Debian's Chromium (scripts/ensure-browser.sh installs it; never a downloaded browser), headless,
 * with the screenshots folder ready.
 */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(shots, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}
