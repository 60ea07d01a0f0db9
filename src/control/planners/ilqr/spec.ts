import { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { MujocoDynamics, type MujocoJacobians } from '../trajectory/mujoco_dynamics.js';
import { IlqrPlanner } from './planner.js';
import type { TrajectoryObjective } from '../trajectory/planner_objective.js';

// iLQR on the MJCF model as plain data, so that the controller's thread and a planning worker
// build the same planner from it: the model file, the period, the plan's settings and what it
// minimises. Each side loads its own copies of the model (one for the dynamics, one for the costs'
// kinematics): MuJoCo's data is per thread.

export interface MujocoIlqrSpec {
  /** the controller's MJCF model, absolute path */
  readonly modelPath: string;
  readonly stepNs: bigint;
  readonly horizon: number;
  readonly iterations: number;
  readonly jacobians: MujocoJacobians;
  readonly centered: boolean;
  /** the action box the box QP keeps the plan in (absent: unconstrained) */
  readonly limits: { readonly low: Float64Array; readonly high: Float64Array } | undefined;
  readonly objective: TrajectoryObjective;
  readonly site: string;
}

export async function buildMujocoIlqr(spec: MujocoIlqrSpec): Promise<IlqrPlanner> {
  const sim = await MujocoSim.fromFile(spec.modelPath);
  let dynamics: MujocoDynamics | undefined;
  let kinematics: MujocoSim | undefined;
  try {
    dynamics = new MujocoDynamics(sim, { stepNs: spec.stepNs, jacobians: spec.jacobians, centered: spec.centered });
    kinematics = await MujocoSim.fromFile(spec.modelPath);
    return new IlqrPlanner(dynamics, kinematics, {
      horizon: spec.horizon,
      stepNs: spec.stepNs,
      iterations: spec.iterations,
      ...(spec.limits ? { controlLimits: spec.limits } : {}),
      objective: spec.objective,
      site: spec.site,
    });
  } catch (err) {
    if (dynamics) dynamics.dispose();
    else sim.dispose();
    kinematics?.dispose();
    throw err;
  }
}
