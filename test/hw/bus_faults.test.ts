import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialPortMock } from 'serialport';
import { BusError, ServoBus } from '../../hw/bus/servo_bus.js';
import type { ServoFault } from '../../hw/bus/servo_bus_api.js';
import { busHints } from '../../hw/bus/hints.js';
import { SerialLink } from '../../hw/bus/serial_link.js';
import { DEFAULT_TIMING, TransactionQueue } from '../../hw/bus/transaction.js';
import { protocolByName } from '../../hw/protocol/index.js';
import { Emulator } from '../../hw/emulator/emulator.js';
import { parseRobotConfig } from '../../hw/robot_config.js';
import { armYaml, emulatedArm, quietLogger, tempDir, until, watchForCrashes, type ArmKind } from './bus_harness.js';

// Every fault the emulator injects, ending in the behaviour the driver documents
// (hw/bus/servo_bus.ts, hw/bus/transaction.ts):
//   no reply      → timeouts, bounded retries, a reported error; the bus stays usable, the silent
//                   servo is left out of cycles and comes back when it answers;
//   late reply    → dropped as stale; the next transactions get their own answers;
//   corrupt byte  → counted corrupt, retried, the transaction succeeds;
//   alert/overload→ that servo's torque off (or a reboot), the fault latched and reported, the
//                   servo no longer commanded; the other servos keep working;
//   disconnect    → reported, commands refused without touching the port, reopened when the pty
//                   comes back;
// and nothing escapes an event handler. Fragmented and echoed input is covered with serialport's
// mock binding. A bus configured for the other protocol than its servos speak gets a hint saying so.

const ARMS: readonly ArmKind[] = ['so101', 'koch'];

/** A transaction after which the emulator has seen everything sent before it. */
const settle = (bus: ServoBus) => bus.ping(0);

for (const kind of ARMS) {
  test(`${kind}: no reply → timeout, retries, a reported error, the bus still usable; the servo is left out, then back`, async (t) => {
    const crashes = watchForCrashes(t);
    const warnings: string[] = [];
    const logger = {
      ...quietLogger,
      warn: (m: string) => void warnings.push(m),
      error: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      level: 'warn',
    };
    const { bus, emulator } = await emulatedArm(t, kind, { logger, probeIntervalMs: 500 });
    const silent = emulator.inject({ kind: 'no_reply', id: 3 });

    await assert.rejects(bus.readRegister('elbow_flex', 'present_position'), (err: BusError) => {
      assert.equal(err.kind, 'timeout');
      assert.deepEqual(err.missing, [3]);
      assert.equal(err.attempts, 3, 'first attempt + 2 retries');
      return true;
    });
    assert.equal(bus.diagnostics().servos[2]!.counters.timeouts, 3);
    assert.ok(bus.diagnostics().counters.retries >= 2);
    // the bus still works, for the others
    assert.equal(
      await bus.readRegister('shoulder_pan', 'present_position'),
      emulator.servo(1).register('present_position'),
    );
    // a cycle with one servo silent: the others' state is there
    const partial = await bus.readState();
    assert.deepEqual(partial.valid, [true, true, false, true, true, true]);
    assert.ok(Number.isNaN(partial.position[2]!));
    // the hints came once, however many timeouts
    await bus.readState().catch(() => undefined);
    assert.equal(warnings.filter((w) => w.startsWith('hint:') && w.includes('baud')).length, 1, warnings.join('\n'));

    // missed three times in a row: left out of cycles (no more timeouts charged to it)
    assert.equal(bus.diagnostics().servos[2]!.responsive, false);
    const timeouts = bus.diagnostics().servos[2]!.counters.timeouts;
    await bus.readState();
    await bus.writeGoals([0, 0, 0, 0, 0, 0]);
    assert.equal(bus.diagnostics().servos[2]!.counters.timeouts, timeouts);

    // it answers again: the next probe brings it back into the cycle
    emulator.faults.clear(silent);
    let back = false;
    const deadline = performance.now() + 15_000;
    while (!back && performance.now() < deadline) {
      back = (await bus.readState()).valid[2]!;
      if (!back) await sleep(20);
    }
    assert.ok(back, 'elbow_flex read again after it answered a probe');
    assert.equal(bus.diagnostics().servos[2]!.responsive, true);
    crashes.assertNone();
  });

  test(`${kind}: corrupt byte → counted corrupt, retried, the transaction succeeds`, async (t) => {
    const crashes = watchForCrashes(t);
    const { bus, emulator } = await emulatedArm(t, kind);
    emulator.inject({ kind: 'corrupt_byte', id: 4, count: 1 });
    const state = await bus.readState();
    assert.ok(state.valid.every(Boolean));
    assert.equal(state.rawPosition[3], emulator.servo(4).register('present_position'));
    const d = bus.diagnostics();
    assert.ok(d.counters.corrupt >= 1, 'corrupt counted');
    assert.ok(d.counters.retries >= 1, 'retried');
    assert.equal(d.counters.failures, 0);
    assert.ok(d.servos[3]!.counters.corrupt >= 1, 'charged to the servo whose reply it was');
    // bus-wide noise on two replies in a row: still through within the retries
    emulator.inject({ kind: 'corrupt_byte', count: 2 });
    assert.equal(await bus.readRegister('gripper', 'present_position'), emulator.servo(6).register('present_position'));
    crashes.assertNone();
  });

  test(`${kind}: overload → torque off, fault latched and reported, the joint no longer commanded, the others carry on`, async (t) => {
    const crashes = watchForCrashes(t);
    const { bus, emulator } = await emulatedArm(t, kind);
    const faults: ServoFault[] = [];
    bus.on('fault', (f) => faults.push(f));
    await bus.setTorque(true);
    emulator.inject({ kind: 'hardware_error', id: 5, error: 'overload' });

    const state = await bus.readState();
    assert.ok(state.valid.every(Boolean), 'reads still work with the alert set');
    assert.equal(faults.length, 1);
    const fault = faults[0]!;
    assert.equal(fault.joint, 'wrist_roll');
    assert.ok(fault.flags.includes('overload'), fault.flags.join(','));
    assert.equal(fault.action, 'torque_off');
    assert.equal(emulator.servo(5).torqueEnabled, false);
    assert.deepEqual(
      bus.faults().map((f) => f.id),
      [5],
    );

    // goals go to every joint but the faulted one
    const before = emulator.servo(5).register('goal_position');
    await bus.writeGoals([0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
    await settle(bus);
    assert.equal(emulator.servo(5).register('goal_position'), before);
    for (const id of [1, 2, 3, 4, 6]) assert.equal(emulator.servo(id).register('goal_position'), 2047 + 65, `id ${id}`);
    // a second alert from the same servo is not a second fault
    await bus.readState();
    assert.equal(faults.length, 1);
    await assert.rejects(bus.setTorque(true, ['wrist_roll']), /'wrist_roll' has a latched fault \(overload/);

    // explicit clear: reboot, unlatch, command again
    await bus.clearFault('wrist_roll');
    assert.deepEqual(bus.faults(), []);
    assert.deepEqual(emulator.servo(5).hardwareFaults, []);
    await bus.setTorque(true, ['wrist_roll']);
    await bus.writeGoals([0.1, 0.1, 0.1, 0.1, 0.2, 0.1]);
    await settle(bus);
    assert.equal(emulator.servo(5).register('goal_position'), 2047 + 130);
    crashes.assertNone();
  });
}

test('overheat with the reboot policy → the servo is rebooted, the fault stays latched until cleared', async (t) => {
  const { bus, emulator } = await emulatedArm(t, 'koch', { onHardwareError: 'reboot' });
  const faults: ServoFault[] = [];
  bus.on('fault', (f) => faults.push(f));
  await bus.setTorque(true);
  emulator.inject({ kind: 'hardware_error', id: 2, error: 'overheat' });
  await bus.readState();
  assert.equal(faults.length, 1);
  assert.deepEqual(faults[0]!.flags, ['overheating']);
  assert.equal(faults[0]!.action, 'reboot');
  assert.deepEqual(emulator.servo(2).hardwareFaults, [], 'the reboot cleared the servo');
  assert.equal(emulator.servo(2).torqueEnabled, false);
  assert.deepEqual(
    bus.faults().map((f) => f.joint),
    ['shoulder_lift'],
  );
  // the others are still held
  for (const id of [1, 3, 4, 5, 6]) assert.equal(emulator.servo(id).torqueEnabled, true);
});

test('late reply → dropped as stale, the next transactions get their own answers', async (t) => {
  const crashes = watchForCrashes(t);
  // the silence awaited after a failed attempt is six timeouts here: room for a loaded machine's timer jitter
  const timeoutMs = 60 + 2 * 1;
  const { bus, emulator } = await emulatedArm(t, 'koch', {
    timing: { marginMs: 60, adapterLatencyMs: 1, returnDelayUs: 0, quietMs: 6 * timeoutMs },
  });
  // Goal Position and Present Position differ, and both are 4 bytes: a late answer to one would pass for the other
  await bus.writeRegister('shoulder_lift', 'goal_position', 3000);
  const present = emulator.servo(2).register('present_position');
  assert.notEqual(present, 3000);
  // late by half a timeout more than the deadline: it lands just after the attempt has given up
  emulator.inject({ kind: 'late_reply', id: 2, delayMs: 1.5 * timeoutMs, count: 1 });
  assert.equal(await bus.readRegister('shoulder_lift', 'present_position'), present, 'the retry is answered');
  assert.ok(bus.diagnostics().servos[1]!.counters.timeouts >= 1);
  assert.ok(bus.diagnostics().counters.stale >= 1, 'the late reply was dropped');
  // same servo, same reply size, right after: each request gets its own answer — at least five
  // rounds, and for as long as a second late reply could still be in flight
  const until4Timeouts = performance.now() + 4 * timeoutMs;
  for (let round = 0; round < 5 || performance.now() < until4Timeouts; round++) {
    assert.equal(await bus.readRegister('shoulder_lift', 'goal_position'), 3000);
    assert.equal(await bus.readRegister('shoulder_lift', 'present_position'), present);
  }
  assert.equal(bus.diagnostics().counters.failures, 0);
  const state = await bus.readState();
  assert.ok(state.valid.every(Boolean));
  assert.deepEqual(
    state.rawPosition,
    [1, 2, 3, 4, 5, 6].map((id) => emulator.servo(id).register('present_position')),
  );
  crashes.assertNone();
});

for (const [kind, signal] of [
  ['so101', 'SIGTERM'],
  ['koch', 'SIGKILL'],
] as const) {
  test(`${kind}: disconnect (${signal}) → reported, commands stop, reopened when the pty returns`, async (t) => {
    const crashes = watchForCrashes(t);
    const { bus, emulator } = await emulatedArm(t, kind);
    const events: string[] = [];
    bus.on('lost', () => events.push('lost'));
    bus.on('restored', () => events.push('restored'));
    await bus.setTorque(true);
    const handle = emulator.inject({ kind: 'disconnect', signal });
    // the loss shows by itself, or at the latest on the next write (EIO: the pty the host holds is hung up)
    await until(
      'the bus to notice',
      () => {
        if (bus.state === 'open') bus.readState().catch(() => undefined);
        return bus.state === 'lost';
      },
      15_000,
    );
    await sleep(50); // a second 'lost' for the same loss would show here
    assert.deepEqual(events, ['lost']);
    const sent = bus.diagnostics().counters.transactions;
    await assert.rejects(bus.readState(), (err: BusError) => err instanceof BusError && err.kind === 'lost');
    await assert.rejects(
      bus.writeGoals([0, 0, 0, 0, 0, 0]),
      (err: BusError) => err instanceof BusError && err.kind === 'lost',
    );
    assert.equal(bus.diagnostics().counters.transactions, sent, 'nothing was sent while lost');

    emulator.faults.clear(handle);
    await until('the bus to come back', () => bus.state === 'open', 15_000);
    assert.deepEqual(events, ['lost', 'restored']);
    // the emulator's own end reopens too; then commands work again
    assert.ok(emulator.connected, 'the emulator end is back');
    let state;
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      state = await bus.readState().catch(() => undefined);
      if (state?.valid.every(Boolean)) break;
      await sleep(20);
    }
    assert.ok(state?.valid.every(Boolean), 'state read after the reconnect');
    await bus.writeGoals([0.05, 0, 0, 0, 0, 0]);
    await settle(bus);
    assert.equal(emulator.servo(1).register('goal_position'), 2047 + 33);
    const d = bus.diagnostics();
    assert.equal(d.counters.losses, 1);
    assert.equal(d.counters.reconnects, 1);
    crashes.assertNone();
  });
}

test('fragmented, garbled and echoed input (serialport mock binding): replies reassembled, the echo dropped', async (t) => {
  const crashes = watchForCrashes(t);
  const path = '/dev/ROBOT_FRAGMENTS';
  // every read hands over at most 3 bytes, and the adapter echoes what the host writes
  SerialPortMock.binding.createPort(path, { echo: true, maxReadSize: 3 });
  t.after(() => SerialPortMock.binding.reset());
  let port: SerialPortMock | undefined;
  const link = new SerialLink({
    path,
    baudRate: 1_000_000,
    logger: quietLogger,
    reopen: false,
    openPort: (p, baudRate) => (port = new SerialPortMock({ path: p, baudRate, autoOpen: false })),
  });
  await link.open();
  t.after(() => link.close());
  /** answer the next write with these byte strings, emitted piece by piece */
  const answer = async (...parts: Uint8Array[]) => {
    const before = port!.port!.lastWrite;
    await until('the request', () => port!.port!.lastWrite !== before && port!.port!.lastWrite !== null, 30_000);
    for (const part of parts) {
      port!.port!.emitData(Buffer.from(part));
      await sleep(1);
    }
  };

  // the test hands the replies over itself, so no attempt may time out while it does: a margin no
  // stall of a loaded machine reaches (this test is about reassembly, not timing)
  const marginMs = 60_000;
  // Feetech: the echo of PING id 1 is a valid-looking status with the voltage bit; it must not be taken for the reply
  const sts = protocolByName('feetech_sts');
  const queue = new TransactionQueue(sts, link, { ...DEFAULT_TIMING, baudRate: 1_000_000, marginMs });
  const ping = queue.request({ kind: 'ping', id: 1 });
  await answer(Uint8Array.of(0x00, 0x13), Uint8Array.of(0xff, 0xff, 0x01, 0x02), Uint8Array.of(0x00, 0xfc));
  const pinged = await ping;
  assert.equal(pinged.replies[0]!.error, 0, 'the reply, not the echo');
  assert.equal(queue.counters.echoes, 1);
  assert.equal(queue.adapterEchoes, true, 'learnt: this adapter echoes');
  assert.ok(queue.counters.garbageBytes >= 2);

  // Feetech SYNC_READ (the Feetech protocol manual's SYNC_READ example): two replies split anywhere,
  // garbage between, a corrupt copy first
  const read = queue.request({ kind: 'sync_read', address: 0x38, length: 8, ids: [1, 2] });
  const reply1 = Uint8Array.of(0xff, 0xff, 0x01, 0x0a, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x79, 0x1e, 0x55);
  const reply2 = Uint8Array.of(0xff, 0xff, 0x02, 0x0a, 0x00, 0xff, 0x07, 0x00, 0x00, 0x00, 0x00, 0x77, 0x23, 0x53);
  const flipped = reply1.slice();
  flipped[6]! ^= 0x10;
  const stream = Uint8Array.from([...flipped, 0x42, ...reply1, 0x00, ...reply2]);
  await answer(...Array.from({ length: Math.ceil(stream.length / 5) }, (_, i) => stream.subarray(5 * i, 5 * i + 5)));
  const { replies } = await read;
  assert.deepEqual(
    replies.map((r) => r.id),
    [1, 2],
  );
  assert.deepEqual([...replies[0]!.data], [0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x79, 0x1e]);
  assert.deepEqual([...replies[1]!.data], [0xff, 0x07, 0x00, 0x00, 0x00, 0x00, 0x77, 0x23]);
  assert.equal(queue.counters.corrupt, 1, 'the flipped copy was refused');

  // Dynamixel: a reply whose stuffed parameters contain the header pattern (byte stuffing, ROBOTIS
  // e-manual, Protocol 2.0), in 1–3 byte pieces
  const dxl = new TransactionQueue(protocolByName('dynamixel2'), link, {
    ...DEFAULT_TIMING,
    baudRate: 1_000_000,
    marginMs,
  });
  const stuffedRead = dxl.request({ kind: 'read', id: 3, address: 0, length: 4 });
  const stuffed = Uint8Array.of(
    0xff,
    0xff,
    0xfd,
    0x00,
    0x03,
    0x09,
    0x00,
    0x55,
    0x00,
    0xff,
    0xff,
    0xfd,
    0xfd,
    0x00,
    0xf3,
    0xdc,
  );
  await answer(Uint8Array.of(0xaa), ...Array.from(stuffed, (b) => Uint8Array.of(b)));
  assert.deepEqual([...(await stuffedRead).replies[0]!.data], [0xff, 0xff, 0xfd, 0x00]);
  queue.close();
  dxl.close();
  crashes.assertNone();
});

test('echo auto-detection: on an adapter that does not echo, a reply equal to its request is still a reply', async (t) => {
  const path = '/dev/ROBOT_NO_ECHO';
  SerialPortMock.binding.createPort(path, { echo: false });
  t.after(() => SerialPortMock.binding.reset());
  let port: SerialPortMock | undefined;
  const link = new SerialLink({
    path,
    baudRate: 1_000_000,
    logger: quietLogger,
    reopen: false,
    openPort: (p, baudRate) => (port = new SerialPortMock({ path: p, baudRate, autoOpen: false })),
  });
  await link.open();
  t.after(() => link.close());
  const queue = new TransactionQueue(protocolByName('feetech_sts'), link, {
    ...DEFAULT_TIMING,
    baudRate: 1_000_000,
    marginMs: 100,
    retries: 0,
  });
  t.after(() => queue.close());
  const answerWith = async (bytes: Uint8Array) => {
    const before = port!.port!.lastWrite;
    await until('the request', () => port!.port!.lastWrite !== before && port!.port!.lastWrite !== null, 30_000);
    port!.port!.emitData(Buffer.from(bytes));
  };
  const first = queue.request({ kind: 'ping', id: 2 });
  await answerWith(Uint8Array.of(0xff, 0xff, 0x02, 0x02, 0x00, 0xfb));
  await first;
  assert.equal(queue.adapterEchoes, false, 'learnt: no echo');
  // PING id 1 answered by a servo with its voltage bit set: byte for byte the request (FF FF 01 02 01 FB)
  const ping = queue.request({ kind: 'ping', id: 1 });
  await answerWith(Uint8Array.of(0xff, 0xff, 0x01, 0x02, 0x01, 0xfb));
  const { replies } = await ping;
  assert.equal(replies[0]!.error, 0x01);
  assert.deepEqual(protocolByName('feetech_sts').describeError(replies[0]!.error).flags, ['voltage']);
});

test('hints: the FTDI latency timer is found behind by-id links and suggested when above 1 ms', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'dev/serial/by-id'), { recursive: true });
  writeFileSync(join(dir, 'dev/ttyUSB3'), '');
  const byId = join(dir, 'dev/serial/by-id/usb-FTDI_USB__-__Serial_Converter_FT1234-if00-port0');
  symlinkSync(join(dir, 'dev/ttyUSB3'), byId);
  const sysRoot = join(dir, 'sys');
  const timer = join(sysRoot, 'bus/usb-serial/devices/ttyUSB3/latency_timer');
  mkdirSync(join(timer, '..'), { recursive: true });
  writeFileSync(timer, '16\n');
  const context = {
    devicePath: byId,
    baudRate: 57_600,
    protocol: 'dynamixel2' as const,
    sysRoot,
    returnDelayUs: new Map([
      [1, 500],
      [2, 0],
    ]),
  };
  const hints = busHints(context);
  const latency = hints.find((h) => h.key === 'latency_timer');
  assert.ok(latency, 'latency hint');
  assert.match(latency.text, /up to 16 ms/);
  assert.ok(latency.text.includes(`echo 1 | sudo tee ${timer}`));
  assert.match(hints.find((h) => h.key === 'return_delay')!.text, /servos 1 \(500 µs\)/);
  assert.match(hints.find((h) => h.key === 'baud_rate')!.text, /57600 baud.*factory rate for dynamixel2: 57600/);
  writeFileSync(timer, '1\n');
  assert.equal(
    busHints(context).find((h) => h.key === 'latency_timer'),
    undefined,
    'no hint at 1 ms',
  );
  // a CH340 or a pty has no latency timer
  assert.equal(
    busHints({ ...context, devicePath: join(dir, 'dev/ttyUSB9-missing') }).find((h) => h.key === 'latency_timer'),
    undefined,
  );
});

for (const [chain, configured, answers] of [
  ['so101', 'dynamixel2', /hint: servo 1 answers a Feetech SCS\/STS PING .*: the bus is configured for dynamixel2/],
  [
    'koch',
    'feetech_sts',
    /hint: servo 1 answers a DYNAMIXEL Protocol 2\.0 PING: the bus is configured for feetech_sts/,
  ],
] as const) {
  test(`wrong protocol: a ${configured} bus on a ${chain} chain is told the protocol may be wrong, once`, async (t) => {
    const dir = tempDir(t);
    const port = join(dir, 'tty');
    const emulator = await Emulator.start({
      config: parseRobotConfig(armYaml(chain, port), chain),
      logger: quietLogger,
    });
    t.after(() => emulator.stop());
    const warnings: string[] = [];
    const logger = { ...quietLogger, warn: (m: string) => void warnings.push(m) };
    await assert.rejects(
      ServoBus.open({
        port,
        baudRate: 1_000_000,
        protocol: configured,
        joints: [
          { id: 1, name: 'shoulder_pan', model: configured === 'dynamixel2' ? 'XL430-W250' : 'STS3215' },
          { id: 2, name: 'shoulder_lift', model: configured === 'dynamixel2' ? 'XL430-W250' : 'STS3215' },
        ],
        timing: { marginMs: 50, retries: 0, adapterLatencyMs: 1, returnDelayUs: 0 },
        logger,
      }),
      (err: Error) => {
        assert.match(err.message, answers);
        return true;
      },
    );
    assert.equal(warnings.filter((w) => /^hint: .*PING/.test(w)).length, 1, warnings.join('\n'));
  });
}

test('hints: bytes that never form a packet of the configured protocol suggest another protocol (or baud rate)', () => {
  const context = { devicePath: '/dev/ttyACM-missing', baudRate: 1_000_000, protocol: 'dynamixel2' as const };
  const protocol = (traffic: { receivedBytes: number; packets: number }) =>
    busHints({ ...context, traffic }).find((h) => h.key === 'protocol');
  assert.match(
    protocol({ receivedBytes: 120, packets: 0 })?.text ?? '',
    /120 bytes arrived but none formed a dynamixel2 packet: the servos may speak another protocol \(a DYNAMIXEL config on a Feetech chain, or the reverse\) or run at another baud rate/,
  );
  assert.equal(protocol({ receivedBytes: 120, packets: 3 }), undefined, 'packets came: the protocol is right');
  assert.equal(protocol({ receivedBytes: 0, packets: 0 }), undefined, 'silence says nothing about the protocol');
});
