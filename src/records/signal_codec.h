// How a run of one channel's samples is stored (record_chunks.data): float32 samples, lossless
// bit for bit (NaN payloads, -0.0). Each sample's bits minus the previous sample's bits (as
// 32-bit integers, zigzagged: a slowly moving signal gives small numbers), split into four byte
// planes (the high planes of small numbers are nearly all zero), then deflate's Huffman coding
// (zlib, Z_HUFFMAN_ONLY). A chunk deflate would not shrink is kept as its planes.
//
// Layout: "RS1" | method (0 planes, 1 deflate) | count (u32 LE) | payload.
// Pure functions; thread-safe. decode_signal_chunk() takes bytes from the store and never reads
// or writes past them: a malformed chunk is kInvalidArgument (fuzzed with the record wire).
#pragma once

#include <cstddef>
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

// Appends the chunk's samples to `out`.
Status decode_signal_chunk(std::string_view chunk, std::vector<float>& out);

}  // namespace vigil::records
