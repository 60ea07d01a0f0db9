import zstd from '@foxglove/wasm-zstd';

// Chunk compression for the bag's MCAP files: zstd, as rosbag2's MCAP plugin writes with its
// storage presets (rosbag2_storage_mcap/README.md, "zstd_fast"/"zstd_small"), through
// @foxglove/wasm-zstd (zstd compiled to WebAssembly, shipped inside the npm package: nothing to
// build or download at install; Node 20 has no zstd in node:zlib). The only place that imports it.

/** zstd level 1: rosbag2's "zstd_fast" preset uses the fastest level; the size gain above it is small for CDR. */
export const DEFAULT_ZSTD_LEVEL = 1;

let loaded: Promise<void> | undefined;

/** Wait for the WebAssembly module once; the compress and decompress calls are synchronous after it. */
export function loadCompression(): Promise<void> {
  // (it resolves with nothing, whatever its d.ts says, and rejects when the module fails)
  loaded ??= zstd.isLoaded.then(
    () => undefined,
    (err: unknown) => {
      throw new Error(`the zstd WebAssembly module (@foxglove/wasm-zstd) did not load: ${String(err)}`);
    },
  );
  return loaded;
}

export function zstdCompress(data: Uint8Array, level = DEFAULT_ZSTD_LEVEL): Uint8Array {
  return zstd.compress(data, level);
}

/** MCAP decompress handlers (compression name → function) for the chunks we can read. */
export const decompressHandlers = {
  zstd: (buffer: Uint8Array, size: bigint): Uint8Array => zstd.decompress(buffer, Number(size)),
} as const;
