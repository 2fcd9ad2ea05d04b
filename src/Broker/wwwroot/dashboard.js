// Broker dashboard: the broker's own stats feed ($broker:stats, one snapshot a second, five minutes of
// history) over broker.js, drawn on hand-made canvas charts. This file is UI only.
//
// One node at a time: in a cluster every node publishes its snapshots to the one shared channel, each
// naming its node; the page draws those of ?node=…, else of the node that served the page (its
// <meta name="broker-node">), else of the first node heard from, and links to the others it hears.
//
// Flow: POST /session (cookie) -> BrokerClient with a fresh ticket from POST /tickets before every
// (re)connect -> subscribe $broker:stats, then history fills the last 5 minutes at once.
import { BrokerClient } from './broker.js';

const CHANNEL = '$broker:stats';
const WINDOW_MS = 5 * 60 * 1000;
// A snapshot comes every second; three missed ones mean the feed (or the socket) is gone.
const STALE_MS = 3500;
// Degraded when anything was dropped this recently, or fan-out p99 is above this.
const DROP_LOOKBACK_MS = 30 * 1000;
const P99_DEGRADED_MS = 250;

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** The node whose snapshots are drawn; null until known. */
let node = new URLSearchParams(location.search).get('node')
  || document.querySelector('meta[name="broker-node"]')?.content
  || null;
/** Every node heard from, drawn or not. */
const nodes = new Set();

/** Snapshots by time (ms), oldest first. */
let points = [];
let lastArrival = 0;
let live = false;

/** Keeps the snapshot if it is the drawn node's; true when kept. */
function add(snapshot) {
  if (!snapshot || typeof snapshot.time !== 'string') return false;
  if (typeof snapshot.node === 'string') {
    nodes.add(snapshot.node);
    node ??= snapshot.node;
    if (snapshot.node !== node) return false;
  }
  const t = Date.parse(snapshot.time);
  if (Number.isNaN(t)) return false;
  const last = points.length ? points[points.length - 1].t : -Infinity;
  if (t > last) points.push({ t, s: snapshot });
  else if (!points.some((p) => p.t === t)) {
    points.push({ t, s: snapshot });
    points.sort((a, b) => a.t - b.t);
  }
  const cutoff = points[points.length - 1].t - WINDOW_MS;
  while (points.length && points[0].t < cutoff) points.shift();
  return true;
}

function fmt(n, digits = 0) {
  if (n == null || Number.isNaN(n)) return '–';
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + 'M';
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function fmtDuration(seconds) {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

/** The headline: one word and one line a person can read across the room. */
function status() {
  const latest = points.length ? points[points.length - 1] : null;
  if (!latest) return { key: live ? 'connecting' : 'connecting', title: 'Connecting…', detail: "Waiting for the broker's first stats snapshot." };
  if (!live || Date.now() - lastArrival > STALE_MS) {
    return { key: 'unhealthy', title: 'No data', detail: 'The stats feed stopped: the broker is unreachable or restarting.' };
  }
  const s = latest.s;
  if (s.draining) return { key: 'draining', title: 'Draining', detail: 'The broker is shutting down: clients are being moved away.' };
  if (!s.engineHealthy) return { key: 'unhealthy', title: 'Unhealthy', detail: 'The scale-out engine is unreachable: publishes and subscribes fail.' };
  const recent = points.filter((p) => p.t >= latest.t - DROP_LOOKBACK_MS);
  const dropped = recent.length > 1 ? recent[recent.length - 1].s.drops.total - recent[0].s.drops.total : 0;
  if (dropped > 0) return { key: 'degraded', title: 'Degraded', detail: `${fmt(dropped)} message(s) dropped in the last 30 s: a subscriber is too slow.` };
  if (s.fanOutP99Ms > P99_DEGRADED_MS) return { key: 'degraded', title: 'Degraded', detail: `Fan-out p99 is ${fmt(s.fanOutP99Ms, 1)} ms (over ${P99_DEGRADED_MS} ms).` };
  return {
    key: 'healthy',
    title: 'Healthy',
    detail: `${fmt(s.connections.total)} connection(s), ${fmt(s.publicationsPerSecond, 1)} msg/s in, ${fmt(s.deliveriesPerSecond, 1)} out, no drops.`,
  };
}

/**
 * Rounds a chart's top up to 1, 2 or 5 times a power of ten, with a grid-line count that divides it
 * evenly, so every label is a plain number.
 */
function niceScale(v) {
  if (!(v > 0)) return { max: 1, steps: 4 };
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const [m, steps] of [[1, 5], [2, 4], [5, 5], [10, 5]]) if (v <= m * p) return { max: m * p, steps };
  return { max: 10 * p, steps: 5 };
}

/** The charts' time span: the data's, between one minute (a young broker still gets readable lines) and five. */
function span() {
  if (points.length < 2) return 60 * 1000;
  return Math.min(WINDOW_MS, Math.max(60 * 1000, points[points.length - 1].t - points[0].t));
}

/**
 * Draws one chart: a line (with a light area) per series over the last 5 minutes.
 * @param {HTMLElement} figure
 * @param {{color: string, value: (s: object) => number}[]} series
 */
function draw(figure, series) {
  const canvas = figure.querySelector('canvas');
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const left = 44, right = 8, top = 8, bottom = 20;
  const pw = w - left - right, ph = h - top - bottom;
  const end = points.length ? points[points.length - 1].t : Date.now();
  const width = span();
  const start = end - width;
  let top0 = 0;
  for (const p of points) for (const s of series) top0 = Math.max(top0, s.value(p.s) || 0);
  const { max, steps } = niceScale(top0);

  g.font = `11px ${css('--font') || 'sans-serif'}`;
  g.fillStyle = css('--text-2');
  g.strokeStyle = css('--grid');
  g.lineWidth = 1;
  for (let i = 0; i <= steps; i++) {
    const y = top + ph - (ph * i) / steps;
    g.beginPath(); g.moveTo(left, Math.round(y) + 0.5); g.lineTo(left + pw, Math.round(y) + 0.5); g.stroke();
    g.textAlign = 'right'; g.textBaseline = 'middle';
    g.fillText(fmt((max * i) / steps, 2), left - 6, y);
  }
  // Time labels: every minute over a long span, every 15 s over a short one.
  g.textAlign = 'center'; g.textBaseline = 'top';
  const tick = width > 2 * 60 * 1000 ? 60 * 1000 : 15 * 1000;
  for (let ago = 0; ago <= width; ago += tick) {
    const x = left + pw - (pw * ago) / width;
    const label = ago === 0 ? 'now' : tick >= 60000 ? `-${ago / 60000}m` : `-${ago / 1000}s`;
    g.fillText(label, Math.min(Math.max(x, left + 12), left + pw - 12), top + ph + 5);
  }

  const x = (t) => left + ((t - start) / width) * pw;
  const y = (v) => top + ph - (Math.min(v, max) / max) * ph;
  let drawn = 0;
  for (const s of series) {
    const visible = points.filter((p) => p.t >= start);
    if (!visible.length) continue;
    const color = css(s.color);
    g.beginPath();
    visible.forEach((p, i) => (i ? g.lineTo(x(p.t), y(s.value(p.s) || 0)) : g.moveTo(x(p.t), y(s.value(p.s) || 0))));
    g.strokeStyle = color; g.lineWidth = 2; g.lineJoin = 'round'; g.stroke();
    g.lineTo(x(visible[visible.length - 1].t), top + ph); g.lineTo(x(visible[0].t), top + ph); g.closePath();
    g.globalAlpha = 0.12; g.fillStyle = color; g.fill(); g.globalAlpha = 1;
    drawn = Math.max(drawn, visible.length);
  }
  figure.dataset.points = String(drawn);
  figure.dataset.max = String(max);
}

/** The drawn node's name, and links to the other nodes heard from (none with one broker). */
function renderNodes() {
  $('node').textContent = node ? `node ${node}` : 'node –';
  const others = [...nodes].filter((n) => n !== node).sort();
  const nav = $('nodes');
  if (nav.dataset.list === others.join(' ')) return;
  nav.dataset.list = others.join(' ');
  nav.hidden = others.length === 0;
  nav.replaceChildren(document.createTextNode('Other nodes: '), ...others.map((n) => {
    const a = document.createElement('a');
    a.href = `?node=${encodeURIComponent(n)}`;
    a.textContent = n;
    return a;
  }));
}

function render() {
  renderNodes();
  const st = status();
  const head = $('status');
  head.dataset.status = st.key;
  $('status-title').textContent = st.title;
  $('status-detail').textContent = st.detail;
  const latest = points.length ? points[points.length - 1].s : null;
  if (latest) {
    $('tile-connections').textContent = fmt(latest.connections.total);
    $('tile-connections-sub').textContent = `websocket ${fmt(latest.connections.websocket)} · grpc ${fmt(latest.connections.grpc)}`;
    $('tile-in').textContent = fmt(latest.publicationsPerSecond, 1);
    $('tile-out').textContent = fmt(latest.deliveriesPerSecond, 1);
    $('tile-drops').textContent = fmt(latest.drops.perSecond, 1);
    $('tile-drops-sub').textContent = `total ${fmt(latest.drops.total)}`;
    $('tile-p99').textContent = latest.fanOutP99Ms ? `${fmt(latest.fanOutP99Ms, 2)} ms` : '–';
    $('tile-channels').textContent = `${fmt(latest.channels)} · ${fmt(latest.subscriptions)}`;
    $('tile-sessions').textContent = latest.sessions == null ? 'sessions –' : `sessions ${fmt(latest.sessions)}`;
    $('uptime').textContent = `uptime ${fmtDuration(latest.uptimeSeconds)}`;
    $('updated').textContent = `updated ${new Date(points[points.length - 1].t).toLocaleTimeString()}`;
  }
  draw($('chart-connections'), [
    { color: '--s1', value: (s) => s.connections.websocket },
    { color: '--s2', value: (s) => s.connections.grpc },
  ]);
  draw($('chart-messages'), [
    { color: '--s1', value: (s) => s.publicationsPerSecond },
    { color: '--s2', value: (s) => s.deliveriesPerSecond },
  ]);
  draw($('chart-drops'), [{ color: '--s3', value: (s) => s.drops.perSecond }]);
  draw($('chart-latency'), [{ color: '--s4', value: (s) => s.fanOutP99Ms }]);
}

async function fetchTicket() {
  const res = await fetch('/tickets', { method: 'POST', credentials: 'same-origin' });
  if (!res.ok) throw new Error(`POST /tickets: ${res.status}`);
  return (await res.json()).ticket;
}

async function start() {
  await fetch('/session', { method: 'POST', credentials: 'same-origin' });
  const client = new BrokerClient({ ticket: fetchTicket });
  client.on('state', (info) => {
    live = info.state === 'connected';
    render();
  });
  const sub = client.subscribe(CHANNEL);
  sub.on('stats', (pub) => {
    if (add(pub.data)) lastArrival = Date.now();
    render();
  });
  // Every (re)subscribe: fill the window from history (duplicates are dropped by time).
  sub.on('subscribed', async () => {
    try {
      const h = await client.history(CHANNEL, { limit: 300 });
      // A cluster's nodes share the channel: the last 300 are spread over them all.
      for (const p of h.publications) add(p.data);
      lastArrival = Date.now();
      render();
    } catch (e) {
      console.warn('dashboard: history failed', e);
    }
  });
  client.connect();
  // Re-render each second even without data, so a stalled feed turns the headline red.
  setInterval(render, 1000);
  window.addEventListener('resize', render);
  // The canvas colours come from CSS variables: redraw at once when the colour scheme flips.
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', render);
}

start().catch((e) => {
  console.error('dashboard: start failed', e);
  $('status').dataset.status = 'unhealthy';
  $('status-title').textContent = 'Cannot start';
  $('status-detail').textContent = String(e && e.message ? e.message : e);
});
