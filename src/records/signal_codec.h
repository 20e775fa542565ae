// How a run of one channel's samples is stored (record_chunks.data): float32 samples, lossless
// bit for bit (NaN payloads, -0.0). Each sample's bits minus the previous sample's bits (as
// 32-bit integers, zigzagged: a slowly moving signal gives small numbers), split into four byte
// planes (the high planes of small numbers are nearly all zero), then deflate's Huffman coding
// (zlib, Z_HUFFMAN_ONLY). A chunk deflate would not shrink is kept as its planes.
// Or, when a record file's own chunks are deflate-compressed float32 (HDF5's gzip filter), a
// file's chunk kept as it is (method 2, decision 0022): no inflate and re-encode at ingest.
//
// Layout: "RS1" | method (0 planes, 1 deflate) | count (u32 LE) | payload;
//         "RS1" | 2 | count (u32 LE) | full (u32 LE) | a zlib stream of `full` little-endian
//         float32, of which the first `count` are the run's (an HDF5 dataset's last chunk is
//         whole, past the dataset's end).
// Pure functions; thread-safe. decode_signal_chunk() takes bytes from the store and never reads
// or writes past them: a malformed chunk is kInvalidArgument (fuzzed with the record wire).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::records {

// The most samples one chunk holds (a decoder refuses more); the store writes runs of
// kSignalChunkSamples.
inline constexpr size_t kMaxSignalChunkSamples = 1 << 16;
inline constexpr size_t kSignalChunkSamples = 1 << 14;

// 1..kMaxSignalChunkSamples samples.
std::string encode_signal_chunk(std::span<const float> samples);

// A file's deflate-compressed chunk (a zlib stream of `full` float32 LE) as a stored chunk of its
// first `count` samples; kInvalidArgument unless 1 <= count <= full <= kMaxSignalChunkSamples
// and the stream inflates to exactly `full` samples (checked here: the file is outside input).
Expected<std::string> keep_zlib_chunk(std::string_view zlib, uint32_t count, uint32_t full);

// The samples a stored chunk holds, from its header alone (0: not a chunk).
uint32_t signal_chunk_count(std::string_view chunk);

// Appends the chunk's samples to `out`.
Status decode_signal_chunk(std::string_view chunk, std::vector<float>& out);

}  // namespace vigil::records
