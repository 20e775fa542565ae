#include "core/thread_name.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace vigil {

void set_thread_name(const std::string& name) {
  // Longer names make pthread_setname_np fail with ERANGE; cut them instead.
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

void lower_thread_priority(int nice) {
  if (nice <= 0) return;
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (errno == 0) ::setpriority(PRIO_PROCESS, tid, std::min(19, now + nice));
}

}  // namespace vigil
