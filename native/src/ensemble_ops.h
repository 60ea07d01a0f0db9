// The ensemble's two operations on flat float32 arrays owned by JavaScript: the grouped forward
// pass (inference) and one training step (forward with saved activations, PETS loss, backward,
// Adam), mirroring src/dynamics/loss.ts and tf.train.adam.
//
// Parameter layout, per member, members back to back: for each layer l, its kernel
// W_l [in_l × out_l] row-major, then its bias b_l [out_l] — the TF.js weights' own order and shapes.
#pragma once

#include <string>
#include <vector>

#include "kernels.h"

namespace dyn {

struct NetShape {
  /** input, hidden…, output */
  std::vector<int> widths;
  int layers = 0;
  long memberParams = 0;
  std::vector<long> kernelOffset, biasOffset;
  int maxWidth = 0;

  /** throws std::invalid_argument naming the bad width */
  explicit NetShape(std::vector<int> widths);
};

/**
 * Raw outputs for rows through members. With offsets (members+1 entries), rows offsets[m] …
 * offsets[m+1]−1 go through member m and land at the same rows of output; without, the first
 * sharedRows input rows go through every member, output member after member.
 */
void forwardEnsemble(const KernelTable& kt, const NetShape& shape, const float* params, int members, const float* input, const int* offsets, int sharedRows,
                     float* output, int threads);

/**
 * Forward-mode Jacobians: the same `rows` inputs [rows × in] through each member listed in
 * memberList (count entries, each a valid member index, repeats allowed). For list entry i and row r:
 *   outputs[(i·rows + r)·nx + j]          = raw output j (j < nx: the normalised delta mean),
 *   jacobians[((i·rows + r)·nx + j)·in + k] = ∂ output j / ∂ input k.
 * Per hidden layer the tangent of every input direction goes through the layer as one GEMM
 * (T_{l+1} = (T_l·W_l)∘silu'(Z_l), the SiLU' fused into the GEMM's epilogue); the linear output
 * layer maps all directions at once.
 */
void forwardJacobian(const KernelTable& kt, const NetShape& shape, const float* params, const int* memberList, int count, const float* input,
                     int rows, int nx, float* outputs, float* jacobians, int threads);

struct TrainArgs {
  const NetShape* shape = nullptr;
  bool probabilistic = true;
  int members = 0;
  /** nx: the output is nx means (then nx raw log-variances when probabilistic) */
  int stateSize = 0;
  /** members × memberParams each */
  float* params = nullptr;
  float* adamM = nullptr;
  float* adamV = nullptr;
  /** probabilistic only: 2·nx, max_logvar then min_logvar, and their Adam moments */
  float* bounds = nullptr;
  float* boundsM = nullptr;
  float* boundsV = nullptr;
  /** member m's rows are rows m·rows … (m+1)·rows−1: inputs [in], targets [nx] */
  const float* x = nullptr;
  const float* y = nullptr;
  int rows = 0;
  /** per layer, on kernels only */
  const float* decays = nullptr;
  /** weight of Σ max_logvar − Σ min_logvar in the objective (loss.ts LOGVAR_BOUND_PENALTY) */
  double boundPenalty = 0;
  AdamArgs adam{};
  /** false: compute the loss (and gradients, if asked) without changing anything */
  bool apply = true;
  /** optional: where the total loss's gradients go (members × memberParams, and 2·nx) */
  float* grads = nullptr;
  float* boundGrads = nullptr;
  int threads = 1;
};

struct TrainResult {
  /** Σ over members of the data loss (Gaussian NLL or MSE), before the update */
  double dataLoss = 0;
  /** dataLoss + weight decay + bound penalty: the objective differentiated */
  double totalLoss = 0;
};

TrainResult trainStep(const KernelTable& kt, const TrainArgs& args);

}  // namespace dyn
