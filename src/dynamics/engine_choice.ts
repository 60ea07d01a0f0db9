import { nativeKernels } from '../tensor/native_kernels.js';
import type { NamedArray } from '../tensor/weights.js';
import { createLogger, type Logger } from '../util/log.js';
import type { EngineSpec, EnsembleEngine, EnsembleEngineChoice } from './ensemble_engine.js';
import { NativeEngine } from './native_engine.js';
import { TfjsEngine } from './tfjs_engine.js';

// Which engine runs an ensemble's networks. A run-time choice, not part of the model: a model
// saved on one engine loads on the other. Default 'auto': the native kernels when they are built
// (several times faster), else TF.js, with the reason logged once per process.
// DYNASTACK_ENSEMBLE_ENGINE (auto|native|tfjs) and DYNASTACK_NATIVE_THREADS set the defaults.

export interface EnsembleRuntimeOptions {
  /** default 'auto' (or DYNASTACK_ENSEMBLE_ENGINE); 'native' throws if the addon is not there */
  readonly engine?: EnsembleEngineChoice;
  /** threads one native call is split over, default 1 (or DYNASTACK_NATIVE_THREADS); TF.js ignores it */
  readonly threads?: number;
}

const CHOICES: readonly EnsembleEngineChoice[] = ['auto', 'native', 'tfjs'];

let logger: Logger | undefined;
const logged = new Set<string>();

function logOnce(level: 'info' | 'warn', message: string): void {
  if (logged.has(message)) return;
  logged.add(message);
  logger ??= createLogger('ensemble');
  logger[level](message);
}

function defaultChoice(): EnsembleEngineChoice {
  const env = process.env.DYNASTACK_ENSEMBLE_ENGINE;
  if (env === undefined || env === '') return 'auto';
  if (!CHOICES.includes(env as EnsembleEngineChoice))
    throw new Error(`DYNASTACK_ENSEMBLE_ENGINE=${env}: expected one of ${CHOICES.join(', ')}`);
  return env as EnsembleEngineChoice;
}

function defaultThreads(): number {
  const env = process.env.DYNASTACK_NATIVE_THREADS;
  if (env === undefined || env === '') return 1;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new Error(`DYNASTACK_NATIVE_THREADS=${env}: expected a positive integer`);
  return n;
}

export function createEngine(
  spec: EngineSpec,
  weights: ReadonlyMap<string, NamedArray>,
  options: EnsembleRuntimeOptions = {},
): EnsembleEngine {
  const choice = options.engine ?? defaultChoice();
  if (!CHOICES.includes(choice)) throw new Error(`ensemble engine '${choice}': expected one of ${CHOICES.join(', ')}`);
  if (choice === 'tfjs') {
    const engine = new TfjsEngine(spec, weights);
    logOnce('info', `ensemble engine: ${engine.description}, as asked`);
    return engine;
  }
  const native = nativeKernels();
  if (!native.kernels) {
    if (choice === 'native') throw new Error(`ensemble engine 'native' asked for, but ${native.why}`);
    const engine = new TfjsEngine(spec, weights);
    logOnce('warn', `ensemble engine: ${engine.description}, the fallback: ${native.why}`);
    return engine;
  }
  const engine = new NativeEngine(spec, weights, native.kernels, options.threads ?? defaultThreads());
  logOnce('info', `ensemble engine: ${engine.description}`);
  return engine;
}
