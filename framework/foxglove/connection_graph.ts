import type { ConnectionGraphUpdate } from '@foxglove/ws-protocol';

// The connection graph a Foxglove client asks for with subscribeConnectionGraph (spec "Connection
// graph update"): per topic the ids of its publishers and subscribers — here the fully qualified
// names of their nodes — where each entry "replaces any previous publisher information about this
// topic", and the topics that went away. This keeps the last graph sent and gives the update from
// it to a new one: only the topics whose lists changed, and the removed ones. No services: dynastack
// nodes offer none the bridge could call.

export interface GraphTopic {
  readonly name: string;
  readonly publisherIds: readonly string[];
  readonly subscriberIds: readonly string[];
}

const sameIds = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export class ConnectionGraph {
  #topics = new Map<string, GraphTopic>();

  /** The whole graph as one update, for a client that has just subscribed. */
  full(): ConnectionGraphUpdate {
    const topics = [...this.#topics.values()];
    return {
      op: 'connectionGraphUpdate',
      publishedTopics: topics
        .filter((t) => t.publisherIds.length > 0)
        .map((t) => ({ name: t.name, publisherIds: [...t.publisherIds] })),
      subscribedTopics: topics
        .filter((t) => t.subscriberIds.length > 0)
        .map((t) => ({ name: t.name, subscriberIds: [...t.subscriberIds] })),
      advertisedServices: [],
      removedTopics: [],
      removedServices: [],
    };
  }

  /** Take the graph as discovered now; the update from the last one, or undefined when nothing changed. */
  update(topics: readonly GraphTopic[]): ConnectionGraphUpdate | undefined {
    const next = new Map<string, GraphTopic>();
    for (const t of topics)
      next.set(t.name, {
        name: t.name,
        publisherIds: [...t.publisherIds].sort(),
        subscriberIds: [...t.subscriberIds].sort(),
      });
    const publishedTopics: ConnectionGraphUpdate['publishedTopics'] = [];
    const subscribedTopics: ConnectionGraphUpdate['subscribedTopics'] = [];
    for (const t of next.values()) {
      const before = this.#topics.get(t.name);
      if (!before || !sameIds(before.publisherIds, t.publisherIds))
        publishedTopics.push({ name: t.name, publisherIds: [...t.publisherIds] });
      if (!before || !sameIds(before.subscriberIds, t.subscriberIds))
        subscribedTopics.push({ name: t.name, subscriberIds: [...t.subscriberIds] });
    }
    const removedTopics = [...this.#topics.keys()].filter((name) => !next.has(name));
    this.#topics = next;
    if (publishedTopics.length + subscribedTopics.length + removedTopics.length === 0) return undefined;
    return {
      op: 'connectionGraphUpdate',
      publishedTopics,
      subscribedTopics,
      advertisedServices: [],
      removedTopics,
      removedServices: [],
    };
  }
}
