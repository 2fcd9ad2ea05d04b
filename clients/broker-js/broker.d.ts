// Type declarations of broker.js, written by hand next to the module they describe (the module has no
// build step, so there is nothing to generate them from). docs/broker-js.md is the prose of the same API;
// tests/Broker.ClientPackageTests checks that every member broker.js exports is declared here and that
// typed code compiles (and wrong code does not) under `tsc --strict`.

/** The value of `hello.client`. */
export declare const CLIENT_NAME: 'broker-js/1.0';

/** The WebSocket subprotocol offered by default; the broker selects it when offered. */
export declare const SUBPROTOCOL: 'broker.v1.json';

/** Error codes the broker sends in `error` frames (PROTOCOL.md, "Error codes"). */
export type BrokerServerErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'too_large'
  | 'rate_limited'
  | 'limit_exceeded'
  | 'already_subscribed'
  | 'not_subscribed'
  | 'unavailable'
  | 'timeout'
  | 'internal';

/**
 * Codes the client raises itself: `disconnected` (the connection was lost after the request went out: it
 * may or may not have been handled), `closed` (`close()` was called, or the broker refused the client for
 * good), `bad_frame` (the broker sent something that is not a JSON frame). The client also uses `timeout`
 * (no reply in time), `too_large` (data over `welcome.maxMessageBytes`, checked before sending),
 * `bad_request` (data that is not JSON) and `unauthorized` (the ticket function failed).
 */
export type BrokerClientErrorCode = 'disconnected' | 'closed' | 'bad_frame';

/** Every `BrokerError.code`. */
export type BrokerErrorCode = BrokerServerErrorCode | BrokerClientErrorCode;

/** An `error` frame as the broker sent it. */
export interface ErrorFrame {
  type: 'error';
  /** The id of the request it answers; absent for errors that answer no request. */
  id?: number;
  code: string;
  message?: string;
  /** Names the channel of a failed `hello.resume` entry. */
  channel?: string;
}

/** An error from the broker (an `error` frame) or from the client itself. */
export declare class BrokerError extends Error {
  /**
   * @param code the error code
   * @param message a human-readable text; defaults to the code
   * @param frame the `error` frame, when the broker sent one
   */
  constructor(code: BrokerErrorCode, message?: string, frame?: ErrorFrame);
  name: 'BrokerError';
  /** The broker's error code, or one of the client's. */
  code: BrokerErrorCode;
  /** The `error` frame, when the broker sent one. */
  frame: ErrorFrame | undefined;
}

/** A position in a channel's stream. */
export interface StreamPosition {
  /** Names one life of the channel's numbering. */
  epoch: string;
  /** The last publication seen (0: none yet). */
  offset: number;
}

/** Who published: a browser's publication names its user (`{}` when it has none); a backend's names nobody. */
export interface PublicationSender {
  userId?: string;
}

/** One publication of a channel; `T` is the type of its JSON `data`. */
export interface Publication<T = unknown> {
  channel: string;
  /** The event name (`message` when the publisher named none). */
  event: string;
  data: T;
  offset: number;
  epoch: string;
  /** When the broker accepted it, ISO-8601. */
  time: string;
  from?: PublicationSender;
}

/** The connection's states, in order: `disconnected` → `connecting` → `connected`; `reconnecting` between attempts; `closed` at the end. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** The `connect` event: a `welcome` arrived. */
export interface ConnectInfo {
  sessionId: string;
  userId: string | null;
  connectionId: string;
  /** Seconds between the broker's pings. */
  pingInterval: number;
  /** The largest `data` the broker accepts, in bytes. */
  maxMessageBytes: number;
  /** false on the first welcome, true after a reconnect. */
  reconnected: boolean;
}

/** The `disconnect` event: a live connection ended, or the broker refused the client for good. */
export interface DisconnectInfo {
  /** The WebSocket close code (1006: lost without a close), or the broker's `disconnect` code. */
  code: number;
  reason: string;
  /** Whether the client reconnects on its own. */
  reconnect: boolean;
}

/** The `state` event while waiting to retry. */
export interface ReconnectingStateInfo {
  state: 'reconnecting';
  previous: ConnectionState;
  /** The wait before the next attempt, in ms. */
  delayMs: number;
  /** `Date.now()` of the next attempt. */
  retryAt: number;
  /** Failed attempts in a row, from 1. */
  attempt: number;
}

/** The `state` event for every other state. */
export interface SettledStateInfo {
  state: Exclude<ConnectionState, 'reconnecting'>;
  previous: ConnectionState;
  delayMs?: undefined;
  retryAt?: undefined;
  attempt?: undefined;
}

/** The `state` event: `delayMs`, `retryAt` and `attempt` are there exactly when `state` is `reconnecting`. */
export type StateInfo = ReconnectingStateInfo | SettledStateInfo;

/** The client's events and their payloads. */
export interface BrokerClientEvents {
  connect: ConnectInfo;
  disconnect: DisconnectInfo;
  /** A `BrokerError` that answers no request. */
  error: BrokerError;
  state: StateInfo;
}

/**
 * The Subscription `subscribed` event; fires on every (re)subscribe, and when the broker says the channel's
 * history was lost under the live subscription (`epochChanged`).
 */
export interface SubscribedInfo {
  channel: string;
  epoch: string;
  /** The channel's newest offset when the subscription went live. */
  offset: number;
  /** true: every missed publication follows. false: the position was too old or of another epoch, or there was none. */
  recovered: boolean;
  /** true when this continues from a position: a reconnect, `subscribe` with `since`, or an epoch change. */
  resumed: boolean;
  /** How many missed publications follow (when recovered). */
  missed: number;
  /**
   * true when the broker said, unasked, that the channel's history was lost (a new epoch): `position` jumped to
   * `{epoch, offset}`, `recovered` is false, and only publications after it follow. Reload the state.
   */
  epochChanged: boolean;
}

/** The Subscription `lagged` event, emitted after the client tried to fill the gap from history. */
export interface LaggedInfo {
  channel: string;
  /** Publications the broker dropped for this subscriber. */
  dropped: number;
  epoch: string;
  /** The last dropped publication. */
  offset: number;
  /** true: history filled the gap, nothing was missed. */
  recovered: boolean;
  /** Publications fetched from history and delivered. */
  filled: number;
}

/** The Subscription `join` and `leave` events (namespaces with presence). */
export interface PresenceChange {
  channel: string;
  member: { userId: string };
}

/** The lifecycle events of a Subscription and their payloads; every other name is a publication's event. */
export interface SubscriptionEvents {
  subscribed: SubscribedInfo;
  lagged: LaggedInfo;
  join: PresenceChange;
  leave: PresenceChange;
  /** The subscription was refused (`forbidden`, `limit_exceeded`, …) and dropped, or its subscribe timed out. */
  error: BrokerError;
}

/** The names `Subscription.on` keeps for lifecycle events. */
export type SubscriptionLifecycleEvent = keyof SubscriptionEvents;

/**
 * A publication's event name as `on` takes it: any string except the lifecycle names (for those, use
 * `onPublication`). `'*'` means every event.
 */
export type PublicationEventName<E extends string> = E extends SubscriptionLifecycleEvent ? never : E;

/** A Subscription's state. */
export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed' | 'failed';

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** Resume from this position: the publications after it are replayed. */
  since?: StreamPosition;
}

/** Options of `publish`. */
export interface PublishOptions {
  /** The event name; default `message`. */
  event?: string;
  /** ms to wait for the `ack`; default the client's `requestTimeout`. */
  timeoutMs?: number;
}

/** Options of `send`. */
export interface SendOptions {
  /** ms to wait for the reply; default the client's `sendTimeout`. */
  timeoutMs?: number;
}

/** Options of `history`. */
export interface HistoryOptions {
  /** The first `limit` publications after this position; without it, the last `limit`. */
  since?: StreamPosition;
  limit?: number;
  /** ms to wait for the reply; default the client's `requestTimeout`. */
  timeoutMs?: number;
}

/** Options of `presence`. */
export interface PresenceOptions {
  /** ms to wait for the reply; default the client's `requestTimeout`. */
  timeoutMs?: number;
}

/** The broker's `ack` of a publish. */
export interface PublishResult {
  channel: string;
  offset: number;
  epoch: string;
}

/** A channel's history. */
export interface HistoryResult<T = unknown> {
  channel: string;
  epoch: string;
  /** The channel's newest offset. */
  offset: number;
  /** With `since`: whether that position was still in history. */
  recovered: boolean;
  /** Oldest first; each carries its `channel` and `epoch`. */
  publications: Publication<T>[];
}

/** A user in a channel, with their connection count. */
export interface PresenceMember {
  userId: string;
  connections: number;
}

/** Who is in a channel. */
export interface PresenceResult {
  channel: string;
  members: PresenceMember[];
  /** Sessions without a user. */
  anonymous: number;
}

/**
 * Where a ticket comes from: a string, or a function (sync or async) called before every (re)connect for a
 * fresh one (tickets are single-use). A function that returns nothing, like no ticket at all, makes `hello`
 * rely on the session cookie of the upgrade request; one that throws is reported on `error` and retried.
 */
export type TicketSource = string | (() => string | null | undefined | Promise<string | null | undefined>);

/** Options of `new BrokerClient(options)`. */
export interface BrokerClientOptions {
  /** Default `ws(s)://<location.host>/ws`. */
  url?: string;
  ticket?: TicketSource;
  /** ms; default 500. */
  minReconnectDelay?: number;
  /** ms; default 20000. */
  maxReconnectDelay?: number;
  /** ms to wait for the reply of `subscribe`, `publish`, `history`, `presence`; default 10000. */
  requestTimeout?: number;
  /** ms for `send`; default 15000. */
  sendTimeout?: number;
  /** ms from opening the socket to `welcome`; default 10000. */
  connectTimeout?: number;
  /** ms added to `welcome.pingInterval` before a silent connection counts as dead; default 10000. */
  deadConnectionGrace?: number;
  /** The WebSocket subprotocols offered; default `'broker.v1.json'`, `null`: none. */
  protocols?: string | string[] | null;
}

/** Removes the handler it was returned for. */
export type Unsubscribe = () => void;

/**
 * One channel's subscription, from `client.subscribe(channel)`; it survives reconnects (resumed from
 * `position`) until `unsubscribe()`. `T` is the type of its publications' `data`.
 */
export declare class Subscription<T = unknown> {
  /** Made by `BrokerClient.subscribe`; not meant to be called by applications. */
  constructor(client: BrokerClient, channel: string, options?: SubscribeOptions & { personal?: boolean });
  readonly channel: string;
  readonly state: SubscriptionState;
  /** Resolves with this subscription on its first `subscribed`; rejects with the `BrokerError` that refused it. */
  readonly ready: Promise<Subscription<T>>;
  /** The last publication delivered, or where the subscription started; `null` before either. */
  readonly position: StreamPosition | null;
  /** A lifecycle event. */
  on<K extends SubscriptionLifecycleEvent>(name: K, fn: (payload: SubscriptionEvents[K]) => void): Unsubscribe;
  /** The publications of one event name, or `'*'` for all, each once and in offset order. */
  on<E extends string>(event: PublicationEventName<E>, fn: (publication: Publication<T>) => void): Unsubscribe;
  /** Like `on` for publications, for any event name, including those the lifecycle keeps (`join`, `error` …). */
  onPublication(event: string, fn: (publication: Publication<T>) => void): Unsubscribe;
  /** Removes a handler added with `on` or `onPublication`. */
  off(name: string, fn: (payload: never) => void): void;
  /** Stops delivery at once; the channel is no longer resumed. Settles when the broker confirmed, or at once when offline. */
  unsubscribe(): Promise<void>;
}

/** The personal channels (`$session:<id>`, `$user:<id>`), subscribed by the broker on every `welcome`. */
export declare class PersonalChannels {
  /** Made by `BrokerClient`; not meant to be called by applications. */
  constructor(client: BrokerClient);
  /** The personal channel names of the current connection. */
  readonly channels: string[];
  /**
   * A lifecycle event of every personal channel, present and future: `subscribed` on each welcome and when the
   * channel's epoch changed (`epochChanged`), `lagged`, `error`.
   */
  on<K extends SubscriptionLifecycleEvent>(name: K, fn: (payload: SubscriptionEvents[K]) => void): Unsubscribe;
  /** The publications of both personal channels of one event name, or `'*'` for all. */
  on<E extends string>(event: PublicationEventName<E>, fn: (publication: Publication) => void): Unsubscribe;
}

/** The broker's browser client. */
export declare class BrokerClient {
  constructor(options?: BrokerClientOptions);
  readonly state: ConnectionState;
  /** From the last `welcome`; `null` before the first. */
  readonly sessionId: string | null;
  readonly userId: string | null;
  readonly connectionId: string | null;
  /** The personal channels. */
  readonly personal: PersonalChannels;
  /** Opens the connection and keeps it open (reconnecting) until `close()`. Calling it again is harmless. */
  connect(): void;
  /** Closes for good: no reconnect; pending requests reject with code `closed`. */
  close(): void;
  /** Listens to a client event. */
  on<K extends keyof BrokerClientEvents>(name: K, fn: (payload: BrokerClientEvents[K]) => void): Unsubscribe;
  /** Removes a handler added with `on`. */
  off<K extends keyof BrokerClientEvents>(name: K, fn: (payload: BrokerClientEvents[K]) => void): void;
  /** Subscribes now or at the next connect; the same channel twice gives the same object. */
  subscribe<T = unknown>(channel: string, options?: SubscribeOptions): Subscription<T>;
  getSubscription<T = unknown>(channel: string): Subscription<T> | undefined;
  /** Publishes to a channel (its namespace must let browsers publish); resolves with the `ack`. */
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult>;
  /** Sends to the backend handler of `event`; resolves with its reply's data. */
  send<R = unknown>(event: string, data: unknown, options?: SendOptions): Promise<R>;
  history<T = unknown>(channel: string, options?: HistoryOptions): Promise<HistoryResult<T>>;
  presence(channel: string, options?: PresenceOptions): Promise<PresenceResult>;
}
