// TypeScript shapes of the ROS 2 messages dynastack uses, field for field as rclnodejs generates them:
// float64[] as number[] | Float64Array (decoded arrays are Float64Array), uint8[] as Uint8Array.

export interface Time {
  sec: number;
  nanosec: number;
}

export interface Duration {
  sec: number;
  nanosec: number;
}

export interface Header {
  stamp: Time;
  frame_id: string;
}

export type Float64Seq = number[] | Float64Array;

export interface JointState {
  header: Header;
  name: string[];
  position: Float64Seq;
  velocity: Float64Seq;
  effort: Float64Seq;
}

/** sensor_msgs/Joy: a joystick's axes (normalised, [−1, 1]) and buttons (0 or 1). */
export interface Joy {
  header: Header;
  axes: number[] | Float32Array;
  buttons: number[] | Int32Array;
}

export interface MultiArrayDimension {
  label: string;
  size: number;
  stride: number;
}

export interface MultiArrayLayout {
  dim: MultiArrayDimension[];
  data_offset: number;
}

export interface Float64MultiArray {
  layout: MultiArrayLayout;
  data: Float64Seq;
}

export interface Clock {
  clock: Time;
}

export interface KeyValue {
  key: string;
  value: string;
}

/** diagnostic_msgs/DiagnosticStatus levels. */
export const DiagnosticLevel = { OK: 0, WARN: 1, ERROR: 2, STALE: 3 } as const;
export type DiagnosticLevel = (typeof DiagnosticLevel)[keyof typeof DiagnosticLevel];

export interface DiagnosticStatus {
  level: number;
  name: string;
  message: string;
  hardware_id: string;
  values: KeyValue[];
}

export interface DiagnosticArray {
  header: Header;
  status: DiagnosticStatus[];
}

export interface Point {
  x: number;
  y: number;
  z: number;
}

export interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}

export interface Pose {
  position: Point;
  orientation: Quaternion;
}

export interface PoseStamped {
  header: Header;
  pose: Pose;
}

export interface Vector3 {
  x: number;
  y: number;
  z: number;
}

export interface Transform {
  translation: Vector3;
  rotation: Quaternion;
}

/** geometry_msgs/TransformStamped: the pose of child_frame_id in header.frame_id. */
export interface TransformStamped {
  header: Header;
  child_frame_id: string;
  transform: Transform;
}

/** tf2_msgs/TFMessage: what /tf and /tf_static carry. */
export interface TFMessage {
  transforms: TransformStamped[];
}

export interface ColorRGBA {
  r: number;
  g: number;
  b: number;
  a: number;
}

export interface CompressedImage {
  header: Header;
  format: string;
  data: Uint8Array;
}

export interface UVCoordinate {
  u: number;
  v: number;
}

export interface MeshFile {
  filename: string;
  data: Uint8Array;
}

/** visualization_msgs/Marker type and action constants. */
export const MarkerType = {
  ARROW: 0,
  CUBE: 1,
  SPHERE: 2,
  CYLINDER: 3,
  LINE_STRIP: 4,
  LINE_LIST: 5,
  CUBE_LIST: 6,
  SPHERE_LIST: 7,
  POINTS: 8,
  TEXT_VIEW_FACING: 9,
  MESH_RESOURCE: 10,
  TRIANGLE_LIST: 11,
} as const;
export const MarkerAction = { ADD: 0, DELETE: 2, DELETEALL: 3 } as const;

/** visualization_msgs/Marker (every field: the CDR writer needs them all). */
export interface Marker {
  header: Header;
  ns: string;
  id: number;
  /** MarkerType */
  type: number;
  /** MarkerAction */
  action: number;
  pose: Pose;
  scale: Vector3;
  color: ColorRGBA;
  lifetime: Duration;
  frame_locked: boolean;
  points: Point[];
  colors: ColorRGBA[];
  texture_resource: string;
  texture: CompressedImage;
  uv_coordinates: UVCoordinate[];
  text: string;
  mesh_resource: string;
  mesh_file: MeshFile;
  mesh_use_embedded_materials: boolean;
}

export interface MarkerArray {
  markers: Marker[];
}

export type Empty = Record<string, never>;

export interface Bool {
  data: boolean;
}

export interface StringMsg {
  data: string;
}

export interface Float64 {
  data: number;
}

// dynastack_msgs (interfaces/dynastack_msgs/msg)

export interface ModelBlob {
  header: Header;
  kind: string;
  version: number;
  format: string;
  metadata_json: string;
  data: Uint8Array;
}

export interface Transition {
  header: Header;
  episode: number;
  step: number;
  state: Float64Seq;
  action: Float64Seq;
  next_state: Float64Seq;
  reward: number;
  terminated: boolean;
  truncated: boolean;
}

export interface JointStateEstimate {
  state: JointState;
  covariance: Float64Seq;
}

export const EpisodeEventKind = { START: 0, END: 1 } as const;

export interface EpisodeEvent {
  header: Header;
  episode: number;
  /** EpisodeEventKind.START or .END */
  event: number;
  reason: string;
}

/** One episode's outcome (interfaces/dynastack_msgs/msg/EpisodeReturn.msg). */
export interface EpisodeReturn {
  header: Header;
  /** from 1 */
  episode: number;
  total_reward: number;
  judged: boolean;
  success: boolean;
  /** metres; NaN unless judged by distance */
  final_distance: number;
}

export const PlanKind = { SEQUENCE: 0, FEEDBACK: 1 } as const;
export const PlanInterpolation = { ZERO_ORDER_HOLD: 0, LINEAR: 1 } as const;

/** The controller's current plan (interfaces/dynastack_msgs/msg/Plan.msg says what each field is). */
export interface Plan {
  header: Header;
  planner: string;
  /** PlanKind.SEQUENCE or .FEEDBACK */
  kind: number;
  /** PlanInterpolation.ZERO_ORDER_HOLD or .LINEAR */
  interpolation: number;
  step: Duration;
  state_names: string[];
  action_names: string[];
  steps: number;
  /** steps × state_names.length, row-major */
  states: Float64Seq;
  /** steps × action_names.length, row-major */
  actions: Float64Seq;
  cost: number;
  iterations: number;
  status: KeyValue[];
}

/** Every message type the stack can carry, by its full ROS 2 name. */
export interface MessageTypes {
  'builtin_interfaces/msg/Time': Time;
  'builtin_interfaces/msg/Duration': Duration;
  'std_msgs/msg/Header': Header;
  'std_msgs/msg/Empty': Empty;
  'std_msgs/msg/Bool': Bool;
  'std_msgs/msg/String': StringMsg;
  'std_msgs/msg/Float64': Float64;
  'std_msgs/msg/Float64MultiArray': Float64MultiArray;
  'sensor_msgs/msg/JointState': JointState;
  'sensor_msgs/msg/Joy': Joy;
  'rosgraph_msgs/msg/Clock': Clock;
  'diagnostic_msgs/msg/DiagnosticArray': DiagnosticArray;
  'geometry_msgs/msg/PoseStamped': PoseStamped;
  'tf2_msgs/msg/TFMessage': TFMessage;
  'visualization_msgs/msg/Marker': Marker;
  'visualization_msgs/msg/MarkerArray': MarkerArray;
  'dynastack_msgs/msg/ModelBlob': ModelBlob;
  'dynastack_msgs/msg/Transition': Transition;
  'dynastack_msgs/msg/JointStateEstimate': JointStateEstimate;
  'dynastack_msgs/msg/EpisodeEvent': EpisodeEvent;
  'dynastack_msgs/msg/EpisodeReturn': EpisodeReturn;
  'dynastack_msgs/msg/Plan': Plan;
}

export type MessageTypeName = keyof MessageTypes;
export type MessageOf<K extends MessageTypeName> = MessageTypes[K];
