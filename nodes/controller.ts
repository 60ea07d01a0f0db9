import { defineNode } from '../framework/runtime/node_definition.js';
import { subscribeEstop } from './estop.js';
import { defineParams, type ParamValues } from '../src/util/param_schema.js';
import type { COMMON_PARAMS } from '../framework/params/common.js';
import type { NodeHandle } from '../framework/transport/types.js';
import { periodNsFromHz, secondsToNs, timeToNs } from '../framework/time/time.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle } from '../src/util/log.js';
import {
  EpisodeEventKind,
  type EpisodeEvent,
  type JointState,
  type JointStateEstimate,
  type ModelBlob,
  type PoseStamped,
} from '../framework/msgs/types.js';
import { diagnosticArray } from '../framework/msgs/diagnostics.js';
import type { Timer } from '../framework/time/clock.js';
import { QOS_EPISODE_EVENTS, QOS_LATCHED } from '../framework/transport/qos.js';
import { stampedCommand } from '../framework/msgs/stamped_command.js';
import { planMessage } from '../framework/msgs/plan.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { SafetyLayer, type CommandInterface, type SafetyConfig } from '../src/control/safety.js';
import { SAFETY_PARAMETERS, actionBox, actuatedJoints, safetyLimits } from '../src/control/safety_limits.js';
import { CommandLoop, type StateSnapshot } from '../src/control/command_loop.js';
import { TrackingStats } from '../src/control/tracking_stats.js';
import { JOINT_JUDGE_PARAMETERS, jointJudgeFromParams } from '../src/tasks/task_judge.js';
import { PLANNING_TASKS, type PlanningTask } from '../src/control/task_costs.js';
import { PLANNER_CHOICE, PLANNER_PARAMETERS, createPlanner } from '../src/control/planners/registry.js';
import type { PlannerContext } from '../src/control/planners/entry.js';
import type { LearnedPlanning } from '../src/control/planner.js';
import { StateInput } from '../src/control/state_input.js';
import { TickGate, type GateHold } from '../src/control/tick_gate.js';
import { ControllerGoals } from '../src/control/goals.js';
import { checksHold, degreeRangeWarning } from '../src/control/goal_checks.js';
import { offerModel } from '../src/control/model_input.js';
import { PolicyInput, policyProgress } from '../src/control/policy_input.js';
import type { PolicyTaking } from '../src/control/learned_policy.js';
import { PolicyActor } from '../src/rl/sac/policy_blob.js';
import { PlanSource, stateNames } from '../src/control/plan_message.js';
import {
  controllerHealth,
  controllerMetrics,
  controllerSummary,
  type ControllerFigures,
} from '../src/control/controller_report.js';
import type { TensorBackendKind } from '../src/tensor/backend.js';
import {
  REALTIME_PARAMETERS,
  applyRealtime,
  realtimeMetrics,
  realtimeValues,
  type RealtimeOutcome,
} from '../src/util/realtime.js';

// The controller: a fixed-rate command loop on the node's clock, a planner that supplies the
// policy, and the safety layer around every output. Commands go out as ros2_control forward
// commands (std_msgs/Float64MultiArray, one value per actuator in the model's actuator order);
// with stamped_command_topic each also goes out as a sensor_msgs/JointState stamped with the tick
// it takes effect at (framework/msgs/stamped_command.ts), for a learner or a monitor in another
// process, which cannot tell a Float64MultiArray's tick from when it arrives.
// With plan_topic (default ~/plan) it also sends the newest policy its loop evaluates, as a
// latched dynastack_msgs/Plan (src/control/plan_message.ts: nominal states and actions, the
// planner's figures) from a timer of its own, when it changed, at most plan_rate_hz: off the tick.
// The planner is the `planner` parameter's entry of the planner registry
// (src/control/planners/registry.ts: LQR on the MJCF model, or a sampling optimiser over the
// learned dynamics model from model_topic, exploring until the first arrives); the registry also
// declares the planners' parameters. A sampling planner plans inside the tick (lockstep: a fixed
// budget per tick, so runs repeat) or in a worker thread that replans continuously while the loop
// keeps its rate (real time); the loop then evaluates the newest policy, and one planned from too
// old a state gets the stop action. A planner that takes learned policies (the policy planner, or a
// sampling planner with sampling.policy_share) gets each dynastack_msgs/ModelBlob from policy_topic
// (latched), decoded here (src/rl/sac/policy_blob.ts) and swapped in between ticks, or refused in
// one line (src/control/policy_input.ts). This node reads parameters, builds the library pieces of
// src/control and wires them to topics: the tick gate says when a tick's command is computed (in
// lockstep from the state of that tick, held where a learned model must arrive first), episodes
// come from EpisodeEvents on episode_topic (a START drops the plan's warm start; with
// await_episode_model an END's stamp is what the next model must be trained through). At
// configure, a model whose goal_keyframe is outside its joint ranges or cannot be held within its
// ctrlrange is refused, and hinge ranges that look like radians compiled as degrees are warned
// about (src/control/goal_checks.ts). An exception in a tick fails the controller for good: one
// error line, ERROR on /diagnostics, the stop action at every tick after, and `failed` resolved.
// Deactivated (the runtime's shutdown, Ctrl-C, `ros2 lifecycle set <node> deactivate`), it publishes
// the stop action once, from the safety layer's stop path, before its timers stop: what receives
// forward commands keeps the last one (ros2_control's forward_command_controller holds it), and an
// effort held keeps pushing. Inactive, it publishes nothing more (a lockstep tick re-sent or released
// then is not answered) until it is activated again.

const parameters = defineParams({
  rate_hz: {
    type: 'double',
    default: 100,
    range: [1, 2000],
    description: "command rate (a whole number of the model's physics steps per period)",
  },
  model: {
    type: 'string',
    default: 'sim/models/cartpole.xml',
    nonEmpty: true,
    description: 'MJCF model the planner uses (absolute, or relative to the package root)',
  },
  // `planner`: an entry of the planner registry
  ...PLANNER_CHOICE,
  state_topic: {
    type: 'string',
    default: 'estimated_joint_states',
    nonEmpty: true,
    description: 'dynastack_msgs/JointStateEstimate input',
  },
  command_topic: {
    type: 'string',
    default: 'forward_command_controller/commands',
    nonEmpty: true,
    description: 'std_msgs/Float64MultiArray output, one value per actuator',
  },
  stamped_command_topic: {
    type: 'string',
    default: '',
    description:
      "also publish each command as sensor_msgs/JointState stamped with its tick's time (the actuated joints, the values in the command_interface field), for consumers in other processes that must know a command's tick (a dynamics learner, an episode monitor); '': none",
  },
  command_interface: {
    type: 'string',
    default: 'effort',
    choices: ['effort', 'position', 'velocity'],
    description: "what a command value is (the model's actuators must agree)",
  },
  wait_for_state: {
    type: 'bool',
    default: false,
    description: "lockstep: compute each tick's command from the state stamped at that tick, waiting for it",
  },
  goal_keyframe: {
    type: 'string',
    default: '',
    description:
      'regulate to this keyframe of the model (empty: hold the first measured configuration until a goal arrives)',
  },
  goal_topic: {
    type: 'string',
    default: 'goal',
    nonEmpty: true,
    description: 'geometry_msgs/PoseStamped end-effector targets (needs ee_site)',
  },
  ee_site: { type: 'string', default: '', description: 'the model site that goal positions are for' },
  ik_joints: {
    type: 'string_array',
    default: [],
    description: 'joints inverse kinematics may move for position goals (empty: all)',
  },
  task: {
    type: 'string',
    default: 'cartpole_swingup',
    choices: [...PLANNING_TASKS],
    description: 'sampling planners: the cost minimised over the learned model',
  },
  task_target: {
    type: 'double_array',
    default: [],
    description:
      'sampling planners: the task goal until one arrives on goal_topic (arm_reach: x, y, z in m; cartpole_balance: cart x); empty: the task default',
  },
  model_topic: {
    type: 'string',
    default: '/dynamics/model',
    nonEmpty: true,
    description:
      'sampling planners: dynastack_msgs/ModelBlob dynamics models (latched); each new one is swapped in between ticks',
  },
  policy_topic: {
    type: 'string',
    default: '/policy/model',
    nonEmpty: true,
    description:
      'planner policy, and sampling planners with sampling.policy_share > 0: dynastack_msgs/ModelBlob learned policies (sac_policy, latched) from the policy trainer; each new one that fits is swapped in between ticks',
  },
  explore_until_model: {
    type: 'bool',
    default: true,
    description:
      'sampling planners (the policy planner: policy): command uniformly random actions within the action bounds until the first model arrives (false: the stop action)',
  },
  explore_ticks: {
    type: 'integer',
    default: 0,
    range: [0, 1_000_000_000],
    description:
      "sampling planners, lockstep: after this many exploration ticks hold the next tick until the first model arrives, so it arrives at the same tick in every run; it must give the learner its min_transitions (a few ticks more, as episode ends pair no transition), and the bridge's lockstep_timeout_s must outlast a training; 0: explore until the model, whenever it comes (planner policy: the same for the first policy)",
  },
  await_episode_model: {
    type: 'bool',
    default: false,
    description:
      "sampling planners, lockstep: at each episode boundary (an END on episode_topic) hold the new episode's first tick until a model trained through END's stamp arrives (the learner's retrain_on: episode), as PETS trains between episodes; the first episode explores",
  },
  episode_topic: {
    type: 'string',
    default: 'episode',
    nonEmpty: true,
    description:
      "sampling planners: dynastack_msgs/EpisodeEvent, where episodes start and end (the sim bridge declares them): a START drops the plan's warm start, an END is what await_episode_model waits for a model trained through",
  },
  iterations_per_tick: {
    type: 'integer',
    default: 2,
    range: [1, 10_000],
    description:
      'sampling planners: optimiser iterations per plan (inline in lockstep: exactly these, so runs repeat; inline in real time: at most these within time_budget_ms; in the worker: these per replan)',
  },
  time_budget_ms: {
    type: 'double',
    default: 5,
    range: [0.01, 60_000],
    description:
      'sampling planners, inline in real time: no further iteration starts after this much planning in a tick',
  },
  planning_thread: {
    type: 'string',
    default: '',
    choices: ['', 'inline', 'worker'],
    description:
      "sampling planners: plan inside the tick ('inline') or in a worker thread that replans continuously while the command loop keeps its rate ('worker'); '': worker in real time, inline in lockstep (wait_for_state)",
  },
  max_plan_age_s: {
    type: 'double',
    default: 0.5,
    range: [0.001, 3600],
    description:
      'planning in a worker: a policy planned from a state older than this is stale, and the stop action is sent',
  },
  planning_nice: {
    type: 'integer',
    default: 5,
    range: [-20, 19],
    description: "planning in a worker: the nice value of its thread (the command loop's stays; training runs at 10)",
  },
  seed: {
    type: 'integer',
    default: 0,
    range: [0, 2 ** 31 - 1],
    description: 'sampling planners: seed of the optimiser, trajectory sampling and exploration',
  },
  backend: {
    type: 'string',
    default: '',
    choices: ['', 'wasm', 'cpu'],
    description:
      "sampling planners: tensor backend for the model, '' the fastest that starts, or force 'wasm' or 'cpu'",
  },
  plan_topic: {
    type: 'string',
    default: '~/plan',
    description:
      "dynastack_msgs/Plan: the newest policy the command loop evaluates (nominal states and actions, the planner's figures), latched, sent when it changes at most at plan_rate_hz; '': none",
  },
  plan_rate_hz: {
    type: 'double',
    default: 10,
    range: [0.01, 1000],
    description: "plan_topic: the most plans a second (the node's clock: sim time in simulation)",
  },
  estop_topic: {
    type: 'string',
    default: '/emergency_stop',
    nonEmpty: true,
    description: 'std_msgs/Bool: true latches the e-stop (released only by ~/reset_estop)',
  },
  settle_s: {
    type: 'double',
    default: 1,
    range: [0, 3600],
    description: 'tracking statistics ignore this long after each new goal',
  },
  // every planner's parameters (lqr.*, sampling.*, icem.*, mppi.*), and the safety layer's
  ...PLANNER_PARAMETERS,
  ...SAFETY_PARAMETERS,
  // judge.*: whether the task was achieved (selected joints reach the goal and hold it: src/tasks/task_judge.ts)
  ...JOINT_JUDGE_PARAMETERS,
  // realtime.*: the command loop's thread SCHED_FIFO (opt-in), as ros2_control's controller_manager
  ...REALTIME_PARAMETERS,
});

type ControllerParams = ParamValues<typeof parameters & typeof COMMON_PARAMS>;

/** What the planner registry's entries are made from: the model, the limits and the planning parameters. */
function plannerContext(
  p: ControllerParams,
  sim: MujocoSim,
  limits: SafetyConfig,
  logger: PlannerContext['logger'],
): PlannerContext {
  return {
    sim,
    modelPath: packagePath(p.model),
    periodNs: limits.periodNs,
    commandInterface: limits.commandInterface,
    actionBounds: () => actionBox(sim.info.actuators, limits),
    eeSite: p.ee_site,
    ikJoints: p.ik_joints,
    task: p.task as PlanningTask,
    taskTarget: p.task_target,
    planning: {
      thread: (p.planning_thread || (p.wait_for_state ? 'inline' : 'worker')) as 'inline' | 'worker',
      lockstep: p.wait_for_state,
      iterations: p.iterations_per_tick,
      timeBudgetMs: p.time_budget_ms,
      maxPlanAgeNs: secondsToNs(p.max_plan_age_s),
      nice: p.planning_nice,
      backend: (p.backend || undefined) as TensorBackendKind | undefined,
    },
    explore: p.explore_until_model,
    seed: p.seed,
    logger,
  };
}

/** The log line for a hold of the tick gate; `awaited` is what it waits for ('model', 'policy') and the topic it comes on. */
function holdMessage(hold: GateHold, awaited: { readonly what: string; readonly topic: string }): string {
  return hold.kind === 'first_model'
    ? `explored ${hold.explorationTicks} ticks: holding the next until the first ${awaited.what} arrives on ${awaited.topic}`
    : `episode ended at ${(Number(hold.endNs) / 1e9).toFixed(2)} s: holding the next tick until a ${awaited.what} trained through it arrives on ${awaited.topic}`;
}

/**
 * A planner over the learned model's inputs: each model blob is offered to it (in a callback, so
 * always between two ticks) and may release a held tick; an episode's START drops its warm start,
 * an END is what the gate's await_episode_model waits for a model trained through.
 */
function subscribeLearnedModel(
  node: NodeHandle,
  p: Pick<ControllerParams, 'model_topic' | 'episode_topic'>,
  learned: LearnedPlanning,
  gate: TickGate,
  options: { readonly inWorker: boolean; readonly throttle: Throttle },
): void {
  const onModel = (m: ModelBlob): void => {
    const { offered, log } = offerModel(
      learned,
      { kind: m.kind, metadataJson: m.metadata_json, data: m.data, version: m.version },
      { topic: p.model_topic, inWorker: options.inWorker },
    );
    if (!log.throttleKey || options.throttle.allow(log.throttleKey)) node.logger[log.level](log.message);
    if (offered) gate.modelChanged();
  };
  const onEpisode = (m: EpisodeEvent): void => {
    if (m.event === EpisodeEventKind.START) learned.reset();
    else if (m.event === EpisodeEventKind.END) gate.episodeEnded(timeToNs(m.header.stamp));
  };
  node.createSubscription('dynastack_msgs/msg/ModelBlob', p.model_topic, onModel, { qos: QOS_LATCHED });
  node.createSubscription('dynastack_msgs/msg/EpisodeEvent', p.episode_topic, onEpisode, { qos: QOS_EPISODE_EVENTS });
}

/**
 * A planner that takes learned policies: each policy blob from policy_topic is decoded (PolicyActor)
 * and offered to it (in a callback, so always between two ticks); a policy swapped in may release a
 * held tick. Transient-local, as the policy trainer publishes them.
 */
function subscribePolicy(node: NodeHandle, input: PolicyInput, gate: TickGate, throttle: Throttle): void {
  node.createSubscription(
    'dynastack_msgs/msg/ModelBlob',
    input.topic,
    (m: ModelBlob) => {
      const { offered, log } = input.offer({
        kind: m.kind,
        version: m.version,
        format: m.format,
        metadataJson: m.metadata_json,
        data: m.data,
      });
      if (!log.throttleKey || throttle.allow(log.throttleKey)) node.logger[log.level](log.message);
      if (offered) gate.modelChanged();
    },
    { qos: QOS_LATCHED },
  );
}

export default defineNode({
  name: 'controller',
  description:
    'fixed-rate model-based controller (a planner from the planner registry: LQR, sampling MPC over the learned dynamics model, or a learned policy) with the safety layer, publishing ros2_control forward commands',
  parameters,
  async configure(node, p) {
    const sim = await MujocoSim.fromFile(packagePath(p.model));
    const { nv, nu, joints } = sim.info;
    const rangeWarning = degreeRangeWarning(sim.info);
    if (rangeWarning) node.logger.warn(rangeWarning);
    const periodNs = periodNsFromHz(p.rate_hz);
    const commandInterface = p.command_interface as CommandInterface;
    const watchdogTimeoutNs = secondsToNs(p['safety.watchdog_timeout_s']);
    const limits = safetyLimits(sim.info, p, { commandInterface, periodNs, watchdogTimeoutNs });
    const safety = new SafetyLayer(limits);
    const instance = await createPlanner(p.planner, plannerContext(p, sim, limits, node.logger), p);
    const { planner, learned, thread, maxPolicyAgeNs } = instance;
    const policies: PolicyTaking | undefined = instance.policies;
    const policyInput = policies && new PolicyInput(policies, (blob) => new PolicyActor(blob), p.policy_topic);
    // an exception in a tick fails the controller for good: said once, then the stop action at every tick
    const loop = new CommandLoop(planner, safety, nu, periodNs, {
      ...(maxPolicyAgeNs ? { maxPolicyAgeNs } : {}),
      onFailure: (reason, error) => {
        node.logger.error(`${reason}; the controller sends its stop action from now on`);
        if (error instanceof Error && error.stack) node.logger.debug(error.stack);
        publishHealth();
      },
    });
    const jointNames = joints.map((j) => j.name);
    // an unlimited hinge's angle goes round: its error against the goal is wrapped
    const judge = jointJudgeFromParams(
      p,
      joints.map((j) => ({ name: j.name, wraps: j.type === 'hinge' && !j.limited })),
    );
    const tracking = new TrackingStats(jointNames, secondsToNs(p.settle_s), judge);
    let goals: ControllerGoals;
    try {
      // a keyframe outside the joint ranges, or that the planner cannot hold, is refused here
      goals = new ControllerGoals(planner, tracking, {
        keyframe: p.goal_keyframe,
        model: sim,
        nv,
        topic: p.goal_topic,
        positionGoalRefusal: () => instance.positionGoalRefusal(),
        goalState: () => instance.goalState?.(),
        joints,
        ...(checksHold(planner) ? { holdRefusal: (x: Float64Array) => planner.holdRefusal(x) } : {}),
      });
    } catch (err) {
      planner.dispose();
      throw err;
    }
    const commandDofs = actuatedJoints(sim.info).map((j) => j.dofAdr);
    const input = new StateInput(joints, commandDofs, nv);
    // the lockstep holds wait for the learned model, or for the policy of a planner that acts only with one
    const gate = new TickGate({
      lockstep: p.wait_for_state,
      exploreTicks: p.explore_ticks,
      awaitEpisodeModel: p.await_episode_model && learned !== undefined,
      model: learned ?? (policies && policyProgress(policies)),
      compute: commandTick,
      onHold: (hold) =>
        node.logger.info(
          holdMessage(
            hold,
            learned ? { what: 'model', topic: p.model_topic } : { what: 'policy', topic: p.policy_topic },
          ),
        ),
    });
    if (p.await_episode_model && !gate.awaitsEpisodeModel)
      node.logger.warn(
        `parameter 'await_episode_model' ignored: it needs a sampling planner in lockstep (wait_for_state)`,
      );
    const throttle = new Throttle(2000);
    let state: StateSnapshot | undefined;
    let published = 0;
    /** between activate and deactivate: only then does a command go out */
    let active = false;
    /** lockstep: the newest command sent (and its stamped copy), and the stamp of the state it was computed from */
    let answered:
      { stampNs: bigint; command: { layout: typeof layout; data: Float64Array }; stamped?: JointState } | undefined;

    node.createSubscription('dynastack_msgs/msg/JointStateEstimate', p.state_topic, onState);
    const commands = node.createPublisher('std_msgs/msg/Float64MultiArray', p.command_topic);
    // the same commands stamped with their tick (framework/msgs/stamped_command.ts)
    const stampedCommands = p.stamped_command_topic
      ? node.createPublisher('sensor_msgs/msg/JointState', p.stamped_command_topic)
      : undefined;
    const commandJoints = actuatedJoints(sim.info).map((j) => j.name);
    const stamp = (tickNs: bigint, u: ArrayLike<number>): JointState | undefined =>
      stampedCommands && stampedCommand(tickNs, commandJoints, commandInterface, u);
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    // the plan, off the tick: a timer of its own sends the loop's newest policy when it changed
    const plans = p.plan_topic ? node.createPublisher('dynastack_msgs/msg/Plan', p.plan_topic, QOS_LATCHED) : undefined;
    const planSource = new PlanSource({
      planner: planner.name,
      stateNames: stateNames(joints, nv),
      actionNames: sim.info.actuators.map((a) => a.name),
    });
    const publishPlan = (): void => {
      const outcome = planSource.next(loop.policy, () => planner.status());
      if (outcome?.ok) plans?.publish(planMessage(outcome.plan));
      else if (outcome && throttle.allow('plan'))
        node.logger.warn(`plan not sent on ${p.plan_topic}: ${outcome.problem}`);
    };
    // transient local as the goal_sequencer publishes them: a goal published before this process
    // was discovered still arrives (its publishers must offer TRANSIENT_LOCAL: a volatile one does not match)
    node.createSubscription('geometry_msgs/msg/PoseStamped', p.goal_topic, onGoal, { qos: QOS_LATCHED });
    if (learned) subscribeLearnedModel(node, p, learned, gate, { inWorker: thread !== undefined, throttle });
    if (policyInput) subscribePolicy(node, policyInput, gate, throttle);
    subscribeEstop(node, safety, p.estop_topic);

    function onState(m: JointStateEstimate): void {
      const js = m.state;
      const reading = input.read(js.name, js.position, js.velocity, timeToNs(js.header.stamp));
      if ('missing' in reading) {
        if (throttle.allow('joints'))
          node.logger.error(
            `state on ${p.state_topic} lacks joints ${reading.missing.join(', ')}: no command until it has every model joint`,
          );
        return;
      }
      // lockstep: the state this controller last answered, again (a bridge publishes an unanswered
      // tick again until its first command comes: this command may be what was lost) gets the same
      // command again; nothing is computed twice
      if (
        p.wait_for_state &&
        active &&
        answered &&
        gate.pendingTick === undefined &&
        reading.state.stampNs === answered.stampNs
      ) {
        commands.publish(answered.command);
        if (answered.stamped) stampedCommands?.publish(answered.stamped);
        return;
      }
      state = reading.state;
      gate.stateArrived(state.stampNs);
    }
    function onGoal(m: PoseStamped): void {
      const outcome = goals.position(m.pose.position, node.clock.now(), state);
      if (outcome.accepted) node.logger.info(outcome.message);
      else if (outcome.reason !== 'refused' || throttle.allow('goal')) node.logger.warn(outcome.message);
    }

    const layout = { dim: [{ label: 'actuators', size: nu, stride: nu }], data_offset: 0 };
    // the loop's period is judged on the steady clock in real time, and on the node's clock in
    // lockstep (where ticks come as fast as the graph goes, and a miss is a skipped tick); its
    // work is always timed on the steady clock
    const loopClock = p.wait_for_state ? node.clock : node.steadyClock;
    let saidNoState = false;
    function commandTick(tickNs: bigint): void {
      // a lockstep tick released after deactivate (its state came late): an inactive node sends nothing
      if (!active) return;
      // nothing measured yet: nothing to hold and nothing to stop. A bridge holds its robot until the
      // first command comes (the sim paused, hw_bridge where it was enabled); a stop action sent now
      // would release it while the state estimator's process may still be starting (ros2 launch
      // starts processes in no fixed order), so the first command goes out with the first state
      if (state === undefined) {
        if (!saidNoState) node.logger.info(`no state on ${p.state_topic} yet: no command until the first one`);
        saidNoState = true;
        return;
      }
      const t0 = node.steadyClock.now();
      const startedNs = loopClock.now();
      if (loop.failure === undefined) {
        try {
          const refused = goals.atTick(tickNs, state);
          if (refused) node.logger.warn(refused.message);
        } catch (err) {
          loop.fail(tickNs, err);
        }
      }
      // failed: the stop action, without the planner
      const { command: u, verdict } = loop.tick(tickNs, state);
      if (loop.failure === undefined) {
        tracking.add(tickNs, state.x);
        if (!verdict.ok && throttle.allow('verdict'))
          node.logger.warn(`safety: ${verdict.detail}${loop.plannerError ? ` (planner: ${loop.plannerError})` : ''}`);
      }
      if (verdict.publish) {
        const command = { layout, data: Float64Array.from(u) };
        commands.publish(command);
        // stamped when it takes effect: its tick, or the newer state it answers (lockstep: the first
        // tick of an episode is answered from the episode's first state, stamped after the tick)
        const stamped = stamp(state.stampNs > tickNs ? state.stampNs : tickNs, command.data);
        if (stamped) stampedCommands?.publish(stamped);
        published++;
        answered = { stampNs: state.stampNs, command, ...(stamped ? { stamped } : {}) };
      }
      loop.stats.tick(startedNs, node.steadyClock.now() - t0);
    }
    /** Deactivated: the stop action, once, through the safety layer's stop path; said in one line. */
    function publishStop(): void {
      const { command: u, publish } = loop.stop(node.clock.now());
      if (!publish) {
        node.logger.warn(
          'deactivated without a stop action: position commands hold a measured position, and no position has been measured yet',
        );
        return;
      }
      commands.publish({ layout, data: Float64Array.from(u) });
      const stamped = stamp(node.clock.now(), u);
      if (stamped) stampedCommands?.publish(stamped);
      const actuators = nu === 1 ? 'its actuator' : `all ${nu} actuators`;
      node.logger.info(
        commandInterface === 'position'
          ? `deactivated: sent the stop action (hold the measured position on ${actuators})`
          : `deactivated: sent the stop action (zero ${commandInterface} on ${actuators})`,
      );
    }
    let realtime: RealtimeOutcome | undefined;
    const figures = (): ControllerFigures => ({
      rateHz: p.rate_hz,
      loop: loop.stats.summary(),
      safety: { counters: safety.counters(), estopped: safety.estopped, estopReason: safety.estopReason },
      planner,
      learned,
      worker: thread && { stalePlans: loop.stalePolicies },
      tracking,
      commandsPublished: published,
      failure: loop.failure,
    });
    const publishHealth = (): void => {
      const health = controllerHealth(`${node.fullyQualifiedName}: command loop`, figures());
      const values = { ...health.values, ...realtimeValues(realtime) };
      diagnostics.publish(diagnosticArray(node.clock.now(), [{ ...health, values }]));
    };

    let timer: Timer | undefined;
    let diagTimer: Timer | undefined;
    let planTimer: Timer | undefined;
    return {
      activate: () => {
        active = true;
        thread?.start();
        // the loop's timer runs on this thread: realtime.* applies to this thread alone
        realtime = applyRealtime(p, { loop: 'command loop' });
        node.logger[realtime.level](realtime.line);
        timer = node.createTimer(periodNs, (info) => gate.tickDue(info.expectedNs));
        // activated after sim time began (a bridge in a worker starts first): the tick it waits on is now
        if (p.wait_for_state && node.clock.isSimTime && node.clock.now() > 0n) gate.tickDue(node.clock.now());
        diagTimer = node.createTimer(1_000_000_000n, publishHealth, node.steadyClock);
        if (plans) planTimer = node.createTimer(periodNsFromHz(p.plan_rate_hz), publishPlan);
      },
      deactivate: async () => {
        // the stop goes out before the timers stop, and nothing after it: all in this one turn
        if (active) publishStop();
        active = false;
        answered = undefined;
        timer?.cancel();
        diagTimer?.cancel();
        planTimer?.cancel();
        loop.stats.pause();
        realtime?.restore();
        await thread?.stop();
      },
      cleanup: async () => {
        await thread?.stop();
        planner.dispose();
      },
      failed: loop.failed,
      summary: () => controllerSummary(figures()),
      metrics: () => ({
        ...controllerMetrics(figures()),
        ...(policyInput
          ? Object.fromEntries(Object.entries(policyInput.metrics()).map(([k, v]) => [`planner_${k}`, v]))
          : {}),
        ...realtimeMetrics(realtime),
      }),
    };
  },
});
