import type { NodeRegistry } from '../framework/runtime/registry.js';

// Every executable of the dynastack package: what `ros2 run dynastack <exec>`, the launch files'
// `exec:` and `dynastack run|params <exec>` name. Each has a wrapper in lib/dynastack/.

const here = (file: string): string => new URL(file, import.meta.url).href;

export const registry: NodeRegistry = {
  pkg: 'dynastack',
  modules: {
    controller: here('./controller.js'),
    demo_listener: here('./demo_listener.js'),
    demo_talker: here('./demo_talker.js'),
    dynamics_learner: here('./dynamics_learner.js'),
    episode_monitor: here('./episode_monitor.js'),
    foxglove_bridge: here('./foxglove_bridge.js'),
    goal_sequencer: here('./goal_sequencer.js'),
    hw_bridge: here('./hw_bridge.js'),
    plot_recorder: here('./plot_recorder.js'),
    policy_trainer: here('./policy_trainer.js'),
    recorder: here('./recorder.js'),
    robot_state_publisher: here('./robot_state_publisher.js'),
    servo_emulator: here('./servo_emulator.js'),
    sim_bridge: here('./sim_bridge.js'),
    state_estimator: here('./state_estimator.js'),
    teleop: here('./teleop.js'),
  },
};
