import type { LifecycleDriver, LifecycleEndpoint, LifecycleTransition } from '../transport/types.js';
import type { NodeState } from './managed_node.js';

// The managed-node state machine for a node whose transport exposes no lifecycle of its own (the
// embedded transport): the primary states and transitions of rcl_lifecycle's default state machine
// (rcl_lifecycle/src/default_state_machine.c; design.ros2.org/articles/node_lifecycle.html), run
// one at a time through the same LifecycleDriver the ROS 2 transport's rcl state machine calls
// (framework/transport/ros2/lifecycle.ts). A transition's work that fails goes through error
// processing: the driver's recovery, then unconfigured or finalized, as rcl_lifecycle has it.

/** Where each transition may start (rcl_lifecycle's default state machine). */
const FROM: Readonly<Record<LifecycleTransition, readonly NodeState[]>> = {
  configure: ['unconfigured'],
  activate: ['inactive'],
  deactivate: ['active'],
  cleanup: ['inactive'],
  shutdown: ['unconfigured', 'inactive', 'active'],
};

/** The primary state each transition leads to when it succeeds. */
export const GOAL: Readonly<Record<LifecycleTransition, NodeState>> = {
  configure: 'inactive',
  activate: 'active',
  deactivate: 'inactive',
  cleanup: 'unconfigured',
  shutdown: 'finalized',
};

export class InProcessLifecycle implements LifecycleEndpoint {
  #driver: LifecycleDriver | undefined;
  #queue: Promise<void> = Promise.resolve();

  /**
   * @param name the node's fully qualified name, for messages
   * @param state the runtime's state of the node, which the driver's work keeps
   */
  constructor(
    private readonly name: string,
    private readonly state: () => NodeState,
  ) {}

  serve(driver: LifecycleDriver): void {
    this.#driver = driver;
  }

  transition(transition: LifecycleTransition): Promise<void> {
    const run = this.#queue.then(() => this.#run(transition));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run(transition: LifecycleTransition): Promise<void> {
    const driver = this.#driver;
    if (!driver) throw new Error(`${this.name}: ${transition} before the runtime serves the node's transitions`);
    const from = this.state();
    if (from === GOAL[transition]) return;
    if (!FROM[transition].includes(from)) throw new Error(`${this.name}: cannot ${transition} from state ${from}`);
    let outcome;
    try {
      outcome = await driver.perform(transition);
    } catch (err) {
      // error processing; the driver's recovery leaves the runtime's state unconfigured or finalized
      await driver.recover(transition, err).catch(() => false);
      throw err;
    }
    if (!outcome.ok) throw new Error(outcome.reason);
  }
}
