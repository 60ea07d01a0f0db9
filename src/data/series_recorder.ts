import { writeFileAtomicAsync } from '../util/atomic_file.js';

// Time series kept in memory for a plot or CSV: named series of (t, y), each thinned to at most
// `maxPoints` by keeping every k-th sample when written. The CSV file is replaced atomically
// (src/util/atomic_file.ts).

export class SeriesRecorder {
  readonly #series = new Map<string, { t: number[]; y: number[] }>();

  constructor(readonly maxPoints = 4000) {}

  add(name: string, t: number, y: number): void {
    let s = this.#series.get(name);
    if (!s) this.#series.set(name, (s = { t: [], y: [] }));
    s.t.push(t);
    s.y.push(y);
  }

  names(): string[] {
    return [...this.#series.keys()];
  }

  get(name: string): { t: number[]; y: number[] } {
    const s = this.#series.get(name) ?? { t: [], y: [] };
    const k = Math.ceil(s.t.length / this.maxPoints);
    if (k <= 1) return s;
    return { t: s.t.filter((_, i) => i % k === 0), y: s.y.filter((_, i) => i % k === 0) };
  }

  /** Long-format CSV: series,t,y — every sample, not thinned. */
  csv(): string {
    const lines = ['series,t,y'];
    for (const [name, s] of this.#series)
      for (let i = 0; i < s.t.length; i++) lines.push(`${name},${s.t[i]},${s.y[i]}`);
    return lines.join('\n') + '\n';
  }

  /** Write csv() to `path` (folders made as needed, the file replaced atomically). */
  writeCsv(path: string): Promise<void> {
    return writeFileAtomicAsync(path, this.csv());
  }
}
