#include "mlp_ops.h"

#include <vector>

namespace dyn {

namespace {

struct MlpScratch {
  GemmScratch gemm;
  AlignedBuffer delta0, delta1;
};

MlpScratch& scratch() {
  thread_local MlpScratch s;
  return s;
}

}  // namespace

long mlpActivationSize(const NetShape& shape, int rows) {
  long n = 0;
  for (int l = 1; l <= shape.layers; ++l) n += (long)rows * shape.widths[l];
  return n;
}

void mlpForward(const KernelTable& kt, const NetShape& sh, const float* p, const float* x, int rows, float* activations) {
  MlpScratch& s = scratch();
  const float* h = x;
  float* out = activations;
  for (int l = 0; l < sh.layers; ++l) {
    const int in = sh.widths[l], width = sh.widths[l + 1];
    GemmArgs g;
    g.M = rows;
    g.N = width;
    g.K = in;
    g.A = h;
    g.lda = in;
    g.B = p + sh.kernelOffset[l];
    g.ldb = width;
    g.bias = p + sh.biasOffset[l];
    g.C = out;
    g.ldc = width;
    kt.gemm(g, s.gemm);
    if (l + 1 < sh.layers) {
      const long n = (long)rows * width;
      for (long i = 0; i < n; ++i) out[i] = out[i] > 0.0f ? out[i] : 0.0f;
    }
    h = out;
    out += (long)rows * width;
  }
}

void mlpBackward(const KernelTable& kt, const NetShape& sh, const float* p, const float* x, const float* activations, const float* dOut, int rows,
                 float* grads, float* dInput) {
  MlpScratch& s = scratch();
  // where each layer's output starts in activations
  std::vector<long> start(sh.layers + 1, 0);
  for (int l = 0; l < sh.layers; ++l) start[l + 1] = start[l] + (long)rows * sh.widths[l + 1];
  float* deltas[2] = {s.delta0.get((long)rows * sh.maxWidth), s.delta1.get((long)rows * sh.maxWidth)};
  // dZ of the layer being differentiated: the output layer is linear, so dZ = dOut
  const float* dZ = dOut;
  for (int l = sh.layers - 1; l >= 0; --l) {
    const int in = sh.widths[l], width = sh.widths[l + 1];
    const float* h = l == 0 ? x : activations + start[l - 1];
    if (grads) {
      // ∂W_l = hᵀ·dZ, ∂b_l = Σ_rows dZ
      GemmArgs g;
      g.M = in;
      g.N = width;
      g.K = rows;
      g.A = h;
      g.lda = in;
      g.transA = true;
      g.B = dZ;
      g.ldb = width;
      g.C = grads + sh.kernelOffset[l];
      g.ldc = width;
      kt.gemm(g, s.gemm);
      kt.columnSums(dZ, rows, width, width, grads + sh.biasOffset[l]);
    }
    if (l == 0 && !dInput) break;
    // ∂h = dZ·W_lᵀ, then through the ReLU that made h (h > 0 exactly where its input was)
    float* dh = l == 0 ? dInput : deltas[l % 2];
    GemmArgs g;
    g.M = rows;
    g.N = in;
    g.K = width;
    g.A = dZ;
    g.lda = width;
    g.B = p + sh.kernelOffset[l];
    g.ldb = width;
    g.transB = true;
    g.C = dh;
    g.ldc = in;
    kt.gemm(g, s.gemm);
    if (l > 0) {
      const long n = (long)rows * in;
      for (long i = 0; i < n; ++i)
        if (!(h[i] > 0.0f)) dh[i] = 0.0f;
    }
    dZ = dh;
  }
}

}  // namespace dyn
