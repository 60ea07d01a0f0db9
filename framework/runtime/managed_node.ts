import type { ParamSchema } from '../../src/util/param_schema.js';
import type { EndpointStats, NodeHandle, NodeOptions, Transport } from '../transport/types.js';
import type { Metrics, NodeDefinition, NodeLifecycle } from './node_definition.js';

// A node under the launcher's control, with the managed-node states of ROS 2 lifecycle nodes:
// unconfigured → (configure) → inactive → (activate) → active → (deactivate) → inactive →
// (cleanup) → finalized. Wherever it runs (this thread or a worker), the launcher sees this.

export type NodeState = 'unconfigured' | 'inactive' | 'active' | 'finalized';

export interface NodeReport {
  readonly node: string;
  readonly thread: 'main' | 'worker';
  readonly stats: EndpointStats[];
  readonly metrics: Metrics;
  readonly summary?: string;
}

export interface ManagedNode {
  readonly fullyQualifiedName: string;
  readonly thread: 'main' | 'worker';
  readonly state: NodeState;
  configure(): Promise<void>;
  activate(): Promise<void>;
  deactivate(): Promise<void>;
  cleanup(): Promise<void>;
  report(): Promise<NodeReport>;
  /** when the node's work is done, for nodes whose work has an end (after configure) */
  finished(): Promise<string> | undefined;
  /** when the node has failed for good, with the reason, for nodes that can say so (after configure) */
  failed(): Promise<string> | undefined;
}

/** A node running on this thread. */
export class LocalNode implements ManagedNode {
  readonly thread = 'main' as const;
  state: NodeState = 'unconfigured';
  #handle: NodeHandle | undefined;
  #lifecycle: NodeLifecycle = {};
  #metrics: Metrics = {};
  #stats: EndpointStats[] = [];
  #summary: string | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly definition: NodeDefinition,
    private readonly options: NodeOptions<ParamSchema>,
    readonly fullyQualifiedName: string,
  ) {}

  async configure(): Promise<void> {
    this.#expect('unconfigured', 'configure');
    this.#handle = await this.transport.createNode(this.options);
    try {
      this.#lifecycle = await this.definition.configure(this.#handle, this.#handle.params);
    } catch (err) {
      this.#handle.destroy();
      this.state = 'finalized';
      throw err;
    }
    this.state = 'inactive';
  }

  async activate(): Promise<void> {
    this.#expect('inactive', 'activate');
    await this.#lifecycle.activate?.();
    this.state = 'active';
  }

  async deactivate(): Promise<void> {
    this.#expect('active', 'deactivate');
    this.state = 'inactive';
    await this.#lifecycle.deactivate?.();
  }

  async cleanup(): Promise<void> {
    if (this.state === 'finalized') return;
    if (this.state === 'active') await this.deactivate();
    this.state = 'finalized';
    try {
      await this.#lifecycle.cleanup?.();
    } finally {
      // read last, so that cleanup can finish its figures (a summary, a file written)
      this.#metrics = this.#lifecycle.metrics?.() ?? {};
      this.#summary = this.#lifecycle.summary?.();
      this.#stats = this.#handle?.stats() ?? [];
      this.#handle?.destroy();
    }
  }

  finished(): Promise<string> | undefined {
    return this.#lifecycle.finished;
  }

  failed(): Promise<string> | undefined {
    return this.#lifecycle.failed;
  }

  report(): Promise<NodeReport> {
    const stats = this.state === 'finalized' ? this.#stats : (this.#handle?.stats() ?? []);
    const metrics = this.state === 'finalized' ? this.#metrics : (this.#lifecycle.metrics?.() ?? {});
    const summary = this.state === 'finalized' ? this.#summary : this.#lifecycle.summary?.();
    return Promise.resolve({
      node: this.fullyQualifiedName,
      thread: this.thread,
      stats,
      metrics,
      ...(summary ? { summary } : {}),
    });
  }

  #expect(state: NodeState, transition: string): void {
    if (this.state !== state)
      throw new Error(`${this.fullyQualifiedName}: cannot ${transition} from state ${this.state}`);
  }
}
