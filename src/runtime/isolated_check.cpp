#include "runtime/isolated_check.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <iostream>
#include <iterator>
#include <limits>
#include <thread>

extern char** environ;

#include "core/json_text.h"
#include "core/strings.h"

namespace vigil::runtime {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxChildOutput = 64 * 1024;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

class SpawnSetup {
 public:
  SpawnSetup() {
    ok_ = posix_spawn_file_actions_init(&actions_) == 0;
    ok_ = posix_spawnattr_init(&attr_) == 0 && ok_;
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // The child gets stdin_fd as 0, stdout_fd as 1, /dev/null as 2 and nothing else; default
  // signal dispositions and an empty signal mask whatever the server set up.
  bool prepare(int stdin_fd, int stdout_fd) {
    if (!ok_) return false;
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    return posix_spawn_file_actions_adddup2(&actions_, stdin_fd, 0) == 0 &&
           posix_spawn_file_actions_adddup2(&actions_, stdout_fd, 1) == 0 &&
           posix_spawn_file_actions_addopen(&actions_, 2, "/dev/null", O_WRONLY, 0) == 0 &&
           posix_spawn_file_actions_addclosefrom_np(&actions_, 3) == 0 &&
           posix_spawnattr_setsigmask(&attr_, &none) == 0 &&
           posix_spawnattr_setsigdefault(&attr_, &all) == 0 &&
           posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) == 0;
  }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  bool ok_ = false;
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 60'000));
}

// The child's one-line JSON result.
Expected<boost::json::object> parse_result(const std::string& output) {
  boost::system::error_code ec;
  boost::json::value v = parse_json(output, ec);
  if (ec || !v.is_object()) return internal_error("the model check printed no result");
  return std::move(v.get_object());
}

Expected<ModelSummary> summary_from(const boost::json::object& obj) {
  ModelSummary summary;
  const auto* features = obj.if_contains("num_features");
  const auto* shape = obj.if_contains("row_output_shape");
  if (features == nullptr || !features->is_number() || shape == nullptr || !shape->is_array()) {
    return internal_error("the model check printed an incomplete result");
  }
  boost::system::error_code ec;
  summary.num_features = features->to_number<size_t>(ec);
  if (ec) return internal_error("the model check printed a bad feature count");
  for (const auto& d : shape->get_array()) {
    int64_t n = d.to_number<int64_t>(ec);
    if (ec) return internal_error("the model check printed a bad output shape");
    summary.row_output_shape.push_back(n);
  }
  return summary;
}

void write_line(std::ostream& out, const boost::json::object& obj) {
  out << boost::json::serialize(obj) << '\n';
  out.flush();
}

int fail(std::ostream& out, int code, const std::string& message) {
  write_line(out, {{"error", message}});
  return code;
}

}  // namespace

std::string isolated_check_failure_message(std::string_view kind, bool timed_out) {
  return "the " + std::string(kind) + " runtime could not load this file (it " +
         (timed_out ? "timed out" : "crashed") + ")";
}

Expected<ModelSummary> check_model_isolated(const std::string& exe, std::string_view kind,
                                            std::string_view bytes, std::string_view metadata_json,
                                            std::chrono::milliseconds timeout) {
  return check_model_isolated(std::vector<std::string>{exe, "__model-check"}, kind, bytes,
                              metadata_json, timeout);
}

Expected<ModelSummary> check_model_isolated(const std::vector<std::string>& command,
                                            std::string_view kind, std::string_view bytes,
                                            std::string_view metadata_json,
                                            std::chrono::milliseconds timeout) {
  if (command.empty()) return internal_error("model check: no command");
  const auto deadline = Clock::now() + timeout;

  // stdin is a socket so that writing to a child that died gives EPIPE, not SIGPIPE.
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return internal_error(std::string("model check: socketpair: ") + std::strerror(errno));
  }
  Fd to_child(sv[0]);
  Fd child_stdin(sv[1]);
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return internal_error(std::string("model check: pipe: ") + std::strerror(errno));
  }
  Fd from_child(out_pipe[0]);
  Fd child_stdout(out_pipe[1]);

  SpawnSetup setup;
  if (!setup.prepare(child_stdin.get(), child_stdout.get())) {
    return internal_error("model check: cannot set up the child process");
  }
  std::vector<std::string> args(command);
  args.emplace_back(kind);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (int rc = ::posix_spawnp(&pid, argv[0], setup.actions(), setup.attr(), argv.data(), environ);
      rc != 0) {
    return internal_error("model check: cannot run " + command.front() + ": " + std::strerror(rc));
  }
  child_stdin.reset();
  child_stdout.reset();
  ::fcntl(to_child.get(), F_SETFL, ::fcntl(to_child.get(), F_GETFL) | O_NONBLOCK);
  ::fcntl(from_child.get(), F_SETFL, ::fcntl(from_child.get(), F_GETFL) | O_NONBLOCK);

  // Feed stdin and collect stdout at the same time until both are done or time is up.
  const std::string header = std::to_string(metadata_json.size()) + "\n";
  const std::string_view parts[] = {header, metadata_json, bytes};
  size_t part = 0;
  size_t offset = 0;
  std::string output;
  bool timed_out = false;
  while (to_child.get() >= 0 || from_child.get() >= 0) {
    while (part < 3 && offset == parts[part].size()) {
      ++part;
      offset = 0;
    }
    if (part == 3) to_child.reset();  // EOF for the child
    pollfd fds[2];
    nfds_t n = 0;
    if (to_child.get() >= 0) fds[n++] = {to_child.get(), POLLOUT, 0};
    if (from_child.get() >= 0) fds[n++] = {from_child.get(), POLLIN, 0};
    if (n == 0) break;
    int wait_ms = remaining_ms(deadline);
    if (wait_ms == 0) {
      timed_out = true;
      break;
    }
    int ready = ::poll(fds, n, wait_ms);
    if (ready < 0 && errno != EINTR) return internal_error("model check: poll failed");
    for (nfds_t i = 0; i < n && ready > 0; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == to_child.get()) {
        std::string_view rest = parts[part].substr(offset);
        ssize_t sent = ::send(to_child.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
        if (sent > 0) {
          offset += static_cast<size_t>(sent);
        } else if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          to_child.reset();  // the child stopped reading (exited or closed stdin)
        }
      } else {
        char buf[4096];
        ssize_t got = ::read(from_child.get(), buf, sizeof(buf));
        if (got > 0) {
          if (output.size() < kMaxChildOutput) output.append(buf, static_cast<size_t>(got));
        } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          from_child.reset();
        }
      }
    }
  }
  to_child.reset();
  from_child.reset();

  // Reap the child; it normally exits right after closing stdout.
  int status = 0;
  for (;;) {
    pid_t r = timed_out ? 0 : ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return internal_error("model check: waitpid failed");
    if (timed_out || Clock::now() >= deadline) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  if (timed_out) return invalid_argument(isolated_check_failure_message(kind, true));
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (WIFSIGNALED(status) || code == 1) {
    return invalid_argument(isolated_check_failure_message(kind, false));
  }
  auto result = parse_result(output);
  if (code == kModelCheckOk) {
    if (!result.ok()) return result.status();
    return summary_from(*result);
  }
  const boost::json::string* error = nullptr;
  if (result.ok()) {
    if (const auto* e = result->if_contains("error");
        e && e->is_string() && !e->get_string().empty()) {
      error = &e->get_string();
    }
  }
  if (code == kModelCheckRejected) {
    return invalid_argument(error ? std::string(*error)
                                  : "the " + std::string(kind) + " runtime rejected this file");
  }
  return internal_error("the model check failed (exit code " + std::to_string(code) + ")" +
                        (error ? ": " + std::string(*error) : ""));
}

int model_check_main(const RuntimeRegistry& runtimes, std::string_view kind, std::istream& in,
                     std::ostream& out) {
  std::string line;
  if (!std::getline(in, line))
    return fail(out, kModelCheckFailed, "no metadata length line on stdin");
  auto parsed_len = parse_int<size_t>(line, 0, size_t{64} << 20);
  if (!parsed_len) return fail(out, kModelCheckFailed, "bad metadata length line");
  const size_t metadata_len = *parsed_len;
  std::string metadata_text(metadata_len, '\0');
  in.read(metadata_text.data(), static_cast<std::streamsize>(metadata_len));
  if (static_cast<size_t>(in.gcount()) != metadata_len)
    return fail(out, kModelCheckFailed, "metadata cut short");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  const Runtime* runtime = runtimes.find(kind);
  if (runtime == nullptr)
    return fail(out, kModelCheckFailed, "unknown model kind \"" + std::string(kind) + "\"");
  boost::json::object metadata;
  if (metadata_len > 0) {
    boost::system::error_code jec;
    boost::json::value v = parse_json(metadata_text, jec);
    if (jec || !v.is_object())
      return fail(out, kModelCheckRejected, "metadata must be a JSON object");
    metadata = std::move(v.get_object());
  }

  auto model = runtime->load(bytes, metadata);
  if (!model.ok()) return fail(out, kModelCheckRejected, model.status().message());
  // Exercise prediction and explanation once, so a file that loads but breaks them is caught
  // here too.
  const size_t columns = (*model)->num_features() == 0 ? 1 : (*model)->num_features();
  std::vector<float> row(columns, std::numeric_limits<float>::quiet_NaN());
  if (auto r = (*model)->predict(row, 1); !r.ok())
    return fail(out, kModelCheckRejected, r.status().message());
  if (auto r = (*model)->explain(row, 1); !r.ok())
    return fail(out, kModelCheckRejected, r.status().message());

  boost::json::array shape;
  for (int64_t d : (*model)->row_output_shape()) shape.push_back(d);
  write_line(out, {{"num_features", (*model)->num_features()}, {"row_output_shape", shape}});
  return kModelCheckOk;
}

int model_check_main(const RuntimeRegistry& runtimes, std::string_view kind) {
  // A crash here is an expected outcome; do not leave core files behind.
  rlimit no_core{0, 0};
  (void)::setrlimit(RLIMIT_CORE, &no_core);
  std::ios::sync_with_stdio(false);
  return model_check_main(runtimes, kind, std::cin, std::cout);
}

}  // namespace vigil::runtime
