// When an episode's end may be passed on to the policy trainer: once the states through the END's
// stamp have come, so that its transitions are in before it (the dynamics learner's retraining
// schedule waits the same way, src/dynamics/retraining.ts). The events and the states travel on
// different topics, and an END can come before the episode's last state or after the next
// episode's first; the stamps say which is which.

export class EpisodeEnds {
  /** ends whose last state has not come yet, ascending */
  #pending: bigint[] = [];
  #newestNs: bigint | undefined;

  /** An END with its last state stamped `stampNs`: the ends due now (this one, if its states are in). */
  ended(stampNs: bigint): bigint[] {
    if (this.#newestNs !== undefined && stampNs <= this.#newestNs) return [stampNs];
    const at = this.#pending.findIndex((t) => t > stampNs);
    this.#pending.splice(at < 0 ? this.#pending.length : at, 0, stampNs);
    return [];
  }

  /** A state stamped `stampNs` was used (its transition passed on): the ends due now, oldest first. */
  stateSeen(stampNs: bigint): bigint[] {
    if (this.#newestNs === undefined || stampNs > this.#newestNs) this.#newestNs = stampNs;
    let n = 0;
    while (n < this.#pending.length && this.#pending[n]! <= this.#newestNs) n++;
    return this.#pending.splice(0, n);
  }
}
