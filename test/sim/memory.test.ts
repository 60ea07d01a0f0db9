import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { wasmMemoryBytes } from '../../sim/mujoco/module.js';

// Nothing in the wasm heap is garbage-collected and the heap never shrinks, so a leak per step or
// per simulation shows as growth. After a warm-up (the allocator's first high-water mark), a
// million control-loop steps and repeated create/clone/dispose cycles must not grow it at all.
// How fast it steps is not checked here (a test does not time anything): `npm run bench -- --only
// sim` measures steps/s.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const model = (name: string): string => join(root, 'sim/models', name);

async function cycle(): Promise<void> {
  for (const file of ['cartpole.xml', 'so_arm.xml', 'so_arm_position.xml']) {
    const sim = await MujocoSim.fromFile(model(file));
    const copy = sim.clone();
    copy.step(10);
    copy.linearize();
    copy.siteJacobian(sim.info.sites[0]!);
    copy.dispose();
    sim.dispose();
  }
}

test('no wasm memory growth over a million steps and create/dispose cycles', async () => {
  // the long-lived simulation first: allocated after the warm-up, it would move the allocator's
  // high-water mark once (measured: +16 MB, then flat), which is layout, not a leak
  using sim = await MujocoSim.fromFile(model('cartpole.xml'));
  const u = new Float64Array(1);
  const state = new Float64Array(sim.info.stateSize);
  const work = (steps: number): void => {
    sim.resetToKeyframe('hanging');
    for (let k = 0; k < steps; k++) {
      u[0] = k & 1024 ? 5 : -5;
      sim.setCtrl(u);
      sim.step();
      if ((k & 0xffff) === 0) {
        // every call that touches the heap, now and then
        sim.getState(state);
        sim.setState(state);
        sim.linearize();
        sim.sitePosition('pole_tip');
        sim.getSensordata();
        sim.gravityCompensation();
      }
    }
  };
  work(20_000);
  for (let i = 0; i < 3; i++) await cycle();
  const before = wasmMemoryBytes();
  assert.ok(before > 0);
  work(1_000_000);
  for (let i = 0; i < 5; i++) await cycle();
  const after = wasmMemoryBytes();
  assert.equal(after, before, `wasm memory grew from ${before} to ${after} bytes`);
  assert.ok(Number.isFinite(sim.jointQpos('pole_hinge')));
});
