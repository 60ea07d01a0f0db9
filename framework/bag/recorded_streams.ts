import { codecFor } from '../msgs/codec.js';
import { EpisodeEventKind } from '../msgs/types.js';
import { timeToNs } from '../time/time.js';
import type { BagReader } from './bag_reader.js';

// What a recorded session holds for learning, out of its bag: the robot's state stream (a
// sensor_msgs/JointState topic, stamped by its headers: joint positions, and velocities when asked),
// the command stream (std_msgs/Float64MultiArray forward commands, stamped on arrival as they carry
// no header, or a stamped sensor_msgs/JointState command), and the episodes (dynastack_msgs/
// EpisodeEvent on the episode topic, each START with the task the recorder wrote at its stamp on
// /recorder/task, each END kept or not by its reason). Plain arrays out, in the shapes
// src/data/lerobot's episode cutter and resampler take, so an exporter joins the two.

export interface RecordedSample {
  readonly stampNs: bigint;
  readonly values: Float64Array;
}

export interface RecordedEpisodeEvent {
  readonly kind: 'start' | 'end';
  readonly stampNs: bigint;
  readonly episode: number;
  readonly task?: string;
  readonly discard?: boolean;
}

export interface RecordedStreams {
  readonly stateNames: string[];
  readonly actionNames: string[];
  readonly state: RecordedSample[];
  readonly action: RecordedSample[];
  readonly events: RecordedEpisodeEvent[];
  /** messages that could not be used, with why (one line each, at most 10 kept) */
  readonly skipped: string[];
  readonly skippedCount: number;
}

export interface StreamOptions {
  /** the joint-state topic (default /joint_states) */
  readonly stateTopic?: string;
  /** the joints of the state, in order (default: the first message's) */
  readonly joints?: readonly string[];
  /** positions only, or positions then velocities (default) */
  readonly stateFields?: 'position' | 'position_velocity';
  /** the command topic (default /forward_command_controller/commands) */
  readonly actionTopic?: string;
  /** names of the command's values (default: u0, u1, …; a JointState command names its own) */
  readonly actionNames?: readonly string[];
  /** the episode topic (default /episode) */
  readonly episodeTopic?: string;
  /** the task topic the recorder writes (default /recorder/task) */
  readonly taskTopic?: string;
  /** END reasons of takes that are thrown away (default discard, rerecord) */
  readonly droppedReasons?: readonly string[];
}

const slash = (t: string): string => (t.startsWith('/') ? t : `/${t}`);

/** Read the streams of one bag; throws one line when the state or command topic is missing. */
export async function recordedStreams(reader: BagReader, options: StreamOptions = {}): Promise<RecordedStreams> {
  const stateTopic = slash(options.stateTopic ?? '/joint_states');
  const actionTopic = slash(options.actionTopic ?? '/forward_command_controller/commands');
  const episodeTopic = slash(options.episodeTopic ?? '/episode');
  const taskTopic = slash(options.taskTopic ?? '/recorder/task');
  const dropped = new Set(options.droppedReasons ?? ['discard', 'rerecord']);
  const withVelocity = (options.stateFields ?? 'position_velocity') === 'position_velocity';
  const typeOf = new Map(reader.topics.map((t) => [t.name, t.type]));
  const stateType = typeOf.get(stateTopic);
  const actionType = typeOf.get(actionTopic);
  if (stateType !== 'sensor_msgs/msg/JointState')
    throw new Error(
      `${reader.path}: the state topic ${stateTopic} is ${stateType ? `a ${stateType}, not a sensor_msgs/msg/JointState` : 'not in the bag'} (topics: ${[...typeOf.keys()].join(', ')})`,
    );
  if (actionType !== 'std_msgs/msg/Float64MultiArray' && actionType !== 'sensor_msgs/msg/JointState')
    throw new Error(
      `${reader.path}: the command topic ${actionTopic} is ${actionType ? `a ${actionType}, not a Float64MultiArray or JointState` : 'not in the bag'}`,
    );

  const jointStates = codecFor('sensor_msgs/msg/JointState');
  const arrays = codecFor('std_msgs/msg/Float64MultiArray');
  const episodeEvents = codecFor('dynastack_msgs/msg/EpisodeEvent');
  const strings = codecFor('std_msgs/msg/String');
  let joints = options.joints ? [...options.joints] : undefined;
  let actionNames = options.actionNames ? [...options.actionNames] : undefined;
  const state: RecordedSample[] = [];
  const action: RecordedSample[] = [];
  const events: RecordedEpisodeEvent[] = [];
  const skipped: string[] = [];
  let skippedCount = 0;
  const skip = (line: string): void => {
    skippedCount++;
    if (skipped.length < 10) skipped.push(line);
  };

  /** values of `names` out of a JointState's field, or a reason it has not got them */
  const pick = (
    names: readonly string[],
    msgNames: readonly string[],
    field: ArrayLike<number>,
  ): Float64Array | string => {
    const out = new Float64Array(names.length);
    for (let i = 0; i < names.length; i++) {
      const k = msgNames.indexOf(names[i]!);
      if (k < 0 || k >= field.length) return `joint '${names[i]}' missing`;
      out[i] = field[k]!;
    }
    return out;
  };

  for await (const m of reader.messages({ topics: [stateTopic, actionTopic, episodeTopic] })) {
    try {
      if (m.topic === stateTopic) {
        const js = jointStates.decode(m.data);
        joints ??= [...js.name];
        const q = pick(joints, js.name, js.position);
        const v = withVelocity ? pick(joints, js.name, js.velocity) : new Float64Array(0);
        if (typeof q === 'string' || typeof v === 'string') {
          skip(`state at ${m.logTimeNs} ns: ${typeof q === 'string' ? q : (v as string)}`);
          continue;
        }
        const values = new Float64Array(q.length + v.length);
        values.set(q);
        values.set(v, q.length);
        if (!values.every(Number.isFinite)) {
          skip(`state at ${m.logTimeNs} ns: a non-finite value`);
          continue;
        }
        state.push({ stampNs: timeToNs(js.header.stamp), values });
      } else if (m.topic === actionTopic) {
        let values: Float64Array;
        let stampNs = m.logTimeNs;
        if (actionType === 'sensor_msgs/msg/JointState') {
          const js = jointStates.decode(m.data);
          actionNames ??= [...js.name];
          const u = pick(actionNames, js.name, js.effort.length ? js.effort : js.position);
          if (typeof u === 'string') {
            skip(`command at ${m.logTimeNs} ns: ${u}`);
            continue;
          }
          values = u;
          stampNs = timeToNs(js.header.stamp);
        } else {
          values = Float64Array.from(arrays.decode(m.data).data);
          actionNames ??= Array.from(values, (_, i) => `u${i}`);
          if (values.length !== actionNames.length) {
            skip(`command at ${m.logTimeNs} ns: ${values.length} values for ${actionNames.length} names`);
            continue;
          }
        }
        if (!values.every(Number.isFinite)) {
          skip(`command at ${m.logTimeNs} ns: a non-finite value`);
          continue;
        }
        action.push({ stampNs, values });
      } else {
        const e = episodeEvents.decode(m.data);
        const stampNs = timeToNs(e.header.stamp);
        if (e.event === EpisodeEventKind.START) events.push({ kind: 'start', stampNs, episode: e.episode });
        else
          events.push({
            kind: 'end',
            stampNs,
            episode: e.episode,
            ...(dropped.has(e.reason) ? { discard: true } : {}),
          });
      }
    } catch (err) {
      skip(`${m.topic} at ${m.logTimeNs} ns: ${(err as Error).message}`);
    }
  }
  // the recorder writes a START's task at the START's stamp, which can come after the START's
  // message in log time: give each START the newest task written at or before its stamp
  if (events.some((e) => e.kind === 'start')) {
    const tasks: { stampNs: bigint; task: string }[] = [];
    for await (const m of reader.messages({ topics: [taskTopic] }))
      tasks.push({ stampNs: m.logTimeNs, task: strings.decode(m.data).data });
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.kind !== 'start') continue;
      const t = tasks.filter((x) => x.stampNs <= e.stampNs).at(-1);
      if (t) events[i] = { ...e, task: t.task };
    }
  }
  return {
    stateNames: [
      ...(joints ?? []).map((j) => `${j}.pos`),
      ...(withVelocity ? (joints ?? []).map((j) => `${j}.vel`) : []),
    ],
    actionNames: actionNames ?? [],
    state,
    action,
    events,
    skipped,
    skippedCount,
  };
}
