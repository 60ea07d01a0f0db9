import { SpeedScale, type SpeedScaleOptions } from './speed_scale.js';
import type { EpisodeCommand, JogInput, JogMotion } from './teleop_source.js';

// Gamepad teleoperation: a Joy-shaped state (sensor_msgs/Joy's axes in [−1, 1] and buttons 0/1,
// from /joy or from hw/input/joystick_device.ts) as a jog input. The arm moves only while the
// deadman button is held (teleop_twist_joy's enable_button, default button 0, with
// require_enable_button true by default); let go, and every rate is zero on the next tick. Sticks
// inside the deadzone read 0, and outside it are rescaled so the rate rises from 0 at its edge.
// The other buttons act on their press (the edge from 0 to 1), deadman or not: select the
// previous or next joint, speed down or up, and the episode commands.
// Two layouts ship: 'sdl', the order ROS 2 joy's game_controller_node publishes for any SDL game
// controller, Xbox and PlayStation alike (buttons 0 A/Cross, 1 B/Circle, 2 X/Square, 3 Y/Triangle,
// 4 Back/Select, 6 Start, 9 LB/L1, 10 RB/R1, 11–14 D-pad up, down, left, right; axes 0/1 left
// stick x/y, 2/3 right stick x/y); and 'xpad', the order the Linux joystick device gives an Xbox pad
// (buttons 0 A, 1 B, 2 X, 3 Y, 4 LB, 5 RB, 6 Back, 7 Start, 9/10 stick clicks; axes 0/1 left stick,
// 3/4 right stick). A stick pushed up or left reads positive (the ROS joy drivers' sign), so the
// left stick's y drives +x (forward) and its x drives +y (left), REP 103's base frame.

/** A joystick's state as sensor_msgs/Joy carries it. */
export interface JoyState {
  readonly axes: ArrayLike<number>;
  readonly buttons: ArrayLike<number>;
}

export interface AxisMap {
  /** the axis index, −1 for none */
  readonly index: number;
  /** multiplies the axis (−1 flips it) */
  readonly scale: number;
}

export interface GamepadMapping {
  /** held to move; −1: no deadman (not recommended) */
  readonly deadman: number;
  readonly x: AxisMap;
  readonly y: AxisMap;
  readonly z: AxisMap;
  /** jogs the selected joint */
  readonly joint: AxisMap;
  readonly prevJoint: number;
  readonly nextJoint: number;
  readonly speedDown: number;
  readonly speedUp: number;
  readonly start: number;
  readonly end: number;
  readonly rerecord: number;
  readonly discard: number;
  readonly stop: number;
}

export const GAMEPAD_LAYOUTS = {
  sdl: {
    deadman: 0,
    x: { index: 1, scale: 1 },
    y: { index: 0, scale: 1 },
    z: { index: 3, scale: 1 },
    joint: { index: 2, scale: -1 },
    prevJoint: 13,
    nextJoint: 14,
    speedDown: 12,
    speedUp: 11,
    start: 6,
    end: 1,
    rerecord: 2,
    discard: 3,
    stop: 4,
  },
  xpad: {
    deadman: 0,
    x: { index: 1, scale: 1 },
    y: { index: 0, scale: 1 },
    z: { index: 4, scale: 1 },
    joint: { index: 3, scale: -1 },
    prevJoint: 4,
    nextJoint: 5,
    speedDown: 9,
    speedUp: 10,
    start: 7,
    end: 1,
    rerecord: 2,
    discard: 3,
    stop: 6,
  },
} as const satisfies Record<string, GamepadMapping>;

export type GamepadLayout = keyof typeof GAMEPAD_LAYOUTS;
export const GAMEPAD_LAYOUT_NAMES = Object.keys(GAMEPAD_LAYOUTS) as GamepadLayout[];

/** The order of the buttons in a button list (the `gamepad.buttons` parameter). */
export const GAMEPAD_BUTTON_ORDER = [
  'deadman',
  'prevJoint',
  'nextJoint',
  'speedDown',
  'speedUp',
  'start',
  'end',
  'rerecord',
  'discard',
  'stop',
] as const;
/** The order of the axes in an axis list (the `gamepad.axes` and `gamepad.axis_scales` parameters). */
export const GAMEPAD_AXIS_ORDER = ['x', 'y', 'z', 'joint'] as const;

/** A layout with some of its buttons and axes replaced; lists are in the orders above, empty for the layout's. */
export function gamepadMapping(
  layout: GamepadLayout,
  buttons: readonly number[],
  axes: readonly number[],
  axisScales: readonly number[],
): GamepadMapping {
  const base: GamepadMapping = GAMEPAD_LAYOUTS[layout];
  const check = (list: readonly number[], order: readonly string[], what: string): void => {
    if (list.length !== 0 && list.length !== order.length)
      throw new Error(`gamepad ${what}: ${list.length} values, expected ${order.length} (${order.join(', ')}) or none`);
  };
  check(buttons, GAMEPAD_BUTTON_ORDER, 'buttons');
  check(axes, GAMEPAD_AXIS_ORDER, 'axes');
  check(axisScales, GAMEPAD_AXIS_ORDER, 'axis scales');
  for (const [i, v] of [...buttons, ...axes].entries())
    if (!(Number.isInteger(v) && v >= -1)) throw new Error(`gamepad: index ${v} (entry ${i}) must be −1 (none) or ≥ 0`);
  if (!axisScales.every(Number.isFinite)) throw new Error('gamepad axis scales: must be finite');
  const out: Record<string, unknown> = { ...base };
  GAMEPAD_BUTTON_ORDER.forEach((name, i) => {
    if (buttons.length) out[name] = buttons[i]!;
  });
  GAMEPAD_AXIS_ORDER.forEach((name, i) => {
    out[name] = {
      index: axes.length ? axes[i]! : base[name].index,
      scale: axisScales.length ? axisScales[i]! : base[name].scale,
    };
  });
  return out as unknown as GamepadMapping;
}

/** A stick value with the deadzone removed: 0 inside, rescaled to reach ±1 at the end outside; non-finite reads 0. */
export function applyDeadzone(value: number, deadzone: number): number {
  if (!Number.isFinite(value)) return 0;
  const v = Math.max(-1, Math.min(1, value));
  const a = Math.abs(v);
  if (a <= deadzone) return 0;
  return (Math.sign(v) * (a - deadzone)) / (1 - deadzone);
}

export interface GamepadOptions extends SpeedScaleOptions {
  readonly deadzone: number;
  /** a monotonic clock (ns) */
  readonly now: () => bigint;
  /** a state older than this moves nothing (a /joy publisher that went away); 0n: no limit */
  readonly timeoutNs: bigint;
}

export interface GamepadOutcome {
  /** a line for the operator when a button changed something they should see */
  readonly say: string[];
}

export class GamepadTeleop implements JogInput {
  readonly kind: string;
  readonly #mapping: GamepadMapping;
  readonly #joints: readonly string[];
  readonly #o: GamepadOptions;
  readonly #speed: SpeedScale;
  #axes = new Float64Array(0);
  #buttons = new Int32Array(0);
  #stampNs: bigint | undefined;
  #selected = 0;
  #episodes: EpisodeCommand[] = [];
  readonly #motion: { joint: Float64Array; ee: [number, number, number]; scale: number };

  constructor(kind: string, jointNames: readonly string[], mapping: GamepadMapping, options: GamepadOptions) {
    if (jointNames.length === 0) throw new Error('gamepad teleop: no joints');
    if (!(options.deadzone >= 0 && options.deadzone < 1))
      throw new Error(`gamepad teleop: deadzone ${options.deadzone} must be in [0, 1)`);
    this.#speed = new SpeedScale('gamepad teleop', options);
    this.kind = kind;
    this.#mapping = mapping;
    this.#joints = jointNames;
    this.#o = options;
    this.#motion = { joint: new Float64Array(jointNames.length), ee: [0, 0, 0], scale: this.#speed.value };
  }

  get selectedJoint(): number {
    return this.#selected;
  }

  get scale(): number {
    return this.#speed.value;
  }

  /** True while the deadman is held in the newest state. */
  get enabled(): boolean {
    return this.#mapping.deadman < 0 || this.#buttons[this.#mapping.deadman] === 1;
  }

  /** A new state: button presses act, the axes are kept for motion(). */
  update(state: JoyState): GamepadOutcome {
    const say: string[] = [];
    const previous = this.#buttons;
    const buttons = Int32Array.from({ length: state.buttons.length }, (_, i) => (state.buttons[i] ? 1 : 0));
    const pressed = (index: number): boolean => index >= 0 && buttons[index] === 1 && previous[index] !== 1;
    const m = this.#mapping;
    const n = this.#joints.length;
    if (pressed(m.prevJoint) || pressed(m.nextJoint)) {
      this.#selected = (this.#selected + (pressed(m.nextJoint) ? 1 : n - 1)) % n;
      say.push(`joint ${this.#selected + 1} (${this.#joints[this.#selected]}) selected`);
    }
    if (pressed(m.speedUp) || pressed(m.speedDown)) say.push(this.#speed.step(pressed(m.speedUp) ? 1 : -1));
    const episodeButtons: readonly [number, EpisodeCommand][] = [
      [m.start, 'start'],
      [m.end, 'end'],
      [m.rerecord, 'rerecord'],
      [m.discard, 'discard'],
      [m.stop, 'stop'],
    ];
    for (const [index, command] of episodeButtons) if (pressed(index)) this.#episodes.push(command);
    this.#buttons = buttons;
    this.#axes = Float64Array.from({ length: state.axes.length }, (_, i) => state.axes[i]!);
    this.#stampNs = this.#o.now();
    return { say };
  }

  /** The device went away: everything reads released. */
  release(): void {
    this.#axes = new Float64Array(0);
    this.#buttons = new Int32Array(0);
    this.#stampNs = undefined;
  }

  motion(): JogMotion {
    const m = this.#motion;
    m.joint.fill(0);
    m.ee[0] = m.ee[1] = m.ee[2] = 0;
    m.scale = this.#speed.value;
    const fresh =
      this.#stampNs !== undefined && (this.#o.timeoutNs === 0n || this.#o.now() - this.#stampNs <= this.#o.timeoutNs);
    if (!fresh || !this.enabled) return m;
    const axis = (a: AxisMap): number =>
      a.index < 0 ? 0 : applyDeadzone((this.#axes[a.index] ?? 0) * a.scale, this.#o.deadzone);
    const map = this.#mapping;
    m.ee[0] = axis(map.x);
    m.ee[1] = axis(map.y);
    m.ee[2] = axis(map.z);
    m.joint[this.#selected] = axis(map.joint);
    return m;
  }

  takeEpisodeCommands(): EpisodeCommand[] {
    const out = this.#episodes;
    this.#episodes = [];
    return out;
  }
}
