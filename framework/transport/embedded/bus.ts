import { codecFor } from '../../msgs/codec.js';
import { incompatibility, type QoS, type QoSIncompatibility } from '../qos.js';
import { Ring } from '../../../src/util/ring.js';
import { Envelope } from './envelope.js';
import { Executor, SubscriptionQueue } from './executor.js';
import type { BusPort } from './port.js';
import type { GraphParameter, TopicInfo } from '../types.js';

// The in-process message bus: ROS 2 matching on one thread. A publish puts the message in the
// queue of every subscription whose QoS matches (DDS request/offered rules); transient-local
// publishers keep their last `depth` messages for late joiners; a topic has one type. Objects
// are shared between subscribers, not copied: a published message must not be mutated after.

export { Envelope };

export interface BusEvents {
  /**
   * a publisher and a subscription on one topic cannot talk (DDS requested/offered rules): said
   * once per pair, when the second of the two appears; nothing is delivered between them
   */
  incompatibleQoS(topic: string, publisherOwner: string, subscriberOwner: string, why: QoSIncompatibility): void;
  /** a subscription callback threw; the bus goes on */
  callbackError(topic: string, owner: string, error: unknown): void;
}

export class PublisherEndpoint {
  count = 0;
  readonly history: Ring<Envelope> | undefined;
  constructor(
    readonly topicState: TopicState,
    readonly qos: QoS,
    readonly owner: string,
  ) {
    if (qos.durability === 'transient_local') this.history = new Ring(qos.depth);
  }
  get topic(): string {
    return this.topicState.name;
  }
}

export class SubscriptionEndpoint extends SubscriptionQueue {
  constructor(
    readonly topicState: TopicState,
    qos: QoS,
    owner: string,
    deliver: (envelope: Envelope) => void,
  ) {
    super(topicState.name, qos, owner, deliver);
  }
}

export class TopicState {
  readonly publishers = new Set<PublisherEndpoint>();
  readonly subscriptions = new Set<SubscriptionEndpoint>();
  constructor(
    readonly name: string,
    readonly type: string,
  ) {}
}

export interface EmbeddedBusOptions {
  /** encode every published object once, so a message that breaks its schema fails at publish */
  checkMessages?: boolean;
  events?: Partial<BusEvents>;
}

export class EmbeddedBus implements BusPort {
  readonly #topics = new Map<string, TopicState>();
  readonly #executor: Executor;
  readonly checkMessages: boolean;
  readonly #events: Partial<BusEvents>;
  readonly #warned = new Set<string>();
  readonly #graphListeners = new Set<(topic: string) => void>();
  readonly #nodeParameters = new Map<string, readonly GraphParameter[]>();

  constructor(options: EmbeddedBusOptions = {}) {
    this.checkMessages = options.checkMessages ?? process.env.DYNASTACK_CHECK_MESSAGES === '1';
    this.#events = options.events ?? {};
    this.#executor = new Executor(this.#events.callbackError);
  }

  /** Call back whenever an endpoint comes or goes; returns the function that stops it. */
  onGraphChange(listener: (topic: string) => void): () => void {
    this.#graphListeners.add(listener);
    return () => this.#graphListeners.delete(listener);
  }

  #graphChanged(topic: string): void {
    for (const listener of this.#graphListeners) listener(topic);
  }

  topics(): ReadonlyMap<string, TopicState> {
    return this.#topics;
  }

  setNodeParameters(node: string, parameters: readonly GraphParameter[] | undefined): void {
    if (parameters) this.#nodeParameters.set(node, parameters);
    else if (!this.#nodeParameters.delete(node)) return;
    this.#graphChanged('');
  }

  graphParameters(): GraphParameter[] {
    return [...this.#nodeParameters.values()].flat();
  }

  /** The topics that have an endpoint now (a topic's state outlives its endpoints; rcl's list does not). */
  topicNamesAndTypes(): TopicInfo[] {
    const out: TopicInfo[] = [];
    for (const t of this.#topics.values()) {
      if (t.publishers.size === 0 && t.subscriptions.size === 0) continue;
      const publisherNodes = [...t.publishers].map((p) => p.owner);
      const subscriberNodes = [...t.subscriptions].map((s) => s.owner);
      out.push({
        name: t.name,
        type: t.type,
        publishers: publisherNodes.length,
        subscribers: subscriberNodes.length,
        publisherNodes,
        subscriberNodes,
        publisherQos: [...t.publishers].map(({ qos }) => ({
          reliability: qos.reliability,
          durability: qos.durability,
          depth: qos.depth,
        })),
      });
    }
    return out;
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
    const why = incompatibility(pub.qos, sub.qos);
    if (why === undefined) return true;
    const key = `${pub.topic}|${pub.owner}|${sub.owner}|${why.policy}`;
    if (!this.#warned.has(key)) {
      this.#warned.add(key);
      this.#events.incompatibleQoS?.(pub.topic, pub.owner, sub.owner, why);
    }
    return false;
  }

  advertise(topicName: string, type: string, qos: QoS, owner: string): PublisherEndpoint {
    const topic = this.#topic(topicName, type, owner);
    const pub = new PublisherEndpoint(topic, qos, owner);
    topic.publishers.add(pub);
    for (const sub of topic.subscriptions) this.#compatible(pub, sub);
    this.#graphChanged(topicName);
    return pub;
  }

  subscribe(
    topicName: string,
    type: string,
    qos: QoS,
    owner: string,
    deliver: (envelope: Envelope) => void,
  ): SubscriptionEndpoint {
    const topic = this.#topic(topicName, type, owner);
    const sub = new SubscriptionEndpoint(topic, qos, owner, deliver);
    topic.subscriptions.add(sub);
    // late joiners get what transient-local publishers kept
    for (const pub of topic.publishers) {
      if (this.#compatible(pub, sub) && pub.history && sub.qos.durability === 'transient_local') {
        for (const env of pub.history.toArray()) this.#executor.enqueue(sub, env);
      }
    }
    this.#graphChanged(topicName);
    return sub;
  }

  remove(endpoint: PublisherEndpoint | SubscriptionEndpoint): void {
    if (endpoint instanceof PublisherEndpoint) endpoint.topicState.publishers.delete(endpoint);
    else {
      endpoint.active = false;
      endpoint.topicState.subscriptions.delete(endpoint);
      endpoint.queue.clear();
    }
    this.#graphChanged(endpoint.topic);
  }

  publish(pub: PublisherEndpoint, envelope: Envelope): void {
    if (!pub.topicState.publishers.has(pub))
      throw new Error(`the publisher of ${pub.owner} on ${pub.topic} was destroyed`);
    // checking messages: encode now, so a message that does not fit its type throws at the publisher
    if (this.checkMessages) envelope.encode();
    pub.count++;
    pub.history?.push(envelope);
    for (const sub of pub.topicState.subscriptions) {
      if (this.#compatible(pub, sub)) this.#executor.enqueue(sub, envelope);
    }
  }

  subscriptionCount(pub: PublisherEndpoint): number {
    let n = 0;
    for (const sub of pub.topicState.subscriptions) if (incompatibility(pub.qos, sub.qos) === undefined) n++;
    return n;
  }

  publisherCount(sub: SubscriptionEndpoint): number {
    let n = 0;
    for (const pub of sub.topicState.publishers) if (incompatibility(pub.qos, sub.qos) === undefined) n++;
    return n;
  }

  /** Resolves when no message is waiting for delivery. */
  idle(): Promise<void> {
    return this.#executor.idle();
  }
}
