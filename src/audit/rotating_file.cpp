#include "audit/rotating_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vigil::audit {

RotatingFile::RotatingFile(std::string path, uint64_t max_bytes, int max_files)
    : path_(std::move(path)), max_bytes_(max_bytes), max_files_(max_files) {}

RotatingFile::~RotatingFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status RotatingFile::open() {
  std::error_code ec;
  auto parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) return unavailable("cannot open " + path_ + ": " + std::strerror(errno));
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return {};
}

Status RotatingFile::rotate() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  auto numbered = [&](int i) { return path_ + "." + std::to_string(i); };
  std::filesystem::remove(numbered(max_files_), ec);
  for (int i = max_files_ - 1; i >= 1; --i)
    std::filesystem::rename(numbered(i), numbered(i + 1), ec);
  if (max_files_ >= 1) {
    std::filesystem::rename(path_, numbered(1), ec);
  } else {
    std::filesystem::remove(path_, ec);
  }
  return open();
}

Status RotatingFile::append(std::string_view lines) {
  if (fd_ < 0) VIGIL_RETURN_IF_ERROR(open());
  if (size_ > 0 && size_ + lines.size() > max_bytes_) VIGIL_RETURN_IF_ERROR(rotate());
  while (!lines.empty()) {
    ssize_t n = ::write(fd_, lines.data(), lines.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return unavailable("cannot write " + path_ + ": " + std::strerror(errno));
    }
    size_ += static_cast<uint64_t>(n);
    lines.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace vigil::audit
