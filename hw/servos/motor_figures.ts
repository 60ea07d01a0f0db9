// The motor figures of each servo model at its output shaft, in SI units: the datasheet's no-load
// speed, stall torque and current at the nominal supply, plus the loop, inertia and thermal figures
// the emulator's motor model uses. robot.yaml may override any of them per servo.

export interface MotorParameters {
  /** no-load speed at the output, rad/s */
  readonly maxSpeedRadS: number;
  /** stall torque at the output, N·m */
  readonly stallTorqueNm: number;
  /** current at stall, A (torque constant = stall torque / stall current) */
  readonly stallCurrentA: number;
  /** supply voltage, V */
  readonly supplyV: number;
  /** natural frequency of the position loop, rad/s (critically damped) */
  readonly bandwidthRadS: number;
  /** inertia seen at the output (rotor through the gears plus the link it drives), kg·m² */
  readonly inertiaKgM2: number;
  /** viscous friction at the output, N·m·s/rad */
  readonly dampingNmsPerRad: number;
  /** °C */
  readonly ambientC: number;
  /** steady-state temperature rise per A² of current, °C/A² */
  readonly heatingCPerA2: number;
  readonly thermalTimeConstantS: number;
}

/**
 * Approximate figures from the vendors' datasheets (no-load speed, stall torque and current at the
 * nominal supply); the loop, inertia and thermal figures are emulator choices. Any of them can be
 * overridden per servo in robot.yaml (`emulator.dynamics`).
 */
export const MOTOR_PARAMETERS: Readonly<Record<string, MotorParameters>> = {
  // Feetech STS3215, 7.4 V: 19.5 kg·cm, 0.222 s/60°
  STS3215: motor({ maxSpeedRadS: 4.7, stallTorqueNm: 1.9, stallCurrentA: 2.7, supplyV: 7.4 }),
  // ROBOTIS XL330-M288, 5 V: 0.52 N·m, 103 rpm
  'XL330-M288': motor({ maxSpeedRadS: 10.8, stallTorqueNm: 0.52, stallCurrentA: 1.47, supplyV: 5.0 }),
  // ROBOTIS XL430-W250, 11.1 V: 1.4 N·m, 57 rpm
  'XL430-W250': motor({ maxSpeedRadS: 6.0, stallTorqueNm: 1.4, stallCurrentA: 1.3, supplyV: 11.1 }),
  // ROBOTIS XM430-W350, 12 V: 4.1 N·m, 46 rpm
  'XM430-W350': motor({ maxSpeedRadS: 4.8, stallTorqueNm: 4.1, stallCurrentA: 2.3, supplyV: 12.0 }),
};

function motor(
  datasheet: Pick<MotorParameters, 'maxSpeedRadS' | 'stallTorqueNm' | 'stallCurrentA' | 'supplyV'>,
): MotorParameters {
  return {
    ...datasheet,
    bandwidthRadS: 25,
    inertiaKgM2: 1e-3,
    dampingNmsPerRad: 0.02,
    ambientC: 28,
    heatingCPerA2: 8,
    thermalTimeConstantS: 120,
  };
}

export function motorParameters(model: string, overrides: Partial<MotorParameters> = {}): MotorParameters {
  const base = MOTOR_PARAMETERS[model];
  if (!base)
    throw new Error(
      `emulator: no motor figures for model '${model}' (known: ${Object.keys(MOTOR_PARAMETERS).join(', ')})`,
    );
  const p = { ...base, ...overrides };
  for (const [key, value] of Object.entries(p)) {
    if (!Number.isFinite(value) || (key !== 'ambientC' && value <= 0))
      throw new Error(`emulator: motor parameter ${key} = ${value} for ${model} must be a positive number`);
  }
  return p;
}
