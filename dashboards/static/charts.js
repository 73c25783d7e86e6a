// Charts of the dashboard, drawn with ECharts. Each chart publishes what it rendered (series and point counts) on its
// container's data attributes and in window.__charts, so end-to-end tests can check the drawing, not just the data.
import * as echarts from '/vendor/echarts.js';

// One colour per method, indexed by the method's place in the paper's order (the sweep API's `methodOrder`), so a
// method keeps its colour on every chart and page. Mostly Okabe-Ito hues, kept apart from each other.
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#8e44ad', '#d62728', '#56b4e9', '#8c6d31', '#5c6b73'];
// Series of one method with other settings (dpt cavptLength=3, =6) keep its hue and differ by shade and dash.
const LINE_TYPES = ['solid', 'dashed', 'dotted', [8, 3, 2, 3]];
const SYMBOLS = ['circle', 'triangle', 'rect', 'diamond', 'pin', 'arrow'];
window.__charts = window.__charts ?? {};

const fmt = (value) => (typeof value === 'number' ? Number(value.toPrecision(4)) : value);

function publish(container, id, state) {
  container.dataset.chartId = id;
  container.dataset.series = String(state.series);
  container.dataset.points = String(state.points.reduce((sum, n) => sum + n, 0));
  container.dataset.errorBars = String(state.errorBars);
  window.__charts[id] = state;
}

/** How each drawn chart lays itself out again at a new width (setWithBottomLegend's charts re-measure the legend). */
const relayouts = new Map();
let resizeTimer;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  // After the window settles: one layout per chart, not one per resize event.
  resizeTimer = setTimeout(() => {
    for (const [container, relayout] of relayouts) {
      if (container.isConnected) relayout();
      else relayouts.delete(container);
    }
  }, 150);
});

/** A chart whose container says data-rendered="true" once ECharts finished drawing, and that follows the window. */
function initChart(container) {
  const existing = echarts.getInstanceByDom(container);
  if (existing) return existing;
  const chart = echarts.init(container);
  chart.on('finished', () => {
    container.dataset.rendered = 'true';
  });
  relayouts.set(container, () => chart.resize());
  return chart;
}

/** `#rrggbb` mixed with white (amount > 0) or black (amount < 0). */
function shade(hex, amount) {
  const channels = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  const target = amount > 0 ? 255 : 0;
  const mixed = channels.map((c) => Math.round(c + (target - c) * Math.abs(amount)));
  return `#${mixed.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Colours and dashes for the series of a view. `methodOrder` is the paper's order from the sweep API; methods it does
 * not list come after, in the order they appear. Variants of one method are numbered in the order the API sorted them.
 */
export function seriesStyler(methodOrder, allSeries) {
  const order = [...(methodOrder ?? [])];
  const variants = new Map();
  for (const series of allSeries) {
    const method = methodOf(series);
    if (!order.includes(method)) order.push(method);
    const names = variants.get(method) ?? [];
    if (!names.includes(series.name)) names.push(series.name);
    variants.set(method, names);
  }
  return (series) => {
    const method = methodOf(series);
    const base = PALETTE[order.indexOf(method) % PALETTE.length];
    const variant = Math.max(0, (variants.get(method) ?? []).indexOf(series.name));
    // Alternate darker and lighter shades so neighbouring variants stay apart: 0, -0.35, +0.35, -0.55, +0.5...
    const amount = variant === 0 ? 0 : (variant % 2 === 1 ? -1 : 1) * Math.min(0.55, 0.25 + 0.1 * variant);
    return {
      method,
      rank: order.indexOf(method),
      variant,
      color: shade(base, amount),
      lineType: LINE_TYPES[variant % LINE_TYPES.length],
      symbol: SYMBOLS[variant % SYMBOLS.length],
    };
  };
}

/** The series' method: the API's `method`, else the first word of its name (older servers). */
function methodOf(series) {
  if (typeof series.method === 'string') return series.method;
  return String(series.name).split(' ')[0];
}

/** The rectangle a component's view drew, in chart pixels, or null when it drew nothing. */
function componentRect(chart, mainType, index = 0) {
  const model = chart.getModel().getComponent(mainType, index);
  if (!model) return null;
  const view = chart.getViewOfComponentModel(model);
  if (!view?.group) return null;
  view.group.updateTransform?.();
  const rect = view.group.getBoundingRect();
  if (!(rect.width > 0 && rect.height > 0)) return null;
  const box = rect.clone();
  if (view.group.transform) box.applyTransform(view.group.transform);
  return box;
}

const intersects = (a, b) =>
  a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;

/**
 * Whether the drawn legend overlaps the plot area, the axes (their labels and names) or the title: measured on what
 * ECharts laid out, not on the options. Null when there is nothing to measure.
 */
function legendOverlap(chart) {
  const legend = componentRect(chart, 'legend');
  if (legend === null) return null;
  const others = [];
  const grid = chart.getModel().getComponent('grid');
  const gridRect = grid?.coordinateSystem?.getRect?.();
  if (gridRect) others.push(gridRect);
  for (const type of ['xAxis', 'yAxis', 'title']) {
    const models = chart.getModel().queryComponents({ mainType: type });
    models.forEach((_, i) => {
      const rect = componentRect(chart, type, i);
      if (rect) others.push(rect);
    });
  }
  return others.some((rect) => intersects(legend, rect));
}

/** The measured legend overlap of the chart drawn in `container` (null without a chart or a legend). */
export function legendOverlapOf(container) {
  const chart = echarts.getInstanceByDom(container);
  return chart ? legendOverlap(chart) : null;
}

/** Legend rows as laid out (a plain legend wraps); 0 without a legend. */
function legendHeight(chart) {
  return componentRect(chart, 'legend')?.height ?? 0;
}

const PLOT_HEIGHT = 230;
const TITLE_SPACE = 34;
const AXIS_SPACE = 48; // x labels plus the x-axis name under the grid

/** Measured legend heights by container width and legend entries: panels of one view share them. */
const legendHeights = new Map();

/**
 * Sets `option` with its legend below the axes: draws once, measures how many rows the legend wrapped into, then
 * grows the container and the grid's bottom margin by exactly that, so the legend never covers the plot or the axis
 * titles and needs no paging. A legend already measured at this width with these entries is laid out in one draw:
 * the panels of a view repeat one legend, and three draws per chart were most of a sweep page's time.
 */
function setWithBottomLegend(container, chart, option) {
  relayouts.set(container, () => {
    chart.resize();
    setWithBottomLegend(container, chart, option);
  });
  const entries = (option.legend?.data ?? []).map((entry) => entry?.name ?? entry);
  const key = `${container.clientWidth}|${JSON.stringify(entries)}`;
  const sized = (legend) => {
    const bottom = AXIS_SPACE + (legend > 0 ? legend + 12 : 0);
    const height = TITLE_SPACE + PLOT_HEIGHT + bottom;
    if (Math.abs(container.clientHeight - height) > 1) {
      container.style.height = `${height}px`;
      chart.resize();
    }
    return bottom;
  };
  const known = legendHeights.get(key);
  if (known !== undefined) {
    const bottom = sized(known);
    chart.setOption({ ...option, grid: { ...option.grid, top: TITLE_SPACE, bottom } }, true);
  } else {
    chart.setOption({ ...option, grid: { ...option.grid, top: TITLE_SPACE, bottom: AXIS_SPACE } }, true);
    const legend = legendHeight(chart);
    legendHeights.set(key, legend);
    chart.setOption({ grid: { top: TITLE_SPACE, bottom: sized(legend) } });
  }
  const overlap = legendOverlap(chart);
  if (overlap !== null) container.dataset.legendOverlap = String(overlap);
  else delete container.dataset.legendOverlap;
  return overlap;
}

/** A y range {min, max} holding every mean ± std of the given panels, on round numbers. */
export function sharedRange(panels) {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const panel of panels) {
    for (const series of panel?.series ?? []) {
      for (const p of series.points) {
        if (p.x === null || p.x === undefined) continue;
        low = Math.min(low, p.mean - (p.std ?? 0));
        high = Math.max(high, p.mean + (p.std ?? 0));
      }
    }
  }
  if (!Number.isFinite(low)) return undefined;
  const step = high - low > 20 ? 10 : 5;
  return { min: Math.floor(low / step) * step, max: Math.ceil(high / step) * step };
}

/** Whiskers of mean ± std at category index x, as an ECharts custom series. */
function errorBarSeries(name, color, bars, offset) {
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
      // A std of 0 (every seed scored the same) has no whisker to draw, only two caps on the point.
      if (Math.abs(bottom[1] - top[1]) < 0.5) return null;
      const x = top[0] + offset;
      const cap = 4;
      const style = { stroke: color, lineWidth: 1.5 };
      return {
        type: 'group',
        children: [
          { type: 'line', shape: { x1: x, y1: top[1], x2: x, y2: bottom[1] }, style },
          { type: 'line', shape: { x1: x - cap, y1: top[1], x2: x + cap, y2: top[1] }, style },
          { type: 'line', shape: { x1: x - cap, y1: bottom[1], x2: x + cap, y2: bottom[1] }, style },
        ],
      };
    },
  };
}

const compareX = (a, b) =>
  typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b), 'en', { numeric: true });

/** Line (or dot) chart of mean ± std per series over a categorical x axis. */
function meanChart(container, id, panel, xName, dots, style, yRange) {
  // A point without an x value belongs to no category of this view (a server that still sends them).
  const panelSeries = panel.series
    .map((entry) => ({ ...entry, points: entry.points.filter((p) => p.x !== null && p.x !== undefined) }))
    .filter((entry) => entry.points.length > 0);
  const xs = [];
  for (const series of panelSeries) for (const p of series.points) if (!xs.includes(p.x)) xs.push(p.x);
  // Base, novel, HM read in the order the server sends them; every other axis is sorted.
  if (xName !== 'classSubset') xs.sort(compareX);
  const index = new Map(xs.map((x, i) => [x, i]));
  // Methods in the paper's order, variants after their method: the legend reads like the tables.
  const styled = panelSeries
    .map((entry, i) => ({ entry, style: style(entry), i }))
    .sort((a, b) => a.style.rank - b.style.rank || a.i - b.i);
  const series = [];
  let errorBars = 0;
  // Whiskers of series sharing an x are spread a little so they do not hide each other.
  const spread = (k) => (styled.length <= 1 ? 0 : (k - (styled.length - 1) / 2) * Math.min(4, 24 / styled.length));
  styled.forEach(({ entry, style: look }, k) => {
    series.push({
      type: dots ? 'scatter' : 'line',
      name: entry.name,
      color: look.color,
      symbol: look.symbol,
      symbolSize: 7,
      lineStyle: { type: look.lineType, width: 2 },
      z: 4,
      data: entry.points.map((p) => ({ value: [index.get(p.x), p.mean], point: p })),
    });
    const bars = entry.points
      .filter((p) => p.std !== null)
      .map((p) => [index.get(p.x), p.mean - p.std, p.mean + p.std]);
    errorBars += bars.length;
    series.push(errorBarSeries(entry.name, look.color, bars, spread(k)));
  });
  const chart = initChart(container);
  const overlap = setWithBottomLegend(container, chart, {
    animation: false,
    title: { text: panel.title, left: 8, top: 6, textStyle: { fontSize: 13 } },
    legend: {
      type: 'plain',
      bottom: 6,
      left: 10,
      right: 10,
      itemGap: 12,
      data: styled.map(({ entry, style: look }) => ({
        name: entry.name,
        itemStyle: { color: look.color },
        lineStyle: { color: look.color, type: look.lineType },
      })),
    },
    grid: { left: 56, right: 20, containLabel: false },
    tooltip: {
      trigger: 'item',
      formatter: (p) => {
        const point = p.data?.point;
        if (!point) return '';
        const std = point.std === null ? 'n/a' : fmt(point.std);
        return `${p.seriesName}<br>${xName} = ${point.x}<br>${fmt(point.mean)} ± ${std} (n ${point.n}/${point.expectedN})`;
      },
    },
    xAxis: { type: 'category', name: xName, nameLocation: 'middle', nameGap: 26, data: xs.map(String) },
    yAxis: {
      type: 'value',
      name: 'top-1 %',
      nameLocation: 'middle',
      nameGap: 38,
      scale: true,
      ...(yRange ? { min: yRange.min, max: yRange.max } : {}),
    },
    series,
  });
  publish(container, id, {
    kind: dots ? 'dots' : 'line',
    series: panelSeries.length,
    points: panelSeries.map((s) => s.points.length),
    errorBars,
    names: styled.map(({ entry }) => entry.name),
    colors: styled.map(({ style: look }) => look.color),
    categories: xs,
    legendOverlap: overlap,
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

/**
 * Draws every panel of a view result into `host`, one chart per panel. `options.methodOrder` fixes the colours;
 * `options.idPrefix` keeps chart ids unique when several sweeps' views share a page; `options.hostFor(i)` places
 * panel i elsewhere than `host`, and `options.yRanges[i]` ({min, max}) gives panel i a fixed y range, so charts of
 * different sweeps shown side by side read on one scale.
 */
export function renderView(host, view, options = {}) {
  if (!options.hostFor) host.replaceChildren();
  const charts = [];
  const style = seriesStyler(
    options.methodOrder,
    view.panels.flatMap((panel) => panel.series),
  );
  view.panels.forEach((panel, i) => {
    const container = document.createElement('div');
    container.className = 'chart';
    (options.hostFor ? options.hostFor(i) : host).append(container);
    const id = `${options.idPrefix ?? ''}${view.view}/${i}`;
    if (view.kind === 'heatmap') charts.push(heatmapChart(container, id, panel, view));
    else charts.push(meanChart(container, id, panel, view.x, view.kind === 'bar', style, options.yRanges?.[i]));
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

const present = (curve, key) => curve.some((e) => e[key] !== null && e[key] !== undefined);
const pairs = (curve, key) =>
  curve.filter((e) => e[key] !== null && e[key] !== undefined).map((e) => [e.epoch, e[key]]);

/**
 * A trial's loss terms (left axis) and training accuracy (right axis) over its epochs, with the epoch its checkpoint
 * was taken at marked. `curve` is the trial API's `curve` list.
 */
export function renderTrialLoss(container, trialId, curve, checkpointEpoch) {
  const chart = initChart(container);
  const lines = [
    ['loss', 'loss', 0, 'solid'],
    ['lossMain', 'loss (main)', 0, 'dashed'],
    ['lossCavpt', 'loss (CAVPT)', 0, 'dotted'],
    ['trainAcc', 'train acc', 1, 'solid'],
  ].filter(([key]) => present(curve, key));
  const colors = { loss: '#0072b2', lossMain: '#56b4e9', lossCavpt: '#8c6d31', trainAcc: '#d55e00' };
  const series = lines.map(([key, name, axis, type]) => ({
    type: 'line',
    name,
    yAxisIndex: axis,
    color: colors[key],
    lineStyle: { type },
    showSymbol: curve.length <= 40,
    data: pairs(curve, key),
  }));
  // The checkpoint is a legend entry of its own: a label on the line would sit on the right axis when the checkpoint
  // is the last epoch, as it usually is.
  if (checkpointEpoch !== null && checkpointEpoch !== undefined && series.length > 0) {
    series.push({
      type: 'line',
      name: `checkpoint (epoch ${checkpointEpoch})`,
      color: '#5c6b73',
      lineStyle: { type: 'dashed' },
      showSymbol: false,
      data: [],
      markLine: {
        symbol: 'none',
        silent: true,
        label: { show: false },
        lineStyle: { color: '#5c6b73', type: 'dashed', width: 1.5 },
        data: [{ xAxis: checkpointEpoch }],
      },
    });
  }
  const overlap = setWithBottomLegend(container, chart, {
    animation: false,
    title: { text: 'Loss and training accuracy', left: 8, top: 6, textStyle: { fontSize: 13 } },
    legend: { type: 'plain', bottom: 6, left: 10, right: 10 },
    grid: { left: 56, right: 56 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
    yAxis: [
      { type: 'value', name: 'loss', nameLocation: 'middle', nameGap: 40, scale: true },
      {
        type: 'value',
        name: 'train acc',
        nameLocation: 'middle',
        nameGap: 40,
        scale: true,
        splitLine: { show: false },
      },
    ],
    series,
  });
  publish(container, `trial-loss/${trialId}`, {
    kind: 'trial-loss',
    series: lines.length,
    points: lines.map(([key]) => pairs(curve, key).length),
    errorBars: 0,
    legendOverlap: overlap,
  });
  return chart;
}

/** The visual and text learning rates of a trial over its epochs. */
export function renderTrialLr(container, trialId, curve) {
  const chart = initChart(container);
  const lines = [
    ['lrVisual', 'lr (visual prompts)', '#009e73', 'solid'],
    ['lrText', 'lr (text prompts)', '#cc79a7', 'dashed'],
  ].filter(([key]) => present(curve, key));
  const series = lines.map(([key, name, color, type]) => ({
    type: 'line',
    name,
    color,
    lineStyle: { type },
    showSymbol: curve.length <= 40,
    data: pairs(curve, key),
  }));
  const overlap = setWithBottomLegend(container, chart, {
    animation: false,
    title: { text: 'Learning rates', left: 8, top: 6, textStyle: { fontSize: 13 } },
    legend: { type: 'plain', bottom: 6, left: 10, right: 10 },
    grid: { left: 70, right: 20 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
    yAxis: {
      type: 'value',
      name: 'learning rate',
      nameLocation: 'middle',
      nameGap: 56,
      scale: true,
      axisLabel: { formatter: (v) => Number(v.toPrecision(3)).toExponential(1) },
    },
    series,
  });
  publish(container, `trial-lr/${trialId}`, {
    kind: 'trial-lr',
    series: series.length,
    points: lines.map(([key]) => pairs(curve, key).length),
    errorBars: 0,
    legendOverlap: overlap,
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
