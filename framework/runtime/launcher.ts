import type { LaunchDescription, LaunchNode } from '../launch/types.js';
import { loadParamFile, sourcesForNode, type ParamSource } from '../params/file.js';
import { parseRosArgs, remapsForNode, rosParamSources } from '../transport/ros_args.js';
import type { ParamSchema } from '../../src/util/param_schema.js';
import { nodeIdentity } from '../transport/node_base.js';
import type { EmbeddedTransport } from '../transport/embedded/transport.js';
import type { NodeOptions } from '../transport/types.js';
import { createLogger } from '../../src/util/log.js';
import { LocalNode, type ManagedNode, type NodeReport } from './managed_node.js';
import { loadDefinition, type NodeRegistry } from './registry.js';
import { WorkerNode } from './worker_node.js';
import { taskVerdict } from './summary.js';

// The embedded launcher: every node of a launch description in this process, each on the main
// thread or in its own worker, taken through configure → activate together and back through
// deactivate → cleanup together, so no node publishes before every subscription exists. A node
// that fails for good (its lifecycle's `failed`) ends the launch: anyFailed() resolves, the caller
// shuts everything down, and the report records which node failed and why. A launch ends by itself
// (ended()) when a node declared with `on_exit: shutdown` has finished, as under ros2 launch.

export interface LauncherOptions {
  readonly transport: EmbeddedTransport;
  readonly registry: NodeRegistry;
  readonly logLevelSpec: string;
  /** encode every published message (schema check) — on in tests */
  readonly checkMessages?: boolean;
}

export interface NodeFailure {
  readonly node: string;
  readonly reason: string;
}

export interface LaunchReport {
  readonly launch: string;
  readonly args: Record<string, string>;
  readonly transport: 'embedded';
  readonly wall_time_s: number;
  /** the nodes that failed for good, in the order they failed; absent when none did */
  readonly failed?: NodeFailure[];
  /**
   * whether the launch achieved its task: every node that judges one (metrics.task_achieved) said
   * true and no node failed; absent when no node judges a task
   */
  readonly task_achieved?: boolean;
  readonly nodes: Array<
    Omit<NodeReport, 'stats'> & {
      /** why the node failed for good, when it did */
      failed?: string;
      topics: Array<{
        topic: string;
        type: string;
        direction: string;
        count: number;
        dropped: number;
        rate_hz: number;
      }>;
    }
  >;
}

/** The parameter sources of one launched node, lowest precedence first, as ros2 launch orders them. */
function parameterSources(node: LaunchNode, fullyQualifiedName: string): ParamSource[] {
  const sources: ParamSource[] = [];
  for (const p of node.parameters) {
    if (p.kind === 'file') sources.push(...sourcesForNode(loadParamFile(p.path), fullyQualifiedName, p.path));
    else
      sources.push({
        origin: node.origin,
        values: { [p.name]: p.value },
        // set_parameter's values reach every node in scope as a '/**' section: a node that does not declare one ignores it
        strict: !p.global,
        doubles: p.double ? [p.name] : [],
      });
  }
  // ros_args come last on the node's command line, so they win
  return [...sources, ...rosParamSources(parseRosArgs(['--ros-args', ...node.rosArgs], true), fullyQualifiedName)];
}

/** An error about a launched node, starting with where the launch file declares it. */
function atNode(launchNode: LaunchNode, err: unknown): Error {
  const message = (err as Partial<Error> | null | undefined)?.message ?? String(err);
  return message.startsWith(launchNode.origin) && err instanceof Error
    ? err
    : new Error(`${launchNode.origin}: ${message}`, { cause: err });
}

export class Launcher {
  readonly nodes: ManagedNode[] = [];
  readonly #log = createLogger('launcher');
  #activatedAt = 0;
  #stoppedAt = 0;
  readonly #failures: NodeFailure[] = [];
  /** the nodes declared with `on_exit: shutdown` */
  readonly #shutdownOnExit: ManagedNode[] = [];
  #onFailure: (why: string) => void = () => {};
  readonly #anyFailed = new Promise<string>((resolve) => (this.#onFailure = resolve));

  constructor(
    readonly description: LaunchDescription,
    private readonly options: LauncherOptions,
  ) {}

  /**
   * Create and configure every node; on any failure, clean up what started and throw an error
   * that starts with where the launch file declares the node.
   */
  async configure(): Promise<void> {
    const launched = new Map<string, string>(); // fully qualified name → origin
    try {
      for (const launchNode of this.description.nodes) {
        try {
          await this.#start(launchNode, launched);
        } catch (err) {
          throw atNode(launchNode, err);
        }
      }
    } catch (err) {
      await this.shutdown();
      throw err;
    }
  }

  async #start(launchNode: LaunchNode, launched: Map<string, string>): Promise<void> {
    if (launchNode.pkg !== this.options.registry.pkg)
      throw new Error(
        `${launchNode.origin}: package '${launchNode.pkg}' is not available in the embedded launcher (only '${this.options.registry.pkg}')`,
      );
    const { definition, moduleUrl } = await loadDefinition(this.options.registry, launchNode.exec);
    if (launchNode.args.length)
      this.#log.warn(
        `${launchNode.origin}: args ${JSON.stringify(launchNode.args)} are ignored: dynastack nodes take parameters, not arguments`,
      );
    const remaps = [
      ...launchNode.remaps,
      ...remapsForNode(parseRosArgs(['--ros-args', ...launchNode.rosArgs], true), launchNode.name ?? definition.name),
    ];
    const base = {
      name: launchNode.name ?? definition.name,
      namespace: launchNode.namespace,
      parameters: definition.parameters,
      remaps,
    };
    const fqn = nodeIdentity({ ...base, parameterSources: [] }).fullyQualifiedName;
    // each transport sees only its own thread's nodes: a name taken on another thread is caught here
    const taken = launched.get(fqn);
    if (taken) throw new Error(`a node named ${fqn} is already launched by ${taken}`);
    launched.set(fqn, launchNode.origin);
    const options: NodeOptions<ParamSchema> = { ...base, parameterSources: parameterSources(launchNode, fqn) };
    const params = nodeIdentity(options).params; // validate here: a bad value stops the launch before anything runs
    const thread = params.embedded_thread || definition.thread || 'main';
    const node: ManagedNode =
      thread === 'worker'
        ? new WorkerNode(this.options.transport.bus, {
            moduleUrl,
            options,
            fullyQualifiedName: fqn,
            logLevelSpec: this.options.logLevelSpec,
            checkMessages: this.options.checkMessages ?? false,
          })
        : new LocalNode(this.options.transport, definition, options, fqn);
    this.nodes.push(node);
    if (launchNode.onExit === 'shutdown') this.#shutdownOnExit.push(node);
    this.#log.debug(`configuring ${fqn} (${launchNode.exec}, ${thread} thread)`);
    await node.configure();
    node.failed()?.then(
      (reason) => this.#failed(node, reason),
      // it should never reject (NodeLifecycle.failed); if it does, the node has failed all the same
      (err: unknown) => this.#failed(node, (err as Partial<Error> | null | undefined)?.message ?? String(err)),
    );
  }

  #failed(node: ManagedNode, reason: string): void {
    this.#failures.push({ node: node.fullyQualifiedName, reason });
    const why = `${node.fullyQualifiedName} failed: ${reason}`;
    this.#log.error(why);
    this.#onFailure(why);
  }

  /**
   * Resolves with '<node> failed: <reason>' when the first node fails for good, after configure or
   * later; never resolves when no node fails. The launch should then shut down.
   */
  anyFailed(): Promise<string> {
    return this.#anyFailed;
  }

  async activate(): Promise<void> {
    for (const node of this.nodes) await node.activate();
    this.#activatedAt = performance.now();
    this.#log.info(
      `${this.nodes.length} node(s) active: ${this.nodes.map((n) => `${n.fullyQualifiedName}${n.thread === 'worker' ? ' [worker]' : ''}`).join(', ')}`,
    );
  }

  /** Resolves when every node whose work has an end has finished; undefined when none has one. */
  allFinished(): Promise<string> | undefined {
    const finite = this.nodes.flatMap((n) => {
      const f = n.finished();
      return f ? [f.then((reason) => `${n.fullyQualifiedName}: ${reason}`)] : [];
    });
    if (finite.length === 0) return undefined;
    return Promise.all(finite).then((reasons) => reasons.join('; '));
  }

  /**
   * Resolves when the launch is over by itself, saying why: when the first node declared with
   * `on_exit: shutdown` has finished its work (ros2 launch shuts the launch down when that node's
   * process exits, and a node's process exits when its work has finished), or when every node
   * whose work has an end has finished (allFinished); undefined when neither can happen. A node
   * that fails ends the launch through anyFailed().
   */
  ended(): Promise<string> | undefined {
    const ends = this.#shutdownOnExit.flatMap((n) => {
      const f = n.finished();
      return f ? [f.then((reason) => `${n.fullyQualifiedName}: ${reason} (on_exit: shutdown)`)] : [];
    });
    const all = this.allFinished();
    if (all) ends.push(all);
    return ends.length ? Promise.race(ends) : undefined;
  }

  /** Deactivate and clean up every node, in reverse order; errors are logged, never stop the others. */
  async shutdown(): Promise<void> {
    if (!this.#stoppedAt) this.#stoppedAt = performance.now();
    for (const node of [...this.nodes].reverse()) {
      try {
        if (node.state === 'active') await node.deactivate();
      } catch (err) {
        this.#log.error(`${node.fullyQualifiedName}: deactivate failed: ${(err as Error).message}`);
      }
    }
    for (const node of [...this.nodes].reverse()) {
      try {
        await node.cleanup();
      } catch (err) {
        this.#log.error(`${node.fullyQualifiedName}: cleanup failed: ${(err as Error).message}`);
      }
    }
  }

  async report(): Promise<LaunchReport> {
    const activeS = this.#activatedAt ? ((this.#stoppedAt || performance.now()) - this.#activatedAt) / 1000 : 0;
    const nodes = [];
    for (const node of this.nodes) {
      const { stats, ...rest } = await node.report();
      const topics = stats.map((s) => ({ ...s, rate_hz: activeS > 0 ? s.count / activeS : 0 }));
      const failure = this.#failures.find((f) => f.node === node.fullyQualifiedName);
      nodes.push({ ...rest, ...(failure ? { failed: failure.reason } : {}), topics });
    }
    const verdict = taskVerdict(nodes);
    return {
      launch: this.description.file,
      args: this.description.args,
      transport: 'embedded',
      wall_time_s: activeS,
      ...(this.#failures.length ? { failed: [...this.#failures] } : {}),
      ...(verdict ? { task_achieved: verdict.achieved } : {}),
      nodes,
    };
  }
}
