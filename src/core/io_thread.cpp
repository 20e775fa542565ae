#include "core/io_thread.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

namespace vigil {
namespace {
thread_local bool is_io_thread = false;
}  // namespace

void mark_io_thread() { is_io_thread = true; }
bool on_io_thread() { return is_io_thread; }

void blocking_call_on_io_thread(const char* what) {
  spdlog::critical("{} called on an I/O thread: post it to the blocking pool", what);
  std::fprintf(stderr, "vigil: %s called on an I/O thread: post it to the blocking pool\n", what);
  std::abort();
}

}  // namespace vigil
