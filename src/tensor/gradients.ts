import * as tf from '@tensorflow/tfjs-core';

// Gradients for the kernels the training losses use. tfjs-core's Node build registers none of its
// gradients (the @tensorflow/tfjs union package does, via an ES-module-only file that Node's CJS
// build of core cannot load), so without these every tf.grad / optimizer.minimize fails with
// "gradient function not found". A kernel that already has a gradient keeps it. Matrix products
// are not here on purpose: trained layers use trainableDense (./dense.ts), whose own gradient
// stays on the wasm fast path.

type Grads = Record<string, () => tf.Tensor>;

/** reduce a broadcast gradient back to its input's shape */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

/** spread a reduced gradient back over the reduced axes */
function expandReduced(dy: tf.Tensor, x: tf.Tensor, axis: number | number[] | null): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis ?? x.shape.map((_, i) => i), x.shape);
  return tf.mul(tf.reshape(dy, tf.backend_util.expandShapeToKeepDim(dy.shape, axes)), tf.ones(x.shape));
}

const binary = (
  kernelName: string,
  da: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  db: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
): tf.GradConfig => ({
  kernelName,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved): Grads => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const g = dy as tf.Tensor;
    return { a: () => unbroadcast(da(g, a, b), a.shape), b: () => unbroadcast(db(g, a, b), b.shape) };
  },
});

const unary = (kernelName: string, dx: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor): tf.GradConfig => ({
  kernelName,
  inputsToSave: ['x'],
  gradFunc: (dy, saved): Grads => ({ x: () => dx(dy as tf.Tensor, saved[0]!) }),
});

const CONFIGS: readonly tf.GradConfig[] = [
  // soft actor-critic's (src/rl/sac/): ReLU and tanh layers, the twin-critic minimum, the action
  // box's clip, the Gaussian's z-score, and the reshapes and concatenations between the networks
  unary(tf.Relu, (dy, x) => tf.mul(dy, tf.step(x))),
  unary(tf.Tanh, (dy, x) => tf.mul(dy, tf.sub(1, tf.square(tf.tanh(x))))),
  binary(
    tf.Minimum,
    (dy, a, b) => tf.mul(dy, tf.cast(tf.lessEqual(a, b), 'float32')),
    (dy, a, b) => tf.mul(dy, tf.cast(tf.greater(a, b), 'float32')),
  ),
  binary(
    tf.RealDiv,
    (dy, _a, b) => tf.div(dy, b),
    (dy, a, b) => tf.neg(tf.div(tf.mul(dy, a), tf.square(b))),
  ),
  {
    kernelName: tf.ClipByValue,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs): Grads => {
      const x = saved[0]!;
      const { clipValueMin: lo, clipValueMax: hi } = attrs as { clipValueMin: number; clipValueMax: number };
      return {
        x: () =>
          tf.where(
            tf.logicalAnd(tf.greaterEqual(x, lo), tf.lessEqual(x, hi)),
            dy as tf.Tensor,
            tf.zerosLike(dy as tf.Tensor),
          ),
      };
    },
  },
  {
    kernelName: tf.Reshape,
    inputsToSave: ['x'],
    gradFunc: (dy, saved): Grads => ({ x: () => tf.reshape(dy as tf.Tensor, saved[0]!.shape) }),
  },
  {
    kernelName: tf.Concat,
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs): Grads => {
      const axis = tf.util.parseAxisParam((attrs as { axis: number }).axis, saved[0]!.shape)[0]!;
      const parts = tf.split(
        dy as tf.Tensor,
        saved.map((t) => t.shape[axis]!),
        axis,
      );
      return Object.fromEntries(parts.map((t, i) => [String(i), () => t]));
    },
  },
  binary(
    tf.Add,
    (dy) => dy,
    (dy) => dy,
  ),
  binary(
    tf.Sub,
    (dy) => dy,
    (dy) => tf.neg(dy),
  ),
  binary(
    tf.Multiply,
    (dy, _a, b) => tf.mul(dy, b),
    (dy, a) => tf.mul(dy, a),
  ),
  binary(
    tf.SquaredDifference,
    (dy, a, b) => tf.mul(dy, tf.mul(2, tf.sub(a, b))),
    (dy, a, b) => tf.mul(dy, tf.mul(2, tf.sub(b, a))),
  ),
  unary(tf.Neg, (dy) => tf.neg(dy)),
  unary(tf.Square, (dy, x) => tf.mul(dy, tf.mul(2, x))),
  unary(tf.Exp, (dy, x) => tf.mul(dy, tf.exp(x))),
  unary(tf.Sigmoid, (dy, x) => {
    const s = tf.sigmoid(x);
    return tf.mul(dy, tf.mul(s, tf.sub(1, s)));
  }),
  unary(tf.Softplus, (dy, x) => tf.mul(dy, tf.sigmoid(x))),
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs): Grads => ({
      x: () => expandReduced(dy as tf.Tensor, saved[0]!, (attrs as { axis: number | number[] | null }).axis),
    }),
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs): Grads => {
      const x = saved[0]!;
      const axes = tf.util.parseAxisParam(
        (attrs as { axis: number | number[] | null }).axis ?? x.shape.map((_, i) => i),
        x.shape,
      );
      const count = axes.reduce((p, a) => p * x.shape[a]!, 1);
      return { x: () => tf.div(expandReduced(dy as tf.Tensor, x, axes), count) };
    },
  },
  {
    kernelName: tf.Slice,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs): Grads => {
      const x = saved[0]!;
      const { begin, size } = attrs as { begin: number | number[]; size: number | number[] };
      const [start, length] = tf.slice_util.parseSliceParams(x, begin, size);
      const paddings = x.shape.map((d, i): [number, number] => [start![i]!, d - start![i]! - length![i]!]);
      return { x: () => tf.pad(dy as tf.Tensor, paddings) };
    },
  },
  {
    kernelName: tf.AddN,
    saveAllInputs: true,
    gradFunc: (dy, saved): Grads =>
      Object.fromEntries(saved.map((_, i) => [String(i), () => tf.clone(dy as tf.Tensor)])),
  },
];

let registered = false;

// tfjs-core's d.ts says getGradient always returns a GradConfig; it returns undefined for a kernel
// with none (kernel_registry.js: `gradRegistry.get(kernelName)`), which is what the check below needs
const gradientOf = tf.getGradient as (kernelName: string) => tf.GradConfig | undefined;

/** idempotent; called by the modules that train */
export function registerTrainingGradients(): void {
  if (registered) return;
  registered = true;
  for (const config of CONFIGS) if (!gradientOf(config.kernelName)) tf.registerGradient(config);
}
