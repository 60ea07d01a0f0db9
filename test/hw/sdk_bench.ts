import assert from 'node:assert/strict';
import { EmulatedServo } from '../../hw/emulator/emulated_servo.js';
import { ServoChain } from '../../hw/emulator/servo_chain.js';
import { concatBytes, toHex } from '../../hw/protocol/bytes.js';
import { protocolByName } from '../../hw/protocol/index.js';
import type { ServoProtocol, StatusPacket } from '../../hw/protocol/types.js';
import type { RegisterName, ServoModel } from '../../hw/servos/control_table.js';

// A test bench for driving emulated servos the way a vendor SDK does: a chain of servos on a clock
// the test moves (no timers, no pty), instruction packets framed from (id, instruction code,
// parameter bytes) exactly as an SDK lays them out, and the chain's replies decoded back into the
// status packets a host would receive, in wire order.

export const dynamixel = protocolByName('dynamixel2');
export const feetech = protocolByName('feetech_sts');

/** little-endian bytes of an unsigned value */
export const le = (value: number, size: number): number[] =>
  Array.from({ length: size }, (_, i) => (value >>> (8 * i)) & 0xff);

/** A status packet as the host decodes it. */
export const status = (id: number, error: number, params: readonly number[] = []): StatusPacket => ({
  id,
  error,
  params: Uint8Array.from(params),
});

export interface Bench {
  readonly chain: ServoChain;
  readonly servos: readonly EmulatedServo[];
  /** the chain's clock, ms */
  readonly now: number;
  /** an instruction packet as the SDK frames it (id, instruction code, parameter bytes) */
  packet(id: number, instruction: number, params?: readonly number[]): Uint8Array;
  /** bytes in; the status packets the chain sends back, in wire order */
  send(bytes: Uint8Array): StatusPacket[];
  /** move the chain's clock on, stepping the motors every 5 ms */
  advance(ms: number): void;
}

export interface BenchOptions {
  /** power-on registers of every servo (default: Return Delay Time 0) */
  readonly registers?: Partial<Record<RegisterName, number>>;
  /** the bus rate (a servo whose Baud Rate register selects another hears nothing) */
  readonly baudRate?: number;
}

/** Servos with ids 1… on one bus, on a clock of the test's. */
export function bench(protocol: ServoProtocol, models: readonly ServoModel[], options: BenchOptions = {}): Bench {
  let now = 0;
  const servos = models.map(
    (model, i) =>
      new EmulatedServo({ id: i + 1, model, registers: { return_delay_time: 0, ...options.registers }, bootMs: 100 }),
  );
  const chain = new ServoChain({
    protocol,
    servos,
    clock: () => now,
    ...(options.baudRate !== undefined ? { baudRate: options.baudRate } : {}),
  });
  return {
    chain,
    servos,
    get now() {
      return now;
    },
    packet: (id, instruction, params = []) =>
      protocol.encodeInstruction({ id, instruction, params: Uint8Array.from(params) }),
    send(bytes) {
      const out = concatBytes(chain.receive(bytes).map((r) => r.bytes));
      const packets: StatusPacket[] = [];
      for (const e of protocol.statusDecoder().push(out)) {
        if (e.kind !== 'packet') assert.fail(`undecodable reply bytes: ${toHex(out)}`);
        packets.push(e.packet);
      }
      return packets;
    },
    advance(ms) {
      for (let left = ms; left > 0; left -= 5) {
        now += Math.min(5, left);
        chain.advance(now);
      }
    },
  };
}

/** Step the chain until servo `index` (0-based) has stopped moving; its Present Position then. */
export function settle(b: Bench, index: number): number {
  const servo = b.servos[index]!;
  for (let i = 0; i < 400; i++) {
    b.advance(10);
    if (i > 5 && servo.register('moving') === 0) break;
  }
  assert.equal(servo.register('moving'), 0, `servo ${servo.id} did not settle in 4 s of its clock`);
  return servo.register('present_position');
}
