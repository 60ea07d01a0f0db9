import { isDeepStrictEqual } from 'node:util';
import {
  checkParam,
  defineParams,
  type ParamSchema,
  type ParamSpec,
  type ParamValues,
} from '../../util/param_schema.js';
import type {
  OptimizerChoice,
  PlannerContext,
  PlannerEntry,
  PlannerInstance,
  SamplingOptimizerEntry,
} from './entry.js';
import type { ActionOptimizer } from './sampling/optimizer.js';
import { lqr } from './lqr/index.js';
import { ilqr } from './ilqr/index.js';
import { gradient } from './gradient/index.js';
import { cem } from './cem/index.js';
import { icem } from './icem/index.js';
import { mppi } from './mppi/index.js';
import { randomShooting } from './random_shooting/index.js';
import { policy } from './policy/index.js';

// Every planner the controller can run, as MuJoCo MPC's LoadPlanners lists them: one entry per
// folder, exported by its index.ts. Adding a planner is adding its folder and one line here. The
// entries' parameters are merged into the controller's (a name declared twice must be declared
// alike), and the `planner` parameter chooses among the entries by name. The sampling optimisers'
// entries also build the optimiser alone, which the planning worker, the PETS harnesses and the
// benchmarks use, so an optimiser is made from its parameters in one place.

/** The planners; the first is the controller's default. */
export const PLANNERS = [lqr, ilqr, gradient, cem, icem, mppi, randomShooting, policy] as const;

type Entries = (typeof PLANNERS)[number];
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** The planners' parameters, merged: the type of every fragment at once. */
export type PlannerParameters = UnionToIntersection<Entries['parameters']>;
export type PlannerParameterValues = ParamValues<PlannerParameters>;

export const PLANNER_NAMES: readonly string[] = PLANNERS.map((e) => e.name);

/**
 * The entries' parameters as one schema. Throws when two entries share a name, when a parameter
 * is outside a namespace (`lqr.r`, not `r`: the controller's own names stay free), or when one
 * name is declared twice differently.
 */
export function mergeParameters(entries: readonly PlannerEntry[]): ParamSchema {
  const merged: Record<string, ParamSpec> = {};
  const declaredBy: Record<string, string> = {};
  const names = new Set<string>();
  for (const entry of entries) {
    if (names.has(entry.name)) throw new Error(`planner registry: two planners are named '${entry.name}'`);
    names.add(entry.name);
    for (const [name, spec] of Object.entries(entry.parameters)) {
      if (!name.includes('.'))
        throw new Error(`planner ${entry.name}: parameter '${name}' needs a namespace (e.g. '${entry.name}.${name}')`);
      const earlier = merged[name];
      if (earlier && !isDeepStrictEqual(earlier, spec))
        throw new Error(
          `planner registry: parameter '${name}' is declared differently by ${declaredBy[name]} and ${entry.name}`,
        );
      merged[name] = spec;
      declaredBy[name] ??= entry.name;
    }
  }
  return merged;
}

/** The controller's `planner` parameter: which entry, by name. */
export const PLANNER_CHOICE = defineParams({
  planner: {
    type: 'string',
    default: PLANNERS[0].name,
    choices: PLANNER_NAMES,
    description: `the planner that supplies the policy: ${PLANNERS.map((e) => `${e.name}, ${e.description}`).join('; ')}`,
  },
});

/** Every planner's parameters, merged (the controller declares them all). */
export const PLANNER_PARAMETERS = defineParams(mergeParameters(PLANNERS) as PlannerParameters);

function entryNamed(name: string): PlannerEntry {
  const entry = (PLANNERS as readonly PlannerEntry[]).find((e) => e.name === name);
  if (!entry) throw new Error(`no planner '${name}' (the planners: ${PLANNER_NAMES.join(', ')})`);
  return entry;
}

function isSamplingOptimizer(entry: PlannerEntry): entry is SamplingOptimizerEntry {
  return 'optimizer' in entry;
}

/** The planners that are sampling optimisers over the learned model. */
export const SAMPLING_PLANNER_NAMES: readonly string[] = (PLANNERS as readonly PlannerEntry[])
  .filter(isSamplingOptimizer)
  .map((e) => e.name);

/**
 * Make the planner the controller's `planner` parameter names, from the context and the
 * controller's parameter values (which hold every planner's). Throws when the entry's planner is
 * not what the entry says it plans with.
 */
export async function createPlanner(
  name: string,
  context: PlannerContext,
  values: PlannerParameterValues,
): Promise<PlannerInstance> {
  const entry = entryNamed(name);
  const instance = await entry.create(context, values);
  if (
    entry.plansWith !== 'mjcf_or_learned_model' &&
    (entry.plansWith === 'learned_model') !== (instance.learned !== undefined)
  )
    throw new Error(`planner ${name} says it plans with the ${entry.plansWith.replace('_', ' ')}, and made another`);
  if (entry.plansWith === 'learned_policy' && !instance.policies)
    throw new Error(`planner ${name} says it acts with the learned policy, and takes no policies`);
  return instance;
}

/** A sampling optimiser as a configuration written in code gives it: the values typed by the registry's parameters. */
export interface SamplingOptimizerConfig extends OptimizerChoice {
  readonly values: Partial<PlannerParameterValues>;
}

/**
 * A sampling optimiser from plain data: its planner's name, parameter values (the controller's
 * names; absent ones take their defaults, each given one is checked as the controller checks it,
 * other planners' are ignored) and iterations, and a seed.
 */
export function samplingOptimizer(choice: OptimizerChoice, seed: number): ActionOptimizer {
  const entry = entryNamed(choice.planner);
  if (!isSamplingOptimizer(entry))
    throw new Error(
      `planner ${choice.planner} is not a sampling optimiser (those are: ${SAMPLING_PLANNER_NAMES.join(', ')})`,
    );
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(entry.parameters)) {
    const given = choice.values[name];
    if (given === undefined) {
      values[name] = spec.default;
      continue;
    }
    const checked = checkParam(spec, given);
    if (typeof checked === 'string') throw new Error(`planner ${entry.name}: parameter '${name}': ${checked}`);
    values[name] = checked.value;
  }
  // values of other planners' parameters are ignored, as the controller ignores them; a name no planner has is a mistake
  const unknown = Object.keys(choice.values).filter((name) => !(name in PLANNER_PARAMETERS));
  if (unknown.length) throw new Error(`no planner has a parameter ${unknown.map((n) => `'${n}'`).join(', ')}`);
  return entry.optimizer(values as ParamValues<ParamSchema>, { iterations: choice.iterations, seed });
}
