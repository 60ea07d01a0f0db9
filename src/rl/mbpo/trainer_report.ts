import type { HealthReport } from '../../util/health.js';
import type { EpisodeDone, PolicyRelease, TrainerFigures } from './trainer.js';

// What the policy trainer says about itself, from the trainer's figures (./trainer.ts): its
// health for /diagnostics — the data (real and model buffers), the model in use, the learning
// (SAC updates and their rate, Q, entropy, α, the losses), what the model's rollouts earn (the
// returns in the model) and the real episodes' returns — the line logged for each policy and each
// episode, the end-of-run sentence and the figures of the launcher's report.

export interface TrainerStatus {
  readonly figures: TrainerFigures | undefined;
  /** SAC updates per second of wall time over the newest diagnostics period (NaN: not known) */
  readonly updateRate: number;
  /** policies published in this run */
  readonly published: number;
  /** transitions and models refused, checkpoints written and failed */
  readonly refusedTransitions: number;
  readonly checkpoints: number;
  readonly checkpointFailures: number;
  /** why the trainer stopped for good, '' while it works */
  readonly failure: string;
  /** transitions the node built (before the trainer had them) */
  readonly transitionsBuilt: number;
}

const fixed = (x: number | undefined, digits: number): string =>
  x === undefined || !Number.isFinite(x) ? 'nan' : x.toFixed(digits);

/** /diagnostics: what the trainer is doing, and its figures; an error once it failed. */
export function trainerHealth(
  name: string,
  s: TrainerStatus,
  settings: { readonly randomSteps: number },
): HealthReport {
  const f = s.figures;
  const values: Record<string, string> = {
    transitions: String(s.transitionsBuilt),
    refused_transitions: String(s.refusedTransitions),
  };
  let message = 'waiting for the first transition';
  if (f) {
    Object.assign(values, {
      real_steps: String(f.realSteps),
      pending_steps: String(f.pendingSteps),
      skipped_steps: String(f.skippedSteps),
      real_buffer: String(f.realBuffer),
      model_buffer: String(f.modelBuffer),
      model_transitions: String(f.modelTransitions),
      model_version: String(f.modelVersion),
      refused_models: String(f.refusedModels),
      policy_version: String(f.policyVersion),
      sac_updates: String(f.updates),
      updates_per_s: fixed(s.updateRate, 1),
      update_compute_per_s: fixed(f.updates / f.updateSeconds, 1),
      rollout_length: String(f.rolloutLength),
      model_reward_mean: fixed(f.modelReward, 4),
      model_rollout_return: fixed(f.modelReturn, 3),
      model_terminated_share: fixed(f.modelTerminated, 3),
      episodes: String(f.episodes),
      last_episode_return: fixed(f.lastReturn, 2),
      checkpoints: String(s.checkpoints),
      engine: f.engine,
    });
    if (f.sac)
      Object.assign(values, {
        q: fixed(f.sac.q, 3),
        entropy: fixed(f.sac.entropy, 3),
        alpha: f.sac.alpha.toExponential(3),
        critic_loss: f.sac.criticLoss.toExponential(3),
        actor_loss: fixed(f.sac.actorLoss, 3),
      });
    message =
      f.updates === 0
        ? `collecting: ${f.realSteps} of ${settings.randomSteps} real steps before the first update`
        : `policy v${f.policyVersion}, ${f.updates} SAC updates${f.modelVersion ? ` with model v${f.modelVersion}` : ' on real data only (no model yet)'}`;
    if (f.pendingSteps) message += `, ${f.pendingSteps} steps behind`;
  }
  const failed = s.failure !== '';
  const warn = s.checkpointFailures > 0 || (f?.skippedSteps ?? 0) > 0;
  return {
    level: failed ? 'error' : warn ? 'warn' : 'ok',
    name,
    message: failed ? s.failure : message,
    hardwareId: '',
    values,
  };
}

/** The line logged when a policy is published. */
export function policyLine(r: PolicyRelease): string {
  const f = r.figures;
  const why = r.reason === 'episode' ? 'an episode done' : 'updates within an episode';
  const sac = f.sac
    ? `, Q ${fixed(f.sac.q, 2)}, entropy ${fixed(f.sac.entropy, 2)}, α ${f.sac.alpha.toExponential(2)}`
    : '';
  const model = f.modelVersion
    ? `, model v${f.modelVersion} rollouts of ${f.rolloutLength} (mean reward ${fixed(f.modelReward, 3)})`
    : ', no model yet';
  return `policy v${r.version} (${why}): ${f.updates} SAC updates on ${f.realSteps} real steps${sac}${model}`;
}

/** The line logged when an episode's work is done. */
export function episodeLine(e: EpisodeDone, f: TrainerFigures | undefined): string {
  return `episode ${e.episode}: return ${e.return.toFixed(2)} over ${e.length} steps${f ? ` (${f.updates} SAC updates so far, policy v${f.policyVersion})` : ''}`;
}

/** The end-of-run sentence. */
export function trainerSummary(s: TrainerStatus): string {
  const f = s.figures;
  if (!f) return `${s.transitionsBuilt} transitions, no trainer made${s.failure ? `: ${s.failure}` : ''}`;
  return (
    `${f.realSteps} real steps in ${f.episodes} episodes, ${f.updates} SAC updates, ${s.published} policies published` +
    (f.sac ? `; the last Q ${fixed(f.sac.q, 2)}, α ${f.sac.alpha.toExponential(2)}` : '') +
    (Number.isFinite(f.lastReturn) ? `, the last episode's return ${f.lastReturn.toFixed(2)}` : '') +
    (f.skippedSteps ? `; ${f.skippedSteps} steps' updates skipped (the trainer fell behind)` : '') +
    (f.pendingSteps ? `; ${f.pendingSteps} steps' updates not done at the end` : '')
  );
}

/** The figures of the launcher's report. */
export function trainerMetrics(s: TrainerStatus): Record<string, number | string> {
  const f = s.figures;
  const out: Record<string, number | string> = {
    transitions: s.transitionsBuilt,
    refused_transitions: s.refusedTransitions,
    policies_published: s.published,
    checkpoints: s.checkpoints,
    checkpoint_failures: s.checkpointFailures,
  };
  if (!f) return out;
  Object.assign(out, {
    real_steps: f.realSteps,
    pending_steps: f.pendingSteps,
    skipped_steps: f.skippedSteps,
    sac_updates: f.updates,
    policy_version: f.policyVersion,
    model_version: f.modelVersion,
    refused_models: f.refusedModels,
    model_transitions: f.modelTransitions,
    episodes: f.episodes,
    update_seconds: f.updateSeconds,
    rollout_seconds: f.rolloutSeconds,
    engine: f.engine,
  });
  if (Number.isFinite(f.lastReturn)) out.last_episode_return = f.lastReturn;
  if (f.sac) Object.assign(out, { q: f.sac.q, entropy: f.sac.entropy, alpha: f.sac.alpha });
  return out;
}
