// The dashboard's pages: the sweeps list (#/) and a sweep (#/sweeps/<name>). Everything is computed by the server's
// JSON API; this file only lays it out.
import { renderCoverage, renderCurve, renderParallel, renderView } from '/charts.js';

const app = document.getElementById('app');
// Drawing 10k parallel-coordinate lines took about a second of the page's main thread; 2k keep the shape readable.
const PARALLEL_LINES = 2000;
const STATUSES = ['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'reused'];
// The trial table's columns around the factor columns, which the server lists per sweep (sweep/factors.ts).
const LEADING_COLUMNS = [['status', 'status']];
const TRAILING_COLUMNS = [
  ['seed', 'seed'],
  ['top1', 'top-1 %'],
  ['durationMs', 'duration'],
  ['attempts', 'attempts'],
  ['error', 'failure reason'],
];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

async function getJson(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ?? `${response.status}`);
  return body;
}

const percent = (value) => `${Math.round(value * 100)}%`;
const duration = (ms) =>
  ms === null ? '' : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
const cell = (value) => (value === null || value === undefined ? '' : String(value));

function statusCounts(counts) {
  return el(
    'span',
    {},
    ...STATUSES.filter((s) => counts[s] > 0).flatMap((s) => [
      el('span', { class: `status ${s}` }, `${s} ${counts[s]}`),
      ' ',
    ]),
  );
}

function progressBar(progress) {
  const bar = el('span', { class: 'progress', title: percent(progress) }, el('span'));
  bar.firstChild.style.width = percent(progress);
  return el('span', {}, bar, ` ${percent(progress)}`);
}

async function sweepsPage() {
  const sweeps = await getJson('/api/sweeps');
  const rows = sweeps.map((s) =>
    el(
      'tr',
      { class: 'sweep', 'data-sweep': s.name },
      el('td', {}, el('a', { href: `#/sweeps/${encodeURIComponent(s.name)}` }, s.name)),
      el('td', {}, el('span', { class: `status ${s.status}` }, s.status)),
      el('td', {}, String(s.total)),
      el('td', {}, statusCounts(s.counts)),
      el('td', {}, progressBar(s.progress)),
      el(
        'td',
        {},
        s.temporalUrl ? el('a', { href: s.temporalUrl, target: '_blank', rel: 'noopener' }, 'Temporal') : '',
      ),
    ),
  );
  app.replaceChildren(
    el('h1', {}, 'Sweeps'),
    sweeps.length === 0
      ? el('p', { class: 'muted' }, 'No sweeps in this database yet.')
      : el(
          'table',
          { id: 'sweeps' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ...['sweep', 'status', 'trials', 'by status', 'progress', 'workflow'].map((h) => el('th', {}, h)),
            ),
          ),
          el('tbody', {}, ...rows),
        ),
  );
}

async function sweepPage(name) {
  const sweep = await getJson(`/api/sweeps/${encodeURIComponent(name)}`);
  const COLUMNS = [
    ...LEADING_COLUMNS,
    ...sweep.factors.map((factor) => [factor.name, factor.label]),
    ...TRAILING_COLUMNS,
  ];
  const state = { page: 1, pageSize: 50, sort: 'id', dir: 'asc', filters: {} };
  const tableHost = el('div', { id: 'trials' });
  const curveHost = el('div', { class: 'chart', id: 'curve', hidden: '' });
  const statusFilter = el(
    'select',
    { id: 'filter-status', onchange: (e) => setFilter('status', e.target.value) },
    el('option', { value: '' }, 'any status'),
    ...STATUSES.map((s) => el('option', { value: s }, s)),
  );
  const textFilter = (key, label) =>
    el('input', { id: `filter-${key}`, placeholder: label, onchange: (e) => setFilter(key, e.target.value.trim()) });

  function setFilter(key, value) {
    if (value === '') delete state.filters[key];
    else state.filters[key] = value;
    state.page = 1;
    void loadTrials();
  }

  async function loadTrials() {
    const params = new URLSearchParams({
      page: state.page,
      pageSize: state.pageSize,
      sort: state.sort,
      dir: state.dir,
    });
    for (const [key, value] of Object.entries(state.filters)) params.append(key, value);
    tableHost.dataset.loading = 'true';
    try {
      const page = await getJson(`/api/sweeps/${encodeURIComponent(sweep.name)}/trials?${params}`);
      tableHost.replaceChildren(trialTable(page));
    } catch (error) {
      tableHost.replaceChildren(el('p', { class: 'error-box' }, error.message));
    }
    delete tableHost.dataset.loading;
  }

  function trialTable(page) {
    const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
    const header = COLUMNS.map(([key, label]) =>
      el(
        'th',
        {
          class: `sortable${state.sort === key ? ' sorted' : ''}`,
          'data-column': key,
          'data-arrow': state.dir === 'asc' ? ' ▲' : ' ▼',
          onclick: () => {
            state.dir = state.sort === key && state.dir === 'asc' ? 'desc' : 'asc';
            state.sort = key;
            void loadTrials();
          },
        },
        label,
      ),
    );
    const rows = page.rows.map((t) =>
      el(
        'tr',
        { class: 'trial', 'data-trial': t.id, onclick: (e) => showCurve(t.id, e.currentTarget) },
        ...COLUMNS.map(([key]) => {
          if (key === 'status') return el('td', {}, el('span', { class: `status ${t.status}` }, t.status));
          if (key === 'top1') return el('td', {}, t.top1 === null ? '' : t.top1.toFixed(2));
          if (key === 'durationMs') return el('td', {}, duration(t.durationMs));
          if (key === 'error') return el('td', { class: 'error', title: cell(t.error) }, cell(t.error));
          return el('td', {}, cell(t[key]));
        }),
      ),
    );
    const go = (to) => {
      state.page = to;
      void loadTrials();
    };
    return el(
      'div',
      {},
      el(
        'div',
        { class: 'pager' },
        el(
          'button',
          { id: 'prev', onclick: () => go(state.page - 1), ...(state.page <= 1 ? { disabled: '' } : {}) },
          '‹',
        ),
        el(
          'span',
          { id: 'page-info', 'data-total': page.total },
          `page ${page.page} of ${pages} · ${page.total} trials`,
        ),
        el(
          'button',
          { id: 'next', onclick: () => go(state.page + 1), ...(state.page >= pages ? { disabled: '' } : {}) },
          '›',
        ),
      ),
      el('table', { id: 'trial-table' }, el('thead', {}, el('tr', {}, ...header)), el('tbody', {}, ...rows)),
    );
  }

  async function showCurve(trialId, row) {
    for (const selected of tableHost.querySelectorAll('tr.selected')) selected.classList.remove('selected');
    row.classList.add('selected');
    curveHost.hidden = false;
    renderCurve(curveHost, await getJson(`/api/trials/${encodeURIComponent(trialId)}/curve`));
  }

  const viewsHost = el('div', { id: 'views' });
  const overviewHost = el('div', { id: 'overview' });
  app.replaceChildren(
    el('h1', {}, sweep.name, ' ', el('span', { class: `status ${sweep.status}` }, sweep.status)),
    el(
      'p',
      {},
      `${sweep.total} trials · `,
      statusCounts(sweep.counts),
      ' · ',
      progressBar(sweep.progress),
      sweep.temporalUrl
        ? el(
            'span',
            {},
            ' · ',
            el(
              'a',
              { id: 'temporal-link', href: sweep.temporalUrl, target: '_blank', rel: 'noopener' },
              'Temporal workflow',
            ),
          )
        : null,
    ),
    el('h2', {}, 'Trials'),
    el(
      'div',
      { class: 'filters' },
      statusFilter,
      textFilter('method', 'method'),
      textFilter('dataset', 'dataset'),
      textFilter('shots', 'shots'),
      textFilter('seed', 'seed'),
      textFilter('error', 'failure reason contains'),
    ),
    tableHost,
    curveHost,
    overviewHost,
    viewsHost,
  );
  await Promise.all([loadTrials(), loadViews(sweep, viewsHost), loadOverview(sweep, overviewHost)]);
}

/** The sweep-wide charts that need no swept view factor: parallel coordinates and the missing-cell map. */
async function loadOverview(sweep, host) {
  const base = `/api/sweeps/${encodeURIComponent(sweep.name)}`;
  const section = (view, title, note, load, render) => {
    const node = el(
      'section',
      { class: 'view', 'data-view': view },
      el('h2', {}, title),
      el('p', { class: 'muted' }, note),
    );
    host.append(node);
    return (async () => {
      try {
        const chart = el('div', { class: 'chart' });
        const data = await getJson(load);
        node.append(chart);
        render(chart, data);
      } catch (error) {
        node.append(el('p', { class: 'error-box' }, `${view}: ${error.message}`));
      }
    })();
  };
  await Promise.all([
    section(
      'parallel',
      'Parallel coordinates',
      'one line per finished trial over the factors this sweep varies, colored by top-1',
      `${base}/parallel?limit=${PARALLEL_LINES}`,
      renderParallel,
    ),
    section(
      'missing-cells',
      'Missing-cell map',
      'planned cells by the share of their seeds with a result (n / planned)',
      `${base}/missing-cells`,
      renderCoverage,
    ),
  ]);
  host.dataset.loaded = 'true';
}

async function loadViews(sweep, host) {
  await Promise.all(
    sweep.views.map(async (name) => {
      const section = el('section', { class: 'view', 'data-view': name });
      host.append(section);
      try {
        const view = await getJson(`/api/sweeps/${encodeURIComponent(sweep.name)}/views/${name}`);
        const panels = el('div', { class: 'panels' });
        const note = view.missing > 0 ? ` · ${view.missing} planned cells without results` : '';
        section.append(
          el('h2', {}, view.title),
          el('p', { class: 'muted' }, `mean ± sample std over seeds${note}`),
          panels,
        );
        renderView(panels, view);
      } catch (error) {
        section.append(el('p', { class: 'error-box' }, `${name}: ${error.message}`));
      }
    }),
  );
  host.dataset.loaded = 'true';
}

async function route() {
  const match = location.hash.match(/^#\/sweeps\/(.+)$/);
  try {
    if (match) await sweepPage(decodeURIComponent(match[1]));
    else await sweepsPage();
  } catch (error) {
    app.replaceChildren(el('p', { class: 'error-box', id: 'page-error' }, error.message));
  }
}

// The sweeps list is live: while it is shown, its counts and progress refresh every few seconds.
const LIST_REFRESH_MS = 5000;
setInterval(() => {
  if (!location.hash.startsWith('#/sweeps/') && document.visibilityState === 'visible') {
    sweepsPage().catch(() => {});
  }
}, LIST_REFRESH_MS);

window.addEventListener('hashchange', route);
void route();
