{
  # Three Node-API addons, built by `npm ci` through scripts/build-native.js (which runs make with -k,
  # so one failing to compile does not keep the others from being built):
  # - dynastack_native: the ensemble's and soft actor-critic's native kernels (loaded by src/tensor/native_kernels.ts). No
  #   -march flag: the AVX2/AVX-512 code paths are compiled under `#pragma GCC target` and chosen at
  #   run time, so the addon runs on any x86-64 (and builds on other CPUs with the portable path alone).
  # - dynastack_pty: pseudo-terminals for the servo emulator (loaded by hw/emulator/pty_addon.ts);
  #   plain C Node-API, POSIX only.
  # - dynastack_rt: real-time scheduling of the command loops, SCHED_FIFO and mlockall (loaded by
  #   src/util/thread_priority.ts); plain C Node-API, POSIX only. Its own target rather than a file
  #   of dynastack_pty: the robot's nodes need it, the emulator does not, and each addon's loader can
  #   then say exactly which one is missing.
  "targets": [
    {
      "target_name": "dynastack_native",
      "sources": [
        "src/addon.cc",
        "src/ensemble_ops.cc",
        "src/kernels.cc",
        "src/mlp_ops.cc",
        "src/thread_pool.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-O3", "-ffp-contract=fast", "-fno-math-errno", "-Wno-psabi", "-fvisibility=hidden"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-ffp-contract=fast", "-fno-math-errno"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1 }
      }
    },
    {
      "target_name": "dynastack_pty",
      "conditions": [
        ["OS!='win'", {
          "sources": ["src/pty.cc"],
          "defines": ["NAPI_VERSION=8"],
          "cflags_cc": ["-O2", "-fvisibility=hidden"]
        }]
      ]
    },
    {
      "target_name": "dynastack_rt",
      "conditions": [
        ["OS!='win'", {
          "sources": ["src/realtime.cc"],
          "defines": ["NAPI_VERSION=8"],
          "cflags_cc": ["-O2", "-fvisibility=hidden"]
        }]
      ]
    }
  ]
}
