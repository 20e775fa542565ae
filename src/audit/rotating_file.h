// An append-only file that rotates by size: when a write would take it past max_bytes, file
// becomes file.1, file.1 becomes file.2, ... and file.<max_files> is deleted. The audit writer
// hands it one buffer per batch, so a batch costs one write(2) instead of one per record.
// Not thread-safe: one writer thread owns it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil::audit {

class RotatingFile {
 public:
  RotatingFile(std::string path, uint64_t max_bytes, int max_files);
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // Creates the parent directory and opens (appends to) the file.
  Status open();
  // Appends whole lines; rotates first when they would not fit. A single buffer larger than
  // max_bytes is still written whole, into a fresh file.
  Status append(std::string_view lines);
  const std::string& path() const { return path_; }

 private:
  Status rotate();

  std::string path_;
  uint64_t max_bytes_;
  int max_files_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace vigil::audit
