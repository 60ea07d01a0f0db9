import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams, type ParamValues } from '../src/util/param_schema.js';
import { MISSING_TICK_FACTOR, type StateInput } from '../src/data/transitions.js';
import { STATE_COMMAND_PARAMETERS, subscribeStateAndCommand } from '../framework/transport/state_command_inputs.js';
import { diagnosticArray } from '../framework/msgs/diagnostics.js';
import { EpisodeEventKind, type EpisodeEvent, type ModelBlob } from '../framework/msgs/types.js';
import { TrainingClient, type TrainingRequest, type TrainingResult } from '../src/dynamics/training_client.js';
import { loadBufferFile, type LoadedBufferFile } from '../src/dynamics/buffer_file.js';
import type { ReplayBuffer } from '../src/data/replay_buffer.js';
import type { NodeHandle } from '../framework/transport/types.js';
import { TransitionCollector } from '../src/dynamics/transition_collector.js';
import { RetrainingSchedule } from '../src/dynamics/retraining.js';
import { dynamicsModel, resumedModel, type DynamicsModel } from '../src/dynamics/model_blob.js';
import { LearnerFiles, loadModelDir, type LoadedModel } from '../src/dynamics/learner_files.js';
import {
  learnerFigures,
  learnerHealth,
  learnerMetrics,
  learnerSummary,
  modelLine,
} from '../src/dynamics/learner_report.js';
import type { EnsembleConfig } from '../src/dynamics/ensemble.js';
import type { TensorBackendKind } from '../src/tensor/backend.js';
import { nsToTime, periodNsFromHz, timeToNs } from '../framework/time/time.js';
import { QOS_DATA_STREAM, QOS_EPISODE_EVENTS, QOS_LATCHED } from '../framework/transport/qos.js';
import { StateHold } from '../src/data/state_hold.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle } from '../src/util/log.js';
import { startingData } from './learner_dataset.js';
import type { Timer } from '../framework/time/clock.js';

// Learns the robot's dynamics from what it does: control-period transitions (s, a, s′) from the
// state and command streams go into a replay buffer (src/dynamics/transition_collector.ts), never
// pairing states across an episode boundary that the source declares on episode_topic; every
// retrain_every new transitions, or at every episode end (retrain_on: episode, PETS's loop), a
// probabilistic ensemble is (re)trained on all of it in a worker thread
// (src/dynamics/retraining.ts), and each new version is published on /dynamics/model, latched
// (transient local), so that a controller started later gets the newest.
// A command's tick is its stamp: set by its source with command_type JointState, else this node's
// clock when it is handled. A state is used once a command stamped at or after it has come
// (src/data/state_hold.ts): across processes the command of tick k can be handled after the state
// of tick k+1, and neither the order of arrival nor the clock says which tick a command was for.
// The state and command subscriptions keep 1000 messages (QOS_DATA_STREAM), so a learner that falls behind
// (a save, a model published, a loaded machine) loses none of a lockstep run's ticks.
// s = [q, q̇] in `joints` order with each of `angle_joints` as (sin q, cos q)
// (src/dynamics/state_encoding.ts), a = the command values as sent. A model's metadata says its
// state layout (training.joints, angle_joints, state) and the stamp of the newest state it was
// trained on (training.data_end_ns, src/dynamics/model_blob.ts), so a controller can wait for the
// model of the last episode.
// What survives a kill (src/dynamics/learner_files.ts, every write atomic): the buffer is saved to
// buffer_file at every episode end (before the training on it starts, so a published model's data
// is on disk) and every save_period_s, the newest model to model_dir after each training (a TF.js
// model folder with the metadata). With resume a run starts from them: the buffer's transitions,
// and the model, published at activation (as trained on none of this run's states: its clock starts
// anew), trained on from and numbered on from; without, the earlier run's files are removed.
// A recorded `dataset` (a bag, or a LeRobot v3.0 dataset; nodes/learner_dataset.ts) is loaded at
// configure as transitions at this node's period, put before the online data and kept with it; a
// first model is trained on it at activation, before any online data.

const parameters = defineParams({
  joints: {
    type: 'string_array',
    default: [],
    description:
      'joints of the state s = [q, q̇], in order; empty: those of the first state received (or of buffer_file)',
  },
  angle_joints: {
    type: 'string_array',
    default: [],
    description:
      'joints (of `joints`) whose position the model sees as (sin q, cos q): unlimited hinges, so one pole whatever the number of turns',
  },
  ...STATE_COMMAND_PARAMETERS,
  episode_topic: {
    type: 'string',
    default: 'episode',
    nonEmpty: true,
    description:
      'dynastack_msgs/EpisodeEvent: where episodes start and end (the sim bridge declares them); no transition pairs states across one',
  },
  rate_hz: {
    type: 'double',
    default: 100,
    range: [1, 2000],
    description: `the control rate: one transition spans one period; states further apart than ${MISSING_TICK_FACTOR} periods do not pair (a missing tick)`,
  },
  buffer_capacity: {
    type: 'integer',
    default: 100_000,
    range: [1, 10_000_000],
    description: 'transitions kept; the oldest is dropped when full',
  },
  retrain_on: {
    type: 'string',
    default: 'transitions',
    choices: ['transitions', 'episode'],
    description:
      'when to train: every retrain_every new transitions, or at every episode end (an END on episode_topic, once the states through it have come), on all data so far',
  },
  retrain_every: {
    type: 'integer',
    default: 1000,
    range: [1, 10_000_000],
    description: "retrain_on 'transitions': train again after this many new transitions",
  },
  min_transitions: {
    type: 'integer',
    default: 1000,
    range: [2, 10_000_000],
    description: 'no training before the buffer holds this many transitions',
  },
  'ensemble.members': {
    type: 'integer',
    default: 5,
    range: [1, 100],
    description: 'networks in the bootstrap ensemble',
  },
  'ensemble.hidden': {
    type: 'integer_array',
    default: [200, 200, 200],
    range: [1, 4096],
    description: 'hidden layer widths of each member',
  },
  'ensemble.elites': {
    type: 'integer',
    default: 3,
    range: [1, 100],
    description: 'members with the lowest validation loss that predictions use (at most ensemble.members)',
  },
  'ensemble.probabilistic': {
    type: 'bool',
    default: true,
    description:
      'predict a mean and a bounded log-variance of the state delta (Gaussian NLL); false: the mean only (MSE)',
  },
  'ensemble.learning_rate': { type: 'double', default: 1e-3, range: [1e-7, 1], description: 'Adam learning rate' },
  'training.epochs': {
    type: 'integer',
    default: 100,
    range: [1, 100_000],
    description: 'most epochs per training (early stopping usually ends it sooner)',
  },
  'training.batch_size': { type: 'integer', default: 256, range: [1, 100_000], description: 'minibatch size' },
  'training.patience': {
    type: 'integer',
    default: 5,
    range: [1, 100_000],
    description: 'stop after this many epochs without a better validation loss',
  },
  'training.holdout_ratio': {
    type: 'double',
    default: 0.2,
    range: [0, 0.9],
    description: 'fraction of the data held out for validation and elite selection',
  },
  'training.max_updates': {
    type: 'integer',
    default: 0,
    range: [0, 100_000_000],
    description: 'most gradient steps per training; 0: no limit',
  },
  buffer_file: {
    type: 'string',
    default: '',
    description:
      "'' : keep transitions in memory only; else loaded at configure when it exists (with resume), saved at every episode end, every save_period_s and at cleanup, atomically (absolute, or relative to the package root)",
  },
  dataset: {
    type: 'string',
    default: '',
    description:
      "'' : none; else recorded transitions to train on first (kept with the online data): a rosbag2 bag (folder or .mcap: state_topic if a JointState, else joint_states; command_topic, else forward_command_controller/commands; episode_topic), resampled to rate_hz, or a LeRobot v3.0 dataset folder (meta/info.json) at rate_hz fps; state names <joint>.pos/.vel (absolute, or relative to the package root)",
  },
  model_dir: {
    type: 'string',
    default: '',
    description:
      "'' : models are only published; else the newest is saved in this folder after each training, atomically (TF.js model.json + weights.bin, the metadata included), and loaded at configure with resume and published at activation (absolute, or relative to the package root)",
  },
  save_period_s: {
    type: 'double',
    default: 30,
    range: [0, 86_400],
    description:
      'with buffer_file: also save the buffer this often (steady clock) while it has new transitions; 0: at episode ends and cleanup only',
  },
  resume: {
    type: 'bool',
    default: true,
    description:
      "start from buffer_file and model_dir when they exist; false: start empty, and the earlier run's files there are removed at configure",
  },
  seed: {
    type: 'integer',
    default: 0,
    range: [0, 2 ** 31 - 1],
    description: 'seed of weight initialisation, bootstrap and minibatches',
  },
  backend: {
    type: 'string',
    default: '',
    choices: ['', 'wasm', 'cpu'],
    description: "tensor backend of the training worker: '' the fastest that starts, or force 'wasm' or 'cpu'",
  },
  diagnostics_period_s: {
    type: 'double',
    default: 1,
    range: [0.01, 3600],
    description: 'how often /diagnostics is published (steady clock)',
  },
});

export default defineNode({
  name: 'dynamics_learner',
  description:
    'learns a probabilistic ensemble dynamics model from state and command streams and publishes each version on /dynamics/model',
  parameters,
  async configure(node, p) {
    checkParameters(p);
    const periodNs = periodNsFromHz(p.rate_hz);
    const files = new LearnerFiles({
      bufferFile: p.buffer_file ? packagePath(p.buffer_file) : '',
      modelDir: p.model_dir ? packagePath(p.model_dir) : '',
      saved: (what) => node.logger.debug(`saved ${what}`),
    });
    const stale = files.removeStale();
    if (stale.length) node.logger.info(`removed what killed saves left: ${stale.join(', ')}`);
    if (!p.resume) {
      const earlier = files.removeEarlier();
      if (earlier.length) node.logger.warn(`resume is false: removed the earlier run's ${earlier.join(', ')}`);
    }
    // transitions of an earlier run, when there are any: they fix the joints and the action size
    const loaded = files.bufferFile && p.resume ? loadEarlierRun(node, p, files.bufferFile, periodNs) : undefined;
    if (loaded) files.loadedBuffer(loaded.buffer);
    // a recorded dataset's transitions, before those
    const start = p.dataset ? await loadDataset(node, p, periodNs, loaded) : { loaded, fresh: false };
    // the model of an earlier run, to publish at activation and train on from
    const loadedModel =
      files.modelDir && p.resume ? await loadEarlierModel(node, p, files.modelDir, periodNs, loaded) : undefined;
    const resumed = loadedModel?.usable ? loadedModel.model : undefined;
    const collector = new TransitionCollector({
      periodNs,
      capacity: p.buffer_capacity,
      joints: p.joints.length ? p.joints : (loadedModel?.encoding.joints ?? []),
      angleJoints: p.angle_joints,
      loaded: start.loaded,
    });
    const client = trainingClient(node, p);
    const models = node.createPublisher('dynastack_msgs/msg/ModelBlob', '/dynamics/model', QOS_LATCHED);
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    const warnings = new Throttle(5000);
    const settings = {
      probabilistic: p['ensemble.probabilistic'],
      firstModelAfter: Math.max(p.min_transitions, p.retrain_every),
    };
    let active = false;

    const schedule = new RetrainingSchedule<TrainingResult, DynamicsModel>(
      { on: p.retrain_on as 'transitions' | 'episode', every: p.retrain_every, minTransitions: p.min_transitions },
      {
        size: () => collector.buffer?.size ?? 0,
        train: async () => {
          // the data of this training (taken now), and the loaded model to go on from until this run has one
          const request = trainingRequest(p, collector.buffer!, schedule.made === 0 ? resumed : undefined);
          // the buffer saved at the episode's end is on disk before a model of it can be published
          await files.idle();
          return client.train(request);
        },
        model: (result, version, dataEndNs) => {
          const model = dynamicsModel(result, version, { encoding: collector.encoding!, periodNs }, dataEndNs);
          files.saveModel(model).catch(saveFailed);
          return model;
        },
        publish: publishModel,
        failed: (message) => {
          node.logger.error(message);
          publishDiagnostics();
        },
        episodeEnded: saveBuffer,
      },
      start.loaded?.buffer.size ?? 0,
      resumed?.version ?? 0,
    );
    // a first model of the dataset at activation, whatever retrain_on says
    if (start.fresh) schedule.trainNow();
    const figures = () => learnerFigures(collector, schedule, client.busy, resumed?.version ?? 0);
    let resumedPublished = false;

    function saveFailed(err: unknown): void {
      node.logger.error(err instanceof Error ? err.message : String(err));
    }
    function saveBuffer(): void {
      if (collector.buffer) files.saveBuffer(collector.buffer).catch(saveFailed);
    }

    function publishModel(model: DynamicsModel): void {
      models.publish(modelBlob(model, node.clock.now()));
      node.logger.info(modelLine(model.version, schedule.last!, settings));
      publishDiagnostics();
    }
    function publishDiagnostics(): void {
      if (!active) return;
      const report = learnerHealth(`${node.name}: dynamics learning`, figures(), settings);
      diagnostics.publish(diagnosticArray(node.clock.now(), [report]));
    }
    // states wait for the command in force over them (a command stamped at or after them)
    const hold = new StateHold<StateInput>(QOS_DATA_STREAM.depth);
    function onState(input: StateInput): void {
      for (const s of hold.state(input.stampNs, input)) useState(s);
    }
    function useState(input: StateInput): void {
      const { outcome, started } = collector.addState(input);
      if (started) node.logger.info(collector.describe());
      if (outcome.status === 'transition') schedule.transitionAdded(input.stampNs);
      else if ('reason' in outcome && outcome.status !== 'duplicate' && outcome.status !== 'too_soon') {
        if (warnings.allow(outcome.status))
          node.logger.warn(
            `state on ${p.state_topic} not used, ${outcome.status.replace('_', ' ')}: ${outcome.reason}`,
          );
      }
      schedule.stateSeen(input.stampNs);
    }
    function onEpisode(event: EpisodeEvent): void {
      const stampNs = timeToNs(event.header.stamp);
      if (event.event === EpisodeEventKind.START) collector.startEpisode(stampNs);
      else if (event.event === EpisodeEventKind.END) {
        collector.endEpisode(stampNs);
        schedule.episodeEnded(stampNs);
      }
    }
    function onCommand(stampNs: bigint, values: ArrayLike<number>): void {
      if (!collector.addCommand(stampNs, values) && warnings.allow('command'))
        node.logger.warn(
          `command on ${p.command_topic} not used: expected ${collector.actionSize} finite values, got [${Array.from(values).join(', ')}]`,
        );
      for (const s of hold.command(stampNs)) useState(s);
    }

    // transitions are collected from configure on (a bridge in a worker starts at once); training
    // and publishing wait for activation
    subscribeStateAndCommand(node, p, onState, onCommand);
    // transient local as the sim bridge declares them: the START under way comes to a learner that starts late
    node.createSubscription('dynastack_msgs/msg/EpisodeEvent', p.episode_topic, onEpisode, { qos: QOS_EPISODE_EVENTS });

    let timer: Timer | undefined;
    let saveTimer: Timer | undefined;
    return {
      activate: () => {
        active = true;
        if (resumed && !resumedPublished && schedule.made === 0) {
          models.publish(modelBlob(resumedModel(resumed, files.modelDir), node.clock.now()));
          resumedPublished = true;
          node.logger.info(`dynamics model v${resumed.version} loaded from ${files.modelDir}: published`);
        }
        schedule.activate();
        timer = node.createTimer(periodNsFromHz(1 / p.diagnostics_period_s), publishDiagnostics, node.steadyClock);
        if (files.bufferFile && p.save_period_s > 0)
          saveTimer = node.createTimer(periodNsFromHz(1 / p.save_period_s), saveBuffer, node.steadyClock);
      },
      deactivate: () => {
        active = false;
        schedule.deactivate();
        timer?.cancel();
        saveTimer?.cancel();
      },
      cleanup: async () => {
        // the states still waiting for a command go in as they are (the run is over)
        for (const s of hold.flush()) useState(s);
        schedule.dispose();
        await client.dispose();
        const buffer = collector.buffer;
        if (files.bufferFile && buffer?.size) {
          await files.saveBuffer(buffer);
          node.logger.info(`saved ${buffer.size} transitions to ${files.bufferFile}`);
        }
        await files.idle();
      },
      summary: () => learnerSummary(figures()),
      metrics: () => learnerMetrics(figures()),
    };
  },
});

type Params = ParamValues<typeof parameters>;

/** Parameters that only make sense together. */
function checkParameters(p: Params): void {
  if (p['ensemble.elites'] > p['ensemble.members'])
    throw new Error(
      `parameter 'ensemble.elites': ${p['ensemble.elites']} elites of ${p['ensemble.members']} members (at most ensemble.members)`,
    );
  if (p.min_transitions > p.buffer_capacity)
    throw new Error(
      `parameter 'min_transitions': ${p.min_transitions} is more than buffer_capacity ${p.buffer_capacity} holds`,
    );
}

/** The transitions of an earlier run in buffer_file (checked against the parameters), when it exists. */
function loadEarlierRun(
  node: NodeHandle<typeof parameters>,
  p: Params,
  path: string,
  periodNs: bigint,
): LoadedBufferFile | undefined {
  const loaded = loadBufferFile(path, {
    capacity: p.buffer_capacity,
    joints: p.joints,
    angleJoints: p.angle_joints,
    periodNs,
  });
  if (loaded?.warning) node.logger.warn(loaded.warning);
  if (loaded) node.logger.info(`loaded ${loaded.buffer.size} transitions from ${path}`);
  return loaded;
}

/** The learner's data at configure with a dataset: its transitions, then the earlier run's (nodes/learner_dataset.ts). */
function loadDataset(
  node: NodeHandle<typeof parameters>,
  p: Params,
  periodNs: bigint,
  earlier: LoadedBufferFile | undefined,
): ReturnType<typeof startingData> {
  const jointState = p.state_type === 'sensor_msgs/msg/JointState';
  return startingData(
    packagePath(p.dataset),
    {
      rateHz: p.rate_hz,
      periodNs,
      joints: p.joints,
      angleJoints: p.angle_joints,
      capacity: p.buffer_capacity,
      stateTopics: jointState ? [p.state_topic, 'joint_states'] : ['joint_states'],
      commandTopics: [p.command_topic, 'forward_command_controller/commands'],
      episodeTopic: p.episode_topic,
      warn: (line) => node.logger.warn(line),
    },
    earlier,
    (line) => node.logger.info(line),
  );
}

/** The model of an earlier run in model_dir (checked against the parameters and the loaded buffer), when there is one. */
async function loadEarlierModel(
  node: NodeHandle<typeof parameters>,
  p: Params,
  dir: string,
  periodNs: bigint,
  buffer: LoadedBufferFile | undefined,
): Promise<LoadedModel | undefined> {
  const loaded = await loadModelDir(dir, {
    joints: p.joints,
    angleJoints: p.angle_joints,
    periodNs,
    ...(buffer ? { buffer: { path: packagePath(p.buffer_file), encoding: buffer.encoding } } : {}),
  });
  if (loaded?.warning) node.logger.warn(loaded.warning);
  return loaded;
}

/** The worker that trains, logging each epoch at debug level. */
function trainingClient(node: NodeHandle<typeof parameters>, p: Params): TrainingClient {
  return new TrainingClient({
    backend: (p.backend || undefined) as TensorBackendKind | undefined,
    onEpoch: (e) =>
      node.logger.debug(
        `epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, validation loss ${e.valLoss.toFixed(4)}`,
      ),
  });
}

/** A training of the ensemble the parameters describe on everything in `buffer` (going on from `initial`, if given and of that ensemble). */
function trainingRequest(p: Params, buffer: ReplayBuffer, initial?: DynamicsModel): TrainingRequest {
  const config: EnsembleConfig = {
    stateSize: buffer.stateSize,
    actionSize: buffer.actionSize,
    members: p['ensemble.members'],
    hidden: [...p['ensemble.hidden']],
    elites: p['ensemble.elites'],
    probabilistic: p['ensemble.probabilistic'],
    learningRate: p['ensemble.learning_rate'],
    seed: p.seed,
  };
  const options = {
    epochs: p['training.epochs'],
    batchSize: p['training.batch_size'],
    patience: p['training.patience'],
    holdoutRatio: p['training.holdout_ratio'],
    ...(p['training.max_updates'] > 0 ? { maxUpdates: p['training.max_updates'] } : {}),
  };
  return {
    config,
    data: buffer.toTransitionData(),
    options,
    ...(initial
      ? { initial: { metadata: JSON.parse(initial.metadataJson) as Record<string, unknown>, data: initial.data } }
      : {}),
  };
}

/** A model as the message that carries it, stamped `stampNs`. */
function modelBlob(model: DynamicsModel, stampNs: bigint): ModelBlob {
  return {
    header: { stamp: nsToTime(stampNs), frame_id: '' },
    kind: model.kind,
    version: model.version,
    format: model.format,
    metadata_json: model.metadataJson,
    data: model.data,
  };
}
