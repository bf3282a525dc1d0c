// Shared helpers of the console's browser scenarios (e2e/*.test.mjs). Each scenario is run by
// crates/yingji/tests/console_e2e.rs against its own fresh `yingji serve` with the demo data.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const BASE = process.env.BASE_URL;
assert.ok(BASE, 'BASE_URL is required');
const here = dirname(fileURLToPath(import.meta.url));
const shots = process.env.SCREENSHOT_DIR || join(here, 'screenshots');
mkdirSync(shots, { recursive: true });

export { assert };

export const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 812 };
export const T = 15000;

export function step(name) { console.log(`· ${name}`); }

export const DEMO_PASSWORD = 'yingji-demo-2026';

/// Signs in with login and password (the console's sign-in form).
export async function signIn(ctx, login) {
  const page = await ctx.newPage();
  await page.goto(BASE + '/');
  assert.match(page.url(), /\/signin\?next=/, 'an anonymous visit goes to sign-in');
  await page.fill('#login', login);
  await page.fill('#password', DEMO_PASSWORD);
  await Promise.all([page.waitForURL(BASE + '/'), page.click('#password-signin button[type=submit]')]);
  return page;
}

/// Signs in with a demo token (the secondary way in, for the demo data).
export async function signInDemoToken(ctx, token) {
  const page = await ctx.newPage();
  await page.goto(BASE + '/');
  await Promise.all([page.waitForURL(BASE + '/'), page.click(`button[data-token="${token}"]`)]);
  return page;
}

/// Checks a page at phone width: no horizontal scrolling, every visible control labelled.
export async function phoneChecks(page, name) {
  const r = await page.evaluate(() => {
    const unlabelled = [];
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      const ok = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label') || el.getAttribute('aria-label');
      if (!ok) unlabelled.push(el.name || el.id || el.outerHTML.slice(0, 60));
    }
    return { overflow: document.documentElement.scrollWidth - window.innerWidth, unlabelled };
  });
  assert.ok(r.overflow <= 1, `${name}: wider than the phone screen by ${r.overflow}px`);
  assert.deepEqual(r.unlabelled, [], `${name}: inputs without a label`);
}

/// Screenshots the page at desktop and phone width (full page), then restores desktop width.
export async function shoot(page, name) {
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(shots, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await phoneChecks(page, name);
  await page.screenshot({ path: join(shots, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

