// kernels.inc compiled three times: portable (the build's baseline, SSE2 on x86-64), AVX2+FMA and
// AVX-512, the last two under `#pragma GCC target` so the build itself needs no -march flag and
// runs on any x86-64; the CPU is asked at run time which of them it can execute.
#include "kernels.h"

#include <cstring>

namespace dyn {

namespace portable {
#define DYN_VW 4
#define DYN_MR 6
#define DYN_NV 2
#define NAME "portable"
#include "kernels.inc"
#undef DYN_VW
#undef DYN_MR
#undef DYN_NV
#undef NAME
}  // namespace portable

// (GCC only: clang does not take `#pragma GCC target`, and gets the portable kernels)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DYN_X86 1

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#define DYN_VW 8
#define DYN_MR 6
#define DYN_NV 2
#define NAME "avx2"
#include "kernels.inc"
#undef DYN_VW
#undef DYN_MR
#undef DYN_NV
#undef NAME
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
namespace avx512 {
#define DYN_VW 16
#define DYN_MR 12
#define DYN_NV 2
#define NAME "avx512"
#include "kernels.inc"
#undef DYN_VW
#undef DYN_MR
#undef DYN_NV
#undef NAME
}  // namespace avx512
#pragma GCC pop_options
#endif

namespace {
bool supported(const KernelTable* t) {
#ifdef DYN_X86
  __builtin_cpu_init();
  // libgcc's checks include the OS saving the wider registers (XGETBV)
  if (t == &avx512::TABLE) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (t == &avx2::TABLE) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return t == &portable::TABLE;
}

const KernelTable* const ALL[] = {
#ifdef DYN_X86
    &avx512::TABLE,
    &avx2::TABLE,
#endif
    &portable::TABLE,
};
}  // namespace

const KernelTable& bestKernels() {
  static const KernelTable* const best = [] {
    for (const KernelTable* t : ALL)
      if (supported(t)) return t;
    return &portable::TABLE;
  }();
  return *best;
}

const KernelTable* kernelsNamed(const char* name) {
  for (const KernelTable* t : ALL)
    if (std::strcmp(t->name, name) == 0) return supported(t) ? t : nullptr;
  return nullptr;
}

}  // namespace dyn
