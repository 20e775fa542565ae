// A sensor's chart, drawn by uPlot on a canvas: the value on the left axis, the level in percent
// of the baseline on the right one with the detector's warning and critical bands behind it, and
// a vertical line per detector alarm. Loaded on its own (import() from the sensor page) so the
// console's first load does not carry uPlot. Colours come from the theme's custom properties and
// follow a change of theme. New data (live points) is set on the same chart, not a new one.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { type LevelPoint, type Marker, chartData, markerLevel, percentTop, thresholdBands } from "./sensor-logic";

export interface ChartProps {
  points: readonly LevelPoint[];
  withLevels: boolean; // false for buckets: no percent line, no bands
  unit: string;
  valueLabel: string; // "Value", "Average per 1h", …
  detector: { warn_percent: number; critical_percent: number };
  markers: readonly Marker[];
  description: string; // the canvas's text alternative
}

export interface Colours {
  fg: string;
  grid: string;
  value: string;
  percent: string;
  warning: string;
  critical: string;
  warningBand: string;
  criticalBand: string;
  band: string; // a record signal's min-max envelope
}

// The theme's colours, for the canvas (uPlot draws with these, not with CSS).
export function chartColours(): Colours {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    fg: v("--fg"),
    grid: v("--border"),
    value: v("--accent"),
    percent: v("--level-line"),
    warning: v("--warning"),
    critical: v("--error"),
    warningBand: v("--band-warning"),
    criticalBand: v("--band-critical"),
    band: v("--band-signal"),
  };
}

// The theme as set on <html data-theme>, re-read when it changes.
export function useThemeKey(): string {
  const [theme, setTheme] = useState(document.documentElement.dataset.theme ?? "");
  useEffect(() => {
    const o = new MutationObserver(() => setTheme(document.documentElement.dataset.theme ?? ""));
    o.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => o.disconnect();
  }, []);
  return theme;
}

export default function SensorChart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // What the draw hooks read: always the latest props.
  const latest = useRef(props);
  latest.current = props;
  const theme = useThemeKey();
  const { withLevels, unit, valueLabel } = props;

  // A new chart when what its axes and series are changes; else only new data.
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const c = chartColours();
    const dpr = () => devicePixelRatio || 1;
    const axis = { stroke: c.fg, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 } };
    const series: uPlot.Series[] = [
      {},
      { label: unit ? `${valueLabel} (${unit})` : valueLabel, stroke: c.value, width: 1.5, scale: "y" },
    ];
    const axes: uPlot.Axis[] = [{ ...axis }, { ...axis, scale: "y", label: unit || undefined, size: 60 }];
    if (withLevels) {
      series.push({
        label: "Level (% of baseline)",
        stroke: c.percent,
        width: 1.5,
        scale: "pct",
        value: (_u, v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)} %`),
      });
      axes.push({ ...axis, scale: "pct", side: 1, label: "% of baseline", size: 60, grid: { show: false } });
    }
    const drawBands = (u: uPlot) => {
      const p = latest.current;
      if (!p.withLevels) return;
      const top = percentTop(p.points, p.detector);
      const { ctx, bbox } = u;
      ctx.save();
      for (const b of thresholdBands(p.detector, top)) {
        const y1 = u.valToPos(b.to, "pct", true);
        const y0 = u.valToPos(b.from, "pct", true);
        ctx.fillStyle = b.level === "warning" ? c.warningBand : c.criticalBand;
        ctx.fillRect(bbox.left, y1, bbox.width, y0 - y1);
      }
      ctx.restore();
    };
    const drawMarkers = (u: uPlot) => {
      const { ctx, bbox } = u;
      ctx.save();
      for (const m of latest.current.markers) {
        const x = Math.round(u.valToPos(m.t / 1000, "x", true));
        if (x < bbox.left || x > bbox.left + bbox.width) continue;
        ctx.strokeStyle = ctx.fillStyle = markerLevel(m.severity) === "critical" ? c.critical : c.warning;
        ctx.lineWidth = 2 * dpr();
        ctx.setLineDash([]);
        ctx.beginPath();
        ctx.moveTo(x, bbox.top);
        ctx.lineTo(x, bbox.top + bbox.height);
        ctx.stroke();
        const s = 6 * dpr(); // a triangle at the top
        ctx.beginPath();
        ctx.moveTo(x - s, bbox.top);
        ctx.lineTo(x + s, bbox.top);
        ctx.lineTo(x, bbox.top + s * 1.5);
        ctx.fill();
      }
      ctx.restore();
    };
    const u = new uPlot(
      {
        width: Math.max(el.clientWidth, 300),
        height: 320,
        series,
        axes,
        scales: {
          x: { time: true },
          pct: { range: () => [0, percentTop(latest.current.points, latest.current.detector)] },
        },
        legend: { live: true },
        hooks: { drawClear: [drawBands], draw: [drawMarkers] },
      },
      data(latest.current),
      el,
    );
    plot.current = u;
    // The drawing is an image with a text alternative; the legend below it stays a table.
    const wrap = u.root.querySelector(".u-wrap");
    wrap?.setAttribute("role", "img");
    wrap?.setAttribute("aria-label", latest.current.description);
    const resize = new ResizeObserver(() => {
      const w = Math.max(el.clientWidth, 300);
      if (w !== u.width) u.setSize({ width: w, height: 320 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [withLevels, unit, valueLabel, theme]);

  // New points, markers or thresholds: the same chart, new data (and a redraw of bands and
  // markers, which setData does).
  useEffect(() => {
    plot.current?.setData(data(props));
  }, [props.points, props.markers, props.detector]);
  useEffect(() => {
    plot.current?.root.querySelector(".u-wrap")?.setAttribute("aria-label", props.description);
  }, [props.description]);

  return <div class="chart" ref={box} />;
}

function data(p: ChartProps): uPlot.AlignedData {
  const [xs, values, percents] = chartData(p.points);
  return p.withLevels ? [xs, values, percents] : [xs, values];
}
