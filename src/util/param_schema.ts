// Parameters are declared once, with type, default, range or choices and a description, as
// ros2_control's generate_parameter_library does: by a node, or by the library piece that reads
// them (a planner declares its own). The same declaration drives validation, the ROS 2 parameter
// descriptors and `dynastack params <node>`. Nothing here knows ROS: the framework turns these
// declarations into ROS 2 parameters (framework/params).

interface Common {
  readonly description: string;
  /** refuse changes after start-up (all dynastack parameters are read at configure) */
  readonly readOnly?: boolean;
}

export type ParamSpec =
  | (Common & { readonly type: 'bool'; readonly default: boolean })
  | (Common & {
      readonly type: 'integer';
      readonly default: number;
      readonly range?: readonly [number, number];
      readonly choices?: readonly number[];
    })
  | (Common & { readonly type: 'double'; readonly default: number; readonly range?: readonly [number, number] })
  | (Common & {
      readonly type: 'string';
      readonly default: string;
      readonly choices?: readonly string[];
      readonly nonEmpty?: boolean;
    })
  | (Common & { readonly type: 'bool_array'; readonly default: readonly boolean[]; readonly length?: number })
  | (Common & {
      readonly type: 'integer_array';
      readonly default: readonly number[];
      readonly length?: number;
      readonly range?: readonly [number, number];
    })
  | (Common & {
      readonly type: 'double_array';
      readonly default: readonly number[];
      readonly length?: number;
      readonly range?: readonly [number, number];
    })
  | (Common & { readonly type: 'string_array'; readonly default: readonly string[]; readonly length?: number });

export type ParamType = ParamSpec['type'];
export type ParamSchema = Readonly<Record<string, ParamSpec>>;

type ValueOf<S extends ParamSpec> = S['type'] extends 'bool'
  ? boolean
  : S['type'] extends 'integer' | 'double'
    ? number
    : S['type'] extends 'string'
      ? string
      : S['type'] extends 'bool_array'
        ? readonly boolean[]
        : S['type'] extends 'string_array'
          ? readonly string[]
          : readonly number[];

export type ParamValues<S extends ParamSchema> = { readonly [K in keyof S]: ValueOf<S[K]> };

/** Identity with inference: `const params = defineParams({ rate_hz: { type: 'double', … } })`. */
export function defineParams<const S extends ParamSchema>(schema: S): S {
  for (const [name, spec] of Object.entries(schema)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new Error(`invalid parameter name '${name}'`);
    // a declaration whose own default is invalid is a programming error: fail at import
    const problem = checkParam(spec, spec.default);
    if (typeof problem === 'string')
      throw new Error(`parameter '${name}': its default ${JSON.stringify(spec.default)} is invalid: ${problem}`);
  }
  return schema;
}

/** A double as written: 6.0, not 6. */
function doubleText(x: unknown): string {
  return typeof x === 'number' && Number.isInteger(x) ? x.toFixed(1) : String(x);
}

function describe(value: unknown, writtenAsDouble: boolean): string {
  if (Array.isArray(value))
    return writtenAsDouble
      ? `double array [${(value as unknown[]).map(doubleText).join(', ')}]`
      : `array ${JSON.stringify(value)}`;
  if (typeof value === 'string') return `string '${value}'`;
  if (typeof value === 'number')
    return writtenAsDouble || !Number.isInteger(value) ? `double ${doubleText(value)}` : `integer ${value}`;
  return `${value === null ? 'null' : typeof value} ${JSON.stringify(value)}`;
}

function inRange(x: number, range: readonly [number, number] | undefined): boolean {
  return !range || (x >= range[0] && x <= range[1]);
}

/**
 * Check a value against its declaration. Returns the value (integers given for a double are
 * accepted, as a YAML file writes `1` for 1.0) or a sentence saying what is wrong.
 * `writtenAsDouble` says the number (or every number of the array) was written as a double,
 * which JavaScript numbers cannot tell when it is integral (6.0): a double is refused for an
 * integer parameter, as rclcpp refuses to set an integer parameter to a double.
 */
export function checkParam(spec: ParamSpec, value: unknown, writtenAsDouble = false): { value: unknown } | string {
  const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  const isInt = (x: unknown): x is number => !writtenAsDouble && isNum(x) && Number.isSafeInteger(x);
  const expect = `expected ${spec.type.replace('_', ' ')}, got ${describe(value, writtenAsDouble)}`;
  switch (spec.type) {
    case 'bool':
      return typeof value === 'boolean' ? { value } : expect;
    case 'integer':
      if (!isInt(value)) return expect;
      if (!inRange(value, spec.range)) return `${value} is outside the range [${spec.range![0]}, ${spec.range![1]}]`;
      if (spec.choices && !spec.choices.includes(value)) return `${value} is not one of ${spec.choices.join(', ')}`;
      return { value };
    case 'double':
      if (!isNum(value)) return expect;
      if (!inRange(value, spec.range)) return `${value} is outside the range [${spec.range![0]}, ${spec.range![1]}]`;
      return { value };
    case 'string':
      if (typeof value !== 'string') return expect;
      if (spec.choices && !spec.choices.includes(value))
        return `'${value}' is not one of ${spec.choices.map((c) => `'${c}'`).join(', ')}`;
      if (spec.nonEmpty && !value) return 'it must not be empty';
      return { value };
    default: {
      if (!Array.isArray(value)) return expect;
      const items: readonly unknown[] = value;
      if (spec.length !== undefined && items.length !== spec.length)
        return `expected ${spec.length} elements, got ${items.length}`;
      const ok =
        spec.type === 'bool_array'
          ? items.every((x) => typeof x === 'boolean')
          : spec.type === 'string_array'
            ? items.every((x) => typeof x === 'string')
            : spec.type === 'integer_array'
              ? items.every(isInt)
              : items.every(isNum);
      if (!ok) return expect;
      if ((spec.type === 'double_array' || spec.type === 'integer_array') && spec.range) {
        const bad = (items as number[]).find((x) => !inRange(x, spec.range));
        if (bad !== undefined) return `element ${bad} is outside the range [${spec.range[0]}, ${spec.range[1]}]`;
      }
      return { value: [...items] };
    }
  }
}
