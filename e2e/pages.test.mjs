// Every console page, as the person it is for, at 1280 and 375 px in zh-CN and English
// (issue 19): each opens, fits a phone screen without sideways scrolling, labels every input,
// and is kept as a screenshot (e2e/screenshots/pages-*).

import { BASE, browser, DESKTOP, step, signIn, shoot, assert } from './lib.mjs';

const PAGES = [
  ['duty-officer', ['/', '/incidents', '/report', '/cases', '/roster', '/plans', '/plans/linxiang-city-mass-petition', '/reports', '/statistics', '/releases']],
  ['petition-registrar', ['/cases?show=all', '/cases/new', '/statistics?by=channel']],
  ['town-duty', ['/disputes', '/reports', '/statistics', '/releases']],
  ['grid-worker', ['/', '/reports', '/disputes']],
  ['auditor', ['/audit']],
  ['province-admin', ['/admin']],
];

try {
  for (const lang of ['zh-CN', 'en']) {
    for (const [login, paths] of PAGES) {
      const ctx = await browser.newContext({ viewport: DESKTOP, locale: lang });
      const page = await signIn(ctx, login);
      if (lang === 'en' && await page.locator('a[lang=en]').count() > 0) {
        await Promise.all([page.waitForLoadState('load'), page.click('a[lang=en]')]);
      }
      for (const path of paths) {
        step(`${lang} ${login} ${path}`);
        const r = await page.goto(BASE + path);
        assert.equal(r.status(), 200, `${path} as ${login}`);
        assert.equal(await page.getAttribute('html', 'lang'), lang);
        const name = `pages-${lang}-${login}-${path.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '') || 'desk'}`;
        await shoot(page, name);
      }
      // A case and an incident room and a dispute, opened from their lists.
      if (login === 'duty-officer' || login === 'petition-registrar' || login === 'town-duty') {
        const link = login === 'town-duty' ? '#dispute-list a[href^="/disputes/"]'
          : login === 'petition-registrar' ? '#case-queue a[href^="/cases/"]' : '#incident-list a[href^="/incidents/"]';
        const from = login === 'town-duty' ? '/disputes' : login === 'petition-registrar' ? '/cases?show=all' : '/incidents';
        await page.goto(BASE + from);
        const href = await page.locator(link).first().getAttribute('href');
        assert.ok(href, `a record to open from ${from}`);
        await page.goto(BASE + href);
        await shoot(page, `pages-${lang}-${login}-record`);
      }
      await ctx.close();
    }
  }
  console.log('pages e2e: ok');
} finally {
  await browser.close();
}
