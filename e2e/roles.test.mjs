// Role scenarios of issue 19 in headless Chromium, on a fresh demo server.
//
// A duty officer files a report and activates level II; the group member it calls, on a
// 375 px phone, acknowledges the call from the desk with one tap and finishes a task in the
// same flow; the officer escalates (上报) to the city, whose duty officer sees the new record on
// their desk; a report of 600 people (the plan's level I) asks for a ticked confirmation
// before activation; the incident list keeps finished incidents and filters them, in both
// languages at both widths.

import { BASE, browser, DESKTOP, PHONE, T, step, signIn, shoot, assert } from './lib.mjs';

async function report(page, title, headcount) {
  await page.goto(BASE + '/report?plan=linxiang-city-mass-petition');
  await page.fill('#in-title', title);
  await page.fill('#in-unit', '青石镇枫林村');
  await page.fill('#in-address', '临溪市人民政府南门');
  await page.fill('#in-demands', '要求公开补偿标准');
  await page.fill('#in-headcount', String(headcount));
  await Promise.all([page.waitForURL(/\/incidents\//), page.click('button[value=confirm]')]);
  return page.url();
}

try {
  step('the duty officer reports 120 people and activates level II');
  const officerCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  const officer = await signIn(officerCtx, 'duty-officer');
  const roomUrl = await report(officer, '角色测试：枫林村村民反映补偿', 120);
  await Promise.all([officer.waitForURL(roomUrl), officer.click('[data-action=verify]')]);
  await Promise.all([officer.waitForURL(roomUrl), officer.click('[data-action=assess]')]);
  await officer.waitForSelector('.level[data-level="II"]');
  assert.equal(await officer.locator('[data-confirm=activate]').count(), 0, 'level II needs no confirmation');
  await Promise.all([officer.waitForURL(roomUrl), officer.click('[data-action=activate]')]);
  await officer.waitForSelector('[data-status="active"]');

  step('the group member, on a phone, acknowledges the call with one tap and finishes a task');
  const memberCtx = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const member = await signIn(memberCtx, 'group-member');
  await member.waitForSelector('#desk-mine [data-action=ack-call]', { timeout: T });
  const mineBefore = await member.locator('#desk-mine [data-my-call]').count();
  await shoot(member, 'desk-my-calls');
  await member.setViewportSize(PHONE);
  await Promise.all([member.waitForURL(BASE + '/'), member.locator('#desk-mine [data-action=ack-call]').first().click()]);
  const mineAfter = await member.locator('#desk-mine [data-my-call]').count();
  assert.equal(mineAfter, mineBefore - 1, 'the acknowledged call leaves my desk');
  await member.goto(roomUrl);
  const task = member.locator('li.task:has([data-task-action=acknowledge])').first();
  const taskId = await task.getAttribute('data-task');
  assert.ok(taskId, 'a task the member may take');
  await Promise.all([member.waitForURL(roomUrl), task.locator('[data-task-action=acknowledge]').click()]);
  await Promise.all([member.waitForURL(roomUrl), member.locator(`li[data-task="${taskId}"] [data-task-action=done]`).click()]);
  await member.waitForSelector(`li[data-task="${taskId}"][data-state="done"]`);

  step('the duty officer escalates; the city duty officer sees it on the desk');
  await officer.goto(roomUrl);
  await officer.click('summary:has-text("上报上级")');
  await officer.fill('#esc-note', '人数较多，报云岭市');
  await Promise.all([officer.waitForURL(roomUrl), officer.click('[data-action=escalate]')]);
  assert.equal(await officer.locator('[data-action=escalate]').count(), 0, 'escalated once');
  const cityCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  const city = await signIn(cityCtx, 'city-duty');
  assert.match(await city.textContent('#desk-incidents'), /角色测试：枫林村村民反映补偿/);
  await shoot(city, 'desk-city');

  step('level I asks for a ticked confirmation');
  const topUrl = await report(officer, '角色测试：六百人聚集', 600);
  await Promise.all([officer.waitForURL(topUrl), officer.click('[data-action=verify]')]);
  await Promise.all([officer.waitForURL(topUrl), officer.click('[data-action=assess]')]);
  await officer.waitForSelector('.level[data-level="I"]');
  await officer.waitForSelector('[data-confirm=activate]');
  // The browser will not send the form until the box is ticked.
  await officer.click('[data-action=activate]');
  assert.equal(await officer.locator('[data-status="active"]').count(), 0, 'not activated unticked');
  await officer.check('[data-confirm=activate]');
  await Promise.all([officer.waitForURL(topUrl), officer.click('[data-action=activate]')]);
  await officer.waitForSelector('[data-status="active"]');
  await shoot(officer, 'room-level-i');

  step('the incident list, in Chinese and English');
  await officer.goto(BASE + '/incidents');
  assert.ok(await officer.locator('#incident-list [data-incident]').count() >= 2);
  await shoot(officer, 'incidents');
  await officer.goto(BASE + '/incidents?status=active');
  for (const s of await officer.locator('#incident-list [data-status]').all()) {
    assert.equal(await s.getAttribute('data-status'), 'active');
  }
  await Promise.all([officer.waitForLoadState('load'), officer.click('a[lang=en]')]);
  await officer.goto(BASE + '/incidents');
  await officer.waitForSelector('h2:has-text("Incidents")');
  await shoot(officer, 'incidents-en');

  console.log('roles e2e: ok');
} finally {
  await browser.close();
}
