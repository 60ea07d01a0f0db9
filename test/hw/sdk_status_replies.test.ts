import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EmulatedServo } from '../../hw/emulator/emulated_servo.js';
import { fromHex as hex, toHex } from '../../hw/protocol/bytes.js';
import { INSTRUCTION as DXL } from '../../hw/protocol/dynamixel/index.js';
import { INSTRUCTION as FT } from '../../hw/protocol/feetech/index.js';
import { BROADCAST_ID } from '../../hw/protocol/types.js';
import { sts3215, xl330M288, xl430W250 } from '../../hw/servos/index.js';
import { registerOf } from '../../hw/servos/registers.js';
import { bench, dynamixel, feetech, le, status } from './sdk_bench.js';

// What goes back on the wire when a servo's status level says less than "answer everything", and
// DYNAMIXEL's CLEAR and FACTORY RESET end to end: the chain sends a status only when the servo would
// (ROBOTIS e-manual: X-series Status Return Level(68) 0 PING only, 1 PING and READ, 2 all; Protocol
// 2.0 Clear and Factory Reset; Feetech STS memory table: Response Status Level(8) 0 READ and PING
// only, 1 all). Packets shaped as DynamixelSDK (write1ByteTxRx, regWriteTxRx, action, readTxRx,
// GroupSyncRead, clearMultiTurn, factoryReset) and scservo_sdk (write1ByteTxRx, RegWritePosEx,
// RegWriteAction, ReadPos) send them; the chain runs on the test's clock (test/hw/sdk_bench.ts).

const GOAL = registerOf(xl330M288, 'goal_position').address;
const PRESENT = registerOf(xl330M288, 'present_position').address;

test('DynamixelSDK, Status Return Level 1: REG_WRITE and ACTION get no status, READ and PING do', () => {
  const b = bench(dynamixel, [xl330M288, xl330M288]);
  // write1ByteTxRx(1, 68, 1): the new level is in effect when the status would go out
  assert.deepEqual(b.send(b.packet(1, DXL.write, [68, 0, 1])), []);
  assert.equal(b.servos[0]!.register('status_return_level'), 1);
  // regWriteTxRx(1, 116, 4, 1500) and action(1): carried out, not answered
  assert.deepEqual(b.send(b.packet(1, DXL.reg_write, [...le(GOAL, 2), ...le(1500, 4)])), []);
  assert.equal(b.servos[0]!.register('registered_instruction'), 1);
  assert.deepEqual(b.send(b.packet(1, DXL.action)), []);
  assert.equal(b.servos[0]!.register('goal_position'), 1500);
  // read4ByteTxRx(1, 116) and ping(1): answered
  assert.deepEqual(b.send(b.packet(1, DXL.read, [...le(GOAL, 2), 4, 0])), [status(1, 0, le(1500, 4))]);
  assert.deepEqual(b.send(b.packet(1, DXL.ping)), [status(1, 0, [...le(1200, 2), 46])]);
  // a Data Range Error is not reported either: the write is refused all the same
  assert.deepEqual(b.send(b.packet(1, DXL.write, [65, 0, 5])), []);
  assert.equal(b.servos[0]!.register('led'), 0);
  // an instruction the servo does not know: no Instruction Error at level 1, one at level 2
  assert.deepEqual(b.send(b.packet(1, 0x7e)), []);
  assert.deepEqual(b.send(b.packet(2, 0x7e)), [status(2, 0x02)]);
  // GroupSyncRead of both: each servo answers reads
  const present = b.servos.map((s) => le(s.register('present_position'), 4));
  assert.deepEqual(b.send(b.packet(BROADCAST_ID, DXL.sync_read, [...le(PRESENT, 2), 4, 0, 1, 2])), [
    status(1, 0, present[0]),
    status(2, 0, present[1]),
  ]);
  // servo 2, still at level 2, answers its REG_WRITE; a broadcast ACTION is answered by nobody
  assert.deepEqual(b.send(b.packet(2, DXL.reg_write, [...le(GOAL, 2), ...le(2500, 4)])), [status(2, 0)]);
  assert.deepEqual(b.send(b.packet(BROADCAST_ID, DXL.action)), []);
  assert.equal(b.servos[1]!.register('goal_position'), 2500);
});

test('DynamixelSDK, Status Return Level 0: only PING is answered; a sync read misses that servo, a fast one breaks', () => {
  const b = bench(dynamixel, [xl430W250, xl430W250]);
  b.send(b.packet(1, DXL.write, [68, 0, 0]));
  assert.deepEqual(b.send(b.packet(1, DXL.read, [...le(PRESENT, 2), 4, 0])), []);
  assert.deepEqual(b.send(b.packet(1, DXL.ping)), [status(1, 0, [...le(1060, 2), 46])]);
  // broadcastPing: every servo, whatever its level
  assert.deepEqual(
    b.send(b.packet(BROADCAST_ID, DXL.ping)).map((p) => p.id),
    [1, 2],
  );
  const sync = b.send(b.packet(BROADCAST_ID, DXL.sync_read, [...le(PRESENT, 2), 4, 0, 1, 2]));
  assert.deepEqual(
    sync.map((p) => p.id),
    [2],
  );
  assert.deepEqual(b.send(b.packet(BROADCAST_ID, DXL.fast_sync_read, [...le(PRESENT, 2), 4, 0, 1, 2])), []);
  // writing the level back to 2: that write is answered (the level in effect when the status goes out)
  assert.deepEqual(b.send(b.packet(1, DXL.write, [68, 0, 2])), [status(1, 0)]);
});

test('scservo_sdk, Response Status Level 0: WRITE, REG_WRITE and ACTION silent, READ and PING answered', () => {
  const b = bench(feetech, [sts3215, sts3215]);
  // write1ByteTxRx(1, 8, 0): from now on only READ and PING get a status
  assert.deepEqual(b.send(b.packet(1, FT.write, [8, 0])), []);
  assert.deepEqual(b.send(b.packet(1, FT.write, [40, 1])), []);
  assert.equal(b.servos[0]!.torqueEnabled, true);
  // RegWritePosEx(1, 3000, 0, 0): 7 bytes from Acceleration(41); then RegWriteAction = broadcast ACTION
  assert.deepEqual(b.send(b.packet(1, FT.reg_write, [41, 0, ...le(3000, 2), 0, 0, 0, 0])), []);
  assert.deepEqual(b.send(b.packet(BROADCAST_ID, FT.action)), []);
  assert.equal(b.servos[0]!.register('goal_position'), 3000);
  // ReadPos(1): READ 56, 2 bytes — answered; PING too
  const position = b.servos[0]!.register('present_position');
  assert.deepEqual(b.send(b.packet(1, FT.read, [56, 2])), [status(1, 0, le(position, 2))]);
  assert.deepEqual(b.send(b.packet(1, FT.ping)), [status(1, 0)]);
  // servo 2 at the factory level 1 answers everything
  assert.deepEqual(b.send(b.packet(2, FT.write, [40, 1])), [status(2, 0)]);
  assert.deepEqual(b.send(b.packet(2, FT.action)), [status(2, 0)]);
});

test('DynamixelSDK clearMultiTurn: the e-manual packet, the status it shows, Present Position back within one turn', () => {
  const b = bench(dynamixel, [xl430W250], { registers: { return_delay_time: 0, operating_mode: 4 } });
  const servo = b.servos[0]!;
  servo.moveTo(5 * 4096 + 700);
  assert.equal(servo.register('present_position'), 5 * 4096 + 700);
  // e-manual, Clear: instruction FF FF FD 00 01 08 00 10 01 44 58 4C 22 B1 DC → status FF FF FD 00 01 04 00 55 00 A1 0C
  const [reply, ...more] = b.chain.receive(hex('FF FF FD 00 01 08 00 10 01 44 58 4C 22 B1 DC'));
  assert.equal(more.length, 0);
  assert.equal(toHex(reply!.bytes), toHex(hex('FF FF FD 00 01 04 00 55 00 A1 0C')));
  assert.equal(servo.register('present_position'), 700);
  // while it moves: Result Fail
  b.send(b.packet(1, DXL.write, [64, 0, 1]));
  b.send(b.packet(1, DXL.write, [...le(GOAL, 2), ...le(9000, 4)]));
  b.advance(30);
  assert.equal(servo.register('moving'), 1);
  assert.deepEqual(b.send(b.packet(1, DXL.clear, [0x01, 0x44, 0x58, 0x4c, 0x22])), [status(1, 0x01)]);
  // a reserved option: Data Range Error; without the fixed bytes: the packet does not parse (Data Length Error)
  assert.deepEqual(b.send(b.packet(1, DXL.clear, [0x02])), [status(1, 0x04)]);
  assert.deepEqual(b.send(b.packet(1, DXL.clear, [0x01])), [status(1, 0x05)]);
  // broadcast: carried out by every servo at rest, answered by none
  assert.deepEqual(b.send(b.packet(BROADCAST_ID, DXL.clear, [0x01, 0x44, 0x58, 0x4c, 0x22])), []);
});

test('DynamixelSDK factoryReset: the status comes from the ID the servo had, then it reboots with factory values', () => {
  // three servos set up as LeRobot sets them: 1 Mbps (Baud Rate 3), Return Delay Time 0
  const b = bench(dynamixel, [xl330M288, xl330M288, xl330M288], {
    baudRate: 1_000_000,
    registers: { baud_rate: 3, return_delay_time: 0, homing_offset: 100 },
  });
  const [s1, s2, s3] = b.servos as [EmulatedServo, EmulatedServo, EmulatedServo];
  // factoryReset(3, 0x02): all but ID and baud rate; the e-manual status bytes under id 3
  const [reply] = b.chain.receive(b.packet(3, DXL.factory_reset, [0x02]));
  assert.equal(toHex(reply!.bytes.subarray(0, 9)), toHex(hex('FF FF FD 00 03 04 00 55 00')));
  assert.deepEqual([s3.id, s3.register('baud_rate'), s3.register('homing_offset')], [3, 3, 0]);
  // restarting: deaf, then back at the bus rate
  assert.deepEqual(b.send(b.packet(3, DXL.ping)), []);
  b.advance(100);
  assert.deepEqual(b.send(b.packet(3, DXL.ping)), [status(3, 0, [...le(1200, 2), 46])]);
  // factoryReset(2, 0x01): the baud rate goes back to 57600 — the servo no longer hears a 1 Mbps bus
  assert.deepEqual(b.send(b.packet(2, DXL.factory_reset, [0x01])), [status(2, 0)]);
  b.advance(100);
  assert.deepEqual([s2.id, s2.register('baud_rate')], [2, 1]);
  assert.deepEqual(b.send(b.packet(2, DXL.ping)), []);
  // factoryReset(1, 0xFF): answered under id 1's old self; ID 1 and 57600 afterwards
  b.send(b.packet(1, DXL.write, [7, 0, 9])); // ID 9
  assert.equal(s1.id, 9);
  assert.deepEqual(b.send(b.packet(9, DXL.factory_reset, [0xff])), [status(9, 0)]);
  assert.deepEqual([s1.id, s1.register('baud_rate')], [1, 1]);
  // an option the e-manual does not list: Data Range Error, nothing reset
  assert.deepEqual(b.send(b.packet(3, DXL.factory_reset, [0x07])), [status(3, 0x04)]);
  assert.equal(s3.isAwake(b.now), true);
  // broadcast Reset All is not carried out; broadcast 0x02 is, by everyone listening, silently
  b.send(b.packet(3, DXL.write, [65, 0, 1]));
  assert.deepEqual(b.send(b.packet(BROADCAST_ID, DXL.factory_reset, [0xff])), []);
  assert.deepEqual([s3.register('led'), s3.isAwake(b.now)], [1, true]);
  assert.deepEqual(b.send(b.packet(BROADCAST_ID, DXL.factory_reset, [0x02])), []);
  assert.deepEqual([s3.register('led'), s3.isAwake(b.now)], [0, false]);
});
