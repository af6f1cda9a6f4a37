/*
 * litepush.js: the browser side of litepush, two small classes to copy.
 *
 * LitepushStream follows channels over Server-Sent Events (litepush-sse):
 *
 *   const stream = new LitepushStream('/stream', ['news'], {events: ['add']});
 *   stream.onevent = (event) => show(event.id, event.event, event.data);
 *   stream.onstate = (state) => status.textContent = litepushStateText(state);
 *   stream.open();
 *
 * LitepushSocket does the same over WebSocket (litepush-ws), and publishes:
 *
 *   const socket = new LitepushSocket('/ws', ['chat']);
 *   socket.onevent = (event) => show(event.id, event.channel, event.data);
 *   socket.open();
 *   socket.publish('chat', 'msg', 'hello').then((id) => ..., (error) => ...);
 *
 * Both resume from the last id they received each time they connect again,
 * so nothing is lost or repeated across a reconnection.  The ids are the
 * store's, the same on both transports: an id seen on one resumes the other.
 *
 * A page whose channels need a signed grant (litepush's --jwt-key) gives a
 * callback that returns a fresh token, or a promise of one; it is called
 * before every connection, so a stream that ended at its grant's `exp`
 * comes back with a new one, where it left off:
 *
 *   const stream = new LitepushStream('/stream', ['user.alice'], {
 *     token: async () => (await fetch('/app/litepush-token')).text(),
 *   });
 *
 * When the events after the resume point are gone (pruned, or the log was
 * recreated), the server says so before the events it still has, and both
 * call onreset({oldest, newest}): the oldest id kept and the newest id
 * given.  The events that follow are the ones kept, from `oldest` on;
 * whatever the page built from the events before is incomplete, so it
 * reloads its state then (from the application, or by starting afresh).  A reset is not an event:
 * onevent is not called for it, and it carries no id, so lastEventId stays
 * until the first event after it.
 *
 *   stream.onreset = ({oldest, newest}) => reload();
 *
 * The states passed to onstate are
 *   {name: 'connecting'}         fetching the token, then connecting
 *   {name: 'open'}
 *   {name: 'paused', until: MS}  the server asked to come back at MS (unix ms)
 *   {name: 'closed', until: MS}  the connection failed; retrying at MS
 *   {name: 'closed'}             close() was called
 *
 * and a reset may come in state 'open', before the first event of a
 * connection (onreset, above).
 *
 * Plain JavaScript (ES2020), nothing to build, nothing loaded from elsewhere.
 */
'use strict';

/* Waiting between failed connections: 1 s, 2 s, 4 s... up to 30 s, each
 * shortened by up to half at random so that clients spread out. */
const LITEPUSH_RETRY_MIN_MS = 1000;
const LITEPUSH_RETRY_MAX_MS = 30000;
/* The longest pause obeyed: the time comes from the server's clock, and a
 * page whose clock is far behind would otherwise wait for hours. */
const LITEPUSH_PAUSE_MAX_MS = 300000;

/* Returns the delay before the attempt that follows `failures` failures. */
function litepushBackoff(failures) {
  const ceiling = Math.min(LITEPUSH_RETRY_MAX_MS,
                           LITEPUSH_RETRY_MIN_MS * 2 ** Math.min(failures, 15));
  return ceiling / 2 + Math.random() * ceiling / 2;
}

/* Returns the query string for channels, a resume point and a token. */
function litepushQuery(channels, lastEventId, backlog, token) {
  const query = new URLSearchParams();
  for (const channel of channels) query.append('channel', channel);
  if (lastEventId !== null && lastEventId !== '') {
    query.set('lastEventId', lastEventId);
  } else if (backlog > 0) {
    query.set('backlog', backlog);
  }
  if (token) query.set('token', token);
  return query.toString();
}

/*
 * Calls the token option before a connection: null (no token), a string,
 * or a function returning a string or a promise of one.  Calls back with
 * the token, or fails with the function's error.  Note that without a
 * function it calls back at once, not in a later task, so a page without
 * tokens connects as it always did.
 */
function litepushFetchToken(token, use, fail) {
  if (typeof token !== 'function') {
    use(token || null);
    return;
  }
  new Promise((resolve) => resolve(token()))
    .then((value) => use(value ? String(value) : null), fail);
}

/*
 * What open() does in both classes: stops the connection before, says
 * 'connecting', fetches the token, then calls client.connect(token).  A
 * callback that fails is a failed attempt: retry(MS) is handed the time
 * of the next one, after the backoff.  A token that comes after the
 * client was stopped or opened again (stop() bumps client.attempt) is
 * dropped.
 */
function litepushOpen(client, retry) {
  client.stop();
  const attempt = client.attempt;
  client.setState({name: 'connecting'});
  litepushFetchToken(client.token, (token) => {
    if (attempt === client.attempt) client.connect(token);
  }, () => {
    if (attempt !== client.attempt) return;
    client.failures++;
    retry(Date.now() + litepushBackoff(client.failures));
  });
}

/* Formats unix ms as HH:MM:SS, local time. */
function litepushClock(ms) {
  const t = new Date(ms);
  return [t.getHours(), t.getMinutes(), t.getSeconds()]
    .map((n) => String(n).padStart(2, '0')).join(':');
}

/* Describes a state for people: "open", "paused until 12:00:03"... */
function litepushStateText(state) {
  switch (state.name) {
    case 'paused':
      return 'paused until ' + litepushClock(state.until);
    case 'closed':
      return state.until ? 'closed, retrying at ' + litepushClock(state.until)
                         : 'closed';
    default:
      return state.name;
  }
}

/*
 * Server-Sent Events with litepush's pause and reset.  The browser's
 * EventSource already reconnects after a dropped connection, sending the
 * last id in a Last-Event-ID header; this adds what it leaves to the page:
 *
 * - `event: pause`, `data: MS`, then the end of the response: the server
 *   ends the stream on purpose (its --max-age, a restart, overload) and
 *   asks to come back at MS.  When the stream ends right after it, the
 *   EventSource is closed at once (it would reconnect by itself after
 *   `retry:` ms) and a new one opens at MS.  An EventSource cannot be given
 *   a Last-Event-ID header, so the new one carries `lastEventId=` in its URL.
 * - `event: reset`, `data: {"oldest":N,"newest":M}`: onreset (see above).
 * - an error status (502 or 503 while litepush-sse restarts): EventSource
 *   gives up for good; a new one is tried later and later (backoff).
 *
 * The server's pause never carries an id, and is always the last thing
 * before the response ends; a row named `pause` in a database from before
 * schema 2 (which refuses the name) arrives as an event of that name with
 * an id, and more may follow it.  Note that an EventSource does not tell
 * whether a block had an `id:` line (message.lastEventId is the last id
 * seen so far either way), so the end of the stream is the test: a pause is
 * only noted, any event after it cancels it, and it is obeyed when the
 * EventSource reports the end (onerror in state CONNECTING) with nothing
 * in between.  Every event moves lastEventId, `pause` and `reset` too, so
 * a row named `pause` is never asked for again.
 *
 * With a token option, each connection asks for a token first and sends
 * it as `token=` in the URL (an EventSource cannot set a header).  A grant
 * that runs out ends the stream with a pause whose time is now: a new
 * token, and the stream resumes with lastEventId=.  A callback that fails
 * is a failed connection (backoff, state closed).  Note that the browser's
 * own reconnect after a dropped connection reuses the old URL, token and
 * all: while that token is valid it resumes exactly (with Last-Event-ID),
 * and once it has expired litepush-sse refuses it with a 401, the
 * EventSource gives up, and the backoff path above fetches a new one.
 *
 * options: events, the event names to listen for besides `message` (an
 * EventSource only delivers the names it listens for; `pause` and `reset`
 * are the protocol's, never delivered); backlog, how many past events the
 * first connection asks for; lastEventId, where to start; token, as above.
 */
class LitepushStream {
  constructor(url, channels, options = {}) {
    this.url = url;
    this.channels = channels;
    this.events = ['message'].concat(options.events || [])
      .filter((name) => name !== 'pause' && name !== 'reset');
    this.backlog = options.backlog || 0;
    this.lastEventId = options.lastEventId ?? null;
    this.token = options.token ?? null;
    this.onevent = null; /* ({id, event, data}) */
    this.onstate = null; /* (state), see above */
    this.onreset = null; /* ({oldest, newest}), see above */
    this.source = null;
    this.timer = null;
    this.failures = 0;
    this.attempt = 0; /* bumped by stop(): a token that comes later is dropped */
    this.pauseUntil = null; /* a pause received, obeyed if the stream ends */
  }

  /* Connects (after fetching a token), resuming after lastEventId when
   * there is one. */
  open() {
    litepushOpen(this, (until) => this.wait('closed', until));
  }

  /* Opens the EventSource, with token (null: none). */
  connect(token) {
    const query = litepushQuery(this.channels, this.lastEventId, this.backlog,
                                token);
    const source = new EventSource(this.url + '?' + query);
    this.source = source;
    this.pauseUntil = null;

    source.onopen = () => {
      this.failures = 0;
      this.pauseUntil = null;
      this.setState({name: 'open'});
    };
    /* What every event does, delivered or not: moves the resume point (an
     * empty lastEventId means none was given yet) and cancels a pause. */
    const see = (message) => {
      if (message.lastEventId !== '') this.lastEventId = message.lastEventId;
      this.pauseUntil = null;
    };
    const deliver = (message) => {
      see(message);
      if (this.onevent) {
        this.onevent({id: message.lastEventId, event: message.type,
                      data: message.data});
      }
    };
    for (const name of this.events) source.addEventListener(name, deliver);
    source.addEventListener('reset', (message) => {
      see(message);
      let range = null;
      try {
        range = JSON.parse(message.data);
      } catch (error) {
        /* Still a reset: the events before are gone. */
      }
      if (this.onreset) {
        this.onreset({oldest: range ? range.oldest ?? null : null,
                      newest: range ? range.newest ?? null : null});
      }
    });
    source.addEventListener('pause', (message) => {
      see(message);
      const now = Date.now();
      let until = Number(message.data);
      if (!Number.isFinite(until)) until = now + 3000;
      this.pauseUntil = Math.min(until, now + LITEPUSH_PAUSE_MAX_MS);
    });
    source.onerror = () => {
      if (source !== this.source) return;
      if (source.readyState === EventSource.CONNECTING &&
          this.pauseUntil !== null) {
        /* The stream ended right after a pause: the server's. */
        this.wait('paused', this.pauseUntil);
      } else if (source.readyState === EventSource.CONNECTING) {
        /* Dropped: the browser reconnects by itself, with Last-Event-ID. */
        this.setState({name: 'connecting'});
      } else {
        /* Refused (an HTTP error, or not text/event-stream). */
        this.failures++;
        this.wait('closed', Date.now() + litepushBackoff(this.failures));
      }
    };
  }

  /* Closes the connection for good (until open() is called again). */
  close() {
    this.stop();
    this.setState({name: 'closed'});
  }

  /* Closes the current EventSource and opens a new one at `until`. */
  wait(name, until) {
    this.stop();
    this.setState({name, until});
    this.timer = setTimeout(() => this.open(), Math.max(0, until - Date.now()));
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.attempt++;
    this.pauseUntil = null;
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  setState(state) {
    this.state = state;
    if (this.onstate) this.onstate(state);
  }
}

/*
 * WebSocket to litepush-ws: each event arrives as one JSON text
 * {"id":42,"channel":"news","event":"add","data":"..."} (event is null for
 * a plain message).  A closed connection (the daemon restarting sends
 * close 1001) is opened again after a backoff, resuming from the last id.
 * Every connection's first text is {"position":N}: the id after which its
 * events start, which becomes lastEventId, so that a connection that
 * closes before any event came (a grant's 4001, a restart) resumes where
 * it began, not at whatever is newest by then.  A text
 * {"reset":{"oldest":N,"newest":M}} after it is the reset (onreset,
 * above); it has no id and does not move lastEventId.
 *
 * publish() sends {"channel":..,"event":..,"data":..}; litepush-ws answers
 * each message, in order, with {"ack":ID} or {"error":"why"} (publishing is
 * allowed per channel by its --publish option).
 *
 * The token option is LitepushStream's: called before each connection, its
 * token goes in the URL as `token=` (the WebSocket constructor sets no
 * header).  litepush-ws closes a connection whose grant ran out with 4001
 * "grant expired": that one is opened again at once, with a new token, and
 * counts as no failure.  A token it refuses fails the handshake (a close
 * without a code, 1006), which backs off as any failure does, so a callback
 * that keeps giving an expired token does not make a loop.
 *
 * options: backlog, lastEventId and token, as for LitepushStream.
 */
class LitepushSocket {
  constructor(url, channels, options = {}) {
    this.url = url;
    this.channels = channels;
    this.backlog = options.backlog || 0;
    this.lastEventId = options.lastEventId ?? null;
    this.token = options.token ?? null;
    this.onevent = null; /* ({id, channel, event, data}) */
    this.onstate = null; /* (state), see above */
    this.onreset = null; /* ({oldest, newest}), see above */
    this.socket = null;
    this.timer = null;
    this.failures = 0;
    this.attempt = 0; /* bumped by stop(): a token that comes later is dropped */
    this.pending = []; /* publish() calls waiting for their reply, in order */
  }

  /* Connects (after fetching a token), resuming after lastEventId when
   * there is one. */
  open() {
    litepushOpen(this, (until) => this.wait(until));
  }

  /* Opens the WebSocket, with token (null: none). */
  connect(token) {
    const url = new URL(this.url, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = litepushQuery(this.channels, this.lastEventId, this.backlog,
                               token);
    const socket = new WebSocket(url);
    this.socket = socket;

    socket.onopen = () => {
      this.failures = 0;
      this.setState({name: 'open'});
    };
    socket.onmessage = (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (frame === null || typeof frame !== 'object') return;
      if ('ack' in frame) {
        this.settle((request) => request.resolve(frame.ack));
      } else if ('error' in frame) {
        this.settle((request) => request.reject(new Error(frame.error)));
      } else if ('position' in frame) {
        /* The first text of a connection: where its events start, so a
         * page that gets no event before it reconnects resumes from there. */
        this.lastEventId = frame.position;
      } else if ('reset' in frame) {
        const range = frame.reset || {};
        if (this.onreset) {
          this.onreset({oldest: range.oldest ?? null,
                        newest: range.newest ?? null});
        }
      } else if ('id' in frame) {
        this.lastEventId = frame.id;
        if (this.onevent) this.onevent(frame);
      }
    };
    socket.onclose = (close) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.failPending('the connection closed before the reply');
      if (close.code === 4001 && this.state.name === 'open') {
        /* The grant ran out: back at once, with a new token. */
        this.wait(Date.now());
        return;
      }
      /* A connection that never opened counts as a failure; one that
       * closed after working (1001: the daemon restarts) is retried soon. */
      if (close.code === 1006 || close.code === 1015 || this.state.name !== 'open') {
        this.failures++;
      }
      this.wait(Date.now() + litepushBackoff(this.failures));
    };
  }

  /*
   * Publishes one event; resolves with its id, or rejects with the reason
   * (not connected, not allowed, closed before the reply).  Note that a
   * message whose connection closed before the reply may or may not have
   * been stored: it is not sent again, to never store it twice.
   */
  publish(channel, event, data) {
    return new Promise((resolve, reject) => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
        reject(new Error('not connected'));
        return;
      }
      const message = {channel, data};
      if (event) message.event = event;
      this.socket.send(JSON.stringify(message));
      this.pending.push({resolve, reject});
    });
  }

  /* Closes the connection for good (until open() is called again). */
  close() {
    this.stop();
    this.setState({name: 'closed'});
  }

  wait(until) {
    this.stop();
    this.setState({name: 'closed', until});
    this.timer = setTimeout(() => this.open(), Math.max(0, until - Date.now()));
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.attempt++;
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000);
      this.failPending('the connection was closed');
    }
  }

  settle(how) {
    const request = this.pending.shift();
    if (request) how(request);
  }

  failPending(reason) {
    for (const request of this.pending.splice(0)) request.reject(new Error(reason));
  }

  setState(state) {
    this.state = state;
    if (this.onstate) this.onstate(state);
  }
}
