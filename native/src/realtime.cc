// Real-time scheduling for the command loops (loaded by src/util/thread_priority.ts), after what
// ros2_control's realtime_tools does in configure_sched_fifo and lock_memory: the calling thread's
// scheduling policy and priority (sched_setscheduler(2), sched(7)), pages locked in RAM (mlock(2)),
// and the resource limits that say whether an unprivileged process may do either (getrlimit(2):
// RLIMIT_RTPRIO, RLIMIT_MEMLOCK).
//
// Memory is locked range by range, never with mlockall(2): V8 releases pages with
// madvise(MADV_DONTNEED) and aborts when that fails (platform-posix.cc, DiscardSystemPages:
// CHECK_EQ(0, ret)), and on locked pages it fails with EINVAL (madvise(2)). Measured with Node 20:
// after mlockall(MCL_CURRENT | MCL_FUTURE) the next worker, or the next regular expression
// compiled, ends the process with "Check failed: 0 == ret"; after MCL_CURRENT alone it ends at
// exit. The caller locks the mappings V8 never releases (the code of node and its libraries).
//
// Scheduling calls act on the calling thread only: on Linux sched_setscheduler and
// sched_getscheduler with pid 0 mean the calling thread, elsewhere pthread_setschedparam(
// pthread_self()). A failure is returned as the errno value (0: done), never thrown, so that the
// caller can name the cause and fall back. On Linux a real-time policy may carry
// SCHED_RESET_ON_FORK: threads the real-time thread creates later (workers, libuv's thread pool)
// then start SCHED_OTHER instead of inheriting its policy (sched(7), "Resetting scheduling policy
// for child processes").
//
// Plain Node-API (C), no exceptions, no threads: its own target (dynastack_rt), so a failure to
// build it touches neither the ensemble kernels nor the emulator's pseudo-terminals.
#include <node_api.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

namespace {

struct PolicyName {
  const char* name;
  int policy;
};

const PolicyName kPolicies[] = {
  {"SCHED_OTHER", SCHED_OTHER},
  {"SCHED_FIFO", SCHED_FIFO},
  {"SCHED_RR", SCHED_RR},
#ifdef SCHED_BATCH
  {"SCHED_BATCH", SCHED_BATCH},
#endif
#ifdef SCHED_IDLE
  {"SCHED_IDLE", SCHED_IDLE},
#endif
};

const char* policyName(int policy) {
  for (const PolicyName& p : kPolicies)
    if (p.policy == policy) return p.name;
  return "unknown";
}

bool policyOf(const char* name, int* policy) {
  for (const PolicyName& p : kPolicies)
    if (strcmp(p.name, name) == 0) {
      *policy = p.policy;
      return true;
    }
  return false;
}

napi_value number(napi_env env, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok ? v : nullptr;
}

bool setNumber(napi_env env, napi_value object, const char* key, double value) {
  napi_value v = number(env, value);
  return v && napi_set_named_property(env, object, key, v) == napi_ok;
}

/** A soft resource limit as a number, Infinity for RLIM_INFINITY; NaN when it cannot be read. */
double softLimit(int resource) {
  struct rlimit limit;
  if (getrlimit(resource, &limit) != 0) return NAN;
  return limit.rlim_cur == RLIM_INFINITY ? INFINITY : (double)limit.rlim_cur;
}

/** The arguments as (string, number, bool) where given; false (with a TypeError thrown) when not. */
bool readArgs(napi_env env, napi_callback_info info, const char* usage, char* name, size_t nameSize, double* value,
              bool* flag) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  size_t length = 0;
  bool ok = argc >= 2 && napi_get_value_string_utf8(env, argv[0], name, nameSize, &length) == napi_ok &&
            napi_get_value_double(env, argv[1], value) == napi_ok;
  if (ok && flag) ok = argc >= 3 && napi_get_value_bool(env, argv[2], flag) == napi_ok;
  if (!ok) napi_throw_type_error(env, nullptr, usage);
  return ok;
}

/**
 * setScheduler(policy: 'SCHED_FIFO' | 'SCHED_RR' | 'SCHED_OTHER' | 'SCHED_BATCH' | 'SCHED_IDLE',
 *              priority: number, resetOnFork: boolean): number
 * The calling thread's policy and static priority (1–99 for FIFO and RR, 0 for the others); the
 * errno value, 0 when done. resetOnFork is honoured on Linux and ignored elsewhere.
 */
napi_value SetScheduler(napi_env env, napi_callback_info info) {
  char name[32];
  double priority = 0;
  bool resetOnFork = false;
  if (!readArgs(env, info, "setScheduler(policy, priority, resetOnFork): a policy name, a number and a boolean", name,
                sizeof name, &priority, &resetOnFork))
    return nullptr;
  int policy = 0;
  if (!policyOf(name, &policy)) return number(env, EINVAL);
  struct sched_param param;
  memset(&param, 0, sizeof param);
  param.sched_priority = (int)priority;
#ifdef __linux__
  if (resetOnFork) policy |= SCHED_RESET_ON_FORK;
  const int err = sched_setscheduler(0, policy, &param) == 0 ? 0 : errno;
#else
  (void)resetOnFork;
  const int err = pthread_setschedparam(pthread_self(), policy, &param);
#endif
  return number(env, err);
}

/**
 * getScheduler(): { policy: string, priority: number, resetOnFork: boolean }
 * The calling thread's policy and priority as the kernel reports them (sched_getscheduler(2) and
 * sched_getparam(2) on Linux). Throws when they cannot be read.
 */
napi_value GetScheduler(napi_env env, napi_callback_info) {
  struct sched_param param;
  memset(&param, 0, sizeof param);
  bool resetOnFork = false;
#ifdef __linux__
  int policy = sched_getscheduler(0);
  if (policy < 0 || sched_getparam(0, &param) != 0) {
    napi_throw_error(env, nullptr, strerror(errno));
    return nullptr;
  }
  resetOnFork = (policy & SCHED_RESET_ON_FORK) != 0;
  policy &= ~SCHED_RESET_ON_FORK;
#else
  int policy = 0;
  const int err = pthread_getschedparam(pthread_self(), &policy, &param);
  if (err != 0) {
    napi_throw_error(env, nullptr, strerror(err));
    return nullptr;
  }
#endif
  napi_value result, policyValue, resetValue;
  if (napi_create_object(env, &result) != napi_ok ||
      napi_create_string_utf8(env, policyName(policy), NAPI_AUTO_LENGTH, &policyValue) != napi_ok ||
      napi_set_named_property(env, result, "policy", policyValue) != napi_ok ||
      !setNumber(env, result, "priority", param.sched_priority) ||
      napi_get_boolean(env, resetOnFork, &resetValue) != napi_ok ||
      napi_set_named_property(env, result, "resetOnFork", resetValue) != napi_ok)
    return nullptr;
  return result;
}

/**
 * lockRange(start: bigint, length: bigint): number — mlock(2) of [start, start + length), which the
 * caller has checked is mapped; the errno value, 0 when done.
 */
napi_value LockRange(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint64_t start = 0, length = 0;
  bool lossless = true;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2 ||
      napi_get_value_bigint_uint64(env, argv[0], &start, &lossless) != napi_ok || !lossless ||
      napi_get_value_bigint_uint64(env, argv[1], &length, &lossless) != napi_ok || !lossless) {
    napi_throw_type_error(env, nullptr, "lockRange(start, length): two non-negative bigints");
    return nullptr;
  }
  return number(env, mlock((const void*)(uintptr_t)start, (size_t)length) == 0 ? 0 : errno);
}

/**
 * limits(): { rtprio?: number, memlock: number, nice?: number } — the soft limits (Infinity: none).
 * rtprio is the highest real-time priority an unprivileged thread may set; memlock is bytes;
 * nice is RLIMIT_NICE's 20 - lowest nice. rtprio and nice are Linux only.
 */
napi_value Limits(napi_env env, napi_callback_info) {
  napi_value result;
  if (napi_create_object(env, &result) != napi_ok || !setNumber(env, result, "memlock", softLimit(RLIMIT_MEMLOCK)))
    return nullptr;
#ifdef RLIMIT_RTPRIO
  if (!setNumber(env, result, "rtprio", softLimit(RLIMIT_RTPRIO))) return nullptr;
#endif
#ifdef RLIMIT_NICE
  if (!setNumber(env, result, "nice", softLimit(RLIMIT_NICE))) return nullptr;
#endif
  return result;
}

/**
 * lowerLimit(name: 'rtprio' | 'memlock', value: number): number — lower a limit, soft and hard, to
 * value (a process may always lower its own limits; it cannot raise them back unprivileged). The
 * errno value, 0 when done; EINVAL for a name this platform does not have.
 */
napi_value LowerLimit(napi_env env, napi_callback_info info) {
  char name[16];
  double value = 0;
  if (!readArgs(env, info, "lowerLimit(name, value): a limit name and a number", name, sizeof name, &value, nullptr))
    return nullptr;
  int resource = -1;
  if (strcmp(name, "memlock") == 0) resource = RLIMIT_MEMLOCK;
#ifdef RLIMIT_RTPRIO
  if (strcmp(name, "rtprio") == 0) resource = RLIMIT_RTPRIO;
#endif
  if (resource < 0 || !(value >= 0)) return number(env, EINVAL);
  struct rlimit limit;
  limit.rlim_cur = limit.rlim_max = (rlim_t)value;
  return number(env, setrlimit(resource, &limit) == 0 ? 0 : errno);
}

napi_value Init(napi_env env, napi_value exports) {
  struct Export {
    const char* name;
    napi_callback fn;
  };
  const Export fns[] = {
    {"setScheduler", SetScheduler}, {"getScheduler", GetScheduler}, {"lockRange", LockRange},
    {"limits", Limits},             {"lowerLimit", LowerLimit},
  };
  for (const Export& e : fns) {
    napi_value fn;
    if (napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn) != napi_ok ||
        napi_set_named_property(env, exports, e.name, fn) != napi_ok)
      return nullptr;
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
