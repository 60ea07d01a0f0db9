import { codecFor } from '../../msgs/codec.js';
import { incompatibility, queueCapacity, type QoS } from '../qos.js';
import { Ring } from '../../util/ring.js';

// The in-process message bus: ROS 2 semantics on one thread. A publish puts the message into
// the queue of every matching subscription (keep_last drops the oldest past `depth`), and an
// executor turn (setImmediate) delivers the queues — so, as under a ROS 2 executor, a burst that
// outruns a reader loses the oldest messages, and a ping-pong between nodes yields to I/O and
// timers at every hop. Objects are shared between subscribers, not copied: published messages
// must not be mutated afterwards. Bytes and objects convert lazily, once per message.

export class Envelope {
  #object: unknown;
  #bytes: Uint8Array | undefined;

  constructor(readonly type: string, object: unknown, bytes?: Uint8Array) {
    this.#object = object;
    this.#bytes = bytes;
  }

  get object(): unknown {
    if (this.#object === undefined) this.#object = codecFor(this.type).decode(this.#bytes!);
    return this.#object;
  }

  get bytes(): Uint8Array {
    if (this.#bytes === undefined) this.#bytes = codecFor(this.type).encode(this.#object);
    return this.#bytes;
  }
}

export interface BusEvents {
  /** a publisher and a subscription on one topic cannot talk (DDS request/offered rules) */
  incompatibleQoS(topic: string, publisherOwner: string, subscriberOwner: string, reason: string): void;
  /** a subscription callback threw; the bus goes on */
  callbackError(topic: string, owner: string, error: unknown): void;
}

export class PublisherEndpoint {
  count = 0;
  readonly history: Ring<Envelope> | undefined;
  constructor(readonly topic: TopicState, readonly qos: QoS, readonly owner: string) {
    if (qos.durability === 'transient_local') this.history = new Ring(qos.depth);
  }
}

export class SubscriptionEndpoint {
  count = 0;
  dropped = 0;
  readonly queue: Ring<Envelope>;
  constructor(
    readonly topic: TopicState,
    readonly qos: QoS,
    readonly owner: string,
    readonly deliver: (envelope: Envelope) => void,
  ) {
    this.queue = new Ring(queueCapacity(qos));
  }
}

export class TopicState {
  readonly publishers = new Set<PublisherEndpoint>();
  readonly subscriptions = new Set<SubscriptionEndpoint>();
  constructor(readonly name: string, readonly type: string) {}
}

export interface EmbeddedBusOptions {
  /** encode every published object once, so a message that breaks its schema fails at publish */
  checkMessages?: boolean;
  events?: Partial<BusEvents>;
}

export class EmbeddedBus {
  readonly #topics = new Map<string, TopicState>();
  #pending: SubscriptionEndpoint[] = [];
  readonly #queued = new Set<SubscriptionEndpoint>();
  #scheduled = false;
  readonly checkMessages: boolean;
  readonly #events: Partial<BusEvents>;
  readonly #warned = new Set<string>();

  constructor(options: EmbeddedBusOptions = {}) {
    this.checkMessages = options.checkMessages ?? process.env.DYNASTACK_CHECK_MESSAGES === '1';
    this.#events = options.events ?? {};
  }

  topics(): ReadonlyMap<string, TopicState> {
    return this.#topics;
  }

  #topic(name: string, type: string, owner: string): TopicState {
    let topic = this.#topics.get(name);
    if (!topic) {
      codecFor(type); // an unknown type fails here, naming it
      topic = new TopicState(name, type);
      this.#topics.set(name, topic);
    } else if (topic.type !== type) {
      throw new Error(`topic ${name} carries ${topic.type}; ${owner} cannot use it as ${type} (one type per topic)`);
    }
    return topic;
  }

  #compatible(pub: PublisherEndpoint, sub: SubscriptionEndpoint): boolean {
    const reason = incompatibility(pub.qos, sub.qos);
    if (reason === undefined) return true;
    const key = `${pub.topic.name}|${pub.owner}|${sub.owner}`;
    if (!this.#warned.has(key)) {
      this.#warned.add(key);
      this.#events.incompatibleQoS?.(pub.topic.name, pub.owner, sub.owner, reason);
    }
    return false;
  }

  advertise(topicName: string, type: string, qos: QoS, owner: string): PublisherEndpoint {
    const topic = this.#topic(topicName, type, owner);
    const pub = new PublisherEndpoint(topic, qos, owner);
    topic.publishers.add(pub);
    for (const sub of topic.subscriptions) this.#compatible(pub, sub);
    return pub;
  }

  subscribe(topicName: string, type: string, qos: QoS, owner: string, deliver: (envelope: Envelope) => void): SubscriptionEndpoint {
    const topic = this.#topic(topicName, type, owner);
    const sub = new SubscriptionEndpoint(topic, qos, owner, deliver);
    topic.subscriptions.add(sub);
    // late joiners get what transient-local publishers kept
    for (const pub of topic.publishers) {
      if (this.#compatible(pub, sub) && pub.history && sub.qos.durability === 'transient_local') {
        for (const env of pub.history.toArray()) this.#enqueue(sub, env);
      }
    }
    return sub;
  }

  remove(endpoint: PublisherEndpoint | SubscriptionEndpoint): void {
    if (endpoint instanceof PublisherEndpoint) endpoint.topic.publishers.delete(endpoint);
    else {
      endpoint.topic.subscriptions.delete(endpoint);
      endpoint.queue.clear();
    }
  }

  publish(pub: PublisherEndpoint, envelope: Envelope): void {
    if (!pub.topic.publishers.has(pub)) throw new Error(`publisher of ${pub.owner} on ${pub.topic.name} was destroyed`);
    if (this.checkMessages) void envelope.bytes;
    pub.count++;
    pub.history?.push(envelope);
    for (const sub of pub.topic.subscriptions) {
      if (this.#compatible(pub, sub)) this.#enqueue(sub, envelope);
    }
  }

  subscriptionCount(pub: PublisherEndpoint): number {
    let n = 0;
    for (const sub of pub.topic.subscriptions) if (incompatibility(pub.qos, sub.qos) === undefined) n++;
    return n;
  }

  #enqueue(sub: SubscriptionEndpoint, envelope: Envelope): void {
    if (sub.queue.push(envelope) !== undefined) sub.dropped++;
    if (!this.#queued.has(sub)) {
      this.#queued.add(sub);
      this.#pending.push(sub);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#drain);
    }
  }

  /** Deliver every queued message, then return: what callbacks publish waits for the next turn. */
  readonly #drain = (): void => {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    for (const sub of batch) this.#queued.delete(sub);
    for (const sub of batch) {
      let n = sub.queue.size;
      while (n-- > 0) {
        const env = sub.queue.shift()!;
        if (!sub.topic.subscriptions.has(sub)) break;
        sub.count++;
        try {
          sub.deliver(env);
        } catch (err) {
          if (this.#events.callbackError) this.#events.callbackError(sub.topic.name, sub.owner, err);
          else throw err;
        }
      }
      // messages that arrived for this subscription during the turn stay for the next one
      if (sub.queue.size > 0 && !this.#queued.has(sub)) {
        this.#queued.add(sub);
        this.#pending.push(sub);
        if (!this.#scheduled) {
          this.#scheduled = true;
          setImmediate(this.#drain);
        }
      }
    }
  };

  /** Resolves when no message is waiting for delivery. */
  async idle(): Promise<void> {
    while (this.#scheduled || this.#pending.length) await new Promise((r) => setImmediate(r));
  }
}
