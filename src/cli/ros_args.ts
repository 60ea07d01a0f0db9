import { loadParamFile, parseOverride, sourcesForNode, type ParamFileSection, type ParamSource } from '../params/file.js';
import type { RemapRule } from '../transport/names.js';

// The rcl command-line arguments a ROS 2 node receives (from `ros2 run` or `ros2 launch`):
//   --ros-args [-p|--param name:=value] [--params-file FILE] [-r|--remap from:=to]
//              [--log-level [name:=]level] [-e|--enclave X] [--] …

export interface RosArgs {
  readonly params: Array<{ kind: 'file'; path: string; sections: ParamFileSection[] } | { kind: 'value'; source: ParamSource }>;
  readonly remaps: RemapRule[];
  readonly logLevels: string[];
  /** arguments outside --ros-args … -- */
  readonly rest: string[];
}

export function parseRosArgs(argv: readonly string[]): RosArgs {
  const out: RosArgs = { params: [], remaps: [], logLevels: [], rest: [] };
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--ros-args') {
      inRos = true;
      continue;
    }
    if (!inRos) {
      out.rest.push(arg);
      continue;
    }
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`--ros-args: ${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--':
        inRos = false;
        break;
      case '-p':
      case '--param':
        out.params.push({ kind: 'value', source: parseOverride(value(), 'command line') });
        break;
      case '--params-file': {
        const path = value();
        out.params.push({ kind: 'file', path, sections: loadParamFile(path) });
        break;
      }
      case '-r':
      case '--remap': {
        const rule = value();
        const at = rule.indexOf(':=');
        if (at <= 0) throw new Error(`--ros-args: remap '${rule}' is not of the form from:=to`);
        out.remaps.push({ from: rule.slice(0, at), to: rule.slice(at + 2) });
        break;
      }
      case '--log-level':
        out.logLevels.push(value().replace(':=', '='));
        break;
      case '-e':
      case '--enclave':
        value();
        break;
      default:
        throw new Error(`--ros-args: unknown argument '${arg}'`);
    }
  }
  return out;
}

/** The parameter sources these arguments give one node, in command-line order. */
export function rosArgsParamSources(args: RosArgs, fullyQualifiedName: string): ParamSource[] {
  return args.params.flatMap((p) => (p.kind === 'file' ? sourcesForNode(p.sections, fullyQualifiedName, p.path) : [p.source]));
}
