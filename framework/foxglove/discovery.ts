import type { Channel } from '@foxglove/ws-protocol';
import { bagDefinitionText } from '../msgs/schema_codec.js';
import type { TopicInfo } from '../transport/types.js';

// Which topics of the graph the bridge offers as channels, and the channel of each: every topic
// some node other than the bridge has an endpoint on, whose name a topic_whitelist pattern matches
// (foxglove_bridge's topic_whitelist: ECMAScript regular expressions, default [".*"]), as a CDR
// channel whose schema is the ros2msg text rosbag2 stores for the type (framework/msgs/
// schema_codec.ts) — foxglove_bridge sends the same concatenated .msg text (its
// message_definition_cache.cpp) with schemaEncoding ros2msg. A type without a .msg here cannot be
// offered; it is left out, said once.

/** A topic as the bridge sees it: the graph without the bridge's own endpoints. */
export interface OfferedTopic {
  readonly name: string;
  readonly type: string;
  readonly publisherIds: readonly string[];
  readonly subscriberIds: readonly string[];
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
    const publisherIds = t.publisherNodes.filter((n) => n !== self);
    const subscriberIds = t.subscriberNodes.filter((n) => n !== self);
    if (publisherIds.length === 0 && subscriberIds.length === 0) continue;
    if (!matchesAny(whitelist, t.name)) continue;
    out.push({ name: t.name, type: t.type, publisherIds, subscriberIds });
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
