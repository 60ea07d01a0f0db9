import type { MotorParameters } from '../servos/motor_figures.js';

// The physics of one emulated servo, at its output shaft, in SI units: enough for a host to see a
// position servo move toward its goal at a finite speed, draw current while it accelerates, and
// warm up — not a model of any real gearbox. Position modes are a critically damped second-order
// loop toward the target with the torque and speed the motor can give; current mode applies the
// commanded torque to the load inertia; torque off lets the load coast to a stop on friction.

/** What the servo's controller asks of the motor. Angles are of the output shaft, rad. */
export type DriveCommand =
  | { readonly mode: 'off' }
  | { readonly mode: 'position'; readonly target: number; readonly maxSpeed: number }
  | { readonly mode: 'velocity'; readonly target: number }
  | { readonly mode: 'current'; readonly current: number };

export interface MotorState {
  /** output shaft angle, rad (unwrapped) */
  position: number;
  velocity: number;
  /** torque the motor applies, N·m */
  torque: number;
  temperature: number;
}

/** Largest integration step: semi-implicit Euler stays accurate well below 1/bandwidth. */
const MAX_STEP_S = 5e-4;

/** Advance the motor by `dt` seconds under `command`. */
export function stepMotor(state: MotorState, command: DriveCommand, p: MotorParameters, dt: number): void {
  if (!(dt > 0)) return;
  const steps = Math.ceil(dt / MAX_STEP_S);
  const h = dt / steps;
  const kt = p.stallTorqueNm / p.stallCurrentA;
  for (let i = 0; i < steps; i++) {
    let torque: number;
    let speedLimit = p.maxSpeedRadS;
    switch (command.mode) {
      case 'off':
        torque = 0;
        break;
      case 'position': {
        const wn = p.bandwidthRadS;
        const wanted = wn * wn * (command.target - state.position) - 2 * wn * state.velocity;
        torque = p.inertiaKgM2 * wanted + p.dampingNmsPerRad * state.velocity;
        speedLimit = Math.min(speedLimit, command.maxSpeed);
        break;
      }
      case 'velocity':
        torque =
          p.inertiaKgM2 * p.bandwidthRadS * (command.target - state.velocity) + p.dampingNmsPerRad * state.velocity;
        break;
      case 'current':
        torque = kt * command.current;
        break;
    }
    torque = clamp(torque, p.stallTorqueNm);
    const accel = (torque - p.dampingNmsPerRad * state.velocity) / p.inertiaKgM2;
    state.velocity = clamp(state.velocity + accel * h, speedLimit);
    state.position += state.velocity * h;
    state.torque = torque;
  }
  const current = Math.abs(state.torque) / kt;
  const steady = p.ambientC + p.heatingCPerA2 * current * current;
  state.temperature += (steady - state.temperature) * (1 - Math.exp(-dt / p.thermalTimeConstantS));
}

/** Current drawn for the torque the motor gives, A (signed with the torque). */
export function motorCurrent(state: MotorState, p: MotorParameters): number {
  return (state.torque * p.stallCurrentA) / p.stallTorqueNm;
}

const clamp = (x: number, limit: number): number => Math.max(-limit, Math.min(limit, x));
