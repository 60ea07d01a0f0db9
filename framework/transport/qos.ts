// Quality of service, with the meaning DDS gives it, so the embedded transport behaves as ROS 2 does.

export type Reliability = 'reliable' | 'best_effort';
export type Durability = 'volatile' | 'transient_local';
export type History = 'keep_last' | 'keep_all';

export interface QoS {
  readonly reliability: Reliability;
  readonly durability: Durability;
  readonly history: History;
  /** queue length for keep_last; also the number of messages transient-local keeps for late joiners */
  readonly depth: number;
}

/** rclcpp/rclnodejs default: reliable, volatile, keep last 10. */
export const QOS_DEFAULT: QoS = { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 };
/** The sensor-data profile: best effort, keep last 5. */
export const QOS_SENSOR_DATA: QoS = {
  reliability: 'best_effort',
  durability: 'volatile',
  history: 'keep_last',
  depth: 5,
};
/**
 * Subscriptions to a stream whose every message counts (a learner's or an episode monitor's states
 * and commands): reliable, keep last 1000 — 1 s at 1 kHz — so a node that falls behind (a save, a
 * model published, a loaded machine) loses none of a lockstep run's ticks, which do not wait for it.
 */
export const QOS_DATA_STREAM: QoS = {
  reliability: 'reliable',
  durability: 'volatile',
  history: 'keep_last',
  depth: 1000,
};
/** Latched topics (models, robot description): the newest message reaches late subscribers. */
export const QOS_LATCHED: QoS = {
  reliability: 'reliable',
  durability: 'transient_local',
  history: 'keep_last',
  depth: 1,
};
/**
 * Episode events (dynastack_msgs/EpisodeEvent): transient local on both sides, so that a node whose
 * process starts after the sim bridge's (separate processes under `ros2 launch`) still gets the
 * START of the episode under way, which it acts on (a goal drawn, a learner's episode begun). The
 * publisher keeps 10: an END and the next START go out back to back, and a keep-last writer may
 * replace a sample no reader has acknowledged yet (DDS 1.4, 2.2.3, HISTORY), so 1 could lose an
 * END; a late joiner gets at most the 10 newest events.
 */
export const QOS_EPISODE_EVENTS: QoS = {
  reliability: 'reliable',
  durability: 'transient_local',
  history: 'keep_last',
  depth: 10,
};
/**
 * /clock is published reliable so that both reliable (rclnodejs TimeSource) and best-effort
 * (rclcpp ClockQoS) subscribers match. rclnodejs's lib/time_source.js subscribes to /clock with the
 * default QoS, which is reliable; rclcpp's ClockQoS (declared in rclcpp/include/rclcpp/qos.hpp,
 * defined in rclcpp/src/rclcpp/qos.cpp) is the sensor-data profile, best effort, depth 1; and a
 * reliable publisher matches subscribers of either reliability, a best-effort one only best-effort
 * subscribers (ROS 2 docs, "Quality of Service settings", QoS compatibilities:
 * https://docs.ros.org/en/rolling/Concepts/Intermediate/About-Quality-of-Service-Settings.html).
 */
export const QOS_CLOCK_PUBLISHER: QoS = {
  reliability: 'reliable',
  durability: 'volatile',
  history: 'keep_last',
  depth: 1,
};
/** Our own /clock subscribers are best effort, which matches publishers of either reliability. */
export const QOS_CLOCK_SUBSCRIBER: QoS = {
  reliability: 'best_effort',
  durability: 'volatile',
  history: 'keep_last',
  depth: 1,
};

/** keep_all has no bound in DDS; the embedded transport caps it so a stalled reader cannot eat memory. */
export const KEEP_ALL_CAP = 100_000;

export function resolveQoS(qos: Partial<QoS> | undefined, base: QoS = QOS_DEFAULT): QoS {
  const q = { ...base, ...qos };
  if (!Number.isInteger(q.depth) || q.depth < 1)
    throw new Error(`QoS depth must be a positive integer, got ${q.depth}`);
  return q;
}

export function queueCapacity(q: QoS): number {
  return q.history === 'keep_all' ? KEEP_ALL_CAP : q.depth;
}

/** The policy that keeps a publisher and a subscription apart, named as rmw_qos_policy_kind_to_str names it. */
export interface QoSIncompatibility {
  readonly policy: 'RELIABILITY' | 'DURABILITY';
  /** what the publisher offers */
  readonly offered: string;
  /** what the subscription requests */
  readonly requested: string;
}

/**
 * Why a publisher and a subscription do not match under the DDS requested/offered (RxO) rules, or
 * undefined when they do (DDS 1.4, 2.2.3 "Supported QoS", the RxO column; ROS 2 docs, "Quality of
 * Service settings", QoS compatibilities). Of the RxO policies ROS 2 exposes:
 *  - reliability: a RELIABLE subscription needs a RELIABLE publisher; a BEST_EFFORT subscription
 *    takes either;
 *  - durability: a TRANSIENT_LOCAL subscription needs a TRANSIENT_LOCAL publisher; a VOLATILE
 *    subscription takes either (from a TRANSIENT_LOCAL one it gets what is published after it
 *    joined, no history: compatible, not an incompatibility);
 *  - deadline and liveliness (kind, lease duration): this QoS carries neither, so every endpoint
 *    has rmw's defaults (no deadline, AUTOMATIC liveliness, infinite lease), which always match.
 * History and depth are not RxO: they never keep endpoints apart.
 */
export function incompatibility(pub: QoS, sub: QoS): QoSIncompatibility | undefined {
  if (sub.reliability === 'reliable' && pub.reliability === 'best_effort')
    return { policy: 'RELIABILITY', offered: 'BEST_EFFORT', requested: 'RELIABLE' };
  if (sub.durability === 'transient_local' && pub.durability === 'volatile')
    return { policy: 'DURABILITY', offered: 'VOLATILE', requested: 'TRANSIENT_LOCAL' };
  return undefined;
}

/**
 * The one line said about an incompatible pair, worded as rclcpp's default incompatible-QoS
 * callback of a subscription words it in Jazzy (rclcpp/src/rclcpp/subscription_base.cpp,
 * default_incompatible_qos_callback, the policy named by rmw_qos_policy_kind_to_str: "New publisher
 * discovered on topic '%s', offering incompatible QoS. No messages will be sent to it. Last
 * incompatible policy: %s"), plus both nodes and what each side has.
 */
export function incompatibilityLine(
  topic: string,
  publisherNode: string,
  subscriberNode: string,
  why: QoSIncompatibility,
): string {
  return (
    `New publisher discovered on topic '${topic}', offering incompatible QoS. No messages will be sent to it. ` +
    `Last incompatible policy: ${why.policy} (publisher of ${publisherNode} offers ${why.offered}, ` +
    `subscription of ${subscriberNode} requests ${why.requested})`
  );
}
