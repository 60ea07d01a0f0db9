// Running statistics of a filter's position innovations: the size of the surprise (mean and
// largest |ν|) and its consistency (mean normalised innovation squared, NIS = νᵀS⁻¹ν, which is
// about the measurement's dimension — 1 for a position, 2 with a velocity — when q and r
// describe the data: above it the filter is overconfident (q or r too small), below it too
// cautious).

export class InnovationStats {
  count = 0;
  sumAbs = 0;
  sumNis = 0;
  maxAbs = 0;

  add(innovation: number, nis: number): void {
    const abs = Math.abs(innovation);
    this.count++;
    this.sumAbs += abs;
    this.sumNis += nis;
    if (abs > this.maxAbs) this.maxAbs = abs;
  }

  /** fold another accumulator into this one */
  merge(other: InnovationStats): void {
    this.count += other.count;
    this.sumAbs += other.sumAbs;
    this.sumNis += other.sumNis;
    if (other.maxAbs > this.maxAbs) this.maxAbs = other.maxAbs;
  }

  get meanAbs(): number {
    return this.count ? this.sumAbs / this.count : 0;
  }

  get meanNis(): number {
    return this.count ? this.sumNis / this.count : 0;
  }

  clear(): void {
    this.count = 0;
    this.sumAbs = 0;
    this.sumNis = 0;
    this.maxAbs = 0;
  }
}
