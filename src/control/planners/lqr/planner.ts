import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { solvePositionIk, type IkJoint } from './ik.js';
import { finiteHorizonLqr, infiniteHorizonLqr, lqrPolicyAbout } from './lqr.js';
import type { Goal, Planner, PlanningInput } from '../../planner.js';
import type { FeedbackPolicy } from '../../policy.js';
import { equilibriumControl } from '../trajectory/equilibrium.js';
import { Matrix } from 'ml-matrix';
import { fromMatrix, toMatrix } from './linalg.js';
import { GoalRefusal, holdControlRefusal, type HoldCheck } from '../../goal_checks.js';

// LQR about a goal: linearise the model (MuJoCo's finite-difference transition Jacobians) at the
// goal state with the control that holds it there, solve the Riccati recursion for Q, R, and
// regulate with u = û + K (x − x̂). Finite horizon (gains per step from when the goal was set,
// the last one held after) or infinite horizon (iterated to convergence). Work happens when the
// goal changes; between goals `optimize` returns the same policy. A goal whose hold control û is
// outside an actuator's ctrlrange is refused (a GoalRefusal, the previous goal kept): MuJoCo
// would clamp û, and the model would sag away from the goal under a policy that believes it holds.

export interface LqrSettings {
  /** diagonal of Q over x = [q, q̇] (2·nv values) */
  readonly qDiag: readonly number[];
  /** diagonal of R (nu values) */
  readonly rDiag: readonly number[];
  /** 0: infinite horizon; else steps of the finite-horizon problem */
  readonly horizon: number;
  /** scale of the terminal cost Q_f = qfScale · Q (finite horizon) */
  readonly qfScale: number;
  /** the controller period the model is discretised at (ns); a whole number of physics steps */
  readonly stepNs: bigint;
  /** the end-effector site for position goals */
  readonly site?: string;
  /** joints inverse kinematics may move for position goals (names) */
  readonly ikJoints?: readonly string[];
}

export class LqrPlanner implements Planner, HoldCheck {
  readonly name = 'lqr';
  #policy: FeedbackPolicy | undefined;
  #goalState: Float64Array | undefined;
  #status: Record<string, number | string> = { goals: 0 };
  #goals = 0;
  readonly #physicsSteps: number;

  constructor(
    private readonly sim: MujocoSim,
    private readonly settings: LqrSettings,
  ) {
    const { nv, nu, timestep } = sim.info;
    if (settings.qDiag.length !== 2 * nv)
      throw new Error(`LQR: q_diag needs ${2 * nv} values (q and q̇ of ${nv} joints), got ${settings.qDiag.length}`);
    if (settings.rDiag.length !== nu)
      throw new Error(`LQR: r_diag needs ${nu} values (one per actuator), got ${settings.rDiag.length}`);
    const steps = Number(settings.stepNs) / (timestep * 1e9);
    if (Math.abs(steps - Math.round(steps)) > 1e-9 || steps < 1)
      throw new Error(
        `LQR: the control period ${Number(settings.stepNs) / 1e6} ms is not a whole number of ${timestep * 1e3} ms physics steps`,
      );
    this.#physicsSteps = Math.round(steps);
  }

  get goalState(): Float64Array | undefined {
    return this.#goalState;
  }

  setGoal(goal: Goal, input: PlanningInput): void {
    const { nv, nu } = this.sim.info;
    let xGoal: Float64Array;
    if (goal.kind === 'state') {
      if (goal.state.length !== 2 * nv)
        throw new Error(`LQR: a goal state needs ${2 * nv} values, got ${goal.state.length}`);
      xGoal = Float64Array.from(goal.state);
    } else {
      if (!this.settings.site) throw new Error('LQR: a position goal needs an end-effector site (parameter ee_site)');
      const joints = this.#ikJoints();
      const ik = solvePositionIk(
        this.#kinematics(),
        this.settings.site,
        goal.position,
        joints,
        input.state.subarray(0, nv),
      );
      if (!ik.converged) this.#status = { ...this.#status, ik_error_m: ik.error };
      xGoal = new Float64Array(2 * nv);
      xGoal.set(ik.qpos);
    }
    const t0 = performance.now();
    const uEq = equilibriumControl(this.sim, xGoal.subarray(0, nv));
    const refusal = holdControlRefusal(this.sim.info.actuators, uEq);
    if (refusal) throw new GoalRefusal(refusal);
    // linearise about (x̂, û) over one control period: physics steps chained, A = Π A_i, B = Σ …
    const { A, B } = this.#linearizeOverPeriod(xGoal, uEq);
    const nx = 2 * nv;
    const Q = diag(this.settings.qDiag);
    const R = diag(this.settings.rDiag);
    let policy: FeedbackPolicy;
    if (this.settings.horizon > 0) {
      const sol = finiteHorizonLqr({
        nx,
        nu,
        horizon: this.settings.horizon,
        A,
        B,
        Q,
        R,
        Qf: Q.map((v) => v * this.settings.qfScale),
      });
      policy = lqrPolicyAbout({ xEq: xGoal, uEq, K: sol.K, startNs: input.timeNs, stepNs: this.settings.stepNs });
      this.#status = { horizon: this.settings.horizon };
    } else {
      const sol = infiniteHorizonLqr({ nx, nu, A, B, Q, R });
      policy = lqrPolicyAbout({ xEq: xGoal, uEq, K: sol.K, startNs: input.timeNs, stepNs: this.settings.stepNs });
      this.#status = { riccati_iterations: sol.iterations, closed_loop_spectral_radius: sol.spectralRadius };
    }
    this.#goals++;
    this.#status = { ...this.#status, goals: this.#goals, solve_ms: performance.now() - t0 };
    this.#goalState = xGoal;
    this.#policy = policy;
  }

  /** Could the model be held at the state x (its configuration at rest)? Worked out on a copy of the model. */
  holdRefusal(x: Float64Array): string | undefined {
    const copy = this.sim.clone();
    try {
      return holdControlRefusal(copy.info.actuators, equilibriumControl(copy, x.subarray(0, copy.info.nv)));
    } finally {
      copy.dispose();
    }
  }

  optimize(input: PlanningInput): FeedbackPolicy {
    if (!this.#policy) throw new Error(`LQR: no goal set at t = ${input.timeNs} ns`);
    return this.#policy;
  }

  status(): Record<string, number | string> {
    return this.#status;
  }

  dispose(): void {
    this.sim.dispose();
  }

  /** The discrete dynamics over one control period: chain the per-physics-step Jacobians. */
  #linearizeOverPeriod(x: Float64Array, u: Float64Array): { A: Float64Array; B: Float64Array } {
    const { nv, nu } = this.sim.info;
    const nx = 2 * nv;
    this.sim.setQpos(x.subarray(0, nv));
    this.sim.setQvel(x.subarray(nv));
    this.sim.setCtrl(u);
    this.sim.forward();
    let A = Matrix.eye(nx);
    let B = Matrix.zeros(nx, nu);
    for (let i = 0; i < this.#physicsSteps; i++) {
      const step = this.sim.linearize();
      const Ai = toMatrix(step.A, nx, nx, 'A');
      // x_{i+1} = A_i x_i + B_i u  ⇒  A ← A_i A,  B ← A_i B + B_i
      A = Ai.mmul(A);
      B = Ai.mmul(B).add(toMatrix(step.B, nx, nu, 'B'));
      this.sim.step();
    }
    return { A: fromMatrix(A), B: fromMatrix(B) };
  }

  #ikJoints(): IkJoint[] {
    const joints = this.sim.info.joints;
    const names = this.settings.ikJoints?.length ? this.settings.ikJoints : joints.map((j) => j.name);
    return names.map((name) => {
      const j = joints.find((x) => x.name === name);
      if (!j) throw new Error(`LQR: IK joint '${name}' is not in the model`);
      return j;
    });
  }

  #kinematics() {
    const sim = this.sim;
    return {
      nv: sim.info.nv,
      setConfiguration: (qpos: ArrayLike<number>) => {
        sim.setQpos(qpos);
        sim.forward();
      },
      sitePosition: (site: string) => sim.sitePosition(site),
      sitePositionJacobian: (site: string) => sim.siteJacobian(site).position,
    };
  }
}

function diag(values: readonly number[]): Float64Array {
  const n = values.length;
  const m = new Float64Array(n * n);
  values.forEach((v, i) => (m[i * n + i] = v));
  return m;
}
