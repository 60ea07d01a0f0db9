import { nsToTime } from '../time/time.js';
import type { TFMessage, TransformStamped } from './types.js';

// Frame transforms (plain fields, quaternions w, x, y, z as MuJoCo and sim/robot/body_frames.ts
// hold them) as tf2_msgs/TFMessage, what /tf carries: each a geometry_msgs/TransformStamped whose
// header.frame_id is the parent frame and child_frame_id the child, the transform being the child
// frame's pose in the parent's (geometry_msgs/Quaternion is x, y, z, w).

export interface TransformIn {
  readonly parent: string;
  readonly child: string;
  readonly translation: readonly [number, number, number];
  /** w, x, y, z */
  readonly rotation: readonly [number, number, number, number];
}

/** The transforms, all stamped `stampNs`. */
export function tfMessage(transforms: readonly TransformIn[], stampNs: bigint): TFMessage {
  const stamp = nsToTime(stampNs);
  return {
    transforms: transforms.map((t): TransformStamped => ({
      header: { stamp: { ...stamp }, frame_id: t.parent },
      child_frame_id: t.child,
      transform: {
        translation: { x: t.translation[0], y: t.translation[1], z: t.translation[2] },
        rotation: { x: t.rotation[1], y: t.rotation[2], z: t.rotation[3], w: t.rotation[0] },
      },
    })),
  };
}
