// cors.mjs: Chromium's own EventSource in pages of one origin reading a
// litepush stream of another, held open while tests/cors-browser.sh
// restarts litepush-sse under them.  Each page is tests/cors_page.html as
// the page's web server serves it; none is ever told to reconnect.
//
//   LITEPUSH_PAGES    the pages, "CLIENT=URL" each, separated by spaces
//   LITEPUSH_COOKIE   "NAME=VALUE HOST": a cookie set before the pages load
//                     (the grant a withCredentials page sends); may be unset
//   LITEPUSH_LOG      the file every observation is appended to, one a line:
//                     "<unix ms> CLIENT <what> ...", where <what> is
//                     open <readyState>, event <id> <data>, error <readyState>,
//                     request <Last-Event-ID or ->, status <HTTP status>,
//                     probe <status> <first line> | probe failed <error>
//                     (the page's fetch() with Last-Event-ID: 1, once
//                     its EventSource has opened or failed),
//                     final <readyState>
//   LITEPUSH_PROFILE  a fresh Chromium profile directory
//
// Runs until SIGTERM; then logs each page's readyState (final), closes
// Chromium and exits 0.

import { appendFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const env = process.env;

// Chromium as Debian ships it; never a downloaded one.  Without the
// background-networking flags it keeps trying to reach Google's servers.
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync',
];

// Appends one line for client.  Note that it is synchronous, so the
// script that reads the file never sees half a line.
function log(client, line) {
  appendFileSync(env.LITEPUSH_LOG, `${Date.now()} ${client} ${line}\n`);
}

// The EventSource's own requests, not the probe's fetch().
const isSource = (request) => request.resourceType() === 'eventsource';

const context = await chromium.launchPersistentContext(env.LITEPUSH_PROFILE, {
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
  handleSIGTERM: false,
  handleSIGINT: false,
  handleSIGHUP: false,
});
if (env.LITEPUSH_COOKIE) {
  const [pair, domain] = env.LITEPUSH_COOKIE.split(' ');
  const [name, value] = pair.split('=');
  await context.addCookies([{ name, value, domain, path: '/' }]);
}

// Opens one page for client at url, its stream's requests logged.
async function open(client, url) {
  const page = await context.newPage();
  await page.exposeFunction('report', (line) => log(client, line));
  page.on('request', async (request) => {
    if (!isSource(request)) return;
    const lastEventId = await request.headerValue('last-event-id');
    log(client, `request ${lastEventId ?? '-'}`);
  });
  page.on('response', (response) => {
    if (isSource(response.request())) log(client, `status ${response.status()}`);
  });
  await page.goto(url);
  return [client, page];
}

const pages = [];
for (const entry of env.LITEPUSH_PAGES.split(' ').filter(Boolean)) {
  const at = entry.indexOf('=');
  pages.push(await open(entry.slice(0, at), entry.slice(at + 1)));
}
for (const [client, page] of pages) {
  await page.waitForFunction(() => window.source.readyState !== 0);
  log(client, await page.evaluate(() => window.probe('1')));
}

process.on('SIGTERM', async () => {
  let status = 0;
  try {
    for (const [client, page] of pages) {
      log(client, `final ${await page.evaluate(() => window.source.readyState)}`);
    }
    await context.close();
  } catch (error) {
    console.error(error);
    status = 1;
  }
  process.exit(status);
});
