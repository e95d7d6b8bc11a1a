// Every page of the hub in German and English, in headless Chromium: zero WCAG 2.1 A/AA
// violations reported by axe-core, no request to any host but the hub, and keyboard use.
// Run by scripts/test with HUB_URL pointing at a running hub.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const HUB = process.env.HUB_URL ?? 'http://127.0.0.1:8080';
const HUB_HOST = new URL(HUB).host;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

async function json(path) {
  const r = await fetch(HUB + path);
  assert.equal(r.status, 200, path);
  return r.json();
}

/** Pages to audit: every marketplace page there is, plus error pages. */
async function pages() {
  const tools = (await json('/api/v1/tools?per_page=100')).items.map((t) => t.slug);
  const interfaces = (await json('/api/v1/interfaces')).map((i) => i.slug);
  const processes = (await json('/api/v1/processes?per_page=3')).items.map((p) => p.id);
  return [
    '/',
    '/beteiligung',
    '/beteiligung?status=alle&municipality=123',
    '/impressum',
    '/datenschutz',
    '/barrierefreiheit',
    '/marktplatz',
    '/marktplatz?q=B%C3%BCrgerhaushalt&functions=participatory-budgeting&licence=open-source',
    '/marktplatz?q=nichts-passt-hierzu',
    '/marktplatz?per_page=5&page=2&sort=name',
    '/marktplatz/schnittstellen',
    '/marktplatz/vergleich?tools=decidim,consul-democracy,go-vocal,limesurvey',
    '/marktplatz/vergleich?tools=decidim,consul-democracy&nur=unterschiede',
    '/marktplatz/vergleich?tools=decidim,polis,limesurvey,fixmystreet,klarschiff',
    '/marktplatz/vergleich',
    '/marktplatz?functions=defect-reports&licence=open-source&q=Karte',
    '/marktplatz?q=Umfrgen',
    '/marktplatz/werkzeuge/polis/verlauf',
    '/marktplatz/werkzeuge/decidim/verlauf',
    '/marktplatz/werkzeuge/civicom/anfragen?feld=costs',
    '/marktplatz/werkzeuge/decidim/anfragen?feld=costs',
    '/marktplatz/werkzeuge/gibt-es-nicht',
    '/marktplatz?page=0',
    '/marktplatz/assistent',
    '/marktplatz/assistent?f.participatory-budgeting=must&f.map-contributions=should&must=open-source&process_types=budget&run=1',
    '/marktplatz/assistent?f.defect-reports=must&f.participatory-budgeting=must&must=hosted-in-germany&run=1',
    '/marktplatz/assistent?f.defect-reports=must&f.participatory-budgeting=must&must=open-source&unknown=check&run=1',
    '/marktplatz/assistent?f.participatory-budgeting=must&must=processor-agreement&accessibility=AA&language=de&max_yearly=20000&unknown=check&languages_should=tr&min_references=2&run=1',
    '/standard',
    '/werkzeug-anbinden',
    '/api/docs',
    '/anmelden',
    '/registrieren',
    '/passwort-vergessen',
    '/passwort-neu?token=ungueltig',
    '/email-bestaetigen?token=ungueltig',
    '/oidc/authorize?client_id=unbekannt&redirect_uri=https%3A%2F%2Fevil.example%2F',
    '/oidc/logout',
    '/kommune/05315000',
    '/beteiligung/karte',
    '/beteiligung/karte?status=alle&typ=consultation',
    '/konto/geloescht/unbekannt',
    '/benachrichtigungen/abbestellen/unbekannt.x',
    // Conformance reports of the sources scripts/test set up (a pulled one, a pushing tool).
    ...(process.env.BROWSER_SOURCES ?? '').split(',').filter(Boolean).map((s) => `/standard/quellen/${s}`),
    ...processes.map((id) => `/beteiligung/${id}`),
    ...tools.map((s) => `/marktplatz/werkzeuge/${s}`),
    ...interfaces.map((s) => `/marktplatz/schnittstellen/${s}`),
  ];
}

async function audit(path, locale, existing) {
  // bypassCSP only lets the test inject axe; the page itself runs no script.
  const context = existing ?? await browser.newContext({ locale, extraHTTPHeaders: { 'accept-language': locale }, bypassCSP: true });
  const page = await context.newPage();
  const foreign = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.protocol !== 'data:' && url.host !== HUB_HOST) foreign.push(req.url());
  });
  await page.goto(HUB + path, { waitUntil: 'load' });
  assert.equal(await page.getAttribute('html', 'lang'), locale, `${path} lang`);
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  if (existing) await page.close();
  else await context.close();
  const violations = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(violations, [], `${path} [${locale}] has accessibility violations`);
  assert.deepEqual(foreign, [], `${path} [${locale}] requested other hosts`);
  return result.passes.length;
}

test('every page has no WCAG 2.1 A/AA violations and loads nothing from other hosts', async (t) => {
  for (const path of await pages()) {
    for (const locale of ['de', 'en']) {
      await t.test(`${path} [${locale}]`, async () => {
        const passes = await audit(path, locale);
        assert.ok(passes > 10, 'axe ran its rules');
      });
    }
  }
});

// WCAG 1.4.10 (reflow) at 320 CSS pixels (a 1280 px window zoomed to 400 %), and 1.4.4 (resize
// text) at 200 % zoom of a 1280 × 800 window, which Chromium lays out as 640 × 400 CSS pixels at
// two device pixels each: no page scrolls sideways, and no link of the header is cut off.
for (const [name, viewport, deviceScaleFactor] of [
  ['320 px width', { width: 320, height: 640 }, 1],
  ['200 % zoom', { width: 640, height: 400 }, 2],
]) {
  test(`no page scrolls sideways or cuts off its header at ${name}`, async (t) => {
    const context = await browser.newContext({ locale: 'de', viewport, deviceScaleFactor });
    const page = await context.newPage();
    for (const path of await pages()) {
      await t.test(path, async () => {
        await page.goto(HUB + path, { waitUntil: 'load' });
        const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
        assert.ok(scroll <= client, `${path} is ${scroll} px wide in a ${client} px window`);
        const cut = await page.evaluate(() => [...document.querySelectorAll('header a')]
          .filter((a) => a.getClientRects().length > 0)
          .filter((a) => { const r = a.getBoundingClientRect(); return r.left < 0 || r.right > document.documentElement.clientWidth; })
          .map((a) => a.textContent.trim()));
        assert.deepEqual(cut, [], `${path}: header links outside the window`);
      });
    }
    await context.close();
  });
}

test('from the start page to a process and its "Mitmachen" with the keyboard alone', async () => {
  const context = await browser.newContext({ locale: 'de' });
  const page = await context.newPage();
  await page.goto(HUB + '/');
  assert.ok(await tabTo(page, () => document.activeElement?.getAttribute('href') === '/beteiligung'), 'the way to the processes is reachable by Tab');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(page.url(), /\/beteiligung$/);
  assert.ok(await tabTo(page, () => /^\/beteiligung\/(?!karte)[^/?]+$/.test(document.activeElement?.getAttribute('href') ?? '')), 'a process is reachable by Tab');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(page.url(), /\/beteiligung\/[^/]+$/);
  assert.ok(await tabTo(page, () => document.activeElement?.textContent?.trim() === 'Mitmachen'), '"Mitmachen" is reachable by Tab');
  const target = await page.evaluate(() => document.activeElement.getAttribute('href'));
  assert.match(target, /^https?:\/\//, 'it leads into the tool');
  await context.close();
});

test('the map shows the processes of its list without tiles and without another host', async () => {
  const context = await browser.newContext({ locale: 'de' });
  const page = await context.newPage();
  const foreign = [];
  page.on('request', (req) => { if (new URL(req.url()).host !== HUB_HOST) foreign.push(req.url()); });
  await page.goto(HUB + '/beteiligung/karte?status=alle');
  await page.waitForFunction(() => document.getElementById('karte')?.dataset.markers !== undefined, null, { timeout: 10000 });
  const expected = (await json('/api/v1/processes.geojson?status=open,upcoming,closed&per_page=100')).features.filter((f) => f.geometry).length;
  assert.ok(expected > 0, 'scripts/test pushed a process with a geometry');
  assert.equal(Number(await page.getAttribute('#karte', 'data-markers')), expected, 'a marker per process with a geometry');
  assert.ok(await page.locator('#karte path.leaflet-interactive').count() >= expected, 'the markers are drawn');
  assert.deepEqual(foreign, [], 'no tiles and nothing else from another host');
  await context.close();
});

test('the vendored Leaflet is the one published on npm', () => {
  for (const file of ['leaflet.js', 'leaflet.css']) {
    const vendored = readFileSync(new URL(`../../crates/mitsprache_web/assets/vendor/leaflet/${file}`, import.meta.url));
    const published = readFileSync(require.resolve(`leaflet/dist/${file}`));
    assert.ok(vendored.equals(published), `${file} differs from leaflet@1.9.4 on npm`);
  }
});

test('the vendored KERN UX is the one published on npm, and the pages use it', async () => {
  const dir = '../../crates/mitsprache_web/assets/vendor/kern/';
  const names = ['kern.min.css', 'fonts/fira-sans.css'];
  const sheet = readFileSync(new URL(dir + 'fonts/fira-sans.css', import.meta.url), 'utf8');
  for (const m of sheet.matchAll(/url\("\.\/(fira-sans\/[^"]+)"\)/g)) names.push('fonts/' + m[1]);
  assert.equal(names.length, 12, 'the font sheet names ten faces');
  for (const name of names) {
    const vendored = readFileSync(new URL(dir + name, import.meta.url));
    const published = readFileSync(new URL('node_modules/@kern-ux/native/dist/' + name, import.meta.url));
    assert.ok(vendored.equals(published), `${name} differs from @kern-ux/native@2.7.2 on npm`);
  }
  const context = await browser.newContext({ locale: 'de' });
  const page = await context.newPage();
  const foreign = [];
  page.on('request', (r) => { if (new URL(r.url()).origin !== new URL(HUB).origin && !r.url().startsWith('data:')) foreign.push(r.url()); });
  await page.goto(HUB + '/beteiligung');
  await page.evaluate(() => document.fonts.ready);
  const used = await page.evaluate(() => ({
    font: getComputedStyle(document.querySelector('h1')).fontFamily,
    loaded: [...document.fonts].filter((f) => f.family.includes('Fira Sans') && f.status === 'loaded').length,
    button: getComputedStyle(document.querySelector('button.kern-btn')).minHeight,
  }));
  assert.match(used.font, /Fira Sans/);
  assert.ok(used.loaded >= 1, 'a Fira Sans face is loaded from the hub');
  assert.equal(used.button, '48px', "KERN's button metrics apply");
  assert.deepEqual(foreign, []);
  await context.close();
});

test('the marketplace can be used with the keyboard alone', async () => {
  const context = await browser.newContext({ locale: 'de' });
  const page = await context.newPage();
  await page.goto(HUB + '/marktplatz');
  await page.keyboard.press('Tab');
  assert.ok(await page.evaluate(() => document.activeElement?.classList.contains('skip-link')), 'first Tab reaches the skip link');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main', 'the skip link moves focus to the content');
  // Tab to the search box, type, submit with Enter.
  for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.id)) !== 'q'; i++) {
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'q', 'the search box is reachable by Tab');
  await page.keyboard.type('Mängelmelder');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(page.url(), /q=M%C3%A4ngelmelder/);
  assert.ok(await page.locator('a[href="/marktplatz/werkzeuge/maengelmelder"]').count() > 0);
  // Tick a tool for comparison with Space and submit.
  await page.focus('#cmp-maengelmelder');
  await page.keyboard.press('Space');
  assert.ok(await page.isChecked('#cmp-maengelmelder'));
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/marktplatz.png`, fullPage: true });
  await context.close();
});

test('the matching assistant can be used with the keyboard alone', async () => {
  const context = await browser.newContext({ locale: 'de' });
  const page = await context.newPage();
  await page.goto(HUB + '/marktplatz/assistent');
  // Tab to the first function's choices, move to "Muss" with the arrow keys.
  for (let i = 0; i < 20 && (await page.evaluate(() => document.activeElement?.name)) !== 'f.proposals'; i++) {
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement?.name), 'f.proposals', 'the function choices are reachable by Tab');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.ok(await page.isChecked('#f-proposals-must'), 'arrow keys choose within a radio group');
  // Tab on to the submit button and press Enter.
  for (let i = 0; i < 200 && (await page.evaluate(() => document.activeElement?.getAttribute('type'))) !== 'submit'; i++) {
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('type')), 'submit', 'the submit button is reachable by Tab');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(page.url(), /f\.proposals=must/);
  assert.match(page.url(), /run=1/);
  assert.ok(await page.locator('#result-heading').count() === 1, 'the result is shown');
  await context.close();
});

// Pages behind a login: log in by keyboard in Chromium (as a person would), then audit the
// consent screen, the account page and the admin pages in both languages. scripts/test
// creates the account (an admin) and the tool: BROWSER_EMAIL, BROWSER_PASSWORD, BROWSER_CLIENT_ID.
test('login, consent, account and admin pages: keyboard login, no violations', { skip: !process.env.BROWSER_EMAIL }, async (t) => {
  for (const locale of ['de', 'en']) {
    const context = await browser.newContext({ locale, extraHTTPHeaders: { 'accept-language': locale }, bypassCSP: true });
    const page = await context.newPage();
    const authorize = `/oidc/authorize?${new URLSearchParams({
      client_id: process.env.BROWSER_CLIENT_ID,
      redirect_uri: 'http://localhost:8999/callback',
      response_type: 'code',
      scope: 'openid email profile',
      state: 's',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`;
    await page.goto(HUB + authorize);
    assert.match(page.url(), /\/anmelden\?anfrage=/);
    await page.focus('#email');
    await page.keyboard.type(process.env.BROWSER_EMAIL);
    await page.keyboard.press('Tab');
    await page.keyboard.type(process.env.BROWSER_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.match(page.url(), /\/oidc\/zustimmung\?anfrage=/, `after login the consent screen asks; at ${page.url()}: ${(await page.content()).match(/role="alert"[^]*?<\/div>/)?.[0]}`);
    const consent = new URL(page.url());
    await page.close();
    for (const path of [consent.pathname + consent.search, '/konto', '/meine-beteiligung', '/admin/clients', '/admin/konten',
      '/admin/quellen', '/admin/loeschungen',
      '/redaktion', '/redaktion/vorschlaege', '/anbieter', '/anbieter/werkzeuge/polis/vorschlag?feld=costs',
      '/anbieter/werkzeuge/polis/vorschlag?feld=training', '/marktplatz/werkzeuge/polis/anfragen?feld=accessibility',
      // A process's page signed in: with the follow button.
      ...(await json('/api/v1/processes?per_page=1')).items.map((p) => `/beteiligung/${p.id}`)]) {
      await t.test(`${path.split('?')[0]} [${locale}]`, async () => {
        assert.ok(await audit(path, locale, context) > 10, 'axe ran its rules');
      });
    }
    await context.close();
  }
});

/** Logs in on the hub's own login page with the keyboard alone. */
async function keyboardLogin(page, email, password) {
  await page.goto(HUB + '/anmelden');
  await page.focus('#email');
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

/** Presses Tab until the focused element matches, at most `limit` times. */
async function tabTo(page, predicate, limit = 200) {
  for (let i = 0; i < limit; i++) {
    if (await page.evaluate(predicate)) return true;
    await page.keyboard.press('Tab');
  }
  return page.evaluate(predicate);
}

// The vendor flow by keyboard, audited on the way: an editor links a vendor's account, the
// vendor proposes a fact, the editor publishes it, the tool page says whose statement it is.
test('the vendor flow works with the keyboard alone', { skip: !process.env.BROWSER_VENDOR_EMAIL }, async () => {
  const editorContext = await browser.newContext({ locale: 'de', bypassCSP: true });
  const editor = await editorContext.newPage();
  await keyboardLogin(editor, process.env.BROWSER_EMAIL, process.env.BROWSER_PASSWORD);
  await editor.goto(HUB + '/redaktion');
  await editor.focus('#link-email');
  await editor.keyboard.type(process.env.BROWSER_VENDOR_EMAIL);
  await editor.keyboard.press('Tab');
  await editor.keyboard.type('Polis');
  await editor.keyboard.press('Tab');
  await editor.keyboard.type('Adresse bei der Domain des Anbieters');
  await Promise.all([editor.waitForNavigation(), editor.keyboard.press('Enter')]);
  assert.ok((await editor.content()).includes(process.env.BROWSER_VENDOR_EMAIL), 'the link is listed');

  for (const locale of ['de', 'en']) {
    const vendorContext = await browser.newContext({ locale, extraHTTPHeaders: { 'accept-language': locale }, bypassCSP: true });
    const vendor = await vendorContext.newPage();
    await keyboardLogin(vendor, process.env.BROWSER_VENDOR_EMAIL, process.env.BROWSER_PASSWORD);
    for (const path of ['/anbieter', '/anbieter/werkzeuge/polis/vorschlag?feld=languages']) {
      assert.ok(await audit(path, locale, vendorContext) > 10, `${path} [${locale}]`);
    }
    if (locale === 'de') {
      await vendor.goto(HUB + '/anbieter/werkzeuge/polis/vorschlag?feld=multi_tenancy');
      assert.ok(await tabTo(vendor, () => document.activeElement?.id === 'in-supported'), 'the first field is reachable by Tab');
      await vendor.keyboard.press('ArrowDown');
      assert.ok(await tabTo(vendor, () => document.activeElement?.id === 'in-note_de'));
      await vendor.keyboard.type('Mehrere Organisationen auf einer Instanz');
      assert.ok(await tabTo(vendor, () => document.activeElement?.getAttribute('type') === 'submit'), 'the submit button is reachable by Tab');
      await Promise.all([vendor.waitForNavigation(), vendor.keyboard.press('Enter')]);
      assert.match(vendor.url(), /\/anbieter\?hinweis=vorgeschlagen/);
    }
    await vendorContext.close();
  }

  await editor.goto(HUB + '/redaktion/vorschlaege');
  assert.ok(await audit('/redaktion/vorschlaege', 'de', editorContext) > 10);
  await editor.goto(HUB + '/redaktion/vorschlaege');
  assert.ok(await tabTo(editor, () => document.activeElement?.value === 'publish'), 'publish is reachable by Tab');
  await Promise.all([editor.waitForNavigation(), editor.keyboard.press('Enter')]);
  const tool = await editor.goto(HUB + '/marktplatz/werkzeuge/polis');
  assert.equal(tool.status(), 200);
  assert.match(await editor.content(), /Angabe des Anbieters vom/);
  await editorContext.close();
});
