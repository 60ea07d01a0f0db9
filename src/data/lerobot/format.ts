// The LeRobot dataset format v3.0 as this folder writes and reads it: file paths, the feature
// schema of meta/info.json, and the defaults, all as huggingface/lerobot sets them (checked at
// commit 7427f31):
//   - paths and sizes: src/lerobot/datasets/utils.py (DEFAULT_CHUNK_SIZE 1000,
//     DEFAULT_DATA_FILE_SIZE_IN_MB 100, DEFAULT_VIDEO_FILE_SIZE_IN_MB 200, INFO_PATH, STATS_PATH,
//     DEFAULT_TASKS_PATH, DEFAULT_EPISODES_PATH, DEFAULT_DATA_PATH, DEFAULT_VIDEO_PATH, DatasetInfo);
//   - CODEBASE_VERSION "v3.0": src/lerobot/datasets/dataset_metadata.py;
//   - the per-frame features every dataset has (DEFAULT_FEATURES) and the keys "observation.state",
//     "action", "observation.images.<camera>": src/lerobot/utils/constants.py;
//   - a camera's feature ({dtype "video", shape [h, w, c], names ["height", "width", "channels"],
//     info {is_depth_map}}): hw_to_dataset_features in src/lerobot/utils/feature_utils.py;
//   - fps 30: DatasetRecordConfig in src/lerobot/configs/dataset.py.

export const CODEBASE_VERSION = 'v3.0';
export const DEFAULT_FPS = 30;
export const DEFAULT_CHUNK_SIZE = 1000;
export const DEFAULT_DATA_FILE_SIZE_IN_MB = 100;
export const DEFAULT_VIDEO_FILE_SIZE_IN_MB = 200;

export const INFO_PATH = 'meta/info.json';
export const STATS_PATH = 'meta/stats.json';
export const TASKS_PATH = 'meta/tasks.parquet';
export const EPISODES_PATH_TEMPLATE = 'meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const DATA_PATH_TEMPLATE = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const VIDEO_PATH_TEMPLATE = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';

export const OBS_STATE = 'observation.state';
export const ACTION = 'action';
export const OBS_IMAGES_PREFIX = 'observation.images.';

/** A feature of meta/info.json: one column of the data files (or, for "video", of the MP4s). */
export interface FeatureSpec {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** per-dimension names, or null for scalars */
  readonly names: readonly string[] | null;
  /** anything else LeRobot keeps about a feature (for videos: codec, fps, is_depth_map, ...) */
  readonly info?: Readonly<Record<string, unknown>> | null;
}

export type Features = Readonly<Record<string, FeatureSpec>>;

/** The per-frame bookkeeping columns every dataset has, in LeRobot's order. */
export const DEFAULT_FEATURES: Features = {
  timestamp: { dtype: 'float32', shape: [1], names: null },
  frame_index: { dtype: 'int64', shape: [1], names: null },
  episode_index: { dtype: 'int64', shape: [1], names: null },
  index: { dtype: 'int64', shape: [1], names: null },
  task_index: { dtype: 'int64', shape: [1], names: null },
};

/** meta/info.json (DatasetInfo.to_dict in LeRobot's datasets/utils.py, same key order). */
export interface LeRobotInfo {
  readonly codebase_version: string;
  readonly fps: number;
  readonly features: Features;
  readonly total_episodes: number;
  readonly total_frames: number;
  readonly total_tasks: number;
  readonly chunks_size: number;
  readonly data_files_size_in_mb: number;
  readonly video_files_size_in_mb: number;
  readonly data_path: string;
  readonly video_path: string | null;
  readonly robot_type: string | null;
  readonly splits: Readonly<Record<string, string>>;
}

/** A path template with {chunk_index:03d}, {file_index:03d} and {video_key} filled in (Python format). */
export function formatPath(
  template: string,
  values: { chunk_index: number; file_index: number; video_key?: string },
): string {
  return template.replace(/\{(\w+)(?::0(\d+)d)?\}/g, (whole, key: string, width: string | undefined) => {
    const value = (values as Record<string, number | string | undefined>)[key];
    if (value === undefined) throw new Error(`path template ${template}: no value for {${key}}`);
    return width ? String(value).padStart(Number(width), '0') : String(value);
  });
}

/** The features of a dataset of joint states and actions: LeRobot's order, action first. */
export function jointFeatures(stateNames: readonly string[], actionNames: readonly string[]): Features {
  return {
    [ACTION]: { dtype: 'float32', shape: [actionNames.length], names: [...actionNames] },
    [OBS_STATE]: { dtype: 'float32', shape: [stateNames.length], names: [...stateNames] },
    ...DEFAULT_FEATURES,
  };
}

export interface VideoFeatureOptions {
  readonly height: number;
  readonly width: number;
  /** 3 for RGB, 1 for a depth map (default 3) */
  readonly channels?: 1 | 3;
}

/**
 * The features with a camera added as `observation.images.<camera>`, dtype "video", the way
 * LeRobot's hw_to_dataset_features makes it. Frames of a video feature live in
 * videos/<key>/chunk-…/file-….mp4 (info.json's video_path), not in the data files, and each
 * episode row then carries `videos/<key>/chunk_index`, `file_index`, `from_timestamp` and
 * `to_timestamp`. No camera is recorded yet: the writer refuses video features until it encodes
 * video; this is where the schema for them is made.
 */
export function addVideoFeature(features: Features, camera: string, options: VideoFeatureOptions): Features {
  const channels = options.channels ?? 3;
  if (!/^[A-Za-z0-9_]+$/.test(camera)) throw new Error(`camera name '${camera}' must be letters, digits or _`);
  for (const [what, v] of [
    ['height', options.height],
    ['width', options.width],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1)
      throw new Error(`camera ${camera}: ${what} must be a positive integer, got ${v}`);
  }
  const key = OBS_IMAGES_PREFIX + camera;
  if (key in features) throw new Error(`feature ${key} is already in the schema`);
  return {
    ...features,
    [key]: {
      dtype: 'video',
      shape: [options.height, options.width, channels],
      names: ['height', 'width', 'channels'],
      info: { is_depth_map: channels === 1 },
    },
  };
}

/** Keys of the features stored as videos. */
export function videoKeys(features: Features): string[] {
  return Object.keys(features).filter((k) => features[k]!.dtype === 'video');
}
