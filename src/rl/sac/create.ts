import { nativeKernels } from '../../tensor/native_kernels.js';
import type { SacConfig, SacEngineName, SoftActorCritic } from './sac.js';
import { NativeSac } from './sac_native.js';
import { TfjsSac } from './sac_tfjs.js';

// Which engine runs soft actor-critic, as the ensemble chooses its own: the native kernels where
// the addon is built (several times faster: an update is a handful of small GEMMs, which TF.js
// spends mostly dispatching), TF.js otherwise; 'auto' says which and why. TF.js needs its backend
// initialised first (src/tensor/backend.ts).

export type SacEngineChoice = 'auto' | SacEngineName;

export function createSac(config: SacConfig, engine: SacEngineChoice = 'auto'): { sac: SoftActorCritic; why: string } {
  if (engine !== 'tfjs') {
    const native = nativeKernels();
    if (native.kernels) return { sac: new NativeSac(config, native.kernels), why: native.why };
    if (engine === 'native') throw new Error(`SAC engine 'native' asked for, but ${native.why}`);
    return { sac: new TfjsSac(config), why: `TF.js: ${native.why}` };
  }
  return { sac: new TfjsSac(config), why: 'TF.js: asked for' };
}
