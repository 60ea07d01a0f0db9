import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { packageRoot } from '../../src/util/paths.js';
import { ReplayBuffer } from '../../src/data/replay_buffer.js';
import { loadDynamicsModel } from '../../src/dynamics/model_blob.js';
import { Rng } from '../../src/util/random.js';
import { until } from '../wait.js';

// What a kill -9 of a PETS launch costs: at most the episode under way. The PETS cart-pole graph
// (launch/pets_cartpole.launch.yaml with its config made small: 2 s episodes, a small ensemble and
// planner) runs as `dynastack launch` in a child process, saving to a run folder; once two episodes
// have ended and the model trained on them is out (the third episode runs then: the controller holds
// it for that model), the child is killed with SIGKILL at a random moment. The saved buffer must
// load and hold every transition that model was trained on (all of the completed episodes); a
// resumed launch (resume:=true) removes the temporaries a kill mid-save leaves, starts from the
// buffer and the model (publishing it at once, so it plans from its first tick) and goes on
// counting the episodes, the models and the transitions.

const EPISODE_S = 2;
const rng = new Rng(Number(process.env.PETS_KILL_SEED ?? Date.now() % 1_000_000));
rng.uniform(); // a small seed's first draw is near 1: start from the second

/** config/pets_cartpole.yaml made small and short */
function smallConfig(path: string): void {
  const config = YAML.parse(readFileSync(join(packageRoot(), 'config', 'pets_cartpole.yaml'), 'utf8')) as Record<
    string,
    { ros__parameters: Record<string, unknown> }
  >;
  const params = (node: string): Record<string, unknown> => config[`/**/${node}`]!.ros__parameters;
  Object.assign(params('sim_bridge'), { episode_length_s: EPISODE_S });
  Object.assign(params('dynamics_learner'), {
    min_transitions: 20,
    ensemble: { members: 2, elites: 2, hidden: [16, 16], learning_rate: 0.001 },
    training: { epochs: 10, batch_size: 32, patience: 5, holdout_ratio: 0.1, max_updates: 100 },
  });
  const controller = params('controller');
  controller.iterations_per_tick = 1;
  controller.sampling = { ...(controller.sampling as object), horizon: 6, particles: 2, population: 16 };
  writeFileSync(path, YAML.stringify(config));
}

interface Run {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

function launch(args: string[]): Run {
  const child = spawn(
    process.execPath,
    [
      join(packageRoot(), 'dist', 'cli', 'main.js'),
      'launch',
      join(packageRoot(), 'launch', 'pets_cartpole.launch.yaml'),
      ...args,
    ],
    { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  let partial = '';
  const take = (chunk: Buffer): void => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, lines, exited };
}

/** the models the learner logged: [version, transitions] */
function modelsLogged(lines: readonly string[]): [number, number][] {
  return lines.flatMap((l) => {
    const m = /\[\/dynamics_learner\] dynamics model v(\d+): (\d+) transitions/.exec(l);
    return m ? [[Number(m[1]), Number(m[2])] as [number, number]] : [];
  });
}

test(
  'kill -9 of a PETS launch loses at most the episode under way, and a resumed launch goes on from what was saved',
  { timeout: 170_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pets-kill-'));
    const runDir = join(dir, 'run');
    const config = join(dir, 'pets_small.yaml');
    smallConfig(config);
    const common = [`config:=${config}`, `run_dir:=${runDir}`, `curve:=${join(dir, 'curve.svg')}`];
    try {
      const first = launch([...common, 'episodes:=50']);
      let models: [number, number][] = [];
      try {
        await until(
          'two episodes ended and the model trained on them published',
          () => {
            if (first.child.exitCode !== null) throw new Error(`the launch ended early:\n${first.lines.join('\n')}`);
            return modelsLogged(first.lines).some(([v]) => v >= 2);
          },
          { timeoutMs: 120_000, seen: () => first.lines.slice(-5).join(' | ') },
        );
        // the third episode runs: kill it at a random moment in it
        const delayMs = rng.uniform() * 400;
        await new Promise((r) => setTimeout(r, delayMs));
        models = modelsLogged(first.lines);
        t.diagnostic(`killed ${delayMs.toFixed(0)} ms after model v2 was logged`);
      } finally {
        first.child.kill('SIGKILL');
        await first.exited;
      }
      const [newest, trainedOn] = models.at(-1)!;
      assert.ok(newest >= 2, `model v${newest}`);

      // the buffer is whole and holds all that model learned from: every completed episode
      const buffer = ReplayBuffer.load(join(runDir, 'buffer.bin'));
      assert.ok(
        buffer.size >= trainedOn,
        `the saved buffer holds ${buffer.size} transitions, model v${newest} was trained on ${trainedOn}`,
      );
      const model = await loadDynamicsModel(join(runDir, 'model'));
      assert.ok(model.version >= newest - 1, `the saved model is v${model.version}`);
      const curve = readFileSync(join(dir, 'curve.csv'), 'utf8').trim().split('\n').length - 1;
      assert.ok(curve >= 2, `the learning curve holds ${curve} episodes`);
      t.diagnostic(
        `after the kill: ${buffer.size} transitions saved (model v${newest} was trained on ${trainedOn}), model v${model.version} saved, ${curve} episodes in the curve`,
      );

      // what a kill in the middle of a save leaves
      const pid = first.child.pid!;
      writeFileSync(join(runDir, `buffer.bin.${pid}.1.tmp`), 'half a buffer');
      mkdirSync(join(runDir, `model.${pid}.2.tmp`));
      writeFileSync(join(runDir, `model.${pid}.2.tmp`, 'weights.bin'), 'half the weights');

      // resumed: two more episodes than the curve holds (a model is trained between them)
      const report = join(dir, 'report.json');
      const again = launch([...common, 'resume:=true', `episodes:=${curve + 2}`, '--report', report]);
      const code = await again.exited;
      assert.equal(code, 0, again.lines.join('\n'));
      const log = again.lines.join('\n');
      assert.match(log, new RegExp(`loaded ${buffer.size} transitions from ${runDir}/buffer\\.bin`));
      assert.match(log, new RegExp(`dynamics model v${model.version} loaded from ${runDir}/model`));
      assert.match(log, new RegExp(`dynamics model v${model.version + 1}: \\d+ transitions`), 'the versions go on');
      assert.match(log, new RegExp(`\\[/episode_monitor\\] episode ${curve + 2}: return`), 'the episodes go on');
      const nodes = (
        JSON.parse(readFileSync(report, 'utf8')) as { nodes: { node: string; metrics?: Record<string, unknown> }[] }
      ).nodes;
      const metrics = (name: string): Record<string, unknown> => nodes.find((n) => n.node === name)!.metrics!;
      assert.equal(
        metrics('/controller').planner_exploration_ticks,
        0,
        'it planned with the loaded model from the first tick',
      );
      assert.equal(metrics('/episode_monitor').episodes, curve + 2);

      const left = readdirSync(runDir).sort();
      assert.deepEqual(left, ['buffer.bin', 'model'], 'no temporary left after the restart');
      const after = ReplayBuffer.load(join(runDir, 'buffer.bin'));
      assert.ok(after.size > buffer.size, `the buffer went on: ${buffer.size} → ${after.size}`);
      t.diagnostic(`resumed: ${after.size} transitions saved after episode ${curve + 2}`);
      assert.ok(existsSync(join(runDir, 'model', 'model.json')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
