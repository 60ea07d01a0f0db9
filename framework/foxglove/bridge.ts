import type { Parameter } from '@foxglove/ws-protocol';
import type { MessageTypeName } from '../msgs/types.js';
import { QOS_CLOCK_SUBSCRIBER } from '../transport/qos.js';
import type { EndpointQos, NodeHandle, Subscription } from '../transport/types.js';
import type { Timer } from '../time/clock.js';
import { timeToNs } from '../time/time.js';
import { describeError } from '../transport/node_base.js';
import { ClientPublishers } from './client_publish.js';
import { foxgloveParameters } from './parameters.js';
import { channelFor, offeredTopics, subscriptionQos } from './discovery.js';
import { CAPABILITIES, Level, type Capability } from './protocol.js';
import { FoxgloveWebSocketServer, type ClientHandle, type ClientStats } from './server.js';

// foxglove_bridge for dynastack: every topic of the graph, as the node handle discovers it
// (NodeHandle.topicNamesAndTypes), offered to Foxglove clients over the WebSocket server
// (./server.ts) as a CDR channel with its ros2msg schema (./discovery.ts). The graph is read
// again every `discoveryPeriodNs` (steady time): new topics are advertised, gone ones (or ones
// whose type changed) unadvertised. A topic is subscribed — raw, its CDR bytes passed on as they
// are — only while some client subscribes to its channel, with the QoS its publishers offer
// (./discovery.ts subscriptionQos). A latched topic's newest messages (its depth) are kept while
// it is subscribed and sent to each client that subscribes later, as a ROS subscriber of its own
// would get them (foxglove_bridge subscribes per client for this). Messages carry the node's ROS
// time, and with use_sim_time (capability time) a time message follows each /clock message, so
// both come from one source as the spec requires ("Time"). Parameters: every node's of the graph
// (NodeHandle.graphParameters, ./parameters.ts); setting them is refused unless the owner passes
// `setParameters`. The connection graph is the discovered one, without the bridge's own
// endpoints. Client publishing goes through ./client_publish.ts (whitelist, type, payload check).

/** What this bridge can offer of the spec's capabilities. */
const OFFERED: readonly Capability[] = ['clientPublish', 'time', 'parameters', 'connectionGraph'];

/**
 * The capabilities to declare from the `capabilities` parameter: a name outside the spec fails
 * with one line; one of the spec this bridge does not implement (parametersSubscribe, services,
 * assets — in foxglove_bridge's default list) is left out, said in `notes`; `time` only with
 * use_sim_time, as foxglove_bridge adds it (without it the client's clock is the wall clock).
 */
export function bridgeCapabilities(
  requested: readonly string[],
  useSimTime: boolean,
): { capabilities: Capability[]; notes: string[] } {
  const capabilities: Capability[] = [];
  const notes: string[] = [];
  for (const name of requested) {
    if (!(CAPABILITIES as readonly string[]).includes(name))
      throw new Error(`parameter 'capabilities': '${name}' is not a capability (one of ${CAPABILITIES.join(', ')})`);
    const c = name as Capability;
    if (!OFFERED.includes(c)) notes.push(`capability '${c}' is not implemented by this bridge; left out`);
    else if (c === 'time' && !useSimTime) notes.push("capability 'time' is declared only with use_sim_time");
    else if (!capabilities.includes(c)) capabilities.push(c);
  }
  return { capabilities, notes };
}

export interface BridgeOptions {
  readonly address: string;
  readonly port: number;
  readonly capabilities: readonly Capability[];
  /** compiled topic_whitelist */
  readonly topicWhitelist: readonly RegExp[];
  /** compiled client_topic_whitelist */
  readonly clientTopicWhitelist: readonly RegExp[];
  /** the deepest a subscription may be: its publishers' depths summed, at most this (foxglove_bridge's max_qos_depth) */
  readonly maxQosDepth: number;
  readonly sendBufferLimitBytes: number;
  readonly messageBacklog: number;
  readonly maxIncomingBytes: number;
  readonly discoveryPeriodNs: bigint;
  /** how long another node has to answer for its parameters (ROS 2: its parameter services) */
  readonly parameterTimeoutMs?: number;
  /** set parameters; absent: refused */
  readonly setParameters?: (parameters: readonly Parameter[]) => string | undefined;
}

interface OfferedChannel {
  readonly id: number;
  readonly topic: string;
  readonly type: string;
  /** its publishers' QoS, as last discovered */
  publisherQos: readonly EndpointQos[];
  subscription: Subscription | undefined;
  /** a transient-local subscription's newest messages (up to its depth), for clients that come later */
  latched: { depth: number; messages: { stampNs: bigint; bytes: Uint8Array }[] } | undefined;
}

/** Counts for the node's metrics. */
export interface BridgeFigures {
  readonly port: number;
  readonly channels: number;
  readonly clients: number;
  readonly connections: number;
  readonly messages_forwarded: number;
  readonly messages_dropped: number;
  readonly client_messages_published: number;
  readonly client_messages_malformed: number;
}

export class FoxgloveBridge {
  readonly #node: NodeHandle;
  readonly #options: BridgeOptions;
  readonly #server: FoxgloveWebSocketServer;
  readonly #clientPublishers: ClientPublishers;
  readonly #byTopic = new Map<string, OfferedChannel>();
  readonly #byId = new Map<number, OfferedChannel>();
  readonly #refused = new Set<string>();
  #timer: Timer | undefined;
  #clock: Subscription | undefined;
  #forwarded = 0;

  private constructor(
    node: NodeHandle,
    options: BridgeOptions,
    server: FoxgloveWebSocketServer,
    clients: ClientPublishers,
  ) {
    this.#node = node;
    this.#options = options;
    this.#server = server;
    this.#clientPublishers = clients;
  }

  /** Listen and serve; rejects with one line when the server cannot listen. */
  static async open(node: NodeHandle, options: BridgeOptions): Promise<FoxgloveBridge> {
    const clients = new ClientPublishers(node, options.clientTopicWhitelist);
    // the server's handlers reach the bridge once it exists (no client can subscribe before)
    const self: { bridge?: FoxgloveBridge } = {};
    const server = await FoxgloveWebSocketServer.listen(
      {
        name: `dynastack ${node.fullyQualifiedName}`,
        address: options.address,
        port: options.port,
        capabilities: options.capabilities,
        supportedEncodings: ['cdr'],
        sendBufferLimitBytes: options.sendBufferLimitBytes,
        messageBacklog: options.messageBacklog,
        maxIncomingBytes: options.maxIncomingBytes,
        logger: node.logger,
      },
      {
        subscribe: (id, client, first) => {
          if (!self.bridge) return;
          if (first) self.bridge.#subscribe(id);
          else self.bridge.#replayLatched(id, client);
        },
        unsubscribe: (id) => {
          if (self.bridge) self.bridge.#unsubscribe(id);
        },
        clientAdvertise: (client, channel) => clients.advertise(client.id, channel),
        clientUnadvertise: (client, id) => clients.unadvertise(client.id, id),
        clientMessage: (client, id, payload) => clients.publish(client.id, id, payload),
        getParameters: async (names) =>
          foxgloveParameters(await node.graphParameters(options.parameterTimeoutMs), names),
        setParameters: (parameters) =>
          options.setParameters
            ? options.setParameters(parameters)
            : `${node.fullyQualifiedName} does not let clients set parameters: dynastack reads them once, at start-up (change the launch or parameter file and restart)`,
      },
    );
    const bridge = new FoxgloveBridge(node, options, server, clients);
    self.bridge = bridge;
    bridge.discover();
    return bridge;
  }

  get port(): number {
    return this.#server.port;
  }

  /** Start serving: periodic discovery, time, client publishing. */
  start(): void {
    this.#clientPublishers.active = true;
    this.#timer ??= this.#node.createTimer(
      this.#options.discoveryPeriodNs,
      () => this.discover(),
      this.#node.steadyClock,
    );
    if (this.#options.capabilities.includes('time') && !this.#clock)
      this.#clock = this.#node.createSubscription(
        'rosgraph_msgs/msg/Clock',
        '/clock',
        (m) => this.#server.broadcastTime(timeToNs(m.clock)),
        { qos: QOS_CLOCK_SUBSCRIBER },
      );
  }

  /** Stop discovery, time and client publishing; subscribed channels keep flowing. */
  stop(): void {
    this.#clientPublishers.active = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#clock?.destroy();
    this.#clock = undefined;
  }

  /** Read the graph now: advertise what is new, unadvertise what went, update the connection graph. */
  discover(): void {
    const topics = offeredTopics(
      this.#node.topicNamesAndTypes(),
      this.#node.fullyQualifiedName,
      this.#options.topicWhitelist,
    );
    const seen = new Set<string>();
    for (const t of topics) {
      seen.add(t.name);
      const current = this.#byTopic.get(t.name);
      if (current && current.type === t.type) {
        current.publisherQos = t.publisherQos;
        continue;
      }
      if (current) this.#remove(current);
      const channel = channelFor(t.name, t.type);
      if (typeof channel === 'string') {
        if (!this.#refused.has(`${t.name}|${t.type}`)) {
          this.#refused.add(`${t.name}|${t.type}`);
          this.#node.logger.warn(channel);
        }
        continue;
      }
      const offered: OfferedChannel = {
        id: this.#server.addChannel(channel),
        topic: t.name,
        type: t.type,
        publisherQos: t.publisherQos,
        subscription: undefined,
        latched: undefined,
      };
      this.#byTopic.set(t.name, offered);
      this.#byId.set(offered.id, offered);
    }
    for (const c of [...this.#byTopic.values()]) if (!seen.has(c.topic)) this.#remove(c);
    if (this.#options.capabilities.includes('connectionGraph')) this.#server.setConnectionGraph(topics);
  }

  #remove(c: OfferedChannel): void {
    c.subscription?.destroy();
    c.subscription = undefined;
    c.latched = undefined;
    this.#byTopic.delete(c.topic);
    this.#byId.delete(c.id);
    this.#server.removeChannel(c.id);
  }

  #subscribe(channelId: number): void {
    const c = this.#byId.get(channelId);
    if (!c || c.subscription) return;
    const qos = subscriptionQos(c.publisherQos, this.#options.maxQosDepth);
    const latched: OfferedChannel['latched'] =
      qos.durability === 'transient_local' ? { depth: qos.depth, messages: [] } : undefined;
    try {
      c.subscription = this.#node.createRawSubscription(
        c.type as MessageTypeName,
        c.topic,
        (bytes) => {
          this.#forwarded++;
          const stampNs = this.#node.clock.now();
          if (latched) {
            latched.messages.push({ stampNs, bytes });
            if (latched.messages.length > latched.depth) latched.messages.shift();
          }
          this.#server.sendMessage(channelId, stampNs, bytes);
        },
        { qos },
      );
      c.latched = latched;
    } catch (err) {
      this.#node.logger.error(`cannot subscribe to ${c.topic} for a foxglove client: ${describeError(err)}`);
      this.#server.status(Level.error, `cannot subscribe to ${c.topic}: ${(err as Error).message}`);
    }
  }

  #unsubscribe(channelId: number): void {
    const c = this.#byId.get(channelId);
    c?.subscription?.destroy();
    if (c) {
      c.subscription = undefined;
      c.latched = undefined;
    }
  }

  /** A latched topic's kept messages to a client that subscribed after the first. */
  #replayLatched(channelId: number, client: ClientHandle): void {
    const c = this.#byId.get(channelId);
    for (const m of c?.latched?.messages ?? []) {
      this.#forwarded++;
      this.#server.sendMessageTo(client, channelId, m.stampNs, m.bytes);
    }
  }

  clientStats(): ClientStats[] {
    return this.#server.clientStats();
  }

  figures(): BridgeFigures {
    return {
      port: this.#server.port,
      channels: this.#byId.size,
      clients: this.#server.clientStats().length,
      connections: this.#server.connections,
      messages_forwarded: this.#forwarded,
      messages_dropped: this.#server.dropped,
      client_messages_published: this.#clientPublishers.published,
      client_messages_malformed: this.#clientPublishers.malformed,
    };
  }

  /** Disconnect every client, stop listening, release subscriptions and publishers. */
  async close(): Promise<void> {
    this.stop();
    await this.#server.close();
    for (const c of this.#byId.values()) c.subscription?.destroy();
    this.#byId.clear();
    this.#byTopic.clear();
    this.#clientPublishers.close();
  }
}
