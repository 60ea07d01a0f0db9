import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PseudoTerminal, type DisconnectStyle } from '../../hw/emulator/pty.js';
import { LinkLostError, SerialLink } from '../../hw/bus/serial_link.js';
import { quietLogger, until, watchForCrashes } from './bus_harness.js';

// The serial link (serialport) over a real pseudo-terminal: the host opens the pty's slave through
// its link as it would /dev/ttyUSB0, the test plays the device on the master. Bytes both ways; the
// device vanishing (unplugged: link removed, then the pty closed; or as if its emulator crashed: the
// pty closed, the link left dangling), the link noticing once — serialport reports it as a
// 'close' with a DisconnectedError, or on the next write as EIO, then 'close' (serialport's
// SerialPort docs, 'close' event) —, refusing writes and reopening by itself when the path returns.

const quiet = quietLogger;

/** A pty whose master side the test reads (`received`) and writes (`write`). */
interface Device {
  readonly pty: PseudoTerminal;
  readonly received: number[];
}

function device(t: TestContext): Device {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-link-'));
  const received: number[] = [];
  const pty = PseudoTerminal.open({
    link: join(dir, 'tty'),
    baudRate: 1_000_000,
    onData: (bytes) => void received.push(...bytes),
  });
  t.after(() => {
    pty.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { pty, received };
}

function link(t: TestContext, path: string, reopen = { initialDelayMs: 20, maxDelayMs: 100 }): SerialLink {
  const l = new SerialLink({ path, baudRate: 1_000_000, reopen, logger: quiet });
  t.after(() => l.close());
  return l;
}

/** Resolves with the next `n` bytes the link receives, however they are split. */
function collect(l: SerialLink, n: number, timeoutMs = 5000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const got: number[] = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`received ${got.length} of ${n} bytes`));
    }, timeoutMs);
    const off = l.on('data', (bytes) => {
      got.push(...bytes);
      if (got.length >= n) {
        clearTimeout(timer);
        off();
        resolve(Uint8Array.from(got));
      }
    });
  });
}

/** Waits until the device has received `n` bytes in all, and returns them. */
async function receivedBytes(d: Device, n: number): Promise<Uint8Array> {
  await until(`${n} bytes at the device (got ${d.received.length})`, () => d.received.length >= n, 5000);
  return Uint8Array.from(d.received);
}

test('bytes written by the host arrive at the pty master, and back, both ways', async (t) => {
  const crashes = watchForCrashes(t);
  const d = device(t);
  const host = link(t, d.pty.link);
  await host.open();
  const packet = Uint8Array.from([0xff, 0xff, 0xfd, 0x00, 0x01, 0x03, 0x00, 0x01, 0x19, 0x4e]);
  await host.write(packet);
  assert.deepEqual(await receivedBytes(d, packet.length), packet);
  // 0x0d, 0x0a, 0x03, 0x11, 0x13 and 0x7f pass untouched: the slave is raw (no CR/NL mapping, no signals, no flow control)
  const reply = Uint8Array.from({ length: 256 }, (_, i) => (i * 7) & 0xff);
  const back = collect(host, reply.length);
  assert.equal(d.pty.write(reply), true);
  assert.deepEqual(await back, reply);
  crashes.assertNone();
});

test('a host that closes and reopens the port finds the device working: the master never sees EIO', async (t) => {
  const crashes = watchForCrashes(t);
  const errors: Error[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-link-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const received: number[] = [];
  const pty = PseudoTerminal.open({
    link: join(dir, 'tty'),
    baudRate: 1_000_000,
    onData: (bytes) => void received.push(...bytes),
    onError: (err) => void errors.push(err),
  });
  t.after(() => pty.close());
  for (let round = 1; round <= 3; round++) {
    const host = link(t, pty.link);
    await host.open();
    await host.write(Uint8Array.of(round));
    await until(`byte ${round} at the device`, () => received.length === round, 5000);
    const back = collect(host, 2);
    pty.write(Uint8Array.of(round, 0xaa));
    assert.deepEqual(await back, Uint8Array.of(round, 0xaa));
    await host.close();
  }
  assert.deepEqual(received, [1, 2, 3]);
  assert.deepEqual(errors, []);
  assert.ok(pty.connected);
  crashes.assertNone();
});

for (const style of ['unplug', 'crash'] as const satisfies readonly DisconnectStyle[]) {
  test(`a vanished device (${style}) is reported once, writes are refused, and the link reopens when the path returns`, async (t) => {
    const crashes = watchForCrashes(t);
    const d = device(t);
    const host = link(t, d.pty.link);
    await host.open();
    const lost: string[] = [];
    const opened: boolean[] = [];
    host.on('lost', (reason) => lost.push(reason));
    host.on('open', (reopened) => opened.push(reopened));

    /** the device as the test sees it (a call: each check reads it anew) */
    const present = () => ({ connected: d.pty.connected, path: existsSync(d.pty.link) });
    d.pty.disconnect(style);
    assert.deepEqual(present(), { connected: false, path: false }, 'the device is gone');
    // unplugged: the link went with it; crashed: it dangles
    if (style === 'unplug') assert.throws(() => lstatSync(d.pty.link), /ENOENT/);
    else assert.ok(lstatSync(d.pty.link).isSymbolicLink());
    assert.equal(d.pty.write(Uint8Array.of(1)), false, 'nothing to write to');
    // the read side usually notices by itself; a write forces the EIO path when it does not
    await until('the loss to be noticed', () => {
      if (host.state === 'open') host.write(Uint8Array.of(0)).catch(() => undefined);
      return host.state === 'lost';
    });
    await sleep(100); // the second 'close' of the EIO path, if any, must not count again
    assert.equal(lost.length, 1, `lost reported ${lost.length} times: ${lost.join(' | ')}`);
    assert.equal(host.losses, 1);
    await assert.rejects(host.write(Uint8Array.of(1, 2, 3)), LinkLostError);
    // still missing: the reopen attempts fail quietly and keep going
    await sleep(150);
    assert.equal(host.state, 'lost');

    d.pty.reconnect();
    assert.deepEqual(present(), { connected: true, path: true }, 'back at the same path');
    await until('the link to reopen', () => host.state === 'open', 5000);
    assert.deepEqual(opened, [true]);
    assert.equal(host.reconnects, 1);
    const before = d.received.length;
    await host.write(Uint8Array.of(9, 8, 7));
    assert.deepEqual((await receivedBytes(d, before + 3)).slice(before), Uint8Array.of(9, 8, 7));
    const back = collect(host, 2);
    d.pty.write(Uint8Array.of(6, 5));
    assert.deepEqual(await back, Uint8Array.of(6, 5));
    crashes.assertNone();
  });
}

test('open names the cause: a missing device, a port already in use', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-link-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = link(t, join(dir, 'ttyUSB9'));
  await assert.rejects(missing.open(), /cannot open .*ttyUSB9: no such device/);
  assert.equal(missing.state, 'closed');

  const d = device(t);
  const first = link(t, d.pty.link);
  await first.open();
  const second = link(t, d.pty.link);
  await assert.rejects(second.open(), /in use by another process/);
});

test('a listener that throws is logged, not thrown out of the event handler', async (t) => {
  const crashes = watchForCrashes(t);
  const d = device(t);
  const errors: string[] = [];
  const logger = {
    ...quiet,
    error: (m: string) => void errors.push(m),
    warn: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    level: 'error',
  };
  const host = new SerialLink({ path: d.pty.link, baudRate: 1_000_000, logger });
  t.after(() => host.close());
  await host.open();
  host.on('data', () => {
    throw new Error('listener bug');
  });
  const stillDelivered = collect(host, 2);
  d.pty.write(Uint8Array.of(1, 2));
  assert.deepEqual(await stillDelivered, Uint8Array.of(1, 2));
  assert.ok(
    errors.some((e) => e.includes('listener bug')),
    errors.join('\n'),
  );
  crashes.assertNone();
});
