// The compute kernels behind the ensemble: one table per instruction set (AVX-512, AVX2+FMA,
// portable SSE2), chosen once at load time by what the CPU supports.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace dyn {

enum Epilogue : int {
  EPILOGUE_NONE = 0,
  /** C = silu(A·B + bias) */
  EPILOGUE_SILU = 1,
  /** Z = A·B + bias, C = silu(Z): the forward pass that training differentiates later */
  EPILOGUE_SILU_KEEP = 2,
  /** C = (A·B)·silu'(aux): back through a SiLU whose input was aux */
  EPILOGUE_SILU_GRAD = 3,
};

/** C[M×N] = A(M×K)·B(K×N) with an epilogue; A(i,k) = transA ? A[k·lda+i] : A[i·lda+k], likewise B */
struct GemmArgs {
  int M = 0, N = 0, K = 0;
  const float* A = nullptr;
  int lda = 0;
  bool transA = false;
  const float* B = nullptr;
  int ldb = 0;
  bool transB = false;
  /** B already packed by packB (then B/ldb/transB are unused) */
  const float* packedB = nullptr;
  float* C = nullptr;
  int ldc = 0;
  /** per column, or null */
  const float* bias = nullptr;
  int epilogue = EPILOGUE_NONE;
  /** EPILOGUE_SILU_KEEP: where the pre-activation goes */
  float* Z = nullptr;
  int ldz = 0;
  /** EPILOGUE_SILU_GRAD: the pre-activation whose SiLU derivative scales the result */
  const float* aux = nullptr;
  int ldaux = 0;
};

/** 64-byte aligned, growable float buffers, one set per thread */
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data_); }
  float* get(long floats) {
    if (floats > capacity_) {
      std::free(data_);
      const size_t bytes = ((size_t)floats * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
      capacity_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  long capacity_ = 0;
};

struct GemmScratch {
  AlignedBuffer a, b;
  float* packedA(long floats) { return a.get(floats); }
  float* packedB(long floats) { return b.get(floats); }
};

/** tf.train.adam's constants for one step; the β complements are computed in double, then rounded, as tfjs does */
struct AdamArgs {
  float learningRate, beta1, beta2, oneMinusBeta1, oneMinusBeta2, epsilon;
  /** 1 − β₁ᵗ and 1 − β₂ᵗ, bias corrections of step t */
  float correction1, correction2;
};

struct KernelTable {
  const char* name;
  int vectorWidth, tileRows, panelWidth;
  long (*packedSize)(int K, int N);
  void (*packB)(const float* B, int ldb, bool trans, int K, int N, float* out);
  void (*gemm)(const GemmArgs& g, GemmScratch& scratch);
  void (*columnSums)(const float* X, int M, int N, int ld, float* sums);
  void (*adam)(float* w, float* m, float* v, const float* g, long n, const AdamArgs& a, float decay);
};

/** the best table this CPU runs (checked once) */
const KernelTable& bestKernels();
/** a table by name ('avx512', 'avx2', 'portable'), or null if unknown or unsupported on this CPU */
const KernelTable* kernelsNamed(const char* name);

}  // namespace dyn
