import { Ring } from '../../../src/util/ring.js';
import { queueCapacity, type QoS } from '../qos.js';
import type { Envelope } from './envelope.js';

// Delivery as a ROS 2 executor does it: each subscription has a bounded queue (keep_last drops
// the oldest past `depth`), and one executor turn (setImmediate) runs the callbacks of what is
// queued. A burst that outruns a reader loses the oldest messages, and a ping-pong between nodes
// yields to I/O and timers at every hop.

export class SubscriptionQueue {
  count = 0;
  dropped = 0;
  active = true;
  readonly queue: Ring<Envelope>;
  constructor(
    readonly topic: string,
    readonly qos: QoS,
    readonly owner: string,
    readonly deliver: (envelope: Envelope) => void,
  ) {
    this.queue = new Ring(queueCapacity(qos));
  }
}

export type CallbackErrorHandler = (topic: string, owner: string, error: unknown) => void;

export class Executor {
  #pending: SubscriptionQueue[] = [];
  readonly #queued = new Set<SubscriptionQueue>();
  #scheduled = false;

  constructor(private readonly onError?: CallbackErrorHandler) {}

  enqueue(sub: SubscriptionQueue, envelope: Envelope): void {
    if (!sub.active) return;
    if (sub.queue.push(envelope) !== undefined) sub.dropped++;
    this.#mark(sub);
  }

  #mark(sub: SubscriptionQueue): void {
    if (!this.#queued.has(sub)) {
      this.#queued.add(sub);
      this.#pending.push(sub);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#drain);
    }
  }

  /** Deliver what is queued now; what callbacks publish waits for the next turn. */
  readonly #drain = (): void => {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    for (const sub of batch) this.#queued.delete(sub);
    for (const sub of batch) {
      let n = sub.queue.size;
      while (n-- > 0 && sub.active) {
        const env = sub.queue.shift()!;
        sub.count++;
        try {
          sub.deliver(env);
        } catch (err) {
          if (this.onError) this.onError(sub.topic, sub.owner, err);
          else throw err;
        }
      }
      if (sub.active && sub.queue.size > 0) this.#mark(sub);
    }
  };

  /** Resolves when nothing is queued. */
  async idle(): Promise<void> {
    while (this.#scheduled || this.#pending.length) await new Promise((r) => setImmediate(r));
  }
}
