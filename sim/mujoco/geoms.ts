import type { MjModel } from '@mujoco/mujoco';
import { f32, f64, i32 } from './arrays.js';
import type { Mujoco } from './module.js';

// Every geom of a compiled model as plain data, for drawing it elsewhere (a 3D view): its type,
// size, colour, body and pose in that body's frame, and for a mesh its triangles. Field meanings
// are mjModel's (MuJoCo API reference, "mjModel": geom_type, geom_size, geom_rgba, geom_bodyid,
// geom_pos, geom_quat, geom_group, geom_matid, geom_aabb, mesh_vert, mesh_vertadr, mesh_vertnum,
// mesh_face, mesh_faceadr, mesh_facenum). Read once: nothing here changes while a model is loaded.

export type GeomType = 'plane' | 'hfield' | 'sphere' | 'capsule' | 'ellipsoid' | 'cylinder' | 'box' | 'mesh' | 'sdf';

export type Vec3 = readonly [number, number, number];
/** w, x, y, z: MuJoCo's quaternion order */
export type Quat = readonly [number, number, number, number];

export interface GeomMesh {
  /** x, y, z per vertex, in the geom's frame */
  readonly vertices: Float32Array;
  /** three vertex indices (into `vertices`) per triangle */
  readonly faces: Int32Array;
}

export interface GeomInfo {
  readonly id: number;
  /** '' when the geom is unnamed */
  readonly name: string;
  readonly type: GeomType;
  /** the id of the body it is attached to (0: the world) */
  readonly body: number;
  /** visibility group (MuJoCo's viewer shows groups 0–2 by default) */
  readonly group: number;
  /**
   * geom_size, as the MJCF geom's size attribute means it per type (XML reference, geom/size):
   * sphere [r], capsule and cylinder [r, half-length], ellipsoid [rx, ry, rz], box half-sizes,
   * plane [half-x, half-y (0: infinite), grid spacing]
   */
  readonly size: Vec3;
  /** the colour drawn: geom_rgba, or the material's when the geom's is the default (see effectiveRgba) */
  readonly rgba: readonly [number, number, number, number];
  /** position and orientation in its body's frame */
  readonly pos: Vec3;
  readonly quat: Quat;
  /** the axis-aligned bounding box in the geom's frame (geom_aabb: centre, then half-sizes) */
  readonly aabb: { readonly center: Vec3; readonly halfSize: Vec3 };
  /** mesh geoms whose triangles could be read */
  readonly mesh?: GeomMesh;
  /** mesh geoms whose triangles could not be read: why */
  readonly meshProblem?: string;
}

/** geom_rgba's default (XML reference, geom/rgba: "0.5 0.5 0.5 1"). */
const DEFAULT_RGBA = [0.5, 0.5, 0.5, 1] as const;

/**
 * The colour MuJoCo draws a geom with: its own rgba, unless it has a material and its rgba is the
 * internal default, when the material's applies (XML reference, geom/rgba: "If the value of this
 * attribute is different from the internal default, it takes precedence over the material").
 */
function effectiveRgba(
  own: readonly number[],
  material: readonly number[] | undefined,
): [number, number, number, number] {
  const isDefault = own.every((v, i) => Math.abs(v - DEFAULT_RGBA[i]!) < 1e-6);
  const c = material && isDefault ? material : own;
  return [c[0]!, c[1]!, c[2]!, c[3]!];
}

function geomTypes(mj: Mujoco): Map<number, GeomType> {
  const t = mj.mjtGeom;
  return new Map<number, GeomType>([
    [t.mjGEOM_PLANE.value, 'plane'],
    [t.mjGEOM_HFIELD.value, 'hfield'],
    [t.mjGEOM_SPHERE.value, 'sphere'],
    [t.mjGEOM_CAPSULE.value, 'capsule'],
    [t.mjGEOM_ELLIPSOID.value, 'ellipsoid'],
    [t.mjGEOM_CYLINDER.value, 'cylinder'],
    [t.mjGEOM_BOX.value, 'box'],
    [t.mjGEOM_MESH.value, 'mesh'],
    [t.mjGEOM_SDF.value, 'sdf'],
  ]);
}

/** The names of the model's geoms ('' for unnamed ones), from m.names as info.ts reads names. */
function geomNames(m: MjModel): string[] {
  const names = m.names as unknown;
  if (!(names instanceof Int8Array || names instanceof Uint8Array))
    throw new Error('MuJoCo binding: expected model names as bytes');
  const bytes = new Uint8Array(names.buffer, names.byteOffset, names.length);
  const decoder = new TextDecoder();
  return Array.from(i32(m.name_geomadr, 'name_geomadr'), (start) => {
    let end = start;
    while (end < bytes.length && bytes[end] !== 0) end++;
    return decoder.decode(bytes.subarray(start, end));
  });
}

/** A mesh's vertices and triangles, copied out of the model, or why they cannot be. */
function readMesh(m: MjModel, meshId: number): GeomMesh | string {
  let vert: Float32Array;
  let face: Int32Array;
  try {
    vert = f32(m.mesh_vert, 'mesh_vert');
    face = i32(m.mesh_face, 'mesh_face');
  } catch (err) {
    return (err as Error).message;
  }
  const vertAdr = i32(m.mesh_vertadr, 'mesh_vertadr')[meshId]!;
  const vertNum = i32(m.mesh_vertnum, 'mesh_vertnum')[meshId]!;
  const faceAdr = i32(m.mesh_faceadr, 'mesh_faceadr')[meshId]!;
  const faceNum = i32(m.mesh_facenum, 'mesh_facenum')[meshId]!;
  const vertices = vert.slice(3 * vertAdr, 3 * (vertAdr + vertNum));
  // a mesh's face indices count from its own first vertex (mjModel: mesh_vertadr is where they start)
  const faces = face.slice(3 * faceAdr, 3 * (faceAdr + faceNum));
  const bad = faces.findIndex((k) => k < 0 || k >= vertNum);
  if (bad >= 0) return `face index ${faces[bad]!} is outside the mesh's ${vertNum} vertices`;
  if (faceNum === 0) return 'the mesh has no faces';
  return { vertices, faces };
}

/** Every geom of the model, in geom id order. */
export function readGeoms(mj: Mujoco, m: MjModel): GeomInfo[] {
  const types = geomTypes(mj);
  const names = geomNames(m);
  // narrowed (and so fetched) before any reading: nothing below allocates on the wasm heap
  const type = i32(m.geom_type, 'geom_type');
  const bodyId = i32(m.geom_bodyid, 'geom_bodyid');
  const group = i32(m.geom_group, 'geom_group');
  const matId = i32(m.geom_matid, 'geom_matid');
  const dataId = i32(m.geom_dataid, 'geom_dataid');
  const size = f64(m.geom_size, 'geom_size');
  const pos = f64(m.geom_pos, 'geom_pos');
  const quat = f64(m.geom_quat, 'geom_quat');
  const aabb = f64(m.geom_aabb, 'geom_aabb');
  const rgba = f32(m.geom_rgba, 'geom_rgba');
  const matRgba = m.nmat > 0 ? f32(m.mat_rgba, 'mat_rgba') : new Float32Array(0);
  const v3 = (a: Float64Array, k: number): Vec3 => [a[k]!, a[k + 1]!, a[k + 2]!];
  return names.map((name, g) => {
    const kind = types.get(type[g]!);
    if (!kind) throw new Error(`MuJoCo binding: geom ${name || g} has unknown type ${type[g]}`);
    const mat = matId[g]!;
    const own = Array.from(rgba.subarray(4 * g, 4 * g + 4));
    const material = mat >= 0 ? Array.from(matRgba.subarray(4 * mat, 4 * mat + 4)) : undefined;
    const mesh = kind === 'mesh' && dataId[g]! >= 0 ? readMesh(m, dataId[g]!) : undefined;
    return {
      id: g,
      name,
      type: kind,
      body: bodyId[g]!,
      group: group[g]!,
      size: v3(size, 3 * g),
      rgba: effectiveRgba(own, material),
      pos: v3(pos, 3 * g),
      quat: [quat[4 * g]!, quat[4 * g + 1]!, quat[4 * g + 2]!, quat[4 * g + 3]!],
      aabb: { center: v3(aabb, 6 * g), halfSize: v3(aabb, 6 * g + 3) },
      ...(typeof mesh === 'object' ? { mesh } : {}),
      ...(typeof mesh === 'string' ? { meshProblem: mesh } : {}),
      ...(kind === 'mesh' && dataId[g]! < 0 ? { meshProblem: 'the geom names no mesh' } : {}),
    };
  });
}
