import loadMujocoModule from '@mujoco/mujoco';
import type { DoubleBuffer, MainModule } from '@mujoco/mujoco';

// DeepMind's @mujoco/mujoco, loaded once per thread. Each worker thread has its own module scope and
// so its own instance (~0.25 s to start); objects of two instances cannot be mixed, so everything in
// one thread goes through this one.

export type Mujoco = MainModule;

let loading: Promise<Mujoco> | undefined;
let probe: DoubleBuffer | undefined;

/** The thread's MuJoCo module, loading it on first use. */
export function mujoco(): Promise<Mujoco> {
  loading ??= loadMujocoModule().then((mj) => {
    // A one-element buffer kept for the thread's life: its view's .buffer is the whole wasm memory,
    // the documented way to see the heap (touching HEAP* or wasmMemory aborts this build).
    probe = new mj.DoubleBuffer(1);
    return mj;
  });
  return loading;
}

/**
 * The size of this thread's wasm memory in bytes (0 before the module is loaded). It grows on
 * allocation and never shrinks, so a leak shows as growth that does not stop.
 */
export function wasmMemoryBytes(): number {
  if (!probe) return 0;
  const view: unknown = probe.GetView();
  return view instanceof Float64Array ? view.buffer.byteLength : 0;
}

/** A MuJoCo binding error, or anything thrown, as one line of text. */
export function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.trim().replace(/\s*\n\s*/g, '; ');
}
