import type { ParamSchema, ParamValues } from '../../src/util/param_schema.js';
import type { COMMON_PARAMS } from '../params/common.js';
import type { NodeHandle } from '../transport/types.js';

// A node is a definition: its parameters, declared once, and a configure step that wires src/
// pieces to topics and returns the lifecycle hooks. The same definition runs embedded (main
// thread or worker) and under ROS 2 as its own process.

/**
 * A node's figures for the launcher's report. A boolean is a verdict: `task_achieved` is the one
 * the launcher reads (a node that judges its task says whether it was achieved; others omit it).
 */
export type Metrics = Record<string, number | string | boolean>;

/** What configure returns: the managed-node transitions after configure, and the node's figures. */
export interface NodeLifecycle {
  /** start timers and publishing */
  activate?(): void | Promise<void>;
  /** stop timers and publishing; subscriptions may stay */
  deactivate?(): void | Promise<void>;
  /** release everything configure acquired (files, devices, workers) */
  cleanup?(): void | Promise<void>;
  /**
   * For a node whose work has an end (a simulation of fixed length, a recording): resolves with a
   * sentence saying what was done. A launch ends when every node that has one has finished.
   */
  finished?: Promise<string>;
  /**
   * Resolves with one sentence when the node has failed for good: it went to an error state it
   * cannot leave by itself (it keeps its safe behaviour, e.g. a controller sends its stop action).
   * The launch then ends, with a non-zero exit status and a summary naming the node and the reason.
   * Never rejects.
   */
  failed?: Promise<string>;
  /**
   * one sentence for the end-of-run summary (read after cleanup); a node that judges its task adds
   * a second line, 'task achieved: yes — …' or 'task NOT achieved: …' (src/tasks/task_judge.ts)
   */
  summary?(): string;
  /** figures for the launcher's report (read while running, and once more after cleanup) */
  metrics?(): Metrics;
}

export interface NodeDefinition<S extends ParamSchema = ParamSchema> {
  /** executable name, also the default node name */
  readonly name: string;
  readonly description: string;
  readonly parameters: S;
  /** where the embedded launcher runs the node unless told otherwise */
  readonly thread?: 'main' | 'worker';
  configure(node: NodeHandle<S>, params: ParamValues<S & typeof COMMON_PARAMS>): NodeLifecycle | Promise<NodeLifecycle>;
}

export function defineNode<const S extends ParamSchema>(definition: NodeDefinition<S>): NodeDefinition<S> {
  return definition;
}
