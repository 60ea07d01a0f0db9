// Small multilayer perceptrons for reinforcement learning (soft actor-critic's actor and critics):
// ReLU hidden layers and a linear output, on flat float32 arrays owned by JavaScript. Three
// operations: the forward pass keeping every layer's output (what backpropagation reads), the
// backward pass from the output's gradient to the parameters' and, if asked, the input's, and one
// Adam step. The losses stay in the caller: they are a few values per row.
//
// Parameter layout: for each layer l, its kernel W_l [in_l × out_l] row-major, then its bias
// b_l [out_l] — the TF.js weights' own order and shapes (the ensemble's per-member layout).
#pragma once

#include "ensemble_ops.h"
#include "kernels.h"

namespace dyn {

/** Σ over layers of rows × out_l: the size of the activations forward keeps (input excluded) */
long mlpActivationSize(const NetShape& shape, int rows);

/**
 * x [rows × in] through the network. activations receives each layer's output back to back
 * ([rows × out_0], [rows × out_1], …; hidden outputs after the ReLU), the last block being the
 * network's output.
 */
void mlpForward(const KernelTable& kt, const NetShape& shape, const float* params, const float* x, int rows, float* activations);

/**
 * Back from dOut [rows × out] (the loss's gradient at the output) through the activations forward
 * kept for the same x: grads (the parameters' layout) receives ∂loss/∂θ when not null (overwritten),
 * dInput [rows × in] receives ∂loss/∂x when not null.
 */
void mlpBackward(const KernelTable& kt, const NetShape& shape, const float* params, const float* x, const float* activations, const float* dOut,
                 int rows, float* grads, float* dInput);

}  // namespace dyn
