// Figures from every benchmark: printed as a table, optionally written as JSON records
// `{ name, value, unit }` so anyone can track them from one command.

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

export class Figures {
  readonly all: Figure[] = [];

  add(name: string, value: number, unit: string): void {
    this.all.push({ name, value, unit });
    const shown =
      Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3);
    process.stdout.write(`  ${name.padEnd(64)} ${shown.padStart(12)} ${unit}\n`);
  }
}

export { percentile, sortNumbers } from '../src/util/percentile.js';
