// Names the calling thread (Linux: at most 15 characters), so top -H, perf and /proc show
// which of Vigil's threads does what: vigil-io-N, vigil-audit, ... And lowers a background
// thread's priority.
#pragma once

#include <string>

namespace vigil {

void set_thread_name(const std::string& name);

// Lowers the calling thread's scheduling priority by `nice` (Linux: a thread's nice value is its
// own), at most to 19; background work (live detection, baseline schedules) runs this way so
// that request threads keep their pace. Best effort: nothing happens when it is refused.
void lower_thread_priority(int nice);

}  // namespace vigil
