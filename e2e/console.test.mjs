// End-to-end test of the web console in headless Chromium (Debian's chromium, driven by
// playwright-core). Run by crates/yingji/tests/console_e2e.rs, which starts `yingji serve` with
// the demo on a free port and passes BASE_URL. Screenshots go to e2e/screenshots/.
//
// Scenario: a duty officer signs in with login and password, files a report of 120 people
// against the Linxiang plan, sees level II proposed, verifies, grades and activates; a group
// member, watching the incident room in a second browser context, sees the response tasks
// appear without reloading and acknowledges one; the officer sees that live too; the commander
// (signed in with a demo token) ends the response; the officer records a commitment. A petition
// registrar registers a case and sees its due date, in the queue too; the officer visits the
// case queue, the roster and the disputes pages, and switches to English. Every page is also
// checked at 375 px for horizontal overflow and unlabelled inputs.

import { BASE, browser, DESKTOP, PHONE, T, step, signIn, signInDemoToken, phoneChecks, shoot, assert } from './lib.mjs';

try {
  // --- The duty officer signs in.
  step('sign in as the duty officer');
  const officerCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  {
    const p = await officerCtx.newPage();
    await p.goto(BASE + '/signin');
    await shoot(p, 'signin');
    await p.close();
  }
  {
    // A wrong password is refused with the reason, and no session.
    const p = await officerCtx.newPage();
    await p.goto(BASE + '/signin');
    await p.fill('#login', 'duty-officer');
    await p.fill('#password', 'not-the-password');
    await Promise.all([p.waitForLoadState('load'), p.click('#password-signin button[type=submit]')]);
    assert.match(await p.textContent('[role=alert]'), /用户名或密码错误/);
    await p.close();
  }
  const officer = await signIn(officerCtx, 'duty-officer');
  await officer.waitForSelector('h1:has-text("值班台")');
  assert.ok(await officer.locator('.badge.drill').count() > 0, 'the demo drill is marked as a drill');
  await shoot(officer, 'desk');

  // --- The intake form: 120 people against the Linxiang plan; level II proposed.
  step('file a report of 120 people; see level II proposed');
  await officer.goto(BASE + '/report?plan=linxiang-city-mass-petition');
  await officer.fill('#in-title', '端到端测试：青石镇村民集体反映征地补偿');
  await officer.fill('#in-unit', '青石镇枫林村');
  await officer.fill('#in-address', '临溪市人民政府南门');
  await officer.fill('#in-demands', '要求公开征地补偿标准');
  await officer.fill('#in-headcount', '120');
  // Live proposal as the officer types (the script), then the same without script (preview).
  await officer.waitForSelector('#proposal [data-level="II"]', { timeout: T });
  await Promise.all([officer.waitForLoadState('load'), officer.click('button[value=preview]')]);
  await officer.waitForSelector('#proposal [data-level="II"]');
  assert.match(await officer.textContent('#proposal'), /重大/);
  assert.match(await officer.textContent('#proposal'), /100/, 'the matching rule is shown');
  await shoot(officer, 'intake');
  await Promise.all([officer.waitForURL(/\/incidents\//), officer.click('button[value=confirm]')]);
  const roomUrl = officer.url();
  await officer.waitForSelector('[data-status="reported"]');

  // --- The group member watches the room in a second browser context.
  step('a group member opens the room in a second browser context');
  const memberCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  const member = await signIn(memberCtx, 'group-member');
  await member.goto(roomUrl);
  await member.waitForFunction(() => document.body.getAttribute('data-live-ready') === '1', null, { timeout: T });
  await member.evaluate(() => { window.__sameDocument = true; });
  const orderTasksBefore = await member.locator('#room-tasks h3:has-text("现场秩序维护组")').count();
  assert.equal(orderTasksBefore, 0, 'no order-group tasks before activation');

  // --- Verify, grade as proposed, activate.
  step('verify, grade as II, activate');
  await Promise.all([officer.waitForURL(roomUrl), officer.click('[data-action=verify]')]);
  await officer.waitForSelector('[data-status="verified"]');
  await Promise.all([officer.waitForURL(roomUrl), officer.click('[data-action=assess]')]);
  await officer.waitForSelector('.level[data-level="II"]');
  await Promise.all([officer.waitForURL(roomUrl), officer.click('[data-action=activate]')]);
  await officer.waitForSelector('[data-status="active"]');

  step('the tasks appear live on the second page');
  await member.waitForSelector('#room-tasks h3:has-text("现场秩序维护组")', { timeout: T });
  assert.equal(await member.evaluate(() => window.__sameDocument), true, 'updated without a reload');
  await shoot(member, 'room-member');

  // --- The member acknowledges an order-group task.
  step('the group member acknowledges a task');
  await member.evaluate(() => { window.__sameDocument = true; });
  await officer.evaluate(() => { window.__sameDocument = true; });
  const order = member.locator('#room-tasks h3:has-text("现场秩序维护组") + ul li.task').first();
  const taskId = await order.getAttribute('data-task');
  assert.ok(taskId, 'an order-group task');
  await Promise.all([member.waitForURL(roomUrl), order.locator('[data-task-action=acknowledge]').click()]);
  await member.waitForSelector(`li[data-task="${taskId}"][data-state="acknowledged"]`);
  assert.match(await member.textContent(`li[data-task="${taskId}"]`), /郑国平/);
  // The officer's room follows without a reload.
  await officer.waitForSelector(`li[data-task="${taskId}"][data-state="acknowledged"]`, { timeout: T });
  assert.equal(await officer.evaluate(() => window.__sameDocument), true, 'officer updated without a reload');

  // --- End the response, record a commitment.
  // Ending is an approval: only the commander the plan names for level II (the 政法委书记,
  // 钱立新) may end it; the duty officer's attempt is refused with the reason shown.
  step('the duty officer is not offered 结束响应, and a forged form post is refused');
  assert.equal(await officer.locator('summary:has-text("结束响应")').count(), 0, 'no end button');
  const forged = await officer.evaluate(async () => {
    const csrf = document.querySelector('input[name=csrf]').value;
    const r = await fetch(location.pathname + '/do/end', {
      method: 'POST',
      body: new URLSearchParams({ csrf, reason: '群众代表已与有关部门对话' }),
    });
    return r.status;
  });
  assert.equal(forged, 403, 'the forged end is refused as the API refuses it');
  await officer.reload();
  assert.equal(await officer.locator('[data-status="ended"]').count(), 0, 'still active');

  step('the commander ends the response');
  const commanderCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  const commander = await signInDemoToken(commanderCtx, 'demo-plac-secretary');
  await commander.goto(roomUrl);
  await commander.click('summary:has-text("结束响应")');
  await commander.fill('#end-reason', '群众代表已与有关部门对话，现场人员已散去');
  await Promise.all([commander.waitForURL(roomUrl), commander.click('[data-action=end]')]);
  await commander.waitForSelector('[data-status="ended"]');
  await commanderCtx.close();
  await officer.goto(roomUrl);
  await officer.waitForSelector('[data-status="ended"]');

  step('record a commitment');
  await officer.click('#add-obligation summary');
  await officer.fill('#ob-text', '十五日内书面答复征地补偿标准');
  await officer.fill('#ob-owner', '临溪市自然资源局');
  await Promise.all([officer.waitForURL(roomUrl), officer.click('#add-obligation button[type=submit]')]);
  await officer.waitForSelector('#room-owed li:has-text("十五日内书面答复征地补偿标准")');
  assert.match(await officer.textContent('#room-timeline'), /记录承诺或答复/);
  await shoot(officer, 'room');

  // The desk lists the commitment as owed.
  await officer.goto(BASE + '/');
  await officer.waitForSelector('#desk-owed li:has-text("十五日内书面答复征地补偿标准")');

  // --- Plans.
  step('plans: list, document, simulate, check');
  await officer.goto(BASE + '/plans');
  await shoot(officer, 'plans');
  await officer.click('a[href="/plans/linxiang-city-mass-petition"]');
  await officer.waitForSelector('table.levels .level.lv-orange:has-text("II")');
  await shoot(officer, 'plan');
  await officer.goto(BASE + '/plans/linxiang-city-mass-petition/simulate?headcount=120');
  assert.match(await officer.textContent('main'), /II 重大/);
  await shoot(officer, 'simulate');

  // --- Cases: a petition registrar registers a case and sees its due date.
  step('register a case and see its due date');
  const clerkCtx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
  const clerk = await signIn(clerkCtx, 'petition-registrar');
  await clerk.goto(BASE + '/cases');
  await clerk.click('#register-case');
  await clerk.waitForSelector('#case-form');
  await clerk.selectOption('#cn-channel', 'visit');
  await clerk.fill('#cn-names', '周某');
  await clerk.fill('#cn-contact', '13912344321');
  await clerk.fill('#cn-address', '临溪市青石镇枫林村三组');
  await clerk.fill('#cn-title', '端到端测试：来访反映宅基地确权问题');
  await clerk.fill('#cn-grievance', '要求尽快办理宅基地确权登记');
  await shoot(clerk, 'case-new');
  await Promise.all([clerk.waitForURL(/\/cases\/[0-9a-f-]{36}$/), clerk.click('#case-form button[type=submit]')]);
  const caseUrl = clerk.url();
  const due = await clerk.getAttribute('[data-due-on]', 'data-due-on');
  assert.match(due, /^\d{4}-\d{2}-\d{2}$/, 'the case page shows its due date');
  assert.match(await clerk.textContent('#case-facts'), new RegExp(due));
  assert.match(await clerk.textContent('[data-clock]'), /剩余 \d+ (天|个工作日)/);
  const facts = await clerk.textContent('#case-petitioners');
  assert.match(facts, /139\*+4321/, 'the phone is masked');
  assert.ok(!(await clerk.content()).includes('13912344321'), 'the raw phone is never on the page');
  assert.ok(await clerk.locator('[data-action=propose]').count() === 1, 'the registrar may propose');
  assert.equal(await clerk.locator('[data-action=approve]').count(), 0, 'approving is for the posts the rules name');
  await shoot(clerk, 'case');
  // The queue lists it with its clock and due date.
  await clerk.goto(BASE + '/cases');
  const line = clerk.locator(`li.case[data-case="${caseUrl.split('/').pop()}"]`);
  assert.match(await line.textContent(), new RegExp(due));
  await clerkCtx.close();

  step('the case queue, filtered; the desk boards');
  await officer.goto(BASE + '/cases');
  await officer.waitForSelector('li.case');
  await shoot(officer, 'cases');
  await officer.click('a[data-filter=overdue]');
  await officer.waitForURL(/show=overdue/);
  await officer.waitForSelector('li.case .clock.bad');
  assert.match(await officer.textContent('#case-queue'), /已超期/);
  await officer.click('a[data-filter=soon]');
  await officer.waitForURL(/show=soon/);
  assert.ok(await officer.locator('li.case').count() >= 2, 'near and past due');
  await shoot(officer, 'cases-soon');
  await officer.goto(BASE + '/');
  await officer.waitForSelector('#desk-cases li.case');
  assert.ok(await officer.locator('#desk-calls li').count() > 0, 'unacknowledged calls on the desk');
  await officer.waitForSelector('#desk-reports');

  step('roster and disputes');
  await officer.click('nav a[href="/roster"]');
  await officer.waitForSelector('#roster-now tr[data-post="plac-secretary"]');
  assert.match(await officer.textContent('#roster-now tr[data-post="plac-secretary"]'), /钱立新/);
  assert.match(await officer.textContent('#roster-schedule'), /白班/);
  assert.ok(await officer.locator('#roster-gaps li').count() > 0, 'vacant posts show as gaps');
  await shoot(officer, 'roster');
  await officer.click('nav a[href="/disputes"]');
  await officer.waitForSelector('#screening-round [data-unit-state="submitted"]');
  assert.match(await officer.textContent('#dispute-list'), /土地流转/);
  await shoot(officer, 'disputes');

  // --- Switch to English.
  step('switch to English');
  await officer.goto(roomUrl);
  await Promise.all([officer.waitForURL(roomUrl), officer.click('a[lang=en]')]);
  await officer.waitForSelector('h2:has-text("Commitments and replies")');
  assert.match(await officer.textContent('[data-status]'), /Response ended/);
  assert.equal(await officer.getAttribute('html', 'lang'), 'en');
  await shoot(officer, 'room-en');
  await officer.goto(BASE + '/');
  await officer.waitForSelector('h1:has-text("Duty desk")');
  await shoot(officer, 'desk-en');
  await officer.goto(BASE + '/cases');
  await officer.waitForSelector('h1:has-text("Petition cases")');
  await shoot(officer, 'cases-en');
  await officer.goto(caseUrl);
  await officer.waitForSelector('h2:has-text("Proposal and approvals")');
  await shoot(officer, 'case-en');

  console.log('console e2e: ok');
} finally {
  await browser.close();
}
