import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Emulator } from '../../hw/emulator/emulator.js';
import { EmulatedServo } from '../../hw/emulator/emulated_servo.js';
import { ServoChain } from '../../hw/emulator/servo_chain.js';
import { protocolByName } from '../../hw/protocol/index.js';
import type { ProtocolName, ServoProtocol } from '../../hw/protocol/types.js';
import { parseRobotConfig } from '../../hw/robot_config.js';
import { servoModel, type ServoModel } from '../../hw/servos/index.js';
import type { SetupTarget } from '../../hw/setup/configure.js';
import { runServoSetup, type SetupUi } from '../../hw/setup/procedure.js';
import { scanRates } from '../../hw/setup/scan.js';
import { SetupSession, type LinkOpener, type SetupLink } from '../../hw/setup/session.js';
import { packageRoot } from '../../src/util/paths.js';
import { quietLogger, tempDir } from './bus_harness.js';

// Servo setup (hw/setup, `dynastack servo setup`) against emulated servos, two ways:
//  - in this process, on a bus whose line rate follows the host: every servo sits on one emulated
//    chain per line rate and hears only the chain its Baud Rate register selects (ServoChain's
//    `baudRate`), so scanning rates, moving a servo to another rate and reading it back there are
//    all exercised. The pty emulator (hw/emulator/emulator.ts) cannot do this: its chain listens at
//    robot.yaml's one rate whatever rate the host sets on the pty;
//  - the command as a user runs it, against the pty emulator at one rate (1 Mbps, Feetech's factory
//    and bus rate), swapping emulated servos between prompts as a user swaps cables.
// The PING window of the in-process tests is short: replies are timers of at most a few ms set
// before the window's own timer, so they always land inside it.

const sts3215 = servoModel('STS3215');
const xl430 = servoModel('XL430-W250');
const xl330 = servoModel('XL330-M288');

/** The bus seen from the host at one line rate: bytes reach only the chain of that rate. */
class LineAtRate implements SetupLink {
  readonly #data = new Set<(bytes: Uint8Array) => void>();
  readonly #lost = new Set<(reason: string) => void>();
  #open = true;

  constructor(
    readonly baudRate: number,
    private readonly chain: ServoChain,
    private readonly twinReplies: boolean,
  ) {}

  get isOpen(): boolean {
    return this.#open;
  }

  on(event: 'data', listener: (bytes: Uint8Array) => void): () => void;
  on(event: 'lost', listener: (reason: string) => void): () => void;
  on(event: 'data' | 'lost', listener: ((bytes: Uint8Array) => void) | ((reason: string) => void)): () => void {
    const set = (event === 'data' ? this.#data : this.#lost) as Set<typeof listener>;
    set.add(listener);
    return () => void set.delete(listener);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.#open) return Promise.reject(new Error('closed'));
    for (const reply of this.chain.receive(bytes)) {
      const out = this.twinReplies ? twin(reply.bytes) : reply.bytes;
      setTimeout(() => {
        if (this.#open) for (const l of this.#data) l(out);
      }, reply.delayMs);
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#open = false;
    return Promise.resolve();
  }
}

/** A reply followed by a copy with one bit flipped: what a second servo answering under the same id adds. */
function twin(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * 2);
  out.set(bytes, 0);
  out.set(bytes, bytes.length);
  out[out.length - 1]! ^= 0x01;
  return out;
}

/**
 * Emulated servos on a bus whose line rate is whatever the host opens it at. `plug` swaps the
 * servos on the bus; it takes effect at the next open (setup closes the port between servos).
 */
function multiRateBus(protocol: ServoProtocol, servos: EmulatedServo[] = []) {
  let plugged = servos;
  let twinReplies = false;
  const opened: number[] = [];
  const opener: LinkOpener = (baudRate) => {
    opened.push(baudRate);
    const chain = new ServoChain({ protocol, servos: plugged, baudRate });
    return Promise.resolve(new LineAtRate(baudRate, chain, twinReplies));
  };
  return {
    opener,
    opened,
    plug(next: EmulatedServo[], options: { twinReplies?: boolean } = {}) {
      plugged = next;
      twinReplies = options.twinReplies ?? false;
    },
  };
}

/** A UI that answers each prompt through `onPrompt` (false: input ends) and keeps every line. */
function scriptedUi(onPrompt: (prompt: string, n: number) => boolean = () => true): SetupUi & { lines: string[] } {
  const lines: string[] = [];
  let n = 0;
  return {
    lines,
    say: (text) => void lines.push(text),
    waitForEnter(prompt) {
      lines.push(prompt);
      return onPrompt(prompt, n++) ? Promise.resolve() : Promise.reject(new Error('input ended'));
    },
  };
}

function session(protocol: ServoProtocol, opener: LinkOpener): SetupSession {
  return new SetupSession(protocol, opener, { pingWindowMs: 60, marginMs: 50, logger: quietLogger });
}

function target(name: string, id: number, model: ServoModel, baudRate = 1_000_000): SetupTarget {
  return { name, id, model, baudRate };
}

function plan(protocol: ProtocolName, servos: SetupTarget[]) {
  return { robot: 'test', protocol, port: '(emulated)', configSource: 'robot.yaml', servos };
}

function registers(servo: EmulatedServo) {
  const m = servo.model;
  return {
    id: servo.register('id'),
    baudRate: servo.baudRate,
    returnDelay: servo.register('return_delay_time'),
    torque: servo.register('torque_enable'),
    ...(m.registers.lock ? { lock: servo.register('lock') } : {}),
  };
}

test('a factory-fresh XL430 (57600 baud, id 1) becomes id 2 at 1 Mbps with Return Delay Time 0, found by scanning rates and read back at the new rate', async () => {
  const dxl = protocolByName('dynamixel2');
  // left with torque on: its EEPROM refuses writes until torque is off (Access Error)
  const servo = new EmulatedServo({ id: 1, model: xl430, registers: { torque_enable: 1 } });
  assert.deepEqual(registers(servo), { id: 1, baudRate: 57_600, returnDelay: 250, torque: 1 });
  const bus = multiRateBus(dxl, [servo]);
  const ui = scriptedUi();
  const done = await runServoSetup(
    session(dxl, bus.opener),
    ui,
    plan('dynamixel2', [target('shoulder_pan', 2, xl430)]),
  );
  assert.deepEqual(registers(servo), { id: 2, baudRate: 1_000_000, returnDelay: 0, torque: 0 });
  assert.deepEqual(done, [
    {
      name: 'shoulder_pan',
      model: xl430,
      from: { id: 1, baudRate: 57_600 },
      id: 2,
      baudRate: 1_000_000,
      returnDelayUs: 0,
    },
  ]);
  // tried the bus rate first, found it at the factory rate, checked it at the bus rate
  assert.deepEqual(bus.opened, [1_000_000, 57_600, 1_000_000]);
  assert.ok(ui.lines.some((l) => /'shoulder_pan' set up: id 1 → 2, 57600 → 1000000 baud, return delay 0 µs/.test(l)));
});

test('a servo at an odd rate and id is found wherever it is; the servos are asked for last first, as LeRobot does', async () => {
  const dxl = protocolByName('dynamixel2');
  const odd = new EmulatedServo({ id: 42, model: xl330, registers: { baud_rate: 2 } });
  const fresh = new EmulatedServo({ id: 1, model: xl330 });
  assert.equal(odd.baudRate, 115_200);
  const bus = multiRateBus(dxl, [odd]);
  const prompts: string[] = [];
  const ui = scriptedUi((prompt, n) => {
    prompts.push(prompt);
    // the first servo asked for is the last of robot.yaml; then the user swaps in the other one
    if (n === 1) bus.plug([fresh]);
    return true;
  });
  await runServoSetup(
    session(dxl, bus.opener),
    ui,
    plan('dynamixel2', [target('wrist_roll', 5, xl330), target('gripper', 6, xl330)]),
  );
  assert.match(prompts[0]!, /'gripper' servo only/);
  assert.match(prompts[1]!, /'wrist_roll' servo only/);
  assert.deepEqual(registers(odd), { id: 6, baudRate: 1_000_000, returnDelay: 0, torque: 0 });
  assert.deepEqual(registers(fresh), { id: 5, baudRate: 1_000_000, returnDelay: 0, torque: 0 });
  const rates = scanRates('dynamixel2', 1_000_000);
  assert.deepEqual(rates.slice(0, 4), [1_000_000, 57_600, 9_600, 115_200]);
  // the odd one: every rate up to its own, then the check at the bus rate
  assert.deepEqual(bus.opened.slice(0, 5), [...rates.slice(0, 4), 1_000_000]);
});

test('the wrong model is refused naming both, and nothing is written to it', async () => {
  const dxl = protocolByName('dynamixel2');
  const servo = new EmulatedServo({ id: 1, model: xl330 });
  const bus = multiRateBus(dxl, [servo]);
  const ui = scriptedUi((_prompt, n) => n === 0);
  await assert.rejects(
    runServoSetup(session(dxl, bus.opener), ui, plan('dynamixel2', [target('shoulder_lift', 2, xl430)])),
    /input ended/,
  );
  const said = ui.lines.join('\n');
  assert.match(
    said,
    /'shoulder_lift' not set up: the servo found \(id 1 at 57600 baud\) is a XL330-M288 \(model number 1200\), but robot\.yaml has 'shoulder_lift' as a XL430-W250 \(model number 1060\)/,
  );
  assert.match(said, /press Enter to look for the 'shoulder_lift' servo again/);
  assert.deepEqual(registers(servo), { id: 1, baudRate: 57_600, returnDelay: 250, torque: 0 });
});

test('more than one servo answering is refused, nothing is written, and setup goes on once only one is connected', async () => {
  const dxl = protocolByName('dynamixel2');
  const a = new EmulatedServo({ id: 1, model: xl430 });
  const b = new EmulatedServo({ id: 3, model: xl430 });
  const bus = multiRateBus(dxl, [a, b]);
  const ui = scriptedUi((_prompt, n) => {
    if (n === 1) {
      // after the refusal both are untouched; the user unplugs a
      assert.deepEqual(registers(a), { id: 1, baudRate: 57_600, returnDelay: 250, torque: 0 });
      assert.deepEqual(registers(b), { id: 3, baudRate: 57_600, returnDelay: 250, torque: 0 });
      bus.plug([b]);
    }
    return true;
  });
  await runServoSetup(session(dxl, bus.opener), ui, plan('dynamixel2', [target('shoulder_pan', 1, xl430)]));
  assert.match(
    ui.lines.join('\n'),
    /'shoulder_pan' not set up: more than one servo answers at 57600 baud: id 1 \(XL430-W250\), id 3 \(XL430-W250\)\. Connect only one servo/,
  );
  assert.deepEqual(registers(b), { id: 1, baudRate: 1_000_000, returnDelay: 0, torque: 0 });
  assert.deepEqual(registers(a), { id: 1, baudRate: 57_600, returnDelay: 250, torque: 0 });
});

test('replies garbled as two servos under one id garble them are refused; so is a bus where nothing answers', async () => {
  const sts = protocolByName('feetech_sts');
  const servo = new EmulatedServo({ id: 1, model: sts3215 });
  const bus = multiRateBus(sts);
  bus.plug([servo], { twinReplies: true });
  const ui = scriptedUi((_prompt, n) => {
    if (n === 1) bus.plug([]);
    return n < 2;
  });
  await assert.rejects(
    runServoSetup(session(sts, bus.opener), ui, plan('feetech_sts', [target('gripper', 6, sts3215)])),
    /input ended/,
  );
  const said = ui.lines.join('\n');
  assert.match(said, /at 1000000 baud id 1 answered, and \d+ more bytes were unreadable: replies colliding/);
  assert.match(
    said,
    /no servo answered on \(emulated\) at 1000000, 500000, 250000, 128000, 115200, 76800, 57600, 38400 baud \(broadcast PING, every id\)/,
  );
  assert.equal(servo.register('id'), 1);
  assert.equal(servo.register('lock'), 1, 'EEPROM never unlocked');
});

// ---- the command, against the pty emulator ------------------------------------------------------

const root = packageRoot();
const cli = join(root, 'dist/cli/main.js');

function watch(child: ChildProcessWithoutNullStreams) {
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  return {
    text: () => out,
    exited,
    async waitFor(re: RegExp, ms = 30_000): Promise<void> {
      const deadline = performance.now() + ms;
      while (!re.test(out)) {
        if (child.exitCode !== null) throw new Error(`servo setup exited (${child.exitCode}) before ${re}:\n${out}`);
        if (performance.now() > deadline) throw new Error(`no ${re} within ${ms} ms:\n${out}`);
        await sleep(10);
      }
    },
  };
}

test('dynastack servo setup: two SO-101 servos one after the other, a refusal when two are connected, the servos hold what robot.yaml says', async (t) => {
  const dir = tempDir(t, 'dynastack-setup-');
  const link = join(dir, 'tty');
  const robot = join(dir, 'so101.yaml');
  writeFileSync(
    robot,
    `robot: so101\nport: ${link}\nprotocol: feetech_sts\nbaud_rate: 1000000\nservos:\n` +
      ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper']
        .map((name, i) => `  - { id: ${i + 1}, name: ${name}, model: STS3215 }\n`)
        .join(''),
  );
  /** servos as they come out of the box (or at other ids), behind the pty at `link` */
  let emulator: Emulator | undefined;
  const plugIn = async (ids: number[]): Promise<Emulator> => {
    await emulator?.stop();
    const servos = ids.map((id) => `  - { id: ${id}, name: s${id}, model: STS3215 }\n`).join('');
    const config = parseRobotConfig(
      `robot: bench\nport: ${link}\nprotocol: feetech_sts\nbaud_rate: 1000000\nservos:\n${servos}`,
      'bench',
    );
    emulator = await Emulator.start({ config, logger: quietLogger });
    return emulator;
  };
  t.after(() => emulator?.stop());
  const first = await plugIn([1]);
  const child = spawn(
    process.execPath,
    [cli, 'servo', 'setup', '--config', robot, '--only', 'wrist_roll,gripper', '--timeout-margin-ms', '150'],
    { cwd: root },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const io = watch(child);
  await io.waitFor(/'gripper' servo only \(STS3215, to become id 6\), then press Enter/);
  child.stdin.write('\n');
  await io.waitFor(/'wrist_roll' servo only/);
  assert.match(io.text(), /'gripper' set up: id 1 → 6, 1000000 → 1000000 baud, return delay 0 µs/);
  const gripper = first.servo(6);
  assert.deepEqual(registers(gripper), { id: 6, baudRate: 1_000_000, returnDelay: 0, torque: 0, lock: 1 });
  assert.equal(gripper.register('baud_rate'), 0);

  // the user connects two servos by mistake
  const two = await plugIn([1, 9]);
  child.stdin.write('\n');
  await io.waitFor(/press Enter to look for the 'wrist_roll' servo again/);
  assert.match(io.text(), /'wrist_roll' not set up: more than one servo answers at 1000000 baud: id 1, id 9\./);
  for (const id of [1, 9])
    assert.deepEqual(registers(two.servo(id)), { id, baudRate: 1_000_000, returnDelay: 0, torque: 0, lock: 1 });

  // then only one, at an id other than the factory's
  const last = await plugIn([9]);
  child.stdin.write('\n');
  assert.equal(await io.exited, 0, io.text());
  assert.match(io.text(), /'wrist_roll' set up: id 9 → 5, 1000000 → 1000000 baud/);
  assert.match(io.text(), /2 servos set up: gripper id 6, wrist_roll id 5\./);
  assert.deepEqual(registers(last.servo(5)), { id: 5, baudRate: 1_000_000, returnDelay: 0, torque: 0, lock: 1 });
});
