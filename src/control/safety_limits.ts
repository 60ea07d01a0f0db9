import type { ActuatorInfo, JointInfo, ModelInfo } from '../../sim/mujoco/info.js';
import { defineParams, type ParamValues } from '../util/param_schema.js';
import type { CommandInterface, SafetyConfig } from './safety.js';

// The safety layer's limits for a controller, from its MJCF model and its safety.* parameters
// (declared here, with the checks that read them): each actuator drives one joint, whose position
// range (when limited) bounds it; effort limits come from the actuators' ctrlrange unless given;
// velocity and rate limits are none unless given. A list given for the actuators must have one
// value per actuator, and the error names the parameter. The action box sampling planners draw
// from is the ctrlrange, within the effort limits when commands are efforts.

export const SAFETY_PARAMETERS = defineParams({
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
});

export type SafetyParameterValues = ParamValues<typeof SAFETY_PARAMETERS>;

/** The joint each actuator drives, in actuator order; throws for an actuator that drives no joint. */
export function actuatedJoints(info: Pick<ModelInfo, 'joints' | 'actuators'>): JointInfo[] {
  return info.actuators.map((a) => {
    const j = info.joints.find((x) => x.name === a.joint);
    if (!j) throw new Error(`actuator '${a.name}' drives no joint; the controller needs joint actuators`);
    return j;
  });
}

/** One value per actuator: the parameter's, or the fallback's when it is empty. */
function perActuator(values: readonly number[], nu: number, fallback: (i: number) => number, name: string): number[] {
  if (values.length && values.length !== nu)
    throw new Error(`parameter '${name}': expected ${nu} values (one per actuator), got ${values.length}`);
  return values.length ? [...values] : Array.from({ length: nu }, (_, i) => fallback(i));
}

/** The largest |ctrl| an actuator's ctrlrange allows (no range: unlimited). */
function ctrlRangeLimit(actuator: ActuatorInfo): number {
  const range = actuator.ctrlRange;
  return range ? Math.max(Math.abs(range[0]), Math.abs(range[1])) : Number.POSITIVE_INFINITY;
}

/** The safety layer's configuration for the model's actuators, from the safety.* parameters. */
export function safetyLimits(
  info: Pick<ModelInfo, 'joints' | 'actuators'>,
  values: SafetyParameterValues,
  command: {
    readonly commandInterface: CommandInterface;
    readonly periodNs: bigint;
    readonly watchdogTimeoutNs: bigint;
  },
): SafetyConfig {
  const actuated = actuatedJoints(info);
  const nu = info.actuators.length;
  const none = (): number => Number.POSITIVE_INFINITY;
  const effortLimit = perActuator(
    values['safety.effort_limits'],
    nu,
    (i) => ctrlRangeLimit(info.actuators[i]!),
    'safety.effort_limits',
  );
  return {
    commandInterface: command.commandInterface,
    positionLower: actuated.map((j) => (j.limited && j.range ? j.range[0] : Number.NEGATIVE_INFINITY)),
    positionUpper: actuated.map((j) => (j.limited && j.range ? j.range[1] : Number.POSITIVE_INFINITY)),
    velocityLimit: perActuator(values['safety.velocity_limits'], nu, none, 'safety.velocity_limits'),
    effortLimit,
    rateLimit: perActuator(values['safety.rate_limits'], nu, none, 'safety.rate_limits'),
    positionMargin: new Array<number>(nu).fill(values['safety.position_margin']),
    periodNs: command.periodNs,
    watchdogTimeoutNs: command.watchdogTimeoutNs,
  };
}

/**
 * The box actions are sampled in: each actuator's ctrlrange, within its effort limit when commands
 * are efforts; or the first actuator that has no ctrlrange.
 */
export function actionBox(
  actuators: readonly ActuatorInfo[],
  limits: Pick<SafetyConfig, 'commandInterface' | 'effortLimit'>,
): { readonly low: Float32Array; readonly high: Float32Array } | { readonly missingRange: string } {
  const missing = actuators.find((a) => !a.ctrlRange);
  if (missing) return { missingRange: missing.name };
  const limit = (i: number): number =>
    limits.commandInterface === 'effort' ? limits.effortLimit[i]! : Number.POSITIVE_INFINITY;
  return {
    low: Float32Array.from(actuators, (a, i) => Math.max(a.ctrlRange![0], -limit(i))),
    high: Float32Array.from(actuators, (a, i) => Math.min(a.ctrlRange![1], limit(i))),
  };
}
