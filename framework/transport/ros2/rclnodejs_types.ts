// The parts of rclnodejs 2.2.0 that the ROS 2 transport uses, typed structurally. rclnodejs's own
// declarations (types/*.d.ts) reference message interfaces that only exist after message
// generation on a ROS machine, so we cannot compile against them in CI. Each member here was read
// in the 2.2.0 sources (index.js, lib/*.js, src/*.cpp); names and argument orders are theirs.

/** lib/qos.js: static getters on the QoS class; values are the rmw enums. */
export interface QoSPolicies {
  readonly HistoryPolicy: {
    readonly RMW_QOS_POLICY_HISTORY_KEEP_LAST: number;
    readonly RMW_QOS_POLICY_HISTORY_KEEP_ALL: number;
  };
  readonly ReliabilityPolicy: {
    readonly RMW_QOS_POLICY_RELIABILITY_RELIABLE: number;
    readonly RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: number;
  };
  readonly DurabilityPolicy: {
    readonly RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: number;
    readonly RMW_QOS_POLICY_DURABILITY_VOLATILE: number;
  };
}

/** lib/parameter.js ParameterType (rcl_interfaces/msg/ParameterType). */
export interface ParameterTypes {
  readonly PARAMETER_NOT_SET: number;
  readonly PARAMETER_BOOL: number;
  readonly PARAMETER_INTEGER: number;
  readonly PARAMETER_DOUBLE: number;
  readonly PARAMETER_STRING: number;
  readonly PARAMETER_BYTE_ARRAY: number;
  readonly PARAMETER_BOOL_ARRAY: number;
  readonly PARAMETER_INTEGER_ARRAY: number;
  readonly PARAMETER_DOUBLE_ARRAY: number;
  readonly PARAMETER_STRING_ARRAY: number;
}

/** lib/clock_type.js */
export interface ClockTypes {
  readonly ROS_TIME: number;
  readonly SYSTEM_TIME: number;
  readonly STEADY_TIME: number;
}

/** lib/time.js: `nanoseconds` is a bigint read from the native time point. */
export interface RclTime {
  readonly nanoseconds: bigint;
}

/** lib/clock.js Clock; ROSClock adds isRosTimeActive (true while /clock drives it). */
export interface RclClock {
  readonly clockType: number;
  now(): RclTime;
}

export interface RclRosClock extends RclClock {
  readonly isRosTimeActive: boolean;
}

/** What node.createTimer passes its callback on distros newer than Humble (rcl_timer_call_with_info). */
export interface RclTimerInfo {
  readonly expectedCallTime: bigint;
  readonly actualCallTime: bigint;
}

/** lib/timer.js */
export interface RclTimer {
  readonly period: bigint;
  cancel(): void;
  reset(): void;
  isCanceled(): boolean;
  /** ns until the next call, on the timer's clock */
  timeUntilNextCall(): bigint;
}

/** lib/publisher.js: publish(Buffer) sends the bytes as a serialized message; subscriptionCount is a getter. */
export interface RclPublisher {
  readonly topic: string;
  readonly subscriptionCount: number;
  /** a Buffer is sent as a serialized message; a plain object is converted by the type's generated code */
  publish(message: Buffer | object): void;
}

/** lib/subscription.js: publisherCount is a getter (rcl_subscription_get_publisher_count). */
export interface RclSubscription {
  readonly topic: string;
  readonly publisherCount: number;
}

/** lib/logging.js: each call goes to rcutils (console, /rosout, log file). */
export interface RclLogger {
  /** the rcutils logger name: the node's namespace and name joined with dots ('arm.controller') */
  readonly name: string;
  debug(message: string): boolean;
  info(message: string): boolean;
  warn(message: string): boolean;
  error(message: string): boolean;
  fatal(message: string): boolean;
}

/** lib/parameter.js Parameter: integer values are bigint; integer arrays are bigint[]. */
export interface RclParameter {
  readonly name: string;
  readonly type: number;
  readonly value: unknown;
}

export interface RclParameterDescriptor {
  readonly name: string;
  additionalConstraints: string;
}

/** IntegerRange / FloatingPointRange instances, only passed back to rclnodejs. */
export interface RclRange {
  readonly fromValue: unknown;
  readonly toValue: unknown;
}

export interface RclSetParametersResult {
  successful: boolean;
  reason: string;
}

/** lib/qos.js QoS instance; the native side reads its getters. */
export interface RclQoS {
  readonly history: number;
  readonly depth: number;
  readonly reliability: number;
  readonly durability: number;
}

export interface RclPubSubOptions {
  qos: RclQoS;
  /** subscriptions: deliver the serialized message as a Buffer */
  isRaw?: boolean;
}

/** lib/node.js Node (extends the native ShadowNode, which provides spin's event loop). */
export interface RclNode {
  name(): string;
  namespace(): string;
  getFullyQualifiedName(): string;
  getLogger(): RclLogger;
  getClock(): RclRosClock;
  createPublisher(type: string, topic: string, options: RclPubSubOptions): RclPublisher;
  /**
   * the callback must declare one parameter: with two, rclnodejs also takes MessageInfo; it gets a
   * Buffer when isRaw, else the message as rclnodejs's generated code decodes it
   */
  createSubscription(
    type: string,
    topic: string,
    options: RclPubSubOptions,
    callback: (message: never) => void, // never: any callback fits; the caller knows what isRaw gives
  ): RclSubscription;
  /** clock: an instance of rclnodejs's Clock; default the node's ROS clock */
  createTimer(periodNs: bigint, callback: (info?: RclTimerInfo) => void, clock?: RclClock): RclTimer;
  destroyPublisher(publisher: RclPublisher): void;
  destroySubscription(subscription: RclSubscription): void;
  destroyTimer(timer: RclTimer): void;
  declareParameter(
    parameter: RclParameter,
    descriptor?: RclParameterDescriptor,
    ignoreOverride?: boolean,
  ): RclParameter | null;
  hasParameter(name: string): boolean;
  getParameter(name: string): RclParameter;
  setParameter(parameter: RclParameter): RclSetParametersResult;
  /** setParameter, setParameters and the parameter service all call it (on the instance) */
  setParametersAtomically(parameters?: RclParameter[]): RclSetParametersResult;
  addOnSetParametersCallback(callback: (parameters: RclParameter[]) => RclSetParametersResult): void;
  /** rcl_get_topic_names_and_types: every topic of the graph this node has discovered, with its types */
  getTopicNamesAndTypes(noDemangle?: boolean): Array<{ name: string; types: string[] }>;
  /** rcl_get_node_names: the graph's nodes */
  getNodeNamesAndNamespaces(): Array<{ name: string; namespace: string }>;
  /** lib/parameter_client.js: the list_parameters and get_parameters services of another node */
  createParameterClient(remoteNodeName: string, options?: { timeout?: number }): RclParameterClient;
  /** rcl_get_publishers_info_by_topic (`topic` as a ROS name when noDemangle is false) */
  getPublishersInfoByTopic(topic: string, noDemangle: boolean): RclTopicEndpointInfo[];
  /** rcl_get_subscriptions_info_by_topic */
  getSubscriptionsInfoByTopic(topic: string, noDemangle: boolean): RclTopicEndpointInfo[];
  /** start the node's event loop (wait set on a native thread, callbacks on the JS thread); timeout in ms */
  spin(timeoutMs?: number): void;
  destroy(): void;
}

/** lib/parameter_client.js ParameterClient (the calls used here) */
export interface RclParameterClient {
  listParameters(options?: { timeout?: number }): Promise<{ names: string[]; prefixes: string[] }>;
  /** the parameters that are set, as lib/parameter.js Parameter objects */
  getParameters(
    names: string[],
    options?: { timeout?: number },
  ): Promise<Array<{ name: string; type: number; value: unknown }>>;
  destroy(): void;
}

/** One rmw_topic_endpoint_info_t as lib/node.js getPublishersInfoByTopic returns it (the fields used here). */
export interface RclTopicEndpointInfo {
  readonly node_name: string;
  readonly node_namespace: string;
  /** src/rcl_utilities.cpp ConvertToQoS: rmw_qos_profile_t's enums as numbers */
  readonly qos_profile: RclEndpointQos;
}

/** rmw/types.h: reliability 1 RELIABLE, 2 BEST_EFFORT; durability 1 TRANSIENT_LOCAL, 2 VOLATILE (0: system default) */
export interface RclEndpointQos {
  readonly depth: number;
  readonly history: number;
  readonly reliability: number;
  readonly durability: number;
}

/** lib/node_options.js NodeOptions, as the plain object lib/node.js _normalizeOptions accepts. */
export interface RclNodeOptions {
  /** rcl's own /rosout publisher for the node (created only if rcl's rosout logging is enabled) */
  enableRosout?: boolean;
}

/** lib/context.js Context: one rcl init/shutdown scope. */
export interface RclContext {
  isShutdown(): boolean;
}

/** The default export of rclnodejs (dist/index.js `export { index_default as default }`). */
export interface Rclnodejs {
  init(context?: RclContext, argv?: string[]): Promise<void>;
  shutdown(context?: RclContext): void;
  isShutdown(context?: RclContext): boolean;
  /** index.js installs process.on('SIGINT', shutdownAll) at import; this removes it */
  removeSignalHandlers(): void;
  readonly Context: new () => RclContext;
  /** args: node-local --ros-args (rcl_node_options_t.arguments), applied before the global ones */
  readonly Node: new (
    name: string,
    namespace?: string,
    context?: RclContext,
    options?: RclNodeOptions,
    args?: string[],
    useGlobalArguments?: boolean,
  ) => RclNode;
  readonly Clock: new (clockType?: number) => RclClock;
  readonly ClockType: ClockTypes;
  readonly Time: new (seconds?: bigint, nanoseconds?: bigint, clockType?: number) => RclTime;
  readonly QoS: QoSPolicies & (new (history: number, depth: number, reliability: number, durability: number) => RclQoS);
  readonly ParameterType: ParameterTypes;
  readonly Parameter: new (name: string, type: number, value: unknown) => RclParameter;
  readonly ParameterDescriptor: new (
    name: string,
    type: number,
    description?: string,
    readOnly?: boolean,
    range?: RclRange | null,
  ) => RclParameterDescriptor;
  readonly IntegerRange: new (fromValue: bigint, toValue: bigint, step?: bigint) => RclRange;
  readonly FloatingPointRange: new (fromValue: number, toValue: number, step?: number, tolerance?: number) => RclRange;
}
