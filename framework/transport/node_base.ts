import { resolveParams } from '../params/resolve.js';
import type { ParamSchema, ParamValues } from '../../src/util/param_schema.js';
import type { COMMON_PARAMS } from '../params/common.js';
import type { NodeOptions, EndpointStats } from './types.js';
import {
  expandTopicName,
  fullyQualifiedNodeName,
  normalizeNamespace,
  remapTopic,
  validateNodeName,
  type RemapRule,
} from './names.js';

// What both transports do the same way before a message reaches them: node name and namespace
// (with __node/__ns remaps), topic name expansion and remapping, parameter resolution, and counts.

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
