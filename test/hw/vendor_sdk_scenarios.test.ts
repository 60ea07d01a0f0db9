import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EmulatedServo } from '../../hw/emulator/emulated_servo.js';
import { Emulator } from '../../hw/emulator/emulator.js';
import { SerialLink } from '../../hw/bus/serial_link.js';
import { fromHex as hex, toHex } from '../../hw/protocol/bytes.js';
import { INSTRUCTION as DXL } from '../../hw/protocol/dynamixel/index.js';
import { INSTRUCTION as FT } from '../../hw/protocol/feetech/index.js';
import { BROADCAST_ID, type StatusPacket } from '../../hw/protocol/types.js';
import { loadRobotConfig } from '../../hw/robot_config.js';
import { sts3215, xl330M288, xl430W250 } from '../../hw/servos/index.js';
import { registerOf } from '../../hw/servos/registers.js';
import { packageRoot } from '../../src/util/paths.js';
import { emulatedArm, quietLogger, tempDir, until } from './bus_harness.js';
import { bench, dynamixel, feetech, le, settle, status, type Bench } from './sdk_bench.js';

// The emulator driven the way the vendors' SDKs drive a servo: packets shaped as ROBOTIS's
// DynamixelSDK (Protocol 2.0 packet handler: broadcastPing, readTxRx, write1/4ByteTxRx,
// regWriteTxRx, action, reboot) and Feetech's scservo_sdk (SMS_STS WritePosEx, readTxRx,
// write1ByteTxRx) send them, written from the packet layouts of the ROBOTIS e-manual (DYNAMIXEL
// Protocol 2.0 page; X-series control tables: LED(65), Status Return Level(68), Registered
// Instruction(69)) and Feetech's STS memory table (firmware version 0/1, Response Status Level 8,
// angle limits 9/11, sign-magnitude goal with the sign in bit 15); what the servo itself decides
// (which statuses it returns, CLEAR, FACTORY RESET) checked on the servo. Chains run on a clock the
// test moves (test/hw/sdk_bench.ts); two scenarios go through `dynastack emulate`'s pty.

// ── DYNAMIXEL ─────────────────────────────────────────────────────────────────────────────────────

test('DynamixelSDK: Status Return Level reads 2, Registered Instruction follows REG_WRITE/ACTION, LED refuses 2', () => {
  const b = bench(dynamixel, [xl430W250, xl330M288]);
  const goal = registerOf(xl330M288, 'goal_position').address;
  // read1ByteTxRx(2, 68): the factory level, every instruction answered
  assert.deepEqual(b.send(b.packet(2, DXL.read, [68, 0, 1, 0])), [status(2, 0, [2])]);
  // regWriteTxRx(2, 116, 4, 1000): answered, registered, not applied
  assert.deepEqual(b.send(b.packet(2, DXL.reg_write, [...le(goal, 2), ...le(1000, 4)])), [status(2, 0)]);
  assert.deepEqual(b.send(b.packet(2, DXL.read, [69, 0, 1, 0])), [status(2, 0, [1])]);
  assert.notEqual(b.servos[1]!.register('goal_position'), 1000);
  // action(2): applied, Registered Instruction back to 0
  assert.deepEqual(b.send(b.packet(2, DXL.action)), [status(2, 0)]);
  assert.equal(b.servos[1]!.register('goal_position'), 1000);
  assert.deepEqual(b.send(b.packet(2, DXL.read, [69, 0, 1, 0])), [status(2, 0, [0])]);
  // write1ByteTxRx(1, 65, 2): LED takes 0–1, Data Range Error (4) and nothing written
  assert.deepEqual(b.send(b.packet(1, DXL.write, [65, 0, 2])), [status(1, 0x04)]);
  assert.equal(b.servos[0]!.register('led'), 0);
  assert.deepEqual(b.send(b.packet(1, DXL.write, [65, 0, 1])), [status(1, 0)]);
  assert.deepEqual(b.send(b.packet(1, DXL.read, [65, 0, 1, 0])), [status(1, 0, [1])]);
  // the exact bytes of that Data Range Error status: FF FF FD 00 01 04 00 55 04 + CRC
  const [range] = b.chain.receive(b.packet(1, DXL.write, [65, 0, 9]));
  assert.equal(toHex(range!.bytes.subarray(0, 9)), toHex(hex('FF FF FD 00 01 04 00 55 04')));
  // REBOOT drops what was registered
  b.send(b.packet(1, DXL.reg_write, [...le(goal, 2), ...le(1500, 4)]));
  assert.equal(b.servos[0]!.register('registered_instruction'), 1);
  b.send(b.packet(1, DXL.reboot));
  assert.equal(b.servos[0]!.register('registered_instruction'), 0);
});

test('DynamixelSDK broadcastPing collects every servo, in id order, with model number and firmware', () => {
  const b = bench(dynamixel, [xl430W250, xl430W250, xl330M288]);
  // the e-manual's broadcast PING packet, byte for byte as the SDK sends it
  const replies = b.send(hex('FF FF FD 00 FE 03 00 01 31 42'));
  assert.deepEqual(replies, [
    status(1, 0, [...le(1060, 2), 46]),
    status(2, 0, [...le(1060, 2), 46]),
    status(3, 0, [...le(1200, 2), 46]),
  ]);
});

test('DynamixelSDK: REG_WRITE to some servos, then a broadcast ACTION: they act together, nobody answers', () => {
  const b = bench(dynamixel, [xl330M288, xl330M288, xl330M288]);
  const goal = registerOf(xl330M288, 'goal_position').address;
  const before = b.servos[2]!.register('goal_position');
  for (const [id, value] of [
    [1, 1111],
    [2, 2222],
  ] as const) {
    assert.deepEqual(b.send(b.packet(id, DXL.reg_write, [...le(goal, 2), ...le(value, 4)])), [status(id, 0)]);
    assert.equal(b.servos[id - 1]!.register('registered_instruction'), 1);
  }
  assert.deepEqual(b.send(b.packet(BROADCAST_ID, DXL.action)), []);
  assert.deepEqual(
    b.servos.map((s) => [s.register('goal_position'), s.register('registered_instruction')]),
    [
      [1111, 0],
      [2222, 0],
      [before, 0],
    ],
  );
  // servo 3 had nothing registered: no error shows afterwards
  assert.deepEqual(b.send(b.packet(3, DXL.ping)), [status(3, 0, [...le(1200, 2), 46])]);
});

test('Status Return Level decides which statuses a servo sends (DYNAMIXEL 0/1/2, Feetech Response Status Level 0/1)', () => {
  const kinds = ['ping', 'read', 'sync_read', 'bulk_read', 'write', 'reg_write', 'action', 'reboot'] as const;
  const table = (servo: EmulatedServo) => kinds.filter((k) => servo.answers(k));
  const dxl = (level: number) =>
    new EmulatedServo({ id: 1, model: xl430W250, registers: { status_return_level: level } });
  // e-manual, Status Return Level(68): 0 PING only, 1 PING and READ, 2 all instructions
  assert.deepEqual(table(dxl(0)), ['ping']);
  assert.deepEqual(table(dxl(1)), ['ping', 'read', 'sync_read', 'bulk_read']);
  assert.deepEqual(table(dxl(2)), kinds);
  assert.equal(dxl(1).answers(undefined), false, 'an instruction the servo does not know is not a read');
  assert.equal(dxl(2).answers(undefined), true);
  assert.equal(new EmulatedServo({ id: 1, model: xl430W250 }).register('status_return_level'), 2);
  // STS memory table, Response Status Level(8): 0 READ and PING only, 1 every instruction (factory)
  const ft = (level?: number) =>
    new EmulatedServo({
      id: 1,
      model: sts3215,
      ...(level === undefined ? {} : { registers: { status_return_level: level } }),
    });
  assert.deepEqual(table(ft(0)), ['ping', 'read', 'sync_read', 'bulk_read']);
  assert.deepEqual(table(ft()), kinds);
  assert.equal(ft().register('status_return_level'), 1);
  // the level is a register like any other: written over the bus, it takes effect
  const servo = dxl(2);
  const address = registerOf(xl430W250, 'status_return_level').address;
  assert.equal(servo.write(address, Uint8Array.of(3)).error, 0x04, 'Data Range Error above 2');
  assert.equal(servo.write(address, Uint8Array.of(1)).error, 0);
  assert.equal(servo.answers('write'), false);
});

test('CLEAR (0x01, multi-turn): Present Position back within one turn, only when stopped; reserved options refused', () => {
  const model = xl430W250;
  const servo = new EmulatedServo({ id: 1, model, position: 100, registers: { operating_mode: 4 } });
  servo.moveTo(3 * 4096 + 100);
  assert.equal(servo.register('present_position'), 12_388);
  assert.deepEqual(servo.clear(0x01), { error: 0, data: new Uint8Array(0) });
  assert.equal(servo.register('present_position'), 100);
  // torque on and still: the goal follows, so the servo stays where it is
  servo.write(registerOf(model, 'torque_enable').address, Uint8Array.of(1));
  servo.moveTo(2 * 4096 + 300);
  // extended position mode: goals beyond one turn are taken (the position limits bind mode 3 only)
  assert.equal(
    servo.write(registerOf(model, 'goal_position').address, Uint8Array.from(le(2 * 4096 + 300, 4))).error,
    0,
  );
  for (let i = 0; i < 50; i++) servo.step(0.01);
  assert.equal(servo.register('moving'), 0);
  assert.equal(servo.clear(0x01).error, 0);
  assert.deepEqual([servo.register('present_position'), servo.register('goal_position')], [300, 300]);
  for (let i = 0; i < 50; i++) servo.step(0.01);
  assert.equal(servo.register('present_position'), 300, 'the servo did not unwind the turns it lost');
  // moving: Result Fail (1), nothing cleared
  servo.write(registerOf(model, 'goal_position').address, Uint8Array.from(le(20_000, 4)));
  servo.step(0.05);
  assert.equal(servo.register('moving'), 1);
  const moving = servo.register('present_position');
  assert.equal(servo.clear(0x01).error, 0x01);
  assert.ok(servo.register('present_position') >= moving, 'not cleared while moving');
  // options other than 0x01 are reserved: Data Range Error
  assert.equal(servo.clear(0x02).error, 0x04);
});

test('FACTORY RESET: 0x02 keeps ID and baud rate, 0x01 keeps the ID, 0xFF resets both; broadcast 0xFF is ignored', () => {
  const configured = {
    baud_rate: 3,
    return_delay_time: 0,
    operating_mode: 4,
    homing_offset: 300,
    status_return_level: 1,
    led: 1,
  };
  const make = () => new EmulatedServo({ id: 5, model: xl330M288, registers: configured, bootMs: 100 });
  const snapshot = (s: EmulatedServo) =>
    (
      ['id', 'baud_rate', 'return_delay_time', 'operating_mode', 'homing_offset', 'status_return_level', 'led'] as const
    ).map((name) => s.register(name));
  const factory = [250, 3, 0, 2, 0]; // the X-series control table's initial values after the ID and baud rate
  const keepBoth = make();
  assert.equal(keepBoth.factoryReset(0x02, 1000).error, 0);
  assert.deepEqual(snapshot(keepBoth), [5, 3, ...factory]);
  // the servo restarts: deaf for its boot time, torque off
  assert.equal(keepBoth.isAwake(1050), false);
  assert.equal(keepBoth.isAwake(1100), true);
  assert.equal(keepBoth.torqueEnabled, false);
  const keepId = make();
  keepId.factoryReset(0x01, 0);
  assert.deepEqual(snapshot(keepId), [5, 1, ...factory]);
  const all = make();
  all.factoryReset(0xff, 0);
  assert.deepEqual(snapshot(all), [1, 1, ...factory]);
  // since firmware 42 a broadcast Reset All is not carried out (e-manual, Factory Reset)
  const broadcast = make();
  broadcast.factoryReset(0xff, 0, true);
  assert.deepEqual(snapshot(broadcast), [5, 3, 0, 4, 300, 1, 1]);
  assert.equal(broadcast.isAwake(0), true);
  broadcast.factoryReset(0x02, 0, true);
  assert.deepEqual(snapshot(broadcast), [5, 3, ...factory]);
  // the status is known before anything is reset (it goes out under the ID the servo had)
  assert.equal(make().factoryResetStatus(0x02).error, 0);
  // an option the e-manual does not list: Data Range Error, nothing reset
  assert.equal(make().factoryResetStatus(0x05).error, 0x04);
  const odd = make();
  assert.equal(odd.factoryReset(0x05, 0).error, 0x04);
  assert.deepEqual(snapshot(odd), [5, 3, 0, 4, 300, 1, 1]);
});

// ── Feetech ───────────────────────────────────────────────────────────────────────────────────────

/** scservo_sdk SMS_STS WritePosEx: 7 bytes from Acceleration(41), the position sign-magnitude (bit 15). */
function writePosEx(b: Bench, id: number, position: number, speed: number, acc: number): StatusPacket[] {
  const magnitude = Math.abs(position) | (position < 0 ? 0x8000 : 0);
  return b.send(b.packet(id, FT.write, [41, acc, ...le(magnitude, 2), 0, 0, ...le(speed, 2)]));
}

test('scservo_sdk: a negative goal does not wrap around the turn; the servo stops at its angle limits', () => {
  const b = bench(feetech, [sts3215, sts3215]);
  for (const id of [1, 2]) assert.deepEqual(b.send(b.packet(id, FT.write, [40, 1])), [status(id, 0)]);
  // goal −100 with the factory limits 0–4095: it goes to 0, not to 3996
  assert.deepEqual(writePosEx(b, 1, -100, 0, 0), [status(1, 0)]);
  assert.equal(b.servos[0]!.register('goal_position'), -100, 'the register keeps what was written');
  assert.equal(settle(b, 0), 0);
  // Max Angle Limit 3000: a goal of 3500 stops at 3000; Min Angle Limit 1000: −5 stops at 1000
  b.send(b.packet(2, FT.write, [11, ...le(3000, 2)]));
  b.send(b.packet(2, FT.write, [9, ...le(1000, 2)]));
  writePosEx(b, 2, 3500, 0, 0);
  assert.equal(settle(b, 1), 3000);
  writePosEx(b, 2, -5, 0, 0);
  assert.equal(settle(b, 1), 1000);
  // inside the limits nothing changes
  writePosEx(b, 2, 2100, 0, 0);
  assert.equal(settle(b, 1), 2100);
});

test('scservo_sdk: an STS3215 reports firmware 3.10 and Response Status Level 1; PING carries no parameters', () => {
  const b = bench(feetech, [sts3215]);
  // readTxRx(1, 0, 2): firmware major, minor
  assert.deepEqual(b.send(b.packet(1, FT.read, [0, 2])), [status(1, 0, [3, 10])]);
  // read1ByteTxRx(1, 8)
  assert.deepEqual(b.send(b.packet(1, FT.read, [8, 1])), [status(1, 0, [1])]);
  assert.deepEqual(b.send(b.packet(1, FT.ping)), [status(1, 0)]);
});

// ── the emulator as `dynastack emulate` serves it ─────────────────────────────────────────────────

test('dynastack emulate: STS3215 report firmware 3.10 (not a DYNAMIXEL number), X-series firmware 46', async (t) => {
  const so101 = await emulatedArm(t, 'so101');
  for (const j of so101.bus.joints) {
    assert.equal(await so101.bus.readRegister(j.index, 'firmware_version'), 3, j.name);
    assert.equal(await so101.bus.readRegister(j.index, 'firmware_minor_version'), 10, j.name);
  }
  const koch = await emulatedArm(t, 'koch');
  for (const j of koch.bus.joints) assert.equal(await koch.bus.readRegister(j.index, 'firmware_version'), 46, j.name);
});

test('the example robot configs keep every reply on: the bus driver waits for them', async (t) => {
  const dir = tempDir(t);
  for (const [file, level] of [
    ['koch_emulated.yaml', 2],
    ['so101_emulated.yaml', 1],
  ] as const) {
    const config = loadRobotConfig(join(packageRoot(), 'config', 'robots', file));
    const emulator = await Emulator.start({ config, link: join(dir, file), logger: quietLogger });
    t.after(() => emulator.stop());
    for (const s of config.servos) {
      const servo = emulator.servo(s.id);
      assert.equal(servo.register('status_return_level'), level, `${file} servo ${s.id}`);
      for (const kind of ['write', 'reg_write', 'action', 'read', 'ping'] as const)
        assert.ok(servo.answers(kind), `${file} servo ${s.id} answers ${kind}`);
    }
  }
});

test('over the pty: a DynamixelSDK broadcastPing gets one status from each of the six servos', async (t) => {
  const { config, bus } = await emulatedArm(t, 'koch');
  await bus.close();
  const link = new SerialLink({ path: config.port, baudRate: config.baudRate, logger: quietLogger, reopen: false });
  await link.open();
  t.after(() => link.close());
  const decoder = dynamixel.statusDecoder();
  const got: StatusPacket[] = [];
  link.on('data', (bytes) => {
    for (const e of decoder.push(bytes)) if (e.kind === 'packet') got.push(e.packet);
  });
  await link.write(hex('FF FF FD 00 FE 03 00 01 31 42'));
  await until('six PING statuses', () => got.length >= 6);
  assert.deepEqual(
    got.map((p) => [p.id, p.error, p.params[0]! | (p.params[1]! << 8), p.params[2]]),
    [1, 2, 3, 4, 5, 6].map((id) => [id, 0, id <= 2 ? 1060 : 1200, 46]),
  );
});
