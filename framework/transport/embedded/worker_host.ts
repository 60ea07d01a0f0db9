import type { Worker } from 'node:worker_threads';
import { Outbox, unpackBatch } from './batch.js';
import type { ToMain, ToWorker } from './worker_protocol.js';
import { Envelope, type EmbeddedBus, type PublisherEndpoint, type SubscriptionEndpoint } from './bus.js';

// The main thread's side of one worker: the worker's endpoints as proxies on the bus, its
// publishes put on the bus, what its subscriptions match packed into batches for it, and calls
// into the worker (lifecycle transitions) answered in order with the data before them, and the
// bus's graph (topics, types, endpoints) sent at start and again after each turn that changed it.

export class WorkerHost {
  readonly #publishers = new Map<number, PublisherEndpoint>();
  /** the worker nodes whose parameters this host put on the bus (removed when the worker goes) */
  readonly #parameterNodes = new Set<string>();
  readonly #subscriptions = new Map<number, SubscriptionEndpoint>();
  readonly #matched = new Map<number, number>();
  readonly #outbox: Outbox;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #stopWatching: () => void;
  #seq = 1;
  /** graph errors (a topic used with two types) waiting to fail the next call */
  #errors: string[] = [];
  #exited: Error | undefined;
  #graphScheduled = false;
  #released = false;
  /** called when the worker's node says its work is done */
  onFinished: ((reason: string) => void) | undefined;
  /** called when the worker's node says it has failed for good */
  onFailed: ((reason: string) => void) | undefined;

  constructor(
    private readonly bus: EmbeddedBus,
    private readonly worker: Worker,
  ) {
    this.#outbox = new Outbox((batch) => this.worker.postMessage({ op: 'data', batch } satisfies ToWorker, [batch]));
    this.#stopWatching = bus.onGraphChange(() => {
      this.#updateMatches();
      this.#scheduleGraph();
    });
    this.#scheduleGraph();
    worker.on('message', (m: ToMain) => this.#receive(m));
    const fail = (error: Error): void => {
      this.#exited ??= error;
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
      this.#release();
    };
    worker.on('error', (e) => fail(e instanceof Error ? e : new Error(String(e))));
    worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
  }

  /** Call a method in the worker; data published before the call reaches it first. */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    if (this.#exited) return Promise.reject(this.#exited);
    const seq = this.#seq++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.#outbox.flush();
      this.worker.postMessage({ op: 'call', seq, method, args } satisfies ToWorker);
    });
  }

  #receive(m: ToMain): void {
    try {
      switch (m.op) {
        case 'advertise':
          this.#publishers.set(m.id, this.bus.advertise(m.topic, m.type, m.qos, m.owner));
          // the bus told its listeners before the endpoint was in the map: its own count goes now
          this.#updateMatches();
          break;
        case 'subscribe':
          this.#subscriptions.set(
            m.id,
            this.bus.subscribe(m.topic, m.type, m.qos, m.owner, (env) => this.#outbox.push(m.id, env.bytes)),
          );
          this.#updateMatches();
          break;
        case 'remove': {
          const endpoint = this.#publishers.get(m.id) ?? this.#subscriptions.get(m.id);
          if (endpoint) this.bus.remove(endpoint);
          this.#publishers.delete(m.id);
          this.#subscriptions.delete(m.id);
          break;
        }
        case 'parameters':
          if (m.parameters) this.#parameterNodes.add(m.node);
          else this.#parameterNodes.delete(m.node);
          this.bus.setNodeParameters(m.node, m.parameters);
          break;
        case 'data':
          for (const [id, bytes] of unpackBatch(m.batch)) {
            const pub = this.#publishers.get(id);
            // a kept (transient-local) message must not pin the whole batch buffer
            if (pub)
              this.bus.publish(pub, new Envelope(pub.topicState.type, undefined, pub.history ? bytes.slice() : bytes));
          }
          break;
        case 'finished':
          this.onFinished?.(m.reason);
          break;
        case 'failed':
          this.onFailed?.(m.reason);
          break;
        case 'reply': {
          const pending = this.#pending.get(m.seq);
          this.#pending.delete(m.seq);
          const errors = this.#errors;
          this.#errors = [];
          if (!m.ok) pending?.reject(new Error(m.error));
          else if (errors.length) pending?.reject(new Error(errors.join('; ')));
          else pending?.resolve(m.result);
          break;
        }
      }
    } catch (err) {
      this.#errors.push((err as Error).message);
    }
  }

  #updateMatches(): void {
    for (const [id, pub] of this.#publishers) this.#tellMatched(id, this.bus.subscriptionCount(pub));
    for (const [id, sub] of this.#subscriptions) this.#tellMatched(id, this.bus.publisherCount(sub));
  }

  /** Send the graph once per turn, however many endpoints came and went in it. */
  #scheduleGraph(): void {
    if (this.#graphScheduled) return;
    this.#graphScheduled = true;
    queueMicrotask(() => {
      this.#graphScheduled = false;
      if (this.#released) return;
      this.#outbox.flush();
      this.worker.postMessage({
        op: 'graph',
        topics: this.bus.topicNamesAndTypes(),
        parameters: this.bus.graphParameters(),
      } satisfies ToWorker);
    });
  }

  #tellMatched(id: number, count: number): void {
    if (this.#matched.get(id) === count) return;
    this.#matched.set(id, count);
    this.#outbox.flush();
    this.worker.postMessage({ op: 'matched', id, count } satisfies ToWorker);
  }

  #release(): void {
    this.#released = true;
    this.#stopWatching();
    for (const e of [...this.#publishers.values(), ...this.#subscriptions.values()]) this.bus.remove(e);
    this.#publishers.clear();
    this.#subscriptions.clear();
    for (const node of this.#parameterNodes) this.bus.setNodeParameters(node, undefined);
    this.#parameterNodes.clear();
  }

  /** Stop the worker and remove its endpoints from the bus. */
  async terminate(): Promise<void> {
    this.#release();
    await this.worker.terminate();
  }
}
