import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA } from '../framework/transport/qos.js';
import { periodNsFromHz, timeToNs } from '../framework/time/time.js';
import type { JointState, Marker, Plan, PoseStamped } from '../framework/msgs/types.js';
import { tfMessage } from '../framework/msgs/tf_message.js';
import { deleteMarker, markerArray, shapeMarker } from '../framework/msgs/markers.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle } from '../src/util/log.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import type { FramePoses } from '../sim/mujoco/frames.js';
import { JointConfiguration } from '../sim/robot/joint_configuration.js';
import { BodyFrames } from '../sim/robot/body_frames.js';
import { sceneOf, type Scene } from '../sim/robot/scene.js';
import { SitePath } from '../sim/robot/plan_path.js';

// ROS's robot_state_publisher for an MJCF model: joint positions in (sensor_msgs/JointState, by
// joint name, from sim_bridge or hw_bridge alike), every moving body's frame out on /tf
// (tf2_msgs/TFMessage: each body's pose in its parent body's frame, MuJoCo's forward kinematics,
// sim/robot/body_frames.ts), the frames of bodies fixed to their parents (no joints) once on
// /tf_static at activation, and the model's geoms once on robot_scene, latched
// (visualization_msgs/MarkerArray, frame-locked markers in their bodies' frames, sim/robot/scene.ts),
// which is what Foxglove's 3D panel (or RViz) needs to draw the robot. A joint no state has named
// stays at the model's qpos0 (said once); a name the model lacks, or a position that is NaN or
// infinite, is said once and changes nothing, so no NaN reaches /tf. /tf goes out at most rate_hz,
// by joint-state stamp.
// With plan_topic, the controller's plan (dynastack_msgs/Plan) is drawn on ~/plan_markers as the
// path of ee_site through its planned states (sim/robot/plan_path.ts), with the newest goal of
// goal_topic as a sphere: one latched MarkerArray holding both, so a late viewer gets both.
//
// QoS: joint states are taken best effort, which matches publishers of either reliability (as
// robot_state_publisher subscribes with rclcpp's SensorDataQoS); /tf is reliable and volatile with
// a deep queue, as tf2_ros's TransformBroadcaster publishes it (DynamicBroadcasterQoS, depth 100);
// /tf_static is reliable, transient local, depth 1, as its StaticTransformBroadcaster
// (StaticBroadcasterQoS), all fixed frames in the one message.

const parameters = defineParams({
  model: {
    type: 'string',
    default: 'sim/models/cartpole.xml',
    nonEmpty: true,
    description: 'MJCF file, absolute or relative to the package root',
  },
  state_topic: {
    type: 'string',
    default: 'joint_states',
    nonEmpty: true,
    description: 'sensor_msgs/JointState: joint positions by name',
  },
  rate_hz: {
    type: 'double',
    default: 30,
    range: [0, 1000],
    description: '/tf is published at most this often, by joint-state stamp (0: for every joint state)',
  },
  frame_prefix: {
    type: 'string',
    default: '',
    description: "prepended to every frame name, the root 'world' included (e.g. 'left/')",
  },
  geom_groups: {
    type: 'integer_array',
    default: [0, 1, 2],
    range: [0, 5],
    description: "geom groups drawn on robot_scene (MuJoCo's viewer shows 0, 1 and 2)",
  },
  plan_topic: {
    type: 'string',
    default: '',
    description:
      "dynastack_msgs/Plan (the controller's ~/plan, e.g. /controller/plan): the path of ee_site through the planned states, drawn on ~/plan_markers; '': off",
  },
  ee_site: {
    type: 'string',
    default: '',
    description: 'the site whose planned path is drawn (needed with plan_topic)',
  },
  goal_topic: {
    type: 'string',
    default: 'goal',
    description:
      "geometry_msgs/PoseStamped end-effector goals, drawn as a sphere on ~/plan_markers (their frame_id prefixed with frame_prefix); '': off",
  },
});

/** the planned path's line width and the goal sphere's diameter (m) */
const PATH_WIDTH = 0.004;
const GOAL_DIAMETER = 0.03;

export default defineNode({
  name: 'robot_state_publisher',
  description: "publishes an MJCF robot's body frames on /tf from joint states, and its geoms as markers",
  parameters,
  async configure(node, p) {
    if (p.plan_topic && !p.ee_site)
      throw new Error('robot_state_publisher: plan_topic needs ee_site, the site whose planned path is drawn');
    const sim = await MujocoSim.fromFile(packagePath(p.model));
    let sitePath: SitePath | undefined;
    let frames: BodyFrames;
    let config: JointConfiguration;
    let scene: Scene;
    try {
      sim.reset();
      frames = new BodyFrames(sim.info.bodies, sim.bodyParents(), p.frame_prefix, sim.bodyFixed());
      if (p.plan_topic) sitePath = new SitePath(sim, p.ee_site);
      config = new JointConfiguration(sim.info, sim.getQpos());
      scene = sceneOf(sim.geoms(), frames.names, { groups: p.geom_groups });
    } catch (err) {
      sim.dispose();
      throw new Error(`robot_state_publisher: ${(err as Error).message}`, { cause: err });
    }
    for (const note of scene.notes) node.logger.info(note);

    const tf = node.createPublisher('tf2_msgs/msg/TFMessage', '/tf', { ...QOS_DEFAULT, depth: 100 });
    const moving = frames.names.length - 1 - frames.fixedCount;
    const tfStatic = frames.fixedCount
      ? node.createPublisher('tf2_msgs/msg/TFMessage', '/tf_static', QOS_LATCHED)
      : undefined;
    const scenePublisher = node.createPublisher('visualization_msgs/msg/MarkerArray', 'robot_scene', QOS_LATCHED);
    const planMarkers =
      p.plan_topic || p.goal_topic
        ? node.createPublisher('visualization_msgs/msg/MarkerArray', '~/plan_markers', QOS_LATCHED)
        : undefined;

    const throttle = new Throttle(5000);
    const said = new Set<string>();
    /** warn once per key */
    const warnOnce = (key: string, line: string): void => {
      if (said.has(key)) return;
      said.add(key);
      node.logger.warn(line);
    };
    const periodNs = p.rate_hz > 0 ? periodNsFromHz(p.rate_hz) : 0n;
    let active = false;
    let lastNs: bigint | undefined;
    let poses: FramePoses | undefined;
    let states = 0;
    let missingChecked = false;
    let published = 0;

    const onState = (msg: JointState): void => {
      if (!active) return;
      states++;
      const update = config.apply(msg.name, msg.position);
      if (update.refused) {
        if (throttle.allow('refused')) node.logger.warn(`joint state ignored: ${update.refused}`);
        return;
      }
      if (!missingChecked) {
        missingChecked = true;
        const missing = config.joints.filter((j) => !msg.name.includes(j));
        if (missing.length)
          warnOnce('missing', `${p.state_topic} does not carry ${missing.join(', ')}: held at the model's qpos0`);
      }
      const unknown = update.unknown.filter((n) => !said.has(`unknown ${n}`));
      for (const n of unknown) said.add(`unknown ${n}`);
      if (unknown.length)
        node.logger.warn(
          `${p.state_topic} names joints the model has no hinge or slide joint of: ${unknown.join(', ')} (ignored; said once)`,
        );
      for (const j of update.nonFinite)
        warnOnce(
          `nonfinite ${j}`,
          `joint '${j}' has a position that is not a finite number: held at its last value (said once)`,
        );
      const stampNs = timeToNs(msg.header.stamp) || node.clock.now();
      // a stamp that went back (a sim reset) publishes at once
      if (lastNs !== undefined && stampNs >= lastNs && stampNs - lastNs < periodNs) return;
      lastNs = stampNs;
      poses = sim.kinematics(config.qpos, poses);
      if (moving) tf.publish(tfMessage(frames.transforms(poses, 'moving'), stampNs));
      published++;
    };
    node.createSubscription('sensor_msgs/msg/JointState', p.state_topic, onState, { qos: QOS_SENSOR_DATA });

    // the plan's path and the goal, published together (one latched message holds both); a plan or
    // goal that came before activation (both topics are latched) is published at activation
    let pathMarker: Marker | undefined;
    let goalMarker: Marker | undefined;
    let plansDrawn = 0;
    const publishPlanMarkers = (): void => {
      const markers = [pathMarker, goalMarker].filter((m): m is Marker => m !== undefined);
      if (active && markers.length) planMarkers?.publish({ markers });
    };
    if (sitePath) {
      const path = sitePath;
      node.createSubscription(
        'dynastack_msgs/msg/Plan',
        p.plan_topic,
        (plan: Plan) => {
          const stampNs = timeToNs(plan.header.stamp);
          const outcome = path.path(config, plan.state_names, plan.states, plan.steps);
          if (!outcome.ok) {
            warnOnce(`plan ${outcome.problem}`, `plan of '${plan.planner}' not drawn: ${outcome.problem} (said once)`);
            pathMarker = deleteMarker('plan', 0, frames.root, stampNs);
          } else {
            plansDrawn++;
            pathMarker = shapeMarker(
              {
                ns: 'plan',
                id: 0,
                kind: 'line_strip',
                frame: frames.root,
                position: [0, 0, 0],
                orientation: [1, 0, 0, 0],
                scale: [PATH_WIDTH, PATH_WIDTH, PATH_WIDTH],
                color: [0.1, 0.7, 1, 1],
                points: outcome.points,
              },
              stampNs,
            );
          }
          publishPlanMarkers();
        },
        { qos: QOS_LATCHED },
      );
    }
    if (p.goal_topic) {
      node.createSubscription(
        'geometry_msgs/msg/PoseStamped',
        p.goal_topic,
        (goal: PoseStamped) => {
          const { x, y, z } = goal.pose.position;
          if (![x, y, z].every(Number.isFinite)) {
            warnOnce('goal', `goal on ${p.goal_topic} not drawn: its position is not finite (said once)`);
            return;
          }
          goalMarker = shapeMarker(
            {
              ns: 'goal',
              id: 0,
              kind: 'sphere',
              frame: goal.header.frame_id ? p.frame_prefix + goal.header.frame_id : frames.root,
              position: [x, y, z],
              orientation: [1, 0, 0, 0],
              scale: [GOAL_DIAMETER, GOAL_DIAMETER, GOAL_DIAMETER],
              color: [0.2, 0.9, 0.3, 0.8],
            },
            timeToNs(goal.header.stamp),
          );
          publishPlanMarkers();
        },
        { qos: QOS_LATCHED },
      );
    }

    node.logger.info(
      `${p.model}: ${frames.names.length - 1} body frames under '${frames.root}' on /tf, ` +
        `${scene.shapes.length} markers on robot_scene` +
        (sitePath ? `; the planned path of '${p.ee_site}' from ${p.plan_topic}` : ''),
    );
    return {
      activate: () => {
        active = true;
        // frame-locked: a viewer draws each marker with its frame's newest transform (Marker.msg,
        // frame_locked: "retransformed into its frame every timestep"), so one message serves the run
        const shapes = scene.shapes.map((s) => ({ ...s, frameLocked: true }));
        scenePublisher.publish(markerArray(shapes, node.clock.now()));
        // fixed frames do not depend on the joints: the model's own pose (qpos0) gives them
        if (tfStatic)
          tfStatic.publish(tfMessage(frames.transforms(sim.kinematics(config.qpos), 'fixed'), node.clock.now()));
        publishPlanMarkers();
      },
      deactivate: () => {
        active = false;
      },
      cleanup: () => sim.dispose(),
      summary: () =>
        `${published} transform sets on /tf from ${states} joint states` +
        (sitePath ? `; ${plansDrawn} plans drawn` : ''),
      metrics: () => ({ joint_states: states, tf_published: published, plans_drawn: plansDrawn }),
    };
  },
});
