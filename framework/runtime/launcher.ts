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

// The embedded launcher: every node of a launch description in this process, each on the main
// thread or in its own worker, taken through configure → activate together and back through
// deactivate → cleanup together, so no node publishes before every subscription exists.

export interface LauncherOptions {
  readonly transport: EmbeddedTransport;
  readonly registry: NodeRegistry;
  readonly logLevelSpec: string;
  /** encode every published message (schema check) — on in tests */
  readonly checkMessages?: boolean;
}

export interface LaunchReport {
  readonly launch: string;
  readonly args: Record<string, string>;
  readonly transport: 'embedded';
  readonly wall_time_s: number;
  readonly nodes: Array<
    Omit<NodeReport, 'stats'> & {
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
    else sources.push({ origin: node.origin, values: { [p.name]: p.value }, strict: true });
  }
  // ros_args come last on the node's command line, so they win
  return [...sources, ...rosParamSources(parseRosArgs(['--ros-args', ...node.rosArgs], true), fullyQualifiedName)];
}

export class Launcher {
  readonly nodes: ManagedNode[] = [];
  readonly #log = createLogger('launcher');
  #activatedAt = 0;
  #stoppedAt = 0;

  constructor(
    readonly description: LaunchDescription,
    private readonly options: LauncherOptions,
  ) {}

  /** Create and configure every node; on any failure, clean up what started and throw. */
  async configure(): Promise<void> {
    try {
      for (const launchNode of this.description.nodes) {
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
          ...remapsForNode(
            parseRosArgs(['--ros-args', ...launchNode.rosArgs], true),
            launchNode.name ?? definition.name,
          ),
        ];
        const base = {
          name: launchNode.name ?? definition.name,
          namespace: launchNode.namespace,
          parameters: definition.parameters,
          remaps,
        };
        const fqn = nodeIdentity({ ...base, parameterSources: [] }).fullyQualifiedName;
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
        this.#log.debug(`configuring ${fqn} (${launchNode.exec}, ${thread} thread)`);
        await node.configure();
      }
    } catch (err) {
      await this.shutdown();
      throw err;
    }
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
      nodes.push({ ...rest, topics });
    }
    return {
      launch: this.description.file,
      args: this.description.args,
      transport: 'embedded',
      wall_time_s: activeS,
      nodes,
    };
  }
}
