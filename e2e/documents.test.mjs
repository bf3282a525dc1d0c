// Documents and statistics in headless Chromium (issue 22), on a fresh demo server: the
// commander issues the incident's summary from the room's 文书 block and the browser downloads a
// .docx whose hash the room then lists; a group member is offered no document; the city's duty
// officer downloads the petition statistics workbook from the statistics page.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BASE, browser, DESKTOP, T, step, signIn, assert } from './lib.mjs';

try {
  step('the commander issues the summary of an incident from its room');
  const cmdCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN', acceptDownloads: true });
  const cmd = await signIn(cmdCtx, 'commander');
  await cmd.goto(BASE + '/incidents');
  const href = await cmd.locator('#incident-list a[href^="/incidents/"]').first().getAttribute('href');
  assert.ok(href, 'an incident to open');
  await cmd.goto(BASE + href);
  const button = cmd.locator('button[data-document="incident_summary"]');
  await button.waitFor({ timeout: T });
  const [download] = await Promise.all([cmd.waitForEvent('download', { timeout: T }), button.click()]);
  assert.match(download.suggestedFilename(), /\.docx$/, download.suggestedFilename());
  const file = readFileSync(await download.path());
  assert.equal(file.subarray(0, 2).toString(), 'PK', 'a .docx is a zip package');
  const sha = createHash('sha256').update(file).digest('hex');
  await cmd.goto(BASE + href);
  const issued = cmd.locator('#documents-issued [data-issued-document]');
  assert.equal(await issued.count(), 1, 'the room lists the issued document');
  assert.ok((await issued.first().textContent()).includes(sha), 'with the hash of the file downloaded');
  await cmdCtx.close();

  step('a group member is offered no document');
  const memberCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  const member = await signIn(memberCtx, 'group-member');
  const r = await member.goto(BASE + href);
  if (r.status() === 200) {
    assert.equal(await member.locator('button[data-document]').count(), 0);
  }
  await memberCtx.close();

  step('the city duty officer downloads the petition statistics workbook');
  const cityCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN', acceptDownloads: true });
  const city = await signIn(cityCtx, 'city-duty');
  await city.goto(BASE + '/statistics');
  const link = city.locator('a[data-download="cases-xlsx"]');
  await link.waitFor({ timeout: T });
  const [book] = await Promise.all([city.waitForEvent('download', { timeout: T }), link.click()]);
  assert.match(book.suggestedFilename(), /^cases-\d{4}\.xlsx$/, book.suggestedFilename());
  assert.equal(readFileSync(await book.path()).subarray(0, 2).toString(), 'PK');
  await cityCtx.close();
  console.log('documents e2e: ok');
} finally {
  await browser.close();
}
