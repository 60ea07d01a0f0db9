import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PtyPair, SOCAT_MISSING } from '../../hw/emulator/pty_pair.js';
import { LinkLostError, SerialLink } from '../../hw/bus/serial_link.js';
import { quietLogger, watchForCrashes } from './bus_harness.js';

// The serial link over a real pty pair made by socat (shared/reference/servo-protocols.md §1.2,
// §1.4): bytes both ways, the device vanishing (socat stopped by SIGTERM, or killed), the link
// noticing once, refusing writes, and reopening by itself when the same path comes back.

const quiet = quietLogger;

async function ptyPair(t: TestContext): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-link-'));
  const pair = await PtyPair.start({ linkA: join(dir, 'host'), linkB: join(dir, 'device') });
  t.after(async () => {
    await pair.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return pair;
}

function link(t: TestContext, path: string, reopen = { initialDelayMs: 20, maxDelayMs: 100 }): SerialLink {
  const l = new SerialLink({ path, baudRate: 1_000_000, reopen, logger: quiet });
  t.after(() => l.close());
  return l;
}

/** Resolves with the next `n` bytes the link receives, however they are split. */
function collect(l: SerialLink, n: number, timeoutMs = 2000): Promise<Uint8Array> {
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

async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('bytes written on one end of the pty pair arrive on the other, both ways', async (t) => {
  const crashes = watchForCrashes(t);
  const pair = await ptyPair(t);
  const host = link(t, pair.linkA);
  const device = link(t, pair.linkB);
  await host.open();
  await device.open();
  const packet = Uint8Array.from([0xff, 0xff, 0xfd, 0x00, 0x01, 0x03, 0x00, 0x01, 0x19, 0x4e]);
  const arriving = collect(device, packet.length);
  await host.write(packet);
  assert.deepEqual(await arriving, packet);
  const reply = Uint8Array.from({ length: 200 }, (_, i) => (i * 7) & 0xff);
  const back = collect(host, reply.length);
  await device.write(reply);
  assert.deepEqual(await back, reply);
  crashes.assertNone();
});

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`a vanished device (socat ${signal}) is reported once, writes are refused, and the link reopens when the path returns`, async (t) => {
    const crashes = watchForCrashes(t);
    const pair = await ptyPair(t);
    const host = link(t, pair.linkA);
    await host.open();
    const lost: string[] = [];
    const opened: boolean[] = [];
    host.on('lost', (reason) => lost.push(reason));
    host.on('open', (reopened) => opened.push(reopened));

    await pair.stop(signal);
    // the read side usually notices by itself; a write forces the EIO path when it does not (§1.4)
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

    await pair.restart();
    await until('the link to reopen', () => host.state === 'open');
    assert.deepEqual(opened, [true]);
    assert.equal(host.reconnects, 1);
    const device = link(t, pair.linkB);
    await device.open();
    const arriving = collect(device, 3);
    await host.write(Uint8Array.of(9, 8, 7));
    assert.deepEqual(await arriving, Uint8Array.of(9, 8, 7));
    crashes.assertNone();
  });
}

test('open names the cause: a missing device, a port already in use', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-link-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = link(t, join(dir, 'ttyUSB9'));
  await assert.rejects(missing.open(), /cannot open .*ttyUSB9: no such device/);
  assert.equal(missing.state, 'closed');

  const pair = await ptyPair(t);
  const first = link(t, pair.linkA);
  await first.open();
  const second = link(t, pair.linkA);
  await assert.rejects(second.open(), /in use by another process/);
});

test('a listener that throws is logged, not thrown out of the event handler', async (t) => {
  const crashes = watchForCrashes(t);
  const pair = await ptyPair(t);
  const errors: string[] = [];
  const logger = {
    ...quiet,
    error: (m: string) => void errors.push(m),
    warn: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    level: 'error',
  };
  const host = new SerialLink({ path: pair.linkA, baudRate: 1_000_000, logger });
  t.after(() => host.close());
  const device = link(t, pair.linkB);
  await host.open();
  await device.open();
  host.on('data', () => {
    throw new Error('listener bug');
  });
  const stillDelivered = collect(host, 2);
  await device.write(Uint8Array.of(1, 2));
  assert.deepEqual(await stillDelivered, Uint8Array.of(1, 2));
  assert.ok(
    errors.some((e) => e.includes('listener bug')),
    errors.join('\n'),
  );
  crashes.assertNone();
});

test('a missing socat is reported with how to install it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-link-'));
  try {
    await assert.rejects(
      PtyPair.start({ linkA: join(dir, 'a'), linkB: join(dir, 'b'), socat: join(dir, 'no-socat-here') }),
      (err: Error) => {
        assert.equal(err.message, SOCAT_MISSING);
        assert.match(err.message, /apt-get install socat/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
