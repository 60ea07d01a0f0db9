import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import type { MjModel, MjVFS } from '@mujoco/mujoco';
import type { AngleUnit } from './info.js';
import { errorMessage, type Mujoco } from './module.js';

// Compiling MJCF text into a model. Files the XML refers to (<include>, meshes, textures) reach
// MuJoCo through a virtual file system, so a model on disk is read here, with what it refers to,
// and compiled from memory like any other.

/** Files an MJCF refers to, by the name it uses for them (relative paths, as written in the XML). */
export type Assets = Record<string, string | Uint8Array>;

const encoder = new TextEncoder();

/** Run `use` with a virtual file system holding the assets, deleted afterwards. */
function withFiles<T>(mj: Mujoco, assets: Assets | undefined, use: (vfs: MjVFS) => T): T {
  const vfs = new mj.MjVFS();
  try {
    for (const [name, content] of Object.entries(assets ?? {})) {
      vfs.addBuffer(name, typeof content === 'string' ? encoder.encode(content) : content);
    }
    return use(vfs);
  } finally {
    vfs.delete();
  }
}

/** Compile MJCF text; on failure, an Error carrying MuJoCo's own message after `origin`. */
export function compileModel(mj: Mujoco, xml: string, assets: Assets | undefined, origin: string): MjModel {
  try {
    return withFiles(mj, assets, (vfs) => {
      const model: unknown = mj.MjModel.from_xml_string(xml, vfs);
      if (!model) throw new Error('MuJoCo returned no model');
      return model as MjModel;
    });
  } catch (err) {
    throw new Error(`cannot load MJCF ${origin}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * The unit the MJCF's angles are written in, from its <compiler angle> as MuJoCo's parser reads it
 * (includes and defaults resolved; degree when nothing says, MJCF's default): the compiled model
 * keeps only radians, so this is the one place that can still tell. Undefined when the text cannot
 * be parsed to a spec (it compiled already, so that is the binding's doing, not the model's).
 */
export function readAngleUnit(mj: Mujoco, xml: string, assets: Assets | undefined): AngleUnit | undefined {
  try {
    return withFiles(mj, assets, (vfs) => {
      const spec = mj.parseXMLString(xml, vfs);
      try {
        return spec.compiler.degree ? 'degree' : 'radian';
      } finally {
        spec.delete();
      }
    });
  } catch {
    return undefined;
  }
}

/**
 * Read an MJCF file and the files it names (file="…" attributes, followed into included XML),
 * looked up beside it and under the compiler's meshdir/texturedir/assetdir. Files that are not
 * there are left for MuJoCo to report by name.
 */
export function readModelFiles(path: string): { xml: string; assets: Assets } {
  let xml: string;
  try {
    xml = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot load MJCF ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, {
      cause: err,
    });
  }
  const dir = dirname(path);
  const assets: Record<string, Uint8Array> = {};
  const prefixes = new Set<string>(['']);
  const visit = (text: string): void => {
    for (const m of text.matchAll(/\b(?:meshdir|texturedir|assetdir)\s*=\s*(["'])(.*?)\1/g)) prefixes.add(m[2]!);
    for (const m of text.matchAll(/\bfile\s*=\s*(["'])(.*?)\1/g)) {
      const name = m[2]!;
      for (const prefix of prefixes) {
        const key = prefix ? normalize(join(prefix, name)) : name;
        if (key in assets) continue;
        const full = isAbsolute(key) ? key : join(dir, key);
        if (!existsSync(full)) continue;
        const content = readFileSync(full);
        assets[key] = content;
        if (/\.xml$/i.test(name)) visit(content.toString('utf8'));
      }
    }
  };
  visit(xml);
  return { xml, assets };
}
