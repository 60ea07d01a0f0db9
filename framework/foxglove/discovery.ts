import type { Channel } from '@foxglove/ws-protocol';
import { bagDefinitionText } from '../msgs/schema_codec.js';
import type { QoS } from '../transport/qos.js';
import type { EndpointQos, TopicInfo } from '../transport/types.js';

// Which topics of the graph the bridge offers as channels, and the channel of each: every topic
// some node other than the bridge has an endpoint on, whose name a topic_whitelist pattern matches
// (foxglove_bridge's topic_whitelist: ECMAScript regular expressions, default [".*"]), as a CDR
// channel whose schema is the ros2msg text rosbag2 stores for the type (framework/msgs/
// schema_codec.ts) — foxglove_bridge sends the same concatenated .msg text (its
// message_definition_cache.cpp) with schemaEncoding ros2msg. A type without a .msg here cannot be
// offered; it is left out, said once. The bridge subscribes with what the publishers offer
// (subscriptionQos): a latched topic transient local, so a late viewer still gets the robot's
// scene or the model.

/** A topic as the bridge sees it: the graph without the bridge's own endpoints. */
export interface OfferedTopic {
  readonly name: string;
  readonly type: string;
  readonly publisherIds: readonly string[];
  readonly subscriberIds: readonly string[];
  /** the QoS of the publishers in publisherIds */
  readonly publisherQos: readonly EndpointQos[];
}

/**
 * Regular expressions from their text, each to match a whole name as foxglove_bridge's
 * isWhitelisted does (std::regex_match, ros/src/foxglove_bridge/include/foxglove_bridge/utils.hpp);
 * a bad one fails with one line that names it.
 */
export function compilePatterns(parameter: string, patterns: readonly string[]): RegExp[] {
  return patterns.map((p) => {
    try {
      new RegExp(p); // the pattern alone, so the error speaks of what was written
      return new RegExp(`^(?:${p})$`);
    } catch (err) {
      throw new Error(
        `parameter '${parameter}': ${JSON.stringify(p)} is not a regular expression: ${(err as Error).message}`,
        { cause: err },
      );
    }
  });
}

export function matchesAny(patterns: readonly RegExp[], name: string): boolean {
  return patterns.some((r) => r.test(name));
}

/** The topics to offer: whitelisted, with an endpoint of some node other than `self`. */
export function offeredTopics(graph: readonly TopicInfo[], self: string, whitelist: readonly RegExp[]): OfferedTopic[] {
  const out: OfferedTopic[] = [];
  for (const t of graph) {
    const others = t.publisherNodes.flatMap((n, i) => (n !== self ? [i] : []));
    const publisherIds = others.map((i) => t.publisherNodes[i]!);
    const publisherQos = others.flatMap((i) => (t.publisherQos[i] ? [t.publisherQos[i]] : []));
    const subscriberIds = t.subscriberNodes.filter((n) => n !== self);
    if (publisherIds.length === 0 && subscriberIds.length === 0) continue;
    if (!matchesAny(whitelist, t.name)) continue;
    out.push({ name: t.name, type: t.type, publisherIds, subscriberIds, publisherQos });
  }
  return out;
}

/** The channel (without its id) of a topic, or why it cannot be offered. */
export function channelFor(topic: string, type: string): Omit<Channel, 'id'> | string {
  try {
    return { topic, encoding: 'cdr', schemaName: type, schema: bagDefinitionText(type), schemaEncoding: 'ros2msg' };
  } catch (err) {
    return `topic ${topic} (${type}) cannot be offered: ${(err as Error).message}`;
  }
}

/**
 * The QoS the bridge subscribes to a topic with, from its publishers' as foxglove_bridge chooses it
 * (ros2_foxglove_bridge.cpp, subscribe): reliable only when every publisher is, transient local only
 * when every publisher is (so a latched message reaches the bridge, and no volatile publisher is
 * left unmatched), keep last the sum of the publishers' depths within 1…maxDepth.
 */
export function subscriptionQos(publishers: readonly EndpointQos[], maxDepth: number): QoS {
  const all = (f: (q: EndpointQos) => boolean): boolean => publishers.length > 0 && publishers.every(f);
  const depth = publishers.reduce((sum, q) => sum + Math.max(0, q.depth), 0);
  return {
    reliability: all((q) => q.reliability === 'reliable') ? 'reliable' : 'best_effort',
    durability: all((q) => q.durability === 'transient_local') ? 'transient_local' : 'volatile',
    history: 'keep_last',
    depth: Math.min(maxDepth, Math.max(1, depth)),
  };
}
