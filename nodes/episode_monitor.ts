import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { defineNode } from '../src/runtime/node_definition.js';
import { defineParams } from '../src/params/schema.js';
import { secondsToNs, timeToNs } from '../src/time/time.js';
import { writeLinePlot } from '../src/data/svg_plot.js';
import { REWARD_TASKS, rewardFor, type RewardTask } from '../src/tasks/episode_reward.js';

// Judges a learning run from outside the controller: the task's reward of every tick (state and
// the command in force), summed per episode (told apart by the gap the sim bridge leaves between
// episodes), logged as each episode ends, and written as a learning curve (CSV and SVG) at the
// end. Done after `episodes`.

const parameters = defineParams({
  task: { type: 'string', default: 'cartpole_swingup', choices: [...REWARD_TASKS], description: 'whose reward is summed' },
  goal: { type: 'double_array', default: [], description: 'the task goal (arm_reach: x, y, z), empty: the task default' },
  joints: { type: 'string_array', default: [], description: 'joints of the state x = [q, q̇], in the task order (empty: as the messages list them)' },
  state_topic: { type: 'string', default: 'joint_states', nonEmpty: true, description: 'sensor_msgs/JointState: the true state' },
  command_topic: { type: 'string', default: 'forward_command_controller/commands', nonEmpty: true, description: 'std_msgs/Float64MultiArray commands' },
  episode_gap_s: { type: 'double', default: 0, range: [0, 1e6], description: 'a gap in state stamps longer than this starts a new episode (0: 1.5 × the first interval; the sim bridge leaves two periods between episodes)' },
  episodes: { type: 'integer', default: 10, range: [0, 1_000_000], description: 'finish after this many episodes (0: never)' },
  output: { type: 'string', default: 'out/learning_curve.svg', nonEmpty: true, description: 'learning curve SVG (a .csv goes beside it)' },
  title: { type: 'string', default: 'learning curve', description: 'plot title' },
});

export default defineNode({
  name: 'episode_monitor',
  description: 'sums the task reward per episode and writes the learning curve',
  parameters,
  async configure(node, p) {
    const reward = await rewardFor(p.task as RewardTask, p.goal);
    let gapNs = secondsToNs(p.episode_gap_s);
    const returns: number[] = [];
    let u: ArrayLike<number> = [];
    let lastNs: bigint | undefined;
    let sum = 0;
    let finish: (reason: string) => void = () => {};
    const finished = p.episodes > 0 ? new Promise<string>((resolve) => (finish = resolve)) : undefined;
    const best = (): number => (returns.length ? Math.max(...returns) : Number.NaN);
    node.createSubscription('std_msgs/msg/Float64MultiArray', p.command_topic, (m) => (u = Float64Array.from(m.data)));
    node.createSubscription('sensor_msgs/msg/JointState', p.state_topic, (m) => {
      const t = timeToNs(m.header.stamp);
      if (lastNs !== undefined && gapNs === 0n) gapNs = ((t - lastNs) * 3n) / 2n;
      const newEpisode = lastNs !== undefined && t - lastNs > gapNs;
      lastNs = t;
      if (newEpisode) {
        returns.push(sum);
        node.logger.info(`episode ${returns.length}: return ${sum.toFixed(1)} (best ${best().toFixed(1)})`);
        if (p.episodes > 0 && returns.length >= p.episodes) finish(`${returns.length} episodes, best return ${best().toFixed(1)}, last ${sum.toFixed(1)}`);
        sum = 0;
      }
      const names = p.joints.length ? p.joints : m.name;
      const x = new Float64Array(2 * names.length);
      names.forEach((name, i) => {
        const k = m.name.indexOf(name);
        x[i] = m.position[k] ?? Number.NaN;
        x[names.length + i] = m.velocity[k] ?? Number.NaN;
      });
      const r = reward(x, u);
      if (Number.isFinite(r)) sum += r;
    });
    return {
      finished,
      cleanup: async () => {
        if (!returns.length) return;
        const csv = p.output.replace(/\.svg$/i, '') + '.csv';
        mkdirSync(dirname(csv), { recursive: true });
        writeFileSync(csv, ['episode,return', ...returns.map((r, i) => `${i + 1},${r}`)].join('\n') + '\n');
        await writeLinePlot(p.output, [{ title: 'episode return', series: [{ name: p.task, t: returns.map((_, i) => i + 1), y: returns }] }], { title: p.title, xTitle: 'episode' });
        node.logger.info(`learning curve written to ${p.output} (and ${csv})`);
      },
      summary: () => `${returns.length} episodes: returns ${returns.map((r) => r.toFixed(0)).join(', ')}`,
      metrics: () => ({ episodes: returns.length, best_return: best(), last_return: returns.at(-1) ?? Number.NaN, returns: returns.map((r) => r.toFixed(2)).join(' ') }),
    };
  },
});
