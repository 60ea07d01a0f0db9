import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams, type ParamValues } from '../src/util/param_schema.js';
import { MISSING_TICK_FACTOR, type StateInput, type TransitionSample } from '../src/data/transitions.js';
import { STATE_COMMAND_PARAMETERS, subscribeStateAndCommand } from '../framework/transport/state_command_inputs.js';
import { diagnosticArray } from '../framework/msgs/diagnostics.js';
import { EpisodeEventKind, type EpisodeEvent, type ModelBlob } from '../framework/msgs/types.js';
import { TransitionCollector } from '../src/dynamics/transition_collector.js';
import type { StateEncoding } from '../src/dynamics/state_encoding.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { MBPO_TASK_NAMES, type MbpoTaskName } from '../src/rl/mbpo/tasks.js';
import { checkSchedule, type RolloutSchedule } from '../src/rl/mbpo/rollout_schedule.js';
import { TrainerClient, type TrainerSpec } from '../src/rl/mbpo/trainer_client.js';
import type { PolicyRelease, TrainerFigures } from '../src/rl/mbpo/trainer.js';
import {
  checkpointActor,
  checkpointLayout,
  readCheckpoint,
  type TrainerLayout,
} from '../src/rl/mbpo/trainer_checkpoint.js';
import type { NamedArray } from '../src/tensor/weights.js';
import { EpisodeEnds } from '../src/rl/mbpo/episode_ends.js';
import {
  episodeLine,
  policyLine,
  trainerHealth,
  trainerMetrics,
  trainerSummary,
  type TrainerStatus,
} from '../src/rl/mbpo/trainer_report.js';
import { policyModel, savePolicyModel, type PolicyModel } from '../src/rl/sac/policy_blob.js';
import type { TensorBackendKind } from '../src/tensor/backend.js';
import { nsToTime, periodNsFromHz, timeToNs } from '../framework/time/time.js';
import { QOS_DATA_STREAM, QOS_EPISODE_EVENTS, QOS_LATCHED } from '../framework/transport/qos.js';
import { StateHold } from '../src/data/state_hold.js';
import { packagePath } from '../src/util/paths.js';
import { removeStaleTemps } from '../src/util/atomic_file.js';
import { Throttle } from '../src/util/log.js';
import type { Timer } from '../framework/time/clock.js';

// MBPO's policy trainer (Janner et al. 2019): soft actor-critic trained on the robot's real
// transitions mixed with short rollouts of the learned dynamics model branched from real states,
// publishing each version of the actor on policy_topic (/policy/model, a dynastack_msgs/ModelBlob
// of kind sac_policy, latched: transient local), which the controller's policy planner acts with.
// - Data as the dynamics learner makes it (src/dynamics/transition_collector.ts, with the same
//   joints, angle_joints and rate_hz parameters, so the policy observes exactly the state the model
//   predicts): control-period transitions from the state and command streams, never across an
//   episode boundary declared on episode_topic; a state is used once the command in force over it
//   has come (src/data/state_hold.ts). Each transition's reward and termination are the task's
//   functions of the encoded next state and the action (src/rl/mbpo/tasks.ts), as in the rollouts.
// - Models from model_topic (the learner's /dynamics/model, latched), checked against the state
//   layout; one that does not fit is refused in one line and the model in use stays.
// - The learning runs in a worker thread at a lower priority (src/rl/mbpo/trainer_client.ts):
//   per real step, rollouts_per_step branched rollouts and updates_per_step SAC updates, at most
//   max_steps_per_round steps per round so new data and models come in between; a trainer slower
//   than the robot lags by at most max_backlog_steps (the older steps' updates are skipped, counted
//   on /diagnostics). No update before random_steps real steps: until the first policy the
//   controller explores.
// - Publishing: a new version after the updates for an episode's transitions are done (at every
//   episode END, so a controller can start each episode with the policy of the one before:
//   training.data_end_ns says through which stamp it learned), and every publish_every_updates
//   updates within an episode. The newest is also saved in <run_dir>/policy (a TF.js model folder).
// - /diagnostics every diagnostics_period_s: buffers, the model in use, updates and their rate, Q,
//   entropy, α, the losses, the returns of the model rollouts and of the real episodes.
// - What survives a kill (every write atomic): <run_dir>/checkpoint.bin — SAC's snapshot (networks,
//   targets, α, Adam's state) and the real transitions, in one file — written after each episode's
//   work and at cleanup (src/rl/mbpo/trainer_checkpoint.ts). With resume a run goes on from it:
//   the same layout is checked (joints, angle_joints, rate_hz, task, the model's actuators, hidden),
//   the policy is published again at activation and the versions go on; without, the earlier run's
//   files are removed. What does not survive: the model buffer (rebuilt from the next model) and
//   the random streams (they start again from seed).

const parameters = defineParams({
  joints: {
    type: 'string_array',
    default: [],
    description:
      "joints of the state s = [q, q̇], in order (the dynamics learner's); empty: those of the first state received (or of the checkpoint)",
  },
  angle_joints: {
    type: 'string_array',
    default: [],
    description: "joints (of `joints`) the policy sees as (sin q, cos q): the dynamics learner's angle_joints",
  },
  ...STATE_COMMAND_PARAMETERS,
  episode_topic: {
    type: 'string',
    default: 'episode',
    nonEmpty: true,
    description: 'dynastack_msgs/EpisodeEvent: where episodes start and end; no transition pairs states across one',
  },
  rate_hz: {
    type: 'double',
    default: 100,
    range: [1, 2000],
    description: `the control rate the policy acts at: one transition spans one period; states further apart than ${MISSING_TICK_FACTOR} periods do not pair`,
  },
  model: {
    type: 'string',
    default: 'sim/models/cartpole.xml',
    nonEmpty: true,
    description:
      "the controller's MJCF model: its actuators, in order, are the policy's actions, each scaled to its ctrlrange (absolute, or relative to the package root)",
  },
  model_topic: {
    type: 'string',
    default: '/dynamics/model',
    nonEmpty: true,
    description: "the dynamics learner's models (dynastack_msgs/ModelBlob, latched) the rollouts run through",
  },
  policy_topic: {
    type: 'string',
    default: '/policy/model',
    nonEmpty: true,
    description: 'where each policy version goes (dynastack_msgs/ModelBlob of kind sac_policy, latched)',
  },
  task: {
    type: 'string',
    default: 'cartpole_swingup',
    choices: [...MBPO_TASK_NAMES],
    description: 'the reward (and termination) of real and model transitions, on the encoded states',
  },
  real_ratio: {
    type: 'double',
    default: 0.05,
    range: [0, 1],
    description: 'share of each SAC batch drawn from the real transitions, the rest from model rollouts (MBPO: 0.05)',
  },
  rollouts_per_step: {
    type: 'integer',
    default: 400,
    range: [1, 100_000],
    description: 'model rollouts branched from real states per real step (MBPO: 400)',
  },
  updates_per_step: {
    type: 'integer',
    default: 20,
    range: [0, 1000],
    description: 'SAC updates per real step (MBPO: 10–40)',
  },
  rollout_schedule: {
    type: 'double_array',
    default: [1, 15, 1, 1],
    length: 4,
    range: [0, 1e6],
    description:
      'the rollout length over training: [start_epoch, end_epoch, start_length, end_length], epochs of epoch_length real steps, lengths whole numbers ≥ 1',
  },
  epoch_length: {
    type: 'integer',
    default: 1000,
    range: [1, 10_000_000],
    description: 'real steps per epoch of the rollout schedule (MBPO: 1000)',
  },
  retain_epochs: {
    type: 'integer',
    default: 1,
    range: [1, 1000],
    description: 'epochs of model rollouts the model buffer keeps',
  },
  batch_size: { type: 'integer', default: 256, range: [1, 100_000], description: 'rows per SAC update' },
  buffer_capacity: {
    type: 'integer',
    default: 100_000,
    range: [1, 10_000_000],
    description: 'real transitions kept; the oldest go first',
  },
  random_steps: {
    type: 'integer',
    default: 250,
    range: [0, 10_000_000],
    description: 'real steps before the first update (and so before the first policy: the controller explores)',
  },
  hidden: {
    type: 'integer_array',
    default: [256, 256],
    range: [1, 4096],
    description: "hidden layer widths of the actor and of each critic (the published policy's)",
  },
  gamma: { type: 'double', default: 0.99, range: [0, 1], description: 'discount factor' },
  tau: { type: 'double', default: 0.005, range: [0, 1], description: 'Polyak factor of the target critics' },
  learning_rate: { type: 'double', default: 3e-4, range: [1e-8, 1], description: 'Adam step of actor and critics' },
  alpha_learning_rate: { type: 'double', default: 3e-4, range: [1e-8, 1], description: 'Adam step of log α' },
  initial_alpha: { type: 'double', default: 1, range: [1e-8, 100], description: 'the temperature α at the start' },
  min_alpha: {
    type: 'double',
    default: 0,
    range: [0, 100],
    description: 'a floor under the learned α (0: none); keeps the actor exploring on sparse rewards',
  },
  engine: {
    type: 'string',
    default: 'auto',
    choices: ['auto', 'native', 'tfjs'],
    description: "SAC's engine: the native kernels where built ('auto'), or TF.js",
  },
  max_steps_per_round: {
    type: 'integer',
    default: 10,
    range: [1, 100_000],
    description: "real steps' work (rollouts and updates) the worker does before it takes new messages",
  },
  max_backlog_steps: {
    type: 'integer',
    default: 2000,
    range: [0, 10_000_000],
    description:
      "real steps whose work may wait when the trainer is slower than the robot; the older steps' updates are skipped (0: never)",
  },
  publish_every_updates: {
    type: 'integer',
    default: 1000,
    range: [0, 100_000_000],
    description: 'publish a policy after this many updates within an episode too (0: only after each episode)',
  },
  run_dir: {
    type: 'string',
    default: '',
    description:
      "'' : nothing saved; else checkpoint.bin (SAC and the real transitions) after each episode and at cleanup, and the newest policy in policy/, atomically (absolute, or relative to the package root)",
  },
  resume: {
    type: 'bool',
    default: true,
    description:
      "go on from run_dir's checkpoint when there is one; false: start afresh, and the earlier run's files there are removed at configure",
  },
  seed: {
    type: 'integer',
    default: 0,
    range: [0, 2 ** 31 - 1],
    description: "seed of the networks' initial weights, the batches and the rollouts",
  },
  backend: {
    type: 'string',
    default: '',
    choices: ['', 'wasm', 'cpu'],
    description: "tensor backend of the worker (TF.js engines): '' the fastest that starts, or force 'wasm' or 'cpu'",
  },
  nice: {
    type: 'integer',
    default: 10,
    range: [0, 19],
    description: "nice value of the training worker's thread: it yields the CPU to the graph",
  },
  diagnostics_period_s: {
    type: 'double',
    default: 1,
    range: [0.01, 3600],
    description: 'how often /diagnostics is published (steady clock)',
  },
});

type Params = ParamValues<typeof parameters>;

export default defineNode({
  name: 'policy_trainer',
  description:
    'MBPO: trains a soft actor-critic on real transitions and branched rollouts of the learned dynamics model, and publishes each policy version on /policy/model',
  parameters,
  async configure(node, p) {
    const periodNs = periodNsFromHz(p.rate_hz);
    const schedule = rolloutSchedule(p);
    const actuation = await actuatorsOf(p.model);
    const runDir = p.run_dir ? packagePath(p.run_dir) : '';
    const checkpointPath = runDir ? join(runDir, 'checkpoint.bin') : '';
    const policyDir = runDir ? join(runDir, 'policy') : '';
    if (runDir) {
      const stale = [checkpointPath, policyDir].flatMap((f) => removeStaleTemps(f));
      if (stale.length) node.logger.info(`removed what killed saves left: ${stale.join(', ')}`);
      if (!p.resume) {
        const earlier = [checkpointPath, policyDir, `${policyDir}.old`].filter((f) => existsSync(f));
        for (const f of earlier) rmSync(f, { recursive: true, force: true });
        if (earlier.length) node.logger.warn(`resume is false: removed the earlier run's ${earlier.join(', ')}`);
      }
    }
    // an earlier run's checkpoint: it fixes the joints, and the trainer goes on from it
    const resumed = checkpointPath && p.resume && existsSync(checkpointPath) ? loadCheckpoint() : undefined;
    function loadCheckpoint() {
      const checkpoint = readCheckpoint(checkpointPath);
      const layout = checkpointLayout(
        checkpoint,
        {
          joints: p.joints,
          angle_joints: p.angle_joints,
          actuators: actuation.actuators,
          action_low: actuation.low,
          action_high: actuation.high,
          period_ns: Number(periodNs),
          task: p.task,
          hidden: p.hidden,
        },
        `checkpoint ${checkpointPath}`,
      );
      const c = checkpoint.header.counts;
      node.logger.info(
        `going on from ${checkpointPath}: ${c.realSteps} real steps in ${c.episodes} episodes, policy v${c.policyVersion}`,
      );
      const updates = checkpoint.arrays.get('sac/updates')?.values[0] ?? 0;
      return { layout, bytes: readFileSync(checkpointPath), actor: checkpointActor(checkpoint), updates, counts: c };
    }

    // the collector pairs states and commands as the learner does and encodes them as its model's
    // state; its own buffer is not used (capacity 1): the real transitions live in the worker
    const collector = new TransitionCollector({
      periodNs,
      capacity: 1,
      joints: p.joints.length ? p.joints : (resumed?.layout.joints ?? []),
      angleJoints: p.angle_joints,
    });
    const policies = node.createPublisher('dynastack_msgs/msg/ModelBlob', p.policy_topic, QOS_LATCHED);
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    const warnings = new Throttle(5000);
    let active = false;
    let failure = '';
    let resolveFailed: (why: string) => void = () => {};
    const failed = new Promise<string>((resolve) => (resolveFailed = resolve));
    let published = 0;
    let refusedTransitions = 0;
    let checkpoints = 0;
    let checkpointFailures = 0;
    let transitionsBuilt = 0;
    let held: PolicyModel | undefined;
    let layout: { encoding: StateEncoding; record: TrainerLayout } | undefined;
    const ends = new EpisodeEnds();
    const policySaves = newestSaver(policyDir, (err) => node.logger.error(err));

    const client = new TrainerClient({
      nice: p.nice,
      ...(p.backend ? { backend: p.backend as TensorBackendKind } : {}),
      onPolicy: (release) => {
        const model = policyOf(release);
        policySaves.save(model);
        node.logger.info(policyLine(release));
        if (active) publish(model);
        else held = model;
      },
      onEpisodes: (episodes) => {
        for (const e of episodes) node.logger.info(episodeLine(e, client.figures));
      },
      onRefused: (what, message) => {
        if (what === 'transition') {
          refusedTransitions++;
          if (warnings.allow('refused transition')) node.logger.warn(message);
        } else if (what === 'checkpoint') {
          checkpointFailures++;
          node.logger.error(message);
        } else node.logger.error(`${message} on ${p.model_topic}: refused, the model in use stays`);
      },
      onModel: (version, outcome) => {
        if (outcome === 'in_use') node.logger.info(`dynamics model v${version} in use for the rollouts`);
      },
      onCheckpoint: (r) => {
        checkpoints++;
        node.logger.debug(`checkpoint: ${r.realSteps} real steps, ${r.updates} updates in ${r.seconds.toFixed(2)} s`);
      },
      onFailed: (message) => {
        if (failure) return;
        failure = message;
        node.logger.error(message);
        resolveFailed(message);
      },
    });
    if (resumed) {
      const encoding = collector.encoding!;
      layout = { encoding, record: resumed.layout };
      client.init(trainerSpec(p, encoding, resumed.layout, schedule, checkpointPath), resumed.bytes);
      // the checkpoint's policy, published at activation: the controller acts with it from the first tick
      const { actor, counts, updates } = resumed;
      if (actor) {
        held = policyFrom(actor.weights, actor.version, {
          reason: 'resumed',
          resumed_from: checkpointPath,
          data_end_ns: '0',
          real_steps: counts.realSteps,
          updates,
          episodes: counts.episodes,
          task: p.task,
        });
        node.logger.info(`policy v${actor.version} loaded from ${checkpointPath}: published at activation`);
      }
    }

    function fail(message: string): void {
      if (failure) return;
      failure = message;
      node.logger.error(message);
      resolveFailed(message);
    }

    /** the trainer, made with the first transition (when the joints and the command size are known) */
    function ensureTrainer(t: TransitionSample): boolean {
      if (layout) return true;
      if (failure) return false;
      if (t.action.length !== actuation.actuators.length) {
        fail(
          `commands on ${p.command_topic} have ${t.action.length} values, the model ${p.model} has ${actuation.actuators.length} actuators [${actuation.actuators.join(', ')}]: no policy can be trained`,
        );
        return false;
      }
      const encoding = collector.encoding!;
      const record: TrainerLayout = {
        ...encoding.toMetadata(),
        actuators: actuation.actuators,
        action_low: actuation.low,
        action_high: actuation.high,
        period_ns: Number(periodNs),
        task: p.task,
      };
      layout = { encoding, record };
      client.init(trainerSpec(p, encoding, record, schedule, checkpointPath));
      return true;
    }

    function policyOf(release: PolicyRelease): PolicyModel {
      const f = release.figures;
      return policyFrom(release.weights, release.version, {
        reason: release.reason,
        data_end_ns: String(release.dataEndNs),
        real_steps: f.realSteps,
        updates: f.updates,
        model_version: f.modelVersion,
        episodes: f.episodes,
        task: p.task,
        ...(f.sac ? { q: f.sac.q, entropy: f.sac.entropy, alpha: f.sac.alpha } : {}),
      });
    }
    /** the actor's weights as the policy model (metadata.policy.training: `training`) */
    function policyFrom(weights: NamedArray[], version: number, training: Record<string, unknown>): PolicyModel {
      const { encoding } = layout!;
      const { actuators, low, high } = actuation;
      return policyModel(weights, { encoding, actuators, low, high, periodNs, hidden: p.hidden }, version, training);
    }

    function publish(model: PolicyModel): void {
      held = undefined;
      policies.publish(policyBlob(model, node.clock.now()));
      published++;
    }

    const status = (updateRate = Number.NaN): TrainerStatus => ({
      figures: client.figures,
      updateRate,
      published,
      refusedTransitions,
      checkpoints,
      checkpointFailures,
      failure,
      transitionsBuilt,
    });
    let rateFrom: { ns: bigint; updates: number } | undefined;
    function publishDiagnostics(): void {
      if (!active) return;
      const f: TrainerFigures | undefined = client.figures;
      const now = node.steadyClock.now();
      let rate = Number.NaN;
      if (f && rateFrom && now > rateFrom.ns) rate = (f.updates - rateFrom.updates) / (Number(now - rateFrom.ns) / 1e9);
      if (f) rateFrom = { ns: now, updates: f.updates };
      const report = trainerHealth(`${node.name}: policy training`, status(rate), { randomSteps: p.random_steps });
      diagnostics.publish(diagnosticArray(node.clock.now(), [report]));
    }

    // states wait for the command in force over them (a command stamped at or after them)
    const hold = new StateHold<StateInput>(QOS_DATA_STREAM.depth);
    function onState(input: StateInput): void {
      for (const s of hold.state(input.stampNs, input)) useState(s);
    }
    const obs = { s: new Float32Array(0), next: new Float32Array(0) };
    function useState(input: StateInput): void {
      const { outcome, started } = collector.addState(input);
      if (started) node.logger.info(collector.describe());
      if (outcome.status === 'transition') {
        transitionsBuilt++;
        const t = outcome.transition;
        if (ensureTrainer(t)) {
          const encoding = layout!.encoding;
          if (obs.s.length !== encoding.size) obs.s = new Float32Array(encoding.size);
          if (obs.next.length !== encoding.size) obs.next = new Float32Array(encoding.size);
          encoding.encodeInto(t.state, obs.s);
          encoding.encodeInto(t.nextState, obs.next);
          client.addTransition(obs.s, t.action, obs.next, input.stampNs);
        }
      } else if ('reason' in outcome && outcome.status !== 'duplicate' && outcome.status !== 'too_soon') {
        if (warnings.allow(outcome.status))
          node.logger.warn(
            `state on ${p.state_topic} not used, ${outcome.status.replace('_', ' ')}: ${outcome.reason}`,
          );
      }
      for (const end of ends.stateSeen(input.stampNs)) endEpisode(end);
    }
    function endEpisode(stampNs: bigint): void {
      if (client.initialised) client.endEpisode(stampNs);
    }
    function onEpisode(event: EpisodeEvent): void {
      const stampNs = timeToNs(event.header.stamp);
      if (event.event === EpisodeEventKind.START) collector.startEpisode(stampNs);
      else if (event.event === EpisodeEventKind.END) {
        collector.endEpisode(stampNs);
        for (const end of ends.ended(stampNs)) endEpisode(end);
      }
    }
    function onCommand(stampNs: bigint, values: ArrayLike<number>): void {
      if (!collector.addCommand(stampNs, values) && warnings.allow('command'))
        node.logger.warn(
          `command on ${p.command_topic} not used: expected ${collector.actionSize} finite values, got [${Array.from(values).join(', ')}]`,
        );
      for (const s of hold.command(stampNs)) useState(s);
    }
    function onModel(blob: ModelBlob): void {
      if (blob.kind !== 'dynamics_ensemble') {
        if (warnings.allow('model kind'))
          node.logger.warn(`model on ${p.model_topic} ignored: kind '${blob.kind}', expected 'dynamics_ensemble'`);
        return;
      }
      client.offerModel(blob.metadata_json, blob.data, blob.version);
    }

    // transitions are collected from configure on (a bridge in a worker starts at once); training
    // and publishing wait for activation
    subscribeStateAndCommand(node, p, onState, onCommand);
    node.createSubscription('dynastack_msgs/msg/EpisodeEvent', p.episode_topic, onEpisode, { qos: QOS_EPISODE_EVENTS });
    node.createSubscription('dynastack_msgs/msg/ModelBlob', p.model_topic, onModel, { qos: QOS_LATCHED });

    let timer: Timer | undefined;
    return {
      activate: () => {
        active = true;
        if (held) publish(held);
        client.setActive(true);
        timer = node.createTimer(periodNsFromHz(1 / p.diagnostics_period_s), publishDiagnostics, node.steadyClock);
      },
      deactivate: () => {
        active = false;
        client.setActive(false);
        timer?.cancel();
      },
      cleanup: async () => {
        // the states still waiting for a command go in as they are (the run is over)
        for (const s of hold.flush()) useState(s);
        if (client.initialised && checkpointPath && !failure) {
          try {
            const r = await client.checkpoint();
            if (r) {
              checkpoints++;
              node.logger.info(`checkpoint: ${r.realSteps} real steps and ${r.updates} SAC updates saved to ${r.path}`);
            }
          } catch (err) {
            checkpointFailures++;
            node.logger.error((err as Error).message);
          }
        }
        await client.dispose();
        await policySaves.idle();
      },
      failed,
      summary: () => trainerSummary(status()),
      metrics: () => trainerMetrics(status()),
    };
  },
});

/** The rollout_schedule parameter, checked. */
function rolloutSchedule(p: Params): RolloutSchedule {
  const s = p.rollout_schedule as unknown as RolloutSchedule;
  try {
    checkSchedule(s);
  } catch (err) {
    throw new Error(`parameter 'rollout_schedule': ${(err as Error).message}`, { cause: err });
  }
  return [s[0], s[1], s[2], s[3]];
}

/** The MJCF model's actuators, in command order, with their control ranges (each must have one). */
async function actuatorsOf(model: string): Promise<{ actuators: string[]; low: number[]; high: number[] }> {
  const sim = await MujocoSim.fromFile(packagePath(model));
  try {
    const actuators = sim.info.actuators;
    if (!actuators.length) throw new Error(`parameter 'model': ${model} has no actuators for a policy to drive`);
    const missing = actuators.find((a) => !a.ctrlRange);
    if (missing)
      throw new Error(
        `parameter 'model': actuator '${missing.name}' of ${model} has no ctrlrange, which the policy's actions are scaled to`,
      );
    return {
      actuators: actuators.map((a) => a.name),
      low: actuators.map((a) => a.ctrlRange![0]),
      high: actuators.map((a) => a.ctrlRange![1]),
    };
  } finally {
    sim.dispose();
  }
}

/** What the worker makes its trainer from. */
function trainerSpec(
  p: Params,
  encoding: StateEncoding,
  layout: TrainerLayout,
  schedule: RolloutSchedule,
  checkpointPath: string,
): TrainerSpec {
  return {
    task: p.task as MbpoTaskName,
    encoding: { joints: [...encoding.joints], angle_joints: [...encoding.angleJoints] },
    trainer: {
      periodNs: layout.period_ns,
      actionLow: layout.action_low,
      actionHigh: layout.action_high,
      sac: {
        hidden: [...p.hidden],
        gamma: p.gamma,
        tau: p.tau,
        learningRate: p.learning_rate,
        alphaLearningRate: p.alpha_learning_rate,
        initialAlpha: p.initial_alpha,
        minAlpha: p.min_alpha,
      },
      engine: p.engine as 'auto' | 'native' | 'tfjs',
      realRatio: p.real_ratio,
      rolloutsPerStep: p.rollouts_per_step,
      rolloutSchedule: schedule,
      epochLength: p.epoch_length,
      retainEpochs: p.retain_epochs,
      updatesPerStep: p.updates_per_step,
      batchSize: p.batch_size,
      randomSteps: p.random_steps,
      replayCapacity: p.buffer_capacity,
      maxStepsPerRound: p.max_steps_per_round,
      maxBacklogSteps: p.max_backlog_steps,
      publishEveryUpdates: p.publish_every_updates,
      seed: p.seed,
    },
    layout: { ...layout },
    checkpointPath,
  };
}

/** A policy as the message that carries it, stamped `stampNs`. */
function policyBlob(model: PolicyModel, stampNs: bigint): ModelBlob {
  return {
    header: { stamp: nsToTime(stampNs), frame_id: '' },
    kind: model.kind,
    version: model.version,
    format: model.format,
    metadata_json: model.metadataJson,
    data: model.data,
  };
}

/** Saves of the newest policy to `dir`, one at a time; one asked for while another runs replaces any waiting. */
function newestSaver(dir: string, failed: (message: string) => void) {
  let chain: Promise<void> = Promise.resolve();
  let wanted: PolicyModel | undefined;
  let queued = false;
  return {
    save(model: PolicyModel): void {
      if (!dir) return;
      wanted = model;
      if (queued) return;
      queued = true;
      chain = chain.then(async () => {
        queued = false;
        const m = wanted!;
        await savePolicyModel(dir, m).catch((err: unknown) =>
          failed(`policy v${m.version} not saved to ${dir}: ${(err as Error).message}`),
        );
      });
    },
    idle: async (): Promise<void> => {
      let c: Promise<void>;
      do {
        c = chain;
        await c;
      } while (c !== chain);
    },
  };
}
