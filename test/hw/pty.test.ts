import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Emulator } from '../../hw/emulator/emulator.js';
import { PseudoTerminal } from '../../hw/emulator/pty.js';
import { BUILD_COMMAND, defaultPtyAddonPath, PtySupportError } from '../../hw/emulator/pty_addon.js';
import { parseRobotConfig } from '../../hw/robot_config.js';
import { armYaml, quietLogger, tempDir } from './bus_harness.js';

// The emulator's pseudo-terminal (hw/emulator/pty.ts) on its own: the link made to the slave
// (pts(4): /dev/pts/N) and removed again, a live link never stolen, a dangling one cleared, a new pty
// at the same path after a disconnect, and — when the native pty support was not built — one line
// naming the cause and the command that builds it, tried on an addon path that does not exist (the
// real addon stays where it is).

test('the link leads to the slave while the pty is open, and goes when it closes', (t) => {
  const dir = tempDir(t);
  const link = join(dir, 'tty');
  const pty = PseudoTerminal.open({ link, baudRate: 1_000_000 });
  try {
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.match(readlinkSync(link), /^\/dev\/pts\/\d+$/);
    assert.equal(readlinkSync(link), pty.devicePath);
    assert.ok(existsSync(link), 'the slave exists');
  } finally {
    pty.close();
  }
  assert.throws(() => lstatSync(link), /ENOENT/);
  assert.equal(pty.connected, false);
});

test('a live link is never stolen; a dangling one (a killed emulator) is cleared', (t) => {
  const dir = tempDir(t);
  const link = join(dir, 'tty');
  const first = PseudoTerminal.open({ link, baudRate: 1_000_000 });
  t.after(() => first.close());
  assert.throws(
    () => PseudoTerminal.open({ link, baudRate: 1_000_000 }),
    /tty already exists and leads to a live device \(another emulator running\?\)/,
  );
  assert.equal(readlinkSync(link), first.devicePath, 'the first link untouched');
  // a real file at the path is not ours to remove either
  const file = join(dir, 'file');
  writeFileSync(file, '');
  assert.throws(() => PseudoTerminal.open({ link: file, baudRate: 1_000_000 }), /already exists/);
  assert.ok(existsSync(file));

  const stale = join(dir, 'stale');
  symlinkSync(join(dir, 'no-such-pts'), stale);
  const second = PseudoTerminal.open({ link: stale, baudRate: 1_000_000 });
  t.after(() => second.close());
  assert.equal(readlinkSync(stale), second.devicePath);
});

test('disconnect and reconnect: the same path, a new pty; close after a crash-style disconnect removes the dangling link', (t) => {
  const dir = tempDir(t);
  const link = join(dir, 'tty');
  const pty = PseudoTerminal.open({ link, baudRate: 57_600 });
  pty.disconnect('unplug');
  assert.throws(() => lstatSync(link), /ENOENT/);
  pty.reconnect();
  assert.ok(existsSync(link) && pty.connected);
  pty.disconnect('crash');
  assert.ok(lstatSync(link).isSymbolicLink() && !existsSync(link), 'dangling, as a killed emulator leaves it');
  pty.reconnect();
  assert.ok(existsSync(link) && pty.connected);
  pty.disconnect('crash');
  pty.close();
  assert.throws(() => lstatSync(link), /ENOENT/);
  assert.throws(() => pty.reconnect(), /reconnect after close/);
});

test('pty support not built: one line with the cause and how to build it; nothing left at the device path', async (t) => {
  const dir = tempDir(t);
  const addonPath = join(dir, 'native', 'build', 'Release', 'dynastack_pty.node');
  const buildFailurePath = join(dir, 'native', 'build-failure.txt');
  const link = join(dir, 'tty');
  // no build-failure.txt: the missing file and the command
  assert.throws(
    () => PseudoTerminal.open({ link, baudRate: 1_000_000, addonPath, buildFailurePath }),
    (err: Error) => {
      assert.ok(err instanceof PtySupportError);
      assert.equal(
        err.message,
        `the servo emulator's pseudo-terminal support is not built (expected ${addonPath}): build it with \`${BUILD_COMMAND}\``,
      );
      return true;
    },
  );
  assert.equal(BUILD_COMMAND, 'npm run build:native');
  // with the build's own reason, quoted from the first line of build-failure.txt
  mkdirSync(join(dir, 'native'), { recursive: true });
  writeFileSync(
    buildFailurePath,
    'node-gyp rebuild failed (dynastack_pty.node not built): make: g++: No such file or directory\n\n--- node-gyp output ---\nmore\n',
  );
  const config = parseRobotConfig(armYaml('so101', link), 'so101 test arm');
  await assert.rejects(
    Emulator.start({ config, logger: quietLogger, ptyAddonPath: addonPath, ptyBuildFailurePath: buildFailurePath }),
    (err: Error) => {
      assert.ok(err instanceof PtySupportError);
      assert.doesNotMatch(err.message, /\n/);
      assert.match(err.message, /^the servo emulator's pseudo-terminal support is not built \(node-gyp rebuild failed/);
      assert.ok(err.message.includes('make: g++: No such file or directory'), err.message);
      assert.ok(err.message.endsWith('build it with `npm run build:native`'), err.message);
      return true;
    },
  );
  assert.throws(() => lstatSync(link), /ENOENT/);
  // the real addon is where the default path says (this suite runs on it)
  assert.ok(existsSync(defaultPtyAddonPath()), `${defaultPtyAddonPath()}: run ${BUILD_COMMAND}`);
});

test('an addon that does not load is reported the same way, with the loader error', (t) => {
  const dir = tempDir(t);
  const addonPath = join(dir, 'dynastack_pty.node');
  writeFileSync(addonPath, 'not a shared object');
  assert.throws(
    () => PseudoTerminal.open({ link: join(dir, 'tty'), baudRate: 1_000_000, addonPath }),
    /^PtySupportError: the servo emulator's pseudo-terminal support did not load \(.*\): rebuild it with `npm run build:native`$/,
  );
});
