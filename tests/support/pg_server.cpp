#include "support/pg_server.h"

#include <unistd.h>

#include <atomic>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "support/ports.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kStopTimeout = std::chrono::seconds(10);
constexpr int kStartAttempts = 3;  // a new port each time the chosen one was taken meanwhile

bool has_server_binaries(const fs::path& dir) {
  for (const char* tool : {"initdb", "postgres", "pg_isready", "createdb"}) {
    if (::access((dir / tool).c_str(), X_OK) != 0) return false;
  }
  return true;
}

// Who runs initdb and postgres: the caller, or the postgres user when the caller is root.
struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

bool run_as_for_server(RunAs* out, std::string* error) {
  if (::geteuid() != 0) return true;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    *error = "running as root and there is no `postgres` user to run the server as";
    return false;
  }
  out->switch_user = true;
  out->uid = pw->pw_uid;
  out->gid = pw->pw_gid;
  return true;
}

// Starts argv[0] with stdout and stderr appended to `log`, in directory `cwd`, as `run_as`.
// The child gets SIGQUIT (PostgreSQL's immediate shutdown) if the calling thread dies, so a
// crashed test leaves no server behind. Returns the pid, or -1.
pid_t spawn(const std::vector<std::string>& args, const std::string& log, const std::string& cwd,
            const RunAs& run_as) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return -1;
  if (run_as.switch_user && ::fchown(log_fd, run_as.uid, run_as.gid) != 0) {
    ::close(log_fd);
    return -1;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    if (run_as.switch_user) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(run_as.gid) != 0 || ::setuid(run_as.uid) != 0) {
        ::_exit(126);
      }
    }
    // After setuid, which clears the parent-death signal.
    ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (::getppid() != parent) ::_exit(125);
    if (::chdir(cwd.c_str()) != 0) ::_exit(124);  // tools fail in an unreadable cwd (/root)
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  return pid;
}

// Runs a command to completion; true when it exits 0.
bool run(const std::vector<std::string>& args, const std::string& log, const std::string& cwd,
         const RunAs& run_as) {
  const pid_t pid = spawn(args, log, cwd, run_as);
  if (pid < 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool exited(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

// Sends `signal` and waits up to `timeout` for the process to exit.
bool stop_process(pid_t pid, int signal, std::chrono::milliseconds timeout) {
  ::kill(pid, signal);
  const auto deadline = steady_clock::now() + timeout;
  while (steady_clock::now() < deadline) {
    if (exited(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool valid_database_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Removes the directories of servers whose test process crashed (the server itself died
// with it): vigil-pg-* older than a minute whose postmaster is gone.
void remove_stale_directories(const fs::path& temp) {
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::minutes(1);
  for (const fs::directory_entry& entry : fs::directory_iterator(temp, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("vigil-pg-", 0) != 0 || !entry.is_directory(ec)) continue;
    if (entry.last_write_time(ec) > cutoff || ec) continue;
    std::ifstream pid_file(entry.path() / "data" / "postmaster.pid");
    pid_t pid = 0;
    if (pid_file >> pid && pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) continue;
    fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

std::string find_pg_bin_dir() {
  if (const char* env = std::getenv("VIGIL_TEST_PG_BIN"); env != nullptr && *env != '\0') {
    return has_server_binaries(env) ? std::string(env) : std::string();
  }
  const fs::path root = "/usr/lib/postgresql";
  if (has_server_binaries(root / "15" / "bin")) return (root / "15" / "bin").string();
  std::error_code ec;
  int newest = -1;
  for (const fs::directory_entry& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    const int version = std::atoi(name.c_str());
    if (version > newest && has_server_binaries(entry.path() / "bin")) newest = version;
  }
  return newest < 0 ? std::string() : (root / std::to_string(newest) / "bin").string();
}

void print_pg_missing_banner() { print_skip_banner("PostgreSQL", kPgMissingMessage); }

std::unique_ptr<PgServer> PgServer::start(std::string* error) {
  std::string ignored;
  std::string& why = error != nullptr ? *error : ignored;
  const std::string bin = find_pg_bin_dir();
  if (bin.empty()) {
    why = std::string(kPgMissingMessage);
    return nullptr;
  }
  RunAs run_as;
  if (!run_as_for_server(&run_as, &why)) return nullptr;

  std::error_code ec;
  const fs::path temp = fs::temp_directory_path(ec);
  remove_stale_directories(temp);
  std::string pattern = (temp / "vigil-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    why = "mkdtemp(" + pattern + ") failed: " + std::strerror(errno);
    return nullptr;
  }
  // From here on the destructor cleans up whatever was made.
  std::unique_ptr<PgServer> server(new PgServer(bin, pattern));
  const std::string& dir = server->dir_;
  if (run_as.switch_user && ::chown(dir.c_str(), run_as.uid, run_as.gid) != 0) {
    why = "chown(" + dir + ", postgres) failed: " + std::strerror(errno);
    return nullptr;
  }

  const std::string initdb_log = dir + "/initdb.log";
  if (!run({bin + "/initdb", "-D", dir + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync", "--no-instructions"},
           initdb_log, dir, run_as)) {
    why = "initdb failed:\n" + file_tail(initdb_log);
    return nullptr;
  }

  const std::string log = dir + "/postgres.log";
  const RunAs as_caller;
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    server->port_ = free_loopback_port();
    const std::string port = std::to_string(server->port_);
    server->pid_ = spawn({bin + "/postgres", "-D", dir + "/data", "-p", port, "-h", "127.0.0.1",
                          "-k", dir, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
                          "full_page_writes=off", "-c", "max_connections=200"},
                         log, dir, run_as);
    if (server->pid_ < 0) {
      why = "cannot start postgres: " + std::string(std::strerror(errno));
      return nullptr;
    }
    const auto deadline = steady_clock::now() + kStartTimeout;
    bool ready = false;
    bool died = false;
    while (!ready && !died && steady_clock::now() < deadline) {
      ready = run({bin + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d",
                   "postgres", "-t", "1"},
                  dir + "/pg_isready.log", dir, as_caller);
      if (!ready) {
        died = exited(server->pid_);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (ready) break;
    if (died) {
      server->pid_ = -1;
      const std::string tail = file_tail(log);
      if (attempt < kStartAttempts && tail.find("ddress already in use") != std::string::npos) {
        continue;  // the port was taken between choosing and binding it
      }
      why = "postgres exited during startup:\n" + tail;
      return nullptr;
    }
    why = "postgres did not accept connections within 20 s:\n" + file_tail(log);
    return nullptr;
  }
  std::string create_error;
  if (!server->create_database("vigil_test", &create_error)) {
    why = create_error;
    return nullptr;
  }
  return server;
}

PgServer::~PgServer() {
  if (pid_ > 0 && !stop_process(pid_, SIGINT, kStopTimeout)) {
    stop_process(pid_, SIGKILL, std::chrono::seconds(5));
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PgServer::url(std::string_view database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + std::string(database);
}

bool PgServer::create_database(std::string_view name, std::string* error) {
  std::string ignored;
  std::string& why = error != nullptr ? *error : ignored;
  if (!valid_database_name(name)) {
    why = "invalid database name '" + std::string(name) + "'";
    return false;
  }
  static std::mutex mu;  // one log file for createdb's output
  std::lock_guard lock(mu);
  const std::string log = dir_ + "/createdb.log";
  std::error_code ec;
  fs::remove(log, ec);
  if (!run({bin_dir_ + "/createdb", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U",
            "postgres", std::string(name)},
           log, dir_, RunAs{})) {
    why = "createdb " + std::string(name) + " failed:\n" + file_tail(log);
    return false;
  }
  return true;
}

PgServer* shared_pg_server(std::string* error) {
  static std::mutex mu;
  static bool tried = false;
  static std::string failure;
  static std::unique_ptr<PgServer> server;  // destroyed (server stopped) at exit
  std::lock_guard lock(mu);
  if (!tried) {
    tried = true;
    server = PgServer::start(&failure);
  }
  if (server == nullptr && error != nullptr) *error = failure;
  return server.get();
}

std::string fresh_database_url(PgServer& pg, const std::string& prefix, std::string* error) {
  static std::atomic<int> n{0};
  std::string name = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
  if (!pg.create_database(name, error)) return {};
  return pg.url(name);
}

}  // namespace vigil::testing
