// pages.mjs: litepush's pages (www/) in headless Chromium, driven by
// playwright-core.  tests/browser.sh starts the stack and passes it here:
//
//   LITEPUSH_URL          the site, http://127.0.0.1:PORT
//   LITEPUSH_DB           the store, written with the sqlite3 shell
//   LITEPUSH_CONTROL      tests/browser/control.sh, which stops and starts
//                         the daemons
//   LITEPUSH_SCREENSHOTS  where the screenshots go
//   LITEPUSH_SERVER       lighttpd or apache (names the screenshots)
//   LITEPUSH_PROFILE      a fresh Chromium profile directory
//   LITEPUSH_JWT_KEY      the HS256 secret both daemons check grants with
//   LITEPUSH_TOKEN_DIR    the site's /private/, where token.html reads
//                         token.txt
//   stack_build           the build tree (tests/stack_setup.sh), for
//                         cli/litepush
//
// The login's users are tests/stack_setup.sh's: alice and bob, with the
// passwords alice-secret and bob-secret.
//
// Prints one "ok - ..." or "not ok - ..." line per check (with Expected /
// But got lines after a failure) and "# done" at the end.  Note that no
// check waits for a time: each waits for something to appear on a page,
// with a timeout only to give up.

import { execFileSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const TIMEOUT_MS = 60000;

// Chromium as Debian ships it; never a downloaded one.  Without the
// background-networking flags it keeps trying to reach Google's servers.
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic',
];

// --- reporting ------------------------------------------------------------

class Mismatch extends Error {
  constructor(expected, got) {
    super(`Expected: ${expected}\nBut got: ${got}`);
  }
}

// Throws a Mismatch unless got and expected are the same (as JSON).
function expectEqual(expected, got) {
  const e = JSON.stringify(expected);
  const g = JSON.stringify(got);
  if (e !== g) throw new Mismatch(e, g);
}

// Runs one check and prints its line.
async function check(description, body) {
  try {
    await body();
    console.log(`ok - ${description}`);
  } catch (error) {
    console.log(`not ok - ${description}`);
    const lines = String(error instanceof Mismatch ? error.message
                                                   : error.stack || error);
    for (const line of lines.split('\n').slice(0, 12)) {
      console.log(error instanceof Mismatch ? line : `# ${line}`);
    }
  }
}

// --- the store and the daemons ----------------------------------------------

// Runs SQL in the sqlite3 shell, as a publisher would; returns its output.
function sql(statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 10000', env.LITEPUSH_DB,
                                  statement], {encoding: 'utf8'}).trim();
}

const quote = (text) => `'${String(text).replaceAll("'", "''")}'`;

// INSERTs rows [{event, data}] into channel, each committed on its own;
// returns their ids.
function insert(channel, rows) {
  const statements = rows.map((row) =>
    `INSERT INTO events(channel, event, data) VALUES(${quote(channel)}, ` +
    `${row.event ? quote(row.event) : 'NULL'}, ${quote(row.data)}) ` +
    'RETURNING id;');
  return sql(statements.join('\n')).split('\n');
}

// Returns the ids of channel, in order.
function idsOf(channel) {
  const out = sql(`SELECT id FROM events WHERE channel = ${quote(channel)} ORDER BY id`);
  return out === '' ? [] : out.split('\n');
}

// Runs build/cli/litepush with args; returns its output.
function litepush(...args) {
  return execFileSync(join(env.stack_build, 'cli', 'litepush'), args,
                      {encoding: 'utf8'}).trim();
}

// Runs control.sh ACTION (start-sse, kill-sse, start-ws, stop-ws).
function control(action) {
  execFileSync('sh', [env.LITEPUSH_CONTROL, action],
               {stdio: ['ignore', 'ignore', 'pipe']});
}

// Mints an HS256 grant with Debian's python3-jwt (not litepush's code;
// Debian's python, as tests/lib.sh's) and the daemons' key; claims.exp is
// in unix seconds.
function mint(claims) {
  return execFileSync('/usr/bin/python3', ['-c', `
import json, jwt, sys
key = open(sys.argv[2], "rb").read().rstrip(b"\\n")
print(jwt.encode(json.loads(sys.argv[1]), key, algorithm="HS256"))`,
                                  JSON.stringify(claims), env.LITEPUSH_JWT_KEY],
                      {encoding: 'utf8'}).trim();
}

// Puts token in the site's /private/token.txt, whole (a rename), for the
// callback of token.html.
function serveToken(token) {
  const path = join(env.LITEPUSH_TOKEN_DIR, 'token.txt');
  writeFileSync(`${path}.tmp`, `${token}\n`, {mode: 0o644});
  renameSync(`${path}.tmp`, path);
}

// Returns an exp (unix seconds) that leaves between atLeastMs and
// atLeastMs + 1000 ms from now (exp is in whole seconds).
function expIn(atLeastMs) {
  return Math.ceil((Date.now() + atLeastMs) / 1000);
}

// Resolves once the clock is past ms (unix ms): a wait for the clock
// itself, as a grant's end is.
async function clockPast(ms) {
  while (Date.now() <= ms) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, ms + 1 - Date.now())));
  }
}

// Answers a request through the web server with status and first line.
async function statusOf(path, headers = {}) {
  const response = await fetch(`${env.LITEPUSH_URL}${path}`, {headers});
  const body = await response.text();
  return `${response.status} ${body.split('\n')[0]}`;
}

const basic = (user) => ({Authorization: 'Basic ' +
  Buffer.from(`${user}:${user}-secret`).toString('base64')});

// --- the pages ------------------------------------------------------------

const pageErrors = [];
let context;

// Opens a page of the site in a new tab (of where: a browser context).
async function openPage(path, where = context) {
  const page = await where.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('pageerror', (error) => pageErrors.push(`${path}: ${error.message}`));
  page.streamRequests = [];
  page.on('request', (request) => {
    if (/\/stream\?/.test(request.url())) page.streamRequests.push(request.url());
  });
  page.on('websocket', (socket) => page.streamRequests.push(socket.url()));
  await page.goto(`${env.LITEPUSH_URL}/${path}`);
  return page;
}

// Waits until the state badge (#state or another) shows state.
function waitState(page, state, selector = '#state') {
  return page.waitForSelector(`${selector}[data-state="${state}"]`);
}

// Waits until the page's stream is open, at most until the unix time exp
// (seconds): a page that opens later met an expired grant, which the
// scenario cannot use.  Returns whether it opened in time.
async function openedBefore(page, exp) {
  const left = exp * 1000 - Date.now();
  if (left <= 0) return false;
  return page.waitForSelector('#state[data-state="open"]', {timeout: left})
    .then(() => true, () => false);
}

// Returns the rows of the log of index.html or ws.html, oldest first.
function logRows(page) {
  return page.$$eval('#log tbody tr', (rows) => rows.reverse().map((row) => ({
    id: row.dataset.id,
    event: row.querySelector('.event').textContent,
    data: row.querySelector('.data').textContent,
  })));
}

async function logIds(page) {
  return (await logRows(page)).map((row) => row.id);
}

// Waits until every id of ids is on the page (elements matching selector
// with data-id).
function waitIds(page, ids, selector = '#log tbody tr') {
  return page.waitForFunction(([sel, wanted]) => {
    const seen = new Set([...document.querySelectorAll(sel)]
      .map((element) => element.dataset.id));
    return wanted.every((id) => seen.has(id));
  }, [selector, ids], {polling: 100});
}

// Returns the messages of chat.html, oldest first.
function chatMessages(page) {
  return page.$$eval('#messages li', (items) => items.map((item) => ({
    id: item.dataset.id,
    name: item.querySelector('.name').textContent,
    text: item.querySelector('.text').textContent,
  })));
}

// Sends text from a chat page; returns the id it was stored as.
async function chatSay(page, text) {
  await page.$eval('#reply', (reply) => { reply.textContent = ''; });
  await page.fill('#text', text);
  await page.click('#say button[type="submit"]');
  const reply = await page.waitForFunction(() => {
    const match = /^sent as #(\d+)$/.exec(document.getElementById('reply').textContent);
    return match && match[1];
  }, undefined, {polling: 100});
  return reply.jsonValue();
}

// Publishes from ws.html's form; returns the reply shown.
async function wsPublish(page, channel, event, data) {
  await page.$eval('#reply', (reply) => { reply.textContent = ''; });
  await page.fill('#publish-channel', channel);
  await page.fill('#publish-event', event);
  await page.fill('#publish-data', data);
  await page.click('#publish button[type="submit"]');
  const reply = await page.waitForFunction(() => {
    const text = document.getElementById('reply').textContent;
    return /^(ack|error):/.test(text) && text;
  }, undefined, {polling: 100});
  return reply.jsonValue();
}

async function screenshot(page, name) {
  await page.screenshot({
    path: join(env.LITEPUSH_SCREENSHOTS, `${env.LITEPUSH_SERVER}-${name}.png`),
    fullPage: true,
  });
}

// --- the checks -------------------------------------------------------------

async function sseRows() {
  const page = await openPage('index.html?channel=t_rows');
  await check('index.html: the EventSource opens (state "open")',
              () => waitState(page, 'open'));
  let ids;
  await check('index.html: rows INSERTed with the sqlite3 shell appear, named (add) and plain (message)',
              async () => {
                ids = insert('t_rows', [
                  {event: 'add', data: 'added by the sqlite3 shell'},
                  {data: 'a plain message\nof two lines'},
                ]);
                insert('t_other', [{data: 'another channel'}]);
                await waitIds(page, ids);
                expectEqual([
                  {id: ids[0], event: 'add', data: 'added by the sqlite3 shell'},
                  {id: ids[1], event: 'message', data: 'a plain message\nof two lines'},
                ], await logRows(page));
              });
  await page.close();
}

async function ssePause() {
  const page = await openPage('index.html?channel=t_pause');
  let pausedText = '';
  let duringPause = false;
  await check('index.html: at litepush-sse\'s --max-age the page is "paused until HH:MM:SS"',
              async () => {
                await waitState(page, 'open');
                // A pause may last only a few ms (the reconnect time is
                // random within one retry): record every state the page
                // shows instead of hoping to catch it.
                await page.evaluate(() => {
                  const view = document.querySelector('#state');
                  window.statesSeen = [];
                  new MutationObserver(() => {
                    window.statesSeen.push(view.textContent);
                  }).observe(view, {childList: true, characterData: true,
                                    subtree: true});
                });
                insert('t_pause', [{data: 'before the pause'}]);
                const seen = await page.waitForFunction(
                    () => window.statesSeen.find((t) => t.startsWith('paused')));
                pausedText = await seen.jsonValue();
                if (!/^paused until \d\d:\d\d:\d\d$/.test(pausedText)) {
                  throw new Mismatch('paused until HH:MM:SS', pausedText);
                }
              });
  await check('index.html: events published during the pause appear after it, each once, in order',
              async () => {
                // The pause lasts a random part of a second or more: if the
                // page came back before the rows were committed, try with
                // the next pause.
                for (let attempt = 1; attempt <= 5 && !duringPause; attempt++) {
                  await waitState(page, 'paused');
                  const ids = insert('t_pause', [1, 2, 3].map((n) => ({
                    event: 'add', data: `during pause ${attempt}.${n}`})));
                  duringPause = await page.$eval('#state',
                                                 (s) => s.dataset.state === 'paused');
                  await waitIds(page, ids);
                }
                if (!duringPause) throw new Mismatch('rows committed while paused', 'never');
                await waitState(page, 'open');
                expectEqual(idsOf('t_pause'), await logIds(page));
              });
  await check('index.html: after the pause the new EventSource resumes with lastEventId=',
              () => {
                const resumed = page.streamRequests.filter((url) =>
                  new URL(url).searchParams.has('lastEventId'));
                if (resumed.length === 0) {
                  throw new Mismatch('a /stream request with lastEventId=',
                                     page.streamRequests.join(' '));
                }
              });
  await page.close();
}

async function sseRestart() {
  const page = await openPage('index.html?channel=t_kill');
  await check('index.html: litepush-sse killed (SIGKILL) and started again: the page comes back by itself with every event published meanwhile, each once, in order',
              async () => {
                await waitState(page, 'open');
                await waitIds(page, insert('t_kill', [{data: 'before'}, {data: 'the kill'}]));
                control('kill-sse');
                const meanwhile = insert('t_kill', [1, 2, 3, 4, 5].map((n) => ({
                  event: 'add', data: `while litepush-sse is down ${n}`})));
                control('start-sse');
                await waitIds(page, meanwhile);
                expectEqual(idsOf('t_kill'), await logIds(page));
              });
  await page.close();
}

async function wsRestart() {
  const page = await openPage('ws.html?channel=t_ws');
  await check('ws.html: litepush-ws stopped and started again: the page reconnects and resumes, each event once, in order',
              async () => {
                await waitState(page, 'open');
                await waitIds(page, insert('t_ws', [{data: 'before the restart'}]));
                control('stop-ws');
                await waitState(page, 'closed');
                const meanwhile = insert('t_ws', [1, 2, 3].map((n) => ({
                  event: 'add', data: `while litepush-ws is down ${n}`})));
                control('start-ws');
                await waitIds(page, meanwhile);
                await waitState(page, 'open');
                expectEqual(idsOf('t_ws'), await logIds(page));
                const resumed = page.streamRequests.filter((url) =>
                  new URL(url).searchParams.has('lastEventId'));
                if (resumed.length === 0) {
                  throw new Mismatch('a /ws request with lastEventId=',
                                     page.streamRequests.join(' '));
                }
              });
  await page.close();
}

async function wsPublishing() {
  const sender = await openPage('ws.html?channel=demo');
  const wsReader = await openPage('ws.html?channel=demo');
  const sseReader = await openPage('index.html?channel=demo');
  await check('ws.html (twice) and index.html open',
              () => Promise.all([waitState(sender, 'open'), waitState(wsReader, 'open'),
                                 waitState(sseReader, 'open')]));
  let id;
  await check('ws.html: a message sent is acknowledged with its id',
              async () => {
                const reply = await wsPublish(sender, 'demo', 'add', 'hello from ws.html');
                const stored = sql("SELECT id FROM events WHERE data = 'hello from ws.html'");
                expectEqual(`ack: stored as id ${stored}`, reply);
                id = stored;
              });
  await check('ws.html: it appears on another ws.html (WebSocket) and on index.html (SSE) with that id',
              async () => {
                await Promise.all([waitIds(wsReader, [id]), waitIds(sseReader, [id])]);
                const row = {id, event: 'add', data: 'hello from ws.html'};
                expectEqual([row], (await logRows(wsReader)).filter((r) => r.id === id));
                expectEqual([row], (await logRows(sseReader)).filter((r) => r.id === id));
              });
  await check('ws.html: a channel litepush-ws does not let browsers publish to shows the error',
              async () => {
                const reply = await wsPublish(sender, 'clock', '', 'no');
                if (!reply.startsWith('error: ')) throw new Mismatch('error: ...', reply);
              });
  await wsPublish(sender, 'demo', '', 'the WebSocket page of litepush');
  await screenshot(sender, 'ws');
  await Promise.all([sender.close(), wsReader.close(), sseReader.close()]);
}

async function chat() {
  const ann = await openPage('chat.html?transport=ws');
  const bob = await openPage('chat.html?transport=sse');
  const cat = await openPage('chat.html');
  const pages = [ann, bob, cat];
  await ann.fill('#name', 'ann');
  await bob.fill('#name', 'bob');
  await cat.fill('#name', 'cat');
  await check('chat.html: three pages listen, over WebSocket, SSE and WebSocket',
              () => Promise.all([waitState(ann, 'open'), waitState(bob, 'open'),
                                 waitState(cat, 'open'),
                                 waitState(bob, 'open', '#send-state')]));

  // Checks that every page shows the message id with name and text, and
  // that each page shows the chat channel's messages, each once, in order.
  const everywhere = async (id, name, text) => {
    await Promise.all(pages.map((page) => waitIds(page, [id], '#messages li')));
    for (const page of pages) {
      const messages = await chatMessages(page);
      expectEqual([{id, name, text}], messages.filter((m) => m.id === id));
      expectEqual(idsOf('chat'), messages.map((m) => m.id));
    }
  };
  await check('chat.html: a message sent over WebSocket appears on the pages listening over SSE and over WebSocket',
              async () => everywhere(await chatSay(ann, 'hello from ann'), 'ann',
                                     'hello from ann'));
  await check('chat.html: a message sent by the page listening over SSE appears on all three',
              async () => everywhere(await chatSay(bob, 'hi ann, bob here (over SSE)'),
                                     'bob', 'hi ann, bob here (over SSE)'));
  await check('chat.html: after switching transports (bob to WebSocket, cat to SSE) a message appears once on each',
              async () => {
                await bob.check('input[value="ws"]');
                await cat.check('input[value="sse"]');
                await Promise.all([waitState(bob, 'open'), waitState(cat, 'open')]);
                await everywhere(await chatSay(cat, 'cat: both transports, one store'),
                                 'cat', 'cat: both transports, one store');
              });
  await check('chat.html: a row INSERTed by hand shows as text',
              async () => {
                const [id] = insert('chat', [{event: 'msg', data: 'plain text from sqlite3'}]);
                await everywhere(id, 'someone', 'plain text from sqlite3');
              });
  await screenshot(bob, 'chat');
  await Promise.all(pages.map((page) => page.close()));
}

async function indexScreenshot() {
  insert('demo', [{event: 'add', data: 'hello from the sqlite3 shell'},
                  {data: 'a plain message: no event name'}]);
  const page = await openPage('index.html');
  await check('index.html: the demo channels (demo, clock) open, the clock ticks',
              async () => {
                await waitState(page, 'open');
                insert('clock', [{event: 'tick', data: '12:34:56'}]);
                await page.waitForFunction(() =>
                  document.getElementById('ticker').textContent === '12:34:56',
                undefined, {polling: 100});
              });
  await screenshot(page, 'index');
  await page.close();
}

// Returns the text of the reset notice of index.html or ws.html once it
// shows.
async function resetNotice(page) {
  await page.waitForSelector('#reset:not([hidden])');
  return page.$eval('#reset', (notice) => notice.textContent);
}

// The reset notice for a log whose oldest kept id is oldest, newest given
// newest.
function resetPattern(oldest, newest) {
  return new RegExp('^Some events were pruned; reloading state: the log ' +
                    `starts again from the oldest event kept, #${oldest} ` +
                    `\\(newest #${newest}\\), at \\d\\d:\\d\\d:\\d\\d\\.$`);
}

// Watches page's requests to /stream and /ws: failed is a promise that
// rejects once more than limit were made after the first `from` (so that a
// reconnection loop fails at once rather than at a timeout); stop() ends
// the watch.
function watchReconnects(page, from, limit) {
  let watch;
  const failed = new Promise((resolve, reject) => {
    watch = () => {
      const made = page.streamRequests.length - from;
      if (made > limit) {
        reject(new Mismatch(`at most ${limit} new connections`,
                            `${made}, reconnecting in a loop: ` +
                            page.streamRequests.slice(from, from + 3).join(' ')));
      }
    };
    page.on('request', watch);
  });
  failed.catch(() => {});
  return {failed, stop: () => page.off('request', watch)};
}

async function pauseRow() {
  const page = await openPage('index.html?channel=t_pause_row');
  await check('index.html: a row named pause from a schema 1 database does not stop the stream: the events after it appear, each once, in order, and the page does not reconnect in a loop',
              async () => {
                await waitState(page, 'open');
                const before = insert('t_pause_row', [{event: 'add', data: 'before the pause row'}]);
                await waitIds(page, before);
                const requestsBefore = page.streamRequests.length;
                const start = Date.now();
                // Schema 2 refuses the name: a database from before holds
                // such rows, which is what dropping the rule makes.
                const [pause] = sql('DROP TRIGGER events_event_not_reserved;\n' +
                                    'INSERT INTO events(channel, event, data) ' +
                                    "VALUES('t_pause_row', 'pause', '0') RETURNING id;")
                  .split('\n');
                const after = insert('t_pause_row', [1, 2, 3].map((n) => ({
                  event: 'add', data: `after the pause row ${n}`})));
                // Sent after them, so that a repeat of any would be in the
                // log by the time this is.
                const marker = insert('t_pause_row', [{data: 'the last one'}]);
                const reconnects = watchReconnects(page, requestsBefore, 10);
                const arrived = waitIds(page, [...after, ...marker]);
                arrived.catch(() => {}); // when the loop is seen first
                try {
                  await Promise.race([arrived, reconnects.failed]);
                } finally {
                  reconnects.stop();
                }
                expectEqual([...before, ...after, ...marker], await logIds(page));
                expectEqual(idsOf('t_pause_row').filter((id) => id !== pause),
                            await logIds(page));
                // The server's own pause (--max-age 3 s) is still obeyed:
                // a new connection resumes after the last event.
                await page.waitForRequest((request) =>
                  /\/stream\?/.test(request.url()) &&
                  Number(new URL(request.url()).searchParams.get('lastEventId')) >=
                    Number(marker[0]));
                // One connection per --max-age (at least 2.7 s with its
                // jitter) and one more for slack; a loop makes hundreds.
                const elapsed = Date.now() - start;
                const limit = 2 + Math.floor(elapsed / 2700);
                const made = page.streamRequests.length - requestsBefore;
                if (made > limit) {
                  throw new Mismatch(`at most ${limit} /stream requests in ${elapsed} ms`,
                                     `${made}: ${page.streamRequests.slice(requestsBefore, requestsBefore + 5).join(' ')} ...`);
                }
              });
  await page.close();
}

async function reset() {
  let ids;
  await check('litepush prune --keep-last 3 after 10 rows on a channel',
              () => {
                ids = insert('t_reset', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => ({
                  event: 'add', data: `row ${n}`})));
                litepush('prune', env.LITEPUSH_DB, '--keep-last', '3');
                expectEqual(ids.slice(7), idsOf('t_reset'));
              });
  if (!ids) return;
  const kept = ids.slice(7);
  const pages = [
    ['index.html', 'reset', await openPage(`index.html?channel=t_reset&lastEventId=${ids[1]}`)],
    ['ws.html', 'ws-reset', await openPage(`ws.html?channel=t_reset&lastEventId=${ids[1]}`)],
  ];
  for (const [name, shot, page] of pages) {
    await check(`${name}: resuming from a pruned id shows the reset, then the events kept, each once, in order`,
                async () => {
                  const notice = await resetNotice(page);
                  if (!resetPattern(kept[0], kept[2]).test(notice)) {
                    throw new Mismatch(`a notice matching ${resetPattern(kept[0], kept[2])}`,
                                       notice);
                  }
                  await waitIds(page, kept);
                  expectEqual(kept.map((id, n) => ({id, event: 'add', data: `row ${n + 8}`})),
                              await logRows(page));
                  const resumed = page.streamRequests.map((url) =>
                    new URL(url).searchParams.get('lastEventId'));
                  expectEqual(ids[1], resumed[0]);
                });
    await screenshot(page, shot);
  }
  await check('index.html and ws.html: after the reset a new event appears once, after the kept ones',
              async () => {
                const next = insert('t_reset', [{event: 'add', data: 'after the reset'}]);
                await Promise.all(pages.map(([, , page]) => waitIds(page, next)));
                for (const [, , page] of pages) {
                  expectEqual([...kept, ...next], await logIds(page));
                }
              });
  await Promise.all(pages.map(([, , page]) => page.close()));
}

// The record of token.html (window.record).
function record(page) {
  return page.evaluate(() => window.record);
}

// Waits until token.html's record satisfies test (a function of the
// record, run in the page); returns its value.
async function recordHas(page, test) {
  const handle = await page.waitForFunction(test, undefined, {polling: 50});
  return handle.jsonValue();
}

// Runs body, whose checks print their own lines; a failure outside them
// (a wait that timed out) is one "not ok" line for the scenario, and the
// run goes on.
async function scenario(description, body) {
  try {
    await body();
  } catch (error) {
    await check(description, () => { throw error; });
  }
}

// Opens token.html with query in context where; its waits give up sooner
// than the other pages' (everything here takes seconds).
async function openTokenPage(query, where) {
  const page = await openPage(`private/token.html${query}`, where);
  page.setDefaultTimeout(20000);
  return page;
}

// The daemons end a grant's connection at its exp, never before it
// (loop_delay_until() in net/loop.c): the checks below allow no margin.

const tokenOf = (url) => new URL(url).searchParams.get('token');
const resumeOf = (url) => new URL(url).searchParams.get('lastEventId');

async function privatePages(browser) {
  const contexts = {};
  const pages = {};
  for (const user of ['alice', 'bob']) {
    contexts[user] = await browser.newContext({
      httpCredentials: {username: user, password: `${user}-secret`},
      viewport: {width: 1000, height: 720},
    });
    pages[user] = await openPage('private.html', contexts[user]);
  }
  const {alice, bob} = pages;
  await check('private.html: alice and bob each log in, see their name from the web server, and follow their own channel',
              async () => {
                await Promise.all([waitState(alice, 'open'), waitState(bob, 'open')]);
                for (const user of ['alice', 'bob']) {
                  expectEqual([user, `user.${user}`],
                              await pages[user].$eval('main', () => [
                                document.getElementById('login').textContent,
                                document.getElementById('channel').textContent]));
                  const streams = pages[user].streamRequests.map((url) => new URL(url));
                  expectEqual(`/private/stream user.${user}`,
                              `${streams[0].pathname} ${streams[0].searchParams.get('channel')}`);
                }
              });
  await check('private.html: a row INSERTed into user.alice shows on alice\'s page; bob\'s page gets his own row sent after it, and never alice\'s',
              async () => {
                const forAlice = insert('user.alice', [{data: 'for alice only'},
                                                       {event: 'notify', data: 'alice, again'}]);
                await waitIds(alice, forAlice);
                // Sent after alice's rows: had bob's stream carried them,
                // they would be on his page before this one.
                const forBob = insert('user.bob', [{data: 'for bob'}]);
                await waitIds(bob, forBob);
                expectEqual(idsOf('user.alice'), await logIds(alice));
                expectEqual(forBob, await logIds(bob));
                expectEqual([{id: forAlice[0], event: 'message', data: 'for alice only'},
                             {id: forAlice[1], event: 'notify', data: 'alice, again'}],
                            await logRows(alice));
              });
  await check('private.html: bob asking for user.alice on /private/stream gets 403',
              async () => expectEqual('403 channel "user.alice" is not open to this login',
                                      await statusOf('/private/stream?channel=user.alice',
                                                     basic('bob'))));
  await check('the public /stream: an anonymous request for user.alice gets 401',
              async () => expectEqual('401 channel "user.alice" needs a login',
                                      await statusOf('/stream?channel=user.alice')));
  await check('private.html without a login: the web server asks for one (401)',
              async () => expectEqual(401, (await fetch(`${env.LITEPUSH_URL}/private.html`)).status));
  await screenshot(alice, 'private');
  await Promise.all([contexts.alice.close(), contexts.bob.close()]);
}

// The classes' token option in token.html, through the public /stream and
// /ws: channel user.NAME with a grant whose sub is NAME (no login), so that
// each connection needs a valid token.  Each scenario may need another
// attempt when the machine was too slow for its timing (said why), never
// more than three.
async function tokens(browser) {
  const where = await browser.newContext({
    httpCredentials: {username: 'alice', password: 'alice-secret'},
  });

  await check('LitepushStream and LitepushSocket: close() while the token callback runs opens nothing afterwards; a second open() meanwhile makes one connection',
              async () => {
                const page = await openTokenPage('', where);
                const result = await page.evaluate(async () => {
                  let release;
                  const gate = new Promise((resolve) => { release = resolve; });
                  const made = [];
                  for (const [Class, url] of [[LitepushStream, '/stream'],
                                              [LitepushSocket, '/ws']]) {
                    const closed = new Class(url, ['t_race_closed'], {token: () => gate});
                    closed.open();
                    closed.close();
                    const twice = new Class(url, ['t_race_twice'], {token: () => gate});
                    twice.open();
                    twice.open();
                    made.push([closed, twice]);
                  }
                  release('not-a-token');
                  await gate;
                  // Any connection the callbacks make is made by now.
                  await new Promise((resolve) => setTimeout(resolve, 0));
                  const urls = window.record.urls.map((u) => new URL(u.url));
                  const result = made.map(([closed, twice]) => ({
                    closed: [closed.state.name, closed.source ?? closed.socket ?? null],
                    twice: twice.state.name,
                  }));
                  for (const [, twice] of made) twice.close();
                  return {result, urls: urls.map((u) => `${u.pathname} ${u.searchParams.get('channel')}`)};
                });
                expectEqual({
                  result: [{closed: ['closed', null], twice: 'connecting'},
                           {closed: ['closed', null], twice: 'connecting'}],
                  urls: ['/stream t_race_twice', '/ws t_race_twice'],
                }, result);
                await page.close();
              });

  await check('LitepushStream and LitepushSocket: a token callback that fails is a failed attempt (state closed, retrying after the backoff), and nothing connects',
              async () => {
                const page = await openTokenPage('', where);
                const result = await page.evaluate(async () => {
                  const out = [];
                  for (const [Class, url] of [[LitepushStream, '/stream'],
                                              [LitepushSocket, '/ws']]) {
                    const client = new Class(url, ['t_token_fails'], {
                      token: () => Promise.reject(new Error('no session')),
                    });
                    const states = [];
                    const failed = new Promise((resolve) => {
                      client.onstate = (state) => {
                        states.push(state);
                        if (state.name === 'closed') resolve(Date.now());
                      };
                    });
                    client.open();
                    const at = await failed;
                    client.close();
                    const wait = states[1].until - at;
                    out.push([states.slice(0, 2).map((s) => s.name),
                              wait >= 500 && wait <= 2000]);
                  }
                  return [out, window.record.urls.length];
                });
                expectEqual([[[['connecting', 'closed'], true],
                              [['connecting', 'closed'], true]], 0], result);
                await page.close();
              });

  // The stream's grant ends: the pause at exp, a new token, no gap.
  await scenario('LitepushStream: a stream whose grant ends comes back with a new token', async () => {
    let done = false;
    for (let attempt = 1; attempt <= 5 && !done; attempt++) {
      const name = `sse${attempt}`;
      const channel = `user.${name}`;
      const exp = expIn(1500);
      const first = mint({sub: name, exp});
      serveToken(first);
      const page = await openTokenPage(`?transport=sse&channel=${channel}`, where);
      if (!await openedBefore(page, exp)) {
        console.log(`# attempt ${attempt}: the page did not open before its grant ran out, again`);
        await page.close();
        continue;
      }
      const fresh = mint({sub: name, exp: expIn(3600000)});
      serveToken(fresh);
      const before = insert(channel, [{data: 'before the exp 1'}, {data: 'before the exp 2'}]);
      const insertedBefore = Date.now() < exp * 1000;
      // Under litepush-sse's --max-age (3 s, at least 2.7 s) the grant's end
      // (at most 2.5 s after it was minted) comes first.
      const pause = await recordHas(page, () =>
        window.record.states.find((s) => s.name === 'paused'));
      const after = insert(channel, [{data: 'after the exp 1'}, {data: 'after the exp 2'}]);
      await waitIds(page, [...before, ...after]);
      const seen = await record(page);
      if (!insertedBefore || tokenOf(seen.urls[0].url) !== first) {
        console.log(`# attempt ${attempt}: too slow for a ${exp * 1000 - Date.now()} ms grant, again`);
        await page.close();
        continue;
      }
      done = true;
      await check('LitepushStream: the stream pauses at its grant\'s exp, "come back now"',
                  () => {
                    const atExp = pause.until >= exp * 1000 &&
                                  pause.until < exp * 1000 + 1000 &&
                                  pause.at >= exp * 1000;
                    if (!atExp) {
                      throw new Mismatch(`a pause until at ${exp * 1000} or within 1 s after`,
                                         JSON.stringify(pause));
                    }
                  });
      await check('LitepushStream: after the pause the callback is called again and the new EventSource carries the new token and lastEventId=',
                  () => {
                    const again = seen.tokens.filter((t) => t.at >= pause.at);
                    if (again.length === 0) throw new Mismatch('a token call after the pause', JSON.stringify(seen.tokens));
                    const next = seen.urls.find((u) => u.at >= pause.at);
                    expectEqual([fresh, before[1]], [tokenOf(next.url), resumeOf(next.url)]);
                    if (next.at - pause.at > 500) {
                      throw new Mismatch('a new connection at once', `${next.at - pause.at} ms later`);
                    }
                  });
      await check('LitepushStream: rows INSERTed before and after the exp arrive, each once, in order',
                  async () => {
                    expectEqual(idsOf(channel), await logIds(page));
                    expectEqual([...before, ...after], await logIds(page));
                  });
      await check('the grant the page had first is refused now (401: expired), so the new one was needed',
                  async () => expectEqual('401 the token has expired',
                                          await statusOf(`/stream?channel=${channel}&token=${first}`)));
      await page.close();
    }
    if (!done) throw new Error('five attempts too slow');
  });

  // The same over WebSocket: close 4001 at exp.
  await scenario('LitepushSocket: a WebSocket whose grant ends comes back with a new token', async () => {
    let done = false;
    for (let attempt = 1; attempt <= 5 && !done; attempt++) {
      const name = `ws${attempt}`;
      const channel = `user.${name}`;
      // Longer at each attempt: a loaded machine needs more than 1.5 s to
      // open the page and insert the first rows (no max-age limits it here).
      const exp = expIn(1500 * attempt);
      const first = mint({sub: name, exp});
      serveToken(first);
      const page = await openTokenPage(`?transport=ws&channel=${channel}`, where);
      if (!await openedBefore(page, exp)) {
        console.log(`# attempt ${attempt}: the page did not open before its grant ran out, again`);
        await page.close();
        continue;
      }
      const fresh = mint({sub: name, exp: expIn(3600000)});
      serveToken(fresh);
      const before = insert(channel, [{data: 'before the exp 1'}, {data: 'before the exp 2'}]);
      const insertedBefore = Date.now() < exp * 1000;
      const closed = await recordHas(page, () => window.record.closes[0]);
      const after = insert(channel, [{data: 'after the exp 1'}, {data: 'after the exp 2'}]);
      await waitIds(page, [...before, ...after]);
      const seen = await record(page);
      if (!insertedBefore || tokenOf(seen.urls[0].url) !== first) {
        console.log(`# attempt ${attempt}: too slow for a ${exp * 1000 - Date.now()} ms grant, again`);
        await page.close();
        continue;
      }
      done = true;
      await check('LitepushSocket: litepush-ws closes at the grant\'s exp with 4001 "grant expired"',
                  () => {
                    expectEqual([4001, 'grant expired'], [closed.code, closed.reason]);
                    if (closed.at < exp * 1000 || closed.at > exp * 1000 + 1000) {
                      throw new Mismatch(`the close at ${exp * 1000} or within 1 s after`, closed.at);
                    }
                  });
      await check('LitepushSocket: after 4001 it connects again at once (no backoff), with a new token and lastEventId=',
                  () => {
                    const next = seen.urls.find((u) => u.at >= closed.at);
                    if (!next) throw new Mismatch('a connection after the close', JSON.stringify(seen.urls));
                    expectEqual([fresh, before[1]], [tokenOf(next.url), resumeOf(next.url)]);
                    // The shortest backoff is 500 ms.
                    if (next.at - closed.at >= 500) {
                      throw new Mismatch('a new connection at once', `${next.at - closed.at} ms later`);
                    }
                    const failed = seen.states.filter((s) => s.at >= closed.at && s.name === 'closed' &&
                                                           s.until - s.at >= 500);
                    expectEqual([], failed);
                  });
      await check('LitepushSocket: rows INSERTed before and after the exp arrive, each once, in order',
                  async () => {
                    expectEqual(idsOf(channel), await logIds(page));
                    expectEqual([...before, ...after], await logIds(page));
                  });
      await screenshot(page, 'token');
      await page.close();
    }
    if (!done) throw new Error('five attempts too slow');
  });

  // A dropped stream: the browser's own reconnect carries the old token.
  await scenario('LitepushStream: a dropped stream whose token expired comes back with a new one', async () => {
    let done = false;
    for (let attempt = 1; attempt <= 5 && !done; attempt++) {
      const name = `drop${attempt}`;
      const channel = `user.${name}`;
      const exp = expIn(1200);
      const first = mint({sub: name, exp});
      serveToken(first);
      const page = await openTokenPage(`?transport=sse&channel=${channel}`, where);
      if (!await openedBefore(page, exp)) {
        console.log(`# attempt ${attempt}: the page did not open before its grant ran out, again`);
        await page.close();
        continue;
      }
      const before = insert(channel, [{data: 'before the kill'}]);
      await waitIds(page, before);
      serveToken(mint({sub: name, exp: expIn(3600000)}));
      // The EventSource's reconnect, with the old URL: refused.
      const refused = page.waitForResponse((response) =>
        /\/stream\?/.test(response.url()) && tokenOf(response.url()) === first &&
        response.status() === 401, {timeout: 20000});
      refused.catch(() => {});
      // The stream must still be the first one, its grant running.
      if (Date.now() >= exp * 1000 - 100 ||
          (await record(page)).states.some((s) => s.name === 'paused')) {
        console.log(`# attempt ${attempt}: too slow for a ${exp * 1000 - Date.now()} ms grant, again`);
        await page.close();
        continue;
      }
      control('kill-sse');
      const meanwhile = insert(channel, [1, 2, 3].map((n) => ({data: `while down ${n}`})));
      // Back once the old token has run out (and before the EventSource
      // comes back, --retry 3 s after the drop).
      await clockPast(exp * 1000 + 100);
      control('start-sse');
      done = true;
      await check('LitepushStream: a dropped stream whose token has expired meanwhile: the EventSource\'s own reconnect is refused (401), then the callback gives a new token and the page resumes, every row once, in order',
                  async () => {
                    await refused;
                    await waitIds(page, meanwhile);
                    const seen = await record(page);
                    const dropped = seen.urls.length;
                    if (dropped < 2) throw new Mismatch('a second EventSource', JSON.stringify(seen.urls));
                    const last = seen.urls[dropped - 1].url;
                    expectEqual(before[0], resumeOf(last));
                    if (tokenOf(last) === first) throw new Mismatch('a new token', 'the old one');
                    expectEqual([...before, ...meanwhile], await logIds(page));
                    expectEqual(idsOf(channel), await logIds(page));
                  });
      await page.close();
    }
    if (!done) throw new Error('five attempts too slow');
  });
  await where.close();
}

// --- main -------------------------------------------------------------------

context = await chromium.launchPersistentContext(env.LITEPUSH_PROFILE, {
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
  viewport: {width: 1000, height: 720},
});
try {
  await sseRows();
  await ssePause();
  await sseRestart();
  await wsRestart();
  await wsPublishing();
  await chat();
  await indexScreenshot();
  await pauseRow();
  await reset();
  const browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
                                         args: CHROMIUM_ARGS});
  try {
    await privatePages(browser);
    await tokens(browser);
  } finally {
    await browser.close();
  }
  await check('no page had a JavaScript error', () => expectEqual([], pageErrors));
} finally {
  await context.close();
}
console.log('# done');
