{
  # The ensemble's native kernels (loaded by src/tensor/native_kernels.ts). Built by `npm ci` through
  # scripts/build-native.js; no -march flag: the AVX2/AVX-512 code paths are compiled under
  # `#pragma GCC target` and chosen at run time, so the addon runs on any x86-64 (and builds on
  # other CPUs with the portable path alone).
  "targets": [
    {
      "target_name": "dynastack_native",
      "sources": [
        "src/addon.cc",
        "src/ensemble_ops.cc",
        "src/kernels.cc",
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
    }
  ]
}
