import type { ClientChannel } from '@foxglove/ws-protocol';
import { codecFor, type MessageCodec } from '../msgs/codec.js';
import type { MessageTypeName } from '../msgs/types.js';
import type { NodeHandle, Publisher } from '../transport/types.js';
import { matchesAny } from './discovery.js';

// What Foxglove clients may publish into the graph (capability clientPublish, spec "Client
// Advertise" / "Client Message Data"): only on topics a client_topic_whitelist pattern matches
// (foxglove_bridge's parameter; here the default matches nothing), only CDR of a type this package
// knows, and only payloads that decode as that type (framework/msgs/codec.ts) — a malformed one is
// refused, counted and never reaches a subscriber. Each advertised client channel gets its own
// publisher on the bridge's node, released when the client unadvertises it or goes.

interface ClientTopic {
  readonly topic: string;
  readonly type: string;
  readonly codec: MessageCodec<unknown>;
  readonly publisher: Publisher<unknown>;
}

/** 'pkg/msg/Name' from what a client names a type ('pkg/msg/Name' or 'pkg/Name'). */
function typeName(schemaName: string): string {
  const parts = schemaName.split('/');
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : schemaName;
}

export class ClientPublishers {
  readonly #channels = new Map<string, ClientTopic>();
  /** messages published into the graph */
  published = 0;
  /** payloads refused because they did not decode as their type */
  malformed = 0;
  /** false while the node is inactive: messages are refused */
  active = false;

  constructor(
    private readonly node: NodeHandle,
    private readonly whitelist: readonly RegExp[],
  ) {}

  /** A client's advertisement: undefined when accepted, else why not. */
  advertise(clientId: number, channel: ClientChannel): string | undefined {
    let topic: string;
    try {
      topic = this.node.resolveTopicName(channel.topic);
    } catch (err) {
      return `client channel ${channel.id}: ${(err as Error).message}`;
    }
    if (!matchesAny(this.whitelist, topic))
      return `client channel ${channel.id}: topic ${topic} is not in client_topic_whitelist; publishing refused`;
    if (channel.encoding !== 'cdr')
      return `client channel ${channel.id} on ${topic}: encoding '${channel.encoding}' is not supported (only cdr)`;
    const type = typeName(channel.schemaName);
    let codec: MessageCodec<unknown>;
    try {
      codec = codecFor(type);
    } catch (err) {
      return `client channel ${channel.id} on ${topic}: unknown type: ${(err as Error).message}`;
    }
    let publisher: Publisher<unknown>;
    try {
      publisher = this.node.createPublisher(type as MessageTypeName, topic);
    } catch (err) {
      return `client channel ${channel.id} on ${topic}: ${(err as Error).message}`;
    }
    this.#channels.set(`${clientId}/${channel.id}`, { topic, type, codec, publisher });
    this.node.logger.info(`a foxglove client publishes ${type} on ${topic}`);
    return undefined;
  }

  unadvertise(clientId: number, channelId: number): void {
    const key = `${clientId}/${channelId}`;
    this.#channels.get(key)?.publisher.destroy();
    this.#channels.delete(key);
  }

  /** A client's message: published when it decodes as its type; else why not. */
  publish(clientId: number, channelId: number, payload: Uint8Array): string | undefined {
    const channel = this.#channels.get(`${clientId}/${channelId}`);
    if (!channel) return `client channel ${channelId} is not advertised`;
    try {
      channel.codec.decode(payload);
    } catch (err) {
      this.malformed++;
      return `dropped a malformed message on ${channel.topic}: ${(err as Error).message}`;
    }
    if (!this.active) return `dropped a message on ${channel.topic}: the bridge is not active`;
    // the payload is a view into ws's receive buffer: the graph gets bytes of its own
    channel.publisher.publishRaw(payload.slice());
    this.published++;
    return undefined;
  }

  /** Release every publisher. */
  close(): void {
    for (const c of this.#channels.values()) c.publisher.destroy();
    this.#channels.clear();
  }
}
