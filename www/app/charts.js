// app/charts.js: charts for the dashboards — a time series (uPlot, bars or
// lines, resized with its card) and a ranked bar list (plain HTML, so it
// reads well at any size and with a screen reader).
import { html, useEffect, useRef, uPlot } from './deps.js';
import { useTheme, themeColor } from './theme.js';

// The axes in the current theme's colours (a canvas reads no CSS).
const axis = () => ({
  stroke: themeColor('--chart-axis') || '#64748b',
  font: '12px Inter, system-ui, sans-serif',
  grid: { stroke: themeColor('--chart-grid') || '#edf0f5', width: 1 },
  ticks: { show: false },
});

// x: unix seconds; series: [{ label, values, color, bars }]; fmt formats y values.
// The legend shows the value under the cursor, and each series' total over
// the range while the cursor is elsewhere.
export function TimeChart({ x, series, height = 240, fmt = String, label, step = 86400 }) {
  const ref = useRef(null);
  const theme = useTheme();
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const width = Math.max(280, el.clientWidth);
    const opts = {
      width,
      height,
      padding: [12, 8, 0, 0],
      legend: { show: true, live: true },
      cursor: { points: { size: 7 }, drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.12 : 1] } },
      axes: [
        { ...axis(), space: 60, values: step >= 86400 ? '{MMM} {D}' : '{HH}:{mm}' },
        { ...axis(), size: 64, values: (u, vals) => vals.map((v) => fmt(v)) },
      ],
      series: [
        { value: (u, v) => (v == null ? '' : new Date(v * 1000).toLocaleString('en-US', step >= 86400
          ? { month: 'short', day: 'numeric' } : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.bars ? 0 : 2,
          fill: s.bars ? s.color : `${s.color}1f`,
          paths: s.bars ? uPlot.paths.bars({ size: [0.62, 36], radius: 0.25 }) : undefined,
          points: { show: !s.bars && x.length <= 14, size: 5, fill: themeColor('--surface') || '#fff' },
          value: (u, v, si, idx) => (idx == null
            ? `${fmt(s.values.reduce((a, n) => a + (Number(n) || 0), 0))} total` : v == null ? '—' : fmt(v)),
        })),
      ],
    };
    const u = new uPlot(opts, [x, ...series.map((s) => s.values)], el);
    const ro = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); };
  }, [x, series, height, theme]);
  return html`<div class="chart" ref=${ref} role="img" aria-label=${label}></div>`;
}

// rows: [{ label, sub, value, display }] — bars scaled to the largest value.
export function BarList({ rows, color = 'indigo', valueLabel }) {
  const max = Math.max(0, ...rows.map((r) => Number(r.value) || 0));
  return html`<ol class="barlist" aria-label=${valueLabel}>
    ${rows.map((r, i) => html`<li key=${r.key || i}>
      <div class="barlist-row">
        <span class="barlist-label" title=${r.label}>${r.label}${r.sub && html`<small>${r.sub}</small>`}</span>
        <span class="barlist-value">${r.display}</span>
      </div>
      <div class="barlist-track"><div class=${`barlist-bar bar-${color}`}
        style=${`width:${max > 0 ? Math.max(2, (100 * (Number(r.value) || 0)) / max) : 0}%`}></div></div>
    </li>`)}
  </ol>`;
}
