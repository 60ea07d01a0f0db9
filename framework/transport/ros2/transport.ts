import { codecFor } from '../../msgs/codec.js';
import type { MessageOf, MessageTypeName } from '../../msgs/types.js';
import { ParamError } from '../../params/resolve.js';
import type { ParamSchema } from '../../../src/util/param_schema.js';
import type { Clock, ClockType, Timer, TimerCallback } from '../../time/clock.js';
import { createLogger, type Logger } from '../../../src/util/log.js';
import { resolveQoS, type QoS } from '../qos.js';
import { describeError, EndpointCounter, NodeBase, nodeIdentity, type NodeIdentity } from '../node_base.js';
import { fullyQualifiedNodeName } from '../names.js';
import { graphParametersOf } from '../graph_parameters.js';
import type {
  LifecycleEndpoint,
  MessageCallback,
  NodeHandle,
  NodeOptions,
  Publisher,
  Subscription,
  SubscriptionOptions,
  GraphParameter,
  TopicInfo,
  Transport,
} from '../types.js';
import { firstLine, loadRclnodejs } from './load.js';
import {
  endpointQos,
  graphParameterFromRos,
  paramDeclaration,
  qosArguments,
  rclTimeToNs,
  timerInfoFrom,
} from './mapping.js';
import { parseRosArgs, rclArgv, remapsForNode, rosoutLogsEnabled, rosParamSources, type RosArg } from '../ros_args.js';
import { hearClockBestEffort } from './clock_source.js';
import { QOS_ROSOUT, rosoutLog, teeLogger } from './rosout.js';
import { manageNode } from './lifecycle.js';
import { PARAMETER_EVENTS_REMAP, refuseUndeclaredAsRclcpp } from './workarounds.js';
import type {
  RclClock,
  RclContext,
  Rclnodejs,
  RclNode,
  RclParameterClient,
  RclParameter,
  RclQoS,
  RclRosClock,
  RclSetParametersResult,
  RclTimer,
  RclTopicEndpointInfo,
} from './rclnodejs_types.js';

// The ROS 2 transport: one rclnodejs Node per dynastack node, in an rcl context of its own (so a
// process can create and shut down transports one after another), spun by rclnodejs's event loop.
//
// Names and parameters go through nodeIdentity, as on the embedded transport. The process's
// --ros-args are read here with framework/params (the code the embedded launcher uses for the same
// files), not taken from rclnodejs: rclnodejs 2.2.0 applies a parameter file's section only when
// its key is the bare node name or /** (lib/node.js _getNativeParameterOverrides), so
// '/arm/controller:' sections and launch_ros's fully-qualified temporary files would be lost, and
// a value of the wrong type fails inside rclnodejs with a message that does not say why.
// Precedence, lowest first: NodeOptions.parameterSources (a launcher's values), then the
// --ros-args in command-line order (--params-file sections, -p), as rcl applies them. Bad values
// stop the node with our message before any ROS entity exists.
//
// Every parameter is then declared on the rclnodejs node with its descriptor, holding the value
// the node uses, so `ros2 param list/get/describe` tell the truth; changes at run time are
// refused, since dynastack reads parameters once, at configure.
//
// Messages travel as CDR both ways: typed publishers encode with our codec and publish the Buffer
// (rclnodejs publishes a Buffer as a serialized message), typed subscriptions are raw (isRaw) and
// decode with our codec. Nodes get the shapes the embedded transport gives (Float64Array, numbers),
// and one codec serves both transports (the framing is the same: rclnodejs's raw publish(Buffer)
// and isRaw subscriptions carry the same 4-byte CDR encapsulation header). rclnodejs still needs
// each type's generated code for its type support.

export interface Ros2TransportOptions {
  /**
   * the process's --ros-args (remaps, -p, --params-file, log options); default process.argv. rcl
   * gets them without -p/--param/--params-file (see rclArgv in ../ros_args.ts)
   */
  argv?: readonly string[];
  /**
   * Also publish every log line on /rosout (rqt_console), as rclcpp does (./rosout.ts). Default:
   * on, unless argv's --ros-args say --disable-rosout-logs.
   */
  rosout?: boolean;
}

export class Ros2Transport implements Transport {
  readonly kind = 'ros2' as const;
  readonly #rcl: Rclnodejs;
  readonly #context: RclContext;
  readonly #rosArgs: readonly RosArg[];
  readonly #rosout: boolean;
  readonly #steady: RclClock;
  readonly #nodes = new Map<string, Ros2Node<ParamSchema>>();
  #shutdown = false;

  private constructor(rcl: Rclnodejs, context: RclContext, rosArgs: readonly RosArg[], rosout: boolean) {
    this.#rcl = rcl;
    this.#context = context;
    this.#rosArgs = rosArgs;
    this.#rosout = rosout;
    this.#steady = new rcl.Clock(rcl.ClockType.STEADY_TIME);
  }

  static async create(options: Ros2TransportOptions = {}): Promise<Ros2Transport> {
    const rcl = await loadRclnodejs();
    // importing rclnodejs installed a SIGINT handler that shuts every context down; dynastack owns
    // SIGINT and SIGTERM (ros2 launch sends both) and shuts down in order
    rcl.removeSignalHandlers();
    const argv = [...(options.argv ?? process.argv)];
    const rosArgs = parseRosArgs(argv);
    const context = new rcl.Context();
    try {
      await rcl.init(context, rclArgv(argv));
    } catch (err) {
      throw new Error(`cannot initialise ROS 2 (rclnodejs init): ${firstLine(err)}`, { cause: err });
    }
    return new Ros2Transport(rcl, context, rosArgs, options.rosout ?? rosoutLogsEnabled(argv));
  }

  createNode<S extends ParamSchema>(options: NodeOptions<S>): Promise<NodeHandle<S>> {
    // the work is synchronous; the executor turns what it throws into the rejection callers await
    return new Promise((resolve) => resolve(this.#createNode(options)));
  }

  #createNode<S extends ParamSchema>(options: NodeOptions<S>): NodeHandle<S> {
    if (this.#shutdown) throw new Error(`cannot create node ${options.name}: the ROS 2 transport was shut down`);
    const remaps = [...(options.remaps ?? []), ...remapsForNode(this.#rosArgs, options.name)];
    // the fully qualified name decides which parameter-file sections apply
    const { fullyQualifiedName } = nodeIdentity({
      name: options.name,
      namespace: options.namespace,
      parameters: {},
      remaps,
    });
    if (this.#nodes.has(fullyQualifiedName))
      throw new Error(`a node named ${fullyQualifiedName} already exists in this process`);
    const parameterSources = [
      ...(options.parameterSources ?? []),
      ...rosParamSources(this.#rosArgs, fullyQualifiedName),
    ];
    const id = nodeIdentity({ ...options, remaps, parameterSources });
    const node = new Ros2Node(this.#rcl, this.#context, this.#steady, id, options.parameters, this.#rosout, () =>
      this.#nodes.delete(id.fullyQualifiedName),
    );
    this.#nodes.set(id.fullyQualifiedName, node as Ros2Node<ParamSchema>);
    return node;
  }

  shutdown(): Promise<void> {
    if (this.#shutdown) return Promise.resolve();
    this.#shutdown = true;
    for (const node of [...this.#nodes.values()]) node.destroy();
    if (!this.#rcl.isShutdown(this.#context)) this.#rcl.shutdown(this.#context);
    return Promise.resolve();
  }
}

/** Zero-copy Buffer view of CDR bytes (rclnodejs tests `instanceof Buffer` to publish raw). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Our Clock over an rclnodejs clock; its timers are rcl timers of the node, on that clock. */
class Ros2Clock implements Clock {
  constructor(
    readonly type: ClockType,
    private readonly rclClock: RclClock,
    private readonly node: RclNode,
  ) {}

  /** true while /clock drives the ROS clock (use_sim_time); rclnodejs's TimeSource switches it */
  get isSimTime(): boolean {
    return this.type === 'ros' && (this.rclClock as RclRosClock).isRosTimeActive;
  }

  now(): bigint {
    return rclTimeToNs(this.rclClock.now());
  }

  createTimer(periodNs: bigint, callback: TimerCallback): Timer {
    if (typeof periodNs !== 'bigint' || periodNs <= 0n)
      throw new Error(`timer period must be a positive bigint of nanoseconds, got ${String(periodNs)}`);
    const timer: RclTimer = this.node.createTimer(
      periodNs,
      (info) =>
        callback(
          timerInfoFrom(info, () => {
            // Humble passes no call info: rcl has already moved the deadline one period on
            // (skipping missed ones), so this call was due one period before the next
            const actual = this.now();
            const expected = actual + timer.timeUntilNextCall() - periodNs;
            return { expectedNs: expected < actual ? expected : actual, actualNs: actual };
          }),
        ),
      this.rclClock,
    );
    return {
      periodNs,
      cancel: () => timer.cancel(),
      reset: () => timer.reset(),
      isCanceled: () => timer.isCanceled(),
    };
  }
}

class Ros2Node<S extends ParamSchema> extends NodeBase<S> implements NodeHandle<S> {
  readonly transportKind = 'ros2' as const;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly steadyClock: Clock;
  /** the node as a ROS 2 managed node (`ros2 lifecycle`), ./lifecycle.ts */
  readonly lifecycle: LifecycleEndpoint | undefined;
  readonly #rcl: Rclnodejs;
  readonly #node: RclNode;
  readonly #onDestroy: () => void;
  /** its own parameters as the graph lists them (read once: they do not change) */
  readonly #ownParameters: readonly GraphParameter[];
  /** parameter clients of the other nodes, by fully qualified name */
  readonly #parameterClients = new Map<string, RclParameterClient>();

  constructor(
    rcl: Rclnodejs,
    context: RclContext,
    steady: RclClock,
    id: NodeIdentity<S>,
    schema: S,
    rosout: boolean,
    onDestroy: () => void,
  ) {
    super(id);
    this.#rcl = rcl;
    this.#onDestroy = onDestroy;
    this.#ownParameters = graphParametersOf(id.fullyQualifiedName, schema, id.params);
    try {
      // rcl applies the global --ros-args remaps again; they are already in id, so the name is unchanged.
      // No rcl /rosout publisher: the transport publishes the node's lines itself (./rosout.ts);
      // parameter events on /parameter_events, as rclcpp (./workarounds.ts)
      this.#node = new rcl.Node(id.name, id.namespace, context, { enableRosout: false }, [...PARAMETER_EVENTS_REMAP]);
    } catch (err) {
      throw new Error(`cannot create ROS 2 node ${id.fullyQualifiedName}: ${firstLine(err)}`, { cause: err });
    }
    try {
      const actual = this.#node.getFullyQualifiedName();
      if (actual !== id.fullyQualifiedName) {
        throw new Error(
          `rcl named the node ${actual} but dynastack resolved ${id.fullyQualifiedName}; check the __node/__ns remaps`,
        );
      }
      hearClockBestEffort(rcl, this.#node); // before use_sim_time is set, in #declareParameters
      refuseUndeclaredAsRclcpp(this.#node);
      this.#declareParameters(schema);
      this.logger = this.#logger(rosout);
      this.clock = new Ros2Clock('ros', this.#node.getClock(), this.#node);
      this.steadyClock = new Ros2Clock('steady', steady, this.#node);
      this.lifecycle = manageNode(rcl, this.#node, this.logger);
      this.#node.spin();
    } catch (err) {
      this.#node.destroy();
      throw err;
    }
  }

  #declareParameters(schema: ParamSchema): void {
    const rcl = this.#rcl;
    const node = this.#node;
    const fqn = this.fullyQualifiedName;
    const values = this.params as Readonly<Record<string, unknown>>;
    for (const [name, spec] of Object.entries(schema)) {
      if (name === 'use_sim_time') continue; // declared below, by rclnodejs
      const d = paramDeclaration(spec, values[name], rcl.ParameterType, name);
      const range =
        d.range === undefined
          ? null
          : d.range.kind === 'integer'
            ? new rcl.IntegerRange(d.range.from, d.range.to, d.range.step)
            : new rcl.FloatingPointRange(d.range.from, d.range.to, d.range.step);
      try {
        const descriptor = new rcl.ParameterDescriptor(name, d.type, d.description, d.readOnly, range);
        descriptor.additionalConstraints = d.additionalConstraints;
        // ignoreOverride: the value is already resolved from the same --ros-args (see the header)
        node.declareParameter(new rcl.Parameter(name, d.type, d.value), descriptor, true);
      } catch (err) {
        throw new ParamError(`node ${fqn}: parameter '${name}': rclnodejs refused its declaration: ${firstLine(err)}`);
      }
    }
    // rclnodejs's TimeSource declared use_sim_time false (rcl gets no parameter overrides, see
    // rclArgv); make it ours, which also switches the ROS clock to /clock (or back). Its /clock
    // subscription is best-effort (./clock_source.ts), so it hears rclcpp's best-effort /clock as
    // well as dynastack's reliable one (QOS_CLOCK_PUBLISHER in ../qos.ts).
    const useSimTime = this.params.use_sim_time;
    if (node.getParameter('use_sim_time').value !== useSimTime) {
      const result = node.setParameter(new rcl.Parameter('use_sim_time', rcl.ParameterType.PARAMETER_BOOL, useSimTime));
      if (!result.successful)
        throw new ParamError(
          `node ${fqn}: parameter 'use_sim_time': cannot set it to ${String(useSimTime)}: ${result.reason}`,
        );
    }
    const ours = new Set([...Object.keys(schema), 'use_sim_time']);
    node.addOnSetParametersCallback((parameters: RclParameter[]): RclSetParametersResult => {
      const refused = parameters.find((p) => ours.has(p.name));
      return refused
        ? {
            successful: false,
            reason: `${fqn} reads '${refused.name}' once, at start-up: change it in its parameter file or launch file and restart the node`,
          }
        : { successful: true, reason: '' };
    });
  }

  /** The console logger, and /rosout too when `rosout`, under rcl's logger name for the node. */
  #logger(rosout: boolean): Logger {
    const base = createLogger(this.fullyQualifiedName);
    if (!rosout) return base;
    const pub = this.#entity('publish on', 'rcl_interfaces/msg/Log', '/rosout', () =>
      this.#node.createPublisher('rcl_interfaces/msg/Log', '/rosout', { qos: this.#qos(QOS_ROSOUT) }),
    );
    const name = this.#node.getLogger().name; // 'arm.controller' for /arm/controller, as rcl names it
    return teeLogger(base, (level, text) => {
      if (!this.destroyed) pub.publish(rosoutLog(level, name, text, BigInt(Date.now()) * 1_000_000n));
    });
  }

  #qos(qos: QoS): RclQoS {
    return new this.#rcl.QoS(...qosArguments(qos, this.#rcl.QoS));
  }

  /** rclnodejs loads a type's generated code on first use; say what to do when there is none. */
  #entity<T>(what: string, type: string, topic: string, create: () => T): T {
    try {
      return create();
    } catch (err) {
      throw new Error(
        `${this.fullyQualifiedName} cannot ${what} ${topic} (${type}): ${firstLine(err)} ` +
          `(is the package built and sourced, and were messages generated: npx generate-ros-messages?)`,
        { cause: err },
      );
    }
  }

  #topicName(resolved: string, actual: string): string {
    if (actual !== resolved) this.logger.warn(`rcl resolved topic ${resolved} to ${actual}; using ${actual}`);
    return actual;
  }

  createPublisher<K extends MessageTypeName>(type: K, topic: string, qosIn?: Partial<QoS>): Publisher<MessageOf<K>> {
    this.check();
    const resolved = this.resolveTopicName(topic);
    const qos = resolveQoS(qosIn);
    const codec = codecFor(type); // an unknown type fails here, naming it
    const pub = this.#entity('publish on', type, resolved, () =>
      this.#node.createPublisher(type, resolved, { qos: this.#qos(qos) }),
    );
    const name = this.#topicName(resolved, pub.topic);
    const counter = this.record(new EndpointCounter(name, type, 'publish'));
    const send = (bytes: Uint8Array): void => {
      pub.publish(asBuffer(bytes));
      counter.count++;
    };
    let destroyed = false;
    return {
      topic: name,
      type,
      qos,
      publish: (message) => send(codec.encode(message)),
      publishRaw: (cdr) => send(cdr),
      // matched subscriptions (rcl_publisher_get_subscription_count), QoS-compatible ones only
      subscriptionCount: () => (destroyed || this.destroyed ? 0 : pub.subscriptionCount),
      destroy: () => {
        if (destroyed || this.destroyed) return;
        destroyed = true;
        this.#node.destroyPublisher(pub);
      },
    };
  }

  #subscribe(
    type: MessageTypeName,
    topic: string,
    qosIn: Partial<QoS> | undefined,
    deliver: (bytes: Buffer) => void,
  ): Subscription {
    this.check();
    const resolved = this.resolveTopicName(topic);
    const qos = resolveQoS(qosIn);
    codecFor(type);
    const counter = new EndpointCounter(resolved, type, 'subscribe');
    // one declared parameter: rclnodejs passes MessageInfo too to callbacks that declare two
    const onMessage = (bytes: Buffer): void => {
      counter.count++;
      try {
        deliver(bytes);
      } catch (err) {
        this.logger.error(`callback for ${resolved} threw: ${describeError(err)}`);
      }
    };
    // keep_last overwrites happen inside DDS and are not reported, so `dropped` stays 0 here
    const sub = this.#entity('subscribe to', type, resolved, () =>
      this.#node.createSubscription(type, resolved, { qos: this.#qos(qos), isRaw: true }, onMessage),
    );
    this.record(counter);
    const name = this.#topicName(resolved, sub.topic);
    let destroyed = false;
    return {
      topic: name,
      type,
      qos,
      // matched publishers (rcl_subscription_get_publisher_count), QoS-compatible ones only
      publisherCount: () => (destroyed || this.destroyed ? 0 : sub.publisherCount),
      destroy: () => {
        if (destroyed || this.destroyed) return;
        destroyed = true;
        this.#node.destroySubscription(sub);
      },
    };
  }

  createSubscription<K extends MessageTypeName>(
    type: K,
    topic: string,
    callback: MessageCallback<MessageOf<K>>,
    options?: SubscriptionOptions,
  ): Subscription {
    const codec = codecFor(type);
    return this.#subscribe(type, topic, options?.qos, (bytes) => callback(codec.decode(bytes)));
  }

  createRawSubscription(
    type: MessageTypeName,
    topic: string,
    callback: MessageCallback<Uint8Array>,
    options?: SubscriptionOptions,
  ): Subscription {
    return this.#subscribe(type, topic, options?.qos, (bytes) => callback(bytes));
  }

  /** The graph as rcl discovered it: names and types, then each topic's endpoints (rcl/graph.h). */
  topicNamesAndTypes(): TopicInfo[] {
    if (this.destroyed) return [];
    const nodeOf = (e: RclTopicEndpointInfo): string => fullyQualifiedNodeName(e.node_namespace, e.node_name);
    const out: TopicInfo[] = [];
    for (const { name, types } of this.#node.getTopicNamesAndTypes()) {
      const type = types[0];
      if (type === undefined) continue;
      const publishers = this.#node.getPublishersInfoByTopic(name, false);
      const publisherNodes = publishers.map(nodeOf);
      const subscriberNodes = this.#node.getSubscriptionsInfoByTopic(name, false).map(nodeOf);
      out.push({
        name,
        type,
        publishers: publisherNodes.length,
        subscribers: subscriberNodes.length,
        publisherNodes,
        subscriberNodes,
        publisherQos: publishers.map((e) => endpointQos(e.qos_profile, this.#rcl.QoS)),
      });
    }
    return out;
  }

  /**
   * This node's parameters, and those of every other node of the graph that answers its
   * list_parameters and get_parameters services (rcl_interfaces) within timeoutMs, asked at once.
   */
  async graphParameters(timeoutMs = 1000): Promise<GraphParameter[]> {
    if (this.destroyed) return [];
    const nodes = new Set(
      this.#node
        .getNodeNamesAndNamespaces()
        .map((n) => fullyQualifiedNodeName(n.namespace, n.name))
        .filter((fqn) => fqn !== this.fullyQualifiedName),
    );
    for (const [fqn, client] of this.#parameterClients)
      if (!nodes.has(fqn)) {
        client.destroy();
        this.#parameterClients.delete(fqn);
      }
    const types = this.#rcl.ParameterType;
    const others = await Promise.all(
      [...nodes].map(async (fqn) => {
        try {
          let client = this.#parameterClients.get(fqn);
          if (!client) {
            client = this.#node.createParameterClient(fqn, { timeout: timeoutMs });
            this.#parameterClients.set(fqn, client);
          }
          const { names } = await client.listParameters({ timeout: timeoutMs });
          const values = names.length ? await client.getParameters(names, { timeout: timeoutMs }) : [];
          return values.flatMap((p) => graphParameterFromRos(fqn, p, types) ?? []);
        } catch {
          return []; // no parameter services (or too slow): left out
        }
      }),
    );
    return [...this.#ownParameters, ...others.flat()];
  }

  protected release(): void {
    for (const client of this.#parameterClients.values()) client.destroy();
    this.#parameterClients.clear();
    try {
      this.#node.destroy(); // stops spinning, releases publishers, subscriptions and timers
    } catch (err) {
      this.logger.warn(`destroying the rclnodejs node failed: ${firstLine(err)}`);
    }
    this.#onDestroy();
  }
}
