import type { MjModel } from '@mujoco/mujoco';
import { copyOut, i32 } from './arrays.js';

// The model's body tree, and the world poses of its bodies and sites as mj_kinematics leaves them
// in mjData (MuJoCo API reference, "mjData": xpos, xquat — "Cartesian position/orientation of body
// frame" — and site_xpos), copied out so callers never hold a wasm view.

export interface FramePoses {
  /** nbody × 3: each body frame's origin in the world */
  readonly bodyPos: Float64Array;
  /** nbody × 4: each body frame's orientation in the world, quaternion w, x, y, z */
  readonly bodyQuat: Float64Array;
  /** nsite × 3: each site's position in the world */
  readonly sitePos: Float64Array;
}

/** Each body's parent body id, by body id (body_parentid: the world body, 0, is its own parent). */
export function readBodyParents(m: MjModel): number[] {
  return Array.from(i32(m.body_parentid, 'body_parentid'));
}

/**
 * Whether each body is fixed to its parent, by body id: no joints of its own (body_jntnum 0) and
 * not a mocap body (body_mocapid −1), so its pose in the parent's frame is the model's body_pos and
 * body_quat whatever qpos is. The world body counts as fixed.
 */
export function readBodyFixed(m: MjModel): boolean[] {
  const joints = i32(m.body_jntnum, 'body_jntnum');
  const mocap = i32(m.body_mocapid, 'body_mocapid');
  return Array.from(joints, (n, b) => b === 0 || (n === 0 && mocap[b] === -1));
}

/** Copy the poses mj_kinematics computed (views of mjData's xpos, xquat, site_xpos) into `out`. */
export function copyFramePoses(
  views: { readonly xpos: Float64Array; readonly xquat: Float64Array; readonly siteXpos: Float64Array },
  out?: FramePoses,
): FramePoses {
  return {
    bodyPos: copyOut(views.xpos, out?.bodyPos, 'kinematics bodyPos'),
    bodyQuat: copyOut(views.xquat, out?.bodyQuat, 'kinematics bodyQuat'),
    sitePos: copyOut(views.siteXpos, out?.sitePos, 'kinematics sitePos'),
  };
}
