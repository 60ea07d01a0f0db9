import { BROADCAST_ID } from '../protocol/types.js';
import { FAULT_KINDS, HARDWARE_FAULTS, type FaultSpec, type HardwareFault } from '../robot_config.js';

// Fault injection for the emulated bus: the failures a real servo chain shows (missing, late and
// corrupt status packets; the hardware errors of the ROBOTIS e-manual's Hardware Error Status and
// of Feetech's status byte; the adapter unplugged), on demand. Reply faults act on status packets as
// the chain sends them, for one servo or the whole bus, for a number of replies or until cleared: no
// reply, a late reply, a corrupt byte; a reply under the wrong id (every servo under its neighbour's,
// as a chain whose ids were set one off; one servo under another's), the replies to a sync read in
// the wrong order — what a host must never take for state, since both protocols fix the id and the
// order of the replies (ROBOTIS e-manual "DYNAMIXEL Protocol 2.0", Sync Read: the servos answer in
// the order of the request; Feetech's SYNC READ likewise). Hardware errors (overload, overheat,
// voltage) go into the servo itself and stay latched until it is rebooted, as on the real servo. A
// disconnect closes the pty, so the host sees its port vanish (SIGTERM: unplugged, the link
// removed; SIGKILL: as if the emulator died, the link left dangling), and optionally brings it
// back. Any fault can start now, after a delay, and end by itself after a duration.

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
  /** the id the reply goes out under, when a shifted_ids / answer_as fault changes it */
  readonly id: number | undefined;
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

const CLEAN: ReplyFate = { drop: false, id: undefined, delayMs: 0, corrupt: undefined };

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
   * the counts of the faults that apply. `chain`: every servo id on the bus, which a shifted_ids
   * fault needs to find a servo's neighbour (without it, ids are left alone). A combined reply's
   * segments get their ids from `answerId`.
   */
  replyFate(ids: readonly number[], chain: readonly number[] = []): ReplyFate {
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
      this.#consume(fault);
    }
    const id = ids.length === 1 && !drop ? this.answerId(ids[0]!, chain) : ids[0];
    return { drop, id: id === ids[0] ? undefined : id, delayMs, corrupt };
  }

  /**
   * The id servo `id` answers under now: another servo's (shifted_ids: the one `shift` places on in
   * `chain`'s id order, wrapping round), a stray one (answer_as), or its own. Consumes the counts of
   * the faults that apply.
   */
  answerId(id: number, chain: readonly number[]): number {
    if (this.#active.size === 0) return id;
    let out = id;
    for (const fault of this.#active.values()) {
      const spec = fault.spec;
      if (spec.kind === 'answer_as') {
        if (spec.id !== id) continue;
        out = spec.as;
      } else if (spec.kind === 'shifted_ids') {
        const order = [...chain].sort((a, b) => a - b);
        const at = order.indexOf(id);
        if (at < 0) continue;
        const n = order.length;
        out = order[(((at + (spec.shift ?? 1)) % n) + n) % n]!;
      } else continue;
      this.#consume(fault);
    }
    return out;
  }

  /** Whether the replies to the next request that several servos answer go out in reverse order. */
  reorder(): boolean {
    let reverse = false;
    for (const fault of this.#active.values()) {
      if (fault.spec.kind !== 'out_of_order') continue;
      reverse = true;
      this.#consume(fault);
    }
    return reverse;
  }

  #consume(fault: ActiveFault): void {
    if (fault.remaining !== undefined && --fault.remaining <= 0) this.#active.delete(fault.handle);
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
    case 'shifted_ids':
      checkCount(spec.count);
      if (spec.shift !== undefined && !(Number.isInteger(spec.shift) && spec.shift !== 0))
        throw new Error(`${where}: shift must be a whole number other than 0`);
      return;
    case 'answer_as':
      checkId(spec.id, true);
      checkCount(spec.count);
      if (!(Number.isInteger(spec.as) && spec.as >= 0 && spec.as < BROADCAST_ID) || spec.as === spec.id)
        throw new Error(`${where}: as must be an id 0–${BROADCAST_ID - 1} other than the servo's own`);
      return;
    case 'out_of_order':
      checkCount(spec.count);
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
      throw new Error(`unknown fault ${JSON.stringify(unknown)} (kinds: ${FAULT_KINDS.join(', ')})`);
    }
  }
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
