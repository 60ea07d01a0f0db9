import type { DoubleBuffer, MjData, MjModel } from '@mujoco/mujoco';
import { checkFinite, copyOut, f64 } from './arrays.js';
import {
  idOf,
  integratorValue,
  readModel,
  type AngleUnit,
  type Integrator,
  type JointInfo,
  type JointType,
  type ModelIds,
  type ModelInfo,
} from './info.js';
import { readKinematicChain, type KinematicChain } from './kinematics.js';
import { copyFramePoses, readBodyParents, readBodyFixed, type FramePoses } from './frames.js';
import { readGeoms, type GeomInfo } from './geoms.js';
import { compileModel, readAngleUnit, readModelFiles, type Assets } from './load.js';
import { mujoco, type Mujoco } from './module.js';

// One MuJoCo model and its data behind a typed API that keeps the binding's traps inside (the
// @mujoco/mujoco package's README, sections "Working with Out Parameters", "Copy vs. Reference",
// "Memory Management" and "Enums", plus two things measured here):
//  - outputs of MuJoCo functions go only into library DoubleBuffers allocated here at set-up, as
//    the README prescribes (measured here: a plain typed array as an output writes to wasm address
//    0, silently);
//  - wasm views are cached for speed but re-fetched whenever the heap has grown (measured here:
//    growth detaches them, and writes through a detached view are dropped; test/sim/mujoco.test.ts
//    "views survive heap growth" keeps checking it); callers only ever get copies;
//  - every library object is deleted exactly once, by dispose() (README: a double delete is an error);
//  - enums are passed as .value.
//
// Derived quantities (sensordata, site poses, Jacobians) always describe the current state: a method
// that reads them runs mj_forward first when the state changed since the last one. (Raw mj_step
// leaves them describing the state at the start of the step.)
//
// Linearisation is MuJoCo's mjd_transitionFD, which supports every integrator but RK4 (MuJoCo API
// reference, mjd_transitionFD; src/engine/engine_derivative_fd.c refuses mjINT_RK4 with "RK4
// integrator is not supported"). An RK4 model is linearised as the same model with implicitfast,
// and only that call sees the other integrator: stepping stays RK4.

export interface SimOptions {
  /** files the XML refers to (<include file>, meshes), by the name it uses */
  readonly assets?: Assets;
}

export interface Linearization {
  /**
   * nx × nx, row-major: x_{t+1} ≈ A x_t + B u_t for deviations about the current state and control,
   * over one timestep. State order is MuJoCo's: [qpos tangent (nv: for hinge and slide joints the
   * joint values), qvel (nv), act (na)]; nx = 2 nv + na.
   */
  readonly A: Float64Array;
  /** nx × nu, row-major */
  readonly B: Float64Array;
  readonly nx: number;
  readonly nu: number;
}

export interface SiteJacobian {
  /** 3 × nv, row-major: d(site position)/d(qvel) */
  readonly position: Float64Array;
  /** 3 × nv, row-major: the site's angular velocity per unit qvel */
  readonly rotation: Float64Array;
}

/** Cached wasm views; valid while `heap` is not detached. */
interface Views {
  readonly heap: ArrayBuffer;
  readonly qpos: Float64Array;
  readonly qvel: Float64Array;
  readonly ctrl: Float64Array;
  readonly sensordata: Float64Array;
  readonly siteXpos: Float64Array;
  readonly siteXmat: Float64Array;
  readonly xpos: Float64Array;
  readonly xquat: Float64Array;
  readonly xfrcApplied: Float64Array;
  readonly qfrcBias: Float64Array;
  readonly qfrcPassive: Float64Array;
  readonly state: Float64Array;
  readonly jacp: Float64Array;
  readonly jacr: Float64Array;
  readonly A: Float64Array;
  readonly B: Float64Array;
}

/**
 * Library buffers for MuJoCo's outputs, allocated once per simulation (a Record, not an interface,
 * so that Object.values in dispose() knows they are all DoubleBuffers).
 */
type Buffers = Readonly<Record<'state' | 'jacp' | 'jacr' | 'A' | 'B', DoubleBuffer>>;

/**
 * The integrator an RK4 model is linearised with: implicitfast, which MuJoCo recommends for new
 * models (changelog of 2.3.3, where it was added; Computation chapter, "Numerical integration").
 */
const RK4_LINEARIZED_WITH: Integrator = 'implicitfast';

/** mj_setState as the binding runs it: it copies any array-like input (the d.ts says number[]). */
type SetState = (m: MjModel, d: MjData, state: ArrayLike<number>, signature: number) => void;

export class MujocoSim implements Disposable {
  readonly info: ModelInfo;
  /**
   * The integrator linearize() runs mjd_transitionFD with when it is not the model's own (which
   * mjd_transitionFD does not support): set for RK4 models; stepping keeps the model's.
   */
  readonly linearizationIntegrator: Integrator | undefined;
  private readonly ids: ModelIds;
  private readonly model: MjModel;
  private readonly data: MjData;
  private readonly buffers: Buffers;
  private views: Views;
  private readonly stateSignature: number;
  /** per qpos / qvel / ctrl entry, the element it belongs to, for error messages */
  private readonly qposNames: readonly string[];
  private readonly dofNames: readonly string[];
  private readonly ctrlNames: readonly string[];
  /** the state changed since the last mj_forward, so derived quantities are stale */
  private stale = true;
  private disposed = false;

  /** Compile MJCF text. On bad XML, throws an Error with MuJoCo's message. */
  static async fromXml(xml: string, options: SimOptions = {}): Promise<MujocoSim> {
    const mj = await mujoco();
    const model = compileModel(mj, xml, options.assets, '(from a string)');
    return MujocoSim.adopt(mj, model, readAngleUnit(mj, xml, options.assets));
  }

  /** Load an MJCF file and the files it includes. Errors name the file and carry MuJoCo's message. */
  static async fromFile(path: string): Promise<MujocoSim> {
    const mj = await mujoco();
    const { xml, assets } = readModelFiles(path);
    const model = compileModel(mj, xml, assets, path);
    return MujocoSim.adopt(mj, model, readAngleUnit(mj, xml, assets));
  }

  /** Build a simulation around a model it then owns (deleting it if set-up fails). */
  private static adopt(mj: Mujoco, model: MjModel, angleUnit: AngleUnit | undefined, copyFrom?: MjData): MujocoSim {
    let data: MjData | undefined;
    try {
      data = copyFrom ? new mj.MjData(model, copyFrom) : new mj.MjData(model);
      return new MujocoSim(mj, model, data, angleUnit);
    } catch (err) {
      data?.delete();
      model.delete();
      throw err;
    }
  }

  private constructor(
    private readonly mj: Mujoco,
    model: MjModel,
    data: MjData,
    angleUnit: AngleUnit | undefined,
  ) {
    this.model = model;
    this.data = data;
    ({ info: this.info, ids: this.ids } = readModel(mj, model, angleUnit));
    this.linearizationIntegrator = this.info.integrator === 'rk4' ? RK4_LINEARIZED_WITH : undefined;
    const { nv, nu, nx, stateSize } = this.info;
    this.stateSignature = mj.mjtState.mjSTATE_INTEGRATION.value;
    const perEntry = (count: number, adr: (j: JointInfo) => number, size: Record<JointType, number>): string[] => {
      const names = new Array<string>(count).fill('');
      for (const j of this.info.joints) {
        const k = size[j.type];
        for (let i = 0; i < k; i++) names[adr(j) + i] = k > 1 ? `${j.name}[${i}]` : j.name;
      }
      return names;
    };
    this.qposNames = perEntry(this.info.nq, (j) => j.qposAdr, { free: 7, ball: 4, slide: 1, hinge: 1 });
    this.dofNames = perEntry(nv, (j) => j.dofAdr, { free: 6, ball: 3, slide: 1, hinge: 1 });
    this.ctrlNames = this.info.actuators.map((a) => a.name);
    // last, so nothing after them can throw and leak them: the output buffers, then their views
    const allocated: DoubleBuffer[] = [];
    try {
      const buffer = (n: number): DoubleBuffer => {
        const b = new mj.DoubleBuffer(Math.max(n, 1));
        allocated.push(b);
        return b;
      };
      this.buffers = {
        state: buffer(stateSize),
        jacp: buffer(3 * nv),
        jacr: buffer(3 * nv),
        A: buffer(nx * nx),
        B: buffer(nx * nu),
      };
      this.views = this.fetchViews();
    } catch (err) {
      for (const b of allocated) b.delete();
      throw err;
    }
  }

  private fetchViews(): Views {
    const d = this.data;
    const b = this.buffers;
    const state = f64(b.state.GetView(), 'state buffer');
    return {
      heap: state.buffer as ArrayBuffer,
      qpos: f64(d.qpos, 'qpos'),
      qvel: f64(d.qvel, 'qvel'),
      ctrl: f64(d.ctrl, 'ctrl'),
      sensordata: f64(d.sensordata, 'sensordata'),
      siteXpos: f64(d.site_xpos, 'site_xpos'),
      siteXmat: f64(d.site_xmat, 'site_xmat'),
      xpos: f64(d.xpos, 'xpos'),
      xquat: f64(d.xquat, 'xquat'),
      xfrcApplied: f64(d.xfrc_applied, 'xfrc_applied'),
      qfrcBias: f64(d.qfrc_bias, 'qfrc_bias'),
      qfrcPassive: f64(d.qfrc_passive, 'qfrc_passive'),
      state,
      jacp: f64(b.jacp.GetView(), 'jacp buffer'),
      jacr: f64(b.jacr.GetView(), 'jacr buffer'),
      A: f64(b.A.GetView(), 'A buffer'),
      B: f64(b.B.GetView(), 'B buffer'),
    };
  }

  /** The views, re-fetched if any allocation in this thread has grown (and so detached) the heap. */
  private v(): Views {
    if (this.disposed) throw new Error('MujocoSim: used after dispose()');
    if (this.views.heap.byteLength === 0) this.views = this.fetchViews();
    return this.views;
  }

  /** Bring derived quantities up to date with the state. */
  private fresh(): Views {
    const v = this.v();
    if (this.stale) {
      this.mj.mj_forward(this.model, this.data);
      this.stale = false;
    }
    return v;
  }

  // --- time and stepping ---

  get time(): number {
    this.v();
    return this.data.time;
  }

  set time(t: number) {
    this.v();
    if (!Number.isFinite(t)) throw new Error(`MujocoSim: time must be finite, got ${t}`);
    this.data.time = t;
  }

  /** Advance n timesteps (mj_step) with the current controls. */
  step(n = 1): void {
    this.v();
    if (!Number.isInteger(n) || n < 0) throw new Error(`MujocoSim.step: n must be a non-negative integer, got ${n}`);
    const { mj, model, data } = this;
    for (let i = 0; i < n; i++) mj.mj_step(model, data);
    this.stale = true;
  }

  /** Compute every derived quantity (positions, sensors, forces) from the current state (mj_forward). */
  forward(): void {
    this.v();
    this.mj.mj_forward(this.model, this.data);
    this.stale = false;
  }

  /** Back to the model's default state (qpos0, zero velocity and controls, time 0). */
  reset(): void {
    this.v();
    this.mj.mj_resetData(this.model, this.data);
    this.stale = true;
  }

  /** Reset to a keyframe (its time, qpos, qvel, act, ctrl), by name or index. */
  resetToKeyframe(nameOrIndex: string | number): void {
    this.v();
    const key = typeof nameOrIndex === 'string' ? idOf(this.ids.keyframe, 'keyframe', nameOrIndex) : nameOrIndex;
    if (!Number.isInteger(key) || key < 0 || key >= this.info.keyframes.length) {
      throw new Error(
        `MujocoSim: keyframe index ${nameOrIndex} out of range (the model has ${this.info.keyframes.length})`,
      );
    }
    this.mj.mj_resetDataKeyframe(this.model, this.data, key);
    this.stale = true;
  }

  // --- state I/O: copies in and out, never views ---

  getQpos(out?: Float64Array): Float64Array {
    return copyOut(this.v().qpos, out, 'getQpos');
  }

  setQpos(values: ArrayLike<number>): void {
    const v = this.v();
    checkFinite(values, this.info.nq, 'setQpos', this.qposNames);
    for (let i = 0; i < values.length; i++) v.qpos[i] = values[i]!;
    this.stale = true;
  }

  getQvel(out?: Float64Array): Float64Array {
    return copyOut(this.v().qvel, out, 'getQvel');
  }

  setQvel(values: ArrayLike<number>): void {
    const v = this.v();
    checkFinite(values, this.info.nv, 'setQvel', this.dofNames);
    for (let i = 0; i < values.length; i++) v.qvel[i] = values[i]!;
    this.stale = true;
  }

  getCtrl(out?: Float64Array): Float64Array {
    return copyOut(this.v().ctrl, out, 'getCtrl');
  }

  /** Set every actuator's control (nu values, actuator order). MuJoCo clamps to ctrlrange when limited. */
  setCtrl(values: ArrayLike<number>): void {
    const ctrl = this.v().ctrl;
    const nu = this.info.nu;
    if (values.length !== nu) {
      throw new Error(
        `setCtrl: the model has ${nu} actuator${nu === 1 ? '' : 's'} (${this.ctrlNames.join(', ')}), got ${values.length} values`,
      );
    }
    checkFinite(values, nu, 'setCtrl', this.ctrlNames);
    for (let i = 0; i < nu; i++) ctrl[i] = values[i]!;
    this.stale = true;
  }

  /** Sensor readings (nsensordata) at the current state. */
  getSensordata(out?: Float64Array): Float64Array {
    return copyOut(this.fresh().sensordata, out, 'getSensordata');
  }

  /**
   * The full integration state (mjSTATE_INTEGRATION: time, qpos, qvel, act, warm start, ctrl, applied
   * forces, …; info.stateSize values). setState of it restores the simulation exactly: the steps
   * that follow repeat bit for bit.
   */
  getState(out?: Float64Array): Float64Array {
    const v = this.v();
    this.mj.mj_getState(this.model, this.data, this.buffers.state, this.stateSignature);
    return copyOut(v.state, out, 'getState', 0, this.info.stateSize);
  }

  setState(values: ArrayLike<number>): void {
    this.v();
    if (values.length !== this.info.stateSize)
      throw new Error(`setState: expected ${this.info.stateSize} values (from getState), got ${values.length}`);
    for (let i = 0; i < values.length; i++) {
      if (Number.isNaN(values[i]!)) throw new Error(`setState: value ${i} is NaN`);
    }
    // mj_setState copies its input (a temporary vector on the wasm heap), so the heap may grow:
    // v() re-fetches the views on the next call.
    (this.mj.mj_setState as unknown as SetState)(this.model, this.data, values, this.stateSignature);
    this.stale = true;
  }

  /**
   * Apply a force (N) and torque (N·m), in world coordinates, at a body's centre of mass, until
   * changed or cleared (xfrc_applied).
   */
  applyForce(
    body: string,
    force: readonly [number, number, number],
    torque: readonly [number, number, number] = [0, 0, 0],
  ): void {
    const v = this.v();
    const id = idOf(this.ids.body, 'body', body);
    checkFinite(force, 3, `applyForce('${body}') force`, []);
    checkFinite(torque, 3, `applyForce('${body}') torque`, []);
    for (let i = 0; i < 3; i++) {
      v.xfrcApplied[6 * id + i] = force[i]!;
      v.xfrcApplied[6 * id + 3 + i] = torque[i]!;
    }
    this.stale = true;
  }

  clearForces(): void {
    this.v().xfrcApplied.fill(0);
    this.stale = true;
  }

  // --- named access ---

  /** A hinge or slide joint's position (rad or m). */
  jointQpos(name: string): number {
    return this.v().qpos[this.scalarJoint(name).qposAdr]!;
  }

  /** A hinge or slide joint's velocity (rad/s or m/s). */
  jointQvel(name: string): number {
    return this.v().qvel[this.scalarJoint(name).dofAdr]!;
  }

  private scalarJoint(name: string): JointInfo {
    const joint = this.info.joints[idOf(this.ids.joint, 'joint', name)]!;
    if (joint.type !== 'hinge' && joint.type !== 'slide')
      throw new Error(`joint '${name}' is a ${joint.type} joint; read it with getQpos() at qposAdr ${joint.qposAdr}`);
    return joint;
  }

  /** A site's world position at the current state. */
  sitePosition(name: string, out?: Float64Array): Float64Array {
    const id = idOf(this.ids.site, 'site', name);
    return copyOut(this.fresh().siteXpos, out, 'sitePosition', 3 * id, 3);
  }

  /** A site's orientation at the current state: its 3×3 rotation matrix, row-major (site frame → world). */
  siteRotation(name: string, out?: Float64Array): Float64Array {
    const id = idOf(this.ids.site, 'site', name);
    return copyOut(this.fresh().siteXmat, out, 'siteRotation', 9 * id, 9);
  }

  /** A site's Jacobians at the current state (mj_jacSite). */
  siteJacobian(name: string, out?: SiteJacobian): SiteJacobian {
    const id = idOf(this.ids.site, 'site', name);
    const v = this.fresh();
    this.mj.mj_jacSite(this.model, this.data, this.buffers.jacp, this.buffers.jacr, id);
    const n = 3 * this.info.nv;
    return {
      position: copyOut(v.jacp, out?.position, 'siteJacobian position', 0, n),
      rotation: copyOut(v.jacr, out?.rotation, 'siteJacobian rotation', 0, n),
    };
  }

  /** The chain of bodies and joints from the world to a site, for forward kinematics in plain TS. */
  kinematicChain(site: string): KinematicChain {
    this.v();
    return readKinematicChain(this.model, this.info, this.ids, site);
  }

  /**
   * Set qpos, then run mj_kinematics alone (MuJoCo API reference: "Run forward kinematics"): the
   * world poses of every body and site for that configuration, without the rest of mj_forward.
   * The simulation is left at `qpos`.
   */
  kinematics(qpos: ArrayLike<number>, out?: FramePoses): FramePoses {
    this.setQpos(qpos);
    const v = this.v();
    this.mj.mj_kinematics(this.model, this.data);
    return copyFramePoses(v, out);
  }

  /** Each body's parent body id, by body id (the world body, 0, is its own parent). */
  bodyParents(): number[] {
    this.v();
    return readBodyParents(this.model);
  }

  /** Whether each body is fixed to its parent (no joints, not mocap), by body id (./frames.ts). */
  bodyFixed(): boolean[] {
    this.v();
    return readBodyFixed(this.model);
  }

  /** Every geom: type, size, colour, body, pose in the body's frame, a mesh's triangles (./geoms.ts). */
  geoms(): GeomInfo[] {
    this.v();
    return readGeoms(this.mj, this.model);
  }

  // --- derivatives and dynamics ---

  /**
   * Discrete-time linearisation about the current state and control by finite differences
   * (mjd_transitionFD): see Linearization for the state order. The simulation's state is left as it
   * was. eps is the perturbation; centered differences cost twice the steps and are more accurate.
   * An RK4 model is linearised with linearizationIntegrator (see the top of this file).
   */
  linearize(
    { eps = 1e-6, centered = true }: { eps?: number; centered?: boolean } = {},
    out?: { A: Float64Array; B: Float64Array },
  ): Linearization {
    const v = this.v();
    const { nx, nu } = this.info;
    if (!(eps > 0)) throw new Error(`linearize: eps must be positive, got ${eps}`);
    // MuJoCo reads opt.integrator at every step, so the model with another integrator for this one
    // call is the same model compiled with it (test/sim/own_model.test.ts compares the two)
    const other = this.linearizationIntegrator;
    const opt = other === undefined ? undefined : this.model.opt;
    if (opt && other) opt.integrator = integratorValue(this.mj, other);
    try {
      this.mj.mjd_transitionFD(
        this.model,
        this.data,
        eps,
        centered,
        this.buffers.A,
        nu > 0 ? this.buffers.B : null,
        null,
        null,
      );
    } finally {
      if (opt) opt.integrator = integratorValue(this.mj, this.info.integrator);
    }
    this.stale = true;
    return {
      A: copyOut(v.A, out?.A, 'linearize A', 0, nx * nx),
      B: copyOut(v.B, out?.B, 'linearize B', 0, nx * nu),
      nx,
      nu,
    };
  }

  /**
   * The generalised forces (nv) that hold the current qpos still: bias(q, q̇ = 0) − passive(q, q̇ = 0),
   * i.e. gravity less springs and gravcomp. Contact and joint-limit forces are not included.
   */
  gravityCompensation(out?: Float64Array): Float64Array {
    const v = this.v();
    const nv = this.info.nv;
    const saved = copyOut(v.qvel, undefined, 'gravityCompensation');
    v.qvel.fill(0);
    this.mj.mj_forward(this.model, this.data);
    const tau = out ?? new Float64Array(nv);
    if (tau.length < nv)
      throw new Error(`gravityCompensation: the output array has ${tau.length} elements, needs ${nv}`);
    for (let i = 0; i < nv; i++) tau[i] = v.qfrcBias[i]! - v.qfrcPassive[i]!;
    v.qvel.set(saved);
    this.stale = true;
    return tau;
  }

  /**
   * The controls (nu) that make motor actuators on hinge/slide joints produce the generalised
   * forces `forces` (nv): u = τ[dof] / gear. Throws for any other actuator.
   */
  ctrlForForces(forces: ArrayLike<number>, out?: Float64Array): Float64Array {
    const { nu, nv, actuators } = this.info;
    if (forces.length !== nv) throw new Error(`ctrlForForces: expected ${nv} generalised forces, got ${forces.length}`);
    const u = out ?? new Float64Array(nu);
    for (let a = 0; a < nu; a++) {
      const act = actuators[a]!;
      const joint = act.joint === undefined ? undefined : this.info.joints[idOf(this.ids.joint, 'joint', act.joint)];
      if (act.kind !== 'motor' || !joint || (joint.type !== 'hinge' && joint.type !== 'slide')) {
        throw new Error(`ctrlForForces: actuator '${act.name}' is not a motor on a hinge or slide joint`);
      }
      u[a] = forces[joint.dofAdr]! / act.gear;
    }
    return u;
  }

  /** The motor controls that hold the current qpos still: ctrlForForces(gravityCompensation()). */
  gravityCompensationCtrl(out?: Float64Array): Float64Array {
    return this.ctrlForForces(this.gravityCompensation(), out);
  }

  // --- lifetime ---

  /** An independent simulation: a copy of this model and of its current data. */
  clone(): MujocoSim {
    this.v();
    const model = new this.mj.MjModel(this.model);
    const copy = MujocoSim.adopt(this.mj, model, this.info.angleUnit, this.data);
    copy.stale = this.stale;
    return copy;
  }

  /** Free the model, its data and its buffers. Safe to call twice; any other use afterwards throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of Object.values(this.buffers)) b.delete();
    this.data.delete();
    this.model.delete();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
