import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { nsToTime, periodNsFromHz, secondsToNs, timeToNs } from '../framework/time/time.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle } from '../src/util/log.js';
import { DiagnosticLevel, type JointStateEstimate } from '../framework/msgs/types.js';
import type { Timer } from '../framework/time/clock.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { SafetyLayer, type CommandInterface } from '../src/control/safety.js';
import { CommandLoop, type StateSnapshot } from '../src/control/command_loop.js';
import { LqrPlanner } from '../src/control/planners/lqr/planner.js';
import { TrackingStats } from '../src/control/tracking_stats.js';
import type { Planner } from '../src/control/planner.js';
import type { LearnedPlanning } from '../src/control/planners/ensemble_mpc/planner.js';
import { PLANNING_TASKS, type PlanningTask } from '../src/control/task_costs.js';
import { SAMPLING_OPTIMIZERS, type SamplingOptimizerName } from '../src/control/sampling_optimizers.js';
import {
  buildLearnedPlanner,
  planningTask,
  type LearnedPlanningSpec,
} from '../src/control/planners/ensemble_mpc/spec.js';
import { WorkerPlanner } from '../src/control/planners/ensemble_mpc/worker_planner.js';
import type { Propagation } from '../src/control/planners/ensemble_mpc/trajectory_sampling.js';
import { initTensorBackend, type TensorBackendKind } from '../src/tensor/backend.js';
import { QOS_LATCHED } from '../framework/transport/qos.js';

// The controller: a fixed-rate command loop on the node's clock, a planner that supplies the
// policy, and the safety layer around every output. Commands go out as ros2_control forward
// commands (std_msgs/Float64MultiArray, one value per actuator in the model's actuator order).
// Planners: LQR on the MJCF model, or a sampling optimiser (CEM, iCEM, MPPI, random shooting)
// over the learned dynamics model from /dynamics/model (PETS), exploring until the first arrives.
// A sampling planner plans inside the tick (lockstep: a fixed budget per tick, so runs repeat) or
// in a worker thread that replans continuously while the loop keeps its rate (real time); the loop
// then evaluates the newest policy, and one planned from too old a state gets the stop action.
// A state after a gap of more than 1.5 periods starts an episode: the plan's warm start is dropped,
// and with await_episode_model (lockstep) the tick waits for the model trained on the episode before.

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
  planner: {
    type: 'string',
    default: 'lqr',
    choices: ['lqr', ...SAMPLING_OPTIMIZERS],
    description:
      'the planner that supplies the policy: LQR on the MJCF model, or a sampling optimiser over the learned dynamics model',
  },
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
  'lqr.q_diag': {
    type: 'double_array',
    default: [],
    range: [0, 1e9],
    description: 'diagonal of Q over x = [q, q̇] (empty: q_position for q, q_velocity for q̇)',
  },
  'lqr.q_position': {
    type: 'double',
    default: 100,
    range: [0, 1e9],
    description: 'Q weight of each joint position when q_diag is empty',
  },
  'lqr.q_velocity': {
    type: 'double',
    default: 1,
    range: [0, 1e9],
    description: 'Q weight of each joint velocity when q_diag is empty',
  },
  'lqr.r_diag': {
    type: 'double_array',
    default: [],
    range: [1e-12, 1e9],
    description: 'diagonal of R (empty: r for every actuator)',
  },
  'lqr.r': {
    type: 'double',
    default: 0.1,
    range: [1e-12, 1e9],
    description: 'R weight of each actuator when r_diag is empty',
  },
  'lqr.horizon': {
    type: 'integer',
    default: 0,
    range: [0, 100_000],
    description: 'finite-horizon steps (0: infinite horizon, iterated to convergence)',
  },
  'lqr.qf_scale': {
    type: 'double',
    default: 10,
    range: [0, 1e9],
    description: 'finite horizon: terminal cost Q_f = qf_scale · Q',
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
  explore_until_model: {
    type: 'bool',
    default: true,
    description:
      'sampling planners: command uniformly random actions within the action bounds until the first model arrives (false: the stop action)',
  },
  explore_ticks: {
    type: 'integer',
    default: 0,
    range: [0, 1_000_000_000],
    description:
      "sampling planners, lockstep: after this many exploration ticks hold the next tick until the first model arrives, so it arrives at the same tick in every run; it must give the learner its min_transitions (a few ticks more, as episode ends pair no transition), and the bridge's lockstep_timeout_s must outlast a training; 0: explore until the model, whenever it comes",
  },
  await_episode_model: {
    type: 'bool',
    default: false,
    description:
      "sampling planners, lockstep: at each episode start (a state after a gap) hold the tick until a model trained on every state up to the gap arrives (the learner's retrain_on: episode), as PETS trains between episodes; the first episode explores",
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
  'sampling.horizon': { type: 'integer', default: 25, range: [1, 10_000], description: 'plan length in control steps' },
  'sampling.particles': {
    type: 'integer',
    default: 20,
    range: [1, 10_000],
    description: 'trajectory-sampling particles per sequence (ignored by expectation)',
  },
  'sampling.propagation': {
    type: 'string',
    default: 'ts1',
    choices: ['ts1', 'tsinf', 'expectation'],
    description:
      "particles through the ensemble: a new member every step (ts1), one member per particle (tsinf), or the elites' mean (expectation)",
  },
  'sampling.population': {
    type: 'integer',
    default: 400,
    range: [1, 1_000_000],
    description: 'sequences per iteration (iCEM: the first iteration)',
  },
  'sampling.elite_ratio': {
    type: 'double',
    default: 0.1,
    range: [1e-6, 1],
    description: 'CEM, iCEM: elites as a fraction of the population',
  },
  'sampling.alpha': {
    type: 'double',
    default: 0.1,
    range: [0, 0.999999],
    description: 'CEM, iCEM: momentum of the mean and variance update',
  },
  'sampling.std': {
    type: 'double_array',
    default: [],
    range: [0, 1e6],
    description:
      'CEM, iCEM initial std, MPPI noise std: one value or one per actuator (empty: a quarter of the action range)',
  },
  'sampling.min_std': { type: 'double', default: 0, range: [0, 1e6], description: 'CEM, iCEM: floor of the std' },
  'mppi.temperature': {
    type: 'double',
    default: 0.1,
    range: [1e-9, 1e9],
    description: 'λ, in cost units: small follows the best sample, large averages',
  },
  'mppi.noise_smoothing': {
    type: 'double',
    default: 0.9,
    range: [1e-6, 1],
    description: 'β of the noise filter along time (1: independent per step)',
  },
  'mppi.filter_window': {
    type: 'integer',
    default: 1,
    range: [1, 1001],
    description: 'odd width of the moving average over the updated plan (1: none)',
  },
  'icem.population_decay': {
    type: 'double',
    default: 1.25,
    range: [1, 100],
    description: 'γ: the population shrinks by this factor each iteration',
  },
  'icem.keep_elite_fraction': {
    type: 'double',
    default: 0.3,
    range: [0, 1],
    description: 'share of the elites carried to the next iteration and tick',
  },
  'icem.noise_exponent': {
    type: 'double',
    default: 2,
    range: [0, 10],
    description: 'β of the coloured noise: 0 white, 1 pink, 2 red',
  },
  'safety.velocity_limits': {
    type: 'double_array',
    default: [],
    range: [0, 1e6],
    description: 'per actuated joint (empty: none)',
  },
  'safety.effort_limits': {
    type: 'double_array',
    default: [],
    range: [0, 1e6],
    description: "per actuator (empty: the model's ctrlrange)",
  },
  'safety.rate_limits': {
    type: 'double_array',
    default: [],
    range: [0, 1e9],
    description: 'largest command change per second, per actuator (empty: none)',
  },
  'safety.position_margin': {
    type: 'double',
    default: 0,
    range: [0, 10],
    description: 'effort interface: how close to a joint limit effort towards it is removed',
  },
  'safety.watchdog_timeout_s': {
    type: 'double',
    default: 0.05,
    range: [0.001, 60],
    description: 'state older than this is stale: the stop action is sent',
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
});

export default defineNode({
  name: 'controller',
  description:
    'fixed-rate model-based controller (LQR, or sampling MPC over the learned dynamics model) with the safety layer, publishing ros2_control forward commands',
  parameters,
  async configure(node, p) {
    const sim = await MujocoSim.fromFile(packagePath(p.model));
    const { nv, nu, joints: modelJoints, actuators } = sim.info;
    const periodNs = periodNsFromHz(p.rate_hz);
    const actuated = actuators.map((a) => {
      const j = modelJoints.find((x) => x.name === a.joint);
      if (!j) throw new Error(`actuator '${a.name}' drives no joint; the controller needs joint actuators`);
      return j;
    });
    const perActuator = (values: readonly number[], fallback: (i: number) => number, name: string): number[] => {
      if (values.length && values.length !== nu)
        throw new Error(`parameter '${name}': expected ${nu} values (one per actuator), got ${values.length}`);
      return values.length ? [...values] : Array.from({ length: nu }, (_, i) => fallback(i));
    };
    const effortLimit = perActuator(
      p['safety.effort_limits'],
      (i) =>
        actuators[i]!.ctrlRange
          ? Math.max(Math.abs(actuators[i]!.ctrlRange[0]), Math.abs(actuators[i]!.ctrlRange[1]))
          : Number.POSITIVE_INFINITY,
      'safety.effort_limits',
    );
    const safety = new SafetyLayer({
      commandInterface: p.command_interface as CommandInterface,
      positionLower: actuated.map((j) => (j.limited && j.range ? j.range[0] : Number.NEGATIVE_INFINITY)),
      positionUpper: actuated.map((j) => (j.limited && j.range ? j.range[1] : Number.POSITIVE_INFINITY)),
      velocityLimit: perActuator(p['safety.velocity_limits'], () => Number.POSITIVE_INFINITY, 'safety.velocity_limits'),
      effortLimit,
      rateLimit: perActuator(p['safety.rate_limits'], () => Number.POSITIVE_INFINITY, 'safety.rate_limits'),
      positionMargin: new Array<number>(nu).fill(p['safety.position_margin']),
      periodNs,
      watchdogTimeoutNs: secondsToNs(p['safety.watchdog_timeout_s']),
    });

    let lqr: LqrPlanner | undefined;
    let learned: LearnedPlanning | undefined;
    let worker: WorkerPlanner | undefined;
    const planningThread = p.planning_thread || (p.wait_for_state ? 'inline' : 'worker');
    if (p.planner === 'lqr') {
      const q = p['lqr.q_diag'].length
        ? p['lqr.q_diag']
        : [...new Array<number>(nv).fill(p['lqr.q_position']), ...new Array<number>(nv).fill(p['lqr.q_velocity'])];
      const r = p['lqr.r_diag'].length ? p['lqr.r_diag'] : new Array<number>(nu).fill(p['lqr.r']);
      lqr = new LqrPlanner(sim, {
        qDiag: q,
        rDiag: r,
        horizon: p['lqr.horizon'],
        qfScale: p['lqr.qf_scale'],
        stepNs: periodNs,
        site: p.ee_site || undefined,
        ikJoints: p.ik_joints,
      });
    } else {
      // the action box: the actuators' ctrlrange, within the effort limits when commands are efforts
      const bound = (i: number, side: 0 | 1): number => {
        const range = actuators[i]!.ctrlRange;
        if (!range)
          throw new Error(
            `parameter 'planner': ${p.planner} samples inside the action bounds, and actuator '${actuators[i]!.name}' has no ctrlrange`,
          );
        const limit = p.command_interface === 'effort' ? effortLimit[i]! : Number.POSITIVE_INFINITY;
        return side === 0 ? Math.max(range[0], -limit) : Math.min(range[1], limit);
      };
      const iterations = p.iterations_per_tick;
      const spec: LearnedPlanningSpec = {
        modelPath: packagePath(p.model),
        optimizer: p.planner as SamplingOptimizerName,
        optimizerSettings: {
          population: p['sampling.population'],
          iterations,
          eliteRatio: p['sampling.elite_ratio'],
          alpha: p['sampling.alpha'],
          minStd: p['sampling.min_std'],
          std: p['sampling.std'],
          temperature: p['mppi.temperature'],
          noiseSmoothing: p['mppi.noise_smoothing'],
          filterWindow: p['mppi.filter_window'],
          populationDecay: p['icem.population_decay'],
          keepEliteFraction: p['icem.keep_elite_fraction'],
          noiseExponent: p['icem.noise_exponent'],
          seed: p.seed,
        },
        task: p.task as PlanningTask,
        taskTarget: p.task_target,
        actuation: p.command_interface === 'position' ? 'position' : 'torque',
        modelJoints: Array.from(
          { length: nv },
          (_, dof) => modelJoints.find((j) => j.dofAdr === dof)?.name ?? `dof${dof}`,
        ),
        actuators: actuators.map((a) => a.name),
        actionLow: Float32Array.from({ length: nu }, (_, i) => bound(i, 0)),
        actionHigh: Float32Array.from({ length: nu }, (_, i) => bound(i, 1)),
        stepNs: periodNs,
        // inline in lockstep a fixed count, so runs repeat; inline in real time also a time limit,
        // so a tick is late by at most one iteration; in a worker a plan takes what it takes
        budget:
          p.wait_for_state || planningThread === 'worker' ? { iterations } : { iterations, timeMs: p.time_budget_ms },
        horizon: p['sampling.horizon'],
        particles: p['sampling.particles'],
        propagation: p['sampling.propagation'] as Propagation,
        explore: p.explore_until_model,
        seed: p.seed,
      };
      const task = planningTask(spec, sim);
      if (planningThread === 'worker') {
        if (p.wait_for_state)
          node.logger.warn(
            'planning_thread worker in lockstep: commands take whichever plan is newest, so runs do not repeat',
          );
        worker = new WorkerPlanner({
          spec,
          task,
          backend: (p.backend || undefined) as TensorBackendKind | undefined,
          nice: p.planning_nice,
          onEvent: (e) => {
            if (e.kind === 'ready') node.logger.info(`planning worker ready (${e.backend})`);
            else if (e.kind === 'model')
              node.logger.info(`planning worker: dynamics model v${e.version} in use, ${e.description}`);
            else if (e.kind === 'model_refused')
              node.logger.error(`planning worker refused dynamics model v${e.version}: ${e.message}`);
            else node.logger.error(e.message);
          },
        });
        learned = worker;
      } else {
        await initTensorBackend({
          force: (p.backend || undefined) as TensorBackendKind | undefined,
          logger: node.logger,
        });
        learned = buildLearnedPlanner(spec, task);
      }
    }
    const planner: Planner = lqr ?? learned!;
    const loop = new CommandLoop(
      planner,
      safety,
      nu,
      periodNs,
      worker ? { maxPolicyAgeNs: secondsToNs(p.max_plan_age_s) } : {},
    );
    const tracking = new TrackingStats(
      modelJoints.map((j) => j.name),
      secondsToNs(p.settle_s),
    );

    // the goal: a keyframe, or hold where the robot is until a target arrives
    let goalPending: 'keyframe' | 'hold' | undefined = p.goal_keyframe ? 'keyframe' : 'hold';
    const keyframeGoal = (): Float64Array => {
      sim.resetToKeyframe(p.goal_keyframe);
      const x = new Float64Array(2 * nv);
      x.set(sim.getQpos().subarray(0, nv));
      return x;
    };

    let state: StateSnapshot | undefined;
    // lockstep, await_episode_model: the stamp of the last state of the episode that just ended,
    // until a model trained through it is in use
    const awaitEpisodeModel = learned !== undefined && p.wait_for_state && p.await_episode_model;
    if (p.await_episode_model && !awaitEpisodeModel)
      node.logger.warn(
        `parameter 'await_episode_model' ignored: it needs a sampling planner in lockstep (wait_for_state)`,
      );
    let awaitDataEndNs: bigint | undefined;
    const x = new Float64Array(2 * nv);
    const position = new Float64Array(nu);
    const velocity = new Float64Array(nu);
    const throttle = new Throttle(2000);
    let jointIndex: Int32Array | undefined;
    node.createSubscription('dynastack_msgs/msg/JointStateEstimate', p.state_topic, (m: JointStateEstimate) => {
      const js = m.state;
      if (!jointIndex || jointIndex.length !== js.name.length) {
        // map message joints to model dofs once (and again if the joint list changes)
        jointIndex = Int32Array.from(modelJoints, (j) => js.name.indexOf(j.name));
        const missing = modelJoints.filter((_, i) => jointIndex![i]! < 0).map((j) => j.name);
        if (missing.length) {
          jointIndex = undefined;
          if (throttle.allow('joints'))
            node.logger.error(
              `state on ${p.state_topic} lacks joints ${missing.join(', ')}: no command until it has every model joint`,
            );
          return;
        }
      }
      modelJoints.forEach((j, i) => {
        x[j.dofAdr] = js.position[jointIndex![i]!]!;
        x[nv + j.dofAdr] = js.velocity[jointIndex![i]!] ?? 0;
      });
      actuated.forEach((j, i) => {
        position[i] = x[j.dofAdr]!;
        velocity[i] = x[nv + j.dofAdr]!;
      });
      const stampNs = timeToNs(js.header.stamp);
      // a gap in the stamps (the sim bridge leaves two periods between episodes) starts an episode
      if (learned && state && stampNs - state.stampNs > (3n * periodNs) / 2n) {
        learned.reset();
        if (awaitEpisodeModel) {
          awaitDataEndNs = state.stampNs;
          node.logger.info(
            `episode ended at ${(Number(state.stampNs) / 1e9).toFixed(2)} s: holding the next tick until a model trained through it arrives on ${p.model_topic}`,
          );
        }
      }
      state = { stampNs, x, position, velocity };
      if (pendingTick !== undefined && state.stampNs >= pendingTick && !holding()) {
        const t = pendingTick;
        pendingTick = undefined;
        command(t);
      }
    });

    const commands = node.createPublisher('std_msgs/msg/Float64MultiArray', p.command_topic);
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    node.createSubscription('geometry_msgs/msg/PoseStamped', p.goal_topic, (m) => {
      if (lqr ? !p.ee_site : !learned!.takesGoals) {
        if (throttle.allow('goal'))
          node.logger.warn(
            `goal on ${p.goal_topic} ignored: ${lqr ? 'no ee_site to place' : `task ${p.task} takes no goal`}`,
          );
        return;
      }
      const { x: gx, y, z } = m.pose.position;
      if (![gx, y, z].every(Number.isFinite)) {
        node.logger.warn(`goal (${gx}, ${y}, ${z}) is not finite: ignored`);
        return;
      }
      if (!state) {
        node.logger.warn('goal ignored: no state yet');
        return;
      }
      planner.setGoal({ kind: 'position', position: [gx, y, z] }, { timeNs: node.clock.now(), state: state.x });
      goalPending = undefined;
      if (lqr) tracking.newGoal(lqr.goalState!, node.clock.now());
      node.logger.info(`new target (${gx.toFixed(3)}, ${y.toFixed(3)}, ${z.toFixed(3)}) m`);
    });
    // a new dynamics model is swapped in here, in a callback, so always between two ticks
    if (learned) {
      node.createSubscription(
        'dynastack_msgs/msg/ModelBlob',
        p.model_topic,
        (m) => {
          if (m.kind !== 'dynamics_ensemble') {
            if (throttle.allow('model'))
              node.logger.warn(`model on ${p.model_topic} ignored: kind '${m.kind}', expected 'dynamics_ensemble'`);
            return;
          }
          const before = learned.modelVersion;
          try {
            const { layout, repeated } = learned.setModel(m.metadata_json, m.data, m.version);
            if (repeated) node.logger.debug(`dynamics model v${m.version} repeats v${before}: kept`);
            else if (worker)
              node.logger.info(
                `dynamics model v${m.version} handed to the planning worker: state ${layout.encoding.describe()}`,
              );
            else
              node.logger.info(
                `dynamics model v${m.version} in use${before ? ` (was v${before})` : ', planning from now on'}: state ${layout.encoding.describe()}`,
              );
          } catch (err) {
            node.logger.error(
              `dynamics model v${m.version} on ${p.model_topic} refused${before ? `, still planning with v${before}` : ''}: ${(err as Error).message}`,
            );
          }
          // a tick held for the first model goes on now
          if (pendingTick !== undefined && state && state.stampNs >= pendingTick && !holding()) {
            const t = pendingTick;
            pendingTick = undefined;
            command(t);
          }
        },
        { qos: QOS_LATCHED },
      );
    }
    node.createSubscription('std_msgs/msg/Bool', p.estop_topic, (m) => {
      if (m.data && !safety.estopped) {
        safety.estop(`${p.estop_topic} received true`);
        node.logger.error(`EMERGENCY STOP latched (${p.estop_topic}); publish to ~/reset_estop to release`);
      }
    });
    node.createSubscription('std_msgs/msg/Empty', '~/reset_estop', () => {
      if (!safety.estopped) return;
      safety.resetEstop();
      node.logger.warn('emergency stop released');
    });

    const layout = { dim: [{ label: 'actuators', size: nu, stride: nu }], data_offset: 0 };
    let pendingTick: bigint | undefined;
    // lockstep, explore_ticks: the graph pauses after exploring until the first model (PETS trains
    // between its random episode and the first planned one); the learner's worker keeps running
    let holdLogged = false;
    const holding = (): boolean => {
      if (awaitDataEndNs !== undefined) {
        const trainedThrough = learned!.modelDataEndNs;
        if (trainedThrough === undefined || trainedThrough < awaitDataEndNs) return true;
        awaitDataEndNs = undefined;
      }
      const hold =
        learned !== undefined &&
        p.wait_for_state &&
        p.explore_ticks > 0 &&
        learned.modelVersion === 0 &&
        learned.explorationTicks >= p.explore_ticks;
      if (hold && !holdLogged)
        node.logger.info(
          `explored ${learned!.explorationTicks} ticks: holding the next until the first model arrives on ${p.model_topic}`,
        );
      holdLogged ||= hold;
      return hold;
    };
    let published = 0;
    // the loop's period is judged on the steady clock in real time, and on the node's clock in
    // lockstep (where ticks come as fast as the graph goes, and a miss is a skipped tick); its
    // work is always timed on the steady clock
    const loopClock = p.wait_for_state ? node.clock : node.steadyClock;
    const command = (tickNs: bigint): void => {
      const t0 = node.steadyClock.now();
      const startedNs = loopClock.now();
      if (goalPending && state) {
        const goal =
          goalPending === 'keyframe' ? keyframeGoal() : Float64Array.from(state.x, (v, i) => (i < nv ? v : 0));
        planner.setGoal({ kind: 'state', state: goal }, { timeNs: tickNs, state: state.x });
        tracking.newGoal(goal, tickNs);
        goalPending = undefined;
      }
      const { command: u, verdict } = loop.tick(tickNs, state);
      if (state) tracking.add(tickNs, state.x);
      if (!verdict.ok && throttle.allow('verdict'))
        node.logger.warn(`safety: ${verdict.detail}${loop.plannerError ? ` (planner: ${loop.plannerError})` : ''}`);
      if (verdict.publish) {
        commands.publish({ layout, data: Float64Array.from(u) });
        published++;
      }
      loop.stats.tick(startedNs, node.steadyClock.now() - t0);
    };

    let timer: Timer | undefined;
    let diagTimer: Timer | undefined;
    // lockstep: the command for tick t is computed from the state of tick t
    const due = (tickNs: bigint): void => {
      if (p.wait_for_state && (!state || state.stampNs < tickNs || holding())) pendingTick = tickNs;
      else command(tickNs);
    };
    return {
      activate: () => {
        worker?.start();
        timer = node.createTimer(periodNs, (info) => due(info.expectedNs));
        // activated after sim time began (a bridge in a worker starts first): the tick it waits on is now
        if (p.wait_for_state && node.clock.isSimTime && node.clock.now() > 0n) due(node.clock.now());
        diagTimer = node.createTimer(
          1_000_000_000n,
          () => {
            const s = loop.stats.summary();
            const counters = safety.counters();
            diagnostics.publish({
              header: { stamp: nsToTime(node.clock.now()), frame_id: '' },
              status: [
                {
                  level: safety.estopped
                    ? DiagnosticLevel.ERROR
                    : s.deadlineMisses || counters.stale_state
                      ? DiagnosticLevel.WARN
                      : DiagnosticLevel.OK,
                  name: `${node.fullyQualifiedName}: command loop`,
                  message: safety.estopped
                    ? `EMERGENCY STOP: ${safety.estopReason}`
                    : `${p.rate_hz} Hz, ${planner.name}${learned ? (learned.modelVersion ? `, model v${learned.modelVersion}` : learned.exploring ? ', exploring until a model arrives' : ', waiting for a model') : ''}`,
                  hardware_id: '',
                  values: [
                    { key: 'ticks', value: String(s.ticks) },
                    { key: 'deadline_misses', value: String(s.deadlineMisses) },
                    { key: 'period_error_p50_us', value: s.periodErrorP50Us.toFixed(1) },
                    { key: 'period_error_p99_us', value: s.periodErrorP99Us.toFixed(1) },
                    { key: 'compute_p99_us', value: s.computeP99Us.toFixed(1) },
                    ...(worker ? [{ key: 'stale_plans', value: String(loop.stalePolicies) }] : []),
                    ...Object.entries(counters).map(([k, v]) => ({ key: `safety.${k}`, value: String(v) })),
                    ...Object.entries(planner.status()).map(([k, v]) => ({ key: `planner.${k}`, value: String(v) })),
                  ],
                },
              ],
            });
          },
          node.steadyClock,
        );
      },
      deactivate: async () => {
        timer?.cancel();
        diagTimer?.cancel();
        loop.stats.pause();
        await worker?.stop();
      },
      cleanup: async () => {
        await worker?.stop();
        planner.dispose();
      },
      summary: () => {
        const s = loop.stats.summary();
        const c = safety.counters();
        const interventions = c.nan + c.wrong_length + c.stale_state + c.bad_state + c.estop;
        const m = learned?.metrics();
        const planning = m
          ? `; ${m.exploration_ticks} exploration ticks, ${m.plans} plans${worker ? ' in a worker' : ''} (mean ${(m.plan_ms_mean ?? 0).toFixed(1)} ms), ${m.models_received} models received${m.model_version ? `, v${m.model_version} in use` : ''}${worker ? `, ${loop.stalePolicies} ticks with a stale plan` : ''}`
          : '';
        return `${s.ticks} ticks at ${p.rate_hz} Hz, ${s.deadlineMisses} deadline misses${planning}; ${tracking.summary()}; safety: ${c.effort_limit + c.position_limit + c.velocity_limit + c.rate_limit} limited, ${interventions} stop actions`;
      },
      metrics: () => {
        const s = loop.stats.summary();
        return {
          commands_published: published,
          ticks: s.ticks,
          deadline_misses: s.deadlineMisses,
          period_error_p50_us: s.periodErrorP50Us,
          period_error_p99_us: s.periodErrorP99Us,
          ...Object.fromEntries(Object.entries(safety.counters()).map(([k, v]) => [`safety_${k}`, v])),
          ...tracking.metrics(),
          ...(learned
            ? Object.fromEntries(Object.entries(learned.metrics()).map(([k, v]) => [`planner_${k}`, v]))
            : {}),
          ...(worker ? { stale_plans: loop.stalePolicies } : {}),
        };
      },
    };
  },
});
