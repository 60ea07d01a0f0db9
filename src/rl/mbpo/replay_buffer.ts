import type { TransitionData } from '../../data/transition_data.js';
import type { Rng } from '../../util/random.js';

// A ring buffer of transitions (s, a, r, s′, done) in row-major Float32Arrays, for MBPO's two
// buffers: the real one (what the robot did) and the model one (branched rollouts of the learned
// ensemble), which overwrite their oldest rows when full. Batches are sampled uniformly with
// replacement into arrays the caller owns, so the update loop allocates nothing.

export interface MutableBatch {
  readonly obs: Float32Array;
  readonly actions: Float32Array;
  readonly rewards: Float32Array;
  readonly nextObs: Float32Array;
  readonly dones: Float32Array;
}

export function allocateBatch(rows: number, obsSize: number, actionSize: number): MutableBatch & { size: number } {
  return {
    size: rows,
    obs: new Float32Array(rows * obsSize),
    actions: new Float32Array(rows * actionSize),
    rewards: new Float32Array(rows),
    nextObs: new Float32Array(rows * obsSize),
    dones: new Float32Array(rows),
  };
}

export class ReplayBuffer {
  readonly #obs: Float32Array;
  readonly #actions: Float32Array;
  readonly #rewards: Float32Array;
  readonly #next: Float32Array;
  readonly #dones: Float32Array;
  #next_ = 0;
  #size = 0;
  #added = 0;

  constructor(
    readonly obsSize: number,
    readonly actionSize: number,
    readonly capacity: number,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error(`replay buffer: capacity ${capacity}`);
    this.#obs = new Float32Array(capacity * obsSize);
    this.#actions = new Float32Array(capacity * actionSize);
    this.#rewards = new Float32Array(capacity);
    this.#next = new Float32Array(capacity * obsSize);
    this.#dones = new Float32Array(capacity);
  }

  /** rows held (≤ capacity) */
  get size(): number {
    return this.#size;
  }

  /** rows ever added */
  get added(): number {
    return this.#added;
  }

  /** one transition; obs and next obs of obsSize, action of actionSize */
  add(obs: ArrayLike<number>, action: ArrayLike<number>, reward: number, next: ArrayLike<number>, done: boolean): void {
    const i = this.#next_;
    const no = this.obsSize;
    const nu = this.actionSize;
    for (let k = 0; k < no; k++) {
      this.#obs[i * no + k] = obs[k]!;
      this.#next[i * no + k] = next[k]!;
    }
    for (let k = 0; k < nu; k++) this.#actions[i * nu + k] = action[k]!;
    this.#rewards[i] = reward;
    this.#dones[i] = done ? 1 : 0;
    this.#next_ = (i + 1) % this.capacity;
    this.#size = Math.min(this.#size + 1, this.capacity);
    this.#added++;
  }

  /** `count` rows drawn uniformly (with replacement) into batch rows offset … offset + count − 1 */
  sampleInto(batch: MutableBatch, offset: number, count: number, rng: Rng): void {
    if (this.#size === 0) throw new Error('replay buffer: sampling from an empty buffer');
    const no = this.obsSize;
    const nu = this.actionSize;
    for (let r = offset; r < offset + count; r++) {
      const i = Math.floor(rng.uniform() * this.#size);
      batch.obs.set(this.#obs.subarray(i * no, (i + 1) * no), r * no);
      batch.nextObs.set(this.#next.subarray(i * no, (i + 1) * no), r * no);
      batch.actions.set(this.#actions.subarray(i * nu, (i + 1) * nu), r * nu);
      batch.rewards[r] = this.#rewards[i]!;
      batch.dones[r] = this.#dones[i]!;
    }
  }

  /** `count` observations drawn uniformly into out [count × obsSize]: branch points for model rollouts */
  sampleObs(count: number, rng: Rng, out: Float32Array): void {
    if (this.#size === 0) throw new Error('replay buffer: sampling from an empty buffer');
    const no = this.obsSize;
    for (let r = 0; r < count; r++) {
      const i = Math.floor(rng.uniform() * this.#size);
      out.set(this.#obs.subarray(i * no, (i + 1) * no), r * no);
    }
  }

  /** every held transition as (s, a, s′), oldest first: what the dynamics ensemble trains on */
  transitions(): TransitionData {
    const n = this.#size;
    const start = n < this.capacity ? 0 : this.#next_;
    const take = (a: Float32Array, width: number): Float32Array => {
      const out = new Float32Array(n * width);
      for (let r = 0; r < n; r++) {
        const i = (start + r) % this.capacity;
        out.set(a.subarray(i * width, (i + 1) * width), r * width);
      }
      return out;
    };
    return {
      states: take(this.#obs, this.obsSize),
      actions: take(this.#actions, this.actionSize),
      nextStates: take(this.#next, this.obsSize),
      n,
    };
  }
}
