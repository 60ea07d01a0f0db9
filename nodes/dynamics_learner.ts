import { existsSync } from 'node:fs';
import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { TransitionBuilder, type StateInput } from '../src/data/transitions.js';
import { jointStateFields } from '../framework/msgs/joint_state.js';
import { ReplayBuffer } from '../src/data/replay_buffer.js';
import { TrainingClient, type TrainingResult } from '../src/dynamics/training_client.js';
import { StateEncoding } from '../src/dynamics/state_encoding.js';
import type { EnsembleConfig } from '../src/dynamics/ensemble.js';
import type { TensorBackendKind } from '../src/tensor/backend.js';
import { DiagnosticLevel, type DiagnosticStatus, type ModelBlob } from '../framework/msgs/types.js';
import { nsToTime, periodNsFromHz } from '../framework/time/time.js';
import { QOS_LATCHED } from '../framework/transport/qos.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle } from '../src/util/log.js';
import type { Timer } from '../framework/time/clock.js';

// Learns the robot's dynamics from what it does: control-period transitions (s, a, s′) from the
// state and command streams go into a replay buffer; every retrain_every new transitions, or at
// every episode end (retrain_on: episode, PETS's loop), a probabilistic ensemble is (re)trained on
// all of it in a worker thread, and each new version is published on /dynamics/model, latched
// (transient local), so that a controller started later gets the newest.
// s = [q, q̇] in `joints` order with each of `angle_joints` as (sin q, cos q)
// (src/dynamics/state_encoding.ts), a = the command values as sent. A model's metadata says its
// state layout (training.joints, angle_joints, state) and the stamp of the newest state it was
// trained on (training.data_end_ns), so a controller can wait for the model of the last episode.

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
  state_topic: {
    type: 'string',
    default: 'estimated_joint_states',
    nonEmpty: true,
    description: 'the stamped state stream',
  },
  state_type: {
    type: 'string',
    default: 'dynastack_msgs/msg/JointStateEstimate',
    choices: ['dynastack_msgs/msg/JointStateEstimate', 'sensor_msgs/msg/JointState'],
    description: 'message type of state_topic (a JointState needs velocities)',
  },
  command_topic: {
    type: 'string',
    default: 'forward_command_controller/commands',
    nonEmpty: true,
    description: "std_msgs/Float64MultiArray commands, stamped on arrival with this node's clock",
  },
  rate_hz: {
    type: 'double',
    default: 100,
    range: [1, 2000],
    description: 'the control rate: one transition spans one period; states further apart than 1.5 periods do not pair',
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
      'when to train: every retrain_every new transitions, or at every episode end (a state after a gap, as the sim bridge leaves between episodes, or a reset), on all data so far',
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
      "'' : keep transitions in memory only; else loaded at configure when it exists, saved at cleanup (absolute, or relative to the package root)",
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
  configure(node, p) {
    if (p['ensemble.elites'] > p['ensemble.members'])
      throw new Error(
        `parameter 'ensemble.elites': ${p['ensemble.elites']} elites of ${p['ensemble.members']} members (at most ensemble.members)`,
      );
    if (p.min_transitions > p.buffer_capacity)
      throw new Error(
        `parameter 'min_transitions': ${p.min_transitions} is more than buffer_capacity ${p.buffer_capacity} holds`,
      );
    const periodNs = periodNsFromHz(p.rate_hz);
    const bufferFile = p.buffer_file ? packagePath(p.buffer_file) : '';

    // the model's state, once the joints are known (from the parameter, buffer_file or the first state)
    const encodingOf = (names: readonly string[]): StateEncoding => {
      try {
        return new StateEncoding(names, p.angle_joints);
      } catch (err) {
        throw new Error(`parameter 'angle_joints': ${(err as Error).message}`, { cause: err });
      }
    };
    let encoding: StateEncoding | undefined = p.joints.length ? encodingOf(p.joints) : undefined;
    // transitions of an earlier run, when there are any: they fix the joints and the action size
    let buffer: ReplayBuffer | undefined;
    let joints: readonly string[] = p.joints;
    if (bufferFile && existsSync(bufferFile)) {
      buffer = ReplayBuffer.load(bufferFile, { capacity: p.buffer_capacity });
      const saved = StateEncoding.fromMetadata(buffer.meta, `replay buffer file ${bufferFile}`);
      if (saved.size !== buffer.stateSize)
        throw new Error(
          `replay buffer file ${bufferFile}: its header's state ${saved.describe()} has ${saved.size} values, its states ${buffer.stateSize}`,
        );
      if (joints.length && joints.join(',') !== saved.joints.join(','))
        throw new Error(
          `parameter 'joints': [${joints.join(', ')}] differs from the joints of buffer_file ${bufferFile}: [${saved.joints.join(', ')}]`,
        );
      if (encodingOf(saved.joints).describe() !== saved.describe()) {
        throw new Error(
          `parameter 'angle_joints': [${p.angle_joints.join(', ')}] differs from the angle joints of buffer_file ${bufferFile}: [${saved.angleJoints.join(', ')}]`,
        );
      }
      joints = saved.joints;
      encoding = saved;
      const recordedPeriodNs = buffer.meta.period_ns; // a number as this node writes it; the file may say otherwise
      if (recordedPeriodNs !== undefined && recordedPeriodNs !== Number(periodNs)) {
        const recorded = typeof recordedPeriodNs === 'number' ? recordedPeriodNs : JSON.stringify(recordedPeriodNs);
        node.logger.warn(
          `buffer_file ${bufferFile} was recorded at a period of ${recorded} ns, rate_hz gives ${periodNs} ns: its transitions are kept`,
        );
      }
      node.logger.info(`loaded ${buffer.size} transitions from ${bufferFile}`);
    }
    const builder = new TransitionBuilder({ periodNs, joints, actionSize: buffer?.actionSize });

    const config = (stateSize: number, actionSize: number): EnsembleConfig => ({
      stateSize,
      actionSize,
      members: p['ensemble.members'],
      hidden: [...p['ensemble.hidden']],
      elites: p['ensemble.elites'],
      probabilistic: p['ensemble.probabilistic'],
      learningRate: p['ensemble.learning_rate'],
      seed: p.seed,
    });
    const trainOptions = {
      epochs: p['training.epochs'],
      batchSize: p['training.batch_size'],
      patience: p['training.patience'],
      holdoutRatio: p['training.holdout_ratio'],
      ...(p['training.max_updates'] > 0 ? { maxUpdates: p['training.max_updates'] } : {}),
    };
    const client = new TrainingClient({
      backend: (p.backend || undefined) as TensorBackendKind | undefined,
      onEpoch: (e) =>
        node.logger.debug(
          `epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, validation loss ${e.valLoss.toFixed(4)}`,
        ),
    });

    const models = node.createPublisher('dynastack_msgs/msg/ModelBlob', '/dynamics/model', QOS_LATCHED);
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    const warnings = new Throttle(5000);
    let active = false;
    let disposed = false;
    let sinceTraining = buffer?.size ?? 0;
    let version = 0;
    let failures = 0;
    let lastError = '';
    let last: TrainingResult | undefined;
    let unpublished: ModelBlob | undefined;
    // one training at a time, so each result is known to cover the data up to its request's end;
    // a request while one runs is merged into the next, which takes the newest data
    let training = false;
    let requested = false;
    let merged = 0;
    /** the stamp of the newest state in the buffer (0: only transitions loaded from buffer_file) */
    let dataEndNs = 0n;
    /** episode ends seen since the last training started */
    let episodesSinceTraining = 0;
    // the training loss is the Gaussian NLL (or the MSE, deterministic); validation, the elites' MSE
    // (both on normalised deltas), and per state dimension in its own units
    const lossName = p['ensemble.probabilistic'] ? 'nll' : 'mse';
    const dimensionNames = (): readonly string[] => encoding?.names ?? [];

    const publishModel = (blob: ModelBlob): void => {
      models.publish(blob);
      unpublished = undefined;
      const r = last!.report;
      node.logger.info(
        `dynamics model v${blob.version}: ${last!.transitions} transitions, ${r.epochs} epochs, train ${lossName} ${r.trainLoss.toFixed(4)}, validation mse ${r.valLoss.toFixed(4)} (normalised), ` +
          `validation MSE [${r.valMsePerDim.map((x) => x.toExponential(2)).join(', ')}], ${last!.seconds.toFixed(1)} s on ${last!.backend}`,
      );
      publishDiagnostics();
    };

    const finish = (result: TrainingResult, dataEnd: bigint): void => {
      last = result;
      lastError = '';
      version++;
      const metadata = {
        ...result.metadata,
        training: {
          report: result.report,
          transitions: result.transitions,
          seconds: result.seconds,
          backend: result.backend,
          ...encoding!.toMetadata(),
          period_ns: Number(periodNs),
          data_end_ns: String(dataEnd),
        },
      };
      const blob: ModelBlob = {
        header: { stamp: nsToTime(node.clock.now()), frame_id: '' },
        kind: 'dynamics_ensemble',
        version,
        format: 'dynastack-ensemble/1',
        metadata_json: JSON.stringify(metadata),
        data: result.data,
      };
      if (active) publishModel(blob);
      else unpublished = blob;
    };

    const due = (): boolean =>
      p.retrain_on === 'episode' ? episodesSinceTraining > 0 && sinceTraining > 0 : sinceTraining >= p.retrain_every;
    const maybeTrain = (): void => {
      if (!active || !buffer || !due() || buffer.size < p.min_transitions) return;
      if (training) {
        if (!requested) merged++;
        requested = true;
        return;
      }
      sinceTraining = 0;
      episodesSinceTraining = 0;
      training = true;
      const dataEnd = dataEndNs;
      client
        .train({
          config: config(buffer.stateSize, buffer.actionSize),
          data: buffer.toTransitionData(),
          options: trainOptions,
        })
        .then(
          (result) => finish(result, dataEnd),
          (err: unknown) => {
            if (disposed) return;
            failures++;
            lastError = (err as Error).message;
            node.logger.error(lastError);
            publishDiagnostics();
          },
        )
        .finally(() => {
          training = false;
          if (requested && !disposed) {
            requested = false;
            maybeTrain();
          }
        });
    };

    const onState = (input: StateInput): void => {
      const outcome = builder.addState(input);
      // a state after a gap or a reset starts an episode: the one before has ended
      if ((outcome.status === 'gap' || outcome.status === 'reset') && sinceTraining > 0) {
        episodesSinceTraining++;
        maybeTrain();
      }
      if (outcome.status !== 'transition') {
        if (
          'reason' in outcome &&
          outcome.status !== 'duplicate' &&
          outcome.status !== 'too_soon' &&
          warnings.allow(outcome.status)
        ) {
          node.logger.warn(
            `state on ${p.state_topic} not used, ${outcome.status.replace('_', ' ')}: ${outcome.reason}`,
          );
        }
        return;
      }
      const t = outcome.transition;
      if (!buffer) {
        joints = builder.joints!;
        encoding ??= encodingOf(joints);
        buffer = new ReplayBuffer({
          capacity: p.buffer_capacity,
          stateSize: encoding.size,
          actionSize: t.action.length,
          meta: { ...encoding.toMetadata(), period_ns: Number(periodNs) },
        });
        node.logger.info(
          `collecting transitions of ${joints.length} joints (${joints.join(', ')}) and ${t.action.length} command values; the model's state ${encoding.describe()}`,
        );
      }
      const enc = encoding!;
      if (enc.identity) buffer.add(t);
      else {
        const state = new Float64Array(enc.size);
        const nextState = new Float64Array(enc.size);
        enc.encodeInto(t.state, state);
        enc.encodeInto(t.nextState, nextState);
        buffer.add({ state, action: t.action, nextState });
      }
      sinceTraining++;
      dataEndNs = input.stampNs;
      maybeTrain();
    };

    // transitions are collected from configure on (a bridge in a worker starts at once); training
    // and publishing wait for activation
    if (p.state_type === 'sensor_msgs/msg/JointState')
      node.createSubscription('sensor_msgs/msg/JointState', p.state_topic, (m) => onState(jointStateFields(m)));
    else
      node.createSubscription('dynastack_msgs/msg/JointStateEstimate', p.state_topic, (m) =>
        onState(jointStateFields(m)),
      );
    node.createSubscription('std_msgs/msg/Float64MultiArray', p.command_topic, (m) => {
      const before = builder.counts.badCommands;
      builder.addCommand(node.clock.now(), m.data);
      if (builder.counts.badCommands > before && warnings.allow('command')) {
        node.logger.warn(
          `command on ${p.command_topic} not used: expected ${builder.actionSize} finite values, got [${Array.from(m.data).join(', ')}]`,
        );
      }
    });

    const report = (): DiagnosticStatus => {
      const c = builder.counts;
      const values: Record<string, string> = {
        transitions: String(c.transitions),
        buffer_size: String(buffer?.size ?? 0),
        episodes: String(c.episodes),
        gaps: String(c.gaps),
        resets: String(c.resets),
        unpaired: String(c.unpaired),
        non_finite: String(c.nonFinite),
        bad_commands: String(c.badCommands),
        model_version: String(version),
        training_failures: String(failures),
      };
      let level: number = DiagnosticLevel.OK;
      let message = version
        ? `model v${version}`
        : `collecting: ${buffer?.size ?? 0} of ${Math.max(p.min_transitions, p.retrain_every)} transitions for the first model`;
      if (client.busy) message += ', training';
      if (last) {
        const r = last.report;
        values[`train_${lossName}`] = r.trainLoss.toExponential(4);
        values.val_mse_normalised = r.valLoss.toExponential(4);
        dimensionNames().forEach(
          (name, i) => (values[`val_mse.${name}`] = (r.valMsePerDim[i] ?? Number.NaN).toExponential(3)),
        );
        values.data_size = String(last.transitions);
        values.training_time_s = last.seconds.toFixed(2);
        values.epochs = String(r.epochs);
        values.elites = r.elites.join(',');
        values.backend = last.backend;
      }
      if (lastError) {
        level = DiagnosticLevel.ERROR;
        message = `training failed: ${lastError}`;
      }
      return {
        level,
        name: `${node.name}: dynamics learning`,
        message,
        hardware_id: '',
        values: Object.entries(values).map(([key, value]) => ({ key, value })),
      };
    };
    const publishDiagnostics = (): void => {
      if (active)
        diagnostics.publish({ header: { stamp: nsToTime(node.clock.now()), frame_id: '' }, status: [report()] });
    };

    let timer: Timer | undefined;
    return {
      activate: () => {
        active = true;
        if (unpublished) publishModel(unpublished);
        maybeTrain();
        timer = node.createTimer(periodNsFromHz(1 / p.diagnostics_period_s), publishDiagnostics, node.steadyClock);
      },
      deactivate: () => {
        active = false;
        timer?.cancel();
      },
      cleanup: async () => {
        disposed = true;
        await client.dispose();
        if (bufferFile && buffer?.size) {
          buffer.save(bufferFile);
          node.logger.info(`saved ${buffer.size} transitions to ${bufferFile}`);
        }
      },
      summary: () => {
        const c = builder.counts;
        const model = last
          ? `, the last validated at mse ${last.report.valLoss.toFixed(4)} (normalised) on ${last.transitions} transitions`
          : '';
        return `${c.transitions} transitions in ${c.episodes} episodes${c.gaps ? ` (${c.gaps} gaps: episode ends or missed ticks)` : ''}, ${version} dynamics models published${model}${failures ? `, ${failures} trainings failed` : ''}`;
      },
      metrics: () => {
        const c = builder.counts;
        return {
          transitions: c.transitions,
          buffer_size: buffer?.size ?? 0,
          episodes: c.episodes,
          gaps: c.gaps,
          resets: c.resets,
          duplicates: c.duplicates,
          non_finite: c.nonFinite,
          unpaired: c.unpaired,
          bad_commands: c.badCommands,
          models_published: version - (unpublished ? 1 : 0),
          trainings_coalesced: merged,
          training_failures: failures,
          ...(last
            ? {
                last_train_loss: last.report.trainLoss,
                last_val_loss: last.report.valLoss,
                last_training_s: last.seconds,
                backend: last.backend,
              }
            : {}),
        };
      },
    };
  },
});
