// A thin React wrapper over uPlot: created once per options object, data pushed with setData (cheap
// enough to stream live), resized with its container.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export function Chart({ options, data, testId }: { options: Omit<uPlot.Options, 'width'>; data: uPlot.AlignedData; testId?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    const el = ref.current!;
    const width = Math.max(200, el.clientWidth);
    const u = new uPlot({ ...options, width } as uPlot.Options, dataRef.current, el);
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
  }, [options]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={ref} data-testid={testId} style={{ width: '100%' }} />;
}

/** Axis and grid colours from the theme's CSS variables. */
export function themeAxes(): { stroke: string; grid: { stroke: string; width: number }; ticks: { stroke: string; width: number } } {
  const css = getComputedStyle(document.documentElement.querySelector('.app') ?? document.documentElement);
  const text = css.getPropertyValue('--text-2').trim() || '#999';
  const grid = css.getPropertyValue('--border').trim() || '#333';
  return { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
}

export const SERIES_COLORS = ['#5b8cff', '#f2b33d', '#34c77b', '#f0616d', '#a855f7', '#2bb3c0', '#ec4899', '#84cc16', '#f97316', '#64748b'];

/** Tick labels for a log scale: only the powers of ten get a label (the minor ticks stay unlabelled). */
export function logTicks(fmt: (x: number) => string): (u: unknown, v: number[]) => string[] {
  return (_u, v) =>
    v.map((x) => {
      if (!(x > 0)) return '';
      const e = Math.log10(x);
      return Math.abs(e - Math.round(e)) < 1e-9 ? fmt(x) : '';
    });
}
