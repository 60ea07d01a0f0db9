import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Logger } from '../util/log.js';

// The tensor backend, chosen once per thread (module state is per worker_thread, so each worker
// calls this itself): tfjs-node-gpu, then tfjs-node (native libtensorflow; their installs download
// it and fail offline, so they are optional and loaded through a variable specifier), then the
// WebAssembly backend (XNNPACK, SIMD, shipped inside its npm package), then tfjs's plain JS `cpu`,
// 20–35× slower. A failed wasm init does not throw: setBackend resolves false and tfjs quietly
// stays on cpu, so every step is checked and the choice is logged with its reason.

export type TensorBackendKind = 'tensorflow' | 'wasm' | 'cpu';

export interface TensorBackendChoice {
  /** tf.getBackend() after the choice, e.g. 'wasm' */
  readonly backend: string;
  /** why this one, e.g. "wasm (SIMD): @tensorflow/tfjs-node not installed" */
  readonly why: string;
}

export interface TensorBackendOptions {
  /** skip the search and use this backend; throws if it cannot start */
  readonly force?: TensorBackendKind;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
}

let current: { kind: TensorBackendKind; choice: TensorBackendChoice } | undefined;
let pending: Promise<TensorBackendChoice> | undefined;

/**
 * Choose and start the tfjs backend. Idempotent: later calls return the first choice, unless they
 * force a different backend (a benchmark comparing backends in one process).
 */
export async function initTensorBackend(options: TensorBackendOptions = {}): Promise<TensorBackendChoice> {
  // concurrent callers wait for the same search
  while (pending) await pending.catch(() => undefined);
  if (current && (!options.force || options.force === current.kind)) return current.choice;
  pending = choose(options.force);
  try {
    const { kind, choice } = await pending.then((choice) => ({ kind: kindOf(choice.backend), choice }));
    current = { kind, choice };
    // an unforced fall back to plain JS is worth a warning: everything learned runs 20–35× slower
    if (choice.backend === 'cpu' && !options.force) options.logger?.warn(`tensor backend: ${choice.why}`);
    else options.logger?.info(`tensor backend: ${choice.why}`);
    return choice;
  } finally {
    pending = undefined;
  }
}

const kindOf = (backend: string): TensorBackendKind =>
  backend === 'wasm' || backend === 'cpu' ? backend : 'tensorflow';

const NATIVE = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

async function choose(force: TensorBackendKind | undefined): Promise<TensorBackendChoice> {
  // production mode: no debug checks, and no "install tfjs-node" banner from the cpu backend
  tf.enableProdMode();
  const skipped: string[] = [];
  if (!force || force === 'tensorflow') {
    for (const pkg of NATIVE) {
      const failure = await tryNative(pkg);
      if (!failure) return { backend: tf.getBackend(), why: `${tf.getBackend()} (${pkg})${reasons(skipped)}` };
      skipped.push(`${pkg} ${failure}`);
    }
    if (force) throw new Error(`forced tensor backend 'tensorflow' did not start:${reasons(skipped).slice(1)}`);
  }
  if (!force || force === 'wasm') {
    const failure = await tryWasm();
    if (!failure) {
      const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'SIMD' : 'no SIMD';
      return { backend: 'wasm', why: `wasm (${simd})${force ? ': forced' : reasons(skipped)}` };
    }
    if (force) throw new Error(`forced tensor backend 'wasm' did not start: ${failure}`);
    skipped.push(`wasm ${failure}`);
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('the tfjs cpu backend did not start');
  await tf.ready();
  return { backend: 'cpu', why: `cpu (plain JS)${force ? ': forced' : reasons(skipped)}` };
}

const reasons = (skipped: readonly string[]): string => (skipped.length ? ': ' + skipped.join('; ') : '');

/** undefined on success, else why not */
async function tryNative(pkg: string): Promise<string | undefined> {
  const specifier: string = pkg; // a variable, so that neither tsc nor a bundler resolves it
  try {
    await import(specifier);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
      ? 'not installed'
      : `failed to load (${String(e)})`;
  }
  return (await tf.setBackend('tensorflow')) ? undefined : 'installed, but its backend did not start';
}

async function tryWasm(): Promise<string | undefined> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    return `failed to load (${String(e)})`;
  }
  // a bundler breaks the backend's own lookup of its .wasm files; point it at the package's dist/
  const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(dirname(entry) + '/');
  if (!(await tf.setBackend('wasm'))) return 'did not start';
  await tf.ready();
  return undefined;
}
