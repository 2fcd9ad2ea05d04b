// Broker Chat: the demo served at `/`. Everything real-time goes through broker.js; this file is UI.
//
// Flow: POST /session (cookie) -> POST /demo/login {name} binds a user id -> BrokerClient with a
// fresh ticket from POST /tickets before every (re)connect -> one chat:<room> subscription at a time.
// Messages are posted with send('chat.post') to the sample backend; when no backend runs (the broker
// answers `unavailable`) the page publishes to chat:<room> itself and says so under the composer.
import { BrokerClient } from './broker.js';

const DEFAULT_ROOMS = ['lobby', 'random', 'dev'];
const ROOM_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
const ROOMS_KEY = 'broker-demo-rooms';
const HISTORY_LIMIT = 50;
const RECOVERED_BADGE_MS = 6000;
const TOAST_MS = 7000;
// Messages by the same person within this window are grouped under one header.
const GROUP_MS = 5 * 60 * 1000;

const $ = (id) => document.getElementById(id);

const ui = {
  signin: $('signin'),
  signinForm: $('signin-form'),
  nameInput: $('name-input'),
  signinButton: $('signin-button'),
  signinError: $('signin-error'),
  app: $('app'),
  badge: $('connection-badge'),
  roomList: $('room-list'),
  newRoomForm: $('new-room-form'),
  newRoomInput: $('new-room-input'),
  newRoomError: $('new-room-error'),
  meName: $('me-name'),
  meAvatar: $('me-avatar'),
  roomTitle: $('room-title'),
  roomChannel: $('room-channel'),
  messages: $('message-list'),
  empty: $('empty-state'),
  composer: $('composer'),
  input: $('composer-input'),
  sendButton: $('send-button'),
  sendError: $('send-error'),
  fallbackNote: $('fallback-note'),
  presence: $('presence-list'),
  peopleCount: $('people-count'),
  presenceNote: $('presence-note'),
  toasts: $('toasts'),
};

const state = {
  me: null,
  /** @type {BrokerClient|null} */
  client: null,
  room: null,
  sub: null,
  rooms: loadRooms(),
  /** room -> Map(key -> message), key = epoch:offset */
  messages: new Map(),
  /** room -> where to resume when the room is entered again */
  positions: new Map(),
  /** room -> {beforeOffset, text}: the "missed while offline" divider */
  dividers: new Map(),
  members: new Map(),
  lastRendered: null,
  sending: false,
  badgeTimer: null,
  recoveryPending: false,
};

// --- start ------------------------------------------------------------------------------------

start();

async function start() {
  wireSignin();
  wireComposer();
  wireRooms();
  try {
    const session = await postJson('/session');
    if (session.userId) return enterChat(session.userId);
  } catch (err) {
    showSigninError(err.status ? `Could not start a session (${err.message}).` : 'The broker is not reachable.');
  }
  showSignin();
}

function showSignin(message) {
  ui.app.hidden = true;
  ui.signin.hidden = false;
  if (message) showSigninError(message);
  ui.nameInput.focus();
}

function wireSignin() {
  ui.signinForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = ui.nameInput.value.trim();
    if (!NAME_PATTERN.test(name)) {
      ui.nameInput.setAttribute('aria-invalid', 'true');
      showSigninError('Use 1 to 32 letters, digits, dots, dashes or underscores.');
      ui.nameInput.focus();
      return;
    }
    ui.nameInput.removeAttribute('aria-invalid');
    ui.signinButton.disabled = true;
    ui.signinButton.textContent = 'Signing in…';
    try {
      await postJson('/session');
      const who = await postJson('/demo/login', { name });
      ui.signinError.hidden = true;
      enterChat(who.userId ?? name);
    } catch (err) {
      showSigninError(err.status === 404
        ? 'Demo sign-in is not enabled on this broker: start it with the demo turned on.'
        : err.status === 400 ? 'That name is not allowed.' : `Sign-in failed: ${err.message}`);
    } finally {
      ui.signinButton.disabled = false;
      ui.signinButton.textContent = 'Sign in';
    }
  });
}

function showSigninError(text) {
  ui.signinError.textContent = text;
  ui.signinError.hidden = false;
}

// --- chat -------------------------------------------------------------------------------------

function enterChat(userId) {
  state.me = userId;
  ui.signin.hidden = true;
  ui.app.hidden = false;
  ui.meName.textContent = userId;
  paintAvatar(ui.meAvatar, userId);

  const client = new BrokerClient({ ticket: fetchTicket });
  state.client = client;
  client.on('state', onState);
  client.on('connect', (info) => {
    // The room's resumed `subscribed` will say what was recovered.
    if (info.reconnected && state.sub?.position) state.recoveryPending = true;
    ui.badge.title = `connection ${info.connectionId}`;
  });
  client.on('error', (err) => console.warn('broker:', err.code, err.message));
  client.personal.on('*', (pub) => {
    const text = typeof pub.data?.text === 'string' ? pub.data.text : JSON.stringify(pub.data);
    toast(pub.event === 'notice' ? 'Notice' : pub.event, text);
  });
  client.connect();

  renderRooms();
  enterRoom(roomFromHash() ?? 'lobby');
  ui.input.focus();
}

async function fetchTicket() {
  const res = await fetch('/tickets', { method: 'POST', credentials: 'same-origin' });
  if (res.status === 401) {
    state.client?.close();
    showSignin('Your session ended. Sign in again.');
    throw new Error('no session');
  }
  if (!res.ok) throw new Error(`POST /tickets: ${res.status}`);
  return (await res.json()).ticket;
}

function enterRoom(room) {
  if (!ROOM_PATTERN.test(room)) room = 'lobby';
  if (state.room === room && state.sub) return;
  if (state.sub) {
    if (state.sub.position) state.positions.set(state.room, state.sub.position);
    state.sub.unsubscribe();
  }
  if (!state.rooms.includes(room)) addRoom(room);
  state.room = room;
  state.members = new Map();
  state.lastRendered = null;
  if (location.hash !== `#${room}`) history.replaceState(null, '', `#${room}`);
  ui.roomTitle.textContent = `# ${room}`;
  ui.roomChannel.textContent = `chat:${room}`;
  ui.input.placeholder = `Message #${room}`;
  ui.messages.setAttribute('aria-label', `Messages in #${room}`);
  ui.sendError.hidden = true;
  renderRooms();
  renderMessages();
  renderPresence();

  const channel = `chat:${room}`;
  const since = state.positions.get(room);
  const sub = state.client.subscribe(channel, since ? { since } : {});
  state.sub = sub;
  sub.on('message', (pub) => addMessage(room, pub));
  sub.on('subscribed', (info) => {
    if (state.sub !== sub) return;
    if (!info.recovered) {
      // A first visit, or the broker could not replay from our position: reload from history.
      if (info.resumed) state.messages.delete(room);
      loadHistory(room, sub);
    } else if (info.missed > 0) {
      state.dividers.set(room, {
        beforeOffset: info.offset - info.missed + 1,
        text: `${info.missed} missed while you were away`,
      });
      renderMessages();
    }
    if (state.recoveryPending && info.resumed) {
      state.recoveryPending = false;
      showRecovered(info.recovered
        ? `Recovered ${info.missed} missed message${info.missed === 1 ? '' : 's'}`
        : 'Reconnected · history reloaded');
    }
    loadPresence(sub);
  });
  sub.on('lagged', (info) => {
    if (!info.recovered) toast('Connection', 'Some messages were dropped and could not be recovered.');
  });
  sub.on('join', ({ member }) => {
    if (state.sub !== sub || !member?.userId) return;
    state.members.set(member.userId, Math.max(1, state.members.get(member.userId) ?? 0));
    renderPresence();
  });
  sub.on('leave', ({ member }) => {
    if (state.sub !== sub || !member?.userId) return;
    state.members.delete(member.userId);
    renderPresence();
  });
  sub.on('error', (err) => {
    if (state.sub !== sub) return;
    showSendError(err.code === 'forbidden' ? 'You may not join this room.' : `Could not join: ${err.message}`);
  });
}

async function loadHistory(room, sub) {
  try {
    const h = await state.client.history(sub.channel, { limit: HISTORY_LIMIT });
    if (state.sub !== sub) return;
    let added = false;
    for (const pub of h.publications) added = storeMessage(room, pub) || added;
    if (added) renderMessages();
  } catch {
    // No history in this namespace: live messages only.
  }
}

async function loadPresence(sub) {
  try {
    const p = await state.client.presence(sub.channel);
    if (state.sub !== sub) return;
    state.members = new Map(p.members.map((m) => [m.userId, m.connections]));
    ui.presenceNote.hidden = p.anonymous === 0;
    ui.presenceNote.textContent = p.anonymous ? `+ ${p.anonymous} guest${p.anonymous === 1 ? '' : 's'}` : '';
    renderPresence();
  } catch {
    if (state.sub !== sub) return;
    ui.presenceNote.hidden = false;
    ui.presenceNote.textContent = 'Presence is off for this room.';
  }
}

// --- messages ---------------------------------------------------------------------------------

function toMessage(pub) {
  const data = pub.data ?? {};
  return {
    key: `${pub.epoch}:${pub.offset}`,
    offset: pub.offset,
    epoch: pub.epoch,
    // from.userId is the broker's word; data.user is what the publisher claimed (backend or fallback).
    user: pub.from?.userId ?? (typeof data.user === 'string' ? data.user : null) ?? 'guest',
    text: typeof data.text === 'string' ? data.text : JSON.stringify(data),
    time: pub.time ? new Date(pub.time) : new Date(),
  };
}

function roomMessages(room) {
  let map = state.messages.get(room);
  if (!map) state.messages.set(room, (map = new Map()));
  return map;
}

/** Stores a publication; false when it was already there. */
function storeMessage(room, pub) {
  if (pub.event && pub.event !== 'message') return false;
  const map = roomMessages(room);
  const msg = toMessage(pub);
  if (map.has(msg.key)) return false;
  map.set(msg.key, msg);
  return true;
}

function addMessage(room, pub) {
  if (!storeMessage(room, pub) || room !== state.room) return;
  const msg = roomMessages(room).get(`${pub.epoch}:${pub.offset}`);
  const last = state.lastRendered;
  if (last && (msg.epoch !== last.epoch || msg.offset < last.offset)) {
    renderMessages();
    return;
  }
  const stick = nearBottom();
  appendMessage(msg, last);
  if (stick || msg.user === state.me) scrollToBottom();
}

function sortedMessages(room) {
  return [...roomMessages(room).values()].sort((a, b) => a.offset - b.offset);
}

function renderMessages() {
  const room = state.room;
  ui.messages.setAttribute('aria-busy', 'true');
  ui.messages.replaceChildren();
  state.lastRendered = null;
  for (const msg of sortedMessages(room)) appendMessage(msg, state.lastRendered);
  ui.messages.removeAttribute('aria-busy');
  ui.empty.hidden = roomMessages(room).size > 0;
  scrollToBottom();
}

function appendMessage(msg, previous) {
  const divider = state.dividers.get(state.room);
  if (divider && msg.offset === divider.beforeOffset) {
    const li = document.createElement('li');
    li.className = 'divider';
    li.setAttribute('role', 'separator');
    li.dataset.testid = 'missed-divider';
    li.textContent = divider.text;
    ui.messages.append(li);
    previous = null;
  }
  const continued = previous && previous.user === msg.user && msg.time - previous.time < GROUP_MS;
  const li = document.createElement('li');
  li.className = `message${continued ? ' message-continued' : ''}${msg.user === state.me ? ' message-mine' : ''}`;
  li.dataset.testid = 'message';
  li.dataset.offset = String(msg.offset);
  li.dataset.user = msg.user;

  const avatar = document.createElement('span');
  avatar.className = 'avatar';
  avatar.setAttribute('aria-hidden', 'true');
  paintAvatar(avatar, msg.user);

  const body = document.createElement('div');
  body.className = 'message-body';
  const meta = document.createElement('div');
  meta.className = 'message-meta';
  const sender = document.createElement('span');
  sender.className = 'message-sender';
  sender.dataset.testid = 'message-sender';
  sender.textContent = msg.user;
  const time = document.createElement('time');
  time.className = 'message-time';
  time.dateTime = msg.time.toISOString();
  time.title = msg.time.toLocaleString();
  time.textContent = msg.time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  meta.append(sender, time);
  const text = document.createElement('div');
  text.className = 'message-text';
  text.dataset.testid = 'message-text';
  text.textContent = msg.text;
  // Grouped messages hide the header visually; screen readers still get who said it.
  if (continued) text.setAttribute('aria-label', `${msg.user}: ${msg.text}`);
  body.append(meta, text);
  li.append(avatar, body);
  ui.messages.append(li);
  ui.empty.hidden = true;
  state.lastRendered = msg;
}

function nearBottom() {
  const el = ui.messages;
  return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
}

function scrollToBottom() {
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

// --- composer ---------------------------------------------------------------------------------

function wireComposer() {
  ui.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  ui.input.addEventListener('input', () => {
    ui.sendError.hidden = true;
    autosize();
  });
}

function autosize() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 160)}px`;
}

async function submit() {
  if (state.sending || !state.client) return;
  const raw = ui.input.value;
  const text = raw.trim();
  if (!text) {
    showSendError('Write something first.');
    return;
  }
  const room = state.room;
  state.sending = true;
  ui.sendButton.disabled = true;
  ui.sendError.hidden = true;
  try {
    await state.client.send('chat.post', { room, text });
    clearComposer(raw);
  } catch (err) {
    if (err.code === 'unavailable') {
      // No backend handles chat.post: publish to the room ourselves (the chat namespace allows it).
      try {
        await state.client.publish(`chat:${room}`, { text, user: state.me });
        ui.fallbackNote.hidden = false;
        clearComposer(raw);
      } catch (err2) {
        showSendError(describe(err2));
      }
    } else {
      showSendError(describe(err));
    }
  } finally {
    state.sending = false;
    ui.sendButton.disabled = false;
  }
}

function clearComposer(sent) {
  // Keep anything typed while the message was in flight.
  if (ui.input.value === sent) ui.input.value = '';
  autosize();
  ui.input.focus();
}

function showSendError(text) {
  ui.sendError.textContent = text;
  ui.sendError.hidden = false;
}

function describe(err) {
  switch (err.code) {
    case 'bad_request': return err.message && err.message !== err.code ? err.message : 'That message was refused.';
    case 'forbidden': return 'You may not post in this room.';
    case 'rate_limited': return 'Slow down a little, then try again.';
    case 'too_large': return 'That message is too long.';
    case 'timeout': return 'The server did not answer in time. Try again.';
    case 'disconnected': return 'The connection dropped before the message was confirmed. Try again.';
    case 'closed': return 'Offline. Reload the page to reconnect.';
    default: return `Not sent: ${err.message || err.code}`;
  }
}

// --- rooms ------------------------------------------------------------------------------------

function wireRooms() {
  ui.newRoomForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const room = ui.newRoomInput.value.trim().replace(/^#/, '');
    if (!ROOM_PATTERN.test(room)) {
      ui.newRoomInput.setAttribute('aria-invalid', 'true');
      ui.newRoomError.textContent = 'Letters, digits, dot, dash or underscore.';
      ui.newRoomError.hidden = false;
      return;
    }
    ui.newRoomInput.removeAttribute('aria-invalid');
    ui.newRoomError.hidden = true;
    ui.newRoomInput.value = '';
    enterRoom(room);
    ui.input.focus();
  });
  window.addEventListener('hashchange', () => {
    const room = roomFromHash();
    if (room && state.client) enterRoom(room);
  });
}

function roomFromHash() {
  const room = decodeURIComponent(location.hash.slice(1));
  return ROOM_PATTERN.test(room) ? room : null;
}

function loadRooms() {
  try {
    const saved = JSON.parse(localStorage.getItem(ROOMS_KEY) || '[]');
    return [...DEFAULT_ROOMS, ...saved.filter((r) => ROOM_PATTERN.test(r) && !DEFAULT_ROOMS.includes(r))];
  } catch {
    return [...DEFAULT_ROOMS];
  }
}

function addRoom(room) {
  state.rooms.push(room);
  try {
    localStorage.setItem(ROOMS_KEY, JSON.stringify(state.rooms.filter((r) => !DEFAULT_ROOMS.includes(r))));
  } catch {
    // Private mode: rooms last for this page only.
  }
}

function renderRooms() {
  ui.roomList.replaceChildren(...state.rooms.map((room) => {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'room-button';
    button.dataset.testid = 'room-button';
    button.dataset.room = room;
    if (room === state.room) button.setAttribute('aria-current', 'true');
    const hash = document.createElement('span');
    hash.className = 'room-hash';
    hash.setAttribute('aria-hidden', 'true');
    hash.textContent = '#';
    const name = document.createElement('span');
    name.textContent = room;
    button.append(hash, name);
    button.addEventListener('click', () => {
      enterRoom(room);
      ui.input.focus();
    });
    li.append(button);
    return li;
  }));
}

// --- presence ---------------------------------------------------------------------------------

function renderPresence() {
  const users = [...state.members.keys()].sort((a, b) => (a === state.me ? -1 : b === state.me ? 1 : a.localeCompare(b)));
  ui.peopleCount.textContent = String(users.length);
  ui.presence.replaceChildren(...users.map((user) => {
    const li = document.createElement('li');
    li.className = 'presence-item';
    li.dataset.testid = 'presence-item';
    li.dataset.user = user;
    const avatar = document.createElement('span');
    avatar.className = 'avatar avatar-small';
    avatar.setAttribute('aria-hidden', 'true');
    paintAvatar(avatar, user);
    const name = document.createElement('span');
    name.className = 'presence-name';
    name.textContent = user;
    li.append(avatar, name);
    if (user === state.me) {
      const you = document.createElement('span');
      you.className = 'presence-you';
      you.textContent = '(you)';
      li.append(you);
    }
    return li;
  }));
}

// --- connection badge -------------------------------------------------------------------------

function onState(s) {
  clearInterval(state.badgeTimer);
  state.badgeTimer = null;
  switch (s.state) {
    case 'connecting':
      setBadge('connecting', state.client?.sessionId ? 'Reconnecting…' : 'Connecting…');
      break;
    case 'connected':
      // After a reconnect the badge waits for the room's `subscribed` to say what was recovered.
      if (!state.recoveryPending || !state.sub) setBadge('live', 'Live');
      else setBadge('live', 'Live · catching up');
      break;
    case 'reconnecting': {
      const tick = () => {
        const seconds = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
        setBadge('reconnecting', seconds > 0 ? `Reconnecting in ${seconds}s` : 'Reconnecting…', 'Connection lost, reconnecting');
      };
      tick();
      state.badgeTimer = setInterval(tick, 250);
      break;
    }
    case 'closed':
      setBadge('offline', 'Offline');
      break;
    default:
      setBadge('connecting', 'Connecting…');
  }
}

function showRecovered(text) {
  setBadge('recovered', text);
  clearInterval(state.badgeTimer);
  state.badgeTimer = setTimeout(() => {
    if (state.client?.state === 'connected') setBadge('live', 'Live');
  }, RECOVERED_BADGE_MS);
}

/** `spoken` is what screen readers hear: a state change, not every tick of the countdown. */
function setBadge(kind, text, spoken = text) {
  ui.badge.dataset.state = kind;
  ui.badge.querySelector('.badge-text').textContent = text;
  const sr = ui.badge.querySelector('.badge-sr');
  if (sr.textContent !== spoken) sr.textContent = spoken;
}

// --- toasts -----------------------------------------------------------------------------------

function toast(title, text) {
  // The same notice twice in a row (e.g. a greeting repeated after a reconnect) shows once.
  for (const shown of ui.toasts.querySelectorAll('[data-testid="toast-text"]')) {
    if (shown.textContent === text) return;
  }
  const el = document.createElement('div');
  el.className = 'toast';
  el.dataset.testid = 'toast';
  el.setAttribute('role', 'status');
  const body = document.createElement('div');
  const t = document.createElement('div');
  t.className = 'toast-title';
  t.textContent = title;
  const p = document.createElement('div');
  p.className = 'toast-text';
  p.dataset.testid = 'toast-text';
  p.textContent = text;
  body.append(t, p);
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'toast-close';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  const dismiss = () => {
    el.classList.add('toast-leaving');
    setTimeout(() => el.remove(), 200);
  };
  close.addEventListener('click', dismiss);
  el.append(body, close);
  ui.toasts.append(el);
  // At most three at once: the oldest gives way.
  while (ui.toasts.children.length > 3) ui.toasts.firstElementChild.remove();
  setTimeout(dismiss, TOAST_MS);
}

// --- helpers ----------------------------------------------------------------------------------

function paintAvatar(el, name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  el.style.setProperty('--hue', String(hash % 360));
  el.textContent = name.replace(/[^A-Za-z0-9]/g, '').slice(0, 2) || '?';
}

async function postJson(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const err = new Error(`${url}: HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return res.json();
}
