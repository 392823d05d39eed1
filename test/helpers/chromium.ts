import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (tools/setup-host installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags of every headless Chromium the tests start: no sandbox (tests run as root), no GPU, and
 * nothing that reaches the network by itself (QUIC, background requests, component updates,
 * sync, the first-run page).
 */
export const CHROMIUM_FLAGS: readonly string[] = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A headless Chromium with a new, empty profile folder; `close()` ends it and removes the folder. */
export interface HeadlessChromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts Debian's Chromium through playwright-core (no browser download: `executablePath`).
 * @param viewport CSS pixels
 * @throws {Error} naming tools/setup-host when Chromium is not installed
 */
export async function startChromium(viewport = { width: 1400, height: 900 }): Promise<HeadlessChromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing; fix: tools/setup-host (installs Debian's chromium)`);
  const profile = mkdtempSync(path.join(tmpdir(), 'nx-distro-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS], viewport });
    return {
      context,
      async close() {
        try {
          await context.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}
