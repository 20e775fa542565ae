#include "core/thread_name.h"

#include <pthread.h>

namespace vigil {

void set_thread_name(const std::string& name) {
  // Longer names make pthread_setname_np fail with ERANGE; cut them instead.
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace vigil
