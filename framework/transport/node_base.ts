import { resolveParams } from '../params/resolve.js';
import type { ParamSchema, ParamValues } from '../../src/util/param_schema.js';
import type { COMMON_PARAMS } from '../params/common.js';
import type { Clock, Timer, TimerCallback } from '../time/clock.js';
import type { Logger } from '../../src/util/log.js';
import type { NodeOptions, EndpointStats } from './types.js';
import {
  expandTopicName,
  fullyQualifiedNodeName,
  normalizeNamespace,
  remapTopic,
  validateNodeName,
  type RemapRule,
} from './names.js';

// What both transports do the same way: node name and namespace (with __node/__ns remaps), topic
// name expansion and remapping, parameter resolution, per-endpoint counts, timers that log what
// their callback throws, and a destroy that cancels them before the transport releases the rest.

export interface NodeIdentity<S extends ParamSchema> {
  readonly name: string;
  readonly namespace: string;
  readonly fullyQualifiedName: string;
  readonly params: ParamValues<S & typeof COMMON_PARAMS>;
  readonly remaps: readonly RemapRule[];
  readonly resolveTopicName: (topic: string) => string;
}

export function nodeIdentity<S extends ParamSchema>(options: NodeOptions<S>): NodeIdentity<S> {
  const remaps = options.remaps ?? [];
  const name = remaps.find((r) => r.from === '__node' || r.from === '__name')?.to ?? options.name;
  const namespace = normalizeNamespace(remaps.find((r) => r.from === '__ns')?.to ?? options.namespace);
  validateNodeName(name);
  const fullyQualifiedName = fullyQualifiedNodeName(namespace, name);
  const params = resolveParams(options.parameters, options.parameterSources ?? [], fullyQualifiedName);
  return {
    name,
    namespace,
    fullyQualifiedName,
    params,
    remaps,
    resolveTopicName: (topic) => remapTopic(expandTopicName(topic, name, namespace), remaps, name, namespace),
  };
}

/** A counter per endpoint, kept by the node so that reports read the same on both transports. */
export class EndpointCounter {
  count = 0;
  dropped = 0;
  constructor(
    readonly topic: string,
    readonly type: string,
    readonly direction: 'publish' | 'subscribe',
  ) {}
  snapshot(): EndpointStats {
    return { topic: this.topic, type: this.type, direction: this.direction, count: this.count, dropped: this.dropped };
  }
}

/** An error as one log line: its stack where it has one. */
export function describeError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** A timer callback that logs what it throws instead of taking the process down. */
export function guarded<A extends unknown[]>(
  logger: { error(message: string): void },
  what: string,
  callback: (...args: A) => void,
): (...args: A) => void {
  return (...args) => {
    try {
      callback(...args);
    } catch (err) {
      logger.error(`${what} threw: ${describeError(err)}`);
    }
  };
}

/**
 * The part of a node both transports share: its identity, its endpoint counts and its timers. A
 * transport's node extends it with publishers and subscriptions, and releases its own resources
 * in `release()`, which `destroy()` calls once, after cancelling the timers.
 */
export abstract class NodeBase<S extends ParamSchema> {
  readonly name: string;
  readonly namespace: string;
  readonly fullyQualifiedName: string;
  readonly params: ParamValues<S & typeof COMMON_PARAMS>;
  readonly resolveTopicName: (topic: string) => string;
  abstract readonly logger: Logger;
  abstract readonly clock: Clock;
  readonly #counters: EndpointCounter[] = [];
  readonly #timers = new Set<Timer>();
  #destroyed = false;

  constructor(id: NodeIdentity<S>) {
    this.name = id.name;
    this.namespace = id.namespace;
    this.fullyQualifiedName = id.fullyQualifiedName;
    this.params = id.params;
    this.resolveTopicName = id.resolveTopicName;
  }

  protected get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Throws once the node is destroyed: nothing may be created on it any more. */
  protected check(): void {
    if (this.#destroyed) throw new Error(`node ${this.fullyQualifiedName} was destroyed`);
  }

  /** Report an endpoint's counter in stats() (once the endpoint exists). */
  protected record(counter: EndpointCounter): EndpointCounter {
    this.#counters.push(counter);
    return counter;
  }

  createTimer(periodNs: bigint, callback: TimerCallback, clock: Clock = this.clock): Timer {
    this.check();
    const timer = clock.createTimer(periodNs, guarded(this.logger, 'timer callback', callback));
    this.#timers.add(timer);
    return timer;
  }

  stats(): EndpointStats[] {
    return this.#counters.map((c) => c.snapshot());
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    this.release();
  }

  /** Release what the transport holds for this node (endpoints, the rcl node, the logger). */
  protected abstract release(): void;
}
