import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Emulator } from '../../hw/emulator/emulator.js';
import { loadRobotConfig, type RobotConfig } from '../../hw/robot_config.js';
import { servoModel } from '../../hw/servos/index.js';
import { presentFromActual } from '../../hw/calibration/calibration.js';
import { calibrationTarget, readCalibrationFile } from '../../hw/calibration/file.js';
import { createLogger } from '../../src/util/log.js';
import { until } from './bus_harness.js';

// `dynastack calibrate` as a user runs it, against the emulated SO-101 behind a pty: the
// prompts are answered through stdin while the test moves the emulated joints as a hand would.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const quiet = createLogger('emulator', 'error');
// the emulator answers from the test's event loop: on a machine busy with other tests a reply can
// wait tens of ms for its turn, more than the default 20 ms of slack
const TIMEOUT_MARGIN = '150';

/** The child's stdout so far, and a way to wait for a line matching a pattern in it. */
function watch(child: ChildProcessWithoutNullStreams): {
  text: () => string;
  waitFor: (re: RegExp, ms?: number) => Promise<void>;
} {
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  return {
    text: () => out,
    waitFor: async (re, ms = 15_000) => {
      const deadline = performance.now() + ms;
      while (!re.test(out)) {
        if (performance.now() > deadline) throw new Error(`no ${re} within ${ms} ms; output:\n${out}`);
        if (child.exitCode !== null)
          throw new Error(`calibrate exited (${child.exitCode}) before ${re}; output:\n${out}`);
        await sleep(10);
      }
    },
  };
}

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once('exit', (code) => r(code)));
}

async function withEmulator(
  run: (emulator: Emulator, config: RobotConfig, dir: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-calcli-'));
  const link = join(dir, 'tty');
  // the robot file as a user has it, pointing at this test's pty
  const source = readFileSync(join(root, 'config/robots/so101_emulated.yaml'), 'utf8').replace(
    /^port: .*$/m,
    `port: ${link}`,
  );
  const configPath = join(dir, 'so101.yaml');
  writeFileSync(configPath, source);
  const config = loadRobotConfig(configPath);
  const emulator = await Emulator.start({ config, logger: quiet });
  try {
    await run(emulator, config, dir);
  } finally {
    await emulator.stop();
  }
}

test('dynastack calibrate: the middle pose reads centre after its offsets, the swept ranges are recorded, the file and the servos agree', async () => {
  await withEmulator(async (emulator, config, dir) => {
    const out = join(dir, 'calibration', 'so101.yaml');
    const child = spawn(
      process.execPath,
      [
        cli,
        'calibrate',
        '--config',
        join(dir, 'so101.yaml'),
        '--out',
        out,
        '--sample-ms',
        '10',
        '--timeout-margin-ms',
        TIMEOUT_MARGIN,
      ],
      { cwd: root },
    );
    const io = watch(child);
    try {
      const sts = servoModel('STS3215');
      // the pose the user holds as the middle: elbow_flex sits exactly on the encoder's wrap (4095)
      const middle: Record<string, number> = {
        shoulder_pan: 1200,
        shoulder_lift: 2600,
        elbow_flex: 4095,
        wrist_flex: 2047,
        wrist_roll: 300,
        gripper: 3000,
      };
      await io.waitFor(/middle of its range of motion, then press Enter/);
      // calibration was reset (offset 0), so Present_Position is the encoder reading
      for (const [name, p] of Object.entries(middle)) emulator.servo(name).moveTo(p);
      child.stdin.write('\n');
      await io.waitFor(/whole range of motion, then press Enter/);
      // each joint swept to its own travel about the (now centred) middle pose; extremes held for several samples
      const travel: Record<string, [number, number]> = {
        shoulder_pan: [-900, 950],
        shoulder_lift: [-600, 400],
        elbow_flex: [-300, 1200],
        wrist_flex: [-1000, 1000],
        wrist_roll: [-2000, 2000],
        gripper: [-100, 1400],
      };
      const centre = sts.centerPosition;
      const counters = emulator.chain.counters;
      for (let k = 0; k <= 20; k++) {
        const f = Math.sin((k / 20) * 2 * Math.PI);
        for (const [name, [lo, hi]] of Object.entries(travel))
          emulator.servo(name).moveTo(Math.round(centre + (f >= 0 ? f * hi : -f * lo)));
        if (Math.abs(f) > 0.999) {
          // an extreme is held until calibrate has read it three times (each sample is one sync read)
          const seen = counters.packets;
          await until(`three samples at the sweep's extreme k = ${k}`, () => counters.packets >= seen + 3, 15_000);
        } else await sleep(15);
      }
      for (const name of Object.keys(travel)) emulator.servo(name).moveTo(centre);
      child.stdin.write('\n');
      const code = await exited(child);
      assert.equal(code, 0, io.text());
      assert.match(io.text(), /calibration written to /);

      const cal = readCalibrationFile(out, calibrationTarget(config));
      for (const j of cal.joints) {
        const servo = emulator.servo(j.name);
        // the offset makes the middle pose read the centre (the wrap pose a tick off: the 11-bit register cannot hold 2048)
        const reads = presentFromActual(sts, middle[j.name]!, j.homing_offset);
        assert.ok(
          Math.abs(reads - centre) <= (middle[j.name] === 4095 ? 1 : 0),
          `${j.name}: offset ${j.homing_offset} makes the middle read ${reads}`,
        );
        // and the servo holds what the file says
        assert.equal(servo.register('homing_offset'), j.homing_offset, j.name);
        assert.equal(servo.register('min_position_limit'), j.range_min, j.name);
        assert.equal(servo.register('max_position_limit'), j.range_max, j.name);
        assert.equal(servo.register('lock'), 1, `${j.name}: EEPROM locked again`);
        assert.equal(servo.register('torque_enable'), 0, `${j.name}: torque stays off`);
        if (j.name === 'wrist_roll') assert.deepEqual([j.range_min, j.range_max], [0, 4095]);
        else
          assert.deepEqual(
            [j.range_min, j.range_max],
            [centre + travel[j.name]![0], centre + travel[j.name]![1]],
            j.name,
          );
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

test('dynastack calibrate stops without writing a file when stdin closes mid-way, and --import-lerobot converts a LeRobot JSON', async () => {
  await withEmulator(async (_emulator, config, dir) => {
    const out = join(dir, 'never.yaml');
    const child = spawn(
      process.execPath,
      [cli, 'calibrate', '--config', join(dir, 'so101.yaml'), '--out', out, '--timeout-margin-ms', TIMEOUT_MARGIN],
      { cwd: root },
    );
    const io = watch(child);
    await io.waitFor(/middle of its range of motion/);
    child.stdin.end();
    assert.equal(await exited(child), 1);
    assert.match(io.text(), /stdin closed/);
    assert.throws(() => readFileSync(out), /ENOENT/);

    const json = join(dir, 'lerobot.json');
    const motors = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
    writeFileSync(
      json,
      JSON.stringify(
        Object.fromEntries(
          motors.map((m, i) => [
            m,
            { id: i + 1, drive_mode: 0, homing_offset: 100 * i - 200, range_min: 800 + i, range_max: 3200 - i },
          ]),
        ),
      ),
    );
    const imported = join(dir, 'imported.yaml');
    const conv = spawn(
      process.execPath,
      [cli, 'calibrate', '--config', join(dir, 'so101.yaml'), '--import-lerobot', json, '--out', imported],
      { cwd: root },
    );
    const convIo = watch(conv);
    assert.equal(await exited(conv), 0, convIo.text());
    const cal = readCalibrationFile(imported, calibrationTarget(config));
    assert.deepEqual(
      cal.joints.map((j) => [j.homing_offset, j.range_min, j.range_max]),
      motors.map((_, i) => [100 * i - 200, 800 + i, 3200 - i]),
    );
  });
});
