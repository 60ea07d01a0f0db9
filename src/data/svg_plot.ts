import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomicAsync } from '../util/atomic_file.js';

// Line plots as SVG files, through Vega-Lite (rendered headless, no browser or canvas): one panel
// per quantity, one line per series, a shared time axis; the file is replaced atomically
// (src/util/atomic_file.ts), so a reader never finds half a plot.

export interface Series {
  readonly name: string;
  readonly t: ArrayLike<number>;
  readonly y: ArrayLike<number>;
}

export interface Panel {
  readonly title: string;
  readonly series: readonly Series[];
}

export interface PlotOptions {
  readonly title: string;
  readonly xTitle: string;
  readonly width?: number;
  readonly panelHeight?: number;
}

export function linePlotSpec(panels: readonly Panel[], options: PlotOptions): TopLevelSpec {
  const values: { panel: string; series: string; t: number; y: number }[] = [];
  for (const panel of panels) {
    for (const s of panel.series) {
      for (let i = 0; i < s.t.length; i++) {
        const y = s.y[i]!;
        if (Number.isFinite(y)) values.push({ panel: panel.title, series: s.name, t: s.t[i]!, y });
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    data: { values },
    facet: { row: { field: 'panel', type: 'nominal', title: null, sort: panels.map((p) => p.title) } },
    spec: {
      width: options.width ?? 760,
      height: options.panelHeight ?? 150,
      mark: { type: 'line', strokeWidth: 1.2, interpolate: 'linear' },
      encoding: {
        x: { field: 't', type: 'quantitative', title: options.xTitle },
        y: { field: 'y', type: 'quantitative', title: null },
        color: { field: 'series', type: 'nominal', title: null },
      },
    },
    resolve: { scale: { y: 'independent', color: 'independent' } },
  };
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Render the panels and write the SVG file (folders made as needed, the file replaced atomically). */
export async function writeLinePlot(path: string, panels: readonly Panel[], options: PlotOptions): Promise<void> {
  const svg = await renderSvg(linePlotSpec(panels, options));
  await writeFileAtomicAsync(path, svg);
}
