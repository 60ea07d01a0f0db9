import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import {
  JointStateEstimator,
  type EffortInput,
  type EstimatorCounts,
  type JointEstimate,
} from '../src/estimation/joint_state_estimator.js';
import { InnovationStats } from '../src/estimation/innovation_stats.js';
import {
  DiagnosticLevel,
  type DiagnosticStatus,
  type JointState,
  type JointStateEstimate,
} from '../framework/msgs/types.js';
import { nsToTime, periodNsFromHz, secondsToNs, timeToNs } from '../framework/time/time.js';
import { QOS_DEFAULT, QOS_SENSOR_DATA } from '../framework/transport/qos.js';
import { Throttle } from '../src/util/log.js';
import type { Timer } from '../framework/time/clock.js';

// Filtered joint positions and velocities, with their covariance, from /joint_states: one
// Kalman filter per joint (src/estimation). One estimate is published per accepted measurement,
// from the subscription callback, stamped with the measurement's stamp, so downstream nodes see
// the input's rate and timing. /diagnostics reports counts and innovation statistics.
//
// QoS: joint_states is subscribed with the default profile (reliable, keep last 10), which the
// dynastack bridges and ros2_control's joint_state_broadcaster publish, so that no state is lost
// in lockstep; `joint_states_qos: sensor_data` (best effort) is for drivers that publish best
// effort, which a reliable subscription would not match.

const parameters = defineParams({
  joints: {
    type: 'string_array',
    default: [],
    description: 'joints to estimate, in output order; empty: those of the first joint state received',
  },
  process_noise: {
    type: 'double',
    default: 0.5,
    range: [1e-9, 1e9],
    description:
      'spectral density q of the white acceleration noise (rad²/s³): larger follows quick velocity changes sooner, smaller gives a smoother velocity; about right when the mean NIS in /diagnostics is near 1 (0.5 suits arm motions of a few rad/s²)',
  },
  position_noise_std: {
    type: 'double',
    default: 1e-3,
    range: [1e-9, 10],
    description: 'standard deviation of the measured positions (rad, or m for a prismatic joint)',
  },
  use_velocity_measurement: {
    type: 'bool',
    default: false,
    description:
      'fuse the measured velocities as well, when messages carry them; off: positions only (sim velocities are noisy, servos often report none)',
  },
  velocity_noise_std: {
    type: 'double',
    default: 0.1,
    range: [1e-9, 1e6],
    description: 'standard deviation of the measured velocities (rad/s), with use_velocity_measurement',
  },
  initial_velocity_std: {
    type: 'double',
    default: 10,
    range: [1e-6, 1e6],
    description: 'velocity uncertainty at start and after a reset (rad/s)',
  },
  use_effort_input: {
    type: 'bool',
    default: false,
    description:
      "predict with effort / inertia as a known acceleration: the command of command_topic, or when command_topic is '' the measured effort of each joint state (the effort applied over the step that led to it, as a sim reports it)",
  },
  command_topic: {
    type: 'string',
    default: '',
    description:
      "the controller's effort commands (std_msgs/Float64MultiArray, one value per joint in `joints` order), with use_effort_input; '': no command subscription",
  },
  command_timeout_s: {
    type: 'double',
    default: 0.5,
    range: [0.001, 3600],
    description: 'an effort command older than this (steady clock) is not used: the filter predicts without input',
  },
  inertia: {
    type: 'double_array',
    default: [],
    range: [0, 1e6],
    description:
      'per joint, in `joints` order: inertia about the axis (kg·m², kg for a prismatic joint) turning effort into acceleration; empty or 0: constant velocity',
  },
  damping: {
    type: 'double_array',
    default: [],
    range: [0, 1e6],
    description: 'per joint viscous damping of the effort model (N·m·s/rad); empty: none',
  },
  outlier_gate: {
    type: 'double',
    default: 0,
    range: [0, 1e6],
    description:
      'reject a measurement whose innovation is more than this many standard deviations (Mahalanobis distance) from the prediction; 0: no gate',
  },
  outlier_max_consecutive: {
    type: 'integer',
    default: 10,
    range: [0, 1_000_000],
    description: 'after this many rejected measurements in a row a joint restarts from what is measured; 0: never',
  },
  reset_threshold_s: {
    type: 'double',
    default: 0.5,
    range: [0, 1e6],
    description:
      'a stamp this much older than the last accepted one means the source restarted (a sim reset to t = 0): re-initialise; smaller steps back are rejected as out of order',
  },
  reset_after_out_of_order: {
    type: 'integer',
    default: 5,
    range: [0, 1_000_000],
    description:
      'this many out-of-order stamps in a row also re-initialise (a clock that went back by less than reset_threshold_s); 0: never',
  },
  joint_states_qos: {
    type: 'string',
    default: 'default',
    choices: ['default', 'sensor_data'],
    description:
      "joint_states subscription QoS: 'default' (reliable, keep last 10) or 'sensor_data' (best effort, keep last 5, also matches best-effort publishers)",
  },
  diagnostics_period_s: {
    type: 'double',
    default: 1,
    range: [0.01, 3600],
    description: 'how often /diagnostics is published (steady clock)',
  },
});

/** What the launcher reports, and /diagnostics shows. */
function countFigures(c: EstimatorCounts): Record<string, number> {
  return {
    received: c.received,
    accepted: c.accepted,
    duplicates: c.duplicates,
    out_of_order: c.outOfOrder,
    non_finite: c.nonFinite,
    bad_layout: c.badLayout,
    resets: c.resets,
    outliers: c.outliers,
    gate_resets: c.gateResets,
    input_rejected: c.inputRejected,
  };
}

function merged(stats: Iterable<InnovationStats>): InnovationStats {
  const all = new InnovationStats();
  for (const s of stats) all.merge(s);
  return all;
}

export default defineNode({
  name: 'state_estimator',
  description: 'Kalman-filtered joint positions and velocities with covariance from sensor_msgs/JointState',
  parameters,
  configure(node, params) {
    const joints = params.joints;
    for (const name of ['inertia', 'damping'] as const) {
      const values = params[name];
      if (!values.length) continue;
      if (!joints.length)
        throw new Error(
          `parameter '${name}': its values follow the order of 'joints', which is empty; name the joints`,
        );
      if (values.length !== joints.length)
        throw new Error(
          `parameter '${name}': ${values.length} values for the ${joints.length} joints of 'joints' (give one per joint, or none)`,
        );
    }
    if (params.damping.length && !params.inertia.length)
      throw new Error("parameter 'damping': the effort model needs 'inertia' as well");
    if (params.use_effort_input && !params.inertia.some((x) => x > 0))
      throw new Error(
        "parameter 'use_effort_input': the effort model needs a positive 'inertia' for at least one joint",
      );
    if (params.command_topic && !params.use_effort_input)
      node.logger.warn("parameter 'command_topic' is set but 'use_effort_input' is false: commands are not used");

    const estimator = new JointStateEstimator({
      joints,
      processNoise: params.process_noise,
      positionVariance: params.position_noise_std ** 2,
      velocityVariance: params.velocity_noise_std ** 2,
      initialVelocityVariance: params.initial_velocity_std ** 2,
      useVelocity: params.use_velocity_measurement,
      inertia: params.inertia,
      damping: params.damping,
      outlierGate: params.outlier_gate,
      outlierMaxConsecutive: params.outlier_max_consecutive,
      resetThresholdNs: secondsToNs(params.reset_threshold_s),
      resetAfterOutOfOrder: params.reset_after_out_of_order,
    });

    const estimates = node.createPublisher('dynastack_msgs/msg/JointStateEstimate', 'estimated_joint_states');
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    const warnings = new Throttle(5000);
    let active = false;
    let timer: Timer | undefined;

    // the newest effort command, held until the next one (zero-order hold, as the robot does)
    let command: { effort: Float64Array; receivedNs: bigint } | undefined;
    let commands = 0;
    const commandTimeoutNs = secondsToNs(params.command_timeout_s);
    if (params.use_effort_input && params.command_topic) {
      node.createSubscription('std_msgs/msg/Float64MultiArray', params.command_topic, (msg) => {
        commands++;
        command = { effort: Float64Array.from(msg.data), receivedNs: node.steadyClock.now() };
      });
    }
    const effortInput = (): EffortInput | undefined => {
      if (!params.use_effort_input) return undefined;
      if (!params.command_topic) return 'measured';
      if (!command || node.steadyClock.now() - command.receivedNs > commandTimeoutNs) return undefined;
      return command.effort;
    };

    const toMessage = (e: JointEstimate, msg: JointState): JointStateEstimate => ({
      state: {
        header: {
          stamp: { sec: msg.header.stamp.sec, nanosec: msg.header.stamp.nanosec },
          frame_id: msg.header.frame_id,
        },
        name: [...e.names],
        position: e.position,
        velocity: e.velocity,
        effort: e.effort,
      },
      covariance: e.covariance,
    });

    node.createSubscription(
      'sensor_msgs/msg/JointState',
      'joint_states',
      (msg) => {
        // the filter runs from configure on, so that a state published before this node was activated
        // (a bridge in a worker starts stepping at once) still counts; only publishing waits
        const rejectedBefore = estimator.counts.inputRejected;
        const result = estimator.step(
          {
            stampNs: timeToNs(msg.header.stamp),
            names: msg.name,
            position: msg.position,
            velocity: msg.velocity,
            effort: msg.effort,
          },
          effortInput(),
        );
        if (estimator.counts.inputRejected > rejectedBefore && warnings.allow('input')) {
          node.logger.warn(
            `effort input ignored (expected ${estimator.joints?.length} finite values in the order of ${estimator.joints?.join(', ')})`,
          );
        }
        if ('estimate' in result) {
          if (result.status === 'reset') node.logger.info('the joint state stamps went back: estimator re-initialised');
          if (active) estimates.publish(toMessage(result.estimate, msg));
        } else if (warnings.allow(result.status))
          node.logger.warn(`joint state rejected, ${result.status}: ${result.reason}`);
      },
      { qos: params.joint_states_qos === 'sensor_data' ? QOS_SENSOR_DATA : QOS_DEFAULT },
    );
    // an explicit reset, e.g. at the start of an episode
    node.createSubscription('std_msgs/msg/Empty', '~/reset', () => {
      if (!active) return;
      estimator.reset();
      node.logger.info('estimator reset on request');
    });

    // /diagnostics: what happened since the previous report
    let previous = countFigures(estimator.counts);
    let previousNs = node.steadyClock.now();
    const report = (): DiagnosticStatus => {
      const now = node.steadyClock.now();
      const counts = countFigures(estimator.counts);
      const delta = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v - previous[k]!]));
      const periodS = Number(now - previousNs) / 1e9;
      previous = counts;
      previousNs = now;
      const window = estimator.takeInnovationWindow();
      const all = merged(window.values());
      const rate = periodS > 0 ? delta.accepted! / periodS : 0;
      const problems = [
        'duplicates',
        'out_of_order',
        'non_finite',
        'bad_layout',
        'resets',
        'outliers',
        'input_rejected',
      ]
        .filter((k) => delta[k]! > 0)
        .map((k) => `${delta[k]} ${k.replace(/_/g, ' ')}`);
      let level: number = DiagnosticLevel.OK;
      let message = `${rate.toFixed(1)} Hz`;
      if (!delta.received) {
        level = DiagnosticLevel.STALE;
        message = counts.received ? 'no joint states in the last period' : 'waiting for joint states';
      } else if (!delta.accepted) {
        level = DiagnosticLevel.ERROR;
        message = `no joint state accepted: ${estimator.lastError}`;
      } else if (problems.length) {
        level = DiagnosticLevel.WARN;
        message = `${message}; ${problems.join(', ')} (last: ${estimator.lastError})`;
      }
      const values: Record<string, string> = {
        ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, String(v)])),
        rate_hz: rate.toFixed(2),
        mean_abs_innovation: all.meanAbs.toExponential(3),
        max_abs_innovation: all.maxAbs.toExponential(3),
        mean_nis: all.meanNis.toFixed(3),
      };
      for (const [joint, s] of window) values[`mean_abs_innovation.${joint}`] = s.meanAbs.toExponential(3);
      return {
        level,
        name: `${node.name}: joint state estimation`,
        message,
        hardware_id: '',
        values: Object.entries(values).map(([key, value]) => ({ key, value })),
      };
    };

    return {
      activate: () => {
        active = true;
        previousNs = node.steadyClock.now();
        timer = node.createTimer(
          periodNsFromHz(1 / params.diagnostics_period_s),
          () =>
            diagnostics.publish({ header: { stamp: nsToTime(node.clock.now()), frame_id: '' }, status: [report()] }),
          node.steadyClock,
        );
      },
      deactivate: () => {
        active = false;
        timer?.cancel();
      },
      metrics: () => {
        const all = merged(estimator.innovationTotals().values());
        return {
          ...countFigures(estimator.counts),
          commands,
          joints: estimator.joints?.join(',') ?? '',
          mean_abs_innovation: all.meanAbs,
          mean_nis: all.meanNis,
        };
      },
    };
  },
});
