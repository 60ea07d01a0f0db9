import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { codecFor } from '../framework/msgs/codec.js';
import { EpisodeEventKind, type MessageTypeName } from '../framework/msgs/types.js';
import { nsToTime, secondsToNs, timeToNs } from '../framework/time/time.js';
import { QOS_DEFAULT, QOS_EPISODE_EVENTS, QOS_LATCHED, QOS_SENSOR_DATA, type QoS } from '../framework/transport/qos.js';
import { BagWriter } from '../framework/bag/bag_writer.js';
import { defaultQos, type BagQos } from '../framework/bag/metadata.js';
import { RecordingSession, type EpisodeRecord } from '../src/data/recording/session.js';
import { cadenceLine } from '../src/data/recording/cadence.js';
import { EpisodeSchedule, type ScheduledEvent } from '../src/data/recording/episode_schedule.js';
import { writeFileAtomicAsync } from '../src/util/atomic_file.js';
import type { Timer } from '../framework/time/clock.js';

// Records topics into a rosbag2 bag (MCAP, framework/bag/bag_writer.ts: `ros2 bag info` and
// `ros2 bag play` read it) and marks episodes in it, as `lerobot-record` runs a teleop session:
// every message of the listed topics is written as it arrives (receive time as log time, as
// rosbag2 does), the episode boundaries (dynastack_msgs/EpisodeEvent on episode_topic, declared by
// the sim bridge, the teleop keys, or — episodes: auto — this node's own schedule of episode_s
// recording and reset_s reset time) are recorded with them, the task of each episode is written at
// its start (/recorder/task), and each episode ends with a cadence line for cadence_topic (achieved
// rate against cadence_hz, intervals over budget, dropped messages). A person changes the task of
// the next episodes on task_topic. The bag survives kill -9 (at most the open chunk, ≤ 1 s, is
// lost; `dynastack bag reindex` makes it whole) and stops cleanly when the disk fills.
// The episodes and their cadence are written beside the bag (<bag>/episodes.json) after each one.

const parameters = defineParams({
  bag: {
    type: 'string',
    default: '',
    description: 'the bag folder to create (empty: bags/rosbag2_<date>-<time>, as ros2 bag record names it)',
  },
  topics: {
    type: 'string_array',
    default: [
      'joint_states:sensor_msgs/msg/JointState',
      'forward_command_controller/commands:std_msgs/msg/Float64MultiArray',
    ],
    description:
      "what to record, each 'topic:package/msg/Type' with an optional ':best_effort' or ':latched' to match its publisher's QoS",
  },
  episodes: {
    type: 'string',
    default: 'topic',
    choices: ['topic', 'auto', 'none'],
    description:
      'episode boundaries: from episode_topic (sim bridge, teleop keys), on this node’s own schedule (auto), or none',
  },
  episode_topic: { type: 'string', default: 'episode', nonEmpty: true, description: 'dynastack_msgs/EpisodeEvent' },
  episode_s: { type: 'double', default: 60, range: [0.1, 86_400], description: 'auto: the length of an episode (s)' },
  reset_s: {
    type: 'double',
    default: 10,
    range: [0, 86_400],
    description: 'auto: the reset time between episodes (s)',
  },
  num_episodes: {
    type: 'integer',
    default: 0,
    range: [0, 1_000_000],
    description: 'finish after this many kept episodes (0: run until stopped)',
  },
  task: { type: 'string', default: '', description: 'the task string of the episodes (LeRobot’s single_task)' },
  task_topic: {
    type: 'string',
    default: 'recorder/set_task',
    description: 'std_msgs/String: the task of the episodes that start from then on (empty: none)',
  },
  cadence_topic: {
    type: 'string',
    default: 'joint_states',
    description: 'the stream whose cadence is reported per episode (empty: none)',
  },
  cadence_hz: { type: 'double', default: 100, range: [0.01, 100_000], description: 'its intended rate' },
  max_chunk_ms: {
    type: 'double',
    default: 1000,
    range: [10, 60_000],
    description: 'a chunk open this long is closed and written: what kill -9 can lose at most',
  },
  compression: { type: 'string', default: 'zstd', choices: ['zstd', 'none'], description: 'MCAP chunk compression' },
  min_free_mb: {
    type: 'double',
    default: 500,
    range: [0, 1e9],
    description: 'free disk space below which recording refuses to start, or stops cleanly',
  },
});

interface RecordedTopic {
  readonly topic: string;
  readonly type: MessageTypeName;
  readonly qos: QoS;
}

/** 'topic:pkg/msg/Type[:best_effort|:latched]' → the topic, its type (known to this package) and QoS. */
export function parseTopicSpec(spec: string): RecordedTopic {
  const parts = spec.split(':');
  const [topic, type, qosName = 'reliable'] = parts;
  if (parts.length < 2 || parts.length > 3 || !topic || !type)
    throw new Error(
      `recorder: topic '${spec}' must be 'topic:package/msg/Type' (optionally ':best_effort' or ':latched')`,
    );
  try {
    codecFor(type);
  } catch (err) {
    throw new Error(`recorder: topic '${topic}' has a type this package cannot carry: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const qos = { reliable: QOS_DEFAULT, best_effort: QOS_SENSOR_DATA, latched: QOS_LATCHED }[qosName];
  if (!qos) throw new Error(`recorder: topic '${topic}': QoS '${qosName}' is not reliable, best_effort or latched`);
  // deep queues: a recorder that falls behind for a moment must not drop
  return { topic, type: type as MessageTypeName, qos: { ...qos, depth: Math.max(qos.depth, 1000) } };
}

/** The QoS a topic was offered, as rosbag2 records it. */
function bagQos(q: QoS): BagQos {
  return defaultQos({ reliability: q.reliability, durability: q.durability, history: q.history, depth: q.depth });
}

/** rosbag2_YYYY_MM_DD-HH_MM_SS, in local time, as `ros2 bag record` names a bag. */
export function defaultBagName(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `bags/rosbag2_${now.getFullYear()}_${p(now.getMonth() + 1)}_${p(now.getDate())}-${p(now.getHours())}_${p(now.getMinutes())}_${p(now.getSeconds())}`;
}

export default defineNode({
  name: 'recorder',
  description: 'records topics into a rosbag2 MCAP bag, with episodes, their tasks and a cadence report per episode',
  parameters,
  async configure(node, p) {
    const topics = p.topics.map(parseTopicSpec);
    const path = p.bag || defaultBagName();
    const writer = await BagWriter.open(path, {
      maxChunkDurationMs: p.max_chunk_ms,
      compression: p.compression as 'zstd' | 'none',
      diskSpace: { minFreeBytes: p.min_free_mb * 1024 * 1024 },
      logger: node.logger,
      onStop: (reason) => node.logger.error(`recording stopped: ${reason}`),
    });
    const stringCodec = codecFor('std_msgs/msg/String');
    const session = new RecordingSession(writer, {
      task: p.task,
      cadenceTopic: p.cadence_topic ? node.resolveTopicName(p.cadence_topic) : undefined,
      cadenceHz: p.cadence_hz,
      encodeString: (data) => stringCodec.encode({ data }),
    });
    const dropped = (): number => node.stats().reduce((s, e) => s + e.dropped, 0);
    const episodeTopic = node.resolveTopicName(p.episode_topic);
    for (const t of topics) {
      const name = node.resolveTopicName(t.topic);
      writer.addTopic(name, t.type, { qos: [bagQos(t.qos)] });
    }
    writer.addTopic(episodeTopic, 'dynastack_msgs/msg/EpisodeEvent', { qos: [bagQos(QOS_EPISODE_EVENTS)] });

    let finish: (sentence: string) => void = () => {};
    const finished = new Promise<string>((resolve) => (finish = resolve));
    const kept = (): EpisodeRecord[] => session.episodes.filter((e) => e.kept);
    let writingEpisodes: Promise<void> = Promise.resolve();
    const onEpisodeEnd = (record: EpisodeRecord): void => {
      const cadence = record.cadence ? `; ${cadenceLine(record.episode, p.cadence_topic, record.cadence)}` : '';
      node.logger.info(
        `episode ${record.episode} ${record.kept ? 'recorded' : `dropped (${record.reason})`}: ` +
          `${(Number(record.endNs - record.startNs) / 1e9 || 0).toFixed(1)} s, task '${record.task}'${cadence}`,
      );
      const json = JSON.stringify(
        session.episodes.map((e) => ({ ...e, startNs: String(e.startNs), endNs: String(e.endNs) })),
        null,
        2,
      );
      writingEpisodes = writingEpisodes.then(() => writeFileAtomicAsync(`${writer.path}/episodes.json`, json + '\n'));
      if (p.num_episodes > 0 && kept().length >= p.num_episodes)
        finish(`${kept().length} episodes recorded to ${writer.path}`);
    };

    // every listed topic, as CDR bytes, stamped on arrival
    for (const t of topics) {
      const name = node.resolveTopicName(t.topic);
      node.createRawSubscription(
        t.type,
        t.topic,
        (cdr) => {
          session.message(name, t.type, node.clock.now(), cdr, dropped());
          if (session.stopped) finish(`recording stopped early: ${writer.stopped ?? 'the bag refused a message'}`);
        },
        { qos: t.qos },
      );
    }

    // the episode boundaries: recorded, and followed
    const episodeCodec = codecFor('dynastack_msgs/msg/EpisodeEvent');
    const onBoundary = (cdr: Uint8Array): void => {
      const e = episodeCodec.decode(cdr);
      const stampNs = timeToNs(e.header.stamp);
      session.message(episodeTopic, 'dynastack_msgs/msg/EpisodeEvent', node.clock.now(), cdr, dropped());
      const kind = e.event === EpisodeEventKind.START ? 'start' : 'end';
      const record = session.boundary(kind, e.episode, stampNs, e.reason, dropped());
      if (kind === 'start') node.logger.info(`episode ${e.episode} started: task '${session.task}'`);
      if (record) onEpisodeEnd(record);
    };
    let schedule: EpisodeSchedule | undefined;
    let publishEpisode: ((e: ScheduledEvent) => void) | undefined;
    if (p.episodes === 'auto') {
      schedule = new EpisodeSchedule({ episodeSeconds: p.episode_s, resetSeconds: p.reset_s, count: p.num_episodes });
      const publisher = node.createPublisher('dynastack_msgs/msg/EpisodeEvent', p.episode_topic, QOS_EPISODE_EVENTS);
      publishEpisode = (e) => {
        if (e.kind === 'done') return;
        const message = {
          header: { stamp: nsToTime(node.clock.now()), frame_id: '' },
          episode: e.episode,
          event: e.kind === 'start' ? EpisodeEventKind.START : EpisodeEventKind.END,
          reason: e.kind === 'end' ? e.reason : '',
        };
        const cdr = episodeCodec.encode(message);
        publisher.publish(message);
        onBoundary(cdr);
      };
    } else if (p.episodes === 'topic') {
      node.createRawSubscription('dynastack_msgs/msg/EpisodeEvent', p.episode_topic, onBoundary, {
        qos: { ...QOS_EPISODE_EVENTS, depth: Math.max(QOS_EPISODE_EVENTS.depth, 100) },
      });
    }
    if (p.task_topic)
      node.createSubscription('std_msgs/msg/String', p.task_topic, (m) => {
        session.setTask(m.data);
        node.logger.info(`task of the next episodes: '${m.data}'`);
      });

    node.logger.info(
      `recording ${topics.length} topics to ${writer.path} (${p.compression}, chunks of at most ${p.max_chunk_ms} ms)`,
    );
    let timer: Timer | undefined;
    return {
      finished,
      activate: () => {
        if (schedule && publishEpisode) {
          const tick = (): void => {
            for (const e of schedule.tick(node.clock.now())) publishEpisode(e);
          };
          tick();
          timer = node.createTimer(secondsToNs(0.01), tick);
        }
      },
      deactivate: () => {
        timer?.cancel();
        timer = undefined;
        if (schedule && publishEpisode) for (const e of schedule.stop()) publishEpisode(e);
      },
      cleanup: async () => {
        const summary = writer.close();
        await writingEpisodes;
        node.logger.info(`bag closed: ${summary.messageCount} messages in ${writer.path}`);
      },
      summary: () =>
        `${session.messages} messages to ${writer.path}; ${kept().length} episodes kept, ` +
        `${session.episodes.length - kept().length} dropped`,
      metrics: () => {
        const last = session.episodes.at(-1)?.cadence;
        return {
          bag: writer.path,
          messages: session.messages,
          episodes_kept: kept().length,
          episodes_dropped: session.episodes.length - kept().length,
          ...(last
            ? {
                last_cadence_hz: last.achievedHz,
                last_within_budget: last.withinBudget,
                last_dropped: last.dropped,
              }
            : {}),
        };
      },
    };
  },
});
