import { QOS_CLOCK_SUBSCRIBER } from '../qos.js';
import { qosArguments } from './mapping.js';
import type { Rclnodejs, RclNode, RclSubscription } from './rclnodejs_types.js';

// /clock heard the way rclcpp hears it. rclnodejs 2.2.0's TimeSource (lib/time_source.js
// _subscribeToClockTopic) subscribes /clock with the default QoS, which is reliable, and a reliable
// reader never matches a best-effort writer — so the /clock of `ros2 bag play --clock`, of
// Gazebo's bridge and of any rclcpp node (rclcpp's ClockQoS, rclcpp/src/rclcpp/qos.cpp: best
// effort, keep last 1, which rclcpp's own TimeSource also subscribes with,
// rclcpp/src/rclcpp/time_source.cpp) never reached a dynastack node with use_sim_time.
//
// The node's TimeSource stays in charge of everything else (use_sim_time switching the ROS clock
// to /clock and back, the override it sets on the node's clock from each message); only its
// subscription is made best-effort keep-last 1 (../qos.ts QOS_CLOCK_SUBSCRIBER), which matches
// publishers of either reliability. rclnodejs exposes no option for it, so its two members are
// replaced on the node's TimeSource instance; the shape is checked first, so a later rclnodejs
// that moves them fails here, by name, instead of silently hearing nothing.

/** The members of rclnodejs 2.2.0's TimeSource (lib/time_source.js) this file relies on. */
interface TimeSourceInternals {
  _node?: RclNode;
  _clockSubscription?: RclSubscription;
  _subscribeToClockTopic: () => void;
  _clockCallback: (message: unknown) => void;
}

const CLOCK_TYPE = 'rosgraph_msgs/msg/Clock';
const CLOCK_TOPIC = '/clock';

function timeSourceOf(node: RclNode): TimeSourceInternals {
  const ts = (node as unknown as { _timeSource?: Partial<TimeSourceInternals> })._timeSource;
  if (
    typeof ts !== 'object' ||
    typeof ts._subscribeToClockTopic !== 'function' ||
    typeof ts._clockCallback !== 'function'
  )
    throw new Error(
      "this rclnodejs's Node has no TimeSource with _subscribeToClockTopic/_clockCallback (written for rclnodejs 2.2.0's lib/time_source.js): cannot subscribe /clock best-effort",
    );
  return ts as TimeSourceInternals;
}

/**
 * Make `node`'s TimeSource subscribe /clock best-effort, keep last 1, from now on (and now, if it
 * already had a subscription). Call right after creating the node, before use_sim_time is set.
 */
export function hearClockBestEffort(rcl: Rclnodejs, node: RclNode): void {
  const ts = timeSourceOf(node);
  const qos = new rcl.QoS(...qosArguments(QOS_CLOCK_SUBSCRIBER, rcl.QoS));
  ts._subscribeToClockTopic = function (this: TimeSourceInternals): void {
    if (this._clockSubscription || !this._node) return;
    // one declared parameter: rclnodejs passes MessageInfo too to callbacks that declare two
    this._clockSubscription = this._node.createSubscription(CLOCK_TYPE, CLOCK_TOPIC, { qos }, (message: unknown) =>
      this._clockCallback(message),
    );
  }.bind(ts);
  if (ts._clockSubscription) {
    node.destroySubscription(ts._clockSubscription);
    ts._clockSubscription = undefined;
    ts._subscribeToClockTopic();
  }
}
