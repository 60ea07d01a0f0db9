import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { QOS_LATCHED } from '../framework/transport/qos.js';
import { nsToSeconds, timeToNs } from '../framework/time/time.js';
import { SeriesRecorder } from '../src/data/series_recorder.js';
import { writeLinePlot, type Panel } from '../src/data/svg_plot.js';

// Records a run for people to look at: joint trajectories, commands, end-effector position and
// targets, written at shutdown as an SVG plot and a CSV of every sample (each file replaced
// atomically, src/util/atomic_file.ts).

const parameters = defineParams({
  output: {
    type: 'string',
    default: 'out/run.svg',
    nonEmpty: true,
    description: 'SVG file written at shutdown (a .csv with every sample goes beside it)',
  },
  title: { type: 'string', default: 'dynastack run', description: 'plot title' },
  joint_state_topic: {
    type: 'string',
    default: 'joint_states',
    nonEmpty: true,
    description: 'sensor_msgs/JointState to plot',
  },
  command_topic: {
    type: 'string',
    default: 'forward_command_controller/commands',
    description: 'std_msgs/Float64MultiArray commands to plot (empty: none)',
  },
  command_names: { type: 'string_array', default: [], description: 'names of the command values (empty: u0, u1, …)' },
  ee_pose_topic: {
    type: 'string',
    default: '',
    description: 'geometry_msgs/PoseStamped end-effector pose (empty: none)',
  },
  goal_topic: { type: 'string', default: '', description: 'geometry_msgs/PoseStamped targets (empty: none)' },
  max_points: {
    type: 'integer',
    default: 3000,
    range: [100, 1_000_000],
    description: 'points per series in the plot (the CSV keeps all)',
  },
});

export default defineNode({
  name: 'plot_recorder',
  description: 'records joint states, commands and targets, and writes an SVG plot and a CSV at shutdown',
  parameters,
  configure(node, p) {
    const rec = new SeriesRecorder(p.max_points);
    const jointNames = new Set<string>();
    const commandNames = new Set<string>();
    node.createSubscription('sensor_msgs/msg/JointState', p.joint_state_topic, (m) => {
      const t = nsToSeconds(timeToNs(m.header.stamp));
      m.name.forEach((name, i) => {
        jointNames.add(name);
        rec.add(`q:${name}`, t, m.position[i]!);
      });
    });
    if (p.command_topic) {
      node.createSubscription('std_msgs/msg/Float64MultiArray', p.command_topic, (m) => {
        const t = nsToSeconds(node.clock.now());
        for (let i = 0; i < m.data.length; i++) {
          const name = p.command_names[i] ?? `u${i}`;
          commandNames.add(name);
          rec.add(`u:${name}`, t, m.data[i]!);
        }
      });
    }
    const pose =
      (prefix: string) =>
      (m: {
        header: { stamp: { sec: number; nanosec: number } };
        pose: { position: { x: number; y: number; z: number } };
      }) => {
        const t = nsToSeconds(timeToNs(m.header.stamp));
        rec.add(`${prefix}.x`, t, m.pose.position.x);
        rec.add(`${prefix}.y`, t, m.pose.position.y);
        rec.add(`${prefix}.z`, t, m.pose.position.z);
      };
    if (p.ee_pose_topic) node.createSubscription('geometry_msgs/msg/PoseStamped', p.ee_pose_topic, pose('ee'));
    // a target holds until the next: record it again at each end-effector sample so it draws as steps
    let goal: { x: number; y: number; z: number } | undefined;
    if (p.goal_topic)
      // transient local as goals are published: the first target is recorded however late this node starts
      node.createSubscription(
        'geometry_msgs/msg/PoseStamped',
        p.goal_topic,
        (m) => {
          goal = m.pose.position;
          pose('target')(m);
        },
        { qos: QOS_LATCHED },
      );
    if (p.ee_pose_topic && p.goal_topic)
      node.createSubscription('geometry_msgs/msg/PoseStamped', p.ee_pose_topic, (m) => {
        if (goal) pose('target')({ header: m.header, pose: { position: goal } });
      });

    let written = '';
    return {
      cleanup: async () => {
        const series = (prefix: string) =>
          rec
            .names()
            .filter((n) => n.startsWith(prefix))
            .map((n) => ({ name: n.slice(prefix.length), ...rec.get(n) }));
        const panels: Panel[] = [{ title: 'joint positions (rad or m)', series: series('q:') }];
        if (commandNames.size) panels.push({ title: 'commands', series: series('u:') });
        if (p.ee_pose_topic) {
          for (const axis of ['x', 'y', 'z']) {
            panels.push({
              title: `end effector ${axis} (m)`,
              series: [
                { name: 'end effector', ...rec.get(`ee.${axis}`) },
                { name: 'target', ...rec.get(`target.${axis}`) },
              ],
            });
          }
        }
        if (!jointNames.size) {
          node.logger.warn(`nothing was received on ${p.joint_state_topic}: no plot written`);
          return;
        }
        await writeLinePlot(p.output, panels, { title: p.title, xTitle: 'time (s)' });
        const csv = p.output.replace(/\.svg$/i, '') + '.csv';
        await rec.writeCsv(csv);
        written = p.output;
        node.logger.info(`plot written to ${p.output} (samples in ${csv})`);
      },
      metrics: () => ({ plot: written }),
    };
  },
});
