import type { RemapRule } from '../transport/names.js';

// What a ROS 2 YAML launch file describes once every argument, substitution, condition, group and
// include has been resolved: the nodes to start. Executing them is the launcher's job.

export type LaunchParam =
  | { kind: 'file'; path: string } // a ROS 2 parameter file (node_name: ros__parameters: …), absolute
  | {
      kind: 'value';
      name: string;
      /** already typed as launch_ros types it */
      value: unknown;
      /** a float (or a list of floats), which JavaScript numbers cannot tell from an integer when integral */
      double?: boolean;
      /** from set_parameter: given to every node in scope, ignored by a node that does not declare it */
      global?: boolean;
    };

export interface LaunchNode {
  pkg: string;
  exec: string;
  /** undefined → the executable's default name */
  name?: string;
  /** fully resolved, pushed namespaces applied, normalised ('/' or '/a/b') */
  namespace: string;
  /** in precedence order, lowest first: set_parameter / set_parameters_from_file in scope, then the node's own */
  parameters: LaunchParam[];
  /** set_remap rules in scope first (rcl applies the first match), then the node's own */
  remaps: RemapRule[];
  /** extra command-line arguments (`args`) */
  args: string[];
  /** `ros_args`, as written after --ros-args */
  rosArgs: string[];
  /**
   * `on_exit: shutdown`: when this node ends (its work finished, or it failed), the whole launch
   * shuts down, as ros2 launch does when the node's process exits
   */
  onExit?: 'shutdown';
  /** where the node was declared, e.g. 'launch/demo.launch.yaml:14: node #2 (controller)' */
  origin: string;
}

export interface LaunchDescription {
  file: string;
  /** the launch arguments of the top-level file as resolved (command line, else default), and undeclared ones given */
  args: Record<string, string>;
  nodes: LaunchNode[];
  /** things ros2 launch would do that the embedded launcher ignores, undeclared arguments, missing parameter files */
  warnings: string[];
  /** the messages of `log` actions, in order (always set by the parser) */
  logs?: string[];
}

export interface LaunchContext {
  /** the share directory of a package (ament_index get_package_share_directory); throws if unknown */
  findPackageShare(pkg: string): string;
  /** the install prefix of a package; by default the share directory's ../.. when it ends in share/<pkg> */
  findPackagePrefix?(pkg: string): string;
  /** for $(env) and set_env; process.env by default */
  env?: NodeJS.ProcessEnv;
  /** what relative include and parameter file paths are resolved against, as ros2 launch does; process.cwd() by default */
  cwd?: string;
}

export class LaunchError extends Error {}
