// A record's signal, drawn by uPlot on a canvas: each point's minimum-to-maximum as a band (or,
// sample by sample, a line) over the range the viewer asked for. Dragging across it selects a
// stretch to zoom to and shift-dragging moves it; both are handed to the viewer in pixels, which
// reads the new range. Loaded on its own (import() from the viewer), with uPlot.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Range } from "./record-logic";
import { chartColours, useThemeKey } from "./SensorChart";

export interface SignalChartProps {
  columns: [number[], ...(number | null)[][]]; // seconds, then min and max (or the values)
  envelope: boolean; // min and max as a band; false: one line of samples
  unit: string;
  range: Range; // epoch ms: the x axis
  description: string; // the canvas's text alternative
  onSelect: (left: number, right: number, width: number) => void; // a dragged stretch, in px
  onDrag: (dx: number, width: number) => void; // a shift-drag, in px
}

const height = 300;

export default function SignalChart(props: SignalChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const theme = useThemeKey();
  const { envelope, unit } = props;

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const c = chartColours();
    const axis = { stroke: c.fg, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 } };
    const label = (what: string) => (unit ? `${what} (${unit})` : what);
    const series: uPlot.Series[] = envelope
      ? [{}, { label: label("Minimum"), stroke: c.value, width: 1 }, { label: label("Maximum"), stroke: c.value, width: 1 }]
      : [{}, { label: label("Value"), stroke: c.value, width: 1.5 }];
    const plotWidth = (u: uPlot) => u.over.getBoundingClientRect().width;
    const u = new uPlot(
      {
        width: Math.max(el.clientWidth, 300),
        height,
        series,
        ...(envelope ? { bands: [{ series: [2, 1], fill: c.band }] } : {}),
        axes: [{ ...axis }, { ...axis, label: unit || undefined, size: 70 }],
        scales: {
          x: { time: true, auto: true, range: () => [latest.current.range.from / 1000, latest.current.range.to / 1000] },
        },
        cursor: { drag: { x: true, y: false, setScale: false } },
        legend: { live: true },
        hooks: {
          setSelect: [
            (p) => {
              const { left, width } = p.select;
              if (width > 3) latest.current.onSelect(left, left + width, plotWidth(p));
              p.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            },
          ],
        },
      },
      latest.current.columns as uPlot.AlignedData,
      el,
    );
    plot.current = u;
    const wrap = u.root.querySelector(".u-wrap");
    wrap?.setAttribute("role", "img");
    wrap?.setAttribute("aria-label", latest.current.description);
    // Shift-drag moves the range: taken before uPlot starts a selection.
    const down = (e: MouseEvent) => {
      if (!e.shiftKey || e.button !== 0) return;
      e.stopPropagation();
      e.preventDefault();
      const x0 = e.clientX;
      const up = (ev: MouseEvent) => {
        removeEventListener("mouseup", up);
        if (Math.abs(ev.clientX - x0) > 2) latest.current.onDrag(ev.clientX - x0, plotWidth(u));
      };
      addEventListener("mouseup", up);
    };
    u.over.parentElement?.addEventListener("mousedown", down, true);
    const resize = new ResizeObserver(() => {
      const w = Math.max(el.clientWidth, 300);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [envelope, unit, theme]);

  useEffect(() => {
    plot.current?.setData(props.columns as uPlot.AlignedData);
  }, [props.columns]);
  useEffect(() => {
    plot.current?.root.querySelector(".u-wrap")?.setAttribute("aria-label", props.description);
  }, [props.description]);

  return <div class="chart signal-chart" ref={box} />;
}
