import type { ParamSchema, ParamValues } from '../../../util/param_schema.js';
import { initTensorBackend } from '../../../tensor/backend.js';
import type { OptimizerRun, ParamValue, PlannerContext, PlannerInstance, SamplingOptimizerEntry } from '../entry.js';
import type { ActionOptimizer } from '../sampling/optimizer.js';
import type { LearnedPlanning } from '../../planner.js';
import { SAMPLING_PARAMETERS } from '../sampling/parameters.js';
import { buildLearnedPlanner, planningTask, type LearnedPlanningSpec } from './spec.js';
import type { Propagation } from './trajectory_sampling.js';
import { WorkerPlanner, type PlanningEvent } from './worker_planner.js';

// A sampling optimiser as a planner of the controller: PETS's planner over the learned dynamics
// model (LearnedModelPlanner), inline in the tick or in a planning worker (WorkerPlanner), with
// the optimiser the entry builds from its parameter values. Each sampling planner's index.ts
// makes its entry here from its name, its parameters beyond the shared sampling.* ones, and that
// optimiser factory; the planning worker gets the same factory through the registry by name.
// An optimiser with a sampling.policy_share takes the learned policy from the controller's
// policy_topic (the planner's `policies`), inline only: a policy network cannot be posted to the
// planning worker, which then plans without proposals (said at configure).

export interface SamplingPlannerDefinition<S extends ParamSchema> {
  readonly name: string;
  readonly description: string;
  /** its parameters beyond SAMPLING_PARAMETERS (which every sampling planner has) */
  readonly parameters: S;
  optimizer(values: ParamValues<typeof SAMPLING_PARAMETERS & S>, run: OptimizerRun): ActionOptimizer;
}

/** The registry entry of a sampling optimiser over the learned model. */
export function samplingPlannerEntry<const S extends ParamSchema>(
  definition: SamplingPlannerDefinition<S>,
): SamplingOptimizerEntry<typeof SAMPLING_PARAMETERS & S> {
  const parameters = { ...SAMPLING_PARAMETERS, ...definition.parameters };
  const entry: SamplingOptimizerEntry<typeof SAMPLING_PARAMETERS & S> = {
    name: definition.name,
    description: definition.description,
    parameters,
    plansWith: 'learned_model',
    optimizer: (values, run) => definition.optimizer(values, run),
    create: (context, values) =>
      createLearnedModelPlanner(entry.name, Object.keys(parameters), context, values as SamplingValues, (run) =>
        definition.optimizer(values, run),
      ),
  };
  return entry;
}

/** The values a sampling planner is made from: the shared sampling.* ones, and its own by name. */
type SamplingValues = ParamValues<typeof SAMPLING_PARAMETERS> & Readonly<Record<string, ParamValue>>;

async function createLearnedModelPlanner(
  name: string,
  parameterNames: readonly string[],
  context: PlannerContext,
  values: SamplingValues,
  optimizer: (run: OptimizerRun) => ActionOptimizer,
): Promise<PlannerInstance> {
  const { sim, planning, logger } = context;
  const { nv, joints, actuators } = sim.info;
  const box = context.actionBounds();
  if ('missingRange' in box)
    throw new Error(
      `parameter 'planner': ${name} samples inside the action bounds, and actuator '${box.missingRange}' has no ctrlrange`,
    );
  const { iterations, thread } = planning;
  const own = Object.fromEntries(parameterNames.map((n) => [n, values[n]!]));
  const spec: LearnedPlanningSpec = {
    modelPath: context.modelPath,
    optimizer: { planner: name, values: own, iterations },
    task: context.task,
    taskTarget: context.taskTarget,
    actuation: context.commandInterface === 'position' ? 'position' : 'torque',
    modelJoints: Array.from({ length: nv }, (_, dof) => joints.find((j) => j.dofAdr === dof)?.name ?? `dof${dof}`),
    actuators: actuators.map((a) => a.name),
    actionLow: box.low,
    actionHigh: box.high,
    stepNs: context.periodNs,
    // inline in lockstep a fixed count, so runs repeat; inline in real time also a time limit,
    // so a tick is late by at most one iteration; in a worker a plan takes what it takes
    budget: planning.lockstep || thread === 'worker' ? { iterations } : { iterations, timeMs: planning.timeBudgetMs },
    horizon: values['sampling.horizon'],
    particles: values['sampling.particles'],
    propagation: values['sampling.propagation'] as Propagation,
    explore: context.explore,
    seed: context.seed,
  };
  const task = planningTask(spec, sim);
  const policyShare = Number(values['sampling.policy_share'] ?? 0);
  const goalsOf = (planner: LearnedPlanning) => (): string | undefined =>
    planner.takesGoals ? undefined : `task ${context.task} takes no goal`;
  if (thread === 'worker') {
    if (planning.lockstep)
      logger.warn('planning_thread worker in lockstep: commands take whichever plan is newest, so runs do not repeat');
    if (policyShare > 0)
      logger.warn(
        `sampling.policy_share ${policyShare} ignored: policy proposals need planning inline (planning_thread 'inline'), the planning worker plans without them`,
      );
    const worker = new WorkerPlanner({
      spec,
      task,
      backend: planning.backend,
      nice: planning.nice,
      onEvent: (e) => logEvent(logger, e),
    });
    return {
      planner: worker,
      learned: worker,
      thread: worker,
      maxPolicyAgeNs: planning.maxPlanAgeNs,
      positionGoalRefusal: goalsOf(worker),
    };
  }
  await initTensorBackend({ force: planning.backend, logger });
  const learned = buildLearnedPlanner(spec, task, optimizer({ iterations, seed: context.seed }));
  return {
    planner: learned,
    learned,
    ...(policyShare > 0 ? { policies: learned } : {}),
    positionGoalRefusal: goalsOf(learned),
  };
}

/** The worker's events as log lines. */
function logEvent(logger: PlannerContext['logger'], e: PlanningEvent): void {
  if (e.kind === 'ready') logger.info(`planning worker ready (${e.backend})`);
  else if (e.kind === 'model') logger.info(`planning worker: dynamics model v${e.version} in use, ${e.description}`);
  else if (e.kind === 'model_refused')
    logger.error(`planning worker refused dynamics model v${e.version}: ${e.message}`);
  else logger.error(e.message);
}
