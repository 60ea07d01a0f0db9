// The Node-API surface of the ensemble kernels (loaded by src/tensor/native_kernels.ts). Every
// call works in place on the caller's typed arrays: nothing is copied in or out, and nothing is
// kept between calls except the choice of kernels.
#include <napi.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "ensemble_ops.h"
#include "kernels.h"
#include "mlp_ops.h"

namespace {

std::atomic<const dyn::KernelTable*> active{nullptr};

const dyn::KernelTable& kernels() {
  const dyn::KernelTable* k = active.load();
  return k ? *k : dyn::bestKernels();
}

[[noreturn]] void fail(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }

Napi::Float32Array float32(Napi::Env env, const Napi::Value& v, const char* name, size_t minLength) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) fail(env, std::string(name) + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (a.ElementLength() < minLength)
    fail(env, std::string(name) + " has " + std::to_string(a.ElementLength()) + " values, needs at least " + std::to_string(minLength));
  return a;
}

Napi::Int32Array int32(Napi::Env env, const Napi::Value& v, const char* name, size_t minLength) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) fail(env, std::string(name) + " must be an Int32Array");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  if (a.ElementLength() < minLength)
    fail(env, std::string(name) + " has " + std::to_string(a.ElementLength()) + " values, needs at least " + std::to_string(minLength));
  return a;
}

int integer(Napi::Env env, const Napi::Value& v, const char* name, int min, int max) {
  if (!v.IsNumber()) fail(env, std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != (double)(int)d) fail(env, std::string(name) + " must be an integer in " + std::to_string(min) + "…" + std::to_string(max) + ", not " + std::to_string(d));
  return (int)d;
}

double number(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) fail(env, std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

dyn::NetShape shapeOf(Napi::Env env, const Napi::Value& v) {
  Napi::Int32Array w = int32(env, v, "widths", 2);
  try {
    return dyn::NetShape(std::vector<int>(w.Data(), w.Data() + w.ElementLength()));
  } catch (const std::invalid_argument& e) {
    fail(env, std::string("widths: ") + e.what());
  }
}

constexpr int MAX_THREADS = 64;
constexpr int MAX_MEMBERS = 1 << 16;

/** { active, available, vectorWidth } */
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("active", kernels().name);
  o.Set("vectorWidth", kernels().vectorWidth);
  Napi::Array available = Napi::Array::New(env);
  uint32_t i = 0;
  for (const char* name : {"avx512", "avx2", "portable"})
    if (dyn::kernelsNamed(name)) available.Set(i++, name);
  o.Set("available", available);
  return o;
}

/** useKernels(name): run on another instruction set this CPU supports (tests, comparisons) */
Napi::Value UseKernels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) fail(env, "useKernels: the name must be a string");
  const std::string name = info[0].As<Napi::String>();
  const dyn::KernelTable* k = dyn::kernelsNamed(name.c_str());
  if (!k) fail(env, "useKernels: '" + name + "' is unknown or not supported by this CPU");
  active.store(k);
  return env.Undefined();
}

/** forward(widths, params, members, input, offsets | null, sharedRows, output, threads) */
Napi::Value Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 8) fail(env, "forward: expected (widths, params, members, input, offsets, sharedRows, output, threads)");
  const dyn::NetShape shape = shapeOf(env, info[0]);
  const int members = integer(env, info[2], "members", 1, MAX_MEMBERS);
  Napi::Float32Array params = float32(env, info[1], "params", (size_t)members * shape.memberParams);
  const int in = shape.widths.front(), out = shape.widths.back();
  const int threads = integer(env, info[7], "threads", 1, MAX_THREADS);
  if (info[4].IsNull() || info[4].IsUndefined()) {
    const int rows = integer(env, info[5], "sharedRows", 0, 1 << 30);
    Napi::Float32Array input = float32(env, info[3], "input", (size_t)rows * in);
    Napi::Float32Array output = float32(env, info[6], "output", (size_t)members * rows * out);
    dyn::forwardEnsemble(kernels(), shape, params.Data(), members, input.Data(), nullptr, rows, output.Data(), threads);
    return env.Undefined();
  }
  Napi::Int32Array offsets = int32(env, info[4], "offsets", (size_t)members + 1);
  const int* o = offsets.Data();
  if (o[0] < 0) fail(env, "offsets[0] is negative");
  for (int m = 0; m < members; ++m)
    if (o[m + 1] < o[m]) fail(env, "offsets must not decrease (member " + std::to_string(m) + ")");
  const size_t rows = (size_t)o[members];
  Napi::Float32Array input = float32(env, info[3], "input", rows * in);
  Napi::Float32Array output = float32(env, info[6], "output", rows * out);
  dyn::forwardEnsemble(kernels(), shape, params.Data(), members, input.Data(), o, 0, output.Data(), threads);
  return env.Undefined();
}

/**
 * forwardJacobian(widths, params, members, memberList, input, rows, stateSize, outputs, jacobians,
 * threads): the `rows` inputs through each member in memberList; outputs [count, rows, stateSize]
 * (the first stateSize raw outputs), jacobians [count, rows, stateSize, in] (∂ output / ∂ input)
 */
Napi::Value ForwardJacobian(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 10) fail(env, "forwardJacobian: expected (widths, params, members, memberList, input, rows, stateSize, outputs, jacobians, threads)");
  const dyn::NetShape shape = shapeOf(env, info[0]);
  const int members = integer(env, info[2], "members", 1, MAX_MEMBERS);
  Napi::Float32Array params = float32(env, info[1], "params", (size_t)members * shape.memberParams);
  Napi::Int32Array list = int32(env, info[3], "memberList", 0);
  const int count = (int)list.ElementLength();
  const int* m = list.Data();
  for (int i = 0; i < count; ++i)
    if (m[i] < 0 || m[i] >= members) fail(env, "memberList[" + std::to_string(i) + "] is " + std::to_string(m[i]) + ", not a member in 0…" + std::to_string(members - 1));
  const int in = shape.widths.front(), out = shape.widths.back();
  const int rows = integer(env, info[5], "rows", 0, 1 << 24);
  const int nx = integer(env, info[6], "stateSize", 1, out);
  const int threads = integer(env, info[9], "threads", 1, MAX_THREADS);
  Napi::Float32Array input = float32(env, info[4], "input", (size_t)rows * in);
  Napi::Float32Array outputs = float32(env, info[7], "outputs", (size_t)count * rows * nx);
  Napi::Float32Array jacobians = float32(env, info[8], "jacobians", (size_t)count * rows * nx * in);
  dyn::forwardJacobian(kernels(), shape, params.Data(), m, count, input.Data(), rows, nx, outputs.Data(), jacobians.Data(), threads);
  return env.Undefined();
}

/**
 * trainStep({ widths, probabilistic, members, stateSize, params, adamM, adamV, bounds, boundsM,
 * boundsV, x, y, rows, decays, boundPenalty, adam: Float64Array[lr, β₁, β₂, 1−β₁, 1−β₂, ε, c₁, c₂],
 * apply, grads?, boundGrads?, threads }) → { dataLoss, totalLoss }
 */
Napi::Value TrainStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) fail(env, "trainStep: expected one options object");
  Napi::Object o = info[0].As<Napi::Object>();
  const dyn::NetShape shape = shapeOf(env, o.Get("widths"));
  dyn::TrainArgs a;
  a.shape = &shape;
  a.probabilistic = o.Get("probabilistic").ToBoolean();
  a.members = integer(env, o.Get("members"), "members", 1, MAX_MEMBERS);
  a.stateSize = integer(env, o.Get("stateSize"), "stateSize", 1, 1 << 20);
  a.rows = integer(env, o.Get("rows"), "rows", 1, 1 << 24);
  a.threads = integer(env, o.Get("threads"), "threads", 1, MAX_THREADS);
  a.apply = o.Get("apply").ToBoolean();
  a.boundPenalty = number(env, o.Get("boundPenalty"), "boundPenalty");
  const int in = shape.widths.front(), out = shape.widths.back();
  if (out != (a.probabilistic ? 2 : 1) * a.stateSize)
    fail(env, "the output width " + std::to_string(out) + " does not fit stateSize " + std::to_string(a.stateSize) + (a.probabilistic ? " (probabilistic: 2·nx)" : ""));
  const size_t total = (size_t)a.members * shape.memberParams;
  a.params = float32(env, o.Get("params"), "params", total).Data();
  a.x = float32(env, o.Get("x"), "x", (size_t)a.members * a.rows * in).Data();
  a.y = float32(env, o.Get("y"), "y", (size_t)a.members * a.rows * a.stateSize).Data();
  a.decays = float32(env, o.Get("decays"), "decays", shape.layers).Data();
  if (a.apply) {
    a.adamM = float32(env, o.Get("adamM"), "adamM", total).Data();
    a.adamV = float32(env, o.Get("adamV"), "adamV", total).Data();
    const Napi::Value h = o.Get("adam");
    if (!h.IsTypedArray() || h.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array || h.As<Napi::Float64Array>().ElementLength() < 8)
      fail(env, "adam must be a Float64Array [lr, beta1, beta2, 1-beta1, 1-beta2, epsilon, correction1, correction2]");
    const double* d = h.As<Napi::Float64Array>().Data();
    a.adam = {(float)d[0], (float)d[1], (float)d[2], (float)d[3], (float)d[4], (float)d[5], (float)d[6], (float)d[7]};
  }
  if (a.probabilistic) {
    a.bounds = float32(env, o.Get("bounds"), "bounds", 2 * (size_t)a.stateSize).Data();
    if (a.apply) {
      a.boundsM = float32(env, o.Get("boundsM"), "boundsM", 2 * (size_t)a.stateSize).Data();
      a.boundsV = float32(env, o.Get("boundsV"), "boundsV", 2 * (size_t)a.stateSize).Data();
    }
  }
  const Napi::Value grads = o.Get("grads");
  if (!grads.IsUndefined() && !grads.IsNull()) a.grads = float32(env, grads, "grads", total).Data();
  const Napi::Value boundGrads = o.Get("boundGrads");
  if (a.probabilistic && !boundGrads.IsUndefined() && !boundGrads.IsNull()) a.boundGrads = float32(env, boundGrads, "boundGrads", 2 * (size_t)a.stateSize).Data();

  const dyn::TrainResult r = dyn::trainStep(kernels(), a);
  Napi::Object result = Napi::Object::New(env);
  result.Set("dataLoss", r.dataLoss);
  result.Set("totalLoss", r.totalLoss);
  return result;
}

/** an optional Float32Array argument: null/undefined → nullptr */
float* optionalFloat32(Napi::Env env, const Napi::Value& v, const char* name, size_t minLength) {
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  return float32(env, v, name, minLength).Data();
}

/** mlpForward(widths, params, x, rows, activations): ReLU hidden layers, linear output (mlp_ops.h) */
Napi::Value MlpForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dyn::NetShape shape = shapeOf(env, info[0]);
  const int rows = integer(env, info[3], "rows", 1, 1 << 24);
  const float* params = float32(env, info[1], "params", shape.memberParams).Data();
  const float* x = float32(env, info[2], "x", (size_t)rows * shape.widths.front()).Data();
  float* activations = float32(env, info[4], "activations", dyn::mlpActivationSize(shape, rows)).Data();
  dyn::mlpForward(kernels(), shape, params, x, rows, activations);
  return env.Undefined();
}

/** mlpBackward(widths, params, x, activations, dOut, rows, grads | null, dInput | null) */
Napi::Value MlpBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dyn::NetShape shape = shapeOf(env, info[0]);
  const int rows = integer(env, info[5], "rows", 1, 1 << 24);
  const float* params = float32(env, info[1], "params", shape.memberParams).Data();
  const float* x = float32(env, info[2], "x", (size_t)rows * shape.widths.front()).Data();
  const float* activations = float32(env, info[3], "activations", dyn::mlpActivationSize(shape, rows)).Data();
  const float* dOut = float32(env, info[4], "dOut", (size_t)rows * shape.widths.back()).Data();
  float* grads = optionalFloat32(env, info[6], "grads", shape.memberParams);
  float* dInput = optionalFloat32(env, info[7], "dInput", (size_t)rows * shape.widths.front());
  dyn::mlpBackward(kernels(), shape, params, x, activations, dOut, rows, grads, dInput);
  return env.Undefined();
}

/** adamStep(params, m, v, grads, adam Float64Array[8]): tf.train.adam's update on every value of params */
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array params = float32(env, info[0], "params", 1);
  const size_t n = params.ElementLength();
  float* m = float32(env, info[1], "m", n).Data();
  float* v = float32(env, info[2], "v", n).Data();
  const float* g = float32(env, info[3], "grads", n).Data();
  const Napi::Value h = info[4];
  if (!h.IsTypedArray() || h.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array || h.As<Napi::Float64Array>().ElementLength() < 8)
    fail(env, "adam must be a Float64Array [lr, beta1, beta2, 1-beta1, 1-beta2, epsilon, correction1, correction2]");
  const double* d = h.As<Napi::Float64Array>().Data();
  const dyn::AdamArgs a = {(float)d[0], (float)d[1], (float)d[2], (float)d[3], (float)d[4], (float)d[5], (float)d[6], (float)d[7]};
  kernels().adam(params.Data(), m, v, g, (long)n, a, 0.0f);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("useKernels", Napi::Function::New(env, UseKernels, "useKernels"));
  exports.Set("forward", Napi::Function::New(env, Forward, "forward"));
  exports.Set("trainStep", Napi::Function::New(env, TrainStep, "trainStep"));
  exports.Set("forwardJacobian", Napi::Function::New(env, ForwardJacobian, "forwardJacobian"));
  exports.Set("mlpForward", Napi::Function::New(env, MlpForward, "mlpForward"));
  exports.Set("mlpBackward", Napi::Function::New(env, MlpBackward, "mlpBackward"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
  return exports;
}

}  // namespace

NODE_API_MODULE(dynastack_native, Init)
