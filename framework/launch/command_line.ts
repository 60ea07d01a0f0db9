import { LaunchError } from './types.js';
import { perform, type SubstitutionScope, type Template } from './substitutions.js';

/**
 * `args` / `ros_args` split into arguments as ExecuteProcess._parse_cmdline does: text is split
 * shell-style, and a substitution joins the argument it touches.
 */
export function resolveCommandLine(t: Template, scope: SubstitutionScope): string[] {
  const out: string[][] = [];
  let arg: string[] = [];
  const flush = (): void => {
    out.push(arg);
    arg = [];
  };
  for (const part of t) {
    if (typeof part !== 'string') {
      arg.push(perform(part, scope));
      continue;
    }
    const tokens = shlexSplit(part);
    if (tokens.length === 0) {
      flush();
      continue;
    }
    if (/^\s/.test(part) && arg.length) flush();
    arg.push(tokens[0]!);
    if (tokens.length > 1) {
      flush();
      arg.push(tokens[tokens.length - 1]!);
    }
    if (tokens.length > 2) out.push(...tokens.slice(1, -1).map((x) => [x]));
    if (/\s$/.test(part)) flush();
  }
  if (arg.length) out.push(arg);
  return out.map((pieces) => pieces.join(''));
}

/** Python's shlex.split (POSIX mode, no comments). */
function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  for (let i = 0; i < s.length;) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
      i++;
      continue;
    }
    inToken = true;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new LaunchError(`no closing quotation in '${s}'`);
      cur += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      for (i++; ;) {
        if (i >= s.length) throw new LaunchError(`no closing quotation in '${s}'`);
        const d = s[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < s.length && '\\"$`\n'.includes(s[i + 1]!)) {
          cur += s[i + 1]!;
          i += 2;
        } else {
          cur += d;
          i++;
        }
      }
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new LaunchError(`no escaped character at the end of '${s}'`);
      cur += s[i + 1]!;
      i += 2;
    } else {
      cur += c;
      i++;
    }
  }
  if (inToken) out.push(cur);
  return out;
}
