import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { FoxgloveBridge, bridgeCapabilities } from '../framework/foxglove/bridge.js';
import { compilePatterns } from '../framework/foxglove/discovery.js';
import { secondsToNs } from '../framework/time/time.js';

// foxglove_bridge: every topic of the graph to Foxglove over its WebSocket protocol (subprotocol
// foxglove.websocket.v1), so a robot run can be watched live at ws://<address>:<port>. The work is
// framework/foxglove/bridge.ts; here are the parameters, named as foxglove_bridge names them where
// they mean the same (foxglove/foxglove-sdk ros/src/foxglove_bridge/README.md; send_buffer_limit
// from foxglove/ros-foxglove-bridge's README), and the lifecycle: listen at configure (a taken port
// fails the node there), serve from activate. It runs in a worker: framing and sending to the
// clients then never delays the main thread's control loop; the main thread only hands over each
// subscribed topic's CDR bytes (framework/transport/embedded/worker_host.ts), and discovery reads
// the graph the main thread sends the worker.

const parameters = defineParams({
  port: {
    type: 'integer',
    default: 8765,
    range: [0, 65535],
    description: 'the TCP port to listen on (0: a free port, logged and in the metrics)',
  },
  address: {
    type: 'string',
    default: '127.0.0.1',
    nonEmpty: true,
    description: "the address to listen on (foxglove_bridge's default is 0.0.0.0; here only this machine by default)",
  },
  topic_whitelist: {
    type: 'string_array',
    default: ['.*'],
    description: 'regular expressions (ECMAScript, whole name) of the topics offered to clients',
  },
  client_topic_whitelist: {
    type: 'string_array',
    default: [],
    description:
      "regular expressions of the topics clients may publish on, with clientPublish in capabilities (default: none; e.g. ['^/emergency_stop$', '^/goal$'])",
  },
  capabilities: {
    type: 'string_array',
    default: ['time', 'parameters', 'connectionGraph'],
    description:
      'what clients may do: time (with use_sim_time), parameters (list every node’s; setting is refused), connectionGraph, clientPublish',
  },
  max_qos_depth: {
    type: 'integer',
    default: 25,
    range: [1, 100_000],
    description:
      'the deepest queue of the bridge’s subscriptions: each takes its publishers’ depths summed, at most this',
  },
  send_buffer_limit: {
    type: 'integer',
    default: 10_000_000,
    range: [1024, 2_000_000_000],
    description:
      'bytes a client’s connection may hold unsent before messages for it wait, and then are dropped oldest first',
  },
  message_backlog_size: {
    type: 'integer',
    default: 1024,
    range: [1, 1_000_000],
    description:
      'messages that may wait per client; past it the oldest is dropped (a client whose control messages pile up this far is disconnected)',
  },
  max_incoming_message_bytes: {
    type: 'integer',
    default: 16_777_216,
    range: [1024, 1_000_000_000],
    description: 'a client frame larger than this closes its connection (WebSocket close 1009)',
  },
  parameter_timeout_ms: {
    type: 'double',
    default: 1000,
    range: [1, 60_000],
    description:
      'how long a node has to answer for its parameters (ROS 2: its list_parameters and get_parameters services; one that does not is left out of the list)',
  },
  max_update_ms: {
    type: 'double',
    default: 1000,
    range: [10, 60_000],
    description: 'how often the graph is read for new and gone topics (ms; the ROS 1 foxglove_bridge’s name)',
  },
});

export default defineNode({
  name: 'foxglove_bridge',
  description: 'serves every topic of the graph to Foxglove over its WebSocket protocol',
  parameters,
  thread: 'worker',
  async configure(node, p) {
    const { capabilities, notes } = bridgeCapabilities(p.capabilities, p.use_sim_time);
    for (const note of notes) node.logger.info(note);
    const bridge = await FoxgloveBridge.open(node, {
      address: p.address,
      port: p.port,
      capabilities,
      topicWhitelist: compilePatterns('topic_whitelist', p.topic_whitelist),
      clientTopicWhitelist: compilePatterns('client_topic_whitelist', p.client_topic_whitelist),
      maxQosDepth: p.max_qos_depth,
      sendBufferLimitBytes: p.send_buffer_limit,
      messageBacklog: p.message_backlog_size,
      maxIncomingBytes: p.max_incoming_message_bytes,
      discoveryPeriodNs: secondsToNs(p.max_update_ms / 1000),
      parameterTimeoutMs: p.parameter_timeout_ms,
    });
    node.logger.info(
      `listening on ws://${p.address}:${bridge.port} (capabilities: ${capabilities.join(', ') || 'none'})`,
    );
    return {
      activate: () => bridge.start(),
      deactivate: () => bridge.stop(),
      cleanup: () => bridge.close(),
      metrics: () => ({ ...bridge.figures() }),
      summary: () => {
        const f = bridge.figures();
        return `served ${f.connections} client connection(s) on port ${f.port}: ${f.messages_forwarded} message(s) forwarded, ${f.messages_dropped} dropped for slow clients`;
      },
    };
  },
});
