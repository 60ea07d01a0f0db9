import { nsToTime, timeToNs } from '../time/time.js';
import type { JointState } from './types.js';

// A command stamped by its source, as sensor_msgs/JointState (the convention of simulators' joint
// command topics, e.g. Isaac Sim's /joint_command): header.stamp is the time of the tick the command
// was computed for, name the commanded joints in command order, and the values in the one field of
// the command interface (effort, position or velocity), the others empty. The controller publishes
// it beside its std_msgs/Float64MultiArray (which carries no stamp) for consumers in other
// processes that must know which tick a command belongs to (src/data/state_hold.ts says why
// arrival order cannot tell them): the dynamics learner and the episode monitor.

export type CommandField = 'effort' | 'position' | 'velocity';

/** The command `values` for `joints`, computed for the tick at `stampNs`, as a JointState. */
export function stampedCommand(
  stampNs: bigint,
  joints: readonly string[],
  field: CommandField,
  values: ArrayLike<number>,
): JointState {
  const empty = new Float64Array(0);
  return {
    header: { stamp: nsToTime(stampNs), frame_id: '' },
    name: [...joints],
    position: field === 'position' ? Float64Array.from(values) : empty,
    velocity: field === 'velocity' ? Float64Array.from(values) : empty,
    effort: field === 'effort' ? Float64Array.from(values) : empty,
  };
}

/** A stamped command's stamp and values: those of the one field that has them (effort, position, velocity). */
export function commandOf(msg: JointState): { stampNs: bigint; values: ArrayLike<number> } {
  const values = msg.effort.length ? msg.effort : msg.position.length ? msg.position : msg.velocity;
  return { stampNs: timeToNs(msg.header.stamp), values };
}
