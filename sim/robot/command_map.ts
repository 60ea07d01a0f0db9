// How a ros2_control-style command vector (one value per commanded joint, in the order of the
// controller's `joints`) becomes MuJoCo controls: each joint's actuator, found by name.

export interface ActuatorRef {
  readonly name: string;
  readonly joint?: string;
  readonly ctrlRange?: readonly [number, number];
}

export class CommandMap {
  /** actuator index per commanded joint */
  readonly actuatorOf: Int32Array;

  constructor(
    readonly joints: readonly string[],
    actuators: readonly ActuatorRef[],
    readonly nu: number,
  ) {
    this.actuatorOf = Int32Array.from(joints, (joint) => {
      const index = actuators.findIndex((a) => a.joint === joint);
      if (index < 0) {
        const actuated = actuators.flatMap((a) => (a.joint ? [a.joint] : []));
        throw new Error(
          `joint '${joint}' has no actuator in the model (actuated joints: ${actuated.join(', ') || 'none'})`,
        );
      }
      return index;
    });
  }

  get length(): number {
    return this.joints.length;
  }

  /** Why a command cannot be applied, or undefined: wrong length or a non-finite value. */
  problem(command: ArrayLike<number>): string | undefined {
    if (command.length !== this.joints.length)
      return `expected ${this.joints.length} values (${this.joints.join(', ')}), got ${command.length}`;
    for (let i = 0; i < command.length; i++) {
      if (!Number.isFinite(command[i]!)) return `value ${i} (${this.joints[i]}) is ${command[i]}`;
    }
    return undefined;
  }

  /** Write the command into a control vector (length nu); unmapped actuators keep their value. */
  apply(command: ArrayLike<number>, ctrl: Float64Array): Float64Array {
    for (let i = 0; i < this.actuatorOf.length; i++) ctrl[this.actuatorOf[i]!] = command[i]!;
    return ctrl;
  }
}
