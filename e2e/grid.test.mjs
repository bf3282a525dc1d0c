// A village grid worker on a 375 px phone (issue 19), on a fresh demo server: the demo's
// township is in its special period, so 枫林村 owes today's daily report (零报告) and its
// screening return to 青石镇. The worker sends the nil report in one tap and a return with
// two disputes found; the township's duty officer sees both on their pages.

import { BASE, browser, DESKTOP, PHONE, T, step, signIn, shoot, phoneChecks, assert } from './lib.mjs';

try {
  step('the grid worker sees what is owed today on the desk');
  const workerCtx = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const worker = await signIn(workerCtx, 'grid-worker');
  await worker.waitForSelector('#desk-mine [data-my-report]', { timeout: T });
  assert.equal(await worker.locator('#desk-mine [data-my-return]').count(), 1, 'the screening return is owed');
  await phoneChecks(worker, 'grid desk');
  await shoot(worker, 'grid-desk');
  await worker.setViewportSize(PHONE);

  step('a nil report in one tap');
  await Promise.all([worker.waitForURL(BASE + '/reports'), worker.click('#desk-mine [data-my-report] a[href="/reports"]')]);
  await phoneChecks(worker, 'reports');
  await shoot(worker, 'reports-owed');
  await worker.setViewportSize(PHONE);
  const slot = worker.locator('[data-report-slot]').first();
  const schedule = await slot.getAttribute('data-report-slot');
  await Promise.all([worker.waitForURL(BASE + '/reports'), slot.locator('[data-action=nil-report]').click()]);
  const state = await worker.locator(`[data-report-slot="${schedule}"]`).first().getAttribute('data-report-state');
  assert.ok(state === 'nil' || state === 'submitted_late', `the report is in (${state})`);
  assert.equal(await worker.locator('[data-action=nil-report]').count(), 0, 'nothing more to send');

  step('a screening return with two disputes found');
  await worker.goto(BASE + '/disputes');
  await worker.waitForSelector('#screening-return[data-return-state=missing]');
  await worker.click('#screening-return summary');
  await worker.fill('#ret-found', '2');
  await worker.fill('#ret-note', '排查出宅基地界址纠纷、山林承包纠纷各一起，正在调解');
  await phoneChecks(worker, 'screening return');
  await Promise.all([worker.waitForURL(BASE + '/disputes'), worker.click('[data-action=submit-return]')]);
  await worker.waitForSelector('#screening-return[data-return-state=submitted]');
  await worker.goto(BASE + '/');
  assert.equal(await worker.locator('[data-my-report], [data-my-return]').count(), 0, 'nothing owed is left on the desk');

  step('the township duty officer sees both');
  const officeCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  const office = await signIn(officeCtx, 'town-duty');
  await office.goto(BASE + '/reports');
  const row = office.locator('.report-board li:has-text("枫林村")').first();
  const boardState = await row.getAttribute('data-board-state');
  assert.ok(boardState === 'nil' || boardState === 'submitted_late', `the office sees it in (${boardState})`);
  await shoot(office, 'reports-board');
  await office.goto(BASE + '/disputes');
  const unit = office.locator('#screening-round tr:has-text("枫林村")');
  assert.equal(await unit.getAttribute('data-unit-state'), 'submitted');
  assert.match(await unit.textContent(), /2/);
  await shoot(office, 'disputes-round');

  step('the same pages in English');
  await worker.goto(BASE + '/reports?lang=en');
  await worker.waitForSelector('h1:has-text("Reports I owe")');
  await shoot(worker, 'reports-en');
  await worker.goto(BASE + '/disputes?lang=en');
  await shoot(worker, 'disputes-en');

  console.log('grid e2e: ok');
} finally {
  await browser.close();
}
