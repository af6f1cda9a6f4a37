/*
 * demo.js: what index.html and ws.html share, the wiring of a demo page
 * around a LitepushStream or LitepushSocket (litepush.js).  Not part of
 * what a site copies: litepush.js is.
 *
 * The page has a channel form (#connect with #channels, and #close), views
 * #state, #last-id and #ticker, a notice #reset, and a table #log with its
 * placeholder #empty.  Channels come from the page's own URL
 * (page.html?channel=a,b) or the form, and the first connection may resume
 * from page.html?lastEventId=N; the demo's publisher sends the time as
 * "tick" events on "clock" every second, which go to the ticker, the
 * others to the log.  A reset (the events after the resume point were
 * pruned) empties the log, which the events that follow fill again, and
 * says so in #reset.
 */
'use strict';

const DEMO_LOG_ROWS_MAX = 1000;

/*
 * Wires the page: open(channels) returns a new, unopened client; columns
 * lists the log's cells as [class, (event) => text] pairs (the time of
 * receipt is added last).  Returns a function giving the current client.
 */
function demoPage(open, columns) {
  const params = new URLSearchParams(location.search);
  const channelsInput = document.getElementById('channels');
  const stateView = document.getElementById('state');
  const lastIdView = document.getElementById('last-id');
  const tickerView = document.getElementById('ticker');
  const logBody = document.querySelector('#log tbody');
  const resetView = document.getElementById('reset');
  let resumeFrom = params.get('lastEventId'); /* the first connection's */
  let client = null;

  channelsInput.value = params.getAll('channel').join(',') || 'demo,clock';

  // Adds one received event at the top of the log.
  function logEvent(event) {
    const row = document.createElement('tr');
    row.dataset.id = event.id;
    for (const [name, text] of [...columns,
                                ['when', () => litepushClock(Date.now())]]) {
      const cell = document.createElement('td');
      cell.className = name;
      cell.textContent = text(event);
      row.appendChild(cell);
    }
    logBody.prepend(row);
    if (logBody.rows.length > DEMO_LOG_ROWS_MAX) {
      logBody.lastElementChild.remove();
    }
    document.getElementById('empty').hidden = true;
    document.getElementById('log').hidden = false;
  }

  // Empties the log: what it showed was built on events now gone.
  function reloadLog(range) {
    logBody.replaceChildren();
    document.getElementById('log').hidden = true;
    document.getElementById('empty').hidden = false;
    resetView.textContent = 'Some events were pruned; reloading state: ' +
      'the log starts again from the oldest event kept, #' + range.oldest +
      ' (newest #' + range.newest + '), at ' + litepushClock(Date.now()) + '.';
    resetView.hidden = false;
  }

  function connect() {
    if (client) client.close();
    const channels = channelsInput.value.split(',').map((c) => c.trim())
      .filter((c) => c !== '');
    client = open(channels);
    if (resumeFrom !== null && resumeFrom !== '') {
      client.lastEventId = resumeFrom;
    }
    resumeFrom = null;
    client.onstate = (state) => {
      stateView.dataset.state = state.name;
      stateView.textContent = litepushStateText(state);
    };
    client.onevent = (event) => {
      lastIdView.textContent = event.id;
      if (event.event === 'tick') {
        tickerView.textContent = event.data;
      } else {
        logEvent(event);
      }
    };
    client.onreset = reloadLog;
    client.open();
  }

  document.getElementById('connect').addEventListener('submit', (e) => {
    e.preventDefault();
    connect();
  });
  document.getElementById('close').addEventListener('click', () => {
    if (client) client.close();
  });
  connect();
  return () => client;
}
