import { existsSync, readFileSync } from 'node:fs';
import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { nsToTime, timeToNs } from '../framework/time/time.js';
import { EpisodeEventKind, type JointState } from '../framework/msgs/types.js';
import { commandOf } from '../framework/msgs/stamped_command.js';
import { StateHold } from '../src/data/state_hold.js';
import { QOS_DATA_STREAM, QOS_EPISODE_EVENTS, QOS_LATCHED } from '../framework/transport/qos.js';
import { writeLinePlot } from '../src/data/svg_plot.js';
import { writeFileAtomicAsync } from '../src/util/atomic_file.js';
import { REWARD_TASKS, rewardFor, type RewardTask } from '../src/tasks/episode_reward.js';
import { loadArmReachTask, type ArmActuation } from '../src/tasks/arm_reach.js';
import { reachOutcome } from '../src/tasks/arm_targets.js';
import { shareVerdict, verdictLine, type TaskVerdict } from '../src/tasks/task_judge.js';

// Judges a learning run from outside the controller: the task's reward of every tick (state and
// the command in force), summed per episode (the episodes the sim bridge declares on episode_topic:
// a sum starts at START and is taken at END), logged as each episode ends, and written as a
// learning curve (SVG, then CSV, each replaced atomically) after every episode, so a killed run
// keeps it. Done after `episodes`. With resume it reads the CSV of an earlier run back and goes on
// from it: those episodes count toward `episodes` and number the next.
// Across processes the state, command and episode topics come in no set order (src/data/state_hold.ts):
// an episode's states are those stamped up to its END's stamp, summed once they are all in; with
// command_type JointState (stamped by the controller) a state waits for the command in force over
// the step that led to it (the newest stamped before it), so the sums are those of one process.
// Arm reach with a goal per episode (goal_topic, e.g. the goal sequencer's random targets): the
// reward follows the goal in force, and with success_tolerance_m each episode is also judged by
// the end effector's distance to its goal at the episode's last state, the share of successes
// counted over the episodes after judge_after.
// It says whether the task was achieved (src/tasks/task_judge.ts: its summary's second line,
// task_achieved in the report) when it has a criterion: an episode succeeds when its return is at
// least success_return (judge_return) and, with success_tolerance_m, it ends that close; the task
// is achieved when all `episodes` ran and at least success_share of those after judge_after succeeded.
// Each episode's outcome also goes out on ~/returns (dynastack_msgs/EpisodeReturn) as it ends,
// transient local with the whole run kept (resumed episodes at activation), so a live viewer that
// joins late (Foxglove's plot, docs/foxglove-layout.json) draws the learning curve from the start.

/** ~/returns: reliable, transient local, the whole run (an outcome is some 60 bytes) */
const QOS_RETURNS = { ...QOS_LATCHED, depth: 10_000 };

const parameters = defineParams({
  task: {
    type: 'string',
    default: 'cartpole_swingup',
    choices: [...REWARD_TASKS],
    description: 'whose reward is summed',
  },
  goal: {
    type: 'double_array',
    default: [],
    description: 'the task goal (arm_reach: x, y, z), empty: the task default',
  },
  joints: {
    type: 'string_array',
    default: [],
    description: 'joints of the state x = [q, q̇], in the task order (empty: as the messages list them)',
  },
  state_topic: {
    type: 'string',
    default: 'joint_states',
    nonEmpty: true,
    description: 'sensor_msgs/JointState: the true state',
  },
  command_topic: {
    type: 'string',
    default: 'forward_command_controller/commands',
    nonEmpty: true,
    description: 'the command stream (of command_type)',
  },
  command_type: {
    type: 'string',
    default: 'std_msgs/msg/Float64MultiArray',
    choices: ['std_msgs/msg/Float64MultiArray', 'sensor_msgs/msg/JointState'],
    description:
      "Float64MultiArray: the newest command when a state is handled (exact only where messages are handled in the order they were sent: one process); JointState: stamped by its source (a controller's stamped_command_topic), each state's reward takes the command stamped before it",
  },
  episode_topic: {
    type: 'string',
    default: 'episode',
    nonEmpty: true,
    description: 'dynastack_msgs/EpisodeEvent: where episodes start and end (the sim bridge declares them)',
  },
  episodes: {
    type: 'integer',
    default: 10,
    range: [0, 1_000_000],
    description: 'finish after this many episodes (0: never)',
  },
  output: {
    type: 'string',
    default: 'out/learning_curve.svg',
    nonEmpty: true,
    description: 'learning curve SVG (a .csv goes beside it)',
  },
  title: { type: 'string', default: 'learning curve', description: 'plot title' },
  goal_topic: {
    type: 'string',
    default: '',
    description:
      "arm_reach: geometry_msgs/PoseStamped goals that replace `goal` as they arrive (e.g. one per episode); '': the fixed goal",
  },
  arm_actuation: {
    type: 'string',
    default: 'torque',
    choices: ['torque', 'position'],
    description: "arm_reach: the actuation whose cost the reward negates (position: the command's lead over q)",
  },
  success_tolerance_m: {
    type: 'double',
    default: 0,
    range: [0, 10],
    description:
      'arm_reach: an episode succeeds when its last state puts the end effector this close to the goal (0: no judging)',
  },
  judge_after: {
    type: 'integer',
    default: 0,
    range: [0, 1_000_000],
    description:
      'with success_tolerance_m or judge_return: the success share (and the task verdict) counts the episodes after this many',
  },
  judge_return: {
    type: 'bool',
    default: false,
    description:
      "say whether the task was achieved by the episodes' returns: an episode succeeds when its return is at least success_return (the summary's 'task achieved' line, task_achieved in the report; success_tolerance_m > 0 judges too)",
  },
  success_return: {
    type: 'double',
    default: 0,
    range: [-1e12, 1e12],
    description: 'judge_return: the least return of a successful episode',
  },
  success_share: {
    type: 'double',
    default: 1,
    range: [0, 1],
    description:
      'with judge_return or success_tolerance_m: the task is achieved when at least this share of the episodes after judge_after succeed (and all `episodes` ran)',
  },
  resume: {
    type: 'bool',
    default: false,
    description:
      'go on from the learning curve CSV beside `output` of an earlier run, when there is one: its episodes count toward `episodes` and number the next; false: a new curve',
  },
});

export default defineNode({
  name: 'episode_monitor',
  description: 'sums the task reward per episode and writes the learning curve',
  parameters,
  async configure(node, p) {
    // arm reach: the goal in force (from goal_topic) and the final distance to it
    const arm =
      p.task === 'arm_reach' && (p.goal_topic || p.success_tolerance_m > 0)
        ? await loadArmReachTask({ actuation: p.arm_actuation as ArmActuation })
        : undefined;
    const goal = arm ? (p.goal.length ? Float64Array.from(p.goal) : Float64Array.from(arm.defaultGoal)) : undefined;
    if (goal && goal.length !== 3)
      throw new Error(`parameter 'goal': arm_reach takes x, y, z, got ${goal.length} values`);
    const reward = arm
      ? (x: ArrayLike<number>, u: ArrayLike<number>) => -arm.cost(x, u, goal)
      : await rewardFor(p.task as RewardTask, p.goal);
    if (p.goal_topic) {
      if (!arm) throw new Error(`parameter 'goal_topic': only task arm_reach takes goals, not ${p.task}`);
      // transient local as goals are published: the goal in force reaches a monitor that starts late
      node.createSubscription(
        'geometry_msgs/msg/PoseStamped',
        p.goal_topic,
        (m) => {
          const { x, y, z } = m.pose.position;
          if ([x, y, z].every(Number.isFinite)) goal!.set([x, y, z]);
        },
        { qos: QOS_LATCHED },
      );
    }
    const judging = arm !== undefined && p.success_tolerance_m > 0;
    const distances: number[] = [];
    const successes = (from: number): number => distances.slice(from).filter((d) => d < p.success_tolerance_m).length;
    const successShare = (): string => {
      const judged = distances.length - Math.min(p.judge_after, distances.length);
      return judged
        ? `${successes(p.judge_after)} of ${judged} episodes after ${p.judge_after} within ${(p.success_tolerance_m * 100).toFixed(1)} cm`
        : `no episode after ${p.judge_after} yet`;
    };
    const csv = p.output.replace(/\.svg$/i, '') + '.csv';
    const returnsOut = node.createPublisher('dynastack_msgs/msg/EpisodeReturn', '~/returns', QOS_RETURNS);
    const returns: number[] = [];
    // the task: each episode by its return and its final distance, as configured
    const judgesTask = judging || p.judge_return;
    const succeeded = (i: number): boolean =>
      (!p.judge_return || returns[i]! >= p.success_return) && (!judging || distances[i]! < p.success_tolerance_m);
    /** episode i's outcome on ~/returns, stamped with its last state's stamp (0 for a resumed one) */
    const publishReturn = (i: number, stampNs: bigint): void =>
      returnsOut.publish({
        header: { stamp: nsToTime(stampNs), frame_id: '' },
        episode: i + 1,
        total_reward: returns[i]!,
        judged: judgesTask,
        success: judgesTask && succeeded(i),
        final_distance: judging ? distances[i]! : Number.NaN,
      });
    const verdict = (): TaskVerdict => {
      const criteria = [
        ...(p.judge_return ? [`with a return of at least ${p.success_return}`] : []),
        ...(judging ? [`within ${(p.success_tolerance_m * 100).toFixed(1)} cm at the end`] : []),
      ];
      return shareVerdict(
        returns.map((_, i) => succeeded(i)),
        {
          noun: 'episodes',
          criterion: criteria.join(' and '),
          skip: p.judge_after,
          share: p.success_share,
          ...(p.episodes > 0 ? { expected: p.episodes } : {}),
        },
      );
    };
    let resumed = 0;
    if (p.resume) {
      const earlier = readCurve(csv, judging);
      returns.push(...earlier.returns);
      resumed = earlier.returns.length;
      distances.push(...earlier.distances);
      node.logger.info(
        earlier.returns.length
          ? `resuming after the ${earlier.returns.length} episodes of ${csv}`
          : `resume: no learning curve at ${csv} yet, starting at episode 1`,
      );
    }
    /** Float64MultiArray commands: the newest, in force when a state is handled */
    let u: ArrayLike<number> = [];
    /** stamped commands, oldest first: a state's reward takes the newest stamped before it */
    let stampedCommands: { stampNs: bigint; values: ArrayLike<number> }[] = [];
    const stamped = p.command_type === 'sensor_msgs/msg/JointState';
    /** stamped commands: states wait for the command in force over them (src/data/state_hold.ts) */
    const hold = new StateHold<JointState>(QOS_DATA_STREAM.depth);
    /** the stamp of the last state of the newest episode that ended: states up to it are counted */
    let endedThroughNs: bigint | undefined;
    /** the stamp of the newest state counted */
    let countedThroughNs: bigint | undefined;
    /** the counted states of episodes not ended yet, oldest first: an END takes those through its stamp */
    let counted: { stampNs: bigint; reward: number; distance: number }[] = [];
    /** the stamp of the newest END received */
    let lastEndNs: bigint | undefined;
    /** END stamps whose last state has not been counted yet, in order */
    const endsDue: bigint[] = [];
    let finish: (reason: string) => void = () => {};
    const finished = p.episodes > 0 ? new Promise<string>((resolve) => (finish = resolve)) : undefined;
    const best = (): number => (returns.length ? Math.max(...returns) : Number.NaN);
    const done = (): string =>
      `${returns.length} episodes, best return ${best().toFixed(1)}, last ${(returns.at(-1) ?? Number.NaN).toFixed(1)}${judging ? `; ${successShare()}` : ''}`;

    /** the curve of the episodes so far: the SVG, then the CSV (each whole, or the one before) */
    async function writeCurve(): Promise<void> {
      const rows = judging
        ? [
            'episode,return,final_distance_m,success',
            ...returns.map((r, i) => `${i + 1},${r},${distances[i]},${distances[i]! < p.success_tolerance_m ? 1 : 0}`),
          ]
        : ['episode,return', ...returns.map((r, i) => `${i + 1},${r}`)];
      const episodesAxis = returns.map((_, i) => i + 1);
      const plotted = [...returns];
      const distancesCm = distances.map((d) => d * 100);
      await writeLinePlot(
        p.output,
        [
          { title: 'episode return', series: [{ name: p.task, t: episodesAxis, y: plotted }] },
          ...(judging
            ? [
                {
                  title: 'final distance to the goal (cm)',
                  series: [{ name: p.task, t: episodesAxis, y: distancesCm }],
                },
              ]
            : []),
        ],
        { title: p.title, xTitle: 'episode' },
      );
      await writeFileAtomicAsync(csv, rows.join('\n') + '\n');
    }
    // one write at a time; episodes that end meanwhile go into one write after it
    let writing: Promise<void> = Promise.resolve();
    let writeWanted = false;
    const curveChanged = (): void => {
      if (writeWanted) return;
      writeWanted = true;
      writing = writing
        .then(() => {
          writeWanted = false;
          return writeCurve();
        })
        .catch((err: unknown) =>
          node.logger.error(`learning curve not written: ${err instanceof Error ? err.message : String(err)}`),
        );
    };
    /** An episode ended with its state stamped `endNs`, and the states through it are counted: its return. */
    function episodeEnded(endNs: bigint): void {
      endedThroughNs = endNs;
      const n = counted.findIndex((c) => c.stampNs > endNs);
      const mine = counted.splice(0, n < 0 ? counted.length : n);
      const sum = mine.reduce((a, c) => a + c.reward, 0);
      returns.push(sum);
      if (judging) distances.push(mine.at(-1)?.distance ?? Number.NaN);
      const judged = judging
        ? `, end effector ${(distances.at(-1)! * 100).toFixed(2)} cm from the goal ${distances.at(-1)! < p.success_tolerance_m ? '✓' : '✗'} (${successShare()})`
        : '';
      node.logger.info(`episode ${returns.length}: return ${sum.toFixed(1)} (best ${best().toFixed(1)})${judged}`);
      publishReturn(returns.length - 1, endNs);
      curveChanged();
      if (p.episodes > 0 && returns.length >= p.episodes) finish(done());
    }
    /** The ENDs whose last state is counted now, in order. */
    function endsReached(): void {
      while (endsDue.length && countedThroughNs !== undefined && endsDue[0]! <= countedThroughNs)
        episodeEnded(endsDue.shift()!);
    }
    if (stamped)
      node.createSubscription(
        'sensor_msgs/msg/JointState',
        p.command_topic,
        (m) => {
          const { stampNs, values } = commandOf(m);
          // a stamp that went back: the source restarted, its old commands are of another time line
          if (stampedCommands.length && stampNs < stampedCommands.at(-1)!.stampNs) stampedCommands = [];
          stampedCommands.push({ stampNs, values: Float64Array.from(values) });
          for (const state of hold.command(stampNs)) countState(state);
        },
        { qos: QOS_DATA_STREAM },
      );
    else
      node.createSubscription(
        'std_msgs/msg/Float64MultiArray',
        p.command_topic,
        (m) => (u = Float64Array.from(m.data)),
        { qos: QOS_DATA_STREAM },
      );
    /** the command in force over the step that led to a state stamped `stampNs` */
    function commandBefore(stampNs: bigint): ArrayLike<number> {
      if (!stamped) return u;
      const i = stampedCommands.findLastIndex((c) => c.stampNs < stampNs);
      if (i < 0) return [];
      // the older ones can no longer be in force for a later state
      if (i > 0) stampedCommands = stampedCommands.slice(i);
      return stampedCommands[0]!.values;
    }
    // transient local as the sim bridge declares them (a monitor that starts late still gets the START under way)
    node.createSubscription(
      'dynastack_msgs/msg/EpisodeEvent',
      p.episode_topic,
      (m) => {
        const stampNs = timeToNs(m.header.stamp);
        // states after the last END and before this START belong to no episode; those through that
        // END stay for it: its last state may still wait for its command (stamped commands: the
        // next episode's START can come first, from another process)
        if (m.event === EpisodeEventKind.START)
          counted = counted.filter((c) => c.stampNs >= stampNs || (lastEndNs !== undefined && c.stampNs <= lastEndNs));
        if (m.event !== EpisodeEventKind.END) return;
        // the END comes on its own topic: it may come before its episode's last states have been counted
        lastEndNs = stampNs;
        endsDue.push(stampNs);
        endsReached();
      },
      { qos: QOS_EPISODE_EVENTS },
    );
    if (p.episodes > 0 && returns.length >= p.episodes) finish(`already ${done()}`);
    function countState(m: JointState): void {
      // a state of an episode already summed is not counted twice, nor one counted already (a
      // lockstep bridge publishes a tick again until its first command)
      const stampNs = timeToNs(m.header.stamp);
      if (endedThroughNs !== undefined && stampNs <= endedThroughNs) return;
      if (countedThroughNs !== undefined && stampNs <= countedThroughNs) return;
      countedThroughNs = stampNs;
      const names = p.joints.length ? p.joints : m.name;
      const x = new Float64Array(2 * names.length);
      names.forEach((name, i) => {
        const k = m.name.indexOf(name);
        x[i] = m.position[k] ?? Number.NaN;
        x[names.length + i] = m.velocity[k] ?? Number.NaN;
      });
      const r = reward(x, commandBefore(stampNs));
      // a state missing a joint leaves the distance unknown (NaN), judged a failure
      const distance =
        judging && x.every(Number.isFinite)
          ? reachOutcome(arm.endEffector(x), goal!, p.success_tolerance_m).finalDistance
          : Number.NaN;
      counted.push({ stampNs, reward: Number.isFinite(r) ? r : 0, distance });
      endsReached();
    }
    node.createSubscription(
      'sensor_msgs/msg/JointState',
      p.state_topic,
      (m) => {
        if (!stamped) countState(m);
        else for (const state of hold.state(timeToNs(m.header.stamp), m)) countState(state);
      },
      { qos: QOS_DATA_STREAM },
    );
    return {
      finished,
      activate: () => {
        for (let i = 0; i < resumed; i++) publishReturn(i, 0n);
      },
      cleanup: async () => {
        await writing;
        if (returns.length) node.logger.info(`learning curve written to ${p.output} (and ${csv})`);
      },
      summary: () =>
        `${returns.length} episodes: returns ${returns.map((r) => r.toFixed(0)).join(', ')}${judging ? `; ${successShare()}` : ''}${judgesTask ? `\n${verdictLine(verdict())}` : ''}`,
      metrics: () => ({
        ...(judgesTask ? { task_achieved: verdict().achieved } : {}),
        episodes: returns.length,
        best_return: best(),
        last_return: returns.at(-1) ?? Number.NaN,
        returns: returns.map((r) => r.toFixed(2)).join(' '),
        ...(judging
          ? {
              final_distances_cm: distances.map((d) => (d * 100).toFixed(2)).join(' '),
              successes_after_judge_after: successes(p.judge_after),
              judged_after_judge_after: Math.max(0, distances.length - p.judge_after),
            }
          : {}),
      }),
    };
  },
});

/**
 * The returns (and, when judging, the final distances) of the learning curve CSV at `path`, as
 * this node writes it; none when there is no file. A file of another layout is refused, naming it.
 */
function readCurve(path: string, judging: boolean): { returns: number[]; distances: number[] } {
  if (!existsSync(path)) return { returns: [], distances: [] };
  const [header, ...rows] = readFileSync(path, 'utf8').trim().split('\n');
  const expected = judging ? 'episode,return,final_distance_m,success' : 'episode,return';
  if (header !== expected)
    throw new Error(`parameter 'resume': learning curve ${path} has the columns '${header}', expected '${expected}'`);
  const returns: number[] = [];
  const distances: number[] = [];
  rows.forEach((row, i) => {
    const cells = row.split(',');
    if (Number(cells[0]) !== i + 1 || cells[1] === undefined || !Number.isFinite(Number(cells[1])))
      throw new Error(`parameter 'resume': learning curve ${path}, line ${i + 2} ('${row}') is not episode ${i + 1}'s`);
    returns.push(Number(cells[1]));
    if (judging) distances.push(Number(cells[2]));
  });
  return { returns, distances };
}
