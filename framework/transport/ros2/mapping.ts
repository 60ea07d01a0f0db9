import type { ParamSpec } from '../../../src/util/param_schema.js';
import type { TimerInfo } from '../../time/clock.js';
import type { QoS } from '../qos.js';
import type { EndpointQos, GraphParameter, GraphParameterValue } from '../types.js';
import type { ParameterTypes, QoSPolicies } from './rclnodejs_types.js';

// Pure conversions between dynastack's shapes and rclnodejs's: QoS, parameter declarations and
// values, time, and the --ros-args of the process. No rclnodejs import: the enum tables default
// to copies of rclnodejs 2.2.0's (lib/qos.js, lib/parameter.js), and the transport passes the
// loaded module's own tables so that a renumbering upstream cannot slip through.

// ---- QoS -----------------------------------------------------------------------------------

/** rmw_qos_*_policy_t values, as lib/qos.js exposes them. */
export const RMW_QOS_POLICIES: QoSPolicies = {
  HistoryPolicy: { RMW_QOS_POLICY_HISTORY_KEEP_LAST: 1, RMW_QOS_POLICY_HISTORY_KEEP_ALL: 2 },
  ReliabilityPolicy: { RMW_QOS_POLICY_RELIABILITY_RELIABLE: 1, RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: 2 },
  DurabilityPolicy: { RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: 1, RMW_QOS_POLICY_DURABILITY_VOLATILE: 2 },
};

/** The arguments of `new rclnodejs.QoS(history, depth, reliability, durability)`. */
export function qosArguments(
  qos: QoS,
  policies: QoSPolicies = RMW_QOS_POLICIES,
): [history: number, depth: number, reliability: number, durability: number] {
  const history =
    qos.history === 'keep_all'
      ? policies.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_ALL
      : policies.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST;
  const reliability =
    qos.reliability === 'best_effort'
      ? policies.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT
      : policies.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE;
  const durability =
    qos.durability === 'transient_local'
      ? policies.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL
      : policies.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE;
  // depth is ignored by DDS under keep_all, but rmw still takes it
  return [history, qos.depth, reliability, durability];
}

/**
 * A discovered endpoint's QoS (rmw_topic_endpoint_info_t's qos_profile) in dynastack's terms: only
 * RELIABLE is reliable and only TRANSIENT_LOCAL transient local (an rmw reports the policies in
 * effect, never SYSTEM_DEFAULT; anything else is taken as the weaker policy).
 */
export function endpointQos(
  profile: { readonly reliability: number; readonly durability: number; readonly depth: number },
  policies: QoSPolicies = RMW_QOS_POLICIES,
): EndpointQos {
  return {
    reliability:
      profile.reliability === policies.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE
        ? 'reliable'
        : 'best_effort',
    durability:
      profile.durability === policies.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL
        ? 'transient_local'
        : 'volatile',
    depth: profile.depth,
  };
}

// ---- parameters ----------------------------------------------------------------------------

/** rcl_interfaces/msg/ParameterType, as lib/parameter.js exposes it. */
export const PARAMETER_TYPES: ParameterTypes = {
  PARAMETER_NOT_SET: 0,
  PARAMETER_BOOL: 1,
  PARAMETER_INTEGER: 2,
  PARAMETER_DOUBLE: 3,
  PARAMETER_STRING: 4,
  PARAMETER_BYTE_ARRAY: 5,
  PARAMETER_BOOL_ARRAY: 6,
  PARAMETER_INTEGER_ARRAY: 7,
  PARAMETER_DOUBLE_ARRAY: 8,
  PARAMETER_STRING_ARRAY: 9,
};

const TYPE_KEY = {
  bool: 'PARAMETER_BOOL',
  integer: 'PARAMETER_INTEGER',
  double: 'PARAMETER_DOUBLE',
  string: 'PARAMETER_STRING',
  bool_array: 'PARAMETER_BOOL_ARRAY',
  integer_array: 'PARAMETER_INTEGER_ARRAY',
  double_array: 'PARAMETER_DOUBLE_ARRAY',
  string_array: 'PARAMETER_STRING_ARRAY',
} as const satisfies Record<ParamSpec['type'], keyof ParameterTypes>;

/** A value as rclnodejs's Parameter takes it: integers (and integer array elements) are bigint. */
export type RosParamValue = boolean | bigint | number | string | boolean[] | bigint[] | number[] | string[];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function toBigInt(x: unknown, what: string): bigint {
  if (typeof x === 'bigint') return x;
  if (typeof x === 'number' && Number.isSafeInteger(x)) return BigInt(x);
  throw new TypeError(`${what}: ${String(x)} is not an integer`);
}

function toNumber(x: unknown, what: string): number {
  if (typeof x === 'number') return x;
  throw new TypeError(`${what}: ${String(x)} is not a number`);
}

/** Our (already checked) value of a parameter in the form rclnodejs's Parameter validates. */
export function toRosParamValue(spec: ParamSpec, value: unknown, name = 'parameter'): RosParamValue {
  const list = (): unknown[] => {
    if (!Array.isArray(value)) throw new TypeError(`${name}: expected an array, got ${String(value)}`);
    return value;
  };
  switch (spec.type) {
    case 'integer':
      return toBigInt(value, name);
    case 'integer_array':
      return list().map((x) => toBigInt(x, name));
    case 'double':
      return toNumber(value, name);
    case 'double_array':
      return list().map((x) => toNumber(x, name));
    case 'bool_array':
      return list().map((x) => {
        if (typeof x !== 'boolean') throw new TypeError(`${name}: ${String(x)} is not a boolean`);
        return x;
      });
    case 'string_array':
      return list().map((x) => {
        if (typeof x !== 'string') throw new TypeError(`${name}: ${String(x)} is not a string`);
        return x;
      });
    case 'bool':
      if (typeof value !== 'boolean') throw new TypeError(`${name}: expected a boolean, got ${String(value)}`);
      return value;
    case 'string':
      if (typeof value !== 'string') throw new TypeError(`${name}: expected a string, got ${String(value)}`);
      return value;
  }
}

/**
 * A value read from rclnodejs in our form: bigint becomes number, which must be a safe integer
 * (|x| ≤ 2^53 − 1) to round-trip; typed arrays become plain arrays.
 */
export function fromRosParamValue(value: unknown, name = 'parameter'): unknown {
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RangeError(
        `${name}: integer ${value} is outside the range a JavaScript number holds exactly (±${Number.MAX_SAFE_INTEGER})`,
      );
    }
    return Number(value);
  }
  if (Array.isArray(value)) return value.map((x) => fromRosParamValue(x, name));
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<unknown>, (x) => fromRosParamValue(x, name));
  }
  return value;
}

/**
 * A parameter another node reported (rclnodejs's Parameter from its get_parameters service) as the
 * graph lists it: its type from rcl_interfaces/msg/ParameterType, integers as numbers (one beyond
 * ±2^53 is left out: undefined), a byte array as bytes. NOT_SET and unknown types: undefined.
 */
export function graphParameterFromRos(
  node: string,
  parameter: { readonly name: string; readonly type: number; readonly value: unknown },
  types: ParameterTypes = PARAMETER_TYPES,
): GraphParameter | undefined {
  if (parameter.type === types.PARAMETER_BYTE_ARRAY) {
    const bytes = Uint8Array.from(parameter.value as ArrayLike<number>);
    return { node, name: parameter.name, type: 'byte_array', value: bytes };
  }
  const type = (Object.keys(TYPE_KEY) as ParamSpec['type'][]).find((t) => types[TYPE_KEY[t]] === parameter.type);
  if (type === undefined) return undefined;
  try {
    const value = fromRosParamValue(parameter.value, `${node}.${parameter.name}`) as GraphParameterValue;
    return { node, name: parameter.name, type, value };
  } catch {
    return undefined;
  }
}

export type RosParamRange =
  | { readonly kind: 'integer'; readonly from: bigint; readonly to: bigint; readonly step: bigint }
  | { readonly kind: 'floating_point'; readonly from: number; readonly to: number; readonly step: number };

/** Everything needed for `new Parameter(…)` and `new ParameterDescriptor(…)` of one parameter. */
export interface ParamDeclaration {
  readonly type: number;
  readonly value: RosParamValue;
  readonly description: string;
  readonly readOnly: boolean;
  /** the constraints ROS descriptors have no field for (choices, lengths), and the range */
  readonly additionalConstraints: string;
  /** set for scalar integer and double parameters only */
  readonly range?: RosParamRange;
}

function clampInt64(x: bigint): bigint {
  return x < INT64_MIN ? INT64_MIN : x > INT64_MAX ? INT64_MAX : x;
}

function intBound(x: number, up: boolean): bigint {
  if (x === Infinity) return INT64_MAX;
  if (x === -Infinity) return INT64_MIN;
  return clampInt64(BigInt(up ? Math.floor(x) : Math.ceil(x)));
}

function constraints(spec: ParamSpec): string {
  const parts: string[] = [];
  if ('range' in spec && spec.range) {
    const [lo, hi] = spec.range;
    parts.push(spec.type.endsWith('_array') ? `each element in [${lo}, ${hi}]` : `in [${lo}, ${hi}]`);
  }
  if ('choices' in spec && spec.choices) {
    parts.push(`one of ${spec.choices.map((c) => (typeof c === 'string' ? `'${c}'` : String(c))).join(', ')}`);
  }
  if ('length' in spec && spec.length !== undefined) parts.push(`exactly ${spec.length} elements`);
  if ('nonEmpty' in spec && spec.nonEmpty) parts.push('not empty');
  return parts.join('; ');
}

/**
 * The ROS declaration of one parameter. Ranges are given to rclnodejs for scalars only: its
 * IntegerRange/FloatingPointRange.inRange do not handle arrays (lib/parameter.js), and arrays are
 * checked by our own validation anyway. The step is 0 ("no step", continuous): rclnodejs's
 * FloatingPointRange defaults to step 1, which would refuse 0.5 in [0, 1]. rclnodejs 2.2.0 also
 * leaves ranges out of describe_parameters replies (ParameterDescriptor.toMessage reads a field
 * that is never set), so the range is repeated in additional_constraints, which
 * `ros2 param describe` prints.
 */
export function paramDeclaration(
  spec: ParamSpec,
  value: unknown = spec.default,
  types: ParameterTypes = PARAMETER_TYPES,
  name = 'parameter',
): ParamDeclaration {
  let range: RosParamRange | undefined;
  if (spec.type === 'integer' && spec.range) {
    range = { kind: 'integer', from: intBound(spec.range[0], false), to: intBound(spec.range[1], true), step: 0n };
  } else if (spec.type === 'double' && spec.range) {
    range = { kind: 'floating_point', from: spec.range[0], to: spec.range[1], step: 0 };
  }
  return {
    type: types[TYPE_KEY[spec.type]],
    value: toRosParamValue(spec, value, name),
    description: spec.description,
    readOnly: spec.readOnly ?? false,
    additionalConstraints: constraints(spec),
    ...(range ? { range } : {}),
  };
}

// ---- time ----------------------------------------------------------------------------------

const NS_PER_S = 1_000_000_000n;

/** The (seconds, nanoseconds) arguments of `new rclnodejs.Time(…)`: both ≥ 0, total < 2^63 (lib/time.js). */
export function rclTimeArguments(ns: bigint): [seconds: bigint, nanoseconds: bigint] {
  if (ns < 0n || ns > INT64_MAX) throw new RangeError(`time ${ns} ns is outside what rclnodejs's Time holds [0, 2^63)`);
  return [ns / NS_PER_S, ns % NS_PER_S];
}

/** Nanoseconds of an rclnodejs Time (its `nanoseconds` getter returns a bigint). */
export function rclTimeToNs(time: { readonly nanoseconds: bigint | number }): bigint {
  const ns = time.nanoseconds;
  if (typeof ns === 'bigint') return ns;
  if (Number.isSafeInteger(ns)) return BigInt(ns);
  throw new RangeError(`rclnodejs time ${ns} is not an exact count of nanoseconds`);
}

/**
 * Our TimerInfo from what rclnodejs passes a timer callback: on distros newer than Humble it is
 * `{expectedCallTime, actualCallTime}` (rcl_timer_call_with_info); on Humble nothing, and the
 * transport measures instead.
 */
export function timerInfoFrom(info: unknown, measure: () => TimerInfo): TimerInfo {
  if (info !== null && typeof info === 'object') {
    const { expectedCallTime, actualCallTime } = info as { expectedCallTime?: unknown; actualCallTime?: unknown };
    if (typeof expectedCallTime === 'bigint' && typeof actualCallTime === 'bigint')
      return { expectedNs: expectedCallTime, actualNs: actualCallTime };
  }
  return measure();
}
