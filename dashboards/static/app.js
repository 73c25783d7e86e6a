// The dashboard's pages: the sweeps list (#/), a sweep (#/sweeps/<name>), a trial (#/trials/<id>) and a comparison
// of sweeps (#/compare?sweeps=a,b). Everything is computed by the server's JSON API; this file only lays it out.
import {
  renderCoverage,
  renderCurve,
  renderParallel,
  renderTrialLoss,
  renderTrialLr,
  renderView,
  sharedRange,
} from '/charts.js';

const app = document.getElementById('app');
// Drawing 10k parallel-coordinate lines took about a second of the page's main thread; 2k keep the shape readable.
const PARALLEL_LINES = 2000;
const STATUSES = ['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'reused', 'stopped'];
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

// Sweeps ticked for comparison; kept here because the list re-renders every few seconds.
const picked = new Set();

async function sweepsPage() {
  const sweeps = await getJson('/api/sweeps');
  for (const name of picked) if (!sweeps.some((s) => s.name === name)) picked.delete(name);
  const compareButton = el('button', { id: 'compare-button', onclick: () => openCompare() }, 'compare');
  const syncButton = () => {
    compareButton.disabled = picked.size < 2;
    compareButton.textContent = picked.size < 2 ? 'compare (tick two or more)' : `compare ${picked.size} sweeps`;
  };
  const openCompare = () => {
    if (picked.size < 2) return;
    const names = sweeps.map((s) => s.name).filter((name) => picked.has(name));
    location.hash = `#/compare?sweeps=${names.map(encodeURIComponent).join(',')}`;
  };
  const rows = sweeps.map((s) =>
    el(
      'tr',
      { class: 'sweep', 'data-sweep': s.name },
      el(
        'td',
        {},
        el('input', {
          type: 'checkbox',
          class: 'pick',
          'data-sweep': s.name,
          title: 'pick for comparison',
          ...(picked.has(s.name) ? { checked: '' } : {}),
          onchange: (e) => {
            if (e.target.checked) picked.add(s.name);
            else picked.delete(s.name);
            syncButton();
          },
        }),
      ),
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
  syncButton();
  app.replaceChildren(
    el('h1', {}, 'Sweeps'),
    sweeps.length === 0
      ? el('p', { class: 'muted' }, 'No sweeps in this database yet.')
      : el(
          'div',
          {},
          el(
            'table',
            { id: 'sweeps' },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                ...['', 'sweep', 'status', 'trials', 'by status', 'progress', 'workflow'].map((h) => el('th', {}, h)),
              ),
            ),
            el('tbody', {}, ...rows),
          ),
          el('p', { class: 'actions' }, compareButton),
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
          if (key === 'status') {
            return el(
              'td',
              {},
              el('span', { class: `status ${t.status}` }, t.status),
              ' ',
              el(
                'a',
                {
                  class: 'trial-link',
                  href: `#/trials/${encodeURIComponent(t.id)}`,
                  title: `open trial ${t.id}`,
                  onclick: (e) => e.stopPropagation(),
                },
                '↗',
              ),
            );
          }
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

  const searchHost = el('div', { id: 'search' });
  const tablesHost = el('div', { id: 'tables' });
  const viewsHost = el('div', { id: 'views' });
  const overviewHost = el('div', { id: 'overview' });
  app.replaceChildren(
    el('h1', {}, sweep.name, ' ', el('span', { class: `status ${sweep.status}` }, sweep.status)),
    el(
      'p',
      { id: 'sweep-status' },
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
    nav(sweep),
    searchHost,
    tablesHost,
    viewsHost,
    overviewHost,
    el(
      'section',
      { id: 'trials-section' },
      el('h2', { id: 'trials-heading' }, 'Trials'),
      el('p', { class: 'muted' }, 'click a row for its learning curve; ↗ opens the trial'),
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
    ),
  );
  await Promise.all([
    loadTrials(),
    sweep.search ? loadSearch(sweep, searchHost) : null,
    loadTables(`/api/sweeps/${encodeURIComponent(sweep.name)}/tables`, tablesHost, sweep.methodOrder),
    loadViews(sweep, viewsHost),
    loadOverview(sweep, overviewHost),
  ]);
}

/** Links to the parts of a long sweep page. */
function nav(sweep) {
  const links = [
    ...(sweep.search ? [['#search', 'search']] : []),
    ['#tables', 'tables'],
    ...sweep.views.map((view) => [`section[data-view="${view}"]`, view]),
    ['section[data-view="parallel"]', 'parallel coordinates'],
    ['section[data-view="missing-cells"]', 'missing cells'],
    ['#trials-section', 'trials'],
  ];
  return el(
    'nav',
    { class: 'jump' },
    'jump to: ',
    ...links.flatMap(([selector, label], i) => [
      i > 0 ? ' · ' : null,
      el(
        'a',
        {
          href: '#',
          onclick: (e) => {
            e.preventDefault();
            document.querySelector(selector)?.scrollIntoView({ behavior: 'smooth' });
          },
        },
        label,
      ),
    ]),
  );
}

const show = (value) => (value === null || value === undefined ? '(unset)' : String(value));
const rowId = (key) =>
  Object.entries(key)
    .map(([factor, value]) => `${factor}=${value === null ? 'null' : value}`)
    .join(' ');

/** "mean ± std (n)" as the CLI prints it (cli/results/render.ts), n as "n/planned" when incomplete. */
function entryText(entry, digits = 1) {
  const count = entry.n === entry.expectedN ? `${entry.n}` : `${entry.n}/${entry.expectedN}`;
  if (entry.mean === null) return `— (${count})`;
  const spread = entry.std === null ? '' : ` ± ${entry.std.toFixed(digits)}`;
  return `${entry.mean.toFixed(digits)}${spread} (${count})`;
}

/**
 * One results table in the CLI's layout: the row factors, one column per column value (the datasets), then the
 * average. `table` is an entry of the tables API: { view, title, caption, pivot } with pivot as `--format json`.
 */
export function paperTable(table, methodOrder = []) {
  const { pivot } = table;
  const sources = pivot.sources ?? [];
  const sourceOf = (ref) => sources.find((entry) => entry.ref === ref);
  const viewKey = table.view ?? 'default';
  const columnLabel = (value) =>
    ['dataset', 'evalDataset', 'classSubset'].includes(pivot.column) ? show(value) : `${pivot.column} ${show(value)}`;
  const rowFactors = pivot.rowFactors.length > 0 ? pivot.rowFactors : [''];
  const header = el(
    'tr',
    {},
    ...rowFactors.map((factor) => el('th', { class: 'key', scope: 'col' }, factor)),
    ...pivot.columns.map((value) =>
      el('th', { class: 'num', scope: 'col', 'data-dataset': show(value) }, columnLabel(value)),
    ),
    pivot.averageLabel === null ? null : el('th', { class: 'num average', scope: 'col' }, pivot.averageLabel),
  );
  const body = pivot.rows.map((row, i) => {
    const id = rowId(row.key);
    const method = row.key.method;
    const rank = methodOrder.indexOf(method);
    const keyCells =
      pivot.rowFactors.length > 0
        ? pivot.rowFactors.map((factor) =>
            el(
              'td',
              {
                class: `key${row.key[factor] === null ? ' unset' : ''}${
                  factor === pivot.rowFactors[0] && i > 0 && pivot.rows[i - 1].key[factor] === row.key[factor]
                    ? ' same'
                    : ''
                }`,
              },
              factor === 'method' && rank >= 0 ? el('span', { class: `swatch m${rank % 8}` }) : null,
              show(row.key[factor]),
            ),
          )
        : [el('td', { class: 'key' }, 'all')];
    const cells = pivot.columns.map((value) => {
      const name = show(value);
      const entry = row.cells[name] ?? null;
      const attrs = { class: 'num', 'data-dataset': name, 'data-row': id };
      if (entry === null) {
        return el(
          'td',
          { ...attrs, class: 'num missing', title: `not planned: no trial of ${id} runs on ${name}` },
          '—',
        );
      }
      const incomplete = entry.n < entry.expectedN;
      const title =
        entry.mean === null
          ? `no result yet: 0 of ${entry.expectedN} planned seeds finished`
          : incomplete
            ? `${entry.n} of ${entry.expectedN} planned seeds have a result`
            : `${entry.n} seeds`;
      return el(
        'td',
        {
          ...attrs,
          class: `num${entry.best ? ' best' : ''}${entry.mean === null ? ' missing' : ''}${incomplete ? ' incomplete' : ''}`,
          title: entry.best ? `${title}; best in this column` : title,
          'data-best': entry.best ? 'true' : 'false',
        },
        entryText(entry),
        entry.best ? el('span', { class: 'best-mark', 'aria-label': 'best' }, ' ▲') : null,
        publishedMark(entry.published, sourceOf),
      );
    });
    let average = null;
    if (pivot.averageLabel !== null) {
      const avg = row.average;
      const attrs = {
        class: 'num average',
        'data-dataset': pivot.averageLabel,
        'data-average': 'true',
        'data-row': id,
      };
      if (avg === null || avg === undefined) average = el('td', { ...attrs, title: 'no average' }, '—');
      else {
        const count = avg.n === avg.expectedN ? '' : ` (${avg.n}/${avg.expectedN})`;
        const missing = (avg.missing ?? []).map(show);
        average = el(
          'td',
          {
            ...attrs,
            class: `num average${avg.best ? ' best' : ''}${avg.mean === null ? ' missing' : ''}`,
            'data-best': avg.best ? 'true' : 'false',
            title:
              missing.length > 0
                ? `average without ${missing.join(', ')} (no result there)`
                : avg.mean === null
                  ? 'no result to average'
                  : `mean over ${pivot.columns.length} columns`,
          },
          `${avg.mean === null ? '—' : avg.mean.toFixed(1)}${count}`,
          avg.best ? el('span', { class: 'best-mark', 'aria-label': 'best' }, ' ▲') : null,
          publishedMark(avg.published, sourceOf),
        );
      }
    }
    return el('tr', { 'data-row': id, ...(method ? { 'data-method': method } : {}) }, ...keyCells, ...cells, average);
  });
  return el(
    'figure',
    { class: 'paper', 'data-view': viewKey },
    el(
      'figcaption',
      {},
      el('strong', {}, table.title),
      el('br'),
      el('span', { class: 'muted' }, table.caption ?? pivot.caption),
    ),
    el(
      'div',
      { class: 'scroll' },
      el('table', { class: 'paper-table', 'data-view': viewKey }, el('thead', {}, header), el('tbody', {}, ...body)),
    ),
    el(
      'p',
      { class: 'muted note' },
      `${pivot.std === 'sample' ? 'mean ± sample std over seeds' : 'mean ± std over seeds'} (n seeds with a result, /planned when incomplete); `,
      el('strong', {}, 'bold ▲'),
      ' best per column; — no result (hover for why)',
    ),
    ...(pivot.notes ?? []).map((line) =>
      el('p', { class: `muted note${line.startsWith('warning:') ? ' warning' : ''}`, 'data-note': 'seeds' }, line),
    ),
    sources.length === 0
      ? null
      : el(
          'ol',
          { class: 'muted note sources', 'data-note': 'published' },
          ...sources.map((source) =>
            el(
              'li',
              { value: String(source.ref) },
              `${source.source}${source.epochs === null ? '' : `; ${source.epochs} epochs`} `,
              el('a', { href: source.url, rel: 'noreferrer' }, source.url),
            ),
          ),
        ),
  );
}

/** The published number of a cell (published/anchors.yaml), the difference from ours, and its numbered source. */
function publishedMark(mark, sourceOf) {
  if (!mark) return null;
  const diff = mark.diff === null ? '' : ` (Δ ${mark.diff >= 0 ? '+' : ''}${mark.diff.toFixed(1)})`;
  return el(
    'span',
    {
      class: 'published',
      'data-published': String(mark.value),
      title: `published: ${sourceOf(mark.ref)?.source ?? ''}`,
    },
    el('br'),
    `pub ${mark.value.toFixed(2)} [${mark.ref}]${diff}`,
  );
}

/** The paper tables of a sweep (or of a comparison) from GET …/tables, or `tables` given directly. */
async function loadTables(url, host, methodOrder, given) {
  const section = el('section', { class: 'tables', 'data-view': 'tables' }, el('h2', {}, 'Results tables'));
  host.replaceChildren(section);
  try {
    const tables = given ?? (await getJson(url)).tables;
    if (tables.length === 0) section.append(el('p', { class: 'muted' }, 'No results yet.'));
    for (const table of tables) section.append(paperTable(table, methodOrder ?? []));
  } catch (error) {
    section.append(el('p', { class: 'error-box' }, `tables: ${error.message}`));
  }
  host.dataset.loaded = 'true';
}

const statText = (s, digits = 1) =>
  s === null ? '—' : `${s.mean.toFixed(digits)}${s.std === null ? '' : ` ± ${s.std.toFixed(digits)}`} (${s.n})`;
const paramText = (value) =>
  typeof value === 'number' && !Number.isInteger(value) ? String(Number(value.toPrecision(4))) : String(value);

/**
 * A search (GET /api/sweeps/:name/search, db/results/search.ts): its rungs or suggestions, the epochs it saved, the
 * best configuration so far, every configuration's validation and test accuracy, and the importance of each axis.
 */
async function loadSearch(sweep, host) {
  const section = el('section', { class: 'search', 'data-view': 'search' }, el('h2', {}, 'Search'));
  host.replaceChildren(section);
  try {
    const report = await getJson(`/api/sweeps/${encodeURIComponent(sweep.name)}/search`);
    const { trained, full } = report.epochs;
    const saving =
      full > trained
        ? ` of ${full} for every configuration in full (${Math.round((100 * (full - trained)) / full)}% saved)`
        : '';
    section.append(
      el('p', { class: 'muted' }, `${report.kind} on ${report.metric} · ${report.settings}`),
      el('p', { id: 'search-epochs' }, `epochs trained: ${trained}${saving}`),
    );
    if (report.kind === 'successive-halving') {
      section.append(
        el(
          'table',
          { id: 'search-rungs' },
          el('thead', {}, el('tr', {}, ...['rung', 'epochs', 'configurations', 'went on'].map((h) => el('th', {}, h)))),
          el(
            'tbody',
            {},
            ...report.rungs.map((r, i) =>
              el(
                'tr',
                {},
                el('td', {}, String(r.rung + 1)),
                el('td', {}, String(r.epochs)),
                el('td', {}, String(r.candidates)),
                el(
                  'td',
                  {},
                  !r.decided ? 'under way' : i === report.rungs.length - 1 ? 'finished' : String(r.promoted),
                ),
              ),
            ),
          ),
        ),
      );
    } else {
      section.append(el('p', {}, `suggestions: ${report.suggestions.made} of ${report.suggestions.budget}`));
    }
    const best = report.best;
    section.append(
      el(
        'p',
        { id: 'search-best' },
        best
          ? `best so far: #${best.candidate} ${Object.entries(best.params)
              .map(([k, v]) => `${k}=${paramText(v)}`)
              .join(' ')} · val ${statText(best.val)} · test ${statText(best.test)} after ${best.epochs} epochs`
          : 'best so far: none yet',
      ),
    );
    const axes = [...new Set(report.configurations.flatMap((c) => Object.keys(c.params)))];
    const rows = [...report.configurations].sort(
      (a, b) => b.epochs - a.epochs || (b.objective ?? -1) - (a.objective ?? -1) || a.candidate - b.candidate,
    );
    section.append(
      el(
        'table',
        { id: 'search-configurations' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['#', ...axes, 'epochs', 'state', `val ${report.metric}`, 'test top1'].map((h) => el('th', {}, h)),
          ),
        ),
        el(
          'tbody',
          {},
          ...rows.map((c) =>
            el(
              'tr',
              { class: c.candidate === best?.candidate ? 'best' : null },
              el('td', {}, String(c.candidate)),
              ...axes.map((k) => el('td', {}, k in c.params ? paramText(c.params[k]) : '')),
              el('td', {}, String(c.epochs)),
              el('td', {}, c.state),
              el('td', {}, statText(c.val)),
              el('td', {}, statText(c.test)),
            ),
          ),
        ),
      ),
      el('h3', {}, 'Importance of each axis'),
      el('p', { class: 'muted' }, `${report.importance.method}; at ${report.importance.basis}`),
      el(
        'div',
        { id: 'search-importance' },
        ...(report.importance.axes.length === 0
          ? [el('p', { class: 'muted' }, 'not enough configurations with a result yet')]
          : report.importance.axes.map((a) =>
              el(
                'div',
                { class: 'importance-row', 'data-axis': a.key },
                el('span', { class: 'importance-key' }, a.key),
                el('span', { class: 'importance-bar', style: `width: ${Math.round(a.share * 100)}%` }),
                el('span', { class: 'importance-value' }, a.share.toFixed(2)),
              ),
            )),
      ),
      el(
        'p',
        { class: 'muted' },
        'val: the few-shot validation split the search ranks by; test: finished configurations only. mean ± sample std over seeds (n).',
      ),
    );
  } catch (error) {
    section.append(el('p', { class: 'error-box' }, `search: ${error.message}`));
  }
  host.dataset.loaded = 'true';
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
        renderView(panels, view, { methodOrder: sweep.methodOrder });
      } catch (error) {
        section.append(el('p', { class: 'error-box' }, `${name}: ${error.message}`));
      }
    }),
  );
  host.dataset.loaded = 'true';
}

/** A config path as the trial API writes it (`a.b[0].c` or `a.b.0.c`) in one spelling. */
const normalPath = (path) =>
  String(path)
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/^\./, '');

const jsonText = (value) => (value === undefined ? '' : JSON.stringify(value));

/**
 * Pretty JSON, one element per line, each line knowing the path of the value it opens; lines whose path differs from
 * the sweep's base cell are marked, with the base value in their title.
 */
function configLines(config, diff) {
  const changed = new Map(diff.map((d) => [normalPath(d.path), d]));
  const lines = [];
  const line = (depth, text, path) => {
    const d = path === null ? undefined : changed.get(path);
    lines.push(
      el(
        'div',
        {
          class: `json-line${d ? ' diff' : ''}`,
          ...(d ? { title: `base: ${jsonText(d.base)}`, 'data-path': path } : {}),
        },
        '  '.repeat(depth) + text,
      ),
    );
  };
  const walk = (value, depth, path, label, last) => {
    const prefix = label === null ? '' : `${JSON.stringify(label)}: `;
    const comma = last ? '' : ',';
    if (value !== null && typeof value === 'object') {
      const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
      const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
      if (entries.length === 0) {
        line(depth, `${prefix}${open}${close}${comma}`, path);
        return;
      }
      line(depth, `${prefix}${open}`, path);
      entries.forEach(([key, child], i) => {
        const childPath = path === '' ? String(key) : `${path}.${key}`;
        walk(child, depth + 1, childPath, Array.isArray(value) ? null : key, i === entries.length - 1);
      });
      line(depth, `${close}${comma}`, null);
    } else line(depth, `${prefix}${JSON.stringify(value)}${comma}`, path);
  };
  walk(config, 0, '', null, true);
  return lines;
}

function keyValueTable(id, pairs) {
  return el(
    'table',
    { class: 'kv', id },
    el(
      'tbody',
      {},
      ...pairs.map(([key, value]) => el('tr', { 'data-key': key }, el('th', {}, key), el('td', {}, value ?? '—'))),
    ),
  );
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const pct = (value) => (value === null || value === undefined ? '—' : Number(value).toFixed(2));

/**
 * The trial's stored attention maps (`dpt-sweep attention`): per test image, the class token's attention over the
 * patches and, for DPT, the class-aware prompts', each patch tinted by its share of the row's attention (scaled to
 * the map's largest share).
 */
function attentionSection(trial) {
  const all = trial.attention ?? [];
  if (all.length === 0) {
    return el(
      'p',
      { class: 'muted', id: 'trial-attention' },
      `No attention maps stored; dpt-sweep attention ${trial.sweep.name} --dataset ${trial.factors?.dataset ?? '<dataset>'} computes them.`,
    );
  }
  return el(
    'div',
    { id: 'trial-attention' },
    ...all.map((maps) =>
      el(
        'div',
        { class: 'attention-set' },
        el('p', { class: 'muted' }, `vision block ${maps.layer} · ${maps.dataset} test images · label → prediction`),
        el(
          'div',
          { class: 'attention-row' },
          ...maps.images.map((image) =>
            el(
              'figure',
              { class: 'attention-image' },
              attentionCanvas(image, image.classToken, maps.grid, 'class token'),
              image.classAwarePrompts
                ? attentionCanvas(image, image.classAwarePrompts, maps.grid, 'class-aware prompts')
                : null,
              el(
                'figcaption',
                { class: image.predicted === image.label ? 'right' : 'wrong' },
                `${image.label} → ${image.predicted}`,
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function heatColour(t) {
  const stops = [
    [20, 20, 120],
    [220, 40, 40],
    [255, 235, 60],
  ];
  const [from, to, u] = t <= 0.5 ? [stops[0], stops[1], t / 0.5] : [stops[1], stops[2], (t - 0.5) / 0.5];
  return from.map((c, k) => Math.round(c + u * (to[k] - c)));
}

function attentionCanvas(image, values, grid, title) {
  const size = 144;
  const canvas = el('canvas', { width: size, height: size, title, 'data-map': title });
  const picture = new Image();
  picture.onload = () => {
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(picture, 0, 0, size, size);
    const max = Math.max(...values, Number.MIN_VALUE);
    const cell = size / grid;
    values.forEach((v, i) => {
      const t = v / max;
      const [r, g, b] = heatColour(t);
      ctx.fillStyle = `rgba(${r}, ${g}, ${b}, ${(0.78 * t).toFixed(3)})`;
      ctx.fillRect((i % grid) * cell, Math.floor(i / grid) * cell, cell, cell);
    });
    canvas.dataset.drawn = 'true';
  };
  picture.src = `data:image/png;base64,${image.png}`;
  return el('div', { class: 'attention-map' }, canvas, el('span', { class: 'muted' }, title));
}

async function trialPage(trialId) {
  const trial = await getJson(`/api/trials/${encodeURIComponent(trialId)}`);
  // The factors the sweep varies come first and stand out; the others are the same for all its trials.
  const sweep = await getJson(`/api/sweeps/${encodeURIComponent(trial.sweep.id)}`).catch(() => null);
  const varied = new Set((sweep?.factors ?? []).map((factor) => factor.name));
  const factors = Object.entries(trial.factors ?? {})
    .filter(([, value]) => value !== null && value !== undefined)
    .sort(([a], [b]) => Number(varied.has(b)) - Number(varied.has(a)));
  const diff = trial.baseDiff ?? [];
  const lossHost = el('div', { class: 'chart', id: 'trial-loss' });
  const lrHost = el('div', { class: 'chart', id: 'trial-lr' });
  const hasCurve = (trial.curve ?? []).length > 0;
  const page = el(
    'div',
    { id: 'trial-page', 'data-trial': trial.id },
    el(
      'p',
      { class: 'crumbs' },
      el('a', { href: '#/' }, 'sweeps'),
      ' › ',
      el('a', { href: `#/sweeps/${encodeURIComponent(trial.sweep.name)}` }, trial.sweep.name),
      ' › ',
      trial.id,
    ),
    el(
      'h1',
      {},
      [trial.factors?.method, trial.factors?.dataset].filter(Boolean).join(' on ') || trial.id,
      ` · seed ${trial.seed} `,
      el('span', { class: `status ${trial.status}`, id: 'trial-status' }, trial.status),
    ),
    el(
      'p',
      { class: 'factors' },
      ...factors.flatMap(([key, value]) => [
        el('span', { class: `factor${varied.has(key) ? ' varied' : ''}`, 'data-factor': key }, `${key} = ${value}`),
        ' ',
      ]),
    ),
    trial.reusedFrom
      ? el(
          'p',
          { id: 'trial-reused' },
          'Reuses the results of trial ',
          el('a', { href: `#/trials/${encodeURIComponent(trial.reusedFrom)}` }, trial.reusedFrom),
          ' (same configuration); results, curve and provenance below are that trial’s.',
        )
      : null,
    el('h2', {}, 'Results'),
    (trial.results ?? []).length === 0
      ? el('p', { class: 'muted', id: 'trial-results' }, 'No results recorded.')
      : el(
          'table',
          { id: 'trial-results', class: 'compact' },
          el(
            'thead',
            {},
            el('tr', {}, ...['evaluated on', 'split', 'top-1 %', 'correct', 'total'].map((h) => el('th', {}, h))),
          ),
          el(
            'tbody',
            {},
            ...trial.results.map((r) =>
              el(
                'tr',
                {},
                el(
                  'td',
                  {},
                  r.classSubset && r.classSubset !== 'all'
                    ? `${r.evalDataset} (${r.classSubset} classes)`
                    : r.evalDataset,
                ),
                el('td', {}, r.split),
                el('td', { class: 'num' }, pct(r.top1)),
                el('td', { class: 'num' }, cell(r.correct)),
                el('td', { class: 'num' }, cell(r.total)),
              ),
            ),
          ),
        ),
    el('h2', {}, 'Learning curves'),
    hasCurve
      ? el('div', { class: 'panels' }, lossHost, lrHost)
      : el('p', { class: 'muted' }, 'No epochs recorded (a zero-shot trial does not train).'),
    el(
      'p',
      { id: 'checkpoint' },
      trial.checkpointEpoch === null || trial.checkpointEpoch === undefined
        ? 'no checkpoint'
        : `checkpoint taken at epoch ${trial.checkpointEpoch}`,
    ),
    el('h2', {}, 'Attention'),
    attentionSection(trial),
    el('h2', {}, 'Attempts'),
    (trial.attempts ?? []).length === 0
      ? el('p', { class: 'muted' }, 'Not attempted yet.')
      : el(
          'table',
          { id: 'trial-attempts', class: 'compact' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ...['attempt', 'status', 'started', 'finished', 'backend', 'error'].map((h) => el('th', {}, h)),
            ),
          ),
          el(
            'tbody',
            {},
            ...trial.attempts.map((a) =>
              el(
                'tr',
                { class: a.error ? 'failed-attempt' : '' },
                el('td', {}, String(a.attempt)),
                el('td', {}, el('span', { class: `status ${a.status}` }, a.status)),
                el('td', {}, time(a.startedAt)),
                el('td', {}, time(a.finishedAt)),
                el('td', {}, cell(a.backend)),
                el('td', { class: 'error wrap' }, a.error ? el('pre', {}, a.error) : ''),
              ),
            ),
          ),
        ),
    el('h2', {}, 'Provenance'),
    keyValueTable('trial-provenance', [
      ['code version', cell(trial.provenance?.codeVersion) || null],
      ['backend', cell(trial.provenance?.backend) || null],
      ['weights sha256', cell(trial.provenance?.weightsSha256) || null],
      ['split hash', cell(trial.provenance?.splitHash) || null],
    ]),
    el('h2', {}, 'Configuration'),
    diff.length === 0
      ? el('p', { class: 'muted' }, 'Same configuration as the sweep’s base cell.')
      : el(
          'table',
          { id: 'trial-diff', class: 'compact' },
          el(
            'thead',
            {},
            el('tr', {}, ...['differs from the base cell at', 'this trial', 'base'].map((h) => el('th', {}, h))),
          ),
          el(
            'tbody',
            {},
            ...diff.map((d) =>
              el(
                'tr',
                { 'data-path': normalPath(d.path) },
                el('td', {}, el('code', {}, d.path)),
                el('td', {}, el('code', {}, jsonText(d.value))),
                el('td', { class: 'muted' }, el('code', {}, jsonText(d.base))),
              ),
            ),
          ),
        ),
    el(
      'details',
      { id: 'trial-config' },
      el('summary', {}, `resolved TrialConfig (JSON; ${diff.length} highlighted lines differ from the base cell)`),
      el('div', { class: 'json' }, ...configLines(trial.config, diff)),
    ),
  );
  app.replaceChildren(page);
  if (hasCurve) {
    renderTrialLoss(lossHost, trial.id, trial.curve, trial.checkpointEpoch ?? null);
    renderTrialLr(lrHost, trial.id, trial.curve);
  }
}

async function comparePage(names) {
  const params = new URLSearchParams();
  for (const name of names) params.append('sweep', name);
  const data = await getJson(`/api/compare?${params}`);
  // Colours follow the paper's method order; any chosen sweep's detail carries it.
  const details = await Promise.all(data.sweeps.map((s) => getJson(`/api/sweeps/${encodeURIComponent(s.name)}`)));
  const methodOrder = details.find((d) => Array.isArray(d.methodOrder))?.methodOrder ?? [];
  const tablesHost = el('div', { id: 'compare-tables' });
  const viewsHost = el('div', { id: 'compare-views' });
  const columns = `repeat(${data.sweeps.length}, minmax(0, 1fr))`;
  const settings =
    data.settings.length === 0
      ? el('p', { class: 'muted' }, 'The sweep files agree on every setting.')
      : el(
          'table',
          { id: 'compare-settings', class: 'compact' },
          el('thead', {}, el('tr', {}, el('th', {}, 'setting'), ...data.sweeps.map((s) => el('th', {}, s.name)))),
          el(
            'tbody',
            {},
            ...data.settings.map((row) =>
              el(
                'tr',
                { 'data-key': row.key },
                el('th', {}, el('code', {}, row.key)),
                ...row.values.map((value) =>
                  el('td', {}, value === null ? el('span', { class: 'muted' }, '—') : String(value)),
                ),
              ),
            ),
          ),
        );
  app.replaceChildren(
    el(
      'div',
      { id: 'compare-page' },
      el('p', { class: 'crumbs' }, el('a', { href: '#/' }, 'sweeps'), ' › compare'),
      el('h1', {}, `Comparing ${data.sweeps.length} sweeps`),
      el(
        'table',
        { id: 'compare-sweeps', class: 'compact' },
        el('thead', {}, el('tr', {}, ...['sweep', 'status', 'trials'].map((h) => el('th', {}, h)))),
        el(
          'tbody',
          {},
          ...data.sweeps.map((s) =>
            el(
              'tr',
              { 'data-sweep': s.name },
              el('td', {}, el('a', { href: `#/sweeps/${encodeURIComponent(s.name)}` }, s.name)),
              el('td', {}, el('span', { class: `status ${s.status}` }, s.status)),
              el('td', {}, String(s.total)),
            ),
          ),
        ),
      ),
      el('h2', {}, 'Settings that differ'),
      settings,
      tablesHost,
      viewsHost,
    ),
  );
  await loadTables(null, tablesHost, methodOrder, data.tables);
  if (data.views.length === 0) viewsHost.append(el('p', { class: 'muted' }, 'No view is common to these sweeps.'));
  // One section per common view; inside it one row per panel (the average, then each dataset) and one column per
  // sweep, the charts of a row on one y scale.
  await Promise.all(
    data.views.map(async (view) => {
      const heading = el('h2', {}, view);
      const grid = el('div', { class: 'side-by-side' });
      grid.style.gridTemplateColumns = columns;
      const section = el('section', { class: 'view', 'data-view': view }, heading, grid);
      viewsHost.append(section);
      grid.append(...data.sweeps.map((s) => el('h3', { class: 'sweep-column', 'data-sweep': s.name }, s.name)));
      const results = await Promise.all(
        data.sweeps.map((s) =>
          getJson(`/api/sweeps/${encodeURIComponent(s.name)}/views/${view}`).catch((error) => error),
        ),
      );
      const first = results.find((r) => !(r instanceof Error));
      if (first) heading.textContent = first.title;
      const rows = Math.max(0, ...results.map((r) => (r instanceof Error ? 0 : r.panels.length)));
      const cells = [];
      for (let i = 0; i < rows; i++) {
        cells.push(
          data.sweeps.map((s) => {
            const cellNode = el('div', { class: 'compare-cell', 'data-sweep': s.name, 'data-panel': String(i) });
            grid.append(cellNode);
            return cellNode;
          }),
        );
      }
      const yRanges = Array.from({ length: rows }, (_, i) =>
        sharedRange(results.map((r) => (r instanceof Error ? undefined : r.panels[i]))),
      );
      results.forEach((result, k) => {
        const name = data.sweeps[k].name;
        if (result instanceof Error) {
          grid.append(el('p', { class: 'error-box' }, `${name} ${view}: ${result.message}`));
          return;
        }
        renderView(grid, result, { methodOrder, idPrefix: `${name}:`, hostFor: (i) => cells[i][k], yRanges });
      });
    }),
  );
  viewsHost.dataset.loaded = 'true';
}

async function route() {
  const hash = location.hash;
  const sweep = hash.match(/^#\/sweeps\/(.+)$/);
  const trial = hash.match(/^#\/trials\/(.+)$/);
  const compare = hash.match(/^#\/compare(?:\?(.*))?$/);
  try {
    if (sweep) await sweepPage(decodeURIComponent(sweep[1]));
    else if (trial) await trialPage(decodeURIComponent(trial[1]));
    else if (compare) {
      const names = (new URLSearchParams(compare[1] ?? '').get('sweeps') ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean);
      await comparePage(names);
    } else await sweepsPage();
  } catch (error) {
    app.replaceChildren(el('p', { class: 'error-box', id: 'page-error' }, error.message));
  }
  window.scrollTo(0, 0);
}

const onList = () => location.hash === '' || location.hash === '#' || location.hash === '#/';

// The sweeps list is live: while it is shown, its counts and progress refresh every few seconds.
const LIST_REFRESH_MS = 5000;
setInterval(() => {
  if (onList() && document.visibilityState === 'visible') {
    sweepsPage().catch(() => {});
  }
}, LIST_REFRESH_MS);

window.addEventListener('hashchange', route);
void route();
