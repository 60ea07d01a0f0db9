import { defineNode, type NodeLifecycle } from '../framework/runtime/node_definition.js';
import { defineParams, type ParamValues } from '../src/util/param_schema.js';
import type { NodeHandle } from '../framework/transport/types.js';
import { nsToTime, secondsToNs, timeToNs } from '../framework/time/time.js';
import { QOS_LATCHED } from '../framework/transport/qos.js';
import type { Point } from '../framework/msgs/types.js';
import type { Timer } from '../framework/time/clock.js';
import { packagePath } from '../src/util/paths.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { ArmTargetSampler } from '../src/tasks/arm_targets.js';

// A reaching task for the graph: publishes a sequence of end-effector targets, one every
// `hold_s` of the node's clock, and judges each by the end effector's distance to it at the end
// of its hold. Done when the last target has been judged.
// With random_targets > 0 (learning runs): one random reachable target per episode of the sim
// bridge (episodes told apart by the gap in the ee_pose stamps that the bridge leaves between
// them), drawn as the PETS arm harness draws them (src/tasks/arm_targets.ts), each judged by the
// last end-effector pose of its episode.

const parameters = defineParams({
  targets: {
    type: 'double_array',
    default: [0.2, 0.0, 0.15],
    description: 'targets as x, y, z triples (m), in frame_id',
  },
  hold_s: { type: 'double', default: 4, range: [0.01, 3600], description: 'time given to each target' },
  tolerance_m: {
    type: 'double',
    default: 0.01,
    range: [0, 10],
    description: 'a target is reached when the end effector ends its hold this close',
  },
  frame_id: { type: 'string', default: 'world', description: 'frame of the targets' },
  ee_pose_topic: {
    type: 'string',
    default: 'ee_pose',
    nonEmpty: true,
    description: 'geometry_msgs/PoseStamped end-effector pose',
  },
  random_targets: {
    type: 'integer',
    default: 0,
    range: [0, 1_000_000],
    description:
      'when > 0: this many random reachable targets, one per sim episode (targets and hold_s unused); done when the last is judged',
  },
  model: {
    type: 'string',
    default: 'sim/models/so_arm_position.xml',
    nonEmpty: true,
    description: 'random_targets: the SO-100 arm model whose kinematics to its ee site the targets are drawn from',
  },
  seed: {
    type: 'integer',
    default: 1001,
    range: [0, 2 ** 31 - 1],
    description: 'random_targets: seed of the draws (the PETS arm harness uses 1000 + its seed)',
  },
  episode_gap_s: {
    type: 'double',
    default: 0,
    range: [0, 1e6],
    description:
      'random_targets: a gap in ee_pose stamps longer than this starts a new episode (0: 1.5 × the first interval)',
  },
});

export default defineNode({
  name: 'goal_sequencer',
  description: 'publishes end-effector targets in turn and reports how close the end effector came',
  parameters,
  async configure(node, p) {
    if (p.random_targets > 0) return randomTargetsPerEpisode(node, p, await targetSampler(p.model, p.seed));
    if (p.targets.length === 0 || p.targets.length % 3 !== 0)
      throw new Error(`parameter 'targets': expected x, y, z triples, got ${p.targets.length} values`);
    const targets: Point[] = [];
    for (let i = 0; i < p.targets.length; i += 3)
      targets.push({ x: p.targets[i]!, y: p.targets[i + 1]!, z: p.targets[i + 2]! });
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
        node.logger.info(
          `target ${current + 1}/${targets.length} (${t.x.toFixed(3)}, ${t.y.toFixed(3)}, ${t.z.toFixed(3)}): end effector ${(error * 100).toFixed(2)} cm away ${error <= p.tolerance_m ? '✓' : '✗'}`,
        );
      }
      current++;
      if (current === targets.length) {
        timer?.cancel();
        finish(`reached ${reached()} of ${targets.length} targets within ${(p.tolerance_m * 100).toFixed(1)} cm`);
        return;
      }
      goal.publish({
        header: { stamp: nsToTime(node.clock.now()), frame_id: p.frame_id },
        pose: { position: targets[current]!, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      });
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
      summary: () =>
        `reached ${reached()} of ${targets.length} targets within ${(p.tolerance_m * 100).toFixed(1)} cm (errors ${errors.map((e) => (e * 100).toFixed(2)).join(', ')} cm)`,
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

type Params = ParamValues<typeof parameters>;

/** The arm's target sampler, from its model's kinematic chain to the ee site. */
async function targetSampler(model: string, seed: number): Promise<ArmTargetSampler> {
  const sim = await MujocoSim.fromFile(packagePath(model));
  try {
    return new ArmTargetSampler(sim.kinematicChain('ee'), { seed });
  } finally {
    sim.dispose();
  }
}

/** random_targets: a new target at each episode's first pose, judged by the episode's last. */
function randomTargetsPerEpisode(
  node: NodeHandle<typeof parameters>,
  p: Params,
  sampler: ArmTargetSampler,
): NodeLifecycle {
  const goal = node.createPublisher('geometry_msgs/msg/PoseStamped', 'goal', QOS_LATCHED);
  const errors: number[] = [];
  let target: Point | undefined;
  let ee: Point | undefined;
  let lastNs: bigint | undefined;
  let gapNs = secondsToNs(p.episode_gap_s);
  let done = false;
  let finish: (reason: string) => void = () => {};
  const finished = new Promise<string>((resolve) => (finish = resolve));
  const reached = (): number => errors.filter((e) => e <= p.tolerance_m).length;
  const summary = (): string =>
    `reached ${reached()} of ${errors.length} random targets within ${(p.tolerance_m * 100).toFixed(1)} cm`;
  const judge = (): void => {
    const t = target!;
    const error = ee ? Math.hypot(ee.x - t.x, ee.y - t.y, ee.z - t.z) : Number.POSITIVE_INFINITY;
    errors.push(error);
    node.logger.info(
      `episode ${errors.length}/${p.random_targets}, target (${t.x.toFixed(3)}, ${t.y.toFixed(3)}, ${t.z.toFixed(3)}): end effector ${(error * 100).toFixed(2)} cm away ${error <= p.tolerance_m ? '✓' : '✗'} (${reached()} of ${errors.length} so far)`,
    );
  };
  const next = (): void => {
    const [x, y, z] = sampler.next().position;
    target = { x, y, z };
    goal.publish({
      header: { stamp: nsToTime(node.clock.now()), frame_id: p.frame_id },
      pose: { position: target, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    });
  };
  node.createSubscription('geometry_msgs/msg/PoseStamped', p.ee_pose_topic, (m) => {
    if (done) return;
    const t = timeToNs(m.header.stamp);
    if (lastNs !== undefined && gapNs === 0n) gapNs = ((t - lastNs) * 3n) / 2n;
    const newEpisode = lastNs === undefined || t - lastNs > gapNs;
    lastNs = t;
    if (newEpisode) {
      if (target) judge();
      if (errors.length >= p.random_targets) {
        done = true;
        finish(summary());
        return;
      }
      next();
    }
    ee = m.pose.position;
  });
  return {
    finished,
    summary: () => `${summary()} (errors ${errors.map((e) => (e * 100).toFixed(2)).join(', ')} cm)`,
    metrics: () => ({
      targets: p.random_targets,
      judged: errors.length,
      reached: reached(),
      max_error_cm: errors.length ? Math.max(...errors) * 100 : 0,
      errors_cm: errors.map((e) => (e * 100).toFixed(2)).join(' '),
    }),
  };
}
