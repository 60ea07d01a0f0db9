import type { QoS } from '../qos.js';
import type { GraphParameter, TopicInfo } from '../types.js';
import type { Envelope } from './envelope.js';

// What an embedded node needs from the bus it sits on: the in-process bus on the main thread,
// or, inside a worker, the remote bus that carries CDR bytes to the main thread's bus.

export interface PublisherHandle {
  readonly topic: string;
  readonly qos: QoS;
}

export interface SubscriptionHandle {
  readonly topic: string;
  readonly qos: QoS;
  readonly dropped: number;
}

export interface BusPort {
  advertise(topic: string, type: string, qos: QoS, owner: string): PublisherHandle;
  subscribe(
    topic: string,
    type: string,
    qos: QoS,
    owner: string,
    deliver: (envelope: Envelope) => void,
  ): SubscriptionHandle;
  publish(publisher: PublisherHandle, envelope: Envelope): void;
  /** subscriptions a publisher is matched with (compatible QoS) */
  subscriptionCount(publisher: PublisherHandle): number;
  /** publishers a subscription is matched with (compatible QoS) */
  publisherCount(subscription: SubscriptionHandle): number;
  remove(endpoint: PublisherHandle | SubscriptionHandle): void;
  /** every topic with an endpoint on the main thread's bus, as NodeHandle.topicNamesAndTypes */
  topicNamesAndTypes(): TopicInfo[];
  /** a node's parameters, for the graph to see (undefined: the node went) */
  setNodeParameters(node: string, parameters: readonly GraphParameter[] | undefined): void;
  /** every node's parameters on the main thread's bus (worker threads' nodes included) */
  graphParameters(): GraphParameter[];
}
