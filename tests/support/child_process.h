// A child process for multi-process tests (a real `vigil serve`, `vigil agent`): started with
// arguments and extra environment, its stdout and stderr in files, signalled and waited for
// with a deadline (never hangs a test). The destructor kills a child still running (SIGKILL)
// and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil::testing {

class ChildProcess {
 public:
  // Starts `exe` with `args` in `cwd`, `env` added to (or replacing in) this process's
  // environment; output to `log_prefix`.out and .err. started() says whether it ran. The child
  // leads a process group of its own; `death_signal` (not 0) is sent to it when the thread that
  // made it dies, so a crashed test leaves no server behind.
  ChildProcess(const std::string& exe, const std::vector<std::string>& args,
               const std::filesystem::path& cwd, const std::filesystem::path& log_prefix,
               const std::vector<std::pair<std::string, std::string>>& env = {},
               int death_signal = 0);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // The signal to the child's whole process group (what it started too).
  void signal_group(int sig);
  // The exit code (128 + signal for a signalled child); nullopt when it is still running at
  // the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; the exit code.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path log_prefix_;
};

}  // namespace vigil::testing
