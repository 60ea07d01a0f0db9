import type { MessageOf, MessageTypeName, Clock as ClockMsg } from '../../msgs/types.js';
import type { ParamSchema } from '../../../src/util/param_schema.js';
import { SteppedClock, WallClock, type Clock } from '../../time/clock.js';
import { timeToNs } from '../../time/time.js';
import { createLogger, type ClosableLogger } from '../../../src/util/log.js';
import { QOS_CLOCK_SUBSCRIBER, incompatibilityLine, resolveQoS, type QoS } from '../qos.js';
import { nodeIdentity, EndpointCounter, NodeBase } from '../node_base.js';
import type {
  GraphParameter,
  MessageCallback,
  NodeHandle,
  NodeOptions,
  Publisher,
  Subscription,
  SubscriptionOptions,
  TopicInfo,
  Transport,
} from '../types.js';
import { graphParametersOf } from '../graph_parameters.js';
import { EmbeddedBus } from './bus.js';
import { Envelope } from './envelope.js';
import type { BusPort, PublisherHandle, SubscriptionHandle } from './port.js';

// The embedded transport: every node of a launch in one process (or its worker threads) on an
// in-process bus with ROS 2 semantics, each node with its clocks, timers, parameters and logger.

export interface EmbeddedTransportOptions {
  /** the bus nodes sit on: default a new in-process bus; inside a worker, the remote bus to the main thread */
  port?: BusPort;
  /** one clock for every node's ROS time (a test's steppable clock); default: system or /clock */
  rosClock?: Clock;
  checkMessages?: boolean;
}

/** All nodes in one process, talking over an in-process bus with ROS 2 semantics. */
export class EmbeddedTransport implements Transport {
  readonly kind = 'embedded' as const;
  readonly port: BusPort;
  readonly #nodes = new Map<string, EmbeddedNode<ParamSchema>>();
  readonly #rosClock: Clock | undefined;
  readonly #log = createLogger('embedded_transport');

  constructor(options: EmbeddedTransportOptions = {}) {
    this.#rosClock = options.rosClock;
    this.port =
      options.port ??
      new EmbeddedBus({
        checkMessages: options.checkMessages,
        events: {
          incompatibleQoS: (topic, pubOwner, subOwner, why) =>
            this.#log.warn(incompatibilityLine(topic, pubOwner, subOwner, why)),
          callbackError: (topic, owner, error) =>
            this.#nodes
              .get(owner)
              ?.logger.error(
                `callback for ${topic} threw: ${(error as Partial<Error> | null | undefined)?.stack ?? String(error)}`,
              ) ?? this.#log.error(`callback of ${owner} for ${topic} threw: ${String(error)}`),
        },
      });
  }

  /** the in-process bus (on the main thread; a worker's transport has a remote bus instead) */
  get bus(): EmbeddedBus {
    if (!(this.port instanceof EmbeddedBus))
      throw new Error('this transport runs on a remote bus to another thread, not on its own bus');
    return this.port;
  }

  createNode<S extends ParamSchema>(options: NodeOptions<S>): Promise<NodeHandle<S>> {
    // the work is synchronous; the executor turns what it throws into the rejection callers await
    return new Promise((resolve) => resolve(this.#createNode(options)));
  }

  #createNode<S extends ParamSchema>(options: NodeOptions<S>): NodeHandle<S> {
    const node: EmbeddedNode<S> = new EmbeddedNode(this.port, options, this.#rosClock, () => {
      // a node refused as a duplicate takes nothing of the one that has the name
      if (this.#nodes.get(node.fullyQualifiedName) !== node) return;
      this.#nodes.delete(node.fullyQualifiedName);
      this.port.setNodeParameters(node.fullyQualifiedName, undefined);
    });
    if (this.#nodes.has(node.fullyQualifiedName)) {
      node.destroy();
      throw new Error(`a node named ${node.fullyQualifiedName} already exists in this process`);
    }
    this.#nodes.set(node.fullyQualifiedName, node);
    // its parameters, for the graph to see (NodeHandle.graphParameters), until it is destroyed
    this.port.setNodeParameters(
      node.fullyQualifiedName,
      graphParametersOf(node.fullyQualifiedName, options.parameters, node.params),
    );
    return node;
  }

  shutdown(): Promise<void> {
    for (const node of [...this.#nodes.values()]) node.destroy();
    return Promise.resolve();
  }
}

class EmbeddedNode<S extends ParamSchema> extends NodeBase<S> implements NodeHandle<S> {
  readonly transportKind = 'embedded' as const;
  readonly logger: ClosableLogger;
  readonly clock: Clock;
  readonly steadyClock: Clock = new WallClock('steady');
  readonly #endpoints = new Set<PublisherHandle | SubscriptionHandle>();

  constructor(
    private readonly bus: BusPort,
    options: NodeOptions<S>,
    sharedClock: Clock | undefined,
    private readonly onDestroy: () => void,
  ) {
    super(nodeIdentity(options));
    this.logger = createLogger(this.fullyQualifiedName);
    if (sharedClock) this.clock = sharedClock;
    else if (this.params.use_sim_time) {
      const sim = new SteppedClock('ros', true);
      this.#subscribe(
        'rosgraph_msgs/msg/Clock',
        '/clock',
        QOS_CLOCK_SUBSCRIBER,
        (env) => sim.set(timeToNs((env.object as ClockMsg).clock)),
        false,
      );
      this.clock = sim;
    } else this.clock = new WallClock('ros');
  }

  createPublisher<K extends MessageTypeName>(type: K, topic: string, qosIn?: Partial<QoS>): Publisher<MessageOf<K>> {
    this.check();
    const name = this.resolveTopicName(topic);
    const qos = resolveQoS(qosIn);
    const endpoint = this.bus.advertise(name, type, qos, this.fullyQualifiedName);
    this.#endpoints.add(endpoint);
    const counter = this.record(new EndpointCounter(name, type, 'publish'));
    const bus = this.bus;
    const publish = (env: Envelope): void => {
      bus.publish(endpoint, env);
      counter.count++;
    };
    return {
      topic: name,
      type,
      qos,
      publish: (message) => publish(new Envelope(type, message)),
      publishRaw: (cdr) => publish(new Envelope(type, undefined, cdr)),
      subscriptionCount: () => bus.subscriptionCount(endpoint),
      destroy: () => {
        bus.remove(endpoint);
        this.#endpoints.delete(endpoint);
      },
    };
  }

  #subscribe(
    type: MessageTypeName,
    topic: string,
    qosIn: Partial<QoS> | undefined,
    deliver: (env: Envelope) => void,
    counted = true,
  ): Subscription {
    this.check();
    const name = this.resolveTopicName(topic);
    const qos = resolveQoS(qosIn);
    const counter = new EndpointCounter(name, type, 'subscribe');
    if (counted) this.record(counter);
    const endpoint = this.bus.subscribe(name, type, qos, this.fullyQualifiedName, (env) => {
      counter.count++;
      counter.dropped = endpoint.dropped;
      deliver(env);
    });
    this.#endpoints.add(endpoint);
    return {
      topic: name,
      type,
      qos,
      publisherCount: () => this.bus.publisherCount(endpoint),
      destroy: () => {
        this.bus.remove(endpoint);
        this.#endpoints.delete(endpoint);
      },
    };
  }

  createSubscription<K extends MessageTypeName>(
    type: K,
    topic: string,
    callback: MessageCallback<MessageOf<K>>,
    options?: SubscriptionOptions,
  ): Subscription {
    return this.#subscribe(type, topic, options?.qos, (env) => callback(env.object as MessageOf<K>));
  }

  createRawSubscription(
    type: MessageTypeName,
    topic: string,
    callback: MessageCallback<Uint8Array>,
    options?: SubscriptionOptions,
  ): Subscription {
    return this.#subscribe(type, topic, options?.qos, (env) => callback(env.bytes));
  }

  topicNamesAndTypes(): TopicInfo[] {
    return this.bus.topicNamesAndTypes();
  }

  graphParameters(): Promise<GraphParameter[]> {
    return Promise.resolve(this.bus.graphParameters());
  }

  protected release(): void {
    for (const e of this.#endpoints) this.bus.remove(e);
    this.#endpoints.clear();
    this.onDestroy();
    this.logger.close();
  }
}
