import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BagReader } from '../framework/bag/bag_reader.js';
import { recordedStreams, type RecordedStreams } from '../framework/bag/recorded_streams.js';
import { cutEpisodes } from '../src/data/lerobot/episodes.js';
import { frameTimeNs, resampleEpisode } from '../src/data/lerobot/resample.js';
import { readLeRobotDataset, readLeRobotMeta } from '../src/data/lerobot/reader.js';
import { ACTION, INFO_PATH, OBS_STATE } from '../src/data/lerobot/format.js';
import { ReplayBuffer } from '../src/data/replay_buffer.js';
import { TransitionCollector } from '../src/dynamics/transition_collector.js';
import { learnerEncoding, type LoadedBufferFile } from '../src/dynamics/buffer_file.js';

// The dynamics learner's `dataset`: recorded transitions to train on before (and keep with) the
// online data, at the learner's own control period and in its state layout. Two sources:
//   - a rosbag2 bag (folder or .mcap) the recorder wrote: its state, command and episode streams
//     (framework/bag/recorded_streams.ts), cut into the kept episodes (discarded takes left out,
//     src/data/lerobot/episodes.ts), each resampled onto the learner's period grid from its start
//     (src/data/lerobot/resample.ts: the state and the command in force at each tick, a zero-order
//     hold), as `dynastack dataset export` makes a LeRobot dataset at that fps;
//   - a LeRobot v3.0 dataset folder (it has meta/info.json), e.g. that export, whose fps must be the
//     learner's rate: a transition spans one frame.
// Either way an episode's frames k and k+1 with frame k's action make a transition (LeRobot's
// convention: the action sent at tick k is held until k+1; record_loop in LeRobot's
// scripts/lerobot_record.py), built and encoded by the learner's own collector
// (src/dynamics/transition_collector.ts), one episode at a time, so none crosses an episode.
// The state's names say its layout (<joint>.pos then <joint>.vel, as recorded_streams.ts and the
// exporter name them); the learner's joints must all be there, with velocities.

export interface LearnerDatasetOptions {
  /** the learner's rate: a whole number of ticks per second (the grid's fps) */
  readonly rateHz: number;
  readonly periodNs: bigint;
  /** the learner's joints, in order; empty: the dataset's */
  readonly joints: readonly string[];
  readonly angleJoints: readonly string[];
  /** transitions kept (the newest, when the dataset holds more) */
  readonly capacity: number;
  /** a bag's state topic (a sensor_msgs/JointState), the first of these that the bag has */
  readonly stateTopics: readonly string[];
  /** a bag's command topic, the first of these that the bag has */
  readonly commandTopics: readonly string[];
  readonly episodeTopic: string;
  /** lines worth a warning (silences in a stream, messages not used) */
  readonly warn?: (line: string) => void;
}

export interface LearnerDataset extends LoadedBufferFile {
  readonly kind: 'bag' | 'lerobot';
  /** episodes that gave transitions */
  readonly episodes: number;
  /** takes the recording threw away (a bag's discarded episodes) */
  readonly discarded: number;
  /** transitions made (the buffer holds at most its capacity of them) */
  readonly transitions: number;
  /** what the transitions span: transitions × period */
  readonly seconds: number;
  /** where the data came from, for the log (the bag's topics, or the dataset's fps) */
  readonly from: string;
}

/** One episode on the learner's grid: a frame per tick, each the state [q, q̇] (the dataset's layout) and the action. */
interface GridEpisode {
  readonly states: readonly ArrayLike<number>[];
  readonly actions: readonly ArrayLike<number>[];
}

/** Load `path` (a bag, or a LeRobot dataset folder) as the learner's transitions; throws one line naming the cause. */
export async function loadLearnerDataset(path: string, options: LearnerDatasetOptions): Promise<LearnerDataset> {
  if (!existsSync(path)) throw new Error(`dataset ${path}: no such bag or dataset folder`);
  const fps = options.rateHz;
  if (!Number.isSafeInteger(fps))
    throw new Error(
      `dataset ${path}: rate_hz ${fps} is not a whole number of ticks per second, which the recorded data's grid needs`,
    );
  return existsSync(join(path, INFO_PATH)) ? loadLeRobot(path, options) : loadBag(path, options);
}

async function loadBag(path: string, options: LearnerDatasetOptions): Promise<LearnerDataset> {
  const reader = await BagReader.open(path);
  let streams: RecordedStreams;
  let topics: string;
  try {
    for (const r of reader.recovery)
      options.warn?.(
        `dataset ${path}: ${r.reason}; read without the index (${r.recoveredMessages} messages recovered)`,
      );
    const stateTopic = firstIn(reader, options.stateTopics, 'sensor_msgs/msg/JointState');
    const actionTopic = firstIn(reader, options.commandTopics);
    topics = `state ${stateTopic}, commands ${actionTopic}`;
    streams = await recordedStreams(reader, {
      stateTopic,
      actionTopic,
      episodeTopic: options.episodeTopic,
      stateFields: 'position_velocity',
    });
  } finally {
    reader.close();
  }
  if (streams.skippedCount)
    options.warn?.(
      `dataset ${path}: ${streams.skippedCount} messages not used, e.g. ${streams.skipped.slice(0, 3).join('; ')}`,
    );
  if (!streams.state.length) throw new Error(`dataset ${path}: no usable state on the bag's state topic (${topics})`);
  const layout = stateLayout(path, streams.stateNames, options.joints);
  // every kept episode has a task for the cutter; the learner does not use it
  const cut = cutEpisodes({ state: streams.state, action: streams.action, events: streams.events, defaultTask: '-' });
  const episodes: GridEpisode[] = [];
  for (const e of cut.episodes) {
    if (!e.action.length) {
      options.warn?.(`dataset ${path}: episode ${e.sourceEpisode} has no command: left out`);
      continue;
    }
    const { frames, gaps } = resampleEpisode(
      { state: e.state, action: e.action },
      { fps: options.rateHz, startNs: e.startNs, endNs: e.endNs },
    );
    for (const g of gaps)
      options.warn?.(
        `dataset ${path}: episode ${e.sourceEpisode}: ${g.stream} silent for ${g.frames} ticks from tick ${g.firstFrame}`,
      );
    episodes.push({ states: frames.map((f) => f.state), actions: frames.map((f) => f.action) });
  }
  return collect(path, 'bag', topics, layout, episodes, cut.discarded.length, options);
}

async function loadLeRobot(path: string, options: LearnerDatasetOptions): Promise<LearnerDataset> {
  const meta = await readLeRobotMeta(path);
  if (meta.info.fps !== options.rateHz)
    throw new Error(
      `dataset ${path}: recorded at ${meta.info.fps} fps, but rate_hz is ${options.rateHz}: a transition must span one control period (export it again with --fps ${options.rateHz})`,
    );
  const names = meta.info.features[OBS_STATE]?.names;
  if (!names) throw new Error(`dataset ${path}: its '${OBS_STATE}' feature names no joints (info.json)`);
  const layout = stateLayout(path, names, options.joints);
  const dataset = await readLeRobotDataset(path);
  const episodes: GridEpisode[] = [];
  for (const ep of dataset.frames) {
    const s = ep.values.get(OBS_STATE);
    const a = ep.values.get(ACTION);
    if (!s || !a) throw new Error(`dataset ${path}: no numeric '${OBS_STATE}' and '${ACTION}' features to learn from`);
    const nx = s.length / ep.length;
    const nu = a.length / ep.length;
    episodes.push({
      states: Array.from({ length: ep.length }, (_, k) => s.subarray(k * nx, (k + 1) * nx)),
      actions: Array.from({ length: ep.length }, (_, k) => a.subarray(k * nu, (k + 1) * nu)),
    });
  }
  return collect(path, 'lerobot', `${meta.info.fps} fps`, layout, episodes, 0, options);
}

/** The first of `topics` the bag has (of `type`, when given); else one line listing what it has. */
function firstIn(reader: BagReader, topics: readonly string[], type?: string): string {
  const slash = (t: string): string => (t.startsWith('/') ? t : `/${t}`);
  const found = topics.map(slash).find((t) => reader.topics.some((x) => x.name === t && (!type || x.type === type)));
  if (!found)
    throw new Error(
      `dataset ${reader.path}: none of ${topics.map(slash).join(', ')} is in the bag${type ? ` as a ${type}` : ''} (topics: ${reader.topics.map((t) => t.name).join(', ')})`,
    );
  return found;
}

interface StateLayout {
  readonly joints: readonly string[];
  /** for each of the learner's joints, where its position and its velocity are in the dataset's state */
  readonly position: Int32Array;
  readonly velocity: Int32Array;
}

/** Where the learner's joints are in a state named `names` (<joint>.pos …, <joint>.vel …); throws on a mismatch. */
export function stateLayout(path: string, names: readonly string[], learnerJoints: readonly string[]): StateLayout {
  const recorded = names.filter((n) => n.endsWith('.pos')).map((n) => n.slice(0, -'.pos'.length));
  const joints = learnerJoints.length ? learnerJoints : recorded;
  const missing = joints.filter((j) => !names.includes(`${j}.pos`));
  if (missing.length || !joints.length)
    throw new Error(
      `dataset ${path}: its joints [${recorded.join(', ')}] are not the learner's [${joints.join(', ')}] (parameter 'joints'${missing.length ? `; missing ${missing.join(', ')}` : ''})`,
    );
  const noVelocity = joints.filter((j) => !names.includes(`${j}.vel`));
  if (noVelocity.length)
    throw new Error(
      `dataset ${path}: its state has no velocity of ${noVelocity.join(', ')} (the learner's state is [q, q̇]; state names: ${names.join(', ')})`,
    );
  return {
    joints,
    position: Int32Array.from(joints, (j) => names.indexOf(`${j}.pos`)),
    velocity: Int32Array.from(joints, (j) => names.indexOf(`${j}.vel`)),
  };
}

/** The episodes' transitions through the learner's collector, one episode at a time, into one buffer. */
function collect(
  path: string,
  kind: 'bag' | 'lerobot',
  from: string,
  layout: StateLayout,
  episodes: readonly GridEpisode[],
  discarded: number,
  options: LearnerDatasetOptions,
): LearnerDataset {
  const actionSize = episodes.find((e) => e.actions.length)?.actions[0]!.length;
  if (!actionSize) throw new Error(`dataset ${path}: no episode with a command to learn from`);
  const encoding = learnerEncoding(layout.joints, options.angleJoints);
  const buffer = new ReplayBuffer({
    capacity: options.capacity,
    stateSize: encoding.size,
    actionSize,
    meta: { ...encoding.toMetadata(), period_ns: Number(options.periodNs), dataset: path },
  });
  const loaded = { buffer, encoding };
  const n = layout.joints.length;
  const position = new Float64Array(n);
  const velocity = new Float64Array(n);
  let transitions = 0;
  let used = 0;
  for (const episode of episodes) {
    if (episode.actions.some((a) => a.length !== actionSize))
      throw new Error(`dataset ${path}: commands of ${actionSize} and of other numbers of values`);
    // a collector per episode: its stamps start again from 0, and no transition pairs two episodes
    const collector = new TransitionCollector({
      periodNs: options.periodNs,
      capacity: options.capacity,
      joints: layout.joints,
      angleJoints: options.angleJoints,
      loaded,
    });
    episode.states.forEach((s, k) => {
      const stampNs = frameTimeNs(0n, options.rateHz, k);
      for (let i = 0; i < n; i++) {
        position[i] = s[layout.position[i]!]!;
        velocity[i] = s[layout.velocity[i]!]!;
      }
      collector.addState({ stampNs, names: layout.joints, position, velocity });
      // the action of tick k is held over the step to k + 1: stamped at k, it pairs states k and k + 1
      collector.addCommand(stampNs, episode.actions[k]!);
    });
    transitions += collector.counts.transitions;
    if (collector.counts.transitions) used++;
  }
  if (!transitions) throw new Error(`dataset ${path}: no episode is long enough for a transition`);
  const seconds = (transitions * Number(options.periodNs)) / 1e9;
  return { buffer, encoding, kind, episodes: used, discarded, transitions, seconds, from };
}

/** The line the learner logs about what it loaded. */
export function datasetLine(path: string, d: LearnerDataset): string {
  const kept = d.buffer.size < d.transitions ? ` (the newest ${d.buffer.size} kept: buffer_capacity)` : '';
  return (
    `dataset ${path} (${d.kind === 'bag' ? 'bag' : 'LeRobot v3.0'}, ${d.from}): ${d.episodes} episodes` +
    (d.discarded ? ` (${d.discarded} discarded left out)` : '') +
    `, ${d.transitions} transitions${kept}, ${d.seconds.toFixed(1)} s of data, state ${d.encoding.describe()}`
  );
}

/** `b`'s transitions appended to `a`'s (same layout, else one line naming the two). */
export function appendTransitions(a: ReplayBuffer, b: ReplayBuffer, what: string): void {
  if (a.stateSize !== b.stateSize || a.actionSize !== b.actionSize)
    throw new Error(
      `${what}: states of ${b.stateSize} and commands of ${b.actionSize} values, the dataset's ${a.stateSize} and ${a.actionSize}`,
    );
  const d = b.toTransitionData();
  const S = b.stateSize;
  const A = b.actionSize;
  for (let i = 0; i < d.n; i++)
    a.add({
      state: d.states.subarray(i * S, (i + 1) * S),
      action: d.actions.subarray(i * A, (i + 1) * A),
      nextState: d.nextStates.subarray(i * S, (i + 1) * S),
    });
}

export interface StartingData {
  /** what the collector starts from: the dataset's transitions then the earlier run's, or either */
  readonly loaded: LoadedBufferFile | undefined;
  /** the dataset was loaded now: no model has learned from it yet */
  readonly fresh: boolean;
}

/**
 * The learner's data at configure: the dataset's transitions first, then those of an earlier run
 * (`earlier`, buffer_file with resume). A buffer_file saved by a run with this dataset holds it
 * already (its header names it): the dataset is not loaded again.
 */
export async function startingData(
  path: string,
  options: LearnerDatasetOptions,
  earlier: LoadedBufferFile | undefined,
  info: (line: string) => void,
): Promise<StartingData> {
  if (earlier && earlier.buffer.meta['dataset'] === path) {
    info(`dataset ${path}: already in buffer_file (saved by a run with it): not loaded again`);
    return { loaded: earlier, fresh: false };
  }
  const joints = options.joints.length ? options.joints : (earlier?.encoding.joints ?? []);
  const dataset = await loadLearnerDataset(path, { ...options, joints });
  info(datasetLine(path, dataset));
  if (earlier) appendTransitions(dataset.buffer, earlier.buffer, `dataset ${path} with buffer_file`);
  return { loaded: dataset, fresh: true };
}
