import type { MessageOf, MessageTypeName } from '../msgs/types.js';
import type { ParamSchema, ParamType, ParamValues } from '../../src/util/param_schema.js';
import type { COMMON_PARAMS } from '../params/common.js';
import type { ParamSource } from '../params/file.js';
import type { Clock, Timer, TimerCallback } from '../time/clock.js';
import type { Logger } from '../../src/util/log.js';
import type { QoS } from './qos.js';
import type { RemapRule } from './names.js';

// The node handle: everything a node may do, whichever transport carries it. Nodes and src/
// libraries see only this; the embedded (RxJS) and ROS 2 (rclnodejs) transports implement it.

export interface Publisher<T> {
  readonly topic: string;
  readonly type: string;
  readonly qos: QoS;
  publish(message: T): void;
  /** publish CDR bytes as they are (the encapsulation header included) */
  publishRaw(cdr: Uint8Array): void;
  subscriptionCount(): number;
  destroy(): void;
}

export interface Subscription {
  readonly topic: string;
  readonly type: string;
  readonly qos: QoS;
  /**
   * publishers matched to this subscription now (compatible QoS only), as rcl's
   * rcl_subscription_get_publisher_count: a node waits with it for the source of its input
   */
  publisherCount(): number;
  destroy(): void;
}

export interface SubscriptionOptions {
  qos?: Partial<QoS>;
}

export type MessageCallback<T> = (message: T) => void;

/**
 * One topic of the graph as rcl_get_topic_names_and_types sees it (rcl/graph.h), with the
 * nodes of its endpoints (rcl_get_publishers_info_by_topic / _subscriptions_info_by_topic): one
 * fully qualified node name per endpoint, so a node with two publishers is named twice.
 */
export interface TopicInfo {
  readonly name: string;
  readonly type: string;
  readonly publishers: number;
  readonly subscribers: number;
  readonly publisherNodes: readonly string[];
  readonly subscriberNodes: readonly string[];
  /** each publisher's QoS, in publisherNodes' order (rmw_topic_endpoint_info_t qos_profile) */
  readonly publisherQos: readonly EndpointQos[];
}

/** A parameter's value as a viewer gets it. */
export type GraphParameterValue =
  boolean | number | string | readonly boolean[] | readonly number[] | readonly string[] | Uint8Array;

/** One parameter of one node of the graph (a Foxglove client lists these). */
export interface GraphParameter {
  /** the node's fully qualified name */
  readonly node: string;
  readonly name: string;
  /** its declared type: a `double` of 2.0 is still a double */
  readonly type: ParamType | 'byte_array';
  readonly value: GraphParameterValue;
}

/** The QoS policies of an endpoint that decide what a matching subscriber should ask for. */
export interface EndpointQos {
  readonly reliability: QoS['reliability'];
  readonly durability: QoS['durability'];
  readonly depth: number;
}

/** Counts of what one endpoint carried, for reports. */
export interface EndpointStats {
  readonly topic: string;
  readonly type: string;
  readonly direction: 'publish' | 'subscribe';
  readonly count: number;
  /** messages a subscription's queue dropped because its reader fell behind (keep_last) */
  readonly dropped: number;
}

/** A managed-node transition, by its rcl_lifecycle label (lifecycle_msgs/msg/Transition). */
export type LifecycleTransition = 'configure' | 'activate' | 'deactivate' | 'cleanup' | 'shutdown';

/** What a transition's work came to: done, or refused saying why (the node stays where it was). */
export type TransitionOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The runtime's side of a node's lifecycle: the work of each transition (framework/runtime/managed_node.ts). */
export interface LifecycleDriver {
  /** do a transition's work; rejects when the work failed (the state machine then processes the error) */
  perform(transition: LifecycleTransition): Promise<TransitionOutcome>;
  /**
   * After a failed transition (ErrorProcessing): leave the node safe and release what it holds.
   * Resolves true when it can be configured again (→ unconfigured), false (→ finalized).
   */
  recover(failed: LifecycleTransition, error: unknown): Promise<boolean>;
}

/**
 * What a node handle offers when its transport exposes the node's lifecycle outside the process
 * (the ROS 2 transport: rcl_lifecycle's state machine and services, ./ros2/lifecycle.ts). The
 * runtime serves it the driver and takes every transition of its own through it, so requests from
 * outside and from the runtime take one path and the two never disagree on the state.
 */
export interface LifecycleEndpoint {
  serve(driver: LifecycleDriver): void;
  /**
   * Take the node through `transition` (after any transition under way), unless it is already in
   * the state that transition leads to; rejects saying why when it is not available, refused or failed.
   */
  transition(transition: LifecycleTransition): Promise<void>;
}

export interface NodeHandle<S extends ParamSchema = ParamSchema> {
  readonly name: string;
  readonly namespace: string;
  readonly fullyQualifiedName: string;
  readonly logger: Logger;
  /** the ROS clock: system time, or /clock when use_sim_time is true */
  readonly clock: Clock;
  /** monotonic time that never follows /clock, for measuring periods and timeouts */
  readonly steadyClock: Clock;
  readonly params: ParamValues<S & typeof COMMON_PARAMS>;

  createPublisher<K extends MessageTypeName>(type: K, topic: string, qos?: Partial<QoS>): Publisher<MessageOf<K>>;
  createSubscription<K extends MessageTypeName>(
    type: K,
    topic: string,
    callback: MessageCallback<MessageOf<K>>,
    options?: SubscriptionOptions,
  ): Subscription;
  /** a subscription that receives CDR bytes, undecoded (recorders, relays) */
  createRawSubscription(
    type: MessageTypeName,
    topic: string,
    callback: MessageCallback<Uint8Array>,
    options?: SubscriptionOptions,
  ): Subscription;
  /** a timer on the node's ROS clock, or on the clock given */
  createTimer(periodNs: bigint, callback: TimerCallback, clock?: Clock): Timer;
  /** the fully qualified name a topic resolves to for this node, after namespace and remaps */
  resolveTopicName(topic: string): string;
  /**
   * Every topic of the graph this node can see now (its own endpoints too), with its type and
   * endpoints; a topic whose endpoints disagree on the type is listed with the first one. Under
   * ROS 2 discovery is eventual: a topic appears some time after its first endpoint does.
   */
  topicNamesAndTypes(): TopicInfo[];
  /**
   * The parameters of every node of the graph this node can reach, its own included: embedded,
   * every node of the process (worker threads too); under ROS 2, every node that answers its
   * list_parameters and get_parameters services within `timeoutMs` (one that does not is left out).
   */
  graphParameters(timeoutMs?: number): Promise<GraphParameter[]>;
  /** present when the transport exposes the node's lifecycle outside the process (ROS 2) */
  readonly lifecycle?: LifecycleEndpoint | undefined;
  /**
   * The transport the node is on (absent: embedded). The embedded transport matches endpoints at
   * once and never loses a message to a matched one; over DDS a message can be lost while the two
   * sides are still discovering each other, which only a ROS 2 node has to allow for.
   */
  readonly transportKind?: 'embedded' | 'ros2';
  stats(): EndpointStats[];
  destroy(): void;
}

export interface NodeOptions<S extends ParamSchema> {
  readonly name: string;
  readonly namespace?: string;
  readonly parameters: S;
  /** parameter values in order of precedence, lowest first: files, then launch, then command line */
  readonly parameterSources?: readonly ParamSource[];
  readonly remaps?: readonly RemapRule[];
}

export interface Transport {
  readonly kind: 'embedded' | 'ros2';
  createNode<S extends ParamSchema>(options: NodeOptions<S>): Promise<NodeHandle<S>>;
  shutdown(): Promise<void>;
}
