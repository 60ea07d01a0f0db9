#include "ensemble_ops.h"

#include <cmath>
#include <stdexcept>

#include "thread_pool.h"

namespace dyn {

namespace {

/** rows per pass through all layers: a chunk's activations stay in L2 between layers */
constexpr int CHUNK_ROWS = 96;
/** below this many rows a member's forward is not split over threads */
constexpr int MIN_SPLIT_ROWS = 2 * CHUNK_ROWS;
/** multiply-adds below which a call stays on one thread: waking a worker costs more than it saves */
constexpr double MIN_PARALLEL_WORK = 4e6;

struct ThreadScratch {
  GemmScratch gemm;
  AlignedBuffer packedWeights, act0, act1;
  // training
  AlignedBuffer saved, out, delta0, delta1, grads;
  // Jacobians: the pre-activation of the current layer, the tangents (two layers' worth) and the
  // output layer's tangents before they are transposed into place
  AlignedBuffer z, tangent0, tangent1, tangentOut;
};

ThreadScratch& scratch() {
  thread_local ThreadScratch s;
  return s;
}

double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/** rows of one member's input through all its layers; weights packed once for all the rows */
void forwardRows(const KernelTable& kt, const NetShape& sh, const float* p, const float* x, int rows, float* out, ThreadScratch& s) {
  std::vector<long> packedOffset(sh.layers + 1, 0);
  for (int l = 0; l < sh.layers; ++l) packedOffset[l + 1] = packedOffset[l] + kt.packedSize(sh.widths[l], sh.widths[l + 1]);
  float* packed = s.packedWeights.get(packedOffset[sh.layers]);
  for (int l = 0; l < sh.layers; ++l) kt.packB(p + sh.kernelOffset[l], sh.widths[l + 1], false, sh.widths[l], sh.widths[l + 1], packed + packedOffset[l]);
  float* buffers[2] = {s.act0.get((long)CHUNK_ROWS * sh.maxWidth), s.act1.get((long)CHUNK_ROWS * sh.maxWidth)};
  const int outWidth = sh.widths[sh.layers];
  for (int r0 = 0; r0 < rows; r0 += CHUNK_ROWS) {
    const int n = rows - r0 < CHUNK_ROWS ? rows - r0 : CHUNK_ROWS;
    const float* h = x + (long)r0 * sh.widths[0];
    int ld = sh.widths[0];
    for (int l = 0; l < sh.layers; ++l) {
      const bool last = l + 1 == sh.layers;
      GemmArgs g;
      g.M = n;
      g.N = sh.widths[l + 1];
      g.K = sh.widths[l];
      g.A = h;
      g.lda = ld;
      g.packedB = packed + packedOffset[l];
      g.bias = p + sh.biasOffset[l];
      g.C = last ? out + (long)r0 * outWidth : buffers[l % 2];
      g.ldc = g.N;
      g.epilogue = last ? EPILOGUE_NONE : EPILOGUE_SILU;
      kt.gemm(g, s.gemm);
      h = g.C;
      ld = g.ldc;
    }
  }
}

/**
 * The data loss of one member's outputs and its gradient dOut, mirroring loss.ts: the soft bounds
 *   upper = max − softplus(max − raw),  logvar = min + softplus(upper − min),
 * NLL = mean over rows·nx of (μ − y)²·e^{−logvar} + logvar; or MSE = mean (out − y)². The bounds'
 * own gradients from this member are added to dMax/dMin (double).
 */
double dataLoss(const TrainArgs& a, const float* out, const float* y, float* dOut, double* dMax, double* dMin) {
  const int nx = a.stateSize, rows = a.rows;
  const double count = (double)rows * nx;
  double loss = 0;
  if (!a.probabilistic) {
    for (long i = 0; i < (long)rows * nx; ++i) {
      const double d = (double)out[i] - y[i];
      loss += d * d;
      dOut[i] = (float)(2 * d / count);
    }
    return loss / count;
  }
  const float* maxL = a.bounds;
  const float* minL = a.bounds + nx;
  for (int r = 0; r < rows; ++r) {
    const float* o = out + (long)r * 2 * nx;
    float* d = dOut + (long)r * 2 * nx;
    for (int j = 0; j < nx; ++j) {
      const double above = (double)maxL[j] - o[nx + j];
      const double upper = maxL[j] - softplus(above);
      const double overMin = upper - minL[j];
      const double logvar = minL[j] + softplus(overMin);
      const double precision = std::exp(-logvar);
      const double err = (double)o[j] - y[(long)r * nx + j];
      const double weighted = err * err * precision;
      loss += weighted + logvar;
      const double dLogvar = (1 - weighted) / count;
      const double sOver = sigmoid(overMin), sAbove = sigmoid(above);
      d[j] = (float)(2 * err * precision / count);
      d[nx + j] = (float)(dLogvar * sOver * sAbove);
      dMax[j] += dLogvar * sOver * (1 - sAbove);
      dMin[j] += dLogvar * (1 - sOver);
    }
  }
  return loss / count;
}

struct MemberResult {
  double dataLoss = 0, decayLoss = 0;
};

/** forward with saved activations, loss, backward and (if applying) Adam, for member m */
MemberResult memberStep(const KernelTable& kt, const TrainArgs& a, int m, double* dMax, double* dMin) {
  ThreadScratch& s = scratch();
  const NetShape& sh = *a.shape;
  const int L = sh.layers, rows = a.rows;
  float* p = a.params + (long)m * sh.memberParams;
  const float* x = a.x + (long)m * rows * sh.widths[0];
  const float* y = a.y + (long)m * rows * a.stateSize;

  // saved: H_l (the input of layer l, l ≥ 1) and Z_l (the pre-activation of hidden layer l)
  std::vector<float*> H(L), Z(L);
  long savedSize = 0;
  for (int l = 1; l < L; ++l) savedSize += 2L * rows * sh.widths[l];
  float* saved = s.saved.get(savedSize > 0 ? savedSize : 1);
  H[0] = const_cast<float*>(x);
  for (int l = 1; l < L; ++l) {
    Z[l - 1] = saved;
    H[l] = saved + (long)rows * sh.widths[l];
    saved += 2L * rows * sh.widths[l];
  }
  const int outWidth = sh.widths[L];
  float* out = s.out.get((long)rows * outWidth);
  for (int l = 0; l < L; ++l) {
    const bool last = l + 1 == L;
    GemmArgs g;
    g.M = rows;
    g.N = sh.widths[l + 1];
    g.K = sh.widths[l];
    g.A = H[l];
    g.lda = sh.widths[l];
    g.B = p + sh.kernelOffset[l];
    g.ldb = g.N;
    g.bias = p + sh.biasOffset[l];
    g.C = last ? out : H[l + 1];
    g.ldc = g.N;
    g.epilogue = last ? EPILOGUE_NONE : EPILOGUE_SILU_KEEP;
    if (!last) {
      g.Z = Z[l];
      g.ldz = g.N;
    }
    kt.gemm(g, s.gemm);
  }

  MemberResult result;
  float* delta[2] = {s.delta0.get((long)rows * sh.maxWidth), s.delta1.get((long)rows * sh.maxWidth)};
  result.dataLoss = dataLoss(a, out, y, delta[0], dMax, dMin);

  float* grads = a.grads ? a.grads + (long)m * sh.memberParams : s.grads.get(sh.memberParams);
  for (int l = L - 1; l >= 0; --l) {
    const int in = sh.widths[l], outW = sh.widths[l + 1];
    const float* dZ = delta[(L - 1 - l) % 2];
    // dW = H_lᵀ·dZ, db = Σ_rows dZ
    GemmArgs gw;
    gw.M = in;
    gw.N = outW;
    gw.K = rows;
    gw.A = H[l];
    gw.lda = in;
    gw.transA = true;
    gw.B = dZ;
    gw.ldb = outW;
    gw.C = grads + sh.kernelOffset[l];
    gw.ldc = outW;
    kt.gemm(gw, s.gemm);
    kt.columnSums(dZ, rows, outW, outW, grads + sh.biasOffset[l]);
    if (l == 0) break;
    // dZ_{l−1} = (dZ·W_lᵀ)·silu'(Z_{l−1})
    GemmArgs gx;
    gx.M = rows;
    gx.N = in;
    gx.K = outW;
    gx.A = dZ;
    gx.lda = outW;
    gx.B = p + sh.kernelOffset[l];
    gx.ldb = outW;
    gx.transB = true;
    gx.C = delta[(L - l) % 2];
    gx.ldc = in;
    gx.epilogue = EPILOGUE_SILU_GRAD;
    gx.aux = Z[l - 1];
    gx.ldaux = in;
    kt.gemm(gx, s.gemm);
  }

  // weight decay Σ_l λ_l·½‖W_l‖²: its gradient λ_l·W_l joins the kernels' gradients (inside Adam
  // when only applying, written out when the caller asked for gradients)
  for (int l = 0; l < L; ++l) {
    const float* w = p + sh.kernelOffset[l];
    const long n = (long)sh.widths[l] * sh.widths[l + 1];
    const float decay = a.decays[l];
    double sq = 0;
    for (long i = 0; i < n; ++i) sq += (double)w[i] * w[i];
    result.decayLoss += 0.5 * decay * sq;
    if (a.grads && decay != 0.0f) {
      float* g = grads + sh.kernelOffset[l];
      for (long i = 0; i < n; ++i) g[i] += decay * w[i];
    }
  }
  if (a.apply) {
    float* mm = a.adamM + (long)m * sh.memberParams;
    float* vv = a.adamV + (long)m * sh.memberParams;
    for (int l = 0; l < L; ++l) {
      const long k = sh.kernelOffset[l], b = sh.biasOffset[l];
      const long nk = (long)sh.widths[l] * sh.widths[l + 1];
      kt.adam(p + k, mm + k, vv + k, grads + k, nk, a.adam, a.grads ? 0.0f : a.decays[l]);
      kt.adam(p + b, mm + b, vv + b, grads + b, sh.widths[l + 1], a.adam, 0.0f);
    }
  }
  return result;
}

/** input rows × directions per Jacobian chunk: a chunk's tangents (≈ this × width floats) stay in L2 */
constexpr int JACOBIAN_TANGENT_ROWS = 576;
/** below this many rows a member's Jacobians are not split over threads */
constexpr int MIN_JACOBIAN_SPLIT_ROWS = 16;

/**
 * One member's outputs (first nx) and their Jacobians for rows of input, forward mode. The
 * tangent of input direction k at layer l is the n × width_l matrix T_l^k = ∂H_l/∂x_k (rows of the
 * chunk); T_0^k is the constant one-hot row e_k (a GEMM operand with lda 0). With Z_l = H_l·W_l + b_l
 * and H_{l+1} = silu(Z_l):  T_{l+1}^k = (T_l^k·W_l) ∘ silu'(Z_l), one GEMM per direction over the
 * chunk's rows with SiLU' as its epilogue; the linear output layer maps every direction's tangent
 * in one GEMM, T_L = T_{L−1}·W_{L−1}[:, :nx], whose rows (k, r) are transposed into [r, j, k].
 */
void jacobianRows(const KernelTable& kt, const NetShape& sh, const float* p, const float* x, int rows, int nx, float* out, float* jac, ThreadScratch& s) {
  const int L = sh.layers, in = sh.widths[0], outWidth = sh.widths[L];
  // weights packed once for all the rows: hidden layers whole, the output layer's first nx columns
  std::vector<long> packedOffset(L + 1, 0);
  for (int l = 0; l < L; ++l) packedOffset[l + 1] = packedOffset[l] + kt.packedSize(sh.widths[l], l + 1 == L ? nx : sh.widths[l + 1]);
  float* packed = s.packedWeights.get(packedOffset[L]);
  for (int l = 0; l < L; ++l)
    kt.packB(p + sh.kernelOffset[l], sh.widths[l + 1], false, sh.widths[l], l + 1 == L ? nx : sh.widths[l + 1], packed + packedOffset[l]);
  std::vector<float> identity((size_t)in * in, 0.0f);
  for (int k = 0; k < in; ++k) identity[(size_t)k * in + k] = 1.0f;

  // whole micro-tiles of rows per chunk (a GEMM's last tile is padded), at least one
  const int chunk = JACOBIAN_TANGENT_ROWS / in / kt.tileRows > 1 ? JACOBIAN_TANGENT_ROWS / in / kt.tileRows * kt.tileRows : kt.tileRows;
  const long chunkRows = rows < chunk ? rows : chunk;
  float* H[2] = {s.act0.get(chunkRows * sh.maxWidth), s.act1.get(chunkRows * sh.maxWidth)};
  float* Z = s.z.get(chunkRows * sh.maxWidth);
  float* T[2] = {s.tangent0.get(chunkRows * in * sh.maxWidth), s.tangent1.get(chunkRows * in * sh.maxWidth)};
  float* TO = s.tangentOut.get(chunkRows * in * nx);
  for (int r0 = 0; r0 < rows; r0 += chunk) {
    const int n = rows - r0 < chunk ? rows - r0 : chunk;
    const float* h = x + (long)r0 * in;
    int ld = in;
    const float* t = nullptr;  // null: still the identity (before the first layer)
    for (int l = 0; l < L; ++l) {
      const int K = sh.widths[l];
      GemmArgs g;
      g.M = n;
      g.K = K;
      g.A = h;
      g.lda = ld;
      g.packedB = packed + packedOffset[l];
      g.bias = p + sh.biasOffset[l];
      if (l + 1 == L) {
        g.N = nx;
        g.C = out + (long)r0 * nx;
        g.ldc = nx;
        kt.gemm(g, s.gemm);
        if (t) {
          GemmArgs gt;
          gt.M = in * n;
          gt.N = nx;
          gt.K = K;
          gt.A = t;
          gt.lda = K;
          gt.packedB = g.packedB;
          gt.C = TO;
          gt.ldc = nx;
          kt.gemm(gt, s.gemm);
        }
        const float* w = p + sh.kernelOffset[l];
        for (int r = 0; r < n; ++r) {
          float* J = jac + (long)(r0 + r) * nx * in;
          for (int j = 0; j < nx; ++j)
            for (int k = 0; k < in; ++k) J[j * in + k] = t ? TO[((long)k * n + r) * nx + j] : w[(long)k * outWidth + j];
        }
        break;
      }
      const int N = sh.widths[l + 1];
      g.N = N;
      g.C = H[l % 2];
      g.ldc = N;
      g.epilogue = EPILOGUE_SILU_KEEP;
      g.Z = Z;
      g.ldz = N;
      kt.gemm(g, s.gemm);
      float* next = T[l % 2];
      for (int k = 0; k < in; ++k) {
        GemmArgs gt;
        gt.M = n;
        gt.N = N;
        gt.K = K;
        gt.A = t ? t + (long)k * n * K : identity.data() + (long)k * in;
        gt.lda = t ? K : 0;
        gt.packedB = g.packedB;
        gt.C = next + (long)k * n * N;
        gt.ldc = N;
        gt.epilogue = EPILOGUE_SILU_GRAD;
        gt.aux = Z;
        gt.ldaux = N;
        kt.gemm(gt, s.gemm);
      }
      h = g.C;
      ld = N;
      t = next;
    }
  }
}

}  // namespace

NetShape::NetShape(std::vector<int> w) : widths(std::move(w)) {
  if (widths.size() < 2) throw std::invalid_argument("a network needs at least an input and an output width");
  layers = (int)widths.size() - 1;
  for (size_t i = 0; i < widths.size(); ++i) {
    if (widths[i] <= 0 || widths[i] > (1 << 20)) throw std::invalid_argument("layer width " + std::to_string(widths[i]) + " at position " + std::to_string(i) + " is not in 1…2^20");
    if (widths[i] > maxWidth) maxWidth = widths[i];
  }
  long offset = 0;
  for (int l = 0; l < layers; ++l) {
    kernelOffset.push_back(offset);
    offset += (long)widths[l] * widths[l + 1];
    biasOffset.push_back(offset);
    offset += widths[l + 1];
  }
  memberParams = offset;
}

void forwardEnsemble(const KernelTable& kt, const NetShape& sh, const float* params, int members, const float* input, const int* offsets, int sharedRows,
                     float* output, int threads) {
  struct Task {
    int member, row0, rows;
  };
  const double totalRows = offsets ? (double)offsets[members] - offsets[0] : (double)sharedRows * members;
  if (totalRows * sh.memberParams < MIN_PARALLEL_WORK) threads = 1;
  std::vector<Task> tasks;
  for (int m = 0; m < members; ++m) {
    const int start = offsets ? offsets[m] : 0;
    const int rows = offsets ? offsets[m + 1] - offsets[m] : sharedRows;
    if (rows <= 0) continue;
    // large members split into one piece per thread, so that 7 members balance over 2 threads
    const int pieces = threads > 1 && rows >= MIN_SPLIT_ROWS ? threads : 1;
    for (int i = 0; i < pieces; ++i) {
      const int a = start + (int)((long)rows * i / pieces), b = start + (int)((long)rows * (i + 1) / pieces);
      if (b > a) tasks.push_back({m, a, b - a});
    }
  }
  const int in = sh.widths[0], out = sh.widths[sh.layers];
  ThreadPool::instance().run((int)tasks.size(), threads, [&](int i) {
    const Task& t = tasks[i];
    const long outRow = offsets ? t.row0 : (long)t.member * sharedRows + t.row0;
    forwardRows(kt, sh, params + (long)t.member * sh.memberParams, input + (long)t.row0 * in, t.rows, output + outRow * out, scratch());
  });
}

void forwardJacobian(const KernelTable& kt, const NetShape& sh, const float* params, const int* memberList, int count, const float* input, int rows, int nx,
                     float* outputs, float* jacobians, int threads) {
  struct Task {
    int entry, row0, rows;
  };
  const int in = sh.widths[0];
  if ((double)rows * count * (in + 1) * sh.memberParams < MIN_PARALLEL_WORK) threads = 1;
  std::vector<Task> tasks;
  for (int i = 0; i < count; ++i) {
    // split over threads even when small: each row costs in + 1 forward passes
    const int pieces = threads > 1 && rows >= MIN_JACOBIAN_SPLIT_ROWS ? threads : 1;
    for (int piece = 0; piece < pieces; ++piece) {
      const int a = (int)((long)rows * piece / pieces), b = (int)((long)rows * (piece + 1) / pieces);
      if (b > a) tasks.push_back({i, a, b - a});
    }
  }
  ThreadPool::instance().run((int)tasks.size(), threads, [&](int i) {
    const Task& t = tasks[i];
    const long row = (long)t.entry * rows + t.row0;
    jacobianRows(kt, sh, params + (long)memberList[t.entry] * sh.memberParams, input + (long)t.row0 * in, t.rows, nx, outputs + row * nx,
                 jacobians + row * nx * in, scratch());
  });
}

TrainResult trainStep(const KernelTable& kt, const TrainArgs& a) {
  const int nx = a.stateSize;
  std::vector<double> boundGrads(a.probabilistic ? (size_t)a.members * 2 * nx : 0, 0.0);
  std::vector<MemberResult> results(a.members);
  const double work = 3.0 * a.rows * a.members * a.shape->memberParams;
  ThreadPool::instance().run(a.members, work < MIN_PARALLEL_WORK ? 1 : a.threads, [&](int m) {
    double* dMax = a.probabilistic ? boundGrads.data() + (size_t)m * 2 * nx : nullptr;
    results[m] = memberStep(kt, a, m, dMax, dMax ? dMax + nx : nullptr);
  });
  // sums in member order, so the result does not depend on the thread count
  TrainResult r;
  double decay = 0;
  for (const MemberResult& mr : results) {
    r.dataLoss += mr.dataLoss;
    decay += mr.decayLoss;
  }
  r.totalLoss = r.dataLoss + decay;
  if (!a.probabilistic) return r;

  // the bounds: this step's gradients from every member, plus the penalty's ±weight
  std::vector<float> g(2 * nx);
  double sumMax = 0, sumMin = 0;
  for (int j = 0; j < nx; ++j) {
    double dMax = a.boundPenalty, dMin = -a.boundPenalty;
    for (int m = 0; m < a.members; ++m) {
      dMax += boundGrads[(size_t)m * 2 * nx + j];
      dMin += boundGrads[(size_t)m * 2 * nx + nx + j];
    }
    g[j] = (float)dMax;
    g[nx + j] = (float)dMin;
    sumMax += a.bounds[j];
    sumMin += a.bounds[nx + j];
  }
  r.totalLoss += a.boundPenalty * (sumMax - sumMin);
  if (a.boundGrads)
    for (int i = 0; i < 2 * nx; ++i) a.boundGrads[i] = g[i];
  if (a.apply) kt.adam(a.bounds, a.boundsM, a.boundsV, g.data(), 2 * nx, a.adam, 0.0f);
  return r;
}

}  // namespace dyn
