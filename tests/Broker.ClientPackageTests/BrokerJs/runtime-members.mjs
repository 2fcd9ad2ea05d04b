// Lists what the installed package really exports, as JSON on stdout: every exported name, and for each
// exported class the public members of its instances (prototype chain up to the built-in Object or Error, and the fields its
// constructor sets). Names starting with '_' are internal. Run by BrokerJsPackageTests inside the
// temporary project, so 'broker-js' resolves through the package's own `exports`.
import * as api from 'broker-js';

const client = new api.BrokerClient();
const samples = {
  BrokerClient: client,
  Subscription: new api.Subscription(client, 'chat:lobby'),
  PersonalChannels: new api.PersonalChannels(client),
  BrokerError: new api.BrokerError('timeout', 'no reply'),
};

const isPublic = (name) => !name.startsWith('_') && name !== 'constructor';
const classes = {};
for (const [name, value] of Object.entries(api)) {
  if (typeof value !== 'function') continue;
  const instance = samples[name];
  if (!instance) throw new Error(`no sample instance for exported class ${name}: add one to runtime-members.mjs`);
  const members = new Set(Object.getOwnPropertyNames(instance).filter(isPublic));
  for (let proto = Object.getPrototypeOf(instance); proto && proto !== Object.prototype && proto !== Error.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const member of Object.getOwnPropertyNames(proto)) if (isPublic(member)) members.add(member);
  }
  classes[name] = [...members].sort();
}
client.close();
console.log(JSON.stringify({ exports: Object.keys(api).sort(), classes }));
