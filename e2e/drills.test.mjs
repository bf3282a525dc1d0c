// Drills and reserves in headless Chromium (issue 23), on a fresh demo server: the duty officer
// loads a drill script from a file into the start form, starts the drill and lands on its page
// with the five injects scheduled; the drill incident's room is marked and links the drill; a
// script with a mistake comes back with the line of the mistake. Then a reserve item is added
// and issued to an incident, and the incident's room lists it; meeting minutes are attached, a
// meeting of four decisions recorded and a representative of the gathering recorded with the
// contact masked. A group member is offered neither the drill nor the reserve forms. Both pages are checked at phone width.

import { readFileSync } from 'node:fs';
import { BASE, browser, DESKTOP, PHONE, T, step, signIn, assert, shoot } from './lib.mjs';

const script = readFileSync(new URL('../examples/drills/linxiang-annual.toml', import.meta.url), 'utf8');

try {
  step('the duty officer starts a drill from a script file');
  const ctx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  const duty = await signIn(ctx, 'duty-officer');
  await duty.goto(BASE + '/drills');
  await duty.locator('#drill-start summary').click();
  // A mistake first: the form comes back with the line of it.
  await duty.fill('#dr-script', script.replace('kind = "location"', 'kind = "teleport"'));
  await Promise.all([duty.waitForLoadState('load'), duty.click('button[data-action="drill-start"]')]);
  const line = script.split('\n').findIndex((l) => l.includes('kind = "location"')) + 1;
  await duty.locator(`#drill-problems li[data-line="${line}"]`).waitFor({ timeout: T });
  // Then the file.
  await duty.setInputFiles('#dr-file', { name: 'linxiang-annual.toml', mimeType: 'text/plain', buffer: Buffer.from(script) });
  await duty.waitForFunction(() => document.querySelector('#dr-script').value.includes('kind = "location"'), null, { timeout: T });
  await Promise.all([duty.waitForURL(/\/drills\/[0-9a-f-]{36}$/, { timeout: T }), duty.click('button[data-action="drill-start"]')]);
  assert.equal(await duty.locator('#drill-injects tr[data-inject]').count(), 5, 'five injects');
  assert.equal(await duty.locator('#drill-injects tr[data-outcome="pending"]').count(), 5, 'none played yet');
  assert.equal(await duty.locator('#drill[data-drill-status="running"]').count(), 1);
  assert.ok(await duty.locator('button[data-action="drill-stop"]').isVisible(), 'the starter may stop it');
  const drillUrl = duty.url();
  await shoot(duty, 'drill');
  await duty.setViewportSize(DESKTOP);

  step('the drill incident is marked and links its drill');
  const room = await duty.locator('a[href^="/incidents/"]').first().getAttribute('href');
  await duty.goto(BASE + room);
  await duty.locator('.badge.drill').first().waitFor({ timeout: T });
  assert.equal(await duty.locator(`a[href="${new URL(drillUrl).pathname}"]`).count(), 1);

  step('the duty officer adds a reserve item and issues it to the incident');
  await duty.goto(BASE + '/reserves');
  await duty.locator('#reserve-new summary').click();
  await duty.fill('#rs-name', '折叠桌椅');
  await duty.fill('#rs-unit', '套');
  await duty.fill('#rs-quantity', '20');
  await duty.fill('#rs-minimum', '5');
  await duty.fill('#rs-location', '临溪市应急物资库');
  await Promise.all([duty.waitForURL(BASE + '/reserves'), duty.click('button[data-action="reserve-create"]')]);
  const card = duty.locator('article[data-item]', { hasText: '折叠桌椅' });
  await card.waitFor({ timeout: T });
  await card.locator('select[name="kind"]').selectOption('issue');
  await card.locator('input[name="quantity"]').fill('6');
  const incidentId = room.split('/').pop();
  await card.locator('select[name="incident_id"]').selectOption(incidentId);
  await Promise.all([duty.waitForURL(/\/reserves\?item=/), card.locator('button[data-action="reserve-move"]').click()]);
  const after = duty.locator('article[data-item]', { hasText: '折叠桌椅' });
  assert.equal((await after.locator('[data-quantity]').textContent()).trim(), '14', 'stock after the issue');
  assert.ok((await duty.locator('#reserve-history').textContent()).includes('调用'), 'the history lists the issue');
  await shoot(duty, 'reserves');
  await duty.setViewportSize(DESKTOP);
  await duty.goto(BASE + room);
  assert.equal(await duty.locator('#room-reserves [data-reserve]').count(), 1, 'the room lists what was issued');

  step('the duty officer attaches the meeting minutes to the incident');
  await duty.setInputFiles('#att-file', { name: '现场会议纪要.txt', mimeType: 'text/plain', buffer: Buffer.from('现场会议纪要：已安排接访场地。\n') });
  await Promise.all([duty.waitForEvent('load', { timeout: T }), duty.click('button[data-action="attachment-add"]')]);
  const file = duty.locator('#attachment-list [data-attachment]');
  await file.first().waitFor({ timeout: T });
  assert.ok((await file.first().textContent()).includes('现场会议纪要.txt'), 'the room lists the file');

  step('the duty officer records a meeting of four decisions, the fourth row added on the page');
  const due = new Date(Date.now() + 30 * 86400e3).toISOString().slice(0, 10);
  await duty.locator('#meeting-new summary').click();
  await duty.fill('#mt-title', '现场协调会');
  await duty.fill('#mt-text', '会议议定四项事项。');
  await duty.click('#meeting-new button[data-add-decision]');
  for (const [i, n] of [['', 1], ['2', 2], ['3', 3], ['4', 4]]) {
    await duty.fill(`#mt-req${i}`, `议定事项${n}`);
    await duty.fill(`#mt-owner${i}`, '市信访局');
    await duty.fill(`#mt-due${i}`, due);
  }
  await Promise.all([duty.waitForEvent('load', { timeout: T }), duty.click('button[data-action="meeting-record"]')]);
  const meeting = duty.locator('article[data-directive-kind="meeting"]');
  await meeting.first().waitFor({ timeout: T });
  assert.equal(await meeting.first().locator('[data-follow-up]').count(), 4, 'four decisions, each tracked');

  step('the duty officer records a representative of the gathering; the contact is shown masked');
  await duty.locator('#representative-new summary').click();
  await duty.fill('#rep-name', '测试代表甲');
  await duty.fill('#rep-contact', '13900003333');
  await duty.fill('#rep-for', '小区住户');
  await Promise.all([duty.waitForEvent('load', { timeout: T }), duty.click('button[data-action="representative-add"]')]);
  const rep = duty.locator('#representative-list [data-representative]');
  await rep.first().waitFor({ timeout: T });
  const repText = await rep.first().textContent();
  assert.ok(repText.includes('测试代表甲') && repText.includes('139****3333') && !repText.includes('13900003333'), repText);
  assert.equal(await duty.locator('button[data-action="representative-reveal"]').count(), 0, 'no reveal for the duty officer');
  await ctx.close();

  step('a group member is offered neither form');
  const mctx = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const member = await signIn(mctx, 'group-member');
  await member.goto(BASE + '/drills');
  assert.equal(await member.locator('button[data-action="drill-start"]').count(), 0);
  await member.goto(BASE + drillUrl.replace(/^https?:\/\/[^/]+/, ''));
  assert.equal(await member.locator('button[data-action="drill-stop"]').count(), 0);
  await member.goto(BASE + '/reserves');
  assert.equal(await member.locator('button[data-action="reserve-move"]').count(), 0);
  assert.equal(await member.locator('button[data-action="reserve-create"]').count(), 0);
  await mctx.close();
  console.log('drills e2e: ok');
} finally {
  await browser.close();
}
