import { initTensorBackend } from '../../src/tensor/backend.js';
import { ProbabilisticEnsemble } from '../../src/dynamics/ensemble.js';

// Run by ensemble.test.ts and killed at a random moment: saves models to one directory without
// end. Model k has seed k and version k, so the test can check that what loads is whole.

const dir = process.argv[2]!;
await initTensorBackend();
for (let k = 1; ; k++) {
  const model = ProbabilisticEnsemble.create({
    stateSize: 3,
    actionSize: 2,
    members: 3,
    elites: 2,
    hidden: [64, 64],
    seed: k,
  });
  model.version = k;
  await model.save(dir);
  model.dispose();
  process.stdout.write(`saved ${k}\n`);
}
