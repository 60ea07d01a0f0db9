import type { MjModel } from '@mujoco/mujoco';
import { f64, i32 } from './arrays.js';
import { idOf, type ModelIds, type ModelInfo } from './info.js';

// Forward kinematics as plain TypeScript: the chain of bodies from the world to a site, read once
// from the compiled model, then evaluated without MuJoCo, so a planner can score thousands of
// sampled states per tick (or run in a worker that never loads the wasm).
//
// The composition is MuJoCo's own (mj_kinematics): a body sits at pos/quat in its parent's frame;
// each of its joints then turns (hinge, about pos + axis) or shifts (slide, along axis) it, in the
// body's frame, by q − qpos0; a site sits at pos/quat in its body's frame.

export interface ChainJoint {
  readonly name: string;
  readonly type: 'hinge' | 'slide';
  /** anchor in the body's frame */
  readonly pos: readonly [number, number, number];
  /** unit axis in the body's frame */
  readonly axis: readonly [number, number, number];
  /** the joint's reference (qpos0): the motion is q − ref */
  readonly ref: number;
}

export interface ChainBody {
  readonly name: string;
  /** position and orientation (quaternion w, x, y, z) in the parent body's frame */
  readonly pos: readonly [number, number, number];
  readonly quat: readonly [number, number, number, number];
  readonly joints: readonly ChainJoint[];
}

export interface KinematicChain {
  readonly site: string;
  /** from the world's first child down to the site's body */
  readonly bodies: readonly ChainBody[];
  /** the site's position in its body's frame */
  readonly sitePos: readonly [number, number, number];
}

const vec3 = (a: Float64Array, i: number): [number, number, number] => [a[3 * i]!, a[3 * i + 1]!, a[3 * i + 2]!];

/** Read the chain from the world to a site. Throws for ball and free joints on the way (not handled). */
export function readKinematicChain(m: MjModel, info: ModelInfo, ids: ModelIds, site: string): KinematicChain {
  const siteId = idOf(ids.site, 'site', site);
  const parent = i32(m.body_parentid, 'body_parentid');
  const bodyPos = f64(m.body_pos, 'body_pos');
  const bodyQuat = f64(m.body_quat, 'body_quat');
  const jntAdr = i32(m.body_jntadr, 'body_jntadr');
  const jntNum = i32(m.body_jntnum, 'body_jntnum');
  const jntPos = f64(m.jnt_pos, 'jnt_pos');
  const jntAxis = f64(m.jnt_axis, 'jnt_axis');
  const qpos0 = f64(m.qpos0, 'qpos0');
  const bodies: ChainBody[] = [];
  for (let b = i32(m.site_bodyid, 'site_bodyid')[siteId]!; b > 0; b = parent[b]!) {
    const joints: ChainJoint[] = [];
    for (let j = jntAdr[b]!; j < jntAdr[b]! + jntNum[b]!; j++) {
      const joint = info.joints[j]!;
      if (joint.type !== 'hinge' && joint.type !== 'slide') {
        throw new Error(
          `kinematic chain to site '${site}': joint '${joint.name}' is a ${joint.type} joint; only hinge and slide joints are handled`,
        );
      }
      joints.push({
        name: joint.name,
        type: joint.type,
        pos: vec3(jntPos, j),
        axis: vec3(jntAxis, j),
        ref: qpos0[joint.qposAdr]!,
      });
    }
    const quat: [number, number, number, number] = [
      bodyQuat[4 * b]!,
      bodyQuat[4 * b + 1]!,
      bodyQuat[4 * b + 2]!,
      bodyQuat[4 * b + 3]!,
    ];
    bodies.unshift({ name: info.bodies[b]!, pos: vec3(bodyPos, b), quat, joints });
  }
  return { site, bodies, sitePos: vec3(f64(m.site_pos, 'site_pos'), siteId) };
}

/** R = R · B for row-major 3×3 matrices, in place. */
function mulRight(R: Float64Array, B: ArrayLike<number>): void {
  for (let r = 0; r < 3; r++) {
    const a0 = R[3 * r]!;
    const a1 = R[3 * r + 1]!;
    const a2 = R[3 * r + 2]!;
    for (let c = 0; c < 3; c++) R[3 * r + c] = a0 * B[c]! + a1 * B[3 + c]! + a2 * B[6 + c]!;
  }
}

function quatToMat(q: readonly [number, number, number, number]): Float64Array {
  const n = Math.hypot(...q);
  const [w, x, y, z] = q.map((v) => v / n) as [number, number, number, number];
  return Float64Array.of(
    1 - 2 * (y * y + z * z),
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    1 - 2 * (x * x + z * z),
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    1 - 2 * (x * x + y * y),
  );
}

export interface ForwardKinematics {
  readonly chain: KinematicChain;
  /** the joints the chain moves, in the order q is read (`jointOrder` given to makeForwardKinematics) */
  readonly jointOrder: readonly string[];
  /**
   * The site's world position for joint values q[qOffset + i] (i indexing jointOrder), written to
   * out[outOffset…outOffset+2]. Allocation-free when `out` is given.
   */
  position(q: ArrayLike<number>, out?: Float64Array, qOffset?: number, outOffset?: number): Float64Array;
}

/**
 * Compile a chain into a forward-kinematics function. `jointOrder` lists joint names in the order
 * the caller's q vector holds them (e.g. a task's joints); every joint of the chain must be in it.
 */
export function makeForwardKinematics(chain: KinematicChain, jointOrder: readonly string[]): ForwardKinematics {
  const steps = chain.bodies.map((body) => ({
    pos: body.pos,
    rot: quatToMat(body.quat),
    identity: body.quat[0] === 1 && body.quat[1] === 0 && body.quat[2] === 0 && body.quat[3] === 0,
    joints: body.joints.map((j) => {
      const index = jointOrder.indexOf(j.name);
      if (index < 0)
        throw new Error(
          `forward kinematics to '${chain.site}': joint '${j.name}' is not in the joint order (${jointOrder.join(', ')})`,
        );
      return { ...j, index };
    }),
  }));
  const R = new Float64Array(9);
  const J = new Float64Array(9);
  const p = new Float64Array(3);
  const [sx, sy, sz] = chain.sitePos;
  return {
    chain,
    jointOrder: [...jointOrder],
    position(q, out = new Float64Array(3), qOffset = 0, outOffset = 0): Float64Array {
      R.fill(0);
      R[0] = R[4] = R[8] = 1;
      p.fill(0);
      for (const body of steps) {
        const [bx, by, bz] = body.pos;
        const x = p[0]! + R[0] * bx + R[1]! * by + R[2]! * bz;
        const y = p[1]! + R[3]! * bx + R[4] * by + R[5]! * bz;
        const z = p[2]! + R[6]! * bx + R[7]! * by + R[8] * bz;
        p[0] = x;
        p[1] = y;
        p[2] = z;
        if (!body.identity) mulRight(R, body.rot);
        for (const j of body.joints) {
          const angle = q[qOffset + j.index]! - j.ref;
          const [ax, ay, az] = j.axis;
          if (j.type === 'slide') {
            p[0] = p[0] + (R[0] * ax + R[1]! * ay + R[2]! * az) * angle;
            p[1] = p[1] + (R[3]! * ax + R[4] * ay + R[5]! * az) * angle;
            p[2] = p[2] + (R[6]! * ax + R[7]! * ay + R[8] * az) * angle;
            continue;
          }
          // hinge: rotate about the anchor, so the anchor stays put
          const [jx, jy, jz] = j.pos;
          const anchorX: number = p[0] + R[0] * jx + R[1]! * jy + R[2]! * jz;
          const anchorY: number = p[1] + R[3]! * jx + R[4] * jy + R[5]! * jz;
          const anchorZ: number = p[2] + R[6]! * jx + R[7]! * jy + R[8] * jz;
          const c = Math.cos(angle);
          const s = Math.sin(angle);
          const t = 1 - c;
          J[0] = c + t * ax * ax;
          J[1] = t * ax * ay - s * az;
          J[2] = t * ax * az + s * ay;
          J[3] = t * ax * ay + s * az;
          J[4] = c + t * ay * ay;
          J[5] = t * ay * az - s * ax;
          J[6] = t * ax * az - s * ay;
          J[7] = t * ay * az + s * ax;
          J[8] = c + t * az * az;
          mulRight(R, J);
          p[0] = anchorX - (R[0] * jx + R[1]! * jy + R[2]! * jz);
          p[1] = anchorY - (R[3]! * jx + R[4] * jy + R[5]! * jz);
          p[2] = anchorZ - (R[6]! * jx + R[7]! * jy + R[8] * jz);
        }
      }
      out[outOffset] = p[0]! + R[0] * sx + R[1]! * sy + R[2]! * sz;
      out[outOffset + 1] = p[1]! + R[3]! * sx + R[4] * sy + R[5]! * sz;
      out[outOffset + 2] = p[2]! + R[6]! * sx + R[7]! * sy + R[8] * sz;
      return out;
    },
  };
}
