// broker.js: the browser client of the broker (PROTOCOL.md, "WebSocket transport (browsers)").
// A plain ES module with no dependencies and no build step: `import { BrokerClient } from '/broker.js'`.
//
// What it does for the page, so the page does not have to:
// - hello first (ticket or session cookie), ping -> pong, dead-connection detection;
// - reconnect with full-jitter exponential backoff, resuming every subscription from its last seen
//   position so no publication is lost or repeated across a reconnect;
// - de-duplication by (epoch, offset) per channel, and gap filling with `history` after `lagged`;
// - request ids, replies matched by id, timeouts, and several frames per WebSocket message both ways.

/** The value of `hello.client`. */
export const CLIENT_NAME = 'broker-js/1.0';

/** The WebSocket subprotocol offered; the broker accepts it when offered. */
export const SUBPROTOCOL = 'broker.v1.json';

// Lifecycle names a Subscription's on() reserves; a publication whose event has one of these names
// is still delivered to '*' handlers and to onPublication(name, fn).
const LIFECYCLE = new Set(['subscribed', 'lagged', 'join', 'leave', 'error']);

// Close codes after which reconnecting cannot help: 4003 session ended (PROTOCOL.md, "Close codes").
const FINAL_CLOSE_CODES = new Set([4003]);

// 1008 (policy) is final only before `welcome`, where it means the broker refused the hello (no or a
// bad ticket/cookie). After a welcome the broker also uses it for a missed pong or for rate-limit
// abuse: both pass, so the client reconnects with backoff.
const POLICY_CLOSE = 1008;

// Coalesced outbound frames stay under this many bytes per WebSocket message: the broker closes a
// socket whose whole message exceeds Broker:WebSocket:MaxMessageBytes (131,072) with 1009.
const MAX_BATCH_BYTES = 64 * 1024;

// Gap filling after `lagged` asks history for at most this many publications per request.
const HISTORY_PAGE = 100;

const encoder = new TextEncoder();

/**
 * An error from the broker (an `error` frame) or from the client itself.
 * `code` is one of the protocol's error codes (`bad_request`, `unauthorized`, `forbidden`,
 * `not_found`, `too_large`, `rate_limited`, `limit_exceeded`, `already_subscribed`,
 * `not_subscribed`, `unavailable`, `timeout`, `internal`) or a client code: `disconnected` (the
 * connection was lost before the reply came; the request may or may not have been handled),
 * `closed` (client.close() was called), `bad_frame` (the server sent something that is not JSON).
 */
export class BrokerError extends Error {
  /**
   * @param {string} code
   * @param {string} [message]
   * @param {object} [frame] the `error` frame, when the broker sent one
   */
  constructor(code, message, frame) {
    super(message || code);
    this.name = 'BrokerError';
    /** @type {string} */
    this.code = code;
    /** @type {object|undefined} */
    this.frame = frame;
  }
}

/**
 * @typedef {object} StreamPosition
 * @property {string} epoch names one life of the channel's numbering
 * @property {number} offset the last publication seen (0: none yet)
 */

/**
 * @typedef {object} Publication
 * @property {string} channel
 * @property {string} event
 * @property {*} data
 * @property {number} offset
 * @property {string} epoch
 * @property {string} time ISO-8601
 * @property {{userId?: string}|undefined} from
 */

/**
 * @typedef {object} ConnectInfo the `connect` event
 * @property {string} sessionId
 * @property {string|null} userId
 * @property {string} connectionId
 * @property {number} pingInterval seconds
 * @property {number} maxMessageBytes
 * @property {boolean} reconnected false on the first welcome, true after a reconnect
 */

/**
 * @typedef {object} DisconnectInfo the `disconnect` event: a live connection ended, or the broker
 *   refused the client for good (failed attempts while reconnecting only show in `state`)
 * @property {number} code the WebSocket close code (1006: the connection was lost without a close)
 * @property {string} reason
 * @property {boolean} reconnect whether the client will reconnect on its own
 */

/**
 * @typedef {object} StateInfo the `state` event
 * @property {'disconnected'|'connecting'|'connected'|'reconnecting'|'closed'} state
 * @property {string} previous
 * @property {number} [delayMs] reconnecting: the wait before the next attempt
 * @property {number} [retryAt] reconnecting: Date.now() of the next attempt
 * @property {number} [attempt] reconnecting: failed attempts in a row, from 1
 */

/**
 * @typedef {object} SubscribedInfo the Subscription `subscribed` event
 * @property {string} channel
 * @property {string} epoch
 * @property {number} offset the channel's position when the subscription went live
 * @property {boolean} recovered true: every missed publication follows; false with `resumed`: reload state
 * @property {boolean} resumed true when this continues from a position: a re-subscribe after a reconnect,
 *   subscribe with `since`, or an epoch change (`epochChanged`)
 * @property {number} missed how many missed publications follow (recovered only)
 * @property {boolean} epochChanged true when the broker said, unasked, that the channel's history was
 *   lost under the live subscription (a new epoch): the position jumped to it; reload state
 */

/**
 * @typedef {object} LaggedInfo the Subscription `lagged` event, emitted after the gap-filling attempt
 * @property {string} channel
 * @property {number} dropped publications the broker dropped for this subscriber
 * @property {string} epoch
 * @property {number} offset the last dropped publication
 * @property {boolean} recovered true: history filled the gap, the app missed nothing
 * @property {number} filled publications fetched from history and delivered
 */

/** A tiny event emitter; handlers never break the client (their exceptions are reported async). */
class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this._handlers = new Map();
  }

  /**
   * @param {string} name
   * @param {Function} fn
   * @returns {() => void} a function that removes the handler
   */
  on(name, fn) {
    if (typeof fn !== 'function') throw new TypeError('handler must be a function');
    let set = this._handlers.get(name);
    if (!set) this._handlers.set(name, (set = new Set()));
    set.add(fn);
    return () => this.off(name, fn);
  }

  /** @param {string} name @param {Function} fn */
  off(name, fn) {
    this._handlers.get(name)?.delete(fn);
  }

  _emit(name, arg) {
    const set = this._handlers.get(name);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(arg);
      } catch (err) {
        // A page's handler bug must not stop delivery to the others nor break the socket loop.
        setTimeout(() => { throw err; });
      }
    }
  }
}

/**
 * One channel's subscription. Get one from {@link BrokerClient#subscribe}; it survives reconnects
 * (resumed from {@link Subscription#position}) until {@link Subscription#unsubscribe}.
 *
 * Events: a publication's event name (or '*' for all) gets each {@link Publication} once, in offset
 * order; 'subscribed' ({@link SubscribedInfo}), 'lagged' ({@link LaggedInfo}), 'join' and 'leave'
 * (`{channel, member: {userId}}`, presence namespaces only), 'error' ({@link BrokerError}).
 */
export class Subscription extends Emitter {
  /**
   * @param {BrokerClient} client
   * @param {string} channel
   * @param {{since?: StreamPosition, personal?: boolean}} [options]
   */
  constructor(client, channel, options = {}) {
    super();
    this._client = client;
    /** @type {string} */
    this.channel = channel;
    /** @type {'subscribing'|'subscribed'|'unsubscribed'|'failed'} */
    this.state = 'subscribing';
    /** @type {StreamPosition|null} */
    this._position = options.since ? { epoch: options.since.epoch, offset: options.since.offset } : null;
    this._resumeRequested = !!options.since;
    this._personal = !!options.personal;
    this._filling = false;
    this._fillTarget = 0;
    /** @type {LaggedInfo|null} the `lagged` event of the fill in flight */
    this._fillInfo = null;
    /** @type {Publication[]} publications that arrived while a gap was being filled */
    this._held = [];
    this._generation = 0;
    /** @type {Map<string, Set<Function>>} */
    this._pubHandlers = new Map();
    this.ready = new Promise((resolve, reject) => {
      this._resolveReady = resolve;
      this._rejectReady = reject;
    });
    // A page that never awaits ready must not see an unhandled rejection.
    this.ready.catch(() => {});
  }

  /**
   * The last publication seen on this channel, or where the subscription started; resumed from here.
   * @returns {StreamPosition|null}
   */
  get position() {
    return this._position ? { epoch: this._position.epoch, offset: this._position.offset } : null;
  }

  /**
   * Listen to publications (`event` name, or '*' for every event) or to a lifecycle event
   * ('subscribed', 'lagged', 'join', 'leave', 'error').
   * @param {string} name
   * @param {Function} fn
   * @returns {() => void} removes the handler
   */
  on(name, fn) {
    if (LIFECYCLE.has(name)) return super.on(name, fn);
    return this.onPublication(name, fn);
  }

  /**
   * Listen to publications of one event name, including names the lifecycle reserves ('join' …).
   * @param {string} event an event name, or '*' for every publication
   * @param {(pub: Publication) => void} fn
   * @returns {() => void} removes the handler
   */
  onPublication(event, fn) {
    if (typeof fn !== 'function') throw new TypeError('handler must be a function');
    let set = this._pubHandlers.get(event);
    if (!set) this._pubHandlers.set(event, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  /** @param {string} name @param {Function} fn */
  off(name, fn) {
    super.off(name, fn);
    this._pubHandlers.get(name)?.delete(fn);
  }

  /**
   * Stop receiving this channel; it is no longer resumed on reconnect.
   * @returns {Promise<void>} settles when the broker confirmed (or at once when offline)
   */
  unsubscribe() {
    if (this.state === 'unsubscribed') return Promise.resolve();
    this.state = 'unsubscribed';
    this._held = [];
    this._generation++;
    return this._client._unsubscribe(this);
  }

  // --- called by the client -------------------------------------------------------------------

  _onSubscribed(frame) {
    const resumed = this._resumeRequested && this._position !== null;
    const before = this._position;
    let missed = 0;
    if (frame.recovered && before && before.epoch === frame.epoch) {
      // Missed publications follow this frame; keep the last seen position so they pass the dedupe.
      missed = Math.max(0, Number(frame.offset) - before.offset);
    } else {
      this._position = { epoch: String(frame.epoch ?? ''), offset: Number(frame.offset ?? 0) };
    }
    this._resumeRequested = false;
    this.state = 'subscribed';
    this._resolveReady(this);
    this._emit('subscribed', {
      channel: this.channel,
      epoch: frame.epoch,
      offset: frame.offset,
      recovered: !!frame.recovered,
      resumed,
      missed,
      epochChanged: false,
    });
  }

  /**
   * The broker says the channel's history was lost under this live subscription: a new epoch, and
   * live delivery goes on from `frame`'s position. What was missed in the old epoch cannot be
   * recovered, so the position jumps (a later resume asks for the new epoch, not the dead one) and
   * `subscribed` tells the app to reload (`recovered:false`; `resumed`: it held a position it could
   * not keep).
   */
  _onEpochChanged(frame) {
    if (this._filling) {
      // A gap fill in flight asks history of the old epoch, which is gone: stop it, deliver what
      // it held (old-epoch publications that came before this frame) and report the gap unfilled.
      this._generation++;
      this._filling = false;
      const held = this._held;
      this._held = [];
      const info = { ...this._fillInfo, offset: this._fillTarget, recovered: false };
      for (const pub of held) this._deliver(pub);
      this._emit('lagged', info);
    }
    this._position = { epoch: String(frame.epoch ?? ''), offset: Number(frame.offset ?? 0) };
    this._resumeRequested = false;
    this._emit('subscribed', {
      channel: this.channel,
      epoch: this._position.epoch,
      offset: this._position.offset,
      recovered: false,
      resumed: true,
      missed: 0,
      epochChanged: true,
    });
  }

  _onPub(pub) {
    if (this.state === 'unsubscribed') return;
    if (this._filling) {
      this._held.push(pub);
      return;
    }
    this._deliver(pub);
  }

  /** Delivers a publication unless it was already seen (same epoch, offset not after the last). */
  _deliver(pub) {
    const p = this._position;
    const offset = Number(pub.offset);
    if (p && pub.epoch === p.epoch && offset <= p.offset) return false;
    this._position = { epoch: pub.epoch, offset };
    const fire = (set) => {
      if (!set) return;
      for (const fn of [...set]) {
        try {
          fn(pub);
        } catch (err) {
          setTimeout(() => { throw err; });
        }
      }
    };
    fire(this._pubHandlers.get(pub.event));
    fire(this._pubHandlers.get('*'));
    return true;
  }

  /**
   * `lagged` comes right before the first publication after a drop. Hold live publications, fetch
   * the gap from history (page by page), deliver it, then release what was held: the app sees
   * every publication once, in order. Without history the gap stays and `recovered` is false.
   */
  async _onLagged(frame) {
    if (this.state === 'unsubscribed') return;
    const info = {
      channel: this.channel,
      dropped: Number(frame.dropped ?? 0),
      epoch: frame.epoch,
      offset: Number(frame.offset ?? 0),
      recovered: false,
      filled: 0,
    };
    if (this._filling) {
      // A fill is running: widen it to this drop too (the held publications pass the dedupe).
      this._fillTarget = Math.max(this._fillTarget, info.offset);
      return;
    }
    const start = this._position;
    if (!start || start.epoch !== frame.epoch || start.offset >= info.offset) {
      info.recovered = !!start && start.epoch === frame.epoch && start.offset >= info.offset;
      this._emit('lagged', info);
      return;
    }
    this._filling = true;
    this._fillTarget = info.offset;
    this._fillInfo = info;
    const generation = this._generation;
    let lost = false;
    try {
      while (this._position.offset < this._fillTarget) {
        const before = this._position.offset;
        const reply = await this._client.history(this.channel, {
          since: this.position,
          limit: Math.min(HISTORY_PAGE, this._fillTarget - before),
        });
        if (generation !== this._generation) return;
        const pubs = Array.isArray(reply.publications) ? reply.publications : [];
        if (!reply.recovered || pubs.length === 0) break;
        for (const pub of pubs) {
          pub.channel ??= this.channel;
          pub.epoch ??= reply.epoch;
          if (this._deliver(pub)) info.filled++;
        }
        if (this._position.offset <= before) break; // no progress: never loop on a stale reply
      }
      info.offset = this._fillTarget;
      info.recovered = this._position.epoch === frame.epoch && this._position.offset >= this._fillTarget;
    } catch (err) {
      if (err instanceof BrokerError && (err.code === 'disconnected' || err.code === 'closed')) {
        // The resume on reconnect replays from the last delivered position: drop what was held,
        // it comes again after `subscribed`.
        lost = true;
      }
    } finally {
      if (generation === this._generation) {
        this._filling = false;
        const held = this._held;
        this._held = [];
        if (!lost) {
          for (const pub of held) this._deliver(pub);
          this._emit('lagged', info);
        }
      }
    }
  }

  _onPresence(type, frame) {
    this._emit(type, { channel: this.channel, member: frame.member });
  }

  _onError(err) {
    this.state = 'failed';
    this._rejectReady(err);
    this._emit('error', err);
  }

  /** The connection went away: a gap fill in flight is abandoned (the resume will replay). */
  _onConnectionLost() {
    if (this._filling) {
      this._generation++;
      this._filling = false;
      this._held = [];
    }
    if (this.state === 'subscribed') this.state = 'subscribing';
    if (this._position) this._resumeRequested = true;
  }
}

/**
 * The personal channels (`$session:<id>` and `$user:<id>`), subscribed by the broker on `welcome` and resumed
 * from their last seen position through `hello.resume`.
 * `on(event, fn)` gets the publications of both, each once and in order per channel; `on('subscribed', fn)`
 * gets each channel's {@link SubscribedInfo} on every welcome and when its epoch changed.
 */
export class PersonalChannels {
  /** @param {BrokerClient} client */
  constructor(client) {
    this._client = client;
    /** @type {Map<string, Function[]>} */
    this._listeners = new Map();
  }

  /** @returns {string[]} the personal channel names of the current connection */
  get channels() {
    return [...this._client._personal.keys()];
  }

  /**
   * @param {string} name an event name, '*', or 'subscribed' / 'lagged' / 'error'
   * @param {Function} fn
   * @returns {() => void} removes the handler from every personal channel, present and future
   */
  on(name, fn) {
    if (!this._listeners.has(name)) this._listeners.set(name, []);
    this._listeners.get(name).push(fn);
    const offs = [];
    for (const sub of this._client._personal.values()) offs.push(sub.on(name, fn));
    return () => {
      offs.forEach((off) => off());
      const list = this._listeners.get(name) || [];
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
      for (const sub of this._client._personal.values()) sub.off(name, fn);
    };
  }

  _attach(sub) {
    for (const [name, fns] of this._listeners) for (const fn of fns) sub.on(name, fn);
  }
}

/**
 * The broker's browser client.
 *
 * ```js
 * const client = new BrokerClient({ ticket: async () => (await fetch('/tickets', {method: 'POST'}).then(r => r.json())).ticket });
 * client.on('state', ({state}) => console.log(state));
 * const lobby = client.subscribe('chat:lobby');
 * lobby.on('message', (pub) => console.log(pub.data));
 * client.connect();
 * await client.publish('chat:lobby', {text: 'hi'});
 * ```
 *
 * Events: 'connect' ({@link ConnectInfo}), 'disconnect' ({@link DisconnectInfo}), 'error'
 * ({@link BrokerError} for errors that answer no request), 'state' ({@link StateInfo}).
 */
export class BrokerClient extends Emitter {
  /**
   * @param {object} [options]
   * @param {string} [options.url] default `ws(s)://<location.host>/ws`
   * @param {string|(() => Promise<string>|string)} [options.ticket] a ticket, or a function called
   *   before every (re)connect for a fresh one (tickets are single-use); without one, `hello`
   *   relies on the session cookie sent with the upgrade
   * @param {number} [options.minReconnectDelay] ms, default 500
   * @param {number} [options.maxReconnectDelay] ms, default 20000
   * @param {number} [options.requestTimeout] ms for publish/history/presence/subscribe replies, default 10000
   * @param {number} [options.sendTimeout] ms for send replies, default 15000 (the broker's handler timeout is 10 s)
   * @param {number} [options.connectTimeout] ms from opening the socket to `welcome`, default 10000
   * @param {number} [options.deadConnectionGrace] ms added to pingInterval before a silent
   *   connection counts as dead, default 10000
   * @param {string|string[]|null} [options.protocols] WebSocket subprotocols, default 'broker.v1.json'
   */
  constructor(options = {}) {
    super();
    this._options = {
      url: options.url ?? defaultUrl(),
      ticket: options.ticket,
      minReconnectDelay: options.minReconnectDelay ?? 500,
      maxReconnectDelay: options.maxReconnectDelay ?? 20000,
      requestTimeout: options.requestTimeout ?? 10000,
      sendTimeout: options.sendTimeout ?? 15000,
      connectTimeout: options.connectTimeout ?? 10000,
      deadConnectionGrace: options.deadConnectionGrace ?? 10000,
      protocols: options.protocols === undefined ? SUBPROTOCOL : options.protocols,
    };
    /** @type {StateInfo['state']} */
    this.state = 'disconnected';
    /** @type {string|null} */
    this.sessionId = null;
    /** @type {string|null} */
    this.userId = null;
    /** @type {string|null} */
    this.connectionId = null;
    /** The personal channels, subscribed by the broker on every welcome. */
    this.personal = new PersonalChannels(this);
    /** @type {Map<string, Subscription>} */
    this._subs = new Map();
    /** @type {Map<string, Subscription>} */
    this._personal = new Map();
    /** @type {Map<number, {resolve: Function, reject: Function, timer: any, frame: object, sent: boolean}>} */
    this._pending = new Map();
    /** @type {number[]} ids of requests waiting for a connection */
    this._waiting = [];
    this._nextId = 1;
    this._ws = null;
    this._outbox = [];
    this._flushScheduled = false;
    this._attempt = 0;
    this._reconnectTimer = null;
    this._deadTimer = null;
    this._pingInterval = 25;
    this._maxMessageBytes = 65536;
    this._welcomed = false;
    this._everConnected = false;
    this._serverDisconnect = null;
    this._connectGeneration = 0;
    /** @type {Set<string>} channels the current connection's hello resumed */
    this._helloResumed = new Set();
    // Back online: try now instead of waiting out the backoff.
    this._onOnline = () => {
      if (this.state !== 'reconnecting') return;
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
      this._open();
    };
    if (typeof window !== 'undefined' && window.addEventListener) window.addEventListener('online', this._onOnline);
  }

  /** Opens the connection (and keeps it open until close()). Calling it again is harmless. */
  connect() {
    if (this.state === 'connecting' || this.state === 'connected') return;
    if (this.state === 'closed' && typeof window !== 'undefined' && window.addEventListener) {
      window.addEventListener('online', this._onOnline);
    }
    if (this._reconnectTimer) {
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
    }
    this._open();
  }

  /** Closes the connection for good: no reconnect; pending requests reject with code 'closed'. */
  close() {
    if (typeof window !== 'undefined' && window.removeEventListener) window.removeEventListener('online', this._onOnline);
    this._connectGeneration++;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    const ws = this._ws;
    this._detach();
    if (ws) {
      try { ws.close(1000, 'client closed'); } catch { /* already closing */ }
    }
    this._failPending('closed', 'the client was closed', true);
    for (const sub of this._subs.values()) sub._onConnectionLost();
    const was = this.state;
    this._setState('closed');
    if (was === 'connected') this._emit('disconnect', { code: 1000, reason: 'client closed', reconnect: false });
  }

  /**
   * Subscribes to a channel, now or on the next connect, and keeps it across reconnects.
   * Subscribing twice to one channel returns the same Subscription.
   * @param {string} channel
   * @param {{since?: StreamPosition}} [options] resume from this position (publications after it are replayed)
   * @returns {Subscription}
   */
  subscribe(channel, options = {}) {
    const existing = this._subs.get(channel);
    if (existing) return existing;
    const sub = new Subscription(this, channel, options);
    this._subs.set(channel, sub);
    if (this.state === 'connected') this._sendSubscribe(sub);
    return sub;
  }

  /** @param {string} channel @returns {Subscription|undefined} */
  getSubscription(channel) {
    return this._subs.get(channel);
  }

  /**
   * Publishes to a channel (the namespace must allow browsers to publish).
   * @param {string} channel
   * @param {*} data any JSON value
   * @param {{event?: string, timeoutMs?: number}} [options]
   * @returns {Promise<{channel: string, offset: number, epoch: string}>} the broker's ack
   */
  publish(channel, data, options = {}) {
    const frame = { type: 'publish', channel, data };
    if (options.event) frame.event = options.event;
    const tooLarge = this._checkSize(data);
    if (tooLarge) return Promise.reject(tooLarge);
    return this._request(frame, options.timeoutMs ?? this._options.requestTimeout)
      .then((ack) => ({ channel: ack.channel, offset: ack.offset, epoch: ack.epoch }));
  }

  /**
   * Sends a request to the backend handler of `event` and waits for its reply.
   * Rejects with a {@link BrokerError}: 'unavailable' (no handler), 'timeout', 'bad_request' … .
   * @param {string} event
   * @param {*} data any JSON value
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<*>} the reply's data
   */
  send(event, data, options = {}) {
    const tooLarge = this._checkSize(data);
    if (tooLarge) return Promise.reject(tooLarge);
    return this._request({ type: 'send', event, data }, options.timeoutMs ?? this._options.sendTimeout)
      .then((reply) => reply.data);
  }

  /**
   * Reads a channel's history: with `since`, the first `limit` publications after it, oldest first;
   * without, the last `limit`.
   * @param {string} channel
   * @param {{since?: StreamPosition, limit?: number, timeoutMs?: number}} [options]
   * @returns {Promise<{channel: string, epoch: string, offset: number, recovered: boolean, publications: Publication[]}>}
   */
  history(channel, options = {}) {
    const frame = { type: 'history', channel };
    if (options.since) frame.since = { epoch: options.since.epoch, offset: options.since.offset };
    if (options.limit != null) frame.limit = options.limit;
    return this._request(frame, options.timeoutMs ?? this._options.requestTimeout).then((r) => ({
      channel: r.channel ?? channel,
      epoch: r.epoch,
      offset: r.offset,
      recovered: !!r.recovered,
      publications: (r.publications || []).map((p) => ({ ...p, channel: p.channel ?? channel, epoch: p.epoch ?? r.epoch })),
    }));
  }

  /**
   * Who is in a channel (namespaces with presence): users with their connection counts, and
   * the number of sessions without a user.
   * @param {string} channel
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<{channel: string, members: {userId: string, connections: number}[], anonymous: number}>}
   */
  presence(channel, options = {}) {
    return this._request({ type: 'presence', channel }, options.timeoutMs ?? this._options.requestTimeout)
      .then((r) => ({ channel: r.channel ?? channel, members: r.members || [], anonymous: r.anonymous ?? 0 }));
  }

  // --- connection ---------------------------------------------------------------------------

  async _open() {
    const generation = ++this._connectGeneration;
    this._setState('connecting');
    let ticket;
    try {
      const t = this._options.ticket;
      ticket = typeof t === 'function' ? await withTimeout(Promise.resolve(t()), this._options.connectTimeout, 'the ticket function') : t;
    } catch (err) {
      if (generation !== this._connectGeneration) return;
      this._emit('error', err instanceof BrokerError ? err : new BrokerError('unauthorized', `ticket: ${err?.message ?? err}`));
      this._scheduleReconnect();
      return;
    }
    if (generation !== this._connectGeneration) return;

    let ws;
    try {
      ws = this._options.protocols ? new WebSocket(this._options.url, this._options.protocols) : new WebSocket(this._options.url);
    } catch (err) {
      this._emit('error', new BrokerError('bad_request', `cannot open ${this._options.url}: ${err?.message ?? err}`));
      this._setState('closed');
      return;
    }
    this._ws = ws;
    this._welcomed = false;
    this._serverDisconnect = null;
    this._armDeadTimer(this._options.connectTimeout);

    ws.onopen = () => {
      const hello = { type: 'hello', id: this._nextId++, client: CLIENT_NAME };
      if (ticket) hello.ticket = ticket;
      const resume = {};
      this._helloResumed = new Set();
      for (const sub of this._subs.values()) {
        if (sub.state !== 'unsubscribed' && sub._position) {
          resume[sub.channel] = { epoch: sub._position.epoch, offset: sub._position.offset };
          sub._resumeRequested = true;
          this._helloResumed.add(sub.channel);
        }
      }
      // Personal channels resume too: the broker replays what they missed right after `welcome`
      // (no `subscribed` frame; the welcome entry says whether it `recovered`). When the session or
      // user changed, the broker ignores the old names (they are not this connection's).
      for (const sub of this._personal.values()) {
        if (sub._position) {
          resume[sub.channel] = { epoch: sub._position.epoch, offset: sub._position.offset };
          sub._resumeRequested = true;
        }
      }
      if (Object.keys(resume).length) hello.resume = resume;
      // hello goes alone and first: nothing may precede it.
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (e) => this._onMessage(ws, e.data);
    ws.onerror = () => { /* the close event follows and carries what is known */ };
    ws.onclose = (e) => this._onClose(ws, e.code, e.reason);
  }

  _onMessage(ws, raw) {
    if (ws !== this._ws) return;
    if (typeof raw !== 'string') {
      this._emit('error', new BrokerError('bad_frame', 'binary message from the broker'));
      return;
    }
    // Any frame at all proves the connection alive.
    if (this._welcomed) this._armDeadTimer((this._pingInterval * 1000) + this._options.deadConnectionGrace);
    for (const line of raw.split('\n')) {
      if (!line.trim()) continue;
      let frame;
      try {
        frame = JSON.parse(line);
      } catch {
        this._emit('error', new BrokerError('bad_frame', 'a frame that is not JSON'));
        continue;
      }
      if (!frame || typeof frame !== 'object') continue;
      this._dispatch(frame);
      if (ws !== this._ws) return; // the frame closed this socket
    }
  }

  _dispatch(frame) {
    switch (frame.type) {
      case 'welcome': return this._onWelcome(frame);
      case 'ping': return this._enqueue({ type: 'pong' });
      case 'pong': return undefined;
      case 'pub': return this._routePub(frame);
      case 'subscribed': {
        if (frame.id != null) {
          const sub = this._subs.get(frame.channel);
          this._settle(frame.id, frame);
          if (sub && sub.state !== 'unsubscribed') sub._onSubscribed(frame);
          return undefined;
        }
        return this._onUnaskedSubscribed(frame);
      }
      case 'lagged': {
        const sub = this._subs.get(frame.channel) ?? this._personal.get(frame.channel);
        if (sub) sub._onLagged(frame);
        return undefined;
      }
      case 'join':
      case 'leave': {
        const sub = this._subs.get(frame.channel);
        if (sub) sub._onPresence(frame.type, frame);
        return undefined;
      }
      case 'disconnect':
        this._serverDisconnect = { code: Number(frame.code ?? 1000), reason: String(frame.reason ?? ''), reconnect: frame.reconnect !== false };
        return undefined;
      case 'error': return this._onErrorFrame(frame);
      default:
        if (frame.id != null) return this._settle(frame.id, frame);
        return undefined;
    }
  }

  _onWelcome(frame) {
    this._welcomed = true;
    this._attempt = 0;
    this.sessionId = frame.sessionId ?? null;
    this.userId = frame.userId ?? null;
    this.connectionId = frame.connectionId ?? null;
    if (Number(frame.pingInterval) > 0) this._pingInterval = Number(frame.pingInterval);
    if (Number(frame.maxMessageBytes) > 0) this._maxMessageBytes = Number(frame.maxMessageBytes);
    this._armDeadTimer((this._pingInterval * 1000) + this._options.deadConnectionGrace);
    if (frame.id != null) this._pending.delete(frame.id);

    // Personal channels: keep positions (dedupe) across reconnects when the names stay the same.
    const names = new Set();
    for (const s of frame.subscriptions || []) {
      names.add(s.channel);
      let sub = this._personal.get(s.channel);
      if (!sub) {
        sub = new Subscription(this, s.channel, { personal: true });
        this._personal.set(s.channel, sub);
        this.personal._attach(sub);
      }
      // With a resume position and recovered:true, the missed publications follow the welcome.
      sub._onSubscribed({ channel: s.channel, epoch: s.epoch, offset: s.offset ?? 0, recovered: !!s.recovered });
    }
    for (const name of [...this._personal.keys()]) if (!names.has(name)) this._personal.delete(name);

    const reconnected = this._everConnected;
    this._everConnected = true;
    this._setState('connected');
    // Channels not resumed by hello (never confirmed, or subscribed while offline) subscribe now;
    // channels hello resumed but the page dropped before welcome are unsubscribed.
    for (const sub of this._subs.values()) {
      if (sub.state !== 'unsubscribed' && !this._helloResumed.has(sub.channel)) this._sendSubscribe(sub);
    }
    for (const channel of this._helloResumed) {
      if (!this._subs.has(channel)) this._enqueue({ type: 'unsubscribe', channel });
    }
    // Requests made while offline go out after the subscriptions.
    const waiting = this._waiting;
    this._waiting = [];
    for (const id of waiting) {
      const p = this._pending.get(id);
      if (p && !p.sent) { p.sent = true; this._enqueue(p.frame); }
    }
    this._emit('connect', {
      sessionId: this.sessionId,
      userId: this.userId,
      connectionId: this.connectionId,
      pingInterval: this._pingInterval,
      maxMessageBytes: this._maxMessageBytes,
      reconnected,
    });
  }

  /**
   * A `subscribed` without `id` is one of two things. After `welcome`, the answer to a `hello.resume`
   * entry: its subscription is still `subscribing`. On a live subscription (personal channels
   * included), the broker telling that the channel's history was lost and a new epoch began
   * (PROTOCOL.md, cluster: Redis lost the channel): the position jumps to the new epoch and the app
   * is told to reload. One for a channel this client does not hold (e.g. unsubscribed meanwhile) is
   * ignored.
   */
  _onUnaskedSubscribed(frame) {
    const sub = this._subs.get(frame.channel) ?? this._personal.get(frame.channel);
    if (!sub || sub.state === 'unsubscribed' || sub.state === 'failed') return;
    if (sub.state === 'subscribed') {
      sub._onEpochChanged(frame);
    } else if (this._helloResumed.has(frame.channel)) {
      sub._onSubscribed(frame);
    }
    // Otherwise a subscribe of ours is in flight (this frame is about an earlier subscription of the
    // channel, unsubscribed since): its reply sets the position.
  }

  _routePub(frame) {
    const sub = this._subs.get(frame.channel) ?? this._personal.get(frame.channel);
    if (!sub) return;
    sub._onPub({
      channel: frame.channel,
      event: frame.event ?? 'message',
      data: frame.data,
      offset: Number(frame.offset),
      epoch: frame.epoch,
      time: frame.time,
      from: frame.from,
    });
  }

  _onErrorFrame(frame) {
    const err = new BrokerError(String(frame.code ?? 'internal'), frame.message, frame);
    if (frame.id != null && this._pending.has(frame.id)) {
      const p = this._pending.get(frame.id);
      if (p.frame.type === 'subscribe') {
        const sub = this._subs.get(p.frame.channel);
        if (err.code === 'already_subscribed') {
          // The broker already has it (e.g. a resume raced this subscribe): not a failure.
          this._settle(frame.id, { type: 'subscribed' });
          return;
        }
        if (sub) {
          this._subs.delete(sub.channel);
          sub._onError(err);
        }
      }
      this._reject(frame.id, err);
      return;
    }
    if (frame.id == null && typeof frame.channel === 'string' && frame.channel.startsWith('$')) {
      // A personal channel of an earlier session or user, named in hello.resume after the ticket
      // changed who this is: the broker refuses it and this connection has its own personal channels.
      return;
    }
    if (frame.id == null && typeof frame.channel === 'string' && this._helloResumed.has(frame.channel)) {
      // An error about a hello.resume entry names its channel (it has no id): that subscription failed.
      const sub = this._subs.get(frame.channel);
      if (sub && err.code !== 'already_subscribed') {
        this._subs.delete(sub.channel);
        sub._onError(err);
      }
      if (err.code !== 'already_subscribed') this._helloResumed.delete(frame.channel);
      return;
    }
    this._emit('error', err);
  }

  _onClose(ws, code, reason) {
    if (ws !== this._ws) return;
    this._detach();
    const server = this._serverDisconnect;
    const wasConnected = this._welcomed;
    const finalCode = FINAL_CLOSE_CODES.has(code) || (code === POLICY_CLOSE && !wasConnected) || (server && !server.reconnect);
    const reconnect = !finalCode;
    this._welcomed = false;
    this._failPending('disconnected', `connection lost (${code})`, false);
    for (const sub of this._subs.values()) sub._onConnectionLost();
    for (const sub of this._personal.values()) sub._onConnectionLost();
    // A failed attempt while already reconnecting is not news (`state` reports it); losing a live
    // connection, or being refused for good, is.
    if (wasConnected || !reconnect) this._emit('disconnect', { code, reason: server?.reason || reason || '', reconnect });
    if (reconnect) this._scheduleReconnect();
    else {
      this._failPending('closed', 'the broker closed the connection for good', true);
      this._setState('closed');
    }
  }

  /** Drops the current socket without waiting for its close event (dead connection, close()). */
  _detach() {
    clearTimeout(this._deadTimer);
    this._deadTimer = null;
    const ws = this._ws;
    this._ws = null;
    this._outbox = [];
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    }
    return ws;
  }

  _armDeadTimer(ms) {
    clearTimeout(this._deadTimer);
    const ws = this._ws;
    this._deadTimer = setTimeout(() => {
      if (ws !== this._ws) return;
      // No frame within pingInterval + grace: the connection is dead even if TCP has not noticed.
      try { ws.close(4000, 'no frame from the broker'); } catch { /* ignore */ }
      this._onClose(ws, 1006, 'no frame from the broker');
    }, ms);
  }

  _scheduleReconnect() {
    this._attempt++;
    const min = this._options.minReconnectDelay;
    const max = Math.max(min, this._options.maxReconnectDelay);
    // Full jitter (AWS architecture blog): uniform between min and the exponential ceiling, so a
    // broker restart does not see every browser come back in the same instant.
    const ceiling = Math.min(max, min * 2 ** this._attempt);
    const delayMs = Math.round(min + Math.random() * (ceiling - min));
    const retryAt = Date.now() + delayMs;
    const generation = this._connectGeneration;
    this._setState('reconnecting', { delayMs, retryAt, attempt: this._attempt });
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      if (generation === this._connectGeneration && this.state === 'reconnecting') this._open();
    }, delayMs);
  }

  _setState(state, extra = {}) {
    const previous = this.state;
    this.state = state;
    if (previous !== state || state === 'reconnecting') this._emit('state', { state, previous, ...extra });
  }

  // --- requests and frames -------------------------------------------------------------------

  _request(frame, timeoutMs) {
    if (this.state === 'closed') return Promise.reject(new BrokerError('closed', 'the client is closed'));
    const id = this._nextId++;
    frame.id = id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._reject(id, new BrokerError('timeout', `no reply to ${frame.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const entry = { resolve, reject, timer, frame, sent: false };
      this._pending.set(id, entry);
      if (this.state === 'connected') {
        entry.sent = true;
        this._enqueue(frame);
      } else {
        this._waiting.push(id);
      }
    });
  }

  _sendSubscribe(sub) {
    const frame = { type: 'subscribe', channel: sub.channel };
    if (sub._position && sub._resumeRequested) frame.since = { epoch: sub._position.epoch, offset: sub._position.offset };
    this._request(frame, this._options.requestTimeout).catch((err) => {
      if (err.code === 'timeout' && this._subs.get(sub.channel) === sub) sub._emit('error', err);
    });
  }

  _unsubscribe(sub) {
    if (this._subs.get(sub.channel) === sub) this._subs.delete(sub.channel);
    if (this.state !== 'connected') return Promise.resolve();
    return this._request({ type: 'unsubscribe', channel: sub.channel }, this._options.requestTimeout)
      .then(() => undefined, (err) => {
        if (err.code === 'not_subscribed' || err.code === 'disconnected' || err.code === 'closed') return undefined;
        throw err;
      });
  }

  _settle(id, frame) {
    const p = this._pending.get(id);
    if (!p) return;
    this._pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(frame);
  }

  _reject(id, err) {
    const p = this._pending.get(id);
    if (!p) return;
    this._pending.delete(id);
    clearTimeout(p.timer);
    const i = this._waiting.indexOf(id);
    if (i >= 0) this._waiting.splice(i, 1);
    p.reject(err);
  }

  /**
   * Requests already on the wire cannot be known to have been handled: they reject 'disconnected'.
   * Requests still waiting for a connection keep waiting (until their timeout) unless `all`.
   */
  _failPending(code, message, all) {
    for (const [id, p] of [...this._pending]) {
      if (p.sent || all) this._reject(id, new BrokerError(code, message));
    }
  }

  _checkSize(data) {
    let json;
    try {
      json = JSON.stringify(data);
    } catch (err) {
      return new BrokerError('bad_request', `data is not JSON: ${err.message}`);
    }
    if (json === undefined) return new BrokerError('bad_request', 'data is not a JSON value');
    if (encoder.encode(json).length > this._maxMessageBytes) {
      return new BrokerError('too_large', `data is over ${this._maxMessageBytes} bytes`);
    }
    return null;
  }

  /** Queues a frame; frames queued in one task go out together, `\n`-separated, in one message. */
  _enqueue(frame) {
    if (!this._ws) return;
    this._outbox.push(JSON.stringify(frame));
    if (this._flushScheduled) return;
    this._flushScheduled = true;
    queueMicrotask(() => this._flush());
  }

  _flush() {
    this._flushScheduled = false;
    const ws = this._ws;
    const lines = this._outbox;
    this._outbox = [];
    if (!ws || ws.readyState !== 1 || lines.length === 0) return;
    let batch = '';
    let bytes = 0;
    for (const line of lines) {
      const size = encoder.encode(line).length;
      if (batch && bytes + 1 + size > MAX_BATCH_BYTES) {
        ws.send(batch);
        batch = '';
        bytes = 0;
      }
      batch = batch ? `${batch}\n${line}` : line;
      bytes += (bytes ? 1 : 0) + size;
    }
    if (batch) ws.send(batch);
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new BrokerError('timeout', `${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function defaultUrl() {
  if (typeof location === 'undefined') return 'ws://127.0.0.1:8080/ws';
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}
