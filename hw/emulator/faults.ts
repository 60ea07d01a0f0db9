import { HARDWARE_FAULTS, type FaultSpec, type HardwareFault } from '../robot_config.js';

// Fault injection for the emulated bus: the failures a real servo chain shows (missing, late and
// corrupt status packets; the hardware errors of the ROBOTIS e-manual's Hardware Error Status and
// of Feetech's status byte; the adapter unplugged), on demand. Reply faults act on status packets as the chain sends them,
// for one servo or the whole bus, for a number of replies or until cleared: no reply, a late reply,
// a corrupt byte. Hardware errors (overload, overheat, voltage) go into the servo itself and stay
// latched until it is rebooted, as on the real servo. A disconnect closes the pty, so the host sees
// its port vanish (SIGTERM: unplugged, the link removed; SIGKILL: as if the emulator died, the link
// left dangling), and optionally brings it back. Any fault can start now, after a delay, and end
// by itself after a duration.

export type { FaultSpec, HardwareFault };

export type FaultKind = FaultSpec['kind'];

/** What the emulator does for the faults that are not reply filters. */
export interface FaultTarget {
  hardwareError(id: number, error: HardwareFault): void;
  disconnect(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  reconnect(): Promise<void>;
  /** ids on the bus, to reject faults for absent servos */
  hasServo(id: number): boolean;
}

/** How one outgoing reply is treated. */
export interface ReplyFate {
  readonly drop: boolean;
  readonly delayMs: number;
  /** flip `bit` of the byte `byteFromEnd` from the end */
  readonly corrupt: { readonly byteFromEnd: number | undefined; readonly bit: number } | undefined;
}

export interface ActiveFault {
  readonly handle: number;
  readonly spec: FaultSpec;
  /** replies still to affect (undefined: until cleared) */
  remaining: number | undefined;
}

export interface ScheduleOptions {
  /** start after this many ms (default now) */
  readonly afterMs?: number;
  /** end by itself after this many ms once started */
  readonly durationMs?: number;
}

const CLEAN: ReplyFate = { drop: false, delayMs: 0, corrupt: undefined };

export class FaultInjector {
  readonly #target: FaultTarget;
  readonly #active = new Map<number, ActiveFault>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #next = 1;
  #onError: (err: Error) => void;

  constructor(target: FaultTarget, onError: (err: Error) => void = () => undefined) {
    this.#target = target;
    this.#onError = onError;
  }

  /** Faults in effect now. */
  active(): ActiveFault[] {
    return [...this.#active.values()];
  }

  /** Start a fault now; returns a handle for `clear`. Throws on a malformed spec. */
  inject(spec: FaultSpec): number {
    validateFault(spec, this.#target);
    const handle = this.#next++;
    this.#start(handle, spec);
    return handle;
  }

  /** Start a fault later and/or for a while; returns its handle at once. */
  schedule(spec: FaultSpec, options: ScheduleOptions): number {
    validateFault(spec, this.#target);
    if (options.afterMs !== undefined && !(options.afterMs >= 0))
      throw new Error(`fault ${spec.kind}: afterMs ${options.afterMs} is not ≥ 0`);
    if (options.durationMs !== undefined && !(options.durationMs > 0))
      throw new Error(`fault ${spec.kind}: durationMs ${options.durationMs} is not > 0`);
    const handle = this.#next++;
    const begin = () => {
      this.#start(handle, spec);
      if (options.durationMs !== undefined) this.#later(options.durationMs, () => this.clear(handle));
    };
    if (options.afterMs) this.#later(options.afterMs, begin);
    else begin();
    return handle;
  }

  /** End a fault (a disconnect: the pty comes back). Unknown or finished handles are ignored. */
  clear(handle: number): void {
    const fault = this.#active.get(handle);
    if (!fault) return;
    this.#active.delete(handle);
    if (fault.spec.kind === 'disconnect') this.#target.reconnect().catch((err: unknown) => this.#onError(asError(err)));
  }

  clearAll(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const handle of [...this.#active.keys()]) this.clear(handle);
  }

  /**
   * The fate of the next reply from `ids` (one servo, or the servos of a combined reply); consumes
   * the counts of the faults that apply.
   */
  replyFate(ids: readonly number[]): ReplyFate {
    if (this.#active.size === 0) return CLEAN;
    let drop = false;
    let delayMs = 0;
    let corrupt: ReplyFate['corrupt'];
    for (const fault of this.#active.values()) {
      const spec = fault.spec;
      if (spec.kind !== 'no_reply' && spec.kind !== 'late_reply' && spec.kind !== 'corrupt_byte') continue;
      if (spec.id !== undefined && !ids.includes(spec.id)) continue;
      if (spec.kind === 'no_reply') drop = true;
      else if (spec.kind === 'late_reply') delayMs = Math.max(delayMs, spec.delayMs);
      else corrupt = { byteFromEnd: spec.byteFromEnd, bit: spec.bit ?? 0 };
      if (fault.remaining !== undefined && --fault.remaining <= 0) this.#active.delete(fault.handle);
    }
    return { drop, delayMs, corrupt };
  }

  #start(handle: number, spec: FaultSpec): void {
    switch (spec.kind) {
      case 'hardware_error':
        // latched in the servo: nothing stays active here
        this.#target.hardwareError(spec.id, spec.error);
        return;
      case 'disconnect':
        this.#active.set(handle, { handle, spec, remaining: undefined });
        this.#target.disconnect(spec.signal ?? 'SIGTERM').catch((err: unknown) => this.#onError(asError(err)));
        if (spec.durationMs !== undefined) this.#later(spec.durationMs, () => this.clear(handle));
        return;
      default:
        this.#active.set(handle, { handle, spec, remaining: spec.count });
    }
  }

  #later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      try {
        action();
      } catch (err) {
        this.#onError(err as Error);
      }
    }, ms);
    this.#timers.add(timer);
  }
}

/** Flip one bit of a reply, as line noise would. */
export function corruptReply(bytes: Uint8Array, byteFromEnd: number, bit: number): Uint8Array {
  const out = bytes.slice();
  const at = Math.max(0, out.length - byteFromEnd);
  out[at]! ^= 1 << bit;
  return out;
}

function validateFault(spec: FaultSpec, target: FaultTarget): void {
  const where = `fault ${JSON.stringify(spec)}`;
  const checkId = (id: number | undefined, required: boolean) => {
    if (id === undefined) {
      if (required) throw new Error(`${where}: needs the id of a servo`);
      return;
    }
    if (!Number.isInteger(id) || !target.hasServo(id))
      throw new Error(`${where}: no servo with id ${id} on the emulated bus`);
  };
  const checkCount = (count: number | undefined) => {
    if (count !== undefined && !(Number.isInteger(count) && count > 0))
      throw new Error(`${where}: count must be a whole number > 0`);
  };
  switch (spec.kind) {
    case 'no_reply':
      checkId(spec.id, false);
      checkCount(spec.count);
      return;
    case 'late_reply':
      checkId(spec.id, false);
      checkCount(spec.count);
      if (!(spec.delayMs > 0)) throw new Error(`${where}: delayMs must be > 0`);
      return;
    case 'corrupt_byte':
      checkId(spec.id, false);
      checkCount(spec.count);
      if (spec.bit !== undefined && !(Number.isInteger(spec.bit) && spec.bit >= 0 && spec.bit < 8))
        throw new Error(`${where}: bit must be 0–7`);
      if (spec.byteFromEnd !== undefined && !(Number.isInteger(spec.byteFromEnd) && spec.byteFromEnd >= 1))
        throw new Error(`${where}: byteFromEnd must be ≥ 1`);
      return;
    case 'hardware_error':
      checkId(spec.id, true);
      if (!HARDWARE_FAULTS.includes(spec.error))
        throw new Error(`${where}: error must be one of ${HARDWARE_FAULTS.join(', ')}`);
      return;
    case 'disconnect': {
      if (spec.durationMs !== undefined && !(spec.durationMs > 0)) throw new Error(`${where}: durationMs must be > 0`);
      // a spec can come from outside the type system (a forked emulator's IPC message)
      const signal = spec.signal as string | undefined;
      if (signal !== undefined && signal !== 'SIGTERM' && signal !== 'SIGKILL')
        throw new Error(`${where}: signal must be SIGTERM or SIGKILL`);
      return;
    }
    default: {
      const unknown: never = spec;
      throw new Error(
        `unknown fault ${JSON.stringify(unknown)} (kinds: no_reply, late_reply, corrupt_byte, hardware_error, disconnect)`,
      );
    }
  }
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
