import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { CARTPOLE_DEFAULT_WEIGHTS } from '../../../tasks/cartpole.js';
import { MAX_FORCE, POLE_LENGTH } from '../../../tasks/cartpole_swingup.js';
import { ARM_REACH_DEFAULT_WEIGHTS } from '../../../tasks/arm_reach.js';
import type { Goal } from '../../planner.js';
import type { PlanningTask } from '../../task_costs.js';
import { equilibriumControl } from './equilibrium.js';
import { GoalRefusal, holdControlRefusal } from '../../goal_checks.js';
import { norm } from './norms.js';
import { ResidualCost, type ResidualTerm } from './residual_cost.js';
import {
  actionTerm,
  constantReference,
  poleTipTerm,
  positionTerm,
  servoReference,
  sitePositionTerm,
  velocityTerm,
} from './residual_terms.js';

// What a trajectory optimiser minimises, as residual costs over the controller's x = [q, q̇]:
//  - a goal (any MJCF): a state goal is q toward q* and q̇ toward 0 with the actions about the
//    control that holds the model at q* (refused, one line, when that control is outside a
//    ctrlrange); a position goal is the end-effector site toward the point (a smooth L2 norm, so
//    the pull stays firm far away and smooth near it), q̇ toward 0, and the actions about a servo's
//    own joint (position servos) or about 0 (motors);
//  - a task by name, the controller's planning tasks (task_costs.ts) in residual form:
//      cartpole_balance  the task's own quadratic (wrapped angle, cart toward its goal x);
//      cartpole_swingup  the pole tip toward upright — the swing-up reward's kernel exp(−d²/ℓ²)
//                        measures this distance d, but is flat far from upright (at hanging its
//                        gradient is e⁻⁴ of its peak), which a gradient method cannot climb; its
//                        quadratic expansion d²/ℓ² is what iLQR minimises (MuJoCo MPC's cart-pole
//                        does the same with 1 − cos θ), plus the reward's 0.01 (u/u_max)²;
//      arm_reach         the task's weights on the site `ee` (or the controller's ee_site).

export interface GoalWeights {
  /** per rad² or m² of joint position error */
  readonly position: number;
  /** per (rad/s)² */
  readonly velocity: number;
  /** per action unit² */
  readonly action: number;
  /** the terminal weights are the stage weights times this */
  readonly terminalScale: number;
  /** end-effector goals: weight of the site's distance (smooth L2, per m) */
  readonly site: number;
  /** end-effector goals: the distance below which the L2 norm turns quadratic (m) */
  readonly siteNormScale: number;
}

export const DEFAULT_GOAL_WEIGHTS: GoalWeights = {
  position: 10,
  velocity: 0.1,
  action: 1e-3,
  terminalScale: 10,
  site: 10,
  siteNormScale: 0.01,
};

const quadratic = norm('quadratic');
/** per m² of cart offset in the swing-up: keeps a swing within ±0.55 m of the 1 m end stops (measured) */
const CART_WEIGHT = 2;
/**
 * per (u/u_max)² in the swing-up: 30× the reward's 0.01, for gains a real-time loop can live with —
 * measured on the MuJoCo cart-pole with the state 2–3 control periods old (what a real-time graph
 * gives): at 0.01 the catch at the top fails, at 0.3 it holds; in lockstep it costs 0.1 s of swing-up
 */
const FORCE_WEIGHT = 0.3;
/** ½·(√2w r)² = w r²: residuals scaled so a quadratic norm's weight reads as the task's weight per unit² */
const TWICE = 2;

/** The residual cost of a goal on `sim` (a kinematics copy the cost then uses; it is not disposed here). */
export function goalCost(sim: MujocoSim, goal: Goal, w: GoalWeights, site: string | undefined): ResidualCost {
  const { nv, nu, joints, actuators } = sim.info;
  const dofs = joints.map((j) => j.dofAdr);
  const velocity = velocityTerm('velocity', nv, dofs, new Array<number>(nv).fill(TWICE * w.velocity), quadratic, {
    weight: 1,
    terminalWeight: w.terminalScale,
  });
  const actionScales = new Array<number>(nu).fill(TWICE * w.action);
  if (goal.kind === 'state') {
    if (goal.state.length !== 2 * nv) throw new Error(`a goal state needs ${2 * nv} values, got ${goal.state.length}`);
    const q = goal.state.subarray(0, nv);
    const hold = equilibriumControl(sim, q);
    const refusal = holdControlRefusal(actuators, hold);
    if (refusal) throw new GoalRefusal(refusal);
    const wrap = joints.map((j) => j.type === 'hinge' && !j.limited);
    return new ResidualCost(2 * nv, nu, [
      positionTerm(
        'position',
        nv,
        dofs,
        new Array<number>(nv).fill(TWICE * w.position),
        wrap,
        Float64Array.from(q),
        quadratic,
        {
          weight: 1,
          terminalWeight: w.terminalScale,
        },
      ),
      velocity,
      actionTerm('action', nv, actionScales, constantReference(hold), quadratic, 1),
    ]);
  }
  if (!site) throw new Error('a position goal needs an end-effector site (parameter ee_site)');
  return new ResidualCost(2 * nv, nu, [
    sitePositionTerm('site', sim, site, Float64Array.from(goal.position), norm('l2', w.siteNormScale), {
      weight: w.site,
      terminalWeight: w.site * w.terminalScale,
    }),
    velocity,
    actionTerm('action', nv, actionScales, servoReference(sim), quadratic, 1),
  ]);
}

function dofOf(sim: MujocoSim, joint: string, task: string): number {
  const j = sim.info.joints.find((jj) => jj.name === joint);
  if (!j) throw new Error(`task ${task}: the controller's model has no joint '${joint}'`);
  return j.dofAdr;
}

/** The residual cost of a planning task on the controller's model, toward `target` (the task's goal vector). */
export function taskResidualCost(
  sim: MujocoSim,
  task: PlanningTask,
  target: Float64Array,
  site: string | undefined,
): ResidualCost {
  const { nv, nu } = sim.info;
  const nx = 2 * nv;
  switch (task) {
    case 'cartpole_swingup':
    case 'cartpole_balance': {
      const cart = dofOf(sim, 'cart_slide', task);
      const pole = dofOf(sim, 'pole_hinge', task);
      if (nu !== 1) throw new Error(`task ${task}: the controller's model has ${nu} actuators, the cart-pole one`);
      const w = CARTPOLE_DEFAULT_WEIGHTS;
      const cartTarget = target.length ? target : new Float64Array(1);
      const terms: ResidualTerm[] =
        task === 'cartpole_balance'
          ? [
              positionTerm('cart', nv, [cart], [TWICE * w.position], [false], cartTarget, quadratic, {
                weight: 1,
                terminalWeight: w.terminal,
              }),
              positionTerm('pole', nv, [pole], [TWICE * w.angle], [true], new Float64Array(1), quadratic, {
                weight: 1,
                terminalWeight: w.terminal,
              }),
              velocityTerm('velocity', nv, [cart, pole], [TWICE * w.velocity, TWICE * w.angularVelocity], quadratic, {
                weight: 1,
                terminalWeight: w.terminal,
              }),
              actionTerm('force', nv, [TWICE * w.force], constantReference([0]), quadratic, 1),
            ]
          : [
              // d²/ℓ² with the tip residual in pole lengths: weight 2 under ½‖r‖²
              poleTipTerm('tip', nv, cart, pole, POLE_LENGTH, cartTarget, quadratic, {
                weight: TWICE,
                terminalWeight: TWICE * 5,
              }),
              // the cart kept off its end stops (the tip term alone lets a swing run the cart into them)
              positionTerm('cart', nv, [cart], [TWICE * CART_WEIGHT], [false], cartTarget, quadratic, {
                weight: 1,
                terminalWeight: 5,
              }),
              // the angle on the circle, lightly: at rest hanging the tip's gradient is zero (a
              // symmetric equilibrium no gradient method leaves), the wrapped angle's is not
              positionTerm('angle', nv, [pole], [TWICE * 0.05], [true], new Float64Array(1), quadratic, {
                weight: 1,
                terminalWeight: 5,
              }),
              velocityTerm('velocity', nv, [cart, pole], [TWICE * 0.01, TWICE * 0.001], quadratic, {
                weight: 1,
                terminalWeight: 5,
              }),
              actionTerm(
                'force',
                nv,
                [(TWICE * FORCE_WEIGHT) / (MAX_FORCE * MAX_FORCE)],
                constantReference([0]),
                quadratic,
                1,
              ),
            ];
      return new ResidualCost(nx, nu, terms);
    }
    case 'arm_reach': {
      const eeSite = site || 'ee';
      const position = sim.info.actuators.every((a) => a.kind === 'position');
      const w = ARM_REACH_DEFAULT_WEIGHTS[position ? 'position' : 'torque'];
      const goal = target.length ? target : Float64Array.of(0.2, 0, 0.15);
      if (goal.length !== 3) throw new Error(`task arm_reach: a target has 3 values, got ${goal.length}`);
      const dofs = sim.info.joints.map((j) => j.dofAdr);
      return new ResidualCost(nx, nu, [
        sitePositionTerm('ee', sim, eeSite, goal, quadratic, {
          weight: TWICE * w.position,
          terminalWeight: TWICE * w.terminal,
        }),
        velocityTerm('velocity', nv, dofs, new Array<number>(nv).fill(TWICE * w.terminalVelocity), quadratic, {
          weight: w.velocity > 0 ? w.velocity / w.terminalVelocity : 0,
          terminalWeight: 1,
        }),
        actionTerm(
          'action',
          nv,
          new Array<number>(nu).fill(TWICE * w.action),
          position ? servoReference(sim) : constantReference(new Float64Array(nu)),
          quadratic,
          1,
        ),
      ]);
    }
  }
}
