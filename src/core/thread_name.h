// Names the calling thread (Linux: at most 15 characters), so top -H, perf and /proc show
// which of Vigil's threads does what: vigil-io-N, vigil-audit, ...
#pragma once

#include <string>

namespace vigil {

void set_thread_name(const std::string& name);

}  // namespace vigil
