import type { MessagePort } from 'node:worker_threads';
import { codecFor } from '../../msgs/codec.js';
import type { QoS } from '../qos.js';
import type { GraphParameter, TopicInfo } from '../types.js';
import { Outbox, unpackBatch } from './batch.js';
import type { ToMain, ToWorker } from './worker_protocol.js';
import { Envelope } from './envelope.js';
import { Executor, SubscriptionQueue, type CallbackErrorHandler } from './executor.js';
import type { BusPort, PublisherHandle, SubscriptionHandle } from './port.js';

// The bus as a node inside a worker sees it: every endpoint is a proxy on the main thread's bus,
// so matching, QoS and transient-local history live in one place. Publishes leave as CDR bytes
// in one batch per turn; incoming batches are queued per subscription (depth honoured here too,
// for a worker too busy to keep up) and delivered by this thread's executor.

interface RemotePublisher extends PublisherHandle {
  readonly id: number;
  matched: number;
}

class RemoteSubscription extends SubscriptionQueue implements SubscriptionHandle {
  matched = 0;
  constructor(
    readonly id: number,
    readonly type: string,
    topic: string,
    qos: QoS,
    owner: string,
    deliver: (e: Envelope) => void,
  ) {
    super(topic, qos, owner, deliver);
  }
}

export class RemoteBus implements BusPort {
  #nextId = 1;
  readonly #publishers = new Map<number, RemotePublisher>();
  readonly #subscriptions = new Map<number, RemoteSubscription>();
  readonly #executor: Executor;
  readonly #outbox: Outbox;
  /** the main thread's graph as it last said it (a worker's own new endpoints appear after a round trip) */
  #graph: TopicInfo[] = [];
  #parameters: GraphParameter[] = [];

  constructor(
    private readonly port: MessagePort,
    onCallbackError?: CallbackErrorHandler,
  ) {
    this.#executor = new Executor(onCallbackError);
    this.#outbox = new Outbox((batch) => this.port.postMessage({ op: 'data', batch } satisfies ToMain, [batch]));
  }

  /** Post a control message after any data already published, so the main thread sees them in order. */
  post(message: ToMain): void {
    this.#outbox.flush();
    this.port.postMessage(message);
  }

  advertise(topic: string, type: string, qos: QoS, owner: string): PublisherHandle {
    codecFor(type);
    const pub: RemotePublisher = { id: this.#nextId++, topic, qos, matched: 0 };
    this.#publishers.set(pub.id, pub);
    this.post({ op: 'advertise', id: pub.id, topic, type, qos, owner });
    return pub;
  }

  subscribe(
    topic: string,
    type: string,
    qos: QoS,
    owner: string,
    deliver: (envelope: Envelope) => void,
  ): SubscriptionHandle {
    codecFor(type);
    const sub = new RemoteSubscription(this.#nextId++, type, topic, qos, owner, deliver);
    this.#subscriptions.set(sub.id, sub);
    this.post({ op: 'subscribe', id: sub.id, topic, type, qos, owner });
    return sub;
  }

  publish(publisher: PublisherHandle, envelope: Envelope): void {
    this.#outbox.push((publisher as RemotePublisher).id, envelope.bytes);
  }

  subscriptionCount(publisher: PublisherHandle): number {
    return (publisher as RemotePublisher).matched;
  }

  publisherCount(subscription: SubscriptionHandle): number {
    return subscription instanceof RemoteSubscription ? subscription.matched : 0;
  }

  remove(endpoint: PublisherHandle | SubscriptionHandle): void {
    const id = (endpoint as RemotePublisher | RemoteSubscription).id;
    if (endpoint instanceof RemoteSubscription) {
      endpoint.active = false;
      endpoint.queue.clear();
      this.#subscriptions.delete(id);
    } else this.#publishers.delete(id);
    this.post({ op: 'remove', id });
  }

  topicNamesAndTypes(): TopicInfo[] {
    return this.#graph;
  }

  setNodeParameters(node: string, parameters: readonly GraphParameter[] | undefined): void {
    this.post({ op: 'parameters', node, parameters });
  }

  graphParameters(): GraphParameter[] {
    return this.#parameters;
  }

  /** Take data and graph news from the main thread. */
  receive(message: Extract<ToWorker, { op: 'data' | 'matched' | 'graph' }>): void {
    if (message.op === 'graph') {
      this.#graph = message.topics;
      this.#parameters = message.parameters;
      return;
    }
    if (message.op === 'matched') {
      // publishers and subscriptions share one id space
      const endpoint = this.#publishers.get(message.id) ?? this.#subscriptions.get(message.id);
      if (endpoint) endpoint.matched = message.count;
      return;
    }
    for (const [id, bytes] of unpackBatch(message.batch)) {
      const sub = this.#subscriptions.get(id);
      if (sub) this.#executor.enqueue(sub, new Envelope(sub.type, undefined, bytes));
    }
  }

  flush(): void {
    this.#outbox.flush();
  }
}
