import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmulatedServo } from '../../hw/emulator/emulated_servo.js';
import { corruptReply, FaultInjector } from '../../hw/emulator/faults.js';
import { parseRobotConfig } from '../../hw/robot_config.js';
import { ServoError } from '../../hw/bus/servo_bus.js';
import { SerialLink } from '../../hw/bus/serial_link.js';
import { DEFAULT_TIMING, TransactionQueue, BusError } from '../../hw/bus/transaction.js';
import { protocolByName } from '../../hw/protocol/index.js';
import { BROADCAST_ID } from '../../hw/protocol/types.js';
import { servoModel } from '../../hw/servos/index.js';
import { decodeRegister, encodeRegister, registerOf } from '../../hw/servos/registers.js';
import { compiledPath, packageRoot } from '../../src/util/paths.js';
import { armYaml, emulatedArm, quietLogger, tempDir, until, watchForCrashes, type ArmKind } from './bus_harness.js';

// The servo emulator: both protocols answered from the same control tables over a real pty, the
// checks a real servo makes on writes, the motor moving toward its goal, the vendors' homing-offset
// conventions (ROBOTIS e-manual, X-series Homing Offset: Present = actual + offset; Feetech STS:
// Present = actual − offset, as LeRobot's motors/feetech/feetech.py calibrates), hardware errors and
// REBOOT, and `dynastack emulate` as a process.

const ARMS: readonly ArmKind[] = ['so101', 'koch'];

for (const kind of ARMS) {
  test(`${kind}: ping, read, write, sync read and sync write answered from the control tables`, async (t) => {
    const crashes = watchForCrashes(t);
    const { bus, emulator, config } = await emulatedArm(t, kind);
    // model numbers as the tables give them (the bus checked them at open; read them back anyway)
    for (const j of bus.joints) assert.equal(await bus.readRegister(j.index, 'model_number'), j.model.modelNumber);
    if (kind === 'koch') assert.equal((await bus.ping('elbow_flex')).modelNumber, servoModel('XL330-M288').modelNumber);

    // positions as configured, through one sync read, in joint order
    const configured = config.servos.map((s) => s.position);
    assert.deepEqual(await bus.readPositions(), configured);
    const state = await bus.readState();
    assert.deepEqual(state.rawPosition, configured);
    assert.ok(state.valid.every(Boolean));
    // SI: rad from the centre position
    const model = bus.joints[0]!.model;
    assert.ok(
      Math.abs(state.position[0]! - ((configured[0]! - model.centerPosition) * 2 * Math.PI) / model.resolution) < 1e-9,
    );

    // one write, read back from the servo's memory and over the bus
    await bus.writeRegister('wrist_roll', 'goal_position', 2500);
    assert.equal(emulator.servo('wrist_roll').register('goal_position'), 2500);
    assert.equal(await bus.readRegister('wrist_roll', 'goal_position'), 2500);

    // goals for the whole arm in one sync write: each servo got its own value
    const goals = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6];
    await bus.writeGoals(goals);
    // a sync write has no reply: the read after it is answered once the servos have taken it
    const readBack = await bus.syncRead('goal_position');
    for (const j of bus.joints) {
      const expected = j.model.centerPosition + Math.round((goals[j.index]! * j.model.resolution) / (2 * Math.PI));
      assert.equal(emulator.servo(j.id).register('goal_position'), expected, j.name);
      assert.equal(readBack[j.index], expected, j.name);
    }
    crashes.assertNone();
  });

  test(`${kind}: with torque on the servos move to their goals, no faster than the motor allows`, async (t) => {
    const { bus, emulator } = await emulatedArm(t, kind);
    await bus.setTorque(true);
    // torque on holds the present pose instead of jumping to an old goal
    assert.deepEqual(await bus.syncRead('goal_position'), await bus.readPositions());
    // the move takes a few hundred ms; a machine that stalls this process through all of it shows
    // no reading in motion, so the arm goes back and forth until one move was seen under way
    const out = [0.4, -0.4, 0.2, -0.2, 0.3, 0];
    let peak = 0;
    let moves = 0;
    while (moves < 6 && !(peak > 0.1)) {
      const goals = moves % 2 === 0 ? out : out.map(() => 0);
      moves++;
      await bus.writeGoals(goals);
      // generous: the deadline only matters when the servos never get there
      const deadline = performance.now() + 15_000;
      let last = await bus.readState();
      for (;;) {
        for (let i = 0; i < 6; i++)
          peak = Math.max(peak, Math.abs(last.velocity[i]!) / emulator.servo(i + 1).motor.maxSpeedRadS);
        if (goals.every((g, i) => Math.abs(last.position[i]! - g) < 0.01)) break;
        assert.ok(
          performance.now() < deadline,
          `not at the goals: ${Array.from(last.position, (q, i) => `joint ${i} at ${q} rad, goal ${goals[i]}`).join('; ')}`,
        );
        await sleep(10);
        last = await bus.readState();
      }
      assert.ok(peak <= 1.001, `a joint moved at ${peak} × the motor's maximum speed`);
    }
    assert.ok(peak > 0.1, `joints hardly moved in ${moves} moves (peak speed ${peak} of the motor's maximum)`);
  });
}

test('servo writes are checked as the real servos check them: Dynamixel refuses, Feetech ignores', async (t) => {
  const koch = await emulatedArm(t, 'koch');
  await koch.bus.setTorque(true, ['gripper']);
  // EEPROM (Homing Offset, address 20) with torque on: Access Error, nothing written
  await assert.rejects(
    koch.bus.writeRegister('gripper', 'homing_offset', 100),
    (err: ServoError) => err instanceof ServoError && /access_error/.test(err.message),
  );
  assert.equal(koch.emulator.servo('gripper').register('homing_offset'), 0);
  // read-only register: Access Error
  await assert.rejects(
    koch.bus.writeRegister('gripper', 'hardware_error_status', 1),
    /refused writing hardware_error_status = 1: access_error/,
  );
  // a goal beyond the position limits: Data Limit Error
  await koch.bus.setTorque(false, ['gripper']);
  await koch.bus.writeRegister('gripper', 'max_position_limit', 3000);
  await koch.bus.setTorque(true, ['gripper']);
  await assert.rejects(koch.bus.writeRegister('gripper', 'goal_position', 3500), /data_limit_error/);
  await koch.bus.writeRegister('gripper', 'goal_position', 2900);
  // with torque off the EEPROM write goes through
  await koch.bus.setTorque(false, ['gripper']);
  await koch.bus.writeRegister('gripper', 'homing_offset', 100);
  assert.equal(await koch.bus.readRegister('gripper', 'homing_offset'), 100);

  const so101 = await emulatedArm(t, 'so101');
  await so101.bus.setTorque(true, ['gripper']);
  // Feetech has no instruction errors: the reply is plain, and a read-only register keeps its value
  const status = registerOf(servoModel('STS3215'), 'present_temperature');
  const before = so101.emulator.servo('gripper').register('present_temperature');
  assert.equal(so101.emulator.servo('gripper').write(status.address, Uint8Array.of(99)).error, 0);
  assert.equal(so101.emulator.servo('gripper').register('present_temperature'), before);
  // its EEPROM takes writes with torque on (the Lock register only decides whether they persist)
  await so101.bus.writeRegister('gripper', 'homing_offset', -100);
  assert.equal(await so101.bus.readRegister('gripper', 'homing_offset'), -100);
});

test('homing offset as each vendor applies it: the pose reads 2047 after calibration', () => {
  for (const name of ['STS3215', 'XL430-W250'] as const) {
    const model = servoModel(name);
    const servo = new EmulatedServo({ id: 1, model, position: 3000 });
    const pos = servo.register('present_position');
    assert.equal(pos, 3000);
    const offset = model.vendor === 'feetech' ? pos - 2047 : 2047 - pos;
    const r = registerOf(model, 'homing_offset');
    assert.equal(servo.write(r.address, encodeRegister(model, 'homing_offset', offset)).error, 0);
    assert.equal(servo.register('present_position'), 2047, `${name}: offset ${offset}`);
    // and a goal of 2047 + 100 moves the shaft 100 ticks the same way the reading moves
    servo.write(registerOf(model, 'torque_enable').address, Uint8Array.of(1));
    servo.write(registerOf(model, 'goal_position').address, encodeRegister(model, 'goal_position', 2147));
    for (let i = 0; i < 200; i++) servo.step(0.01);
    assert.equal(servo.register('present_position'), 2147, name);
  }
  // Dynamixel Drive Mode bit 0 mirrors the reading: the same shaft turn reads the other way
  const model = servoModel('XL430-W250');
  const forward = new EmulatedServo({ id: 1, model, position: 1000 });
  const reversed = new EmulatedServo({ id: 1, model, position: 1000, registers: { drive_mode: 1 } });
  const shaftBefore = [forward.physical.position, reversed.physical.position];
  forward.moveTo(1100);
  reversed.moveTo(1100);
  assert.ok(forward.physical.position > shaftBefore[0]!, 'forward: a larger reading is a positive shaft turn');
  assert.ok(reversed.physical.position < shaftBefore[1]!, 'reversed: a larger reading is a negative shaft turn');
});

test('the position loop is critically damped: it reaches the goal without overshoot, capped by Profile Velocity', () => {
  const model = servoModel('XM430-W350');
  const servo = new EmulatedServo({ id: 1, model, position: 1000 });
  servo.write(registerOf(model, 'torque_enable').address, Uint8Array.of(1));
  servo.write(registerOf(model, 'profile_velocity').address, encodeRegister(model, 'profile_velocity', 100)); // 100 × 0.229 rpm = 2.4 rad/s
  servo.write(registerOf(model, 'goal_position').address, encodeRegister(model, 'goal_position', 3000));
  let maxSpeed = 0;
  let maxReading = 0;
  for (let i = 0; i < 400; i++) {
    servo.step(0.005);
    maxSpeed = Math.max(maxSpeed, Math.abs(servo.physical.velocity));
    maxReading = Math.max(maxReading, servo.register('present_position'));
  }
  assert.equal(servo.register('present_position'), 3000);
  assert.ok(maxReading <= 3000, `overshoot to ${maxReading}`);
  const cap = (100 * 0.229 * 2 * Math.PI) / 60;
  assert.ok(maxSpeed <= cap + 1e-9 && maxSpeed > 0.9 * cap, `peak speed ${maxSpeed} rad/s, cap ${cap}`);
  // current mode: goal current accelerates the load
  const xl330 = servoModel('XL330-M288');
  const free = new EmulatedServo({ id: 2, model: xl330 });
  free.write(registerOf(xl330, 'operating_mode').address, Uint8Array.of(xl330.operatingModes.current!));
  free.write(registerOf(xl330, 'torque_enable').address, Uint8Array.of(1));
  free.write(registerOf(xl330, 'goal_current').address, encodeRegister(xl330, 'goal_current', 200));
  free.step(0.05);
  assert.ok(free.physical.velocity > 0.5, `velocity ${free.physical.velocity} after 50 ms at 200 mA`);
  assert.ok(free.register('present_current') > 0);
});

test('hardware errors: alert bit and Hardware Error Status (Dynamixel), status bits (Feetech), torque cut, cleared by REBOOT', () => {
  const xl = servoModel('XL430-W250');
  const dxl = new EmulatedServo({ id: 1, model: xl, bootMs: 100 });
  dxl.write(registerOf(xl, 'torque_enable').address, Uint8Array.of(1));
  dxl.injectHardwareFault('overload');
  assert.equal(dxl.errorByte() & 0x80, 0x80, 'alert bit');
  assert.equal(dxl.register('hardware_error_status'), 0x20, 'overload bit');
  assert.equal(dxl.torqueEnabled, false, 'Shutdown (default 52) includes overload');
  // reads still work, with the alert bit; torque cannot come back before a reboot
  const read = dxl.read(registerOf(xl, 'hardware_error_status').address, 1);
  assert.deepEqual([read.error, read.data[0]], [0x80, 0x20]);
  dxl.write(registerOf(xl, 'torque_enable').address, Uint8Array.of(1));
  assert.equal(dxl.torqueEnabled, false);
  // a voltage error is not in the default Shutdown bits: alert only, torque stays
  const volt = new EmulatedServo({ id: 2, model: xl });
  volt.write(registerOf(xl, 'torque_enable').address, Uint8Array.of(1));
  volt.injectHardwareFault('voltage');
  assert.equal(volt.torqueEnabled, true);
  assert.equal(volt.register('hardware_error_status'), 0x01);
  dxl.reboot(1000);
  assert.equal(dxl.isAwake(1050), false, 'deaf while booting');
  assert.equal(dxl.isAwake(1100), true);
  assert.equal(dxl.errorByte(), 0);
  assert.equal(dxl.register('hardware_error_status'), 0);

  const sts = servoModel('STS3215');
  const fee = new EmulatedServo({ id: 1, model: sts });
  fee.write(registerOf(sts, 'torque_enable').address, Uint8Array.of(1));
  fee.injectHardwareFault('overheat');
  assert.equal(fee.errorByte(), 0x04);
  assert.equal(fee.register('status'), 0x04);
  assert.equal(fee.torqueEnabled, false);
  assert.ok(fee.register('present_temperature') > fee.register('max_temperature_limit'));
  fee.reboot(0);
  assert.equal(fee.errorByte(), 0);
});

test('protocol details over the pty: broadcast, absent ids, REG_WRITE + ACTION, bulk and fast sync reads, reboot', async (t) => {
  const crashes = watchForCrashes(t);
  const { config, emulator, bus } = await emulatedArm(t, 'koch', { verifyModels: false });
  // drive the emulator with raw operations: the bus lets go of the port first
  await bus.close();
  const link = new SerialLink({ path: config.port, baudRate: config.baudRate, logger: quietLogger, reopen: false });
  await link.open();
  t.after(() => link.close());
  const protocol = protocolByName('dynamixel2');
  const queue = new TransactionQueue(protocol, link, {
    ...DEFAULT_TIMING,
    baudRate: 1_000_000,
    marginMs: 100,
    retries: 0,
  });
  const xl330 = servoModel('XL330-M288');
  const goal = registerOf(xl330, 'goal_position');
  const present = registerOf(xl330, 'present_position');

  // a packet for an id nobody has is ignored: the host times out
  await assert.rejects(
    queue.request({ kind: 'ping', id: 42 }),
    (err: BusError) => err.kind === 'timeout' && err.missing[0] === 42,
  );
  // broadcast write: every servo acts, nobody answers
  const torque = registerOf(xl330, 'torque_enable');
  const result = await queue.request({
    kind: 'write',
    id: BROADCAST_ID,
    address: torque.address,
    data: Uint8Array.of(1),
  });
  assert.equal(result.replies.length, 0);
  await queue.request({ kind: 'ping', id: 6 }); // answered after the servos took the broadcast
  for (let id = 1; id <= 6; id++) assert.equal(emulator.servo(id).torqueEnabled, true);

  // a value outside the register's range: Data Range Error, nothing written
  const range = await queue.request({ kind: 'write', id: 2, address: torque.address, data: Uint8Array.of(7) });
  assert.equal(protocol.describeError(range.replies[0]!.error).instruction, 'data_range_error');
  assert.equal(emulator.servo(2).register('torque_enable'), 1);

  // REG_WRITE waits for ACTION
  await queue.request({
    kind: 'reg_write',
    id: 3,
    address: goal.address,
    data: encodeRegister(xl330, 'goal_position', 1000),
  });
  assert.notEqual(emulator.servo(3).register('goal_position'), 1000);
  await queue.request({ kind: 'action', id: 3 });
  assert.equal(emulator.servo(3).register('goal_position'), 1000);
  // servo 3 now moves (torque is on): let it arrive and stop before reading its position back
  await until(
    'servo 3 to reach 1000 and stop',
    () => emulator.servo(3).register('present_position') === 1000 && emulator.servo(3).register('moving') === 0,
    15_000,
  );
  // ACTION with nothing registered: Instruction Error
  const lone = await queue.request({ kind: 'action', id: 4 });
  assert.equal(protocol.describeError(lone.replies[0]!.error).instruction, 'instruction_error');

  // bulk read: different registers per servo
  const temperature = registerOf(xl330, 'present_temperature');
  const bulk = await queue.request({
    kind: 'bulk_read',
    entries: [
      { id: 3, address: present.address, length: 4 },
      { id: 5, address: temperature.address, length: 1 },
    ],
  });
  assert.equal(
    decodeRegister(xl330, 'present_position', bulk.replies[0]!.data),
    emulator.servo(3).register('present_position'),
  );
  assert.equal(bulk.replies[1]!.data[0], emulator.servo(5).register('present_temperature'));

  // fast sync read: one combined reply, split back per servo
  const fast = await queue.request({
    kind: 'sync_read',
    address: present.address,
    length: 4,
    ids: [6, 4, 5],
    fast: true,
  });
  assert.deepEqual(
    fast.replies.map((r) => r.id),
    [6, 4, 5],
  );
  for (const r of fast.replies)
    assert.equal(decodeRegister(xl330, 'present_position', r.data), emulator.servo(r.id).register('present_position'));
  // ... and none at all when one of the servos listed is missing (the chain's reply breaks)
  await assert.rejects(
    queue.request({ kind: 'sync_read', address: present.address, length: 4, ids: [4, 42], fast: true }),
    BusError,
  );

  // reboot: answered, then deaf while booting, back with torque off
  await queue.request({ kind: 'reboot', id: 5 });
  await assert.rejects(queue.request({ kind: 'ping', id: 5 }), BusError);
  await until('servo 5 to boot', () => emulator.servo(5).isAwake(performance.now()));
  assert.equal((await queue.request({ kind: 'ping', id: 5 })).replies.length, 1);
  assert.equal(emulator.servo(5).torqueEnabled, false);
  queue.close();
  crashes.assertNone();
});

test('robot.yaml is validated with errors naming the file and the key', (t) => {
  const dir = tempDir(t);
  const good = armYaml('so101', join(dir, 'tty'));
  assert.equal(parseRobotConfig(good, 'x.yaml').servos.length, 6);
  const bad = (edit: (text: string) => string, pattern: RegExp) =>
    assert.throws(() => parseRobotConfig(edit(good), 'robot.yaml'), pattern);
  bad(
    (s) => s.replace('model: STS3215', 'model: STS9999'),
    /robot\.yaml: servos\[0\]\.model: unknown servo model 'STS9999' \(known: .*STS3215/,
  );
  bad((s) => s.replace('id: 2,', 'id: 1,'), /servos\[1\]\.id: id 1 is used twice/);
  bad(
    (s) => s.replace('model: STS3215', 'model: XL430-W250'),
    /servos\[0\]\.model: XL430-W250 speaks dynamixel2, the bus is feetech_sts/,
  );
  bad(
    (s) => s.replace('protocol: feetech_sts', 'protocol: modbus'),
    /protocol: 'modbus' is not one of dynamixel2, feetech_sts, feetech_scs/,
  );
  bad((s) => s.replace('baud_rate: 1000000', 'baud_rate: fast'), /baud_rate: must be a number/);
  bad((s) => s.replace('position: 1847', 'position: 5000'), /servos\[0\]\.position: 5000 is not a raw position 0–4095/);
  bad(
    (s) => s.replace('return_delay_time: 0 } }', 'goal_speed: 0 } }'),
    /servos\[0\]\.registers\.goal_speed: STS3215 has no register 'goal_speed'/,
  );
  bad(
    (s) => s + '  faults:\n    - { kind: late_reply, id: 9, delay_ms: 5 }\n',
    /emulator\.faults\[0\]\.id: no servo with id 9/,
  );
  bad(
    (s) => s + '  faults:\n    - { kind: hardware_error, id: 1, error: meltdown }\n',
    /faults\[0\]\.error: 'meltdown' is not one of overload, overheat, voltage/,
  );
  bad((s) => s.replace('robot: so101', 'robot: so101\ncolour: red'), /\(top level\)\.colour: unknown key/);
  bad(() => 'port: [', /robot\.yaml: not valid YAML/);
});

test('dynastack emulate runs as a process, prints the device path, and stops cleanly on Ctrl-C', async (t) => {
  const dir = tempDir(t);
  const link = join(dir, 'arm');
  const child = spawn(
    process.execPath,
    [
      compiledPath('cli/main.ts'),
      'emulate',
      '--config',
      join(packageRoot(), 'config/robots/so101_emulated.yaml'),
      '--link',
      link,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  await until('the device path on stdout', () => out.includes(`device: ${link}`) || child.exitCode !== null, 30_000);
  assert.ok(out.includes(`device: ${link}`), `stdout: ${out}\nstderr: ${err}`);
  // a host finds six STS3215 there
  const config = parseRobotConfig(armYaml('so101', link), 'so101');
  const { ServoBus } = await import('../../hw/bus/servo_bus.js');
  const bus = await ServoBus.open({
    port: link,
    baudRate: 1_000_000,
    protocol: 'feetech_sts',
    joints: config.servos.map((s) => ({ id: s.id, name: s.name, model: s.model })),
    logger: quietLogger,
    timing: { marginMs: 100 },
  });
  assert.deepEqual(await bus.readPositions(), [2047, 2047, 2047, 2047, 2047, 2047]);
  await bus.close();
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 0, `stderr: ${err}`);
  assert.throws(() => lstatSync(link), /ENOENT/, 'the link is removed on the way out');
});

test('a bus opened on the wrong servos says which: model mismatch, a silent id (with the hints)', async (t) => {
  const { config, bus } = await emulatedArm(t, 'koch');
  await bus.close();
  const { ServoBus } = await import('../../hw/bus/servo_bus.js');
  const joints = config.servos.map((s) => ({ id: s.id, name: s.name, model: s.model }));
  const open = (js: typeof joints) =>
    ServoBus.open({
      port: config.port,
      baudRate: 1_000_000,
      protocol: 'dynamixel2',
      joints: js,
      logger: quietLogger,
      timing: { marginMs: 100, retries: 1 },
    });
  await assert.rejects(
    open(joints.map((j) => (j.id === 1 ? { ...j, model: 'XL330-M288' } : j))),
    /'shoulder_pan' \(id 1\) reports model number 1060, configured as XL330-M288 \(1200\)/,
  );
  await assert.rejects(open([...joints, { id: 9, name: 'extra', model: 'XL330-M288' }]), (err: Error) => {
    assert.match(err.message, /'extra' \(id 9\): ping id 9: no reply from id 9/);
    assert.match(err.message, /hint: the bus runs at 1000000 baud/);
    return true;
  });
  // and the port is free again after a failed open
  const ok = await open(joints);
  await ok.close();
});

test('fault injection: counts, per-servo or bus-wide, scheduled windows, toggles, validation', async () => {
  const calls: string[] = [];
  const target = {
    hasServo: (id: number) => id >= 1 && id <= 3,
    hardwareError: (id: number, error: string) => void calls.push(`hw ${id} ${error}`),
    disconnect: (signal: string) => {
      calls.push(`disconnect ${signal}`);
      return Promise.resolve();
    },
    reconnect: () => {
      calls.push('reconnect');
      return Promise.resolve();
    },
  };
  const faults = new FaultInjector(target);
  // two replies of servo 2 dropped, then it answers again; servo 1 never affected
  faults.inject({ kind: 'no_reply', id: 2, count: 2 });
  assert.equal(faults.replyFate([1]).drop, false);
  assert.equal(faults.replyFate([2]).drop, true);
  assert.equal(faults.replyFate([2]).drop, true);
  assert.equal(faults.replyFate([2]).drop, false);
  // bus-wide: every reply, combined ones included, until cleared
  const late = faults.inject({ kind: 'late_reply', delayMs: 12 });
  assert.equal(faults.replyFate([3]).delayMs, 12);
  assert.equal(faults.replyFate([1, 2, 3]).delayMs, 12);
  faults.clear(late);
  assert.equal(faults.replyFate([3]).delayMs, 0);
  // corrupt: which bit of which byte
  faults.inject({ kind: 'corrupt_byte', id: 1, count: 1, byteFromEnd: 1, bit: 7 });
  const fate = faults.replyFate([1]);
  assert.deepEqual(fate.corrupt, { byteFromEnd: 1, bit: 7 });
  assert.deepEqual([...corruptReply(Uint8Array.of(1, 2, 3), fate.corrupt.byteFromEnd, fate.corrupt.bit)], [1, 2, 0x83]);
  // hardware errors go to the servo; a disconnect is undone by clearing it
  faults.inject({ kind: 'hardware_error', id: 3, error: 'overheat' });
  const unplug = faults.inject({ kind: 'disconnect', signal: 'SIGKILL' });
  faults.clear(unplug);
  await sleep(0);
  assert.deepEqual(calls, ['hw 3 overheat', 'disconnect SIGKILL', 'reconnect']);
  // scheduled: starts later, ends by itself
  faults.schedule({ kind: 'no_reply', id: 1 }, { afterMs: 20, durationMs: 60 });
  assert.equal(faults.replyFate([1]).drop, false);
  await until('the scheduled fault to start', () => faults.active().some((f) => f.spec.kind === 'no_reply'));
  assert.equal(faults.replyFate([1]).drop, true);
  await until('the scheduled fault to end', () => !faults.active().some((f) => f.spec.kind === 'no_reply'));
  assert.equal(faults.replyFate([1]).drop, false);
  // malformed faults are refused with the reason
  assert.throws(() => faults.inject({ kind: 'no_reply', id: 9 }), /no servo with id 9/);
  assert.throws(() => faults.inject({ kind: 'corrupt_byte', bit: 8 }), /bit must be 0–7/);
  assert.throws(() => faults.inject({ kind: 'late_reply', delayMs: 0 }), /delayMs must be > 0/);
  assert.throws(
    () => faults.inject({ kind: 'hardware_error', id: 1, error: 'smoke' as never }),
    /error must be one of overload, overheat, voltage/,
  );
  faults.clearAll();
});
