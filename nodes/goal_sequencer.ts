import { defineNode, type NodeLifecycle } from '../framework/runtime/node_definition.js';
import { defineParams, type ParamValues } from '../src/util/param_schema.js';
import type { NodeHandle } from '../framework/transport/types.js';
import { nsToTime, secondsToNs, timeToNs } from '../framework/time/time.js';
import { QOS_EPISODE_EVENTS, QOS_LATCHED } from '../framework/transport/qos.js';
import { EpisodeEventKind, type Point } from '../framework/msgs/types.js';
import type { Timer } from '../framework/time/clock.js';
import { packagePath } from '../src/util/paths.js';
import { EndEffectorKinematics } from '../src/tasks/end_effector.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { ArmTargetSampler } from '../src/tasks/arm_targets.js';
import { ReachHoldJudge, shareVerdict, verdictLine, type TaskVerdict } from '../src/tasks/task_judge.js';

// A reaching task for the graph: publishes a sequence of end-effector targets, one every
// `hold_s` of the node's clock, and judges each by the end effector's distance to it at the end
// of its hold. Done when the last target has been judged.
// With random_targets > 0 (learning runs): one random reachable target per episode of the sim
// bridge (the episodes it declares on episode_topic), drawn as the PETS arm harness draws them
// (src/tasks/arm_targets.ts) at the episode's START, published with the episode's first pose, and
// judged at its END by the last end-effector pose of the episode.
// With judge_task it says whether the task was achieved (src/tasks/task_judge.ts: its summary's
// second line, task_achieved in the report): every target within tolerance_m at its judging (with
// random targets: at least success_share of those after judge_after), all of them judged; with
// reach_within_s > 0 each fixed target must also be reached within that of its publication and
// held until the next.

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
  ee_site: {
    type: 'string',
    default: '',
    description:
      "fixed targets: take the end effector's position by forward kinematics of `model` to this site over joint_states (on hardware, where nothing publishes ee_pose); '': from ee_pose_topic",
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
    description:
      'the SO-100 arm model: random_targets draws targets from its kinematics to its ee site; ee_site takes the end effector from it',
  },
  seed: {
    type: 'integer',
    default: 1001,
    range: [0, 2 ** 31 - 1],
    description: 'random_targets: seed of the draws (the PETS arm harness uses 1000 + its seed)',
  },
  episode_topic: {
    type: 'string',
    default: 'episode',
    nonEmpty: true,
    description:
      'random_targets: dynastack_msgs/EpisodeEvent, where episodes start and end (the sim bridge declares them)',
  },
  judge_task: {
    type: 'bool',
    default: true,
    description:
      "say whether the task was achieved (the summary's 'task achieved' line, task_achieved in the report): every target judged within tolerance_m (random targets: success_share of those after judge_after)",
  },
  reach_within_s: {
    type: 'double',
    default: 0,
    range: [0, 3600],
    description:
      'judge_task, fixed targets: each target must also be within tolerance_m this long after it is published, and stay within it until the next (0: only the end of each hold is judged)',
  },
  judge_after: {
    type: 'integer',
    default: 0,
    range: [0, 1_000_000],
    description: 'judge_task, random targets: the first this many targets (learning episodes) do not count',
  },
  success_share: {
    type: 'double',
    default: 1,
    range: [0, 1],
    description: 'judge_task, random targets: the share of the targets after judge_after that must be reached',
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
    // reach and hold: each target from its publication until the next
    const holding =
      p.judge_task && p.reach_within_s > 0
        ? new ReachHoldJudge({
            reachWithinNs: secondsToNs(p.reach_within_s),
            what: 'the end effector',
            tolerance: `${(p.tolerance_m * 100).toFixed(1)} cm`,
          })
        : undefined;
    const onEndEffector = (stampNs: bigint, position: Point): void => {
      ee = position;
      const t = targets[current];
      if (!holding || !t) return;
      const d = Math.hypot(ee.x - t.x, ee.y - t.y, ee.z - t.z);
      holding.sample(stampNs, { ratio: d / p.tolerance_m, text: `${(d * 100).toFixed(2)} cm away` });
    };
    if (p.ee_site) {
      const kinematics = await EndEffectorKinematics.load(packagePath(p.model), p.ee_site);
      node.createSubscription('sensor_msgs/msg/JointState', 'joint_states', (m) => {
        const position = kinematics.position(m.name, m.position);
        if (position) onEndEffector(timeToNs(m.header.stamp), position);
      });
    } else
      node.createSubscription('geometry_msgs/msg/PoseStamped', p.ee_pose_topic, (m) =>
        onEndEffector(timeToNs(m.header.stamp), m.pose.position),
      );
    const errors: number[] = [];
    let current = -1;
    let timer: Timer | undefined;
    let finish: (reason: string) => void = () => {};
    const finished = new Promise<string>((resolve) => (finish = resolve));
    const reached = (): number => errors.filter((e) => e <= p.tolerance_m).length;
    /** every target judged within tolerance at the end of its hold and, with reach_within_s, reached in time and held */
    const verdict = (): TaskVerdict => {
      const final = shareVerdict(
        errors.map((e) => e <= p.tolerance_m),
        {
          noun: 'targets',
          criterion: `within ${(p.tolerance_m * 100).toFixed(1)} cm at the end of their hold`,
          expected: targets.length,
        },
      );
      if (!final.achieved || !holding) return final;
      const held = holding.verdict();
      return held.achieved ? { achieved: true, detail: `${final.detail}; ${held.detail}` } : held;
    };

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
      if (current < targets.length) holding?.goal(node.clock.now(), `target ${current + 1}`);
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
        `reached ${reached()} of ${targets.length} targets within ${(p.tolerance_m * 100).toFixed(1)} cm (errors ${errors.map((e) => (e * 100).toFixed(2)).join(', ')} cm)${p.judge_task ? `\n${verdictLine(verdict())}` : ''}`,
      metrics: () => ({
        ...(p.judge_task ? { task_achieved: verdict().achieved } : {}),
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

/**
 * random_targets: a new target drawn at each episode's START and published with the episode's first
 * pose (after its first state: a controller takes a goal about the state it has), judged at END by
 * the episode's last pose.
 */
function randomTargetsPerEpisode(
  node: NodeHandle<typeof parameters>,
  p: Params,
  sampler: ArmTargetSampler,
): NodeLifecycle {
  const goal = node.createPublisher('geometry_msgs/msg/PoseStamped', 'goal', QOS_LATCHED);
  const errors: number[] = [];
  let target: Point | undefined;
  /** the stamp of the first state of the episode whose target is not published yet */
  let publishAtNs: bigint | undefined;
  let ee: Point | undefined;
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
  const draw = (startNs: bigint): void => {
    const [x, y, z] = sampler.next().position;
    target = { x, y, z };
    publishAtNs = startNs;
  };
  const publish = (t: Point): void => {
    goal.publish({
      header: { stamp: nsToTime(node.clock.now()), frame_id: p.frame_id },
      pose: { position: t, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    });
  };
  // transient local: the START of the episode under way comes even when the bridge declared it before this process was up
  node.createSubscription(
    'dynastack_msgs/msg/EpisodeEvent',
    p.episode_topic,
    (m) => {
      if (done) return;
      if (m.event === EpisodeEventKind.START) {
        draw(timeToNs(m.header.stamp));
        return;
      }
      if (m.event !== EpisodeEventKind.END || !target) return;
      judge();
      target = undefined;
      if (errors.length < p.random_targets) return;
      done = true;
      finish(summary());
    },
    { qos: QOS_EPISODE_EVENTS },
  );
  node.createSubscription('geometry_msgs/msg/PoseStamped', p.ee_pose_topic, (m) => {
    if (target && publishAtNs !== undefined && timeToNs(m.header.stamp) >= publishAtNs) {
      publishAtNs = undefined;
      publish(target);
    }
    ee = m.pose.position;
  });
  const verdict = (): TaskVerdict =>
    shareVerdict(
      errors.map((e) => e <= p.tolerance_m),
      {
        noun: 'random targets',
        criterion: `within ${(p.tolerance_m * 100).toFixed(1)} cm at their episode's end`,
        skip: p.judge_after,
        share: p.success_share,
        expected: p.random_targets,
      },
    );
  return {
    finished,
    summary: () =>
      `${summary()} (errors ${errors.map((e) => (e * 100).toFixed(2)).join(', ')} cm)${p.judge_task ? `\n${verdictLine(verdict())}` : ''}`,
    metrics: () => ({
      ...(p.judge_task ? { task_achieved: verdict().achieved } : {}),
      targets: p.random_targets,
      judged: errors.length,
      reached: reached(),
      max_error_cm: errors.length ? Math.max(...errors) * 100 : 0,
      errors_cm: errors.map((e) => (e * 100).toFixed(2)).join(' '),
    }),
  };
}
