// restart.mjs: two plain EventSources on one litepush channel, held open
// while tests/restart-eventsource.sh restarts litepush-sse under them:
// Chromium's own, in tests/restart_page.html as the web server under test
// serves it, and npm's eventsource package, here in Node.  Neither is ever
// told to reconnect: what comes back comes back by itself.
//
//   LITEPUSH_PAGE     the page: http://127.0.0.1:PORT/restart_page.html?channel=C
//   LITEPUSH_STREAM   the stream for Node: http://127.0.0.1:PORT/stream?channel=C
//   LITEPUSH_LOG      the file every observation is appended to, one a line:
//                     "<unix ms> browser|node <what> ...", where <what> is
//                     open <readyState>, event <id> <data>,
//                     error <readyState> [<status>], request <Last-Event-ID or ->,
//                     status <HTTP status>, failed <reason>, final <readyState>
//   LITEPUSH_PROFILE  a fresh Chromium profile directory
//
// Runs until SIGTERM; then logs each client's readyState (final), closes
// both and exits 0.

import { appendFileSync } from 'node:fs';
import { EventSource } from 'eventsource';
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

// Appends one line for client (browser or node).  Note that it is
// synchronous, so the script that reads the file never sees half a line.
function log(client, line) {
  appendFileSync(env.LITEPUSH_LOG, `${Date.now()} ${client} ${line}\n`);
}

const isStream = (url) => new URL(url).pathname === '/stream';

// Chromium.  Playwright is told to leave the signals alone: SIGTERM is the
// script's "stop", answered below.
const context = await chromium.launchPersistentContext(env.LITEPUSH_PROFILE, {
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
  handleSIGTERM: false,
  handleSIGINT: false,
  handleSIGHUP: false,
});
const page = context.pages()[0] ?? await context.newPage();
await page.exposeFunction('report', (line) => log('browser', line));
page.on('request', async (request) => {
  if (!isStream(request.url())) return;
  const lastEventId = await request.headerValue('last-event-id');
  log('browser', `request ${lastEventId ?? '-'}`);
});
page.on('response', (response) => {
  if (isStream(response.url())) log('browser', `status ${response.status()}`);
});
page.on('requestfailed', (request) => {
  if (isStream(request.url())) {
    log('browser', `failed ${request.failure()?.errorText ?? 'unknown'}`);
  }
});
await page.goto(env.LITEPUSH_PAGE);

// npm's eventsource, with a fetch that reports what the package asks for
// and what it gets.
const source = new EventSource(env.LITEPUSH_STREAM, {
  fetch: async (url, init) => {
    log('node', `request ${init.headers?.['Last-Event-ID'] ?? '-'}`);
    try {
      const response = await fetch(url, init);
      log('node', `status ${response.status}`);
      return response;
    } catch (error) {
      log('node', `failed ${error.cause?.code ?? error.message}`);
      throw error;
    }
  },
});
source.onopen = () => log('node', `open ${source.readyState}`);
source.onmessage = (event) => log('node', `event ${event.lastEventId} ${event.data}`);
source.onerror = (event) => {
  log('node', `error ${source.readyState}${event.code ? ` ${event.code}` : ''}`);
};

process.on('SIGTERM', async () => {
  let status = 0;
  try {
    log('browser', `final ${await page.evaluate(() => window.source.readyState)}`);
    log('node', `final ${source.readyState}`);
    source.close();
    await context.close();
  } catch (error) {
    console.error(error);
    status = 1;
  }
  process.exit(status);
});
