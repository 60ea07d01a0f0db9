// What a learned-model planner counts, inline or in a worker: the model blobs it was offered
// (taken, repeated, refused) and the plans it made (evaluations, planning time). One place, so the
// controller's diagnostics and report carry the same figures whichever planner runs.

export class PlanningCounters {
  modelsReceived = 0;
  modelsRejected = 0;
  modelsRepeated = 0;
  plans = 0;
  evaluations = 0;
  #planMsTotal = 0;
  #planMsMax = 0;

  /** one plan finished: how many sequences it evaluated and how long it took */
  plan(evaluations: number, ms: number): void {
    this.plans++;
    this.evaluations += evaluations;
    this.#planMsTotal += ms;
    this.#planMsMax = Math.max(this.#planMsMax, ms);
  }

  get planMsMean(): number {
    return this.plans ? this.#planMsTotal / this.plans : 0;
  }

  get planMsMax(): number {
    return this.#planMsMax;
  }

  /** the model counters under their diagnostics/report names */
  modelFigures(): { models_received: number; models_rejected: number; models_repeated: number } {
    return {
      models_received: this.modelsReceived,
      models_rejected: this.modelsRejected,
      models_repeated: this.modelsRepeated,
    };
  }
}
