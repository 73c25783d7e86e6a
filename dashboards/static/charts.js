// Charts of the dashboard, drawn with ECharts. Each chart publishes what it rendered (series and point counts) on its
// container's data attributes and in window.__charts, so end-to-end tests can check the drawing, not just the data.
import * as echarts from '/vendor/echarts.js';

const PALETTE = ['#3a7bd5', '#e4572e', '#29a36a', '#9b5de5', '#f0a202', '#17bebb', '#d81159', '#5c6b73'];
window.__charts = window.__charts ?? {};

const fmt = (value) => (typeof value === 'number' ? Number(value.toPrecision(4)) : value);

function publish(container, id, state) {
  container.dataset.chartId = id;
  container.dataset.series = String(state.series);
  container.dataset.points = String(state.points.reduce((sum, n) => sum + n, 0));
  container.dataset.errorBars = String(state.errorBars);
  window.__charts[id] = state;
}

/** A chart whose container says data-rendered="true" once ECharts finished drawing. */
function initChart(container) {
  const existing = echarts.getInstanceByDom(container);
  if (existing) return existing;
  const chart = echarts.init(container);
  chart.on('finished', () => {
    container.dataset.rendered = 'true';
  });
  return chart;
}

/** Whiskers of mean ± std at category index x, as an ECharts custom series. */
function errorBarSeries(name, color, bars) {
  return {
    type: 'custom',
    name,
    silent: true,
    z: 3,
    data: bars,
    encode: { x: 0, y: [1, 2] },
    renderItem(_params, api) {
      const top = api.coord([api.value(0), api.value(2)]);
      const bottom = api.coord([api.value(0), api.value(1)]);
      const cap = 4;
      const style = { stroke: color, lineWidth: 1.5 };
      return {
        type: 'group',
        children: [
          { type: 'line', shape: { x1: top[0], y1: top[1], x2: bottom[0], y2: bottom[1] }, style },
          { type: 'line', shape: { x1: top[0] - cap, y1: top[1], x2: top[0] + cap, y2: top[1] }, style },
          { type: 'line', shape: { x1: bottom[0] - cap, y1: bottom[1], x2: bottom[0] + cap, y2: bottom[1] }, style },
        ],
      };
    },
  };
}

/** Line (or dot) chart of mean ± std per series over a categorical x axis. */
function meanChart(container, id, panel, xName, dots) {
  const xs = [];
  for (const series of panel.series) for (const p of series.points) if (!xs.includes(p.x)) xs.push(p.x);
  xs.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
  const index = new Map(xs.map((x, i) => [x, i]));
  const series = [];
  let errorBars = 0;
  panel.series.forEach((entry, i) => {
    const color = PALETTE[i % PALETTE.length];
    series.push({
      type: dots ? 'scatter' : 'line',
      name: entry.name,
      color,
      symbolSize: 7,
      data: entry.points.map((p) => ({ value: [index.get(p.x), p.mean], point: p })),
    });
    const bars = entry.points
      .filter((p) => p.std !== null)
      .map((p) => [index.get(p.x), p.mean - p.std, p.mean + p.std]);
    errorBars += bars.length;
    series.push(errorBarSeries(entry.name, color, bars));
  });
  const chart = initChart(container);
  chart.setOption({
    animation: false,
    title: { text: panel.title, left: 8, top: 4, textStyle: { fontSize: 13 } },
    legend: { top: 26, type: 'scroll' },
    grid: { top: 60, left: 50, right: 16, bottom: 40 },
    tooltip: {
      trigger: 'item',
      formatter: (p) => {
        const point = p.data?.point;
        if (!point) return '';
        const std = point.std === null ? 'n/a' : fmt(point.std);
        return `${p.seriesName}<br>${xName} = ${point.x}<br>${fmt(point.mean)} ± ${std} (n ${point.n}/${point.expectedN})`;
      },
    },
    xAxis: { type: 'category', name: xName, nameLocation: 'middle', nameGap: 24, data: xs.map(String) },
    yAxis: { type: 'value', name: 'top-1 %', scale: true },
    series,
  });
  publish(container, id, {
    kind: dots ? 'dots' : 'line',
    series: panel.series.length,
    points: panel.series.map((s) => s.points.length),
    errorBars,
  });
  return chart;
}

function heatmapChart(container, id, panel, view) {
  const points = panel.series[0]?.points ?? [];
  const sorted = (values) => [...new Set(values)].sort((a, b) => a - b);
  const xs = sorted(points.map((p) => p.x));
  const ys = sorted(points.map((p) => p.y));
  const means = points.map((p) => p.mean);
  const chart = initChart(container);
  chart.setOption({
    animation: false,
    title: { text: panel.title, left: 8, top: 4, textStyle: { fontSize: 13 } },
    grid: { top: 40, left: 60, right: 90, bottom: 40 },
    tooltip: {
      formatter: (p) => {
        const point = p.data.point;
        const std = point.std === null ? 'n/a' : fmt(point.std);
        return `α ${point.x}, β ${point.y}<br>${fmt(point.mean)} ± ${std}`;
      },
    },
    xAxis: { type: 'category', name: view.x, data: xs.map(String) },
    yAxis: { type: 'category', name: view.y, data: ys.map(String) },
    visualMap: {
      min: Math.min(...means),
      max: Math.max(...means),
      calculable: true,
      orient: 'vertical',
      right: 8,
      top: 'middle',
    },
    series: [
      {
        type: 'heatmap',
        label: { show: true, formatter: (p) => fmt(p.data.point.mean) },
        data: points.map((p) => ({ value: [xs.indexOf(p.x), ys.indexOf(p.y), p.mean], point: p })),
      },
    ],
  });
  publish(container, id, { kind: 'heatmap', series: 1, points: [points.length], errorBars: 0 });
  return chart;
}

/** Draws every panel of a view result into `host`, one chart per panel. */
export function renderView(host, view) {
  host.replaceChildren();
  const charts = [];
  view.panels.forEach((panel, i) => {
    const container = document.createElement('div');
    container.className = 'chart';
    host.append(container);
    const id = `${view.view}/${i}`;
    if (view.kind === 'heatmap') charts.push(heatmapChart(container, id, panel, view));
    else charts.push(meanChart(container, id, panel, view.x, view.kind === 'bar'));
  });
  return charts;
}

/** Loss and training accuracy of one trial over its epochs. */
export function renderCurve(container, curve) {
  const chart = initChart(container);
  const epochs = curve.epochs;
  const withAcc = epochs.filter((e) => e.trainAcc !== null);
  chart.setOption(
    {
      animation: false,
      title: { text: `Learning curve of ${curve.trialId}`, left: 8, top: 4, textStyle: { fontSize: 13 } },
      legend: { top: 26 },
      grid: { top: 60, left: 50, right: 50, bottom: 40 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 24, minInterval: 1 },
      yAxis: [
        { type: 'value', name: 'loss', scale: true },
        { type: 'value', name: 'train acc', scale: true },
      ],
      series: [
        { type: 'line', name: 'loss', data: epochs.map((e) => [e.epoch, e.loss]) },
        { type: 'line', name: 'train acc', yAxisIndex: 1, data: withAcc.map((e) => [e.epoch, e.trainAcc]) },
      ],
    },
    true,
  );
  publish(container, 'curve', {
    kind: 'curve',
    series: withAcc.length > 0 ? 2 : 1,
    points: [epochs.length, withAcc.length],
    errorBars: 0,
  });
  return chart;
}

/** One line per finished trial across the swept factors and top-1, colored by top-1. */
export function renderParallel(container, data) {
  const top1 = data.lines.map((line) => line[line.length - 1]);
  const chart = initChart(container);
  chart.setOption(
    {
      animation: false,
      title: {
        text: data.truncated
          ? `${data.lines.length} of ${data.total} finished trials (an evenly spaced sample)`
          : `${data.total} finished trials`,
        left: 8,
        top: 4,
        textStyle: { fontSize: 13 },
      },
      parallel: { left: 60, right: 110, top: 60, bottom: 30 },
      parallelAxis: data.axes.map((axis, dim) =>
        axis.type === 'category'
          ? { dim, name: axis.name, type: 'category', data: axis.values.map(String) }
          : { dim, name: 'top-1 %', type: 'value', scale: true },
      ),
      visualMap: {
        type: 'continuous',
        dimension: data.axes.length - 1,
        min: top1.length > 0 ? Math.min(...top1) : 0,
        max: top1.length > 0 ? Math.max(...top1) : 100,
        calculable: true,
        right: 8,
        top: 'middle',
        inRange: { color: ['#d81159', '#f0a202', '#29a36a'] },
      },
      series: [
        {
          type: 'parallel',
          lineStyle: { width: 1, opacity: 0.6 },
          data: data.lines.map((line) =>
            line.map((value, dim) => (data.axes[dim].type === 'category' ? String(value) : value)),
          ),
        },
      ],
    },
    true,
  );
  container.dataset.axes = String(data.axes.length);
  publish(container, 'parallel', {
    kind: 'parallel',
    series: 1,
    points: [data.lines.length],
    errorBars: 0,
    axes: data.axes.map((axis) => axis.name),
    total: data.total,
    truncated: data.truncated,
  });
  return chart;
}

/** Planned cells colored by the share of their seeds with a result; labels say n/expected. */
export function renderCoverage(container, map) {
  container.style.height = `${Math.max(220, 90 + 28 * map.rows.length)}px`;
  const chart = initChart(container);
  chart.setOption(
    {
      animation: false,
      title: {
        text: `${map.missing} missing and ${map.partial} incomplete of ${map.cells.length} planned cells`,
        left: 8,
        top: 4,
        textStyle: { fontSize: 13 },
      },
      grid: { top: 40, left: 160, right: 90, bottom: 60 },
      tooltip: {
        formatter: (p) => {
          const cell = p.data.cell;
          return `${map.rows[cell.row]} · ${map.columns[cell.column]}<br>${cell.n} of ${cell.expectedN} seeds`;
        },
      },
      xAxis: {
        type: 'category',
        name: map.columnFactors.join(' × '),
        nameLocation: 'middle',
        nameGap: 36,
        data: map.columns,
        axisLabel: { rotate: 30 },
      },
      // Rows read top-down in the server's order, like a table.
      yAxis: { type: 'category', data: map.rows, inverse: true },
      visualMap: {
        min: 0,
        max: 1,
        calculable: false,
        orient: 'vertical',
        right: 8,
        top: 'middle',
        text: ['all seeds', 'none'],
        inRange: { color: ['#d81159', '#f0a202', '#29a36a'] },
      },
      series: [
        {
          type: 'heatmap',
          label: { show: true, formatter: (p) => `${p.data.cell.n}/${p.data.cell.expectedN}` },
          data: map.cells.map((cell) => ({
            value: [cell.column, cell.row, cell.expectedN === 0 ? 0 : cell.n / cell.expectedN],
            cell,
          })),
        },
      ],
    },
    true,
  );
  const missing = map.cells.filter((cell) => cell.n === 0);
  container.dataset.missing = String(missing.length);
  publish(container, 'missing-cells', {
    kind: 'coverage',
    series: 1,
    points: [map.cells.length],
    errorBars: 0,
    rows: map.rows.length,
    columns: map.columns.length,
    missing: missing.map((cell) => `${map.rows[cell.row]} · ${map.columns[cell.column]}`),
    partial: map.cells
      .filter((cell) => cell.n > 0 && cell.n < cell.expectedN)
      .map((cell) => `${map.rows[cell.row]} · ${map.columns[cell.column]}: ${cell.n}/${cell.expectedN}`),
  });
  return chart;
}
