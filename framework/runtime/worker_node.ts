import { Worker } from 'node:worker_threads';
import type { ParamSchema } from '../../src/util/param_schema.js';
import type { EmbeddedBus } from '../transport/embedded/bus.js';
import { WorkerHost } from '../transport/embedded/worker_host.js';
import type { NodeOptions } from '../transport/types.js';
import type { ManagedNode, NodeReport, NodeState } from './managed_node.js';

// A node running in its own worker thread, so that its heavy work cannot delay the main thread's
// timers. Its messages cross as CDR bytes; lifecycle transitions are calls into the worker.

export interface WorkerNodeData {
  /** file URL of the module whose default export is the node definition */
  readonly moduleUrl: string;
  readonly options: NodeOptions<ParamSchema>;
  readonly fullyQualifiedName: string;
  readonly logLevelSpec: string;
  readonly checkMessages: boolean;
}

export class WorkerNode implements ManagedNode {
  readonly thread = 'worker' as const;
  state: NodeState = 'unconfigured';
  readonly #host: WorkerHost;
  #last: NodeReport | undefined;
  #finished: Promise<string> | undefined;
  #failed: Promise<string> | undefined;

  readonly fullyQualifiedName: string;

  constructor(bus: EmbeddedBus, data: WorkerNodeData) {
    this.fullyQualifiedName = data.fullyQualifiedName;
    const worker = new Worker(new URL('./worker_main.js', import.meta.url), {
      workerData: data,
      name: data.fullyQualifiedName,
    });
    this.#host = new WorkerHost(bus, worker);
  }

  async #transition(method: 'configure' | 'activate' | 'deactivate' | 'cleanup', to: NodeState): Promise<void> {
    try {
      await this.#host.call(method);
      this.state = to;
    } catch (err) {
      throw new Error(`${this.fullyQualifiedName} (worker): ${method} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async configure(): Promise<void> {
    let resolveFinished: (reason: string) => void = () => {};
    const finished = new Promise<string>((resolve) => (resolveFinished = resolve));
    this.#host.onFinished = resolveFinished;
    let resolveFailed: (reason: string) => void = () => {};
    const failed = new Promise<string>((resolve) => (resolveFailed = resolve));
    this.#host.onFailed = resolveFailed;
    try {
      const { hasFinished, hasFailed } = await this.#host.call<{ hasFinished: boolean; hasFailed: boolean }>(
        'configure',
      );
      if (hasFinished) this.#finished = finished;
      if (hasFailed) this.#failed = failed;
      this.state = 'inactive';
    } catch (err) {
      throw new Error(`${this.fullyQualifiedName} (worker): configure failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  finished(): Promise<string> | undefined {
    return this.#finished;
  }

  failed(): Promise<string> | undefined {
    return this.#failed;
  }

  activate(): Promise<void> {
    return this.#transition('activate', 'active');
  }

  deactivate(): Promise<void> {
    return this.#transition('deactivate', 'inactive');
  }

  async cleanup(): Promise<void> {
    if (this.state === 'finalized') return;
    try {
      if (this.state !== 'unconfigured') {
        this.#last = { ...(await this.#host.call<NodeReport>('cleanup')), thread: 'worker' };
      }
    } finally {
      this.state = 'finalized';
      await this.#host.terminate();
    }
  }

  async report(): Promise<NodeReport> {
    if (this.state === 'finalized')
      return this.#last ?? { node: this.fullyQualifiedName, thread: 'worker', stats: [], metrics: {} };
    return { ...(await this.#host.call<NodeReport>('report')), thread: 'worker' };
  }
}
