import type { KeyEvent } from './key_decoder.js';
import { SpeedScale, type SpeedScaleOptions } from './speed_scale.js';
import type { EpisodeCommand, JogInput, JogMotion } from './teleop_source.js';

// Keyboard teleoperation: the keymap from key events (key_decoder.ts) to jog and episode actions,
// and the jog input they make. A terminal reports presses only, never releases: a jog key moves
// for `holdNs` after its latest press, so a tap is a short nudge, and a key held down (the
// terminal's auto-repeat, some 30 presses a second after a first delay of a few hundred ms) moves
// on without a stop between repeats. Space stops every jog at once.
// The episode keys are LeRobot's recording keys (lerobot's init_keyboard_listener: right arrow ends
// the episode early, left arrow re-records it, Esc stops recording), with Enter to start an
// episode and Backspace to discard the one under way.

export type KeyAction =
  | { readonly kind: 'select_joint'; readonly joint: number }
  | { readonly kind: 'jog_joint'; readonly direction: 1 | -1 }
  | { readonly kind: 'jog_ee'; readonly axis: 0 | 1 | 2; readonly direction: 1 | -1 }
  | { readonly kind: 'speed'; readonly direction: 1 | -1 }
  | { readonly kind: 'halt' }
  | { readonly kind: 'episode'; readonly command: EpisodeCommand }
  | { readonly kind: 'help' }
  | { readonly kind: 'quit' };

const EE_KEYS: Readonly<Record<string, KeyAction>> = {
  w: { kind: 'jog_ee', axis: 0, direction: 1 },
  s: { kind: 'jog_ee', axis: 0, direction: -1 },
  a: { kind: 'jog_ee', axis: 1, direction: 1 },
  d: { kind: 'jog_ee', axis: 1, direction: -1 },
  r: { kind: 'jog_ee', axis: 2, direction: 1 },
  f: { kind: 'jog_ee', axis: 2, direction: -1 },
};

const NAMED_KEYS: Readonly<Record<string, KeyAction>> = {
  '+': { kind: 'jog_joint', direction: 1 },
  '=': { kind: 'jog_joint', direction: 1 },
  up: { kind: 'jog_joint', direction: 1 },
  '-': { kind: 'jog_joint', direction: -1 },
  _: { kind: 'jog_joint', direction: -1 },
  down: { kind: 'jog_joint', direction: -1 },
  ']': { kind: 'speed', direction: 1 },
  '[': { kind: 'speed', direction: -1 },
  space: { kind: 'halt' },
  enter: { kind: 'episode', command: 'start' },
  right: { kind: 'episode', command: 'end' },
  left: { kind: 'episode', command: 'rerecord' },
  backspace: { kind: 'episode', command: 'discard' },
  escape: { kind: 'episode', command: 'stop' },
  h: { kind: 'help' },
  '?': { kind: 'help' },
};

/** What a key does, or undefined for a key with no action. Letters work with Caps Lock or Shift too. */
export function keyAction(event: KeyEvent): KeyAction | undefined {
  if (event.ctrl) return event.name === 'c' ? { kind: 'quit' } : undefined;
  if (event.meta) return undefined;
  if (/^[1-9]$/.test(event.name)) return { kind: 'select_joint', joint: Number(event.name) - 1 };
  const lower = event.name.length === 1 ? event.name.toLowerCase() : event.name;
  return EE_KEYS[lower] ?? NAMED_KEYS[lower];
}

/** The on-screen help line. */
export function keyboardHelp(jointNames: readonly string[], ee: boolean): string {
  const joints = jointNames
    .slice(0, 9)
    .map((n, i) => `${i + 1} ${n}`)
    .join(', ');
  return [
    `joints: ${joints}; +/- or ↑/↓ jog the selected joint`,
    ...(ee ? ['end effector: w/s ±x, a/d ±y, r/f ±z'] : []),
    '[ ] speed down/up, space stop',
    'episode: Enter start, → end, ← re-record, Backspace discard, Esc stop recording',
    'h help, Ctrl-C quit',
  ].join(' | ');
}

/** the speed scale's steps (SpeedScaleOptions): each ] multiplies it, each [ divides it */
export interface KeyboardOptions extends SpeedScaleOptions {
  /** how long a jog key moves after its latest press (ns) */
  readonly holdNs: bigint;
  /** a monotonic clock (ns) */
  readonly now: () => bigint;
}

export interface KeyOutcome {
  readonly action: KeyAction | undefined;
  /** a line for the operator when the key changed something they should see (joint, speed, help) */
  readonly say?: string;
}

/** The keyboard as a jog input: keys in (handle), motion and episode commands out. */
export class KeyboardTeleop implements JogInput {
  readonly kind = 'keyboard';
  readonly #joints: readonly string[];
  readonly #ee: boolean;
  readonly #options: KeyboardOptions;
  readonly #speed: SpeedScale;
  #selected = 0;
  /** the selected joint's jog: direction and until when */
  #jointJog: { joint: number; direction: number; untilNs: bigint } | undefined;
  readonly #eeJog: ({ direction: number; untilNs: bigint } | undefined)[] = [undefined, undefined, undefined];
  #episodes: EpisodeCommand[] = [];
  #quit = false;
  readonly #motion: { joint: Float64Array; ee: [number, number, number]; scale: number };

  constructor(jointNames: readonly string[], ee: boolean, options: KeyboardOptions) {
    if (jointNames.length === 0) throw new Error('keyboard teleop: no joints');
    if (!(options.holdNs > 0n)) throw new Error(`keyboard teleop: holdNs ${options.holdNs} must be > 0`);
    this.#speed = new SpeedScale('keyboard teleop', options);
    this.#joints = jointNames;
    this.#ee = ee;
    this.#options = options;
    this.#motion = { joint: new Float64Array(jointNames.length), ee: [0, 0, 0], scale: this.#speed.value };
  }

  get selectedJoint(): number {
    return this.#selected;
  }

  get scale(): number {
    return this.#speed.value;
  }

  /** True once Ctrl-C was pressed. */
  get quit(): boolean {
    return this.#quit;
  }

  /** One key event: the action it maps to, applied. */
  handle(event: KeyEvent): KeyOutcome {
    const action = keyAction(event);
    if (!action) return { action };
    const until = this.#options.now() + this.#options.holdNs;
    switch (action.kind) {
      case 'select_joint':
        if (action.joint >= this.#joints.length)
          return { action, say: `no joint ${action.joint + 1}: there are ${this.#joints.length}` };
        this.#selected = action.joint;
        this.#jointJog = undefined;
        return { action, say: `joint ${action.joint + 1} (${this.#joints[action.joint]}) selected` };
      case 'jog_joint':
        this.#jointJog = { joint: this.#selected, direction: action.direction, untilNs: until };
        return { action };
      case 'jog_ee':
        if (!this.#ee) return { action, say: 'no end-effector jog: the teleop has no ee_site' };
        this.#eeJog[action.axis] = { direction: action.direction, untilNs: until };
        return { action };
      case 'speed':
        return { action, say: this.#speed.step(action.direction) };
      case 'halt':
        this.#halt();
        return { action, say: 'stopped' };
      case 'episode':
        this.#episodes.push(action.command);
        return { action };
      case 'help':
        return { action, say: keyboardHelp(this.#joints, this.#ee) };
      case 'quit':
        this.#halt();
        this.#quit = true;
        return { action };
    }
  }

  motion(): JogMotion {
    const now = this.#options.now();
    const m = this.#motion;
    m.joint.fill(0);
    const jj = this.#jointJog;
    if (jj && now < jj.untilNs) m.joint[jj.joint] = jj.direction;
    for (let axis = 0; axis < 3; axis++) {
      const e = this.#eeJog[axis];
      m.ee[axis] = e && now < e.untilNs ? e.direction : 0;
    }
    m.scale = this.#speed.value;
    return m;
  }

  takeEpisodeCommands(): EpisodeCommand[] {
    const out = this.#episodes;
    this.#episodes = [];
    return out;
  }

  #halt(): void {
    this.#jointJog = undefined;
    this.#eeJog.fill(undefined);
  }
}
