// Which threads serve connections. An I/O thread runs every connection it owns, so anything
// that blocks there (a store round trip, Argon2, a file read) stalls all of them; modules that
// block check it. The server marks its threads; nothing else should.
#pragma once

namespace vigil {

// Marks the calling thread as an I/O thread for the rest of its life.
void mark_io_thread();
bool on_io_thread();

// Reports `what` (a blocking call made on an I/O thread, a bug) and aborts: the tests of debug
// and sanitizer builds fail at the call instead of passing slowly.
[[noreturn]] void blocking_call_on_io_thread(const char* what);

}  // namespace vigil
