import type { LearnedPlanning } from './planner.js';

// When the controller computes a tick's command. In real time at once, from the newest state. In
// lockstep (the sim waits for each command) the command for tick t is computed from the state of
// tick t, so a tick that comes before its state waits for it; and the graph is held for a learned
// model where runs must meet it at the same tick every time:
//  - explore_ticks: after that many exploration ticks, the next tick waits for the first model
//    (PETS trains between its random episode and its first planned one);
//  - await_episode_model: after an episode's END, the new episode's first tick waits until the
//    model in use was trained through END's stamp (the last state of the episode that ended), so
//    no command of an episode comes from a model older than the episode before it.
// Driven by explicit calls (a tick due, a state arrived, the model changed, an episode ended), it
// calls `compute` for each tick it lets through; it knows no clock and no node.

/** What the holds read of a planner over the learned model. */
export type ModelProgress = Pick<LearnedPlanning, 'modelVersion' | 'explorationTicks' | 'modelDataEndNs'>;

/** Why the gate started holding, for the log (each said once when it begins). */
export type GateHold =
  | { readonly kind: 'first_model'; readonly explorationTicks: number }
  | { readonly kind: 'episode_model'; readonly endNs: bigint };

export interface TickGateOptions {
  /** lockstep: each tick's command from the state stamped at that tick */
  readonly lockstep: boolean;
  /** lockstep: hold after this many exploration ticks until the first model (0: no hold) */
  readonly exploreTicks: number;
  /** lockstep: at an episode boundary hold until a model trained through the episode's end */
  readonly awaitEpisodeModel: boolean;
  /** the planner over the learned model whose models the holds wait for (absent: nothing to wait for) */
  readonly model: ModelProgress | undefined;
  /** compute and send the command of this tick */
  readonly compute: (tickNs: bigint) => void;
  readonly onHold?: (hold: GateHold) => void;
}

export class TickGate {
  /** await_episode_model in effect: it needs lockstep and a planner over the learned model */
  readonly awaitsEpisodeModel: boolean;
  readonly #options: TickGateOptions;
  /** the tick waiting for its state or a model */
  #pending: bigint | undefined;
  /** the tick computed last */
  #computed: bigint | undefined;
  #stateNs: bigint | undefined;
  /** await_episode_model: the END stamp a model must be trained through, until one is in use */
  #awaitDataEndNs: bigint | undefined;
  #firstModelHoldSaid = false;

  constructor(options: TickGateOptions) {
    this.#options = options;
    this.awaitsEpisodeModel = options.model !== undefined && options.lockstep && options.awaitEpisodeModel;
  }

  /** the tick waiting, if any */
  get pendingTick(): bigint | undefined {
    return this.#pending;
  }

  /**
   * A tick of the timer is due: compute it now, or (lockstep) once its state is there and no hold
   * applies. A tick is computed once: the same tick due again (the timer's and activation's call for
   * the tick sim time is at when a controller activates late) is ignored — computed twice, it would
   * draw its exploration twice and send a second command the bridge does not wait for.
   */
  tickDue(tickNs: bigint): void {
    if (tickNs === this.#computed || tickNs === this.#pending) return;
    // a tick still waiting is dropped: the newer one is the one the sim waits for
    if (this.#options.lockstep && !this.#ready(tickNs)) this.#pending = tickNs;
    else this.#compute(tickNs);
  }

  #compute(tickNs: bigint): void {
    this.#computed = tickNs;
    this.#options.compute(tickNs);
  }

  /** A state stamped `stampNs` arrived (and is now the newest). */
  stateArrived(stampNs: bigint): void {
    this.#stateNs = stampNs;
    this.#release();
  }

  /** The planner's model changed (or a model was offered): a held tick may go on. */
  modelChanged(): void {
    this.#release();
  }

  /** An episode ended with the state stamped `lastStampNs`: with await_episode_model, the ticks after it wait for its model. */
  episodeEnded(lastStampNs: bigint): void {
    if (!this.awaitsEpisodeModel) return;
    this.#awaitDataEndNs = lastStampNs;
    this.#options.onHold?.({ kind: 'episode_model', endNs: lastStampNs });
  }

  #release(): void {
    const tick = this.#pending;
    if (tick === undefined || !this.#ready(tick)) return;
    this.#pending = undefined;
    this.#compute(tick);
  }

  /** The tick's state is there, and nothing holds it. */
  #ready(tickNs: bigint): boolean {
    return this.#stateNs !== undefined && this.#stateNs >= tickNs && !this.#holding(tickNs);
  }

  #holding(tickNs: bigint): boolean {
    const model = this.#options.model;
    if (!model || !this.#options.lockstep) return false;
    const endNs = this.#awaitDataEndNs;
    if (endNs !== undefined && tickNs > endNs) {
      const trainedThrough = model.modelDataEndNs;
      if (trainedThrough === undefined || trainedThrough < endNs) return true;
      this.#awaitDataEndNs = undefined;
    }
    const hold =
      this.#options.exploreTicks > 0 &&
      model.modelVersion === 0 &&
      model.explorationTicks >= this.#options.exploreTicks;
    if (hold && !this.#firstModelHoldSaid) {
      this.#firstModelHoldSaid = true;
      this.#options.onHold?.({ kind: 'first_model', explorationTicks: model.explorationTicks });
    }
    return hold;
  }
}
