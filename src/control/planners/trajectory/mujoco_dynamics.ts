import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import type { TrajectoryDynamics } from './dynamics.js';
import { matMul } from './dense.js';

// The MJCF model as trajectory dynamics: f(x, u) holds u (zero-order hold, as the command loop
// does) over the control period's physics steps, and A, B come from MuJoCo's finite-difference
// transition Jacobians (mjd_transitionFD, MuJoCo API reference "Derivatives"), which MuJoCo MPC's
// iLQG planner also uses. Over a period of n physics steps the Jacobians are
//  - 'chained': linearised at every physics step and multiplied out (A = A_n…A_1,
//    B = Σ_i A_n…A_{i+1} B_i): exact to the finite differences, n linearisations per period;
//  - 'held' (default): linearised once at the period's start and held over its steps
//    (A = A_1ⁿ, B = (Σ_{i<n} A_1ⁱ) B_1): exact when the Jacobian is constant over the period,
//    and n times cheaper, which is what lets a 100-step horizon replan at 100 Hz.
// The controller's state is x = [q, q̇] with q as qpos: models whose qpos is not their tangent
// space (free and ball joints) or that have actuator activations are refused, naming the element.
// An RK4 model is linearised with the integrator MujocoSim.linearize() uses for it (its docs).

export type MujocoJacobians = 'held' | 'chained';

export interface MujocoDynamicsOptions {
  /** the control period: a whole number of the model's physics steps */
  readonly stepNs: bigint;
  readonly jacobians?: MujocoJacobians;
  /** centred differences (twice the steps, more accurate); default forward */
  readonly centered?: boolean;
  /** the finite-difference perturbation; default 1e-6 (MuJoCo's documentation example) */
  readonly eps?: number;
}

/** Why this model cannot be planned on as x = [q, q̇], or undefined when it can. */
export function mujocoPlanningRefusal(sim: MujocoSim): string | undefined {
  const { nq, nv, na, nu, joints } = sim.info;
  const odd = joints.find((j) => j.type === 'free' || j.type === 'ball');
  if (odd) return `joint '${odd.name}' is a ${odd.type} joint: its quaternion is not a planning state x = [q, q̇]`;
  if (nq !== nv) return `the model has ${nq} positions and ${nv} velocities: x = [q, q̇] needs them equal`;
  if (na > 0) return `the model has ${na} actuator activations (stateful actuators): not in x = [q, q̇]`;
  if (nu === 0) return 'the model has no actuators';
  return undefined;
}

/** The number of physics steps in a control period; throws when it is not whole. */
export function physicsStepsPerPeriod(timestep: number, stepNs: bigint): number {
  const steps = Number(stepNs) / (timestep * 1e9);
  if (Math.abs(steps - Math.round(steps)) > 1e-9 || steps < 1)
    throw new Error(
      `the control period ${Number(stepNs) / 1e6} ms is not a whole number of the model's ${timestep * 1e3} ms physics steps`,
    );
  return Math.round(steps);
}

export class MujocoDynamics implements TrajectoryDynamics {
  readonly nx: number;
  readonly nu: number;
  readonly description: string;
  readonly #sim: MujocoSim;
  readonly #substeps: number;
  readonly #jacobians: MujocoJacobians;
  readonly #fd: { eps: number; centered: boolean };
  readonly #q: Float64Array;
  readonly #qd: Float64Array;
  // per-row scratch: one physics step's A_i, B_i, the period's products and a power of A_1
  readonly #Ai: Float64Array;
  readonly #Bi: Float64Array;
  readonly #tmpA: Float64Array;
  readonly #tmpB: Float64Array;
  #disposed = false;

  /** Plans on `sim`, which it then owns (dispose() frees it). Throws naming what cannot be planned. */
  constructor(sim: MujocoSim, options: MujocoDynamicsOptions) {
    const refusal = mujocoPlanningRefusal(sim);
    if (refusal) throw new Error(`MuJoCo planning dynamics: ${refusal}`);
    this.#sim = sim;
    const { nv, nu, timestep } = sim.info;
    this.nx = 2 * nv;
    this.nu = nu;
    this.#substeps = physicsStepsPerPeriod(timestep, options.stepNs);
    this.#jacobians = options.jacobians ?? 'held';
    this.#fd = { eps: options.eps ?? 1e-6, centered: options.centered ?? false };
    const nx = this.nx;
    this.#q = new Float64Array(nv);
    this.#qd = new Float64Array(nv);
    this.#Ai = new Float64Array(nx * nx);
    this.#Bi = new Float64Array(nx * nu);
    this.#tmpA = new Float64Array(nx * nx);
    this.#tmpB = new Float64Array(nx * nu);
    const other = sim.linearizationIntegrator ? `, linearised with ${sim.linearizationIntegrator}` : '';
    this.description = `MuJoCo (mjd_transitionFD, ${this.#fd.centered ? 'centred' : 'forward'} differences, ${this.#jacobians} over ${this.#substeps} physics step${this.#substeps > 1 ? 's' : ''}${other})`;
  }

  get physicsSteps(): number {
    return this.#substeps;
  }

  #load(xs: Float64Array, us: Float64Array, r: number): void {
    const nv = this.nx / 2;
    const base = r * this.nx;
    for (let i = 0; i < nv; i++) {
      this.#q[i] = xs[base + i]!;
      this.#qd[i] = xs[base + nv + i]!;
    }
    this.#sim.setQpos(this.#q);
    this.#sim.setQvel(this.#qd);
    this.#sim.setCtrl(us.subarray(r * this.nu, (r + 1) * this.nu));
  }

  #read(next: Float64Array, r: number): void {
    const nv = this.nx / 2;
    this.#sim.getQpos(this.#q);
    this.#sim.getQvel(this.#qd);
    next.set(this.#q, r * this.nx);
    next.set(this.#qd, r * this.nx + nv);
  }

  step(xs: Float64Array, us: Float64Array, n: number, next: Float64Array): void {
    this.#check();
    for (let r = 0; r < n; r++) {
      this.#load(xs, us, r);
      this.#sim.step(this.#substeps);
      this.#read(next, r);
    }
  }

  linearize(xs: Float64Array, us: Float64Array, n: number, next: Float64Array, A: Float64Array, B: Float64Array): void {
    this.#check();
    const { nx, nu } = this;
    const fd = this.#fd;
    const lin = { A: this.#Ai, B: this.#Bi };
    for (let r = 0; r < n; r++) {
      this.#load(xs, us, r);
      const Ar = A.subarray(r * nx * nx, (r + 1) * nx * nx);
      const Br = B.subarray(r * nx * nu, (r + 1) * nx * nu);
      this.#sim.linearize(fd, lin);
      if (this.#jacobians === 'held' || this.#substeps === 1) {
        // A = A₁ⁿ, B = (I + A₁ + … + A₁ⁿ⁻¹) B₁, by Horner: B ← A₁B + B₁, A ← A₁A
        Ar.set(this.#Ai);
        Br.set(this.#Bi);
        for (let i = 1; i < this.#substeps; i++) {
          matMul(this.#Ai, Br, nx, nx, nu, this.#tmpB);
          for (let k = 0; k < nx * nu; k++) Br[k] = this.#tmpB[k]! + this.#Bi[k]!;
          matMul(this.#Ai, Ar, nx, nx, nx, this.#tmpA);
          Ar.set(this.#tmpA);
        }
        this.#sim.step(this.#substeps);
      } else {
        // chained: x_{i+1} = A_i x_i + B_i u  ⇒  A ← A_i A, B ← A_i B + B_i
        Ar.set(this.#Ai);
        Br.set(this.#Bi);
        this.#sim.step();
        for (let i = 1; i < this.#substeps; i++) {
          this.#sim.linearize(fd, lin);
          matMul(this.#Ai, Br, nx, nx, nu, this.#tmpB);
          for (let k = 0; k < nx * nu; k++) Br[k] = this.#tmpB[k]! + this.#Bi[k]!;
          matMul(this.#Ai, Ar, nx, nx, nx, this.#tmpA);
          Ar.set(this.#tmpA);
          this.#sim.step();
        }
      }
      this.#read(next, r);
    }
  }

  /** The simulation, for residuals that read MuJoCo quantities (site positions and Jacobians). */
  get sim(): MujocoSim {
    return this.#sim;
  }

  #check(): void {
    if (this.#disposed) throw new Error('MuJoCo planning dynamics: used after dispose()');
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#sim.dispose();
  }
}
