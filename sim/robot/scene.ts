import type { GeomInfo, Quat, Vec3 } from '../mujoco/geoms.js';

// The model's geoms as the shapes a 3D view draws (what visualization_msgs/Marker offers, whose
// conventions these follow: a CUBE, SPHERE or CYLINDER is centred on its pose and `scale` is its
// full extent along the pose's axes, a CYLINDER's axis being z; a TRIANGLE_LIST's points, three per
// triangle, are in the pose's frame — ROS wiki, rviz/DisplayTypes/Marker), each in its body's
// frame so that a view moves it with that frame's transform. MuJoCo's geom types map so
// (XML reference, geom/type and geom/size):
//  - box: a cube of twice the half-sizes;
//  - sphere: a sphere of diameter 2 r; ellipsoid: a sphere scaled to 2 rx, 2 ry, 2 rz;
//  - cylinder: a cylinder of diameter 2 r and height 2 h (MuJoCo's axis is z too);
//  - capsule: a cylinder of 2 h and a sphere at each end (z = ±h), three shapes of one colour;
//  - plane: a thin box whose top face is the plane (z = 0 of the geom's frame), its half-sizes
//    size[0], size[1], or `infinitePlaneHalfSize` where MuJoCo's is 0 (infinite);
//  - mesh: a triangle list of the mesh's faces (its vertices are in the geom's frame: the compiler
//    moves a mesh to its inertial frame and the geom's pos and quat with it, mjModel mesh_pos);
//  - hfield, sdf, and a mesh whose triangles could not be read: its bounding box (geom_aabb),
//    with a note saying so.
// Geoms outside `groups` are left out: MuJoCo's viewer shows groups 0–2 by default (mjvOption
// geomgroup), and models put collision-only copies in group 3.

export type ShapeKind = 'cube' | 'sphere' | 'cylinder' | 'triangle_list';

export interface SceneShape {
  /** the geom it draws (name, or `geom<id>` when unnamed): a capsule's three shapes share it */
  readonly ns: string;
  /** its index within the geom (0, or 0–2 for a capsule) */
  readonly id: number;
  readonly geom: number;
  readonly kind: ShapeKind;
  /** the frame of the geom's body */
  readonly frame: string;
  /** pose in that frame: position, and orientation as w, x, y, z */
  readonly position: Vec3;
  readonly orientation: Quat;
  /** full extents along the pose's axes (1, 1, 1 for a triangle list) */
  readonly scale: Vec3;
  readonly color: readonly [number, number, number, number];
  /** triangle lists: x, y, z per point, three points per triangle, in the pose's frame */
  readonly points?: Float32Array;
}

export interface SceneOptions {
  /** the geom groups drawn (default 0, 1, 2: what MuJoCo's viewer shows) */
  readonly groups?: readonly number[];
  /** half-size of an infinite plane's box (m; default 10) */
  readonly infinitePlaneHalfSize?: number;
  /** a mesh of more triangles is drawn as its bounding box (default 100 000) */
  readonly maxMeshTriangles?: number;
}

export interface Scene {
  readonly shapes: SceneShape[];
  /** one line per geom drawn otherwise than as itself (a bounding box for a mesh, hfield or sdf) */
  readonly notes: string[];
}

/** The thickness of the box drawn for a plane (m). */
const PLANE_THICKNESS = 0.001;

/** Rotate v by the unit quaternion q (w, x, y, z). */
function rotate(q: Quat, v: Vec3): [number, number, number] {
  const [w, x, y, z] = q;
  // t = 2 (q.xyz × v); v' = v + w t + q.xyz × t
  const tx = 2 * (y * v[2] - z * v[1]);
  const ty = 2 * (z * v[0] - x * v[2]);
  const tz = 2 * (x * v[1] - y * v[0]);
  return [v[0] + w * tx + (y * tz - z * ty), v[1] + w * ty + (z * tx - x * tz), v[2] + w * tz + (x * ty - y * tx)];
}

/** The geom's frame offset by `local` (in the geom's frame): the position in the body's frame. */
function offset(g: GeomInfo, local: Vec3): Vec3 {
  const r = rotate(g.quat, local);
  return [g.pos[0] + r[0], g.pos[1] + r[1], g.pos[2] + r[2]];
}

/** The shapes of one geom, or a note when it is drawn as its bounding box. */
function geomShapes(g: GeomInfo, frame: string, options: Required<SceneOptions>, notes: string[]): SceneShape[] {
  const ns = g.name || `geom${g.id}`;
  const base = { ns, geom: g.id, frame, color: g.rgba, orientation: g.quat };
  const [s0, s1, s2] = g.size;
  const boundingBox = (why: string): SceneShape[] => {
    notes.push(`geom '${ns}' (${g.type}) is drawn as its bounding box: ${why}`);
    const h = g.aabb.halfSize;
    return [
      { ...base, id: 0, kind: 'cube', position: offset(g, g.aabb.center), scale: [2 * h[0], 2 * h[1], 2 * h[2]] },
    ];
  };
  switch (g.type) {
    case 'box':
      return [{ ...base, id: 0, kind: 'cube', position: g.pos, scale: [2 * s0, 2 * s1, 2 * s2] }];
    case 'sphere':
      return [{ ...base, id: 0, kind: 'sphere', position: g.pos, scale: [2 * s0, 2 * s0, 2 * s0] }];
    case 'ellipsoid':
      return [{ ...base, id: 0, kind: 'sphere', position: g.pos, scale: [2 * s0, 2 * s1, 2 * s2] }];
    case 'cylinder':
      return [{ ...base, id: 0, kind: 'cylinder', position: g.pos, scale: [2 * s0, 2 * s0, 2 * s1] }];
    case 'capsule': {
      const ball: Vec3 = [2 * s0, 2 * s0, 2 * s0];
      return [
        { ...base, id: 0, kind: 'cylinder', position: g.pos, scale: [2 * s0, 2 * s0, 2 * s1] },
        { ...base, id: 1, kind: 'sphere', position: offset(g, [0, 0, s1]), scale: ball },
        { ...base, id: 2, kind: 'sphere', position: offset(g, [0, 0, -s1]), scale: ball },
      ];
    }
    case 'plane': {
      const hx = s0 > 0 ? s0 : options.infinitePlaneHalfSize;
      const hy = s1 > 0 ? s1 : options.infinitePlaneHalfSize;
      return [
        {
          ...base,
          id: 0,
          kind: 'cube',
          position: offset(g, [0, 0, -PLANE_THICKNESS / 2]),
          scale: [2 * hx, 2 * hy, PLANE_THICKNESS],
        },
      ];
    }
    case 'mesh': {
      if (!g.mesh) return boundingBox(g.meshProblem ?? 'its triangles could not be read');
      const { vertices, faces } = g.mesh;
      const triangles = faces.length / 3;
      if (triangles > options.maxMeshTriangles)
        return boundingBox(`${triangles} triangles, more than the ${options.maxMeshTriangles} drawn as a mesh`);
      const points = new Float32Array(3 * faces.length);
      for (let k = 0; k < faces.length; k++) {
        const v = faces[k]!;
        points[3 * k] = vertices[3 * v]!;
        points[3 * k + 1] = vertices[3 * v + 1]!;
        points[3 * k + 2] = vertices[3 * v + 2]!;
      }
      return [{ ...base, id: 0, kind: 'triangle_list', position: g.pos, scale: [1, 1, 1], points }];
    }
    case 'hfield':
    case 'sdf':
      return boundingBox(`${g.type} geoms have no shape of their own here`);
  }
}

/** The shapes of the model's geoms; `frames` names each body's frame, by body id. */
export function sceneOf(geoms: readonly GeomInfo[], frames: readonly string[], options: SceneOptions = {}): Scene {
  const o: Required<SceneOptions> = {
    groups: options.groups ?? [0, 1, 2],
    infinitePlaneHalfSize: options.infinitePlaneHalfSize ?? 10,
    maxMeshTriangles: options.maxMeshTriangles ?? 100_000,
  };
  const notes: string[] = [];
  const shapes: SceneShape[] = [];
  for (const g of geoms) {
    if (!o.groups.includes(g.group)) continue;
    const frame = frames[g.body];
    if (frame === undefined) throw new Error(`scene: geom ${g.name || g.id} is on body ${g.body}, which has no frame`);
    shapes.push(...geomShapes(g, frame, o, notes));
  }
  return { shapes, notes };
}
