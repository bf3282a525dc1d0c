// The offices' role scenarios of issue 19 in headless Chromium, on a fresh demo server: a
// petition registrar registers a repeated petition, finds the earlier one with the search box and
// links it from the page's suggestions;
// a commander approves, from their desk, a coercive step that someone else requested; an
// administrator changes a duty rotation and uploads a plan with an error, whose diagnostic is
// shown in place.

import { BASE, browser, DESKTOP, PHONE, T, step, signIn, shoot, assert } from './lib.mjs';

async function api(token, method, path, body) {
  const r = await fetch(BASE + '/api/v1' + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

try {
  step('the registrar registers a repeated petition and links the earlier one');
  const clerkCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  const clerk = await signIn(clerkCtx, 'petition-registrar');
  await clerk.goto(BASE + '/cases/new');
  // The demo has an earlier petition by 陈某 about the same grievance.
  await clerk.fill('#cn-names', '陈某');
  await clerk.fill('#cn-title', '再次来信反映农村低保资格认定问题');
  await clerk.fill('#cn-grievance', '要求重新审核家庭低保资格，并书面答复');
  await Promise.all([clerk.waitForURL(/\/cases\/[0-9a-f-]{36}$/), clerk.click('form button.primary[type=submit]')]);
  const caseUrl = clerk.url();
  await clerk.waitForSelector('#case-similar [data-similar]', { timeout: T });
  const earlier = await clerk.locator('#case-similar [data-similar]').first().getAttribute('data-similar');
  // The same earlier petition, found with the search box by words of its grievance.
  await clerk.fill('#top-search', '低保资格');
  await Promise.all([clerk.waitForURL(/\/search\?q=/), clerk.press('#top-search', 'Enter')]);
  assert.equal(await clerk.locator(`#search-results a[href="/cases/${earlier}"]`).count(), 1, 'the earlier case is found by search');
  await shoot(clerk, 'search');
  await clerk.goto(caseUrl);
  await shoot(clerk, 'case-similar');
  await Promise.all([clerk.waitForURL(caseUrl), clerk.locator(`#case-similar [data-similar="${earlier}"] [data-action=link-similar]`).click()]);
  await clerk.waitForSelector(`#case-related [data-related="${earlier}"]`);
  assert.equal(await clerk.locator(`#case-similar [data-similar="${earlier}"]`).count(), 0, 'no longer suggested once linked');

  step('a coercive step requested by one person is approved by the one it names, from the desk');
  const county = (await api('demo-duty-officer', 'GET', '/jurisdictions')).items.find((j) => j.name === '临溪市');
  const inc = await api('demo-duty-officer', 'POST', '/incidents', {
    jurisdiction_id: county.id, plan_id: 'linxiang-city-mass-petition', kind: 'event',
    title: '角色测试：人员聚集冲击大门', headcount: 600, location: '临溪市人民政府东门',
    fields: { unit: '青石镇枫林村', address: '临溪市人民政府东门', time: '今日上午', demands: '要求公开补偿标准' },
  });
  for (const [a, who] of [['verify', 'demo-duty-officer'], ['assess', 'demo-commander'], ['activate', 'demo-commander']]) {
    await api(who, 'POST', `/incidents/${inc.id}/${a}`, {});
  }
  await api('demo-duty-officer', 'POST', `/incidents/${inc.id}/consultations`, { step: 'police', participants: ['市信访局', '市公安局'], conclusion: '报请调集警力' });
  const lin = (await api('demo-commander', 'GET', '/people')).items.find((p) => p.name === '林建国');
  await api('demo-plac-secretary', 'POST', `/incidents/${inc.id}/coercive-steps`, { step: 'police', approver_id: lin.id, reason: '有人冲击大门' });
  const cmdCtx = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const commander = await signIn(cmdCtx, 'commander');
  await commander.waitForSelector('#desk-mine [data-my-decision=coercive]', { timeout: T });
  await Promise.all([commander.waitForURL(/\/incidents\//), commander.click('#desk-mine [data-my-decision=coercive] a')]);
  await Promise.all([commander.waitForLoadState('load'), commander.click('#room-coercive form[action$="coercive-approve"] button')]);
  await commander.waitForSelector('#room-coercive [data-coercive-state=approved]');
  await commander.goto(BASE + '/');
  assert.equal(await commander.locator('[data-my-decision=coercive]').count(), 0, 'decided: off the desk');

  step('the administrator changes a rotation and sees a plan error in place');
  const adminCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  const admin = await signIn(adminCtx, 'province-admin');
  await admin.goto(BASE + `/roster?jurisdiction=${county.id}`);
  const edit = admin.locator('[data-roster-edit="party-office-director"]');
  await edit.locator('summary').click();
  await edit.locator('textarea').fill('林建国\n王晓明\n高文静');
  await Promise.all([admin.waitForLoadState('load'), edit.locator('[data-action=roster-set]').click()]);
  await admin.waitForSelector('[data-roster-edit="party-office-director"]');
  assert.equal(await admin.locator('[data-roster-edit="party-office-director"] textarea').inputValue(), '林建国\n王晓明\n高文静');
  await shoot(admin, 'roster-edit');
  await admin.goto(BASE + '/admin');
  await admin.waitForSelector('#admin-people');
  await shoot(admin, 'admin');
  await admin.goto(BASE + '/plans');
  await admin.fill('#pu-file', 'broken.toml');
  await admin.fill('#pu-source', 'format = 1\n[meta]\nid = "broken-plan"\ntitle = 42\n');
  await Promise.all([admin.waitForLoadState('load'), admin.click('form[action="/plans"] button[type=submit]')]);
  const alert = await admin.textContent('[role=alert]');
  assert.match(alert, /broken\.toml:\d+:\d+/, `the diagnostic says where: ${alert}`);
  await shoot(admin, 'plan-upload-error');

  console.log('office e2e: ok');
} finally {
  await browser.close();
}
