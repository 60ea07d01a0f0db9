import { nsToTime } from '../time/time.js';
import { MarkerAction, MarkerType, type Marker, type MarkerArray, type Point } from './types.js';

// Shapes (plain fields, orientations w, x, y, z as MuJoCo holds them) as visualization_msgs/Marker
// and MarkerArray, for a 3D view. MarkerArray rather than Foxglove's own foxglove.SceneUpdate:
// Foxglove's 3D panel draws visualization_msgs markers as RViz does (Foxglove docs, "3D panel",
// Supported messages), and visualization_msgs is part of ROS 2's common_interfaces, which RViz,
// `ros2 topic echo` and rosbag2 know everywhere; SceneUpdate's ROS 2 form needs the extra
// foxglove_msgs package (and its definitions, which this package does not ship), and RViz does not
// draw it. Every field of the message is filled (the CDR writer needs them all); the ones a shape
// does not use are empty.

export type MarkerKind = 'cube' | 'sphere' | 'cylinder' | 'triangle_list' | 'line_strip';

export interface ShapeIn {
  readonly ns: string;
  readonly id: number;
  readonly kind: MarkerKind;
  readonly frame: string;
  readonly position: readonly [number, number, number];
  /** w, x, y, z */
  readonly orientation: readonly [number, number, number, number];
  /** full extents (line_strip: scale[0] is the line width) */
  readonly scale: readonly [number, number, number];
  /** r, g, b, a in [0, 1] */
  readonly color: readonly [number, number, number, number];
  /** triangle_list and line_strip: x, y, z per point, in the pose's frame */
  readonly points?: ArrayLike<number>;
  /**
   * re-transformed into its frame at every rendering (Marker.frame_locked), so it moves with that
   * frame's transform on /tf: what a robot's geoms need
   */
  readonly frameLocked?: boolean;
}

const KINDS: Readonly<Record<MarkerKind, number>> = {
  cube: MarkerType.CUBE,
  sphere: MarkerType.SPHERE,
  cylinder: MarkerType.CYLINDER,
  triangle_list: MarkerType.TRIANGLE_LIST,
  line_strip: MarkerType.LINE_STRIP,
};

function emptyMarker(ns: string, id: number, frame: string, stampNs: bigint): Marker {
  return {
    header: { stamp: nsToTime(stampNs), frame_id: frame },
    ns,
    id,
    type: MarkerType.CUBE,
    action: MarkerAction.ADD,
    pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    scale: { x: 1, y: 1, z: 1 },
    color: { r: 1, g: 1, b: 1, a: 1 },
    // 0: never expires (Marker.msg)
    lifetime: { sec: 0, nanosec: 0 },
    frame_locked: false,
    points: [],
    colors: [],
    texture_resource: '',
    texture: { header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' }, format: '', data: new Uint8Array(0) },
    uv_coordinates: [],
    text: '',
    mesh_resource: '',
    mesh_file: { filename: '', data: new Uint8Array(0) },
    mesh_use_embedded_materials: false,
  };
}

function pointsOf(flat: ArrayLike<number> | undefined): Point[] {
  if (!flat) return [];
  if (flat.length % 3 !== 0) throw new Error(`marker points: ${flat.length} numbers is not a whole number of points`);
  const points: Point[] = new Array<Point>(flat.length / 3);
  for (let i = 0; i < points.length; i++) points[i] = { x: flat[3 * i]!, y: flat[3 * i + 1]!, z: flat[3 * i + 2]! };
  return points;
}

/** One shape as an ADD marker. */
export function shapeMarker(shape: ShapeIn, stampNs: bigint): Marker {
  const [px, py, pz] = shape.position;
  const [w, x, y, z] = shape.orientation;
  const [r, g, b, a] = shape.color;
  return {
    ...emptyMarker(shape.ns, shape.id, shape.frame, stampNs),
    type: KINDS[shape.kind],
    pose: { position: { x: px, y: py, z: pz }, orientation: { x, y, z, w } },
    scale: { x: shape.scale[0], y: shape.scale[1], z: shape.scale[2] },
    color: { r, g, b, a },
    frame_locked: shape.frameLocked ?? false,
    points: pointsOf(shape.points),
  };
}

/** A marker that deletes the one of the same ns and id. */
export function deleteMarker(ns: string, id: number, frame: string, stampNs: bigint): Marker {
  return { ...emptyMarker(ns, id, frame, stampNs), action: MarkerAction.DELETE };
}

/** The shapes as one MarkerArray. */
export function markerArray(shapes: readonly ShapeIn[], stampNs: bigint): MarkerArray {
  return { markers: shapes.map((s) => shapeMarker(s, stampNs)) };
}
