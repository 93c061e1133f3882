// A thin React wrapper over uPlot: created once per options object, data pushed with setData (cheap
// enough to stream live), resized with its container.
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatBytesShort, formatNumber } from '../model/format.js';

/** The theme on <html data-theme>, re-read when it changes (charts take their colours from it). */
function useDocumentTheme(): string | undefined {
  const [theme, setTheme] = useState(() => document.documentElement.dataset.theme);
  useEffect(() => {
    const mo = new MutationObserver(() => setTheme(document.documentElement.dataset.theme));
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => mo.disconnect();
  }, []);
  return theme;
}

/** The options with the axis colours of the current theme: views describe axes, the chart colours them. */
function themed(options: Omit<uPlot.Options, 'width'>): Omit<uPlot.Options, 'width'> {
  const ax = themeAxes();
  return { ...options, axes: options.axes?.map((a) => ({ ...a, stroke: ax.stroke, grid: { ...ax.grid, ...a.grid, stroke: ax.grid.stroke }, ticks: { ...ax.ticks, ...a.ticks, stroke: ax.ticks.stroke } })) };
}

export function Chart({ options, data, testId }: { options: Omit<uPlot.Options, 'width'>; data: uPlot.AlignedData; testId?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dataRef = useRef(data);
  dataRef.current = data;
  const theme = useDocumentTheme();

  useEffect(() => {
    const el = ref.current!;
    const width = Math.max(200, el.clientWidth);
    const u = new uPlot({ ...themed(options), width } as uPlot.Options, dataRef.current, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: options.height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [options, theme]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={ref} data-testid={testId} style={{ width: '100%' }} />;
}

/** Axis and grid colours from the theme's CSS variables. */
function themeAxes(): { stroke: string; grid: { stroke: string; width: number }; ticks: { stroke: string; width: number } } {
  const css = getComputedStyle(document.documentElement.querySelector('.app') ?? document.documentElement);
  const text = css.getPropertyValue('--text-2').trim() || '#999';
  const grid = css.getPropertyValue('--border').trim() || '#333';
  return { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
}

export const SERIES_COLORS = ['#5b8cff', '#f2b33d', '#34c77b', '#f0616d', '#a855f7', '#2bb3c0', '#ec4899', '#84cc16', '#f97316', '#64748b'];

/**
 * Tick labels for a log scale: only exact powers of `base` get a label (minor ticks stay unlabelled),
 * and of those every k-th, so that at most `most` labels share the axis.
 */
export function logTicks(fmt: (x: number) => string, base = 10, most = 6): (u: unknown, v: number[]) => string[] {
  return (_u, v) => {
    const exps = v.map((x) => (x > 0 ? Math.log(x) / Math.log(base) : NaN));
    const exact = exps.map((e) => Number.isFinite(e) && Math.abs(e - Math.round(e)) < 1e-9);
    const stride = Math.max(1, Math.ceil(exact.filter(Boolean).length / most));
    return v.map((x, i) => (exact[i] && Math.round(exps[i]!) % stride === 0 ? fmt(x) : ''));
  };
}

/** Tick steps for a linear byte axis: powers of two of each binary unit, so labels read 256K, 512K, 1M. */
export const BYTE_INCRS = [0, 1, 2, 3, 4].flatMap((k) => [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((m) => m * 1024 ** k));

/** A linear byte axis: binary steps, short binary labels. */
export function byteAxis(): uPlot.Axis {
  return { size: 60, incrs: BYTE_INCRS, values: (_u: uPlot, v: number[]) => v.map((x) => formatBytesShort(x)) };
}

/** A count such as a sequence length: 1024 → "1K", 1000 → "1000", exact where it is an integer. */
export function formatCount(x: number): string {
  if (Number.isInteger(x) && x !== 0 && x % 1024 === 0) return `${x / 1024}K`;
  if (Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  return formatNumber(x, 3);
}
