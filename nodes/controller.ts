import { defineNode } from '../src/runtime/node_definition.js';
import { defineParams } from '../src/params/schema.js';
import { nsToTime, periodNsFromHz, secondsToNs, timeToNs } from '../src/time/time.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle } from '../src/util/log.js';
import { DiagnosticLevel, type JointStateEstimate } from '../src/msgs/types.js';
import type { Timer } from '../src/time/clock.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { SafetyLayer, type CommandInterface } from '../src/control/safety.js';
import { CommandLoop, type StateSnapshot } from '../src/control/command_loop.js';
import { LqrPlanner } from '../src/control/planners/lqr/planner.js';
import { TrackingStats } from '../src/control/tracking_stats.js';

// The controller: a fixed-rate command loop on the node's clock, a planner that supplies the
// policy, and the safety layer around every output. Commands go out as ros2_control forward
// commands (std_msgs/Float64MultiArray, one value per actuator in the model's actuator order).

const parameters = defineParams({
  rate_hz: { type: 'double', default: 100, range: [1, 2000], description: 'command rate (a whole number of the model\'s physics steps per period)' },
  model: { type: 'string', default: 'sim/models/cartpole.xml', nonEmpty: true, description: 'MJCF model the planner uses (absolute, or relative to the package root)' },
  planner: { type: 'string', default: 'lqr', choices: ['lqr'], description: 'the planner that supplies the policy' },
  state_topic: { type: 'string', default: 'estimated_joint_states', nonEmpty: true, description: 'dynastack_msgs/JointStateEstimate input' },
  command_topic: { type: 'string', default: 'forward_command_controller/commands', nonEmpty: true, description: 'std_msgs/Float64MultiArray output, one value per actuator' },
  command_interface: { type: 'string', default: 'effort', choices: ['effort', 'position', 'velocity'], description: 'what a command value is (the model\'s actuators must agree)' },
  wait_for_state: { type: 'bool', default: false, description: 'lockstep: compute each tick\'s command from the state stamped at that tick, waiting for it' },
  goal_keyframe: { type: 'string', default: '', description: 'regulate to this keyframe of the model (empty: hold the first measured configuration until a goal arrives)' },
  goal_topic: { type: 'string', default: 'goal', nonEmpty: true, description: 'geometry_msgs/PoseStamped end-effector targets (needs ee_site)' },
  ee_site: { type: 'string', default: '', description: 'the model site that goal positions are for' },
  ik_joints: { type: 'string_array', default: [], description: 'joints inverse kinematics may move for position goals (empty: all)' },
  'lqr.q_diag': { type: 'double_array', default: [], range: [0, 1e9], description: 'diagonal of Q over x = [q, q̇] (empty: q_position for q, q_velocity for q̇)' },
  'lqr.q_position': { type: 'double', default: 100, range: [0, 1e9], description: 'Q weight of each joint position when q_diag is empty' },
  'lqr.q_velocity': { type: 'double', default: 1, range: [0, 1e9], description: 'Q weight of each joint velocity when q_diag is empty' },
  'lqr.r_diag': { type: 'double_array', default: [], range: [1e-12, 1e9], description: 'diagonal of R (empty: r for every actuator)' },
  'lqr.r': { type: 'double', default: 0.1, range: [1e-12, 1e9], description: 'R weight of each actuator when r_diag is empty' },
  'lqr.horizon': { type: 'integer', default: 0, range: [0, 100_000], description: 'finite-horizon steps (0: infinite horizon, iterated to convergence)' },
  'lqr.qf_scale': { type: 'double', default: 10, range: [0, 1e9], description: 'finite horizon: terminal cost Q_f = qf_scale · Q' },
  'safety.velocity_limits': { type: 'double_array', default: [], range: [0, 1e6], description: 'per actuated joint (empty: none)' },
  'safety.effort_limits': { type: 'double_array', default: [], range: [0, 1e6], description: 'per actuator (empty: the model\'s ctrlrange)' },
  'safety.rate_limits': { type: 'double_array', default: [], range: [0, 1e9], description: 'largest command change per second, per actuator (empty: none)' },
  'safety.position_margin': { type: 'double', default: 0, range: [0, 10], description: 'effort interface: how close to a joint limit effort towards it is removed' },
  'safety.watchdog_timeout_s': { type: 'double', default: 0.05, range: [0.001, 60], description: 'state older than this is stale: the stop action is sent' },
  estop_topic: { type: 'string', default: '/emergency_stop', nonEmpty: true, description: 'std_msgs/Bool: true latches the e-stop (released only by ~/reset_estop)' },
  settle_s: { type: 'double', default: 1, range: [0, 3600], description: 'tracking statistics ignore this long after each new goal' },
});

export default defineNode({
  name: 'controller',
  description: 'fixed-rate model-based controller (LQR) with the safety layer, publishing ros2_control forward commands',
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
    const q = p['lqr.q_diag'].length ? p['lqr.q_diag'] : [...new Array<number>(nv).fill(p['lqr.q_position']), ...new Array<number>(nv).fill(p['lqr.q_velocity'])];
    const r = p['lqr.r_diag'].length ? p['lqr.r_diag'] : new Array<number>(nu).fill(p['lqr.r']);
    const planner = new LqrPlanner(sim, { qDiag: q, rDiag: r, horizon: p['lqr.horizon'], qfScale: p['lqr.qf_scale'], stepNs: periodNs, site: p.ee_site || undefined, ikJoints: p.ik_joints });
    const perActuator = (values: readonly number[], fallback: (i: number) => number, name: string): number[] => {
      if (values.length && values.length !== nu) throw new Error(`parameter '${name}': expected ${nu} values (one per actuator), got ${values.length}`);
      return values.length ? [...values] : Array.from({ length: nu }, (_, i) => fallback(i));
    };
    const safety = new SafetyLayer({
      commandInterface: p.command_interface as CommandInterface,
      positionLower: actuated.map((j) => (j.limited && j.range ? j.range[0] : Number.NEGATIVE_INFINITY)),
      positionUpper: actuated.map((j) => (j.limited && j.range ? j.range[1] : Number.POSITIVE_INFINITY)),
      velocityLimit: perActuator(p['safety.velocity_limits'], () => Number.POSITIVE_INFINITY, 'safety.velocity_limits'),
      effortLimit: perActuator(p['safety.effort_limits'], (i) => (actuators[i]!.ctrlRange ? Math.max(Math.abs(actuators[i]!.ctrlRange![0]), Math.abs(actuators[i]!.ctrlRange![1])) : Number.POSITIVE_INFINITY), 'safety.effort_limits'),
      rateLimit: perActuator(p['safety.rate_limits'], () => Number.POSITIVE_INFINITY, 'safety.rate_limits'),
      positionMargin: new Array<number>(nu).fill(p['safety.position_margin']),
      periodNs,
      watchdogTimeoutNs: secondsToNs(p['safety.watchdog_timeout_s']),
    });
    const loop = new CommandLoop(planner, safety, nu, periodNs);
    const tracking = new TrackingStats(modelJoints.map((j) => j.name), secondsToNs(p.settle_s));

    // the goal: a keyframe, or hold where the robot is until a target arrives
    let goalPending: 'keyframe' | 'hold' | undefined = p.goal_keyframe ? 'keyframe' : 'hold';
    const keyframeGoal = (): Float64Array => {
      sim.resetToKeyframe(p.goal_keyframe);
      const x = new Float64Array(2 * nv);
      x.set(sim.getQpos().subarray(0, nv));
      return x;
    };

    let state: StateSnapshot | undefined;
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
          if (throttle.allow('joints')) node.logger.error(`state on ${p.state_topic} lacks joints ${missing.join(', ')}: no command until it has every model joint`);
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
      state = { stampNs: timeToNs(js.header.stamp), x, position, velocity };
      if (pendingTick !== undefined && state.stampNs >= pendingTick) {
        const t = pendingTick;
        pendingTick = undefined;
        command(t);
      }
    });

    const commands = node.createPublisher('std_msgs/msg/Float64MultiArray', p.command_topic);
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    node.createSubscription('geometry_msgs/msg/PoseStamped', p.goal_topic, (m) => {
      if (!p.ee_site) {
        if (throttle.allow('goal')) node.logger.warn(`goal on ${p.goal_topic} ignored: no ee_site to place`);
        return;
      }
      const { x: gx, y, z } = m.pose.position;
      if (![gx, y, z].every(Number.isFinite)) return node.logger.warn(`goal (${gx}, ${y}, ${z}) is not finite: ignored`);
      if (!state) return node.logger.warn('goal ignored: no state yet');
      planner.setGoal({ kind: 'position', position: [gx, y, z] }, { timeNs: node.clock.now(), state: state.x });
      goalPending = undefined;
      tracking.newGoal(planner.goalState!, node.clock.now());
      node.logger.info(`new target (${gx.toFixed(3)}, ${y.toFixed(3)}, ${z.toFixed(3)}) m`);
    });
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
    let published = 0;
    // the loop's period is judged on the steady clock in real time, and on the node's clock in
    // lockstep (where ticks come as fast as the graph goes, and a miss is a skipped tick); its
    // work is always timed on the steady clock
    const loopClock = p.wait_for_state ? node.clock : node.steadyClock;
    const command = (tickNs: bigint): void => {
      const t0 = node.steadyClock.now();
      const startedNs = loopClock.now();
      if (goalPending && state) {
        const goal = goalPending === 'keyframe' ? keyframeGoal() : Float64Array.from(state.x, (v, i) => (i < nv ? v : 0));
        planner.setGoal({ kind: 'state', state: goal }, { timeNs: tickNs, state: state.x });
        tracking.newGoal(goal, tickNs);
        goalPending = undefined;
      }
      const { command: u, verdict } = loop.tick(tickNs, state);
      if (state) tracking.add(tickNs, state.x);
      if (!verdict.ok && throttle.allow('verdict')) node.logger.warn(`safety: ${verdict.detail}${loop.plannerError ? ` (planner: ${loop.plannerError})` : ''}`);
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
      if (p.wait_for_state && (!state || state.stampNs < tickNs)) pendingTick = tickNs;
      else command(tickNs);
    };
    return {
      activate: () => {
        timer = node.createTimer(periodNs, (info) => due(info.expectedNs));
        // activated after sim time began (a bridge in a worker starts first): the tick it waits on is now
        if (p.wait_for_state && node.clock.isSimTime && node.clock.now() > 0n) due(node.clock.now());
        diagTimer = node.createTimer(1_000_000_000n, () => {
          const s = loop.stats.summary();
          const counters = safety.counters();
          diagnostics.publish({
            header: { stamp: nsToTime(node.clock.now()), frame_id: '' },
            status: [{
              level: safety.estopped ? DiagnosticLevel.ERROR : s.deadlineMisses || counters.stale_state ? DiagnosticLevel.WARN : DiagnosticLevel.OK,
              name: `${node.fullyQualifiedName}: command loop`,
              message: safety.estopped ? `EMERGENCY STOP: ${safety.estopReason}` : `${p.rate_hz} Hz, ${planner.name}`,
              hardware_id: '',
              values: [
                { key: 'ticks', value: String(s.ticks) },
                { key: 'deadline_misses', value: String(s.deadlineMisses) },
                { key: 'period_error_p50_us', value: s.periodErrorP50Us.toFixed(1) },
                { key: 'period_error_p99_us', value: s.periodErrorP99Us.toFixed(1) },
                { key: 'compute_p99_us', value: s.computeP99Us.toFixed(1) },
                ...Object.entries(counters).map(([k, v]) => ({ key: `safety.${k}`, value: String(v) })),
                ...Object.entries(planner.status()).map(([k, v]) => ({ key: `planner.${k}`, value: String(v) })),
              ],
            }],
          });
        }, node.steadyClock);
      },
      deactivate: () => {
        timer?.cancel();
        diagTimer?.cancel();
        loop.stats.pause();
      },
      cleanup: () => planner.dispose(),
      summary: () => {
        const s = loop.stats.summary();
        const c = safety.counters();
        const interventions = c.nan + c.wrong_length + c.stale_state + c.bad_state + c.estop;
        return `${s.ticks} ticks at ${p.rate_hz} Hz, ${s.deadlineMisses} deadline misses; ${tracking.summary()}; safety: ${c.effort_limit + c.position_limit + c.velocity_limit + c.rate_limit} limited, ${interventions} stop actions`;
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
        };
      },
    };
  },
});
