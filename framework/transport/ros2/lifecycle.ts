import { createRequire } from 'node:module';
import type { Logger } from '../../../src/util/log.js';
import type { LifecycleDriver, LifecycleEndpoint, LifecycleTransition } from '../types.js';
import { firstLine } from './load.js';
import type { Rclnodejs, RclNode } from './rclnodejs_types.js';

// A dynastack node under the ROS 2 transport as a ROS 2 managed node: rcl_lifecycle's state machine
// with its services (<node>/get_state, change_state, get_available_states,
// get_available_transitions, get_transition_graph) and <node>/transition_event, so `ros2 lifecycle
// nodes/get/set/list` work as on an rclcpp_lifecycle node (design: design.ros2.org/articles/
// node_lifecycle.html). rclnodejs 2.2.0's LifecycleNode (lib/lifecycle.js) owns the state machine
// and the services; three things of it are replaced here:
// - its transitions run their callback synchronously inside the service call, but a dynastack
//   node's transitions are asynchronous (hw_bridge's torque-off waits for the bus), so a transition
//   is taken as rcl_lifecycle defines it, in steps: trigger the transition (the machine is then in
//   the transition state, e.g. deactivating, and says so to get_state and on transition_event), do
//   the work (the runtime's LifecycleDriver), then trigger transition_success / transition_failure /
//   transition_error; on an error, ErrorProcessing runs the driver's recovery and ends in
//   unconfigured or finalized (rcl_lifecycle/src/default_state_machine.c). The steps use rclnodejs's
//   native triggerLifecycleTransitionByLabel, the function its _changeState calls;
// - its get_available_transitions answer sends start/goal states under camelCase keys, which
//   lifecycle_msgs/msg/TransitionDescription (start_state, goal_state) does not have, so `ros2
//   lifecycle list` printed empty states;
// - it never answers get_transition_graph (rcl creates that service but rclnodejs takes no requests
//   from it), so a service of the same name here answers `ros2 lifecycle list --all`.
// The node is created as the transport creates any node (its options and node-local arguments)
// and then made a LifecycleNode (its prototype and init), since LifecycleNode's constructor has no
// node-local arguments.

/** lifecycle_msgs/msg/State: id and label */
export interface RclState {
  readonly id: number;
  readonly label: string;
}

/** lib/lifecycle.js TransitionDescription, with its camelCase keys */
export interface RclTransitionDescription {
  readonly transition: RclState;
  readonly startState: RclState;
  readonly goalState: RclState;
}

/** lifecycle_msgs/msg/TransitionDescription as the message has it */
export interface TransitionDescriptionMsg {
  readonly transition: RclState;
  readonly start_state: RclState;
  readonly goal_state: RclState;
}

/** lifecycle_msgs/srv/ChangeState request: a transition by id, or by label when the label is set */
export interface ChangeStateRequest {
  readonly transition: { readonly id: number; readonly label: string };
}

interface RclService {
  readonly serviceName: string;
}

/** The parts of lib/lifecycle.js LifecycleNode used here (beyond lib/node.js Node). */
interface RclLifecycleNode extends RclNode {
  init(enableCommunicationInterface: boolean): void;
  readonly currentState: RclState;
  readonly transitions: RclTransitionDescription[];
  readonly availableTransitions: RclTransitionDescription[];
  readonly _stateMachineHandle: object;
  // the service callbacks LifecycleNode.init registers call these methods by name on the node
  _onChangeState(request: ChangeStateRequest, response: unknown): unknown;
  _onGetAvailableTransitions(request: unknown, response: unknown): unknown;
  createService(
    type: string,
    name: string,
    callback: (request: unknown) => { available_transitions: TransitionDescriptionMsg[] },
  ): RclService;
}

/** rclnodejs's native addon (src/rcl_lifecycle_bindings.cpp): the call behind LifecycleNode._changeState */
interface LifecycleNative {
  /** rcl_lifecycle_trigger_transition_by_label with publish_notification true; the new state */
  triggerLifecycleTransitionByLabel(stateMachine: object, label: string): RclState;
}

/** The five transitions a request may ask for; the others (transition_success…) are the machine's own. */
const REQUESTABLE: readonly LifecycleTransition[] = ['configure', 'activate', 'deactivate', 'cleanup', 'shutdown'];

/** The primary state each transition ends in when it succeeds (rcl_lifecycle's default state machine). */
export const GOAL_STATE: Readonly<Record<LifecycleTransition, string>> = {
  configure: 'inactive',
  activate: 'active',
  deactivate: 'inactive',
  cleanup: 'unconfigured',
  shutdown: 'finalized',
};

/** The message's shape of rclnodejs's transition descriptions. */
export function transitionDescriptions(list: readonly RclTransitionDescription[]): TransitionDescriptionMsg[] {
  return list.map((t) => ({
    transition: { id: t.transition.id, label: t.transition.label },
    start_state: { id: t.startState.id, label: t.startState.label },
    goal_state: { id: t.goalState.id, label: t.goalState.label },
  }));
}

/**
 * The transition a ChangeState request asks for, among those available from the current state: by
 * label when the request has one, else by id (as rclcpp_lifecycle's on_change_state,
 * rclcpp_lifecycle/src/lifecycle_node_interface_impl.cpp), or why there is none.
 */
export function requestedTransition(
  request: ChangeStateRequest,
  available: readonly RclTransitionDescription[],
  state: RclState,
): { transition: LifecycleTransition } | { refused: string } {
  const { id, label } = request.transition;
  const found = available.find((t) => (label ? t.transition.label === label : t.transition.id === id));
  const asked = label ? `'${label}'` : `id ${id}`;
  if (!found) {
    const labels = available.map((t) => t.transition.label);
    return {
      refused: `no transition ${asked} from state ${state.label}${labels.length ? ` (available: ${labels.join(', ')})` : ''}`,
    };
  }
  const name = REQUESTABLE.find((t) => t === found.transition.label);
  if (!name)
    return {
      refused: `transition ${asked} is the state machine's own: a transition is under way (state ${state.label})`,
    };
  return { transition: name };
}

/** rclnodejs's native addon, as rclnodejs loaded it (Node's require cache), or undefined. */
function lifecycleNative(): LifecycleNative | undefined {
  const cache = createRequire(import.meta.url).cache;
  for (const [file, mod] of Object.entries(cache)) {
    const exports = mod?.exports as Partial<LifecycleNative> | undefined;
    if (file.endsWith('.node') && typeof exports?.triggerLifecycleTransitionByLabel === 'function')
      return exports as LifecycleNative;
  }
  return undefined;
}

/**
 * Make `node` a ROS 2 managed node and return its endpoint; undefined (with one warning) when this
 * rclnodejs lacks what it needs, so the node still runs, unmanaged from outside.
 */
export function manageNode(rcl: Rclnodejs, node: RclNode, logger: Logger): LifecycleEndpoint | undefined {
  const LifecycleNode = (rcl as unknown as { lifecycle?: { LifecycleNode?: { prototype: object } } }).lifecycle
    ?.LifecycleNode;
  const native = lifecycleNative();
  if (!LifecycleNode || !native) {
    logger.warn(
      `not a ROS 2 managed node (no lifecycle services): this rclnodejs has no ${LifecycleNode ? 'native triggerLifecycleTransitionByLabel' : 'lifecycle.LifecycleNode'} (dynastack is written against rclnodejs 2.2.0)`,
    );
    return undefined;
  }
  Object.setPrototypeOf(node, LifecycleNode.prototype);
  const managed = node as RclLifecycleNode;
  managed.init(true);
  return new RclLifecycle(managed, native, logger);
}

class RclLifecycle implements LifecycleEndpoint {
  #driver: LifecycleDriver | undefined;
  /** the transition under way, whoever asked for it */
  #busy: Promise<void> | undefined;

  constructor(
    private readonly node: RclLifecycleNode,
    private readonly native: LifecycleNative,
    private readonly log: Logger,
  ) {
    node._onChangeState = (request) => this.#onChangeState(request);
    node._onGetAvailableTransitions = () => ({
      available_transitions: transitionDescriptions(node.availableTransitions),
    });
    node.createService('lifecycle_msgs/srv/GetAvailableTransitions', '~/get_transition_graph', () => ({
      available_transitions: transitionDescriptions(node.transitions),
    }));
  }

  get state(): string {
    return this.node.currentState.label;
  }

  serve(driver: LifecycleDriver): void {
    this.#driver = driver;
  }

  async transition(transition: LifecycleTransition): Promise<void> {
    while (this.#busy) await this.#busy.catch(() => undefined);
    // a request from outside got there first (e.g. activated before the runtime's own activate)
    if (this.state === GOAL_STATE[transition]) return;
    if (!this.node.availableTransitions.some((t) => t.transition.label === transition))
      throw new Error(`${this.node.getFullyQualifiedName()}: cannot ${transition} from state ${this.state}`);
    await this.#run(transition);
  }

  /** A ChangeState request (`ros2 lifecycle set`): success is the transition's; why not is logged. */
  async #onChangeState(request: ChangeStateRequest): Promise<{ success: boolean }> {
    const asked = request.transition.label || `id ${request.transition.id}`;
    if (this.#busy || !this.#driver) {
      this.log.warn(
        `lifecycle request ${asked} refused: ${this.#driver ? `a transition is under way (state ${this.state})` : 'the node is still starting'}`,
      );
      return { success: false };
    }
    const found = requestedTransition(request, this.node.availableTransitions, this.node.currentState);
    if ('refused' in found) {
      this.log.warn(`lifecycle request ${asked} refused: ${found.refused}`);
      return { success: false };
    }
    const from = this.state;
    this.log.info(`lifecycle request: ${found.transition} (from ${from})`);
    try {
      await this.#run(found.transition);
      this.log.info(`lifecycle request: ${found.transition} done, now ${this.state}`);
      return { success: true };
    } catch (err) {
      this.log.error(
        `lifecycle request: ${found.transition} from ${from} failed: ${firstLine(err)}; now ${this.state}`,
      );
      return { success: false };
    }
  }

  #trigger(label: string): RclState {
    return this.native.triggerLifecycleTransitionByLabel(this.node._stateMachineHandle, label);
  }

  /** One transition, in rcl_lifecycle's steps; rejects when it was refused or failed. */
  #run(transition: LifecycleTransition): Promise<void> {
    const run = this.#steps(transition);
    this.#busy = run;
    const done = (): void => {
      if (this.#busy === run) this.#busy = undefined;
    };
    run.then(done, done);
    return run;
  }

  async #steps(transition: LifecycleTransition): Promise<void> {
    const driver = this.#driver;
    if (!driver) throw new Error(`${transition} before the runtime serves the node's transitions`);
    this.#trigger(transition); // → configuring, activating, deactivating, cleaningup or shuttingdown
    let outcome;
    try {
      outcome = await driver.perform(transition);
    } catch (err) {
      this.#trigger('transition_error'); // → errorprocessing
      let configurable = false;
      try {
        configurable = await driver.recover(transition, err);
      } catch (recoveryError) {
        this.log.error(`error processing after ${transition} failed too: ${firstLine(recoveryError)}`);
      }
      // on_error: success → unconfigured, failure → finalized
      this.#trigger(configurable ? 'transition_success' : 'transition_failure');
      throw err;
    }
    this.#trigger(outcome.ok ? 'transition_success' : 'transition_failure');
    if (!outcome.ok) throw new Error(outcome.reason);
  }
}
