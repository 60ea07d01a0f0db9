import { defineNode } from '../src/runtime/node_definition.js';
import { defineParams } from '../src/params/schema.js';
import { nsToTime, secondsToNs } from '../src/time/time.js';
import { QOS_LATCHED } from '../src/transport/qos.js';
import type { Point } from '../src/msgs/types.js';
import type { Timer } from '../src/time/clock.js';

// A reaching task for the graph: publishes a sequence of end-effector targets, one every
// `hold_s` of the node's clock, and judges each by the end effector's distance to it at the end
// of its hold. Done when the last target has been judged.

const parameters = defineParams({
  targets: { type: 'double_array', default: [0.2, 0.0, 0.15], description: 'targets as x, y, z triples (m), in frame_id' },
  hold_s: { type: 'double', default: 4, range: [0.01, 3600], description: 'time given to each target' },
  tolerance_m: { type: 'double', default: 0.01, range: [0, 10], description: 'a target is reached when the end effector ends its hold this close' },
  frame_id: { type: 'string', default: 'world', description: 'frame of the targets' },
  ee_pose_topic: { type: 'string', default: 'ee_pose', nonEmpty: true, description: 'geometry_msgs/PoseStamped end-effector pose' },
});

export default defineNode({
  name: 'goal_sequencer',
  description: 'publishes end-effector targets in turn and reports how close the end effector came',
  parameters,
  configure(node, p) {
    if (p.targets.length === 0 || p.targets.length % 3 !== 0) throw new Error(`parameter 'targets': expected x, y, z triples, got ${p.targets.length} values`);
    const targets: Point[] = [];
    for (let i = 0; i < p.targets.length; i += 3) targets.push({ x: p.targets[i]!, y: p.targets[i + 1]!, z: p.targets[i + 2]! });
    // latched, so a controller that starts late still gets the current target
    const goal = node.createPublisher('geometry_msgs/msg/PoseStamped', 'goal', QOS_LATCHED);
    let ee: Point | undefined;
    node.createSubscription('geometry_msgs/msg/PoseStamped', p.ee_pose_topic, (m) => (ee = m.pose.position));
    const errors: number[] = [];
    let current = -1;
    let timer: Timer | undefined;
    let finish: (reason: string) => void = () => {};
    const finished = new Promise<string>((resolve) => (finish = resolve));
    const reached = (): number => errors.filter((e) => e <= p.tolerance_m).length;

    const next = (): void => {
      if (current >= 0) {
        const t = targets[current]!;
        const error = ee ? Math.hypot(ee.x - t.x, ee.y - t.y, ee.z - t.z) : Number.POSITIVE_INFINITY;
        errors.push(error);
        node.logger.info(`target ${current + 1}/${targets.length} (${t.x.toFixed(3)}, ${t.y.toFixed(3)}, ${t.z.toFixed(3)}): end effector ${(error * 100).toFixed(2)} cm away ${error <= p.tolerance_m ? '✓' : '✗'}`);
      }
      current++;
      if (current === targets.length) {
        timer?.cancel();
        finish(`reached ${reached()} of ${targets.length} targets within ${(p.tolerance_m * 100).toFixed(1)} cm`);
        return;
      }
      goal.publish({ header: { stamp: nsToTime(node.clock.now()), frame_id: p.frame_id }, pose: { position: targets[current]!, orientation: { x: 0, y: 0, z: 0, w: 1 } } });
    };

    return {
      activate: () => {
        // under sim time the clock is 0 until /clock arrives: start with the first tick of time
        const start = (): void => {
          next();
          timer = node.createTimer(secondsToNs(p.hold_s), next);
        };
        if (node.clock.isSimTime && node.clock.now() === 0n) {
          const wait = node.createTimer(1_000_000n, () => {
            wait.cancel();
            start();
          });
        } else start();
      },
      deactivate: () => timer?.cancel(),
      finished,
      summary: () => `reached ${reached()} of ${targets.length} targets within ${(p.tolerance_m * 100).toFixed(1)} cm (errors ${errors.map((e) => (e * 100).toFixed(2)).join(', ')} cm)`,
      metrics: () => ({
        targets: targets.length,
        judged: errors.length,
        reached: reached(),
        max_error_cm: errors.length ? Math.max(...errors) * 100 : 0,
        errors_cm: errors.map((e) => (e * 100).toFixed(2)).join(' '),
      }),
    };
  },
});
