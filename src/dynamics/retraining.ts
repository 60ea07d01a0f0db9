// When the dynamics learner trains, and what becomes of each training. A training is due every
// `every` new transitions, or at every episode's end (PETS's loop) once the states through the
// episode's last have come; never before the buffer holds `minTransitions`. One training runs at a
// time, so that each result is known to cover the data up to the moment it started (its data end:
// the stamp of the newest state it learned from); a training due while one runs is merged into
// one that starts when it ends, on the newest data. Each result becomes a numbered model, published
// at once while the learner is active, or held (the newest) until it is; after a model loaded from
// an earlier run the numbers go on from its version. Each episode end is announced (once its states
// are in, before any training it starts), active or not, so that the learner can save its data then.
// The trainer and what a model is are the caller's (hooks), so the schedule is tested on a fake.

export interface RetrainingPolicy {
  /** 'transitions': every `every` new transitions; 'episode': at every episode end, on all data so far */
  readonly on: 'transitions' | 'episode';
  readonly every: number;
  /** no training before the buffer holds this many transitions */
  readonly minTransitions: number;
}

export interface RetrainingHooks<R, M> {
  /** the transitions held now */
  size(): number;
  /** start a training on everything held now */
  train(): Promise<R>;
  /** a training's result as the model to publish, numbered `version` (from 1), trained through `dataEndNs` */
  model(result: R, version: number, dataEndNs: bigint): M;
  /** publish a model (only while active) */
  publish(model: M): void;
  /** a training failed (not called after dispose) */
  failed(message: string): void;
  /** an episode ended and the states through its end (`endNs`) are in; called before a training it starts */
  episodeEnded?(endNs: bigint): void;
}

export class RetrainingSchedule<R, M> {
  readonly #policy: RetrainingPolicy;
  readonly #hooks: RetrainingHooks<R, M>;
  #active = false;
  #disposed = false;
  /** new transitions since the last training started */
  #sinceTraining: number;
  /** episode ends (with new data) since the last training started */
  #episodesSinceTraining = 0;
  /** a training asked for with trainNow(), whatever the policy */
  #forced = false;
  #training = false;
  #requested = false;
  #merged = 0;
  /** the stamp of the newest state of a transition (0n: none yet, only transitions loaded) */
  #dataEndNs = 0n;
  /** the newest state stamp seen, used or not */
  #newestStateNs: bigint | undefined;
  /** episode ends whose last state has not come yet, ascending */
  #pendingEnds: bigint[] = [];
  #version: number;
  /** models made in this run */
  #made = 0;
  #last: R | undefined;
  #failures = 0;
  #lastError = '';
  #unpublished: M | undefined;

  /**
   * `loaded`: transitions held from an earlier run (they count as new for the first training);
   * `loadedVersion`: the version of a model loaded from an earlier run (0: none), the next is one more.
   */
  constructor(policy: RetrainingPolicy, hooks: RetrainingHooks<R, M>, loaded = 0, loadedVersion = 0) {
    this.#policy = policy;
    this.#hooks = hooks;
    this.#sinceTraining = loaded;
    this.#version = loadedVersion;
  }

  /** the newest model's version (a loaded one's until this run makes one; 0: none) */
  get version(): number {
    return this.#version;
  }

  /** models made in this run */
  get made(): number {
    return this.#made;
  }

  /** models made in this run and published (one may be held until activation) */
  get published(): number {
    return this.#made - (this.#unpublished ? 1 : 0);
  }

  /** the newest training's result */
  get last(): R | undefined {
    return this.#last;
  }

  get failures(): number {
    return this.#failures;
  }

  /** why the newest training failed, '' when it did not */
  get lastError(): string {
    return this.#lastError;
  }

  /** trainings due while one ran, merged into the one after it */
  get merged(): number {
    return this.#merged;
  }

  /** Start publishing: a model held meanwhile first, then a training if one is due. */
  activate(): void {
    this.#active = true;
    if (this.#unpublished) this.#publish(this.#unpublished);
    this.#maybeTrain();
  }

  /** Stop starting trainings and publishing; a training under way finishes, and its model is held. */
  deactivate(): void {
    this.#active = false;
  }

  /** No more trainings (a training under way may still end; its failure is not reported). */
  dispose(): void {
    this.#disposed = true;
  }

  /**
   * A training is due now, whatever the policy (data loaded at the start that no model has learned
   * from, e.g. a recorded dataset): it starts once active, when the buffer holds minTransitions.
   */
  trainNow(): void {
    this.#forced = true;
    this.#maybeTrain();
  }

  /** A transition went into the buffer; `stampNs` is the stamp of its newest state. */
  transitionAdded(stampNs: bigint): void {
    this.#sinceTraining++;
    this.#dataEndNs = stampNs;
    this.#maybeTrain();
  }

  /** A state came, stamped `stampNs` (used or not): the data through that stamp is in. */
  stateSeen(stampNs: bigint): void {
    if (this.#newestStateNs === undefined || stampNs > this.#newestStateNs) this.#newestStateNs = stampNs;
    while (this.#pendingEnds.length && this.#pendingEnds[0]! <= this.#newestStateNs)
      this.#episodeEnded(this.#pendingEnds.shift()!);
  }

  /** An episode ended with its state stamped `stampNs`: it counts once the states through that stamp are in. */
  episodeEnded(stampNs: bigint): void {
    if (this.#newestStateNs !== undefined && stampNs <= this.#newestStateNs) {
      this.#episodeEnded(stampNs);
      return;
    }
    const at = this.#pendingEnds.findIndex((t) => t > stampNs);
    this.#pendingEnds.splice(at < 0 ? this.#pendingEnds.length : at, 0, stampNs);
  }

  #episodeEnded(endNs: bigint): void {
    if (!this.#disposed) this.#hooks.episodeEnded?.(endNs);
    if (this.#sinceTraining === 0) return;
    this.#episodesSinceTraining++;
    this.#maybeTrain();
  }

  #due(): boolean {
    if (this.#forced) return true;
    return this.#policy.on === 'episode'
      ? this.#episodesSinceTraining > 0 && this.#sinceTraining > 0
      : this.#sinceTraining >= this.#policy.every;
  }

  #maybeTrain(): void {
    if (!this.#active || !this.#due() || this.#hooks.size() < this.#policy.minTransitions) return;
    if (this.#training) {
      if (!this.#requested) this.#merged++;
      this.#requested = true;
      return;
    }
    this.#sinceTraining = 0;
    this.#episodesSinceTraining = 0;
    this.#forced = false;
    this.#training = true;
    const dataEndNs = this.#dataEndNs;
    void this.#hooks
      .train()
      .then(
        (result) => this.#trained(result, dataEndNs),
        (err: unknown) => {
          if (this.#disposed) return;
          this.#failures++;
          this.#lastError = err instanceof Error ? err.message : String(err);
          this.#hooks.failed(this.#lastError);
        },
      )
      .finally(() => {
        this.#training = false;
        if (this.#requested && !this.#disposed) {
          this.#requested = false;
          this.#maybeTrain();
        }
      });
  }

  #trained(result: R, dataEndNs: bigint): void {
    this.#last = result;
    this.#lastError = '';
    this.#version++;
    this.#made++;
    const model = this.#hooks.model(result, this.#version, dataEndNs);
    if (this.#active) this.#publish(model);
    else this.#unpublished = model;
  }

  #publish(model: M): void {
    this.#unpublished = undefined;
    this.#hooks.publish(model);
  }
}
