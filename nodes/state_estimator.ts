import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams, type ParamValues } from '../src/util/param_schema.js';
import { JointStateEstimator, type JointEstimate, type StepResult } from '../src/estimation/joint_state_estimator.js';
import { EstimatorReporter, estimatorMetrics } from '../src/estimation/estimator_report.js';
import { HeldEffortCommand, checkEffortModelParams, effortInput } from '../src/estimation/effort_command.js';
import type { JointState, JointStateEstimate } from '../framework/msgs/types.js';
import { jointStateFields } from '../framework/msgs/joint_state.js';
import { diagnosticArray } from '../framework/msgs/diagnostics.js';
import { periodNsFromHz, secondsToNs, timeToNs } from '../framework/time/time.js';
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

type Params = ParamValues<typeof parameters>;

function estimatorOf(params: Params): JointStateEstimator {
  return new JointStateEstimator({
    joints: params.joints,
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
}

/** The estimate as a message, with the stamp and frame of the joint state it came from. */
function estimateMessage(e: JointEstimate, msg: JointState): JointStateEstimate {
  return {
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
  };
}

export default defineNode({
  name: 'state_estimator',
  description: 'Kalman-filtered joint positions and velocities with covariance from sensor_msgs/JointState',
  parameters,
  configure(node, params) {
    for (const warning of checkEffortModelParams(params)) node.logger.warn(warning);
    const estimator = estimatorOf(params);
    const estimates = node.createPublisher('dynastack_msgs/msg/JointStateEstimate', 'estimated_joint_states');
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    const warnings = new Throttle(5000);
    let active = false;
    let timer: Timer | undefined;

    const command =
      params.use_effort_input && params.command_topic
        ? new HeldEffortCommand(secondsToNs(params.command_timeout_s), node.steadyClock)
        : undefined;
    if (command)
      node.createSubscription('std_msgs/msg/Float64MultiArray', params.command_topic, (msg) => command.take(msg.data));

    function logStep(result: StepResult, inputRejected: boolean): void {
      if (inputRejected && warnings.allow('input')) {
        node.logger.warn(
          `effort input ignored (expected ${estimator.joints?.length} finite values in the order of ${estimator.joints?.join(', ')})`,
        );
      }
      if (result.status === 'reset') node.logger.info('the joint state stamps went back: estimator re-initialised');
      else if ('reason' in result && warnings.allow(result.status))
        node.logger.warn(`joint state rejected, ${result.status}: ${result.reason}`);
    }

    // the filter runs from configure on, so that a state published before this node was activated
    // (a bridge in a worker starts stepping at once) still counts; only publishing waits
    // the newest estimate published, with the stamp and positions of its joint state
    let lastEstimate: { stampNs: bigint; position: readonly number[]; message: JointStateEstimate } | undefined;
    const repeats = (msg: JointState): boolean =>
      lastEstimate !== undefined &&
      lastEstimate.stampNs === timeToNs(msg.header.stamp) &&
      lastEstimate.position.length === msg.position.length &&
      lastEstimate.position.every((x, i) => Object.is(x, msg.position[i]));
    function onJointState(msg: JointState): void {
      const rejectedBefore = estimator.counts.inputRejected;
      const result = estimator.step(jointStateFields(msg), effortInput(params.use_effort_input, command));
      // a sim bridge in lockstep publishes a tick again, unchanged, while its first command has not
      // come (a downstream node may have missed it): the estimate of that state goes out again
      if (result.status === 'duplicate' && active && lastEstimate && repeats(msg)) {
        estimates.publish(lastEstimate.message);
        return;
      }
      logStep(result, estimator.counts.inputRejected > rejectedBefore);
      if ('estimate' in result && active) {
        const message = estimateMessage(result.estimate, msg);
        lastEstimate = { stampNs: timeToNs(msg.header.stamp), position: Array.from(msg.position), message };
        estimates.publish(message);
      }
    }
    node.createSubscription('sensor_msgs/msg/JointState', 'joint_states', onJointState, {
      qos: params.joint_states_qos === 'sensor_data' ? QOS_SENSOR_DATA : QOS_DEFAULT,
    });
    // an explicit reset, e.g. at the start of an episode
    node.createSubscription('std_msgs/msg/Empty', '~/reset', () => {
      if (!active) return;
      estimator.reset();
      node.logger.info('estimator reset on request');
    });

    // /diagnostics: what happened since the previous report
    const reporter = new EstimatorReporter(estimator, `${node.name}: joint state estimation`, node.steadyClock.now());
    function publishDiagnostics(): void {
      diagnostics.publish(diagnosticArray(node.clock.now(), [reporter.report(node.steadyClock.now())]));
    }

    return {
      activate: () => {
        active = true;
        reporter.restartPeriod(node.steadyClock.now());
        timer = node.createTimer(periodNsFromHz(1 / params.diagnostics_period_s), publishDiagnostics, node.steadyClock);
      },
      deactivate: () => {
        active = false;
        timer?.cancel();
      },
      metrics: () => estimatorMetrics(estimator, command?.received ?? 0),
    };
  },
});
