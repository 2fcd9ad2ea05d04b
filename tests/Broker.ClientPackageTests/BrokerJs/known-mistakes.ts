// Code that must NOT compile against the package's declarations. Each line marked `// expect TSnnnn`
// must give exactly that error, and no other line may give one (BrokerJsPackageTests): if the
// declarations loosen (an `any`, a missing overload), a marked line compiles and the test fails.
import { BrokerClient, type Publication } from 'broker-js';

const client = new BrokerClient({ requestTimeout: '10s' }); // expect TS2322
new BrokerClient({ reconnectDelay: 500 }); // expect TS2561
new BrokerClient({ ticket: 42 }); // expect TS2322

client.subscribe(42); // expect TS2345
client.publish(['chat:lobby'], { text: 'hi' }); // expect TS2345
client.history('chat:lobby', { limit: '100' }); // expect TS2322

async function results(): Promise<void> {
  const ack = await client.publish('chat:lobby', { text: 'hi' });
  const offset: string = ack.offset; // expect TS2322
  const history = await client.history('chat:lobby');
  const recovered: number = history.recovered; // expect TS2322
  const presence = await client.presence('chat:lobby');
  const anonymous: string[] = presence.anonymous; // expect TS2322
  const first: string = presence.members[0]!.connections; // expect TS2322
  const reply = await client.send('chat.post', {});
  reply.ok; // expect TS18046
  console.log(offset, recovered, anonymous, first);
}

client.on('connect', (info) => info.userId.length); // expect TS18047
client.on('disconnect', (info) => info.code.trim()); // expect TS2339
client.on('state', (info) => info.delayMs.toFixed()); // expect TS18048
client.on('error', (err) => err.code === 'forbiden'); // expect TS2367
client.on('connected', () => {}); // expect TS2345

const lobby = client.subscribe<{ text: string }>('chat:lobby');
lobby.on('subscribed', (pub: Publication) => pub.data); // expect TS2769
lobby.on('lagged', (info) => info.missed); // expect TS2339
lobby.on('join', (info) => info.member.name); // expect TS2339
lobby.on('message', (pub) => pub.data.body); // expect TS2339
lobby.position.offset; // expect TS18047
lobby.channel = 'chat:other'; // expect TS2540

console.log(results);
