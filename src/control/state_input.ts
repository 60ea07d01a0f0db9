import type { JointInfo } from '../../sim/mujoco/info.js';
import type { StateSnapshot } from './command_loop.js';

// A joint-state estimate (joint names, positions, velocities, a stamp) as the controller's state:
// the model's x = [q (nv), q̇ (nv)] in dof order, and the command joints' positions and velocities
// for the safety layer. Where each model joint sits in the message is looked up again at every
// message whose joint count differs from the model's, and kept while the counts agree (so a
// message that reorders the same number of joints is read with the old order); a message without
// every model joint gives no state.
// The snapshot's arrays are reused from one message to the next (the command loop reads the newest).

export type StateReading = { readonly state: StateSnapshot } | { readonly missing: readonly string[] };

export class StateInput {
  readonly #joints: readonly Pick<JointInfo, 'name' | 'dofAdr'>[];
  readonly #commandDofs: readonly number[];
  readonly #nv: number;
  readonly #x: Float64Array;
  readonly #position: Float64Array;
  readonly #velocity: Float64Array;
  /** the message index of each model joint */
  #index: Int32Array | undefined;

  /**
   * @param joints the model's joints (name and first dof)
   * @param commandDofs the dof of each command joint (the joint each actuator drives), in command order
   */
  constructor(joints: readonly Pick<JointInfo, 'name' | 'dofAdr'>[], commandDofs: readonly number[], nv: number) {
    this.#joints = joints;
    this.#commandDofs = commandDofs;
    this.#nv = nv;
    this.#x = new Float64Array(2 * nv);
    this.#position = new Float64Array(commandDofs.length);
    this.#velocity = new Float64Array(commandDofs.length);
  }

  /** The state in a joint-state estimate; absent velocities read as 0. */
  read(
    names: readonly string[],
    positions: ArrayLike<number>,
    velocities: ArrayLike<number>,
    stampNs: bigint,
  ): StateReading {
    let index = this.#index;
    if (!index || index.length !== names.length) {
      // map message joints to model dofs (kept while the message has as many joints as the model)
      index = Int32Array.from(this.#joints, (j) => names.indexOf(j.name));
      const missing = this.#joints.filter((_, i) => index![i]! < 0).map((j) => j.name);
      if (missing.length) {
        this.#index = undefined;
        return { missing };
      }
      this.#index = index;
    }
    const x = this.#x;
    const nv = this.#nv;
    this.#joints.forEach((j, i) => {
      x[j.dofAdr] = positions[index[i]!]!;
      x[nv + j.dofAdr] = velocities[index[i]!] ?? 0;
    });
    this.#commandDofs.forEach((dof, i) => {
      this.#position[i] = x[dof]!;
      this.#velocity[i] = x[nv + dof]!;
    });
    return { state: { stampNs, x, position: this.#position, velocity: this.#velocity } };
  }
}
