import { timeToNs } from '../time/time.js';
import type { Float64Seq, JointState, JointStateEstimate } from './types.js';

// A joint state message as the libraries take it: the fields of a sensor_msgs/JointState (or the
// state inside a dynastack_msgs/JointStateEstimate) with the stamp in nanoseconds. Libraries know
// no message types; nodes hand them this.

export interface JointStateFields {
  readonly stampNs: bigint;
  readonly names: readonly string[];
  readonly position: Float64Seq;
  readonly velocity: Float64Seq;
  readonly effort: Float64Seq;
}

export function jointStateFields(msg: JointState | JointStateEstimate): JointStateFields {
  const js = 'state' in msg ? msg.state : msg;
  return {
    stampNs: timeToNs(js.header.stamp),
    names: js.name,
    position: js.position,
    velocity: js.velocity,
    effort: js.effort,
  };
}
