import type { ParamSchema } from '../../src/util/param_schema.js';
import type {
  EndpointStats,
  LifecycleDriver,
  LifecycleEndpoint,
  LifecycleTransition,
  NodeHandle,
  NodeOptions,
  Transport,
  TransitionOutcome,
} from '../transport/types.js';
import { describeError } from '../transport/node_base.js';
import { InProcessLifecycle } from './lifecycle.js';
import type { Metrics, NodeDefinition, NodeLifecycle } from './node_definition.js';

// A node under the launcher's control, with the managed-node states of ROS 2 lifecycle nodes:
// unconfigured → (configure) → inactive → (activate) → active → (deactivate) → inactive →
// (shutdown) → finalized. Wherever it runs (this thread or a worker), the launcher sees this.
//
// A LocalNode takes every transition through a lifecycle endpoint: its transport's when the
// transport exposes the node's lifecycle outside the process (ROS 2: rcl_lifecycle's state machine,
// so `ros2 lifecycle set` requests run the same work and the rcl state is the node's), else an
// in-process one (./lifecycle.ts). The work of each transition is here (#perform), in ROS 2's terms:
// configure runs the definition's configure; activate and deactivate its hooks; shutdown (the
// runtime's cleanup) deactivates when active, then runs its cleanup and leaves it finalized; ROS 2's
// cleanup (back to unconfigured) is refused, since a node is configured once per process. A
// transition whose work throws goes through error processing (#recover: deactivate and cleanup,
// best effort) and ends finalized, as rcl_lifecycle's ErrorProcessing does when on_error fails.

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
  /** the transport's lifecycle (ROS 2: rcl's state machine and services), or the in-process one */
  #endpoint: LifecycleEndpoint | undefined;
  #lifecycle: NodeLifecycle = {};
  #metrics: Metrics = {};
  #stats: EndpointStats[] = [];
  #summary: string | undefined;
  #figuresRead = false;
  #released = false;
  readonly #driver: LifecycleDriver = {
    perform: (transition) => this.#perform(transition),
    recover: (transition) => this.#recover(transition),
  };

  constructor(
    private readonly transport: Transport,
    private readonly definition: NodeDefinition,
    private readonly options: NodeOptions<ParamSchema>,
    readonly fullyQualifiedName: string,
  ) {}

  async configure(): Promise<void> {
    if (this.#handle) throw new Error(`${this.fullyQualifiedName}: cannot configure from state ${this.state}`);
    this.#handle = await this.transport.createNode(this.options);
    this.#endpoint = this.#handle.lifecycle ?? new InProcessLifecycle(this.fullyQualifiedName, () => this.state);
    this.#endpoint.serve(this.#driver);
    await this.#endpoint.transition('configure');
  }

  activate(): Promise<void> {
    return this.#transition('activate');
  }

  deactivate(): Promise<void> {
    return this.#transition('deactivate');
  }

  /**
   * The end of the node: shutdown (from active it deactivates first) to finalized, then the
   * transport's node destroyed. Rejects when a step failed, after finishing the rest.
   */
  async cleanup(): Promise<void> {
    try {
      if (this.#endpoint && this.state !== 'finalized') await this.#endpoint.transition('shutdown');
    } finally {
      this.state = 'finalized';
      this.#readFigures();
      if (!this.#released) {
        this.#released = true;
        this.#handle?.destroy();
      }
    }
  }

  #transition(transition: 'activate' | 'deactivate'): Promise<void> {
    if (!this.#endpoint) return Promise.reject(new Error(`${this.fullyQualifiedName}: ${transition} before configure`));
    return this.#endpoint.transition(transition);
  }

  /** The work of each transition, whoever asked for it (the runtime, or `ros2 lifecycle set`). */
  async #perform(transition: LifecycleTransition): Promise<TransitionOutcome> {
    switch (transition) {
      case 'configure':
        this.#lifecycle = await this.definition.configure(this.#handle!, this.#handle!.params);
        this.state = 'inactive';
        break;
      case 'activate':
        await this.#lifecycle.activate?.();
        this.state = 'active';
        break;
      case 'deactivate':
        await this.#lifecycle.deactivate?.();
        this.state = 'inactive';
        break;
      case 'cleanup':
        // rcl_lifecycle's cleanup returns to unconfigured, from which configure must work again; a
        // dynastack node's configure wires its handle once (its subscriptions stay), so it is refused
        return {
          ok: false,
          reason:
            `${this.fullyQualifiedName}: cleanup (back to unconfigured) is refused: a dynastack node is configured ` +
            `once per process; shutdown finalizes it (releasing what it holds) and a restart of its process configures it anew`,
        };
      case 'shutdown':
        await this.#shutdown();
        break;
    }
    return { ok: true };
  }

  /** Deactivate when active, then the node's cleanup; finalized whatever happens. */
  async #shutdown(): Promise<void> {
    let error: unknown;
    try {
      if (this.state === 'active') {
        this.state = 'inactive';
        await this.#lifecycle.deactivate?.();
      }
    } catch (err) {
      error = err;
    }
    try {
      if (this.state !== 'unconfigured') await this.#lifecycle.cleanup?.();
    } catch (err) {
      error ??= err;
    } finally {
      this.state = 'finalized';
      this.#readFigures();
    }
    if (error !== undefined) throw error instanceof Error ? error : new Error(describeError(error));
  }

  /**
   * Error processing after a transition's work threw: stop what may run (deactivate, once more when
   * that is what failed) and release (cleanup), each best effort. A node is configured once per
   * process, so it ends finalized (false: it cannot be configured again).
   */
  async #recover(failed: LifecycleTransition): Promise<boolean> {
    // the failure itself is said by whoever asked for the transition (the launcher, the run
    // command, or the ROS 2 endpoint for a request from outside)
    const log = this.#handle?.logger;
    const step = async (what: 'deactivate' | 'cleanup'): Promise<void> => {
      try {
        await this.#lifecycle[what]?.();
      } catch (err) {
        log?.error(
          `${what} while processing that error failed: ${(err as Partial<Error> | null | undefined)?.message ?? String(err)}`,
        );
      }
    };
    try {
      if (failed === 'activate' || failed === 'deactivate') await step('deactivate');
      if (failed !== 'configure' && failed !== 'shutdown') await step('cleanup');
    } finally {
      this.state = 'finalized';
      this.#readFigures();
    }
    return false;
  }

  /** the figures of a finalized node, read once, after its cleanup (a summary, a file written) */
  #readFigures(): void {
    if (this.#figuresRead) return;
    this.#figuresRead = true;
    this.#metrics = this.#lifecycle.metrics?.() ?? {};
    this.#summary = this.#lifecycle.summary?.();
    this.#stats = this.#handle?.stats() ?? [];
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
}
