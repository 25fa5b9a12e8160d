// The loadtest web app: runs, a run live and final, load tests and their trends, compare, start a run. Plain ES module, no build step;
// charts by uPlot (served from its WebJar). Every value from the API is put in the page as text, never as
// HTML. The token is exchanged once for an HttpOnly session cookie (POST /api/v1/session) and never kept.
'use strict';

const API = '/api/v1';
const TERMINAL = new Set(['FINISHED', 'FAILED', 'ABORTED', 'REJECTED']);
const STATUSES = ['CREATED', 'VALIDATED', 'QUEUED', 'ALLOCATED', 'RUNNING', 'STOPPING', 'FINISHED', 'ABORTED', 'FAILED', 'REJECTED'];
const PHASES = ['http_req_blocked', 'http_req_connecting', 'http_req_tls_handshaking', 'http_req_sending',
  'http_req_waiting', 'http_req_receiving'];
const COLORS = ['#3b4bd8', '#d9480f', '#2b8a3e', '#ae3ec9', '#1098ad', '#e8590c', '#5c940d', '#c2255c',
  '#495057', '#f08c00', '#364fc7'];

const session = { scope: null, csrf: null };
let cleanup = []; // what the current view must stop when it is left (streams, timers, charts)

// ------------------------------------------------------------------ small helpers

/** An element: h('td', {class: 'num'}, 'text', child...). Strings become text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function fmtMs(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (v >= 1000) return (v / 1000).toFixed(2) + ' s';
  return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' ms';
}
function fmtPct(v) { return v === null || v === undefined ? '–' : (v * 100).toFixed(2) + '%'; }
function fmtNum(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  return Number(v).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
function fmtBytes(v) {
  if (v === null || v === undefined) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return v.toFixed(i ? 1 : 0) + ' ' + u[i];
}
function fmtDuration(s) {
  if (s === null || s === undefined || s < 0) return '–';
  s = Math.round(s);
  const m = Math.floor(s / 60);
  return m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
function fmtTime(ms) { return ms ? new Date(ms).toLocaleString('en-GB', { hour12: false }) : '–'; }

/** A duration of a plan ("1m30s", "500ms", "2h") in seconds, or 0. */
function parseDuration(d) {
  if (typeof d === 'number') return d;
  if (typeof d !== 'string') return 0;
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
  }
  return total;
}

/** How long a plan runs at most (seconds): each scenario's start plus its duration or stages; 0 if unknown. */
function planSeconds(plan) {
  if (!plan || typeof plan !== 'object') return 0;
  let longest = 0;
  for (const sc of Object.values(plan.scenarios || {})) {
    let d = parseDuration(sc.duration);
    if (Array.isArray(sc.stages)) d = sc.stages.reduce((a, st) => a + parseDuration(st.duration), 0);
    longest = Math.max(longest, parseDuration(sc.startTime) + d);
  }
  const opts = plan.generator && plan.generator.options;
  if (opts && opts.duration) longest = Math.max(longest, parseDuration(opts.duration));
  return longest;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : 'HTTP ' + status);
    this.status = status;
    this.body = body || {};
  }
}

async function api(path, opts = {}) {
  const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
  const method = opts.method || 'GET';
  if (method !== 'GET' && session.csrf) headers['X-Loadtest-Csrf'] = session.csrf;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(API + path, { method, headers, credentials: 'same-origin',
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  let body = null;
  const text = await r.text();
  if (text) {
    try { body = JSON.parse(text); } catch (e) { body = { error: text.slice(0, 300) }; }
  }
  if (r.status === 401 && !opts.noLogin) {
    showLogin('Your session has ended: sign in again.');
    throw new ApiError(r.status, body);
  }
  if (!r.ok) throw new ApiError(r.status, body);
  return body;
}

function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    for (const x of Array.isArray(v) ? v : [v]) u.append(k, x);
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

function view() { return document.getElementById('view'); }

/** Replaces el's children with nodes, leaving out null, undefined and false (as h does). */
function put(el, ...nodes) {
  el.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false)
    .map((n) => (n instanceof Node ? n : document.createTextNode(String(n)))));
}

function render(...nodes) {
  const v = view();
  put(v, ...nodes);
}

function errorBox(e) {
  return h('div', { class: 'errors', role: 'alert' }, e instanceof ApiError ? e.message : String(e));
}

function badge(text, cls) { return h('span', { class: 'badge ' + (cls || text) }, text); }

function leave() {
  for (const f of cleanup) { try { f(); } catch (e) { /* already gone */ } }
  cleanup = [];
  delete document.body.dataset.runPageComplete;
}

// ------------------------------------------------------------------ session

async function loadSession() {
  try {
    const s = await api('/session', { noLogin: true });
    session.scope = s.scope;
    session.csrf = s.csrf;
    return true;
  } catch (e) {
    return false;
  }
}

function showLogin(message) {
  leave();
  session.scope = null;
  session.csrf = null;
  updateHeader();
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true,
    'aria-describedby': 'token-help' });
  const err = h('div', { 'aria-live': 'assertive' });
  const form = h('form', { onsubmit: async (ev) => {
    ev.preventDefault();
    put(err, );
    try {
      const s = await api('/session', { method: 'POST', body: { token: input.value }, noLogin: true });
      input.value = '';
      session.scope = s.scope;
      session.csrf = s.csrf;
      updateHeader();
      route();
    } catch (e) {
      put(err, errorBox(e));
    }
  } },
  h('label', { for: 'token' }, 'API token', input),
  h('p', { id: 'token-help', class: 'muted' },
    'The token `loadtest up` or `loadtest demo` printed (or one of LOADTEST_API_TOKENS). It is exchanged for a ' +
    'session cookie and not stored by this page.'),
  h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Sign in')),
  err);
  render(h('section', { class: 'login card' }, h('h1', {}, 'Sign in'), message ? h('p', {}, message) : null, form));
  input.focus();
}

function updateHeader() {
  document.getElementById('who').textContent = session.scope ? `signed in (${session.scope})` : '';
  document.getElementById('signout').hidden = !session.scope;
  for (const a of document.querySelectorAll('[data-write]')) a.hidden = session.scope !== 'write';
}

document.getElementById('signout').addEventListener('click', async () => {
  try { await api('/session', { method: 'DELETE', noLogin: true }); } catch (e) { /* gone already */ }
  showLogin('Signed out.');
});

// ------------------------------------------------------------------ routing

async function route() {
  leave();
  const hash = location.hash || '#/runs';
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === (parts[0] || 'runs')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!session.scope && !(await loadSession())) {
    showLogin();
    return;
  }
  updateHeader();
  try {
    if (parts[0] === 'runs' && parts[1]) await runPage(decodeURIComponent(parts[1]));
    else if (parts[0] === 'compare') await comparePage(params.get('a') || '', params.get('b') || '', params.get('aa') || '', params.get('ab') || '');
    else if (parts[0] === 'new') newRunPage();
    else if (parts[0] === 'load-tests' && parts[1]) await loadTestPage(decodeURIComponent(parts[1]));
    else if (parts[0] === 'load-tests') await loadTestsPage(params);
    else await runsPage(params);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) render(h('h1', {}, 'Something went wrong'), errorBox(e));
  }
  view().focus();
}

window.addEventListener('hashchange', route);

// ------------------------------------------------------------------ runs list

async function runsPage(params) {
  const limit = 20;
  const offset = Math.max(0, Number(params.get('offset') || 0));
  const filters = {
    status: params.get('status') || '', project: params.get('project') || '', name: params.get('name') || '',
    tag: params.get('tag') || '', from: params.get('from') || '', to: params.get('to') || '',
  };
  const go = (f, off) => { location.hash = '#/runs' + qs(Object.assign({}, f, { offset: off || '' })); };
  const field = (name, label, el) => { el.name = name; el.id = 'f-' + name; el.value = filters[name]; return h('label', { for: el.id }, label, el); };
  const statusSel = h('select', {}, h('option', { value: '' }, 'any'), STATUSES.map((s) => h('option', { value: s }, s)));
  const form = h('form', { class: 'filters', role: 'search', onsubmit: (ev) => {
    ev.preventDefault();
    const f = {};
    for (const k of Object.keys(filters)) f[k] = form.elements[k].value.trim();
    for (const k of ['from', 'to']) if (f[k]) f[k] = new Date(f[k]).toISOString();
    go(f, 0);
  } },
  field('status', 'Status', statusSel),
  field('project', 'Project', h('input', { type: 'text', size: 12 })),
  field('name', 'Name contains', h('input', { type: 'text', size: 16 })),
  field('tag', 'Tag (key:value)', h('input', { type: 'text', size: 14 })),
  field('from', 'Created from', h('input', { type: 'datetime-local' })),
  field('to', 'Created before', h('input', { type: 'datetime-local' })),
  h('button', { class: 'primary', type: 'submit' }, 'Filter'));
  for (const k of ['from', 'to']) if (filters[k]) form.elements[k].value = toLocalInput(filters[k]);

  const tableHost = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading runs…'));
  const compareBtn = h('button', { class: 'plain', type: 'button', disabled: true, onclick: () => {
    const ids = [...tableHost.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value);
    location.hash = '#/compare' + qs({ a: ids[0], b: ids[1] });
  } }, 'Compare the two selected');
  render(h('h1', {}, 'Runs'), form, tableHost, h('div', { class: 'actions' }, compareBtn));

  // A run's numbers cost a summary each: read with the page, again every 15 s while runs are live and when a
  // run appears or its status changes; the polls between read the list alone (one query) and keep the numbers.
  const numbers = new Map();
  const statuses = new Map();
  let polls = 0;
  const load = async (withStats = true) => {
    const page = await api('/runs' + qs(Object.assign({}, filters, { limit, offset, stats: withStats ? 'true' : null })));
    if (!withStats && page.runs.some((r) => statuses.get(r.testRunId) !== r.status)) { // a new run, or one that moved on
      return load(true);
    }
    for (const r of page.runs) {
      statuses.set(r.testRunId, r.status);
      if (withStats) numbers.set(r.testRunId, r.stats || {});
    }
    const rows = page.runs.map((r) => {
      const st = numbers.get(r.testRunId) || {};
      const end = r.endedAt || (TERMINAL.has(r.status) ? null : Date.now());
      const box = h('input', { type: 'checkbox', value: r.testRunId, 'aria-label': 'select ' + r.testRunId + ' to compare',
        onchange: () => {
          const n = tableHost.querySelectorAll('input[type=checkbox]:checked').length;
          compareBtn.disabled = n !== 2;
        } });
      return h('tr', { 'data-run': r.testRunId, class: r.verdict === 'failed' ? 'fail' : null },
        h('td', {}, box),
        h('td', {}, badge(r.status), r.reason ? h('div', { class: 'muted reason' }, r.reason) : null),
        h('td', {}, h('a', { href: '#/runs/' + encodeURIComponent(r.testRunId) }, r.name || r.testRunId),
          h('div', { class: 'muted' }, r.testRunId)),
        h('td', {}, r.project || '–'),
        h('td', {}, fmtTime(r.startedAt || r.createdAt)),
        h('td', { class: 'num' }, st.durationSeconds !== undefined ? fmtDuration(st.durationSeconds)
          : r.startedAt ? fmtDuration((end - r.startedAt) / 1000) : '–'),
        h('td', { class: 'num' }, fmtNum(st.vusMax)),
        h('td', { class: 'num' }, fmtNum(st.requestsPerSecond, 1)),
        h('td', { class: 'num' }, fmtMs(st.p95Ms)),
        h('td', { class: 'num' + (st.errorRate > 0.05 ? ' fail' : '') }, fmtPct(st.errorRate)),
        h('td', {}, r.verdict && TERMINAL.has(r.status) ? badge(r.verdict) : '–'));
    });
    const table = h('table', { id: 'runs' },
      h('caption', { class: 'sr-only' }, 'Runs, newest first'),
      h('thead', {}, h('tr', {}, ['', 'Status', 'Name', 'Project', 'Started', 'Duration', 'Peak VUs', 'Req/s',
        'p(95)', 'Errors', 'Verdict'].map((t, i) => h('th', { scope: 'col', class: i >= 5 && i <= 9 ? 'num' : null },
        t || h('span', { class: 'sr-only' }, 'Select'))))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 11, class: 'muted' }, 'No runs match.'))));
    const pager = h('div', { class: 'pager' },
      h('button', { class: 'plain', type: 'button', disabled: offset === 0, onclick: () => go(filters, Math.max(0, offset - limit)) }, 'Newer'),
      h('span', { class: 'muted' }, page.total ? `${offset + 1}–${Math.min(offset + limit, page.total)} of ${page.total}` : ''),
      h('button', { class: 'plain', type: 'button', disabled: offset + limit >= page.total, onclick: () => go(filters, offset + limit) }, 'Older'));
    const checked = new Set([...tableHost.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value));
    put(tableHost, table, pager);
    for (const c of tableHost.querySelectorAll('input[type=checkbox]')) c.checked = checked.has(c.value);
    compareBtn.disabled = checked.size !== 2;
    return page.runs.some((r) => !TERMINAL.has(r.status));
  };
  const anyLive = await load();
  // Statuses update while some run on the page has not ended.
  let timer = null;
  const poll = async () => {
    try {
      polls += 1;
      if (await load(polls % 5 === 0)) timer = setTimeout(poll, 3000);
    } catch (e) { /* shown on the next navigation */ }
  };
  if (anyLive) timer = setTimeout(poll, 3000);
  else timer = setTimeout(poll, 15000); // new runs appear
  cleanup.push(() => clearTimeout(timer));
}

function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// ------------------------------------------------------------------ load tests

/** Load tests (the runs of one plan name in one project, or of one explicit id), newest activity first. */
async function loadTestsPage(params) {
  const limit = 20;
  const offset = Math.max(0, Number(params.get('offset') || 0));
  const filters = { project: params.get('project') || '', name: params.get('name') || '' };
  const go = (f, off) => { location.hash = '#/load-tests' + qs(Object.assign({}, f, { offset: off || '' })); };
  const project = h('input', { type: 'text', size: 12, id: 'lt-project', name: 'project', value: filters.project });
  const name = h('input', { type: 'text', size: 16, id: 'lt-name', name: 'name', value: filters.name });
  const form = h('form', { class: 'filters', role: 'search', onsubmit: (ev) => {
    ev.preventDefault();
    go({ project: project.value.trim(), name: name.value.trim() }, 0);
  } }, h('label', { for: 'lt-project' }, 'Project', project), h('label', { for: 'lt-name' }, 'Name contains', name),
  h('button', { class: 'primary', type: 'submit' }, 'Filter'));
  const page = await api('/load-tests' + qs(Object.assign({}, filters, { limit, offset })));
  const rows = page.loadTests.map((t) => h('tr', { 'data-load-test': t.id, class: t.lastRun.verdict === 'failed' ? 'fail' : null },
    h('td', {}, h('a', { href: '#/load-tests/' + encodeURIComponent(t.id) }, t.name || t.id), h('div', { class: 'muted' }, t.id)),
    h('td', {}, t.project || '–'),
    h('td', { class: 'num' }, fmtNum(t.runs)),
    h('td', {}, h('a', { href: '#/runs/' + encodeURIComponent(t.lastRun.testRunId) }, t.lastRun.testRunId), ' ',
      badge(t.lastRun.status), h('div', { class: 'muted' }, fmtTime(t.lastRun.createdAt))),
    h('td', {}, t.lastRun.verdict ? badge(t.lastRun.verdict) : '–'),
    h('td', {}, t.baseline ? h('a', { href: '#/runs/' + encodeURIComponent(t.baseline) }, t.baseline) : '–')));
  const pager = h('div', { class: 'pager' },
    h('button', { class: 'plain', type: 'button', disabled: offset === 0, onclick: () => go(filters, Math.max(0, offset - limit)) }, 'Newer'),
    h('span', { class: 'muted' }, page.total ? `${offset + 1}–${Math.min(offset + limit, page.total)} of ${page.total}` : ''),
    h('button', { class: 'plain', type: 'button', disabled: offset + limit >= page.total, onclick: () => go(filters, offset + limit) }, 'Older'));
  render(h('h1', {}, 'Load tests'), form,
    h('table', { id: 'load-tests' }, h('caption', { class: 'sr-only' }, 'Load tests, newest activity first'),
      h('thead', {}, h('tr', {}, ['Load test', 'Project', 'Runs', 'Last run', 'Verdict', 'Baseline']
        .map((t, i) => h('th', { scope: 'col', class: i === 2 ? 'num' : null }, t)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No load tests match.')))),
    pager);
}

/** One load test: its trend (p(95), requests/s, errors per ended run), its runs with their baseline mark, its plan versions. */
async function loadTestPage(id) {
  const t = await api('/load-tests/' + encodeURIComponent(id) + qs({ limit: 200 }));
  const canWrite = session.scope === 'write';
  const charts = h('div', { class: 'charts', id: 'trend-charts' });
  const message = h('div', { 'aria-live': 'polite' });
  const mark = async (run, on) => {
    try {
      await api('/runs/' + encodeURIComponent(run) + '/baseline', { method: on ? 'POST' : 'DELETE' });
      await route();
    } catch (e) { put(message, errorBox(e)); }
  };
  const runRows = t.runs.map((r) => h('tr', { 'data-run': r.testRunId, class: r.verdict === 'failed' ? 'fail' : null },
    h('td', {}, badge(r.status), r.reason ? h('div', { class: 'muted reason' }, r.reason) : null),
    h('td', {}, h('a', { href: '#/runs/' + encodeURIComponent(r.testRunId) }, r.testRunId)),
    h('td', {}, fmtTime(r.createdAt)),
    h('td', {}, r.verdict ? badge(r.verdict) : '–'),
    h('td', {}, h('code', {}, (r.planHash || '').slice(0, 12))),
    h('td', {}, r.baseline ? badge('baseline', 'passed') : '',
      canWrite && TERMINAL.has(r.status) ? h('button', { class: 'plain', type: 'button', onclick: () => mark(r.testRunId, !r.baseline) },
        r.baseline ? 'Unmark' : 'Mark baseline') : null),
    h('td', {}, h('a', { href: '#/compare' + qs({ a: t.baseline && t.baseline !== r.testRunId ? t.baseline : '', b: r.testRunId }) }, 'Compare'))));
  render(
    h('h1', {}, t.name || t.id),
    h('p', { class: 'muted' }, t.project ? `project ${t.project} · ` : '', `${t.explicitId ? 'explicit id' : 'id'} ${t.id} · `,
      `${t.runs.length} run(s) · baseline `, t.baseline ? h('a', { href: '#/runs/' + encodeURIComponent(t.baseline) }, t.baseline) : 'none'),
    message,
    h('h2', {}, 'Trend'), t.trend.length ? charts : h('p', { class: 'muted' }, 'No run has ended yet.'),
    h('h2', {}, 'Runs'),
    h('table', { id: 'load-test-runs' }, h('thead', {}, h('tr', {}, ['Status', 'Run', 'Created', 'Verdict', 'Plan', 'Baseline', '']
      .map((x) => h('th', { scope: 'col' }, x || h('span', { class: 'sr-only' }, 'Compare'))))), h('tbody', {}, runRows)),
    h('h2', {}, 'Plan versions'),
    h('table', { id: 'plan-versions' }, h('thead', {}, h('tr', {}, ['Plan hash', 'Runs', 'First run', 'Last run']
      .map((x, i) => h('th', { scope: 'col', class: i === 1 ? 'num' : null }, x)))),
    h('tbody', {}, t.planVersions.map((v) => h('tr', {}, h('td', {}, h('code', {}, (v.planHash || '').slice(0, 12))),
      h('td', { class: 'num' }, fmtNum(v.runs)),
      h('td', {}, h('a', { href: '#/runs/' + encodeURIComponent(v.firstRunId) }, v.firstRunId)),
      h('td', {}, h('a', { href: '#/runs/' + encodeURIComponent(v.lastRunId) }, v.lastRunId)))))));
  if (t.trend.length) {
    // One point per ended run, oldest first, by its number in the trend (as k6 Cloud's trending chart).
    const xs = t.trend.map((p, i) => i + 1);
    const runOf = (x) => { const p = t.trend[Math.round(x) - 1]; return p ? `#${Math.round(x)} ${p.testRunId} (${fmtTime(p.createdAt)})` : ''; };
    const byRun = { elapsed: true, xLabel: 'Run', xValue: runOf, xRange: () => [0.5, t.trend.length + 0.5],
      xAxis: { values: (u, vals) => vals.map((v) => (Number.isInteger(v) && v >= 1 && v <= t.trend.length ? '#' + v : '')) } };
    const base = t.trend.map((p) => (p.baseline ? p.p95Ms : null));
    timeChart(charts, 'p(95) per run (the baseline marked)', ['p(95)', 'baseline'], 'ms', byRun).set([xs, t.trend.map((p) => p.p95Ms), base]);
    timeChart(charts, 'Requests/s per run', ['req/s'], 'rate', byRun).set([xs, t.trend.map((p) => p.requestsPerSecond)]);
    timeChart(charts, 'Errors per run (%)', ['errors %'], 'rate', byRun).set([xs, t.trend.map((p) => (p.errorRate === null ? null : p.errorRate * 100))]);
  }
}

// ------------------------------------------------------------------ charts

/** A time chart: series of one unit; data is [xs(seconds), ...ys]. */
function timeChart(host, title, labels, unit, opts = {}) {
  let el = null;
  const width = () => Math.max(300, (el && el.clientWidth ? el.clientWidth : host.clientWidth) - 12);
  const series = [opts.xLabel ? { label: opts.xLabel, value: (u, v) => (v === null || v === undefined ? '–' : opts.xValue ? opts.xValue(v) : v) } : {}].concat(labels.map((l, i) => ({
    label: l, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true, scale: (opts.scales && opts.scales[i]) || 'y',
    value: (u, v) => (v === null || v === undefined ? '–' : unit === 'ms' ? fmtMs(v) : fmtNum(v, unit === 'rate' ? 1 : 0)),
  })));
  const axes = [opts.xAxis || {}, { scale: 'y', size: 64, values: (u, vals) => vals.map((v) => (unit === 'ms' ? fmtMs(v) : fmtNum(v))) }];
  if (opts.rightScale) axes.push({ scale: opts.rightScale, side: 1, grid: { show: false } });
  const data = [[]].concat(labels.map(() => []));
  el = h('div', { class: 'chart', role: 'img', 'aria-label': title });
  host.append(el);
  el.append(h('h3', {}, title));
  const plot = new uPlot({ width: width(), height: 220, series, axes, scales: { x: { time: opts.elapsed ? false : true,
    // at least 30 s wide: the first seconds of a live run are not drawn as milliseconds
    range: opts.xRange || ((u, min, max) => (min === null || max === null || max - min >= 30 ? [min, max] : [min, min + 30])) } },
    legend: { live: true } }, data, el);
  // follow the box's width (the grid decides it once every chart is in)
  const ro = new ResizeObserver(() => { if (Math.abs(plot.width - width()) > 4) plot.setSize({ width: width(), height: 220 }); });
  ro.observe(el);
  cleanup.push(() => { ro.disconnect(); plot.destroy(); });
  return {
    plot, data, el,
    set(d) { this.data = d; plot.setData(d); },
    push(x, ys) {
      const d = this.data;
      const last = d[0].length ? d[0][d[0].length - 1] : -Infinity;
      if (x <= last) { // a second seen already: replace it
        const i = d[0].lastIndexOf(x);
        if (i >= 0) ys.forEach((y, k) => { d[k + 1][i] = y; });
      } else {
        d[0].push(x);
        ys.forEach((y, k) => d[k + 1].push(y));
      }
      plot.setData(d);
    },
  };
}

/**
 * JUnit XML of a run, as `loadtest run -o junit.xml` writes it: a test case per threshold (failed, or with
 * no data: failed) and one for the run's end.
 */
function junitXml(run, summary) {
  const x = (v) => String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const cases = [];
  for (const t of (summary.thresholds && summary.thresholds.results) || []) {
    const label = t.threshold || '';
    const colon = label.indexOf(': ');
    const metric = colon < 0 ? label : label.slice(0, colon);
    const expr = colon < 0 ? label : label.slice(colon + 2);
    const value = typeof t.value === 'number' ? String(Math.round(t.value * 1000) / 1000) : 'none';
    const failure = t.state === 'PASSED' ? null : t.state === 'FAILED' ? `threshold ${expr} failed on ${metric}: value ${value}`
      : t.state === 'NO_DATA' ? `threshold ${expr} on ${metric} had no samples (counted as failed)`
        : `threshold ${expr} on ${metric} has no final result (${t.state})`;
    cases.push(['threshold', metric, expr, failure]);
  }
  const end = run.status === 'FINISHED' ? null : run.status === 'ABORTED'
    ? `the run was aborted${run.abortSource === 'threshold' ? ' by a threshold' : ''}: ${run.reason || ''}`
    : `the run ended ${run.status}: ${run.reason || ''}`;
  cases.push(['run', 'run', 'the run finishes', end]);
  const failures = cases.filter((c) => c[3]).length;
  const seconds = (summary.durationSeconds || 0).toFixed(3);
  const name = (run.metadata && run.metadata.name) || run.testRunId;
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<testsuites name="loadtest" tests="${cases.length}" failures="${failures}" time="${seconds}">\n`
    + `  <testsuite name="${x('loadtest ' + name)}" tests="${cases.length}" failures="${failures}" errors="0" time="${seconds}" timestamp="${new Date().toISOString()}">\n`
    + cases.map(([type, cls, n, f]) => `    <testcase classname="${x(cls)}" name="${x(n)}"`
      + (f ? `>\n      <failure message="${x(f)}" type="${type}">${x(f)}</failure>\n    </testcase>\n` : '/>\n')).join('')
    + '  </testsuite>\n</testsuites>\n';
}

/** Points of a timeseries answer as {t(seconds): value} for column {@code col}. */
function column(ts, col, seriesIndex = 0) {
  const i = ts.columns.indexOf(col);
  const s = ts.series[seriesIndex];
  const out = new Map();
  if (!s || i < 0) return out;
  for (const p of s.points) out.set(p[0] / 1000, p[i]);
  return out;
}

function aligned(maps, perStep = []) {
  const xs = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  return [xs].concat(maps.map((m, k) => xs.map((x) => {
    const v = m.get(x);
    return v === undefined ? null : perStep[k] ? v / perStep[k] : v;
  })));
}

// ------------------------------------------------------------------ a run

async function runPage(id) {
  let run = null;
  // a run started elsewhere may take a moment to reach this API: wait for it (30 s) instead of failing
  for (const until = Date.now() + 30000; ;) {
    try {
      run = await api('/runs/' + encodeURIComponent(id));
      break;
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404) || Date.now() > until) throw e;
      render(h('h1', {}, id), h('p', { class: 'muted' }, 'Waiting for the run to be known…'));
      await new Promise((r) => setTimeout(r, 1000));
      if (!location.hash.startsWith('#/runs/')) return;
    }
  }
  const plan = run.plan;
  const title = h('h1', {}, (run.metadata && run.metadata.name) || (plan && plan.name) || id);
  const statusLine = h('div', { class: 'actions', id: 'status-line' });
  const notice = h('div', { 'aria-live': 'polite' });
  const kpis = h('div', { class: 'kpis', id: 'kpis', 'aria-live': 'off' });
  const actions = h('div', { class: 'actions' });
  const filterBar = h('form', { class: 'filters', id: 'page-filter' });
  const charts = h('div', { class: 'grid' });
  const thresholds = h('div', { id: 'thresholds' });
  const insights = h('div', { id: 'insights' });
  const checks = h('div', { id: 'checks' });
  const requests = h('div', { id: 'requests' });
  const generators = h('div', { id: 'generators' });
  const details = h('div', { id: 'details' });
  render(title, statusLine, notice, kpis, actions,
    h('h2', {}, 'Filter the page'), filterBar,
    charts,
    h('h2', {}, 'Thresholds'), thresholds,
    h('h2', {}, 'Performance insights'), insights,
    h('h2', {}, 'Checks'), checks,
    h('h2', {}, 'Requests'), requests,
    h('h2', {}, 'Generators'), generators,
    details);

  const state = { run, last: {}, thresholds: new Map(), tag: [], final: false };

  // -- header
  const startedAt = () => {
    const r = (state.run.history || []).find((x) => x.status === 'RUNNING');
    return r ? r.atMs : null;
  };
  const endedAt = () => {
    const hs = state.run.history || [];
    const t = hs.length && TERMINAL.has(hs[hs.length - 1].status) ? hs[hs.length - 1].atMs : null;
    return t;
  };
  const drawHeader = () => {
    const r = state.run;
    const hs = r.history || [];
    const reason = hs.length ? hs[hs.length - 1].reason : '';
    const alloc = hs.find((x) => x.status === 'ALLOCATED');
    put(statusLine, badge(r.status), r.verdict && r.verdict.failed && r.verdict.failed.length
      ? badge('thresholds failed', 'failed') : r.verdict && r.verdict.complete ? badge('passed') : null,
    h('span', { class: 'muted', id: 'status-reason' }, reason || ''),
    alloc ? h('span', { class: 'muted' }, '· ' + alloc.reason.replace(/; all start at.*/, '')) : null);
    const t0 = startedAt();
    const t1 = endedAt() || (TERMINAL.has(r.status) ? null : Date.now());
    const total = planSeconds(r.plan);
    const elapsed = t0 && t1 ? (t1 - t0) / 1000 : null;
    const l = state.last;
    const th = [...state.thresholds.values()];
    const failed = th.filter((x) => x.state === 'FAILED').length;
    const kpi = (label, value, id, bad) => h('div', { class: 'kpi' + (bad ? ' fail' : ''), id: 'kpi-' + id },
      h('div', { class: 'v' }, value), h('div', { class: 'l' }, label));
    put(kpis, 
      kpi('elapsed' + (total && !TERMINAL.has(r.status) && elapsed !== null ? ` · ${fmtDuration(Math.max(0, total - elapsed))} left` : ''),
        fmtDuration(elapsed), 'elapsed'),
      kpi('VUs', fmtNum(l.vus), 'vus'),
      kpi(l.live ? 'requests/s (last second)' : 'requests/s', fmtNum(l.rps, 1), 'rps'),
      kpi('requests', fmtNum(l.requests), 'requests'),
      kpi(l.live ? 'p(95) (last second)' : 'p(95)', fmtMs(l.p95), 'p95'),
      kpi(l.live ? 'errors (last second)' : 'errors', fmtPct(l.errorRate), 'errors', l.errorRate > 0.05),
      kpi('thresholds passed / failed', `${th.length - failed} / ${failed}`, 'thresholds', failed > 0));
  };

  // -- actions
  const canWrite = session.scope === 'write';
  const reasonInput = h('input', { type: 'text', id: 'abort-reason', placeholder: 'reason', size: 24 });
  const stopBtn = h('button', { class: 'plain', type: 'button', id: 'stop', onclick: async () => {
    stopBtn.disabled = true;
    try { await api(`/runs/${encodeURIComponent(id)}/stop`, { method: 'POST' }); put(notice, h('div', { class: 'notice' }, 'Stop sent: iterations finish, then the run ends.')); } catch (e) { put(notice, errorBox(e)); stopBtn.disabled = false; }
  } }, 'Stop');
  const abortBtn = h('button', { class: 'danger', type: 'button', id: 'abort', onclick: async () => {
    abortBtn.disabled = true;
    try { await api(`/runs/${encodeURIComponent(id)}/abort` + qs({ reason: reasonInput.value.trim() || 'aborted from the web app' }), { method: 'POST' }); put(notice, h('div', { class: 'notice' }, 'Abort sent.')); } catch (e) { put(notice, errorBox(e)); abortBtn.disabled = false; }
  } }, 'Abort');
  const links = [
    h('a', { href: `${API}/runs/${encodeURIComponent(id)}/samples?format=csv`, download: `${id}.csv` }, 'Samples (CSV)'),
    h('a', { href: `${API}/runs/${encodeURIComponent(id)}/summary`, target: '_blank', rel: 'noopener' }, 'Summary (JSON)'),
    h('a', { href: '#', id: 'junit', onclick: async (ev) => {
      ev.preventDefault();
      try {
        const summary = await api(`/runs/${encodeURIComponent(id)}/summary`);
        const url = URL.createObjectURL(new Blob([junitXml(state.run, summary)], { type: 'application/xml' }));
        const a = h('a', { href: url, download: `${id}-junit.xml` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (e) { put(notice, errorBox(e)); }
    } }, 'JUnit (XML)'),
    h('a', { href: '#/compare' + qs({ a: id }) }, 'Compare with…'),
  ];
  const drawActions = () => {
    const live = !TERMINAL.has(state.run.status);
    put(actions, ...(canWrite && live ? [stopBtn, h('label', { for: 'abort-reason', class: 'sr-only' }, 'Abort reason'), reasonInput, abortBtn] : []), ...links);
  };

  // -- page filter (scenario, group, load zone, generator)
  const tagQuery = () => state.tag;
  const filterKeys = ['scenario', 'group', 'load_zone', 'zone', 'generator'];
  // offered values come from the stored series: read at the start, again while the run is live and has none
  // yet, and at its end; a value chosen stays chosen
  const filterValues = {};
  let filterReadAt = 0;
  filterBar.onsubmit = (ev) => {
    ev.preventDefault();
    state.tag = [...filterBar.querySelectorAll('select')].filter((x) => x.value !== '' || x.selectedIndex > 0)
      .map((x) => `${x.name}:${x.value}`);
    loadStored();
  };
  const loadFilter = () => {
    filterReadAt = Date.now();
    return api(`/runs/${encodeURIComponent(id)}/series` + qs({ metric: 'http_reqs', limit: 1000 })).then((s) => {
      let added = false;
      for (const x of s.series || []) for (const k of filterKeys) {
        if (!x.tags || x.tags[k] === undefined) continue;
        const vs = filterValues[k] = filterValues[k] || new Set();
        if (!vs.has(x.tags[k])) { vs.add(x.tags[k]); added = true; }
      }
      if (!added && filterBar.childElementCount) return;
      const chosen = Object.fromEntries([...filterBar.querySelectorAll('select')].map((x) => [x.name, x.value]));
      const selects = Object.entries(filterValues).map(([k, vs]) => {
        const sel = h('select', { id: 'filter-' + k, name: k }, h('option', { value: '' }, 'all'),
          [...vs].sort().map((v) => h('option', { value: v }, v === '' ? '(none)' : v)));
        if (chosen[k] !== undefined) sel.value = chosen[k];
        return h('label', { for: 'filter-' + k }, k.replace('_', ' '), sel);
      });
      put(filterBar, ...selects, selects.length ? h('button', { class: 'plain', type: 'submit' }, 'Apply') : h('span', { class: 'muted' }, 'No scenario, group, zone or generator tags.'));
    }).catch(() => {});
  };
  const filterEmpty = () => !Object.keys(filterValues).length;

  // -- charts
  const ch = {
    traffic: timeChart(charts, 'VUs, requests/s and errors/s', ['VUs', 'requests/s', 'errors/s'], 'rate'),
    latency: timeChart(charts, 'Latency (http_req_duration)', ['p(50)', 'p(95)', 'p(99)'], 'ms'),
    phases: timeChart(charts, 'Timing phases (avg)', PHASES.map((p) => p.replace('http_req_', '')), 'ms'),
    byName: null,
  };
  const byNameHost = h('div', {});
  const heatHost = h('div', { class: 'chart' }, h('h3', {}, 'Latency heatmap'));
  charts.append(byNameHost, heatHost);

  const ts = (metric, stat, extra = {}) => api(`/runs/${encodeURIComponent(id)}/timeseries` + qs(Object.assign({ metric, stat, tag: tagQuery(), maxPoints: 600 }, extra)));

  async function loadCharts() {
    const [reqs, failed, vus, lat, ...phases] = await Promise.all([
      ts('http_reqs', 'count'), ts('http_req_failed', 'passes'), ts('vus', 'max').catch(() => null),
      ts('http_req_duration', 'p(50),p(95),p(99)'), ...PHASES.map((p) => ts(p, 'avg').catch(() => null))]);
    const step = reqs.stepSeconds || 1;
    ch.traffic.set(aligned([vus ? column(vus, 'max') : new Map(), column(reqs, 'count'), column(failed, 'passes')], [0, step, failed.stepSeconds || 1]));
    ch.latency.set(aligned([column(lat, 'p(50)'), column(lat, 'p(95)'), column(lat, 'p(99)')]));
    ch.phases.set(aligned(phases.map((p) => (p ? column(p, 'avg') : new Map()))));
    // per name: the ten slowest by p(95), the rest as one series
    const named = await ts('http_req_duration', 'p(95)', { groupBy: 'name', top: 10, rankBy: 'p(95)' });
    put(byNameHost, );
    const labels = named.series.map((s) => (s.other ? 'other' : s.tags.name || '(no name)'));
    const c = timeChart(byNameHost, 'p(95) per name (slowest 10)', labels, 'ms');
    const col = named.columns.indexOf('p(95)');
    c.set(aligned(named.series.map((s) => new Map(s.points.map((p) => [p[0] / 1000, p[col]])))));
    ch.byName = c;
    drawHeatmap(await api(`/runs/${encodeURIComponent(id)}/heatmap` + qs({ metric: 'http_req_duration', tag: tagQuery(), maxPoints: 120 })).catch(() => null));
  }

  function drawHeatmap(hm) {
    const canvas = h('canvas', { width: Math.max(320, heatHost.clientWidth - 16), height: 200, role: 'img',
      'aria-label': 'latency heatmap: time across, latency up (log scale), darker is more requests' });
    const legend = h('div', { class: 'muted' });
    put(heatHost, h('h3', {}, 'Latency heatmap'), canvas, legend);
    const steps = (hm && hm.steps) || [];
    let lo = Infinity; let hi = 0; let max = 1;
    for (const st of steps) for (const [l, u, n] of st.buckets) { lo = Math.min(lo, Math.max(l, 0.001)); hi = Math.max(hi, u); max = Math.max(max, n); }
    if (!steps.length || !(hi > lo)) { legend.textContent = 'No latency data yet.'; return; }
    const g = canvas.getContext('2d');
    const W = canvas.width; const H = canvas.height;
    const y = (v) => H - (Math.log(Math.max(v, lo)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) * H;
    const w = W / steps.length;
    steps.forEach((st, x) => {
      for (const [l, u, n] of st.buckets) {
        g.fillStyle = `rgba(59, 75, 216, ${0.15 + 0.85 * Math.sqrt(n / max)})`;
        const top = y(u);
        g.fillRect(x * w, top, Math.ceil(w), Math.max(1, y(l) - top));
      }
    });
    legend.textContent = `${fmtMs(lo)} (bottom) to ${fmtMs(hi)} (top), ${steps.length} steps of ${hm.stepSeconds} s`;
  }

  // -- tables
  async function loadThresholds() {
    const t = await api(`/runs/${encodeURIComponent(id)}/thresholds`);
    state.thresholds = new Map((t.results || []).map((r) => [r.threshold, r]));
    drawThresholds();
  }
  function drawThresholds() {
    const rows = [...state.thresholds.values()].map((r) => h('tr', { class: r.state === 'FAILED' ? 'fail' : null, 'data-threshold': r.threshold },
      h('td', {}, r.threshold), h('td', {}, badge(r.state, r.state === 'FAILED' ? 'FAILED_STATE' : r.state)),
      h('td', { class: 'num' }, r.value === null || r.value === undefined ? '–' : fmtNum(r.value, 3)),
      h('td', {}, r.final ? 'final' : 'so far'), h('td', {}, r.abortOnFail ? 'aborts the run' : '')));
    put(thresholds, rows.length ? h('table', { id: 'threshold-table' },
      h('thead', {}, h('tr', {}, ['Threshold', 'State', 'Value', '', 'On fail'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows)) : h('p', { class: 'muted' }, 'This plan has no thresholds.'));
    drawHeader();
  }

  async function loadInsights() {
    const r = await api(`/runs/${encodeURIComponent(id)}/insights`).catch(() => null);
    drawInsights(r ? r.insights || [] : []);
  }
  function drawInsights(list) {
    put(insights, list.length ? h('ul', {}, list.map((i) => h('li', {}, h('strong', {}, i.title || i.rule), ' ', i.message || '', i.subject ? ` (${i.subject})` : ''))) : h('p', { class: 'muted' }, 'None raised.'));
  }

  async function loadChecks() {
    const c = await ts('checks', 'passes,fails', { groupBy: 'check', maxPoints: 1 }).catch(() => null);
    const rows = [];
    for (const s of c ? c.series : []) {
      let pass = 0; let fail = 0;
      for (const p of s.points) { pass += p[1]; fail += p[2]; }
      rows.push(h('tr', { class: fail ? 'fail' : null }, h('td', {}, s.other ? 'other' : s.tags.check),
        h('td', { class: 'num' }, fmtNum(pass)), h('td', { class: 'num' }, fmtNum(fail)),
        h('td', { class: 'num' }, fmtPct(pass + fail ? pass / (pass + fail) : null))));
    }
    put(checks, rows.length ? h('table', {}, h('thead', {}, h('tr', {}, ['Check', 'Passes', 'Fails', 'Success'].map((x, i) => h('th', { scope: 'col', class: i ? 'num' : null }, x)))), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No checks.'));
  }

  let requestRows = [];
  let sortKey = 'count';
  let sortDesc = true;
  async function loadRequests() {
    // one point per group over the whole run (maxPoints=1: the groups' histograms merged, so the percentiles
    // are exact as the summary's): three reads for the whole table, whatever the number of groups
    const q = { groupBy: ['name', 'method', 'status'], maxPoints: 1, top: 100, rankBy: 'count' };
    const [groups, lat, fail] = await Promise.all([ts('http_reqs', 'count', q),
      ts('http_req_duration', 'count,med,p(95),p(99),max', q).catch(() => null), ts('http_req_failed', 'count,rate', q).catch(() => null)]);
    const duration = Math.max(1, ((endedAt() || Date.now()) - (startedAt() || Date.now())) / 1000);
    const key = (s) => (s.other ? '~other' : JSON.stringify(Object.entries(s.tags || {}).sort()));
    const byKey = (t) => {
      const m = new Map();
      if (!t) return m;
      for (const s of t.series) {
        // a run across a boundary of the widest step has two points; a percentile cannot be added up
        if (s.points.length !== 1) continue;
        m.set(key(s), Object.fromEntries(t.columns.map((c, i) => [c, s.points[0][i]])));
      }
      return m;
    };
    const d = byKey(lat);
    const f = byKey(fail);
    requestRows = groups.series.map((s) => {
      const x = d.get(key(s)) || {};
      const e = f.get(key(s)) || {};
      const tags = s.tags || {};
      const count = s.points.reduce((a, p) => a + (p[1] || 0), 0);
      return { name: s.other ? 'other' : tags.name || '', method: s.other ? '' : tags.method || '', status: s.other ? '' : tags.status || '',
        count, rate: count / duration, p50: x.med ?? null, p95: x['p(95)'] ?? null, p99: x['p(99)'] ?? null,
        max: x.max ?? null, errors: e.rate ?? null };
    });
    drawRequests();
  }
  function drawRequests() {
    if (!requestRows.length) { put(requests, h('p', { class: 'muted' }, 'No HTTP requests stored yet.')); return; }
    const cols = [['name', 'Name'], ['method', 'Method'], ['status', 'Status'], ['count', 'Count'], ['rate', 'Req/s'],
      ['p50', 'p(50)'], ['p95', 'p(95)'], ['p99', 'p(99)'], ['max', 'Max'], ['errors', 'Errors']];
    const sorted = [...requestRows].sort((a, b) => (a[sortKey] < b[sortKey] ? -1 : a[sortKey] > b[sortKey] ? 1 : 0) * (sortDesc ? -1 : 1));
    const fmt = (k, v) => (['p50', 'p95', 'p99', 'max'].includes(k) ? fmtMs(v) : k === 'errors' ? fmtPct(v) : k === 'rate' ? fmtNum(v, 1) : k === 'count' ? fmtNum(v) : v);
    put(requests, h('table', { id: 'request-table' },
      h('thead', {}, h('tr', {}, cols.map(([k, label], i) => h('th', { scope: 'col', class: i >= 3 ? 'num' : null,
        'aria-sort': k === sortKey ? (sortDesc ? 'descending' : 'ascending') : null },
      h('button', { class: 'sort', type: 'button', onclick: () => { sortDesc = k === sortKey ? !sortDesc : true; sortKey = k; drawRequests(); } }, label))))),
      h('tbody', {}, sorted.map((r) => h('tr', { class: r.errors > 0.05 ? 'fail' : null },
        cols.map(([k], i) => h('td', { class: i >= 3 ? 'num' : null }, fmt(k, r[k]))))))));
  }

  async function loadGenerators() {
    const q = { groupBy: 'generator', maxPoints: 1 };
    const [cpu, host, heap, delay] = await Promise.all([ts('generator_cpu', 'max,value', q).catch(() => null),
      ts('generator_host_cpu', 'max', q).catch(() => null), ts('generator_heap_bytes', 'max', q).catch(() => null),
      ts('generator_scheduling_delay', 'p(95)', q).catch(() => null)]);
    const by = new Map();
    const take = (answer, key, col) => {
      for (const s of answer ? answer.series : []) {
        const g = s.tags.generator || (s.other ? 'other' : '?');
        const i = answer.columns.indexOf(col);
        const v = Math.max(...s.points.map((p) => p[i] || 0));
        (by.get(g) || by.set(g, {}).get(g))[key] = v;
      }
    };
    take(cpu, 'cpu', 'max'); take(host, 'host', 'max'); take(heap, 'heap', 'max'); take(delay, 'delay', 'p(95)');
    const high = (v) => v > 0.8;
    const rows = [...by.entries()].sort().map(([g, v]) => h('tr', { class: high(v.cpu) || high(v.host) ? 'fail' : null },
      h('td', {}, g), h('td', { class: 'num' }, fmtPct(v.cpu), high(v.cpu) ? ' ⚠ above 80%: timings may be inflated' : ''),
      h('td', { class: 'num' }, v.host === undefined ? '' : fmtPct(v.host), high(v.host) && !high(v.cpu) ? ' ⚠ machine busy: timings may be inflated' : ''),
      h('td', { class: 'num' }, fmtBytes(v.heap)), h('td', { class: 'num' }, fmtMs(v.delay))));
    put(generators, rows.length ? h('table', { id: 'generator-table' }, h('thead', {}, h('tr', {},
      ['Generator', 'CPU (max)', 'Machine CPU (max)', 'Heap (max)', 'Scheduling delay p(95)'].map((x, i) => h('th', { scope: 'col', class: i ? 'num' : null }, x)))), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No generator gauges yet.'));
  }

  function drawDetails() {
    const r = state.run;
    put(details, 
      h('h2', {}, 'Status history'),
      h('table', {}, h('thead', {}, h('tr', {}, ['Time', 'Status', 'Reason'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, (r.history || []).map((x) => h('tr', {}, h('td', {}, fmtTime(x.atMs)), h('td', {}, badge(x.status)), h('td', {}, x.reason || ''))))),
      r.warnings && r.warnings.length ? h('div', { class: 'notice' }, r.warnings.join(' · ')) : null,
      h('h2', {}, 'Metadata'), h('pre', { tabindex: '0' }, JSON.stringify(r.metadata || {}, null, 2)),
      h('h2', {}, 'Totals'), h('pre', { tabindex: '0' }, JSON.stringify(r.totals || {}, null, 2)),
      h('h2', {}, 'Plan'), h('pre', { id: 'plan', tabindex: '0' }, JSON.stringify(r.plan || {}, null, 2)));
  }

  async function loadSummaryKpis() {
    const s = await api(`/runs/${encodeURIComponent(id)}/summary` + qs({ trendStats: 'p(95)', tag: undefined })).catch(() => null);
    if (!s) return;
    const stat = (m, k) => { const x = (s.metrics || []).find((y) => y.metric === m); return x && x.stats ? x.stats[k] : null; };
    state.last = { vus: stat('vus', 'max'), rps: stat('http_reqs', 'rate'), requests: stat('http_reqs', 'count'),
      p95: stat('http_req_duration', 'p(95)'), errorRate: stat('http_req_failed', 'rate') };
    drawHeader();
  }

  async function loadStored() {
    await Promise.all([loadCharts(), loadChecks(), loadRequests(), loadGenerators(), loadFilter()].map((p) => p.catch((e) => put(notice, errorBox(e)))));
  }

  drawHeader();
  drawActions();
  drawDetails();
  await Promise.all([loadThresholds().catch(() => {}), loadInsights(), loadStored(), loadSummaryKpis()]);
  // every panel has its data: when this page was complete, in ms since the document began to load (benchmarks read it)
  document.body.dataset.runPageComplete = String(Math.round(performance.now()));

  // -- live: one shared stream per run on the server; this page only listens
  if (!TERMINAL.has(run.status) || Date.now() - (endedAt() || 0) < 120000) {
    const es = new EventSource(`${API}/runs/${encodeURIComponent(id)}/live`);
    cleanup.push(() => es.close());
    let requestsSoFar = state.last.requests || 0;
    let lastSecond = 0;
    es.addEventListener('metrics', (ev) => {
      const m = JSON.parse(ev.data);
      const x = m.t / 1000;
      const g = (metric, stat) => (m.metrics[metric] ? m.metrics[metric][stat] : null);
      if (x > lastSecond) {
        requestsSoFar += g('http_reqs', 'count') || 0;
        lastSecond = x;
      }
      state.last = { live: true, vus: g('vus', 'value') ?? g('vus', 'max') ?? state.last.vus, rps: g('http_reqs', 'count') ?? 0,
        requests: Math.max(requestsSoFar, state.last.requests || 0), p95: g('http_req_duration', 'p(95)') ?? state.last.p95,
        errorRate: g('http_req_failed', 'rate') ?? state.last.errorRate };
      drawHeader();
      if (filterEmpty() && Date.now() - filterReadAt > 5000) loadFilter();
      if (state.tag.length) return; // a filtered page shows stored data only
      const failedNow = m.metrics.http_req_failed ? (m.metrics.http_req_failed.passes ?? (m.metrics.http_req_failed.rate || 0) * (g('http_reqs', 'count') || 0)) : 0;
      ch.traffic.push(x, [state.last.vus, g('http_reqs', 'count'), failedNow]);
      ch.latency.push(x, [g('http_req_duration', 'med'), g('http_req_duration', 'p(95)'), g('http_req_duration', 'p(99)')]);
      ch.phases.push(x, PHASES.map((p) => g(p, 'avg')));
    });
    es.addEventListener('threshold', (ev) => {
      const t = JSON.parse(ev.data);
      if (t.analysisId) return;
      if (t.finalResult !== undefined) t.final = t.finalResult;
      state.thresholds.set(t.threshold, Object.assign(state.thresholds.get(t.threshold) || {}, t));
      drawThresholds();
    });
    es.addEventListener('insight', () => loadInsights());
    es.addEventListener('ingestion', (ev) => {
      const lag = JSON.parse(ev.data);
      const s = lag.samples || {};
      put(notice, s.warning ? h('div', { class: 'notice', id: 'lag' }, `Numbers are behind: ingestion is ${s.secondsBehind} s (${fmtNum(s.recordsBehind)} records) behind.`) : '');
    });
    es.addEventListener('status', async (ev) => {
      const st = JSON.parse(ev.data);
      const was = state.run.status;
      state.run = await api('/runs/' + encodeURIComponent(id)).catch(() => Object.assign(state.run, st));
      drawHeader();
      drawActions();
      drawDetails();
      if (TERMINAL.has(st.status) && !TERMINAL.has(was)) {
        // the end: read the stored results once now and once when the late seconds are in
        const refresh = () => Promise.all([loadStored(), loadThresholds(), loadSummaryKpis(), loadInsights()]).catch(() => {});
        refresh();
        const t = setTimeout(refresh, 8000);
        cleanup.push(() => clearTimeout(t));
      }
    });
    const tick = setInterval(() => { if (!TERMINAL.has(state.run.status)) drawHeader(); }, 1000);
    cleanup.push(() => clearInterval(tick));
  }
}

// ------------------------------------------------------------------ compare

async function comparePage(a, b, aa = '', ab = '') {
  const recent = await api('/runs' + qs({ limit: 50 }));
  const list = h('datalist', { id: 'recent-runs' }, recent.runs.map((r) => h('option', { value: r.testRunId }, `${r.name || ''} ${fmtTime(r.createdAt)}`)));
  const ia = h('input', { id: 'cmp-a', name: 'a', list: 'recent-runs', value: a, size: 30, required: true });
  const ib = h('input', { id: 'cmp-b', name: 'b', list: 'recent-runs', value: b, size: 30, required: true });
  // a replay's analysis id (loadtest replay prints it) compares the run as re-judged, e.g. with other thresholds
  const iaa = h('input', { id: 'cmp-aa', name: 'aa', value: aa, size: 22, placeholder: 'optional' });
  const iab = h('input', { id: 'cmp-ab', name: 'ab', value: ab, size: 22, placeholder: 'optional' });
  const out = h('div', { id: 'compare-out' });
  render(h('h1', {}, 'Compare runs'), list,
    h('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); location.hash = '#/compare' + qs({ a: ia.value.trim(), aa: iaa.value.trim(), b: ib.value.trim(), ab: iab.value.trim() }); } },
      h('label', { for: 'cmp-a' }, 'Run A (baseline)', ia), h('label', { for: 'cmp-aa' }, 'A: replay analysis', iaa),
      h('label', { for: 'cmp-b' }, 'Run B', ib), h('label', { for: 'cmp-ab' }, 'B: replay analysis', iab),
      h('button', { class: 'primary', type: 'submit' }, 'Compare')), out);
  if (!a || !b) { out.append(h('p', { class: 'muted' }, 'Pick two runs (or tick two in the runs list).')); return; }
  let c;
  try { c = await api('/compare' + qs({ a, b, analysisA: aa, analysisB: ab })); } catch (e) { out.append(errorBox(e)); return; }
  const charts = h('div', { class: 'grid' });
  const rows = [];
  // what a load tester reads first: latency, throughput, failures, checks; the generators' own health last
  const order = ['http_req_duration', 'http_reqs', 'http_req_failed', 'iterations', 'iteration_duration', 'checks', 'vus'];
  const rank = (name) => (order.includes(name) ? order.indexOf(name) : name.startsWith('generator_') ? 1000 : 100);
  const metricsInOrder = [...(c.metrics || [])].sort((x, y) => rank(x.metric) - rank(y.metric) || x.metric.localeCompare(y.metric));
  // worse in B: slower (a trend up), more failures, fewer checks passing
  const worse = (m, stat, change) => (m.type === 'trend' && change > 0.1)
    || (m.metric === 'http_req_failed' && stat === 'rate' && change > 0.1)
    || (m.metric === 'checks' && stat === 'rate' && change < -0.01);
  for (const m of metricsInOrder) {
    for (const [stat, v] of Object.entries(m.stats || {})) {
      const ms = m.type === 'trend';
      const f = (x) => (x === null || x === undefined ? '–' : ms ? fmtMs(x) : m.type === 'rate' && stat === 'rate' ? fmtPct(x) : fmtNum(x, 2));
      const change = v.change === null || v.change === undefined ? null : v.change;
      rows.push(h('tr', {}, h('td', {}, m.metric), h('td', {}, stat), h('td', { class: 'num' }, f(v.a)), h('td', { class: 'num' }, f(v.b)),
        h('td', { class: 'num ' + (change !== null && worse(m, stat, change) ? 'up' : '') }, change === null ? '–' : (change > 0 ? '+' : '') + (change * 100).toFixed(1) + '%')));
    }
  }
  out.append(charts, h('h2', {}, 'Summary side by side'), h('table', { id: 'compare-table' },
    h('thead', {}, h('tr', {}, ['Metric', 'Stat', 'A: ' + a + (aa ? ` (${aa})` : ''), 'B: ' + b + (ab ? ` (${ab})` : ''), 'B vs A'].map((x, i) => h('th', { scope: 'col', class: i >= 2 ? 'num' : null }, x)))),
    h('tbody', {}, rows)));
  // overlaid by elapsed time
  const series = async (run, analysis, metric, stat) => {
    const t = await api(`/runs/${encodeURIComponent(run)}/timeseries` + qs({ metric, stat, analysis, maxPoints: 300 }));
    const m = column(t, stat);
    const from = t.from / 1000;
    return new Map([...m.entries()].map(([x, v]) => [x - from, stat === 'count' ? v / (t.stepSeconds || 1) : v]));
  };
  for (const [title, metric, stat, unit] of [['p(95) by elapsed time', 'http_req_duration', 'p(95)', 'ms'], ['requests/s by elapsed time', 'http_reqs', 'count', 'rate']]) {
    try {
      const [ma, mb] = await Promise.all([series(a, aa, metric, stat), series(b, ab, metric, stat)]);
      timeChart(charts, title, ['A: ' + a, 'B: ' + b], unit, { elapsed: true }).set(aligned([ma, mb]));
    } catch (e) { charts.append(errorBox(e)); }
  }
}

// ------------------------------------------------------------------ start a run

function newRunPage() {
  if (session.scope !== 'write') {
    render(h('h1', {}, 'New run'), h('p', {}, 'Starting a run needs a token with the write scope.'));
    return;
  }
  const plan = h('textarea', { id: 'plan', name: 'plan', rows: 22, spellcheck: 'false', 'aria-describedby': 'plan-help' });
  const file = h('input', { type: 'file', id: 'plan-file', accept: '.json,application/json', onchange: async () => {
    if (file.files[0]) plan.value = await file.files[0].text();
  } });
  const env = h('textarea', { id: 'env', name: 'env', rows: 4, placeholder: 'BASE_URL=http://127.0.0.1:8080' });
  const runId = h('input', { id: 'run-id', name: 'runId', size: 30, placeholder: '(made up when empty)' });
  const errs = h('div', { id: 'plan-errors', 'aria-live': 'assertive' });
  const submit = h('button', { class: 'primary', type: 'submit', id: 'submit-run' }, 'Start the run');
  const form = h('form', { onsubmit: async (ev) => {
    ev.preventDefault();
    put(errs, );
    let parsed;
    try { parsed = JSON.parse(plan.value); } catch (e) {
      put(errs, h('div', { class: 'errors', role: 'alert' }, h('strong', {}, 'The plan is not JSON: '), e.message));
      return;
    }
    const overrides = {};
    for (const [i, line] of env.value.split('\n').entries()) {
      if (!line.trim()) continue;
      const eq = line.indexOf('=');
      if (eq < 1) {
        put(errs, h('div', { class: 'errors', role: 'alert' }, `Env line ${i + 1} is not KEY=VALUE: `, h('code', {}, line)));
        return;
      }
      overrides[line.slice(0, eq).trim()] = line.slice(eq + 1);
    }
    if (Object.keys(overrides).length && parsed && typeof parsed === 'object') parsed.env = Object.assign({}, parsed.env || {}, overrides);
    const body = { plan: parsed };
    if (runId.value.trim()) body.testRunId = runId.value.trim();
    submit.disabled = true;
    try {
      const sent = await api('/runs', { method: 'POST', body });
      location.hash = '#/runs/' + encodeURIComponent(sent.testRunId);
    } catch (e) {
      submit.disabled = false;
      const list = (e.body && e.body.errors) || [];
      put(errs, h('div', { class: 'errors', role: 'alert' }, h('p', {}, h('strong', {}, e.message)),
        list.length ? h('ul', { id: 'error-list' }, list.map((x) => h('li', {}, h('code', {}, x.path || '$'), ' ', x.message))) : null));
    }
  } },
  h('label', { for: 'plan-file' }, 'Plan file', file),
  h('label', { for: 'plan' }, 'Test plan (JSON)', plan),
  h('p', { id: 'plan-help', class: 'muted' }, 'A plan as `loadtest run` takes it (see examples/). Errors are shown with their JSON paths.'),
  h('label', { for: 'env' }, 'Env overrides (KEY=VALUE per line)', env),
  h('label', { for: 'run-id' }, 'Run id', runId),
  errs,
  h('div', { class: 'actions' }, submit));
  render(h('h1', {}, 'New run'), form);
}

route();
