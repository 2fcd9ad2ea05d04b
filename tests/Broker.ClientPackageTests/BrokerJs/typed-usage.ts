// A page written against the package's declarations, compiled by BrokerJsPackageTests under
// `tsc --strict --noEmit`: every documented member, with its payload and result types spelled out, so a
// declaration that drifts from docs/broker-js.md fails here.
import {
  BrokerClient,
  BrokerError,
  CLIENT_NAME,
  SUBPROTOCOL,
  Subscription,
  type BrokerErrorCode,
  type ConnectInfo,
  type DisconnectInfo,
  type HistoryResult,
  type LaggedInfo,
  type PresenceChange,
  type PresenceResult,
  type Publication,
  type PublishResult,
  type StateInfo,
  type StreamPosition,
  type SubscribedInfo,
} from 'broker-js';

interface ChatMessage {
  text: string;
}

const name: string = CLIENT_NAME;
const subprotocol: 'broker.v1.json' = SUBPROTOCOL;

const client = new BrokerClient({
  url: 'wss://app.example/ws',
  ticket: async () => (await (await fetch('/tickets', { method: 'POST' })).json()).ticket as string,
  minReconnectDelay: 500,
  maxReconnectDelay: 20_000,
  requestTimeout: 10_000,
  sendTimeout: 15_000,
  connectTimeout: 10_000,
  deadConnectionGrace: 10_000,
  protocols: ['broker.v1.json'],
});
new BrokerClient();
new BrokerClient({ ticket: 'a-ticket', protocols: null });
new BrokerClient({ ticket: () => null });

const offConnect: () => void = client.on('connect', (info: ConnectInfo) => {
  const session: string = info.sessionId;
  const user: string | null = info.userId;
  const connection: string = info.connectionId;
  const seconds: number = info.pingInterval + info.maxMessageBytes;
  const again: boolean = info.reconnected;
  console.log(session, user, connection, seconds, again);
});
offConnect();
client.on('disconnect', ({ code, reason, reconnect }: DisconnectInfo) => console.log(code + 1, reason.trim(), !reconnect));
client.on('error', (err) => {
  const code: BrokerErrorCode = err.code;
  const isError: Error = err;
  console.log(code, isError.message, err.frame?.code);
});
const onState = (info: StateInfo) => {
  if (info.state === 'reconnecting') {
    const wait: number = info.delayMs + info.retryAt + info.attempt;
    console.log(wait);
  } else {
    console.log(info.state, info.previous, info.delayMs ?? '');
  }
};
client.on('state', onState);
client.off('state', onState);

const state: 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed' = client.state;
const ids: (string | null)[] = [client.sessionId, client.userId, client.connectionId];
console.log(state, ids);

const personal: string[] = client.personal.channels;
client.personal.on('notice', (pub) => console.log(pub.channel, pub.data));
client.personal.on('lagged', (info: LaggedInfo) => console.log(info.dropped));
client.personal.on('subscribed', (info) => console.log(info.recovered, info.epochChanged));
console.log(personal);

const lobby: Subscription<ChatMessage> = client.subscribe<ChatMessage>('chat:lobby');
lobby.on('message', (pub: Publication<ChatMessage>) => {
  const text: string = pub.data.text;
  const offset: number = pub.offset;
  const time: string = pub.time;
  console.log(text, offset, pub.epoch, pub.event, time, pub.from?.userId);
});
lobby.on('*', (pub) => console.log(pub.data.text));
lobby.on('subscribed', (info: SubscribedInfo) => {
  if (!info.recovered) console.log('reload', info.channel, info.epoch, info.offset, info.resumed, info.missed);
  const epochChanged: boolean = info.epochChanged;
  console.log(epochChanged);
});
lobby.on('lagged', ({ recovered, filled, dropped }) => console.log(recovered, filled + dropped));
lobby.on('join', ({ member }: PresenceChange) => console.log(member.userId));
lobby.on('leave', ({ channel, member }) => console.log(channel, member.userId));
lobby.on('error', (err: BrokerError) => console.log(err.code === 'forbidden' || err.code === 'limit_exceeded'));
const offJoinEvent = lobby.onPublication('join', (pub) => console.log(pub.data.text));
offJoinEvent();
const handler = (pub: Publication<ChatMessage>) => console.log(pub);
lobby.on('typing', handler);
lobby.off('typing', handler);
const position: StreamPosition | null = lobby.position;
const subState: 'subscribing' | 'subscribed' | 'unsubscribed' | 'failed' = lobby.state;
console.log(position, subState, lobby.channel);
client.subscribe('chat:design', { since: { epoch: 'e1', offset: 41 } });
const same: Subscription | undefined = client.getSubscription('chat:design');
console.log(same);

client.connect();

async function requests(): Promise<void> {
  const ready: Subscription<ChatMessage> = await lobby.ready;
  const ack: PublishResult = await client.publish('chat:lobby', { text: 'hi' }, { event: 'message', timeoutMs: 5_000 });
  const ackOffset: number = ack.offset;
  const ackEpoch: string = ack.epoch;
  const reply = await client.send<{ ok: boolean }>('chat.post', { room: 'lobby', text: 'hi' }, { timeoutMs: 5_000 });
  const ok: boolean = reply.ok;
  const untyped: unknown = await client.send('chat.post', {});
  const history: HistoryResult<ChatMessage> = await client.history<ChatMessage>('chat:lobby', { since: ack, limit: 100, timeoutMs: 5_000 });
  const firstText: string | undefined = history.publications[0]?.data.text;
  const recovered: boolean = history.recovered;
  const presence: PresenceResult = await client.presence('chat:lobby', { timeoutMs: 5_000 });
  const connections: number = presence.members.reduce((n, m) => n + m.connections, presence.anonymous);
  const users: string[] = presence.members.map((m) => m.userId);
  await ready.unsubscribe();
  console.log(ackOffset, ackEpoch, ok, untyped, firstText, recovered, connections, users);
  client.close();
}

requests().catch((err: unknown) => {
  if (err instanceof BrokerError && err.code === 'disconnected') console.log('may or may not have been handled');
});

const own = new BrokerError('timeout', 'no reply');
const codes: BrokerErrorCode[] = [own.code, 'closed', 'bad_frame', 'too_large', 'rate_limited'];
console.log(name, subprotocol, codes);
