import type { MjModel } from '@mujoco/mujoco';
import { bool, f64, i32 } from './arrays.js';
import type { Mujoco } from './module.js';

// What a controller needs to know about a model, read once when it is loaded: sizes, and joints,
// actuators, sites, sensors and keyframes by name.

export type JointType = 'free' | 'ball' | 'slide' | 'hinge';
export type ActuatorKind = 'motor' | 'position' | 'velocity' | 'general';
/** the model's integrator (opt.integrator, mjtIntegrator without its mjINT_ prefix) */
export type Integrator = 'euler' | 'rk4' | 'implicit' | 'implicitfast' | 'discrete';
/** what the MJCF's angles were written in (<compiler angle>; MJCF's default is degree) */
export type AngleUnit = 'degree' | 'radian';

export interface JointInfo {
  readonly name: string;
  readonly type: JointType;
  readonly qposAdr: number;
  readonly dofAdr: number;
  /** the limits, present when the joint is limited (radians or metres) */
  readonly range?: readonly [number, number];
  readonly limited: boolean;
}

export interface ActuatorInfo {
  readonly name: string;
  /** the joint it drives, when its transmission is a joint */
  readonly joint?: string;
  readonly ctrlRange?: readonly [number, number];
  readonly forceRange?: readonly [number, number];
  /** the first gear component: force = gear × actuator output */
  readonly gear: number;
  /** motor: force = gear·ctrl; position: kp(ctrl − q) − kv q̇; velocity: kv(ctrl − q̇); general: anything else */
  readonly kind: ActuatorKind;
}

export interface SensorInfo {
  readonly name: string;
  /** first index in sensordata */
  readonly adr: number;
  readonly dim: number;
}

export interface ModelInfo {
  readonly nq: number;
  readonly nv: number;
  readonly nu: number;
  readonly na: number;
  /** size of the linearised state [qpos tangent (nv), qvel (nv), act (na)] = 2 nv + na */
  readonly nx: number;
  readonly nsensordata: number;
  /** length of getState()'s vector (mjSTATE_INTEGRATION) */
  readonly stateSize: number;
  readonly timestep: number;
  readonly integrator: Integrator;
  /**
   * The unit the MJCF's angles (hinge ranges, euler, axisangle) were written in, when the loader
   * could read its <compiler> (compiled values are always radians)
   */
  readonly angleUnit?: AngleUnit;
  readonly joints: readonly JointInfo[];
  readonly actuators: readonly ActuatorInfo[];
  readonly bodies: readonly string[];
  readonly sites: readonly string[];
  readonly sensors: readonly SensorInfo[];
  readonly keyframes: readonly string[];
}

/** Name → id for each kind of element; unnamed elements are left out. */
export interface ModelIds {
  readonly joint: ReadonlyMap<string, number>;
  readonly actuator: ReadonlyMap<string, number>;
  readonly body: ReadonlyMap<string, number>;
  readonly site: ReadonlyMap<string, number>;
  readonly sensor: ReadonlyMap<string, number>;
  readonly keyframe: ReadonlyMap<string, number>;
}

/** The id of a named element, or an Error that lists the names the model has. */
export function idOf(ids: ReadonlyMap<string, number>, kind: string, name: string): number {
  const id = ids.get(name);
  if (id !== undefined) return id;
  const known = [...ids.keys()];
  throw new Error(`the model has no ${kind} '${name}' (${kind}s: ${known.length ? known.join(', ') : 'none'})`);
}

export function readModel(
  mj: Mujoco,
  m: MjModel,
  angleUnit: AngleUnit | undefined,
): { info: ModelInfo; ids: ModelIds } {
  // First everything that allocates on the wasm heap (the accessors, m.opt), so the views read
  // below cannot be detached by a heap growth half-way.
  const flags = <T>(count: number, read: (i: number) => T): T[] => Array.from({ length: count }, (_, i) => read(i));
  // mjtByte arrays (jnt_limited, actuator_ctrllimited) have no view in this binding; the
  // per-element accessors read them.
  const jointLimited = flags(m.njnt, (j) => {
    const accessor = m.jnt(j);
    try {
      return bool(accessor.limited as unknown, 'jnt limited');
    } finally {
      accessor.delete();
    }
  });
  const actuatorLimits = flags(m.nu, (a) => {
    const accessor = m.actuator(a);
    try {
      return {
        ctrl: bool(accessor.ctrllimited as unknown, 'actuator ctrllimited'),
        force: bool(accessor.forcelimited as unknown, 'actuator forcelimited'),
      };
    } finally {
      accessor.delete();
    }
  });
  const timestep = m.opt.timestep;
  const integrator = integratorOf(mj, m.opt.integrator);
  const stateSize = mj.mj_stateSize(m, mj.mjtState.mjSTATE_INTEGRATION.value);

  // Names come from m.names: mj_id2name returns garbage for unnamed elements in this binding.
  const names = m.names as unknown;
  if (!(names instanceof Int8Array || names instanceof Uint8Array))
    throw new Error('MuJoCo binding: expected model names as bytes');
  const bytes = new Uint8Array(names.buffer, names.byteOffset, names.length);
  const decoder = new TextDecoder();
  const nameList = (adr: unknown, count: number, what: string): string[] => {
    const adrs = i32(adr, what);
    return Array.from({ length: count }, (_, i) => {
      const start = adrs[i]!;
      let end = start;
      while (end < bytes.length && bytes[end] !== 0) end++;
      return decoder.decode(bytes.subarray(start, end));
    });
  };
  const jointNames = nameList(m.name_jntadr, m.njnt, 'name_jntadr');
  const actuatorNames = nameList(m.name_actuatoradr, m.nu, 'name_actuatoradr');
  const bodies = nameList(m.name_bodyadr, m.nbody, 'name_bodyadr');
  const sites = nameList(m.name_siteadr, m.nsite, 'name_siteadr');
  const sensorNames = nameList(m.name_sensoradr, m.nsensor, 'name_sensoradr');
  const keyframes = nameList(m.name_keyadr, m.nkey, 'name_keyadr');

  const jointTypes = new Map<number, JointType>([
    [mj.mjtJoint.mjJNT_FREE.value, 'free'],
    [mj.mjtJoint.mjJNT_BALL.value, 'ball'],
    [mj.mjtJoint.mjJNT_SLIDE.value, 'slide'],
    [mj.mjtJoint.mjJNT_HINGE.value, 'hinge'],
  ]);
  const jntType = i32(m.jnt_type, 'jnt_type');
  const jntQposAdr = i32(m.jnt_qposadr, 'jnt_qposadr');
  const jntDofAdr = i32(m.jnt_dofadr, 'jnt_dofadr');
  const jntRange = f64(m.jnt_range, 'jnt_range');
  const joints: JointInfo[] = jointNames.map((name, j) => {
    const limited = jointLimited[j]!;
    const type = jointTypes.get(jntType[j]!);
    if (!type) throw new Error(`MuJoCo binding: joint '${name}' has unknown type ${jntType[j]}`);
    const range: [number, number] = [jntRange[2 * j]!, jntRange[2 * j + 1]!];
    return { name, type, qposAdr: jntQposAdr[j]!, dofAdr: jntDofAdr[j]!, limited, ...(limited ? { range } : {}) };
  });

  const nu = m.nu;
  const gainprm = f64(m.actuator_gainprm, 'actuator_gainprm');
  const biasprm = f64(m.actuator_biasprm, 'actuator_biasprm');
  const ng = nu ? gainprm.length / nu : 0;
  const nb = nu ? biasprm.length / nu : 0;
  const gainType = i32(m.actuator_gaintype, 'actuator_gaintype');
  const biasType = i32(m.actuator_biastype, 'actuator_biastype');
  const dynType = i32(m.actuator_dyntype, 'actuator_dyntype');
  const trnType = i32(m.actuator_trntype, 'actuator_trntype');
  const trnId = i32(m.actuator_trnid, 'actuator_trnid');
  const ctrlRange = f64(m.actuator_ctrlrange, 'actuator_ctrlrange');
  const forceRange = f64(m.actuator_forcerange, 'actuator_forcerange');
  const gear = f64(m.actuator_gear, 'actuator_gear');
  const fixedGain = mj.mjtGain.mjGAIN_FIXED.value;
  const noBias = mj.mjtBias.mjBIAS_NONE.value;
  const affineBias = mj.mjtBias.mjBIAS_AFFINE.value;
  const noDyn = mj.mjtDyn.mjDYN_NONE.value;
  const kindOf = (a: number): ActuatorKind => {
    if (gainType[a] !== fixedGain || dynType[a] !== noDyn) return 'general';
    const gain = gainprm[a * ng]!;
    const [b0, b1, b2] = [biasprm[a * nb]!, biasprm[a * nb + 1]!, biasprm[a * nb + 2]!];
    if (biasType[a] === noBias) return 'motor';
    if (biasType[a] !== affineBias || b0 !== 0 || gain <= 0) return 'general';
    if (b1 === -gain && b2 <= 0) return 'position';
    if (b1 === 0 && b2 === -gain) return 'velocity';
    return 'general';
  };
  const actuators: ActuatorInfo[] = actuatorNames.map((name, a) => {
    const { ctrl: ctrlLimited, force: forceLimited } = actuatorLimits[a]!;
    const joint = trnType[a] === mj.mjtTrn.mjTRN_JOINT.value ? jointNames[trnId[2 * a]!] : undefined;
    return {
      name,
      ...(joint !== undefined ? { joint } : {}),
      ...(ctrlLimited ? { ctrlRange: [ctrlRange[2 * a]!, ctrlRange[2 * a + 1]!] as const } : {}),
      ...(forceLimited ? { forceRange: [forceRange[2 * a]!, forceRange[2 * a + 1]!] as const } : {}),
      gear: gear[6 * a]!,
      kind: kindOf(a),
    };
  });

  const sensorAdr = i32(m.sensor_adr, 'sensor_adr');
  const sensorDim = i32(m.sensor_dim, 'sensor_dim');
  const sensors: SensorInfo[] = sensorNames.map((name, s) => ({ name, adr: sensorAdr[s]!, dim: sensorDim[s]! }));

  const byName = (list: readonly string[]): Map<string, number> => {
    const map = new Map<string, number>();
    list.forEach((name, i) => {
      if (name) map.set(name, i);
    });
    return map;
  };
  const info: ModelInfo = {
    nq: m.nq,
    nv: m.nv,
    nu,
    na: m.na,
    nx: 2 * m.nv + m.na,
    nsensordata: m.nsensordata,
    stateSize,
    timestep,
    integrator,
    ...(angleUnit ? { angleUnit } : {}),
    joints,
    actuators,
    bodies,
    sites,
    sensors,
    keyframes,
  };
  const ids: ModelIds = {
    joint: byName(jointNames),
    actuator: byName(actuatorNames),
    body: byName(bodies),
    site: byName(sites),
    sensor: byName(sensorNames),
    keyframe: byName(keyframes),
  };
  return { info: deepFreeze(info), ids };
}

/** Each integrator's mjtIntegrator value. */
function integratorValues(mj: Mujoco): Record<Integrator, number> {
  const e = mj.mjtIntegrator;
  return {
    euler: e.mjINT_EULER.value,
    rk4: e.mjINT_RK4.value,
    implicit: e.mjINT_IMPLICIT.value,
    implicitfast: e.mjINT_IMPLICITFAST.value,
    discrete: e.mjINT_DISCRETE.value,
  };
}

/** An mjtIntegrator value as its name. */
export function integratorOf(mj: Mujoco, value: number): Integrator {
  const values = integratorValues(mj);
  const name = (Object.keys(values) as Integrator[]).find((k) => values[k] === value);
  if (!name) throw new Error(`MuJoCo binding: unknown integrator ${value}`);
  return name;
}

/** An integrator's mjtIntegrator value. */
export function integratorValue(mj: Mujoco, name: Integrator): number {
  return integratorValues(mj)[name];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
