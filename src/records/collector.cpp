#include "records/collector.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/thread_name.h"

namespace vigil::records {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bool is_candidate_name(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  for (std::string_view suffix : {".part", ".tmp", ".partial", ".crdownload"}) {
    if (name.ends_with(suffix)) return false;
  }
  return true;
}

std::string suffixed_name(const std::string& name, int n) {
  if (n == 0) return name;
  const size_t dot = name.rfind('.');
  const size_t split = dot == std::string::npos || dot == 0 ? name.size() : dot;
  return name.substr(0, split) + "-" + std::to_string(n) + name.substr(split);
}

namespace {

std::string error_text(int e) { return std::error_code(e, std::generic_category()).message(); }

std::string utc_now(const char* format) {
  const time_t t = time(nullptr);
  tm parts{};
  gmtime_r(&t, &parts);
  char buf[64];
  return std::string(buf, strftime(buf, sizeof buf, format, &parts));
}

std::string this_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// rename() that never replaces `to`: 0 or an errno (EEXIST when `to` is taken). On a filesystem
// without RENAME_NOREPLACE it checks first (a race there can only be with another collector
// putting a file of the same name into the same folder at the same instant).
int rename_no_replace(const fs::path& from, const fs::path& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  struct stat st {};
  if (lstat(to.c_str(), &st) == 0) return EEXIST;
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

Status move_error(const fs::path& from, const fs::path& dir, int e) {
  return unavailable("cannot move " + from.string() + " to " + dir.string() + ": " + error_text(e));
}

// Copies `from` to a hidden file in `dir` and syncs it (a move across filesystems).
Expected<fs::path> copy_into(const fs::path& from, const fs::path& dir) {
  const fs::path tmp =
      dir / ("." + from.filename().string() + "." + std::to_string(getpid()) + "." +
             std::to_string(Clock::now().time_since_epoch().count()) + ".tmp");
  std::error_code ec;
  if (!fs::copy_file(from, tmp, ec)) return move_error(from, dir, ec.value());
  const int fd = open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  const bool synced = fd >= 0 && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!synced) {
    fs::remove(tmp, ec);
    return move_error(from, dir, EIO);
  }
  return tmp;
}

// Moves `from` into `dir` under `name`, or name-1, name-2, … (never overwriting); the path it
// went to. Across filesystems: a copy (synced), then the source is removed.
Expected<fs::path> move_no_replace(const fs::path& from, const fs::path& dir,
                                   const std::string& name) {
  fs::path source = from;
  bool copied = false;
  for (int n = 0; n < 100'000; ++n) {
    const fs::path to = dir / suffixed_name(name, n);
    const int e = rename_no_replace(source, to);
    if (e == 0) {
      std::error_code ec;
      if (copied) fs::remove(from, ec);
      return to;
    }
    if (e == EEXIST) continue;
    if (e == EXDEV && !copied) {
      auto tmp = copy_into(from, dir);
      if (!tmp.ok()) return tmp.status();
      source = *tmp;
      copied = true;
      --n;  // the same name again, now from the copy
      continue;
    }
    std::error_code ec;
    if (copied) fs::remove(source, ec);
    return move_error(from, dir, e);
  }
  return move_error(from, dir, EEXIST);
}

enum class Readiness { kReady, kBusy, kGone, kNoLease };

// Whether anybody has the file open: a write lease is granted only when nobody has. Released at
// once. A lease break (someone opening the file in that instant) signals the holder: SIGURG,
// ignored by default, instead of SIGIO, which would end the process.
Readiness lease_check(const fs::path& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Readiness::kGone;
    if (errno == EWOULDBLOCK) return Readiness::kBusy;  // another collector's lease
    return Readiness::kNoLease;
  }
  Readiness r = Readiness::kReady;
  fcntl(fd, F_SETSIG, SIGURG);
  if (fcntl(fd, F_SETLEASE, F_WRLCK) == 0) {
    fcntl(fd, F_SETLEASE, F_UNLCK);
  } else if (errno == EAGAIN || errno == EBUSY) {
    r = Readiness::kBusy;
  } else {
    r = Readiness::kNoLease;  // EACCES/EPERM (not the owner), EINVAL (no leases here)
  }
  close(fd);
  return r;
}

const char* kind_name(Outcome::Kind k) {
  switch (k) {
    case Outcome::Kind::kStored: return "stored";
    case Outcome::Kind::kDuplicate: return "duplicate";
    case Outcome::Kind::kRefused: return "refused";
    case Outcome::Kind::kRetry: return "retry";
  }
  return "?";
}

}  // namespace

struct Collector::State {
  CollectorOptions o;
  Processor processor;
  std::string host;
  fs::path work;
  size_t max_in_hand = 2;

  int inotify_fd = -1;
  int watch = -1;
  int wake_fd = -1;
  std::thread watcher;
  std::vector<std::thread> workers;

  // Guarded by mu.
  mutable std::mutex mu;
  std::condition_variable work_cv;                // workers: a claimed file, or the watcher is gone
  std::condition_variable scan_cv;                // rescan_now: rescans_done moved
  std::deque<std::string> order;                  // names to claim, oldest first
  std::unordered_map<std::string, bool> pending;  // name → seen closed (inotify)
  bool claiming = false;                          // one popped from order, not yet claimed
  std::deque<std::string> queue;                  // claimed, waiting for a worker
  std::set<std::string> in_hand;                  // claimed and not finished
  struct Backoff {
    Clock::time_point not_before;
    int attempts = 0;
  };
  std::map<std::string, Backoff> backoff;
  uint64_t rescans_requested = 0, rescans_done = 0;
  bool running = false, stopping = false, watcher_done = false;

  // The watcher's own: files whose lease was refused, watched until they settle.
  struct Seen {
    off_t size = 0;
    timespec mtime{};
    Clock::time_point since;
  };
  std::map<std::string, Seen> settling;
  bool listing_failed = false;

  std::atomic<uint64_t> claimed{0}, stored{0}, duplicates{0}, quarantined{0}, retried{0},
      lost_races{0}, recovered{0}, move_errors{0};

  void wake() const {
    if (wake_fd < 0) return;
    const uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_fd, &one, sizeof one);
  }

  // Caller holds mu.
  void add_pending_locked(const std::string& name, bool closed, Clock::time_point now) {
    if (auto b = backoff.find(name); b != backoff.end() && now < b->second.not_before) return;
    auto [it, fresh] = pending.try_emplace(name, closed);
    if (fresh) {
      order.push_back(name);
    } else if (closed) {
      it->second = true;
    }
  }

  void watch_dropzone() {
    if (inotify_fd < 0 || watch >= 0) return;
    watch = inotify_add_watch(inotify_fd, o.dropzone.c_str(),
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR);
    if (watch < 0) {
      spdlog::warn("collector {}: cannot watch {} ({}); rescans alone find files", o.id,
                   o.dropzone.string(), error_text(errno));
    }
  }

  // Reads what inotify has; true when events were lost (a rescan is due).
  bool read_events() {
    if (inotify_fd < 0) return false;
    bool overflow = false;
    alignas(inotify_event) char buf[16 * 1024];
    for (;;) {
      const ssize_t n = read(inotify_fd, buf, sizeof buf);
      if (n <= 0) break;
      const auto now = Clock::now();
      std::lock_guard lock(mu);
      for (char* p = buf; p < buf + n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(p);
        p += sizeof(inotify_event) + ev->len;
        if (ev->mask & IN_Q_OVERFLOW) overflow = true;
        if (ev->mask & IN_IGNORED) watch = -1;  // the dropzone went; watched again at a rescan
        if (ev->len == 0 || (ev->mask & IN_ISDIR)) continue;
        if (!(ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))) continue;
        const std::string name(ev->name);
        if (is_candidate_name(name)) add_pending_locked(name, true, now);
      }
    }
    return overflow;
  }

  void rescan() {
    watch_dropzone();
    std::set<std::string> present;
    std::error_code ec;
    for (fs::directory_iterator it(o.dropzone, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!is_candidate_name(name)) continue;
      std::error_code sec;
      if (it->symlink_status(sec).type() == fs::file_type::regular) present.insert(name);
    }
    if (ec) {
      if (!listing_failed) {
        spdlog::warn("collector {}: cannot list {}: {}", o.id, o.dropzone.string(), ec.message());
      }
      listing_failed = true;
      return;
    }
    listing_failed = false;
    std::erase_if(settling, [&](const auto& kv) { return !present.contains(kv.first); });
    const auto now = Clock::now();
    std::lock_guard lock(mu);
    std::erase_if(backoff, [&](const auto& kv) {
      return !present.contains(kv.first) && !in_hand.contains(kv.first) &&
             kv.second.not_before < now;
    });
    for (const std::string& name : present) add_pending_locked(name, false, now);
  }

  // A file found by a rescan: whether it may be taken now.
  bool ready(const std::string& name, const struct stat& st) {
    if (o.lease_check) {
      switch (lease_check(o.dropzone / name)) {
        case Readiness::kReady: return true;
        case Readiness::kBusy: settling.erase(name); return false;
        case Readiness::kGone: return false;
        case Readiness::kNoLease: break;
      }
    }
    const auto now = Clock::now();
    auto [it, fresh] = settling.try_emplace(name, Seen{st.st_size, st.st_mtim, now});
    Seen& seen = it->second;
    if (!fresh && (seen.size != st.st_size || seen.mtime.tv_sec != st.st_mtim.tv_sec ||
                   seen.mtime.tv_nsec != st.st_mtim.tv_nsec)) {
      seen = Seen{st.st_size, st.st_mtim, now};
      return false;
    }
    return now - seen.since >= o.settle;
  }

  void claim(const std::string& name, bool closed) {
    const fs::path from = o.dropzone / name;
    struct stat st {};
    if (lstat(from.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      settling.erase(name);
      return;
    }
    if (!closed && !ready(name, st)) return;
    {
      std::lock_guard lock(mu);
      if (in_hand.contains(name)) return;  // one of that name still in hand: a later rescan
    }
    const int e = rename_no_replace(from, work / name);
    if (e == ENOENT) {
      ++lost_races;
      settling.erase(name);
      return;
    }
    if (e != 0) {
      spdlog::warn("collector {}: cannot claim {}: {}", o.id, name, error_text(e));
      return;
    }
    settling.erase(name);
    ++claimed;
    std::lock_guard lock(mu);
    in_hand.insert(name);
    queue.push_back(name);
    work_cv.notify_one();
  }

  void claim_pending() {
    for (;;) {
      std::string name;
      bool closed = false;
      {
        std::lock_guard lock(mu);
        claiming = false;
        if (stopping || order.empty() || in_hand.size() >= max_in_hand) return;
        name = std::move(order.front());
        order.pop_front();
        closed = pending[name];
        pending.erase(name);
        claiming = true;
      }
      claim(name, closed);
    }
  }

  void watch_loop() {
    set_thread_name("vigil-collect");
    auto next_rescan = Clock::now();  // the first at once
    for (;;) {
      if (read_events()) next_rescan = Clock::now();
      uint64_t requested = 0;
      bool due = false;
      {
        std::lock_guard lock(mu);
        if (stopping) break;
        requested = rescans_requested;
        due = requested > rescans_done || Clock::now() >= next_rescan;
      }
      if (due) {
        rescan();
        next_rescan = Clock::now() + o.rescan_every;
      }
      claim_pending();
      {
        std::lock_guard lock(mu);
        if (due) {
          rescans_done = std::max(rescans_done, requested);
          scan_cv.notify_all();
        }
        if (stopping) break;
        if (rescans_requested > rescans_done) continue;
      }
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(next_rescan - Clock::now());
      pollfd fds[2] = {{wake_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
      poll(fds, inotify_fd >= 0 ? 2 : 1,
           static_cast<int>(std::clamp<int64_t>(left.count(), 0, 60'000)));
      uint64_t drained = 0;
      [[maybe_unused]] auto n = read(wake_fd, &drained, sizeof drained);
    }
  }

  std::chrono::milliseconds back_off_locked(const std::string& name, Clock::time_point now) {
    Backoff& b = backoff[name];
    b.attempts = std::min(b.attempts + 1, 30);
    auto delay = o.retry_backoff;
    for (int i = 1; i < b.attempts && delay < o.max_retry_backoff; ++i) delay *= 2;
    delay = std::min(delay, o.max_retry_backoff);
    b.not_before = now + delay;
    return delay;
  }

  void write_reason(const fs::path& quarantined_path, const std::string& original,
                    const std::string& reason) {
    const fs::path file = quarantined_path.string() + ".reason";
    const fs::path tmp = o.quarantine / ("." + file.filename().string() + ".tmp");
    std::string text = reason.empty() ? "refused (no reason given)" : reason;
    std::replace(text.begin(), text.end(), '\n', ' ');
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << "reason: " << text << "\ntime: " << utc_now("%Y-%m-%dT%H:%M:%SZ")
          << "\ncollector: " << o.id << "\nfile: " << original << "\n";
      if (!out.flush()) {
        spdlog::error("collector {}: cannot write {}", o.id, file.string());
        return;
      }
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) spdlog::error("collector {}: cannot write {}: {}", o.id, file.string(), ec.message());
  }

  // Where a processed file goes; a failure leaves it in the work directory.
  void file_away(const std::string& name, const Outcome& out, int64_t ms) {
    const fs::path claimed_path = work / name;
    std::error_code ec;
    auto failed = [&](const Status& s) {
      ++move_errors;
      spdlog::error("collector {}: {} stays in {} (back in the dropzone at the next start): {}",
                    o.id, name, work.string(), s.message());
    };
    switch (out.kind) {
      case Outcome::Kind::kStored:
      case Outcome::Kind::kDuplicate: {
        ++(out.kind == Outcome::Kind::kStored ? stored : duplicates);
        spdlog::info("collector {}: {} {} as record {} ({} ms)", o.id, kind_name(out.kind), name,
                     out.record_id, ms);
        if (!o.archive_processed) {
          if (!fs::remove(claimed_path, ec)) failed(unavailable("cannot delete: " + ec.message()));
          break;
        }
        const fs::path dir = o.archive / utc_now("%Y-%m-%d");
        fs::create_directories(dir, ec);
        if (auto to = move_no_replace(claimed_path, dir, name); !to.ok()) failed(to.status());
        break;
      }
      case Outcome::Kind::kRefused: {
        ++quarantined;
        spdlog::warn("collector {}: quarantined {}: {} ({} ms)", o.id, name, out.reason, ms);
        fs::create_directories(o.quarantine, ec);
        auto to = move_no_replace(claimed_path, o.quarantine, name);
        if (!to.ok()) {
          failed(to.status());
          break;
        }
        write_reason(*to, name, out.reason);
        break;
      }
      case Outcome::Kind::kRetry: {
        ++retried;
        // Under mu, so that the watcher sees the back-off before the file's IN_MOVED_TO.
        std::lock_guard lock(mu);
        const auto now = Clock::now();
        const auto delay = back_off_locked(name, now);
        auto to = move_no_replace(claimed_path, o.dropzone, name);
        if (to.ok() && to->filename() != name) backoff[to->filename().string()] = backoff[name];
        spdlog::warn("collector {}: retry {} (back in the dropzone, again in {} ms): {} ({} ms)",
                     o.id, name, delay.count(), out.reason, ms);
        if (!to.ok()) failed(to.status());
        return;
      }
    }
    std::lock_guard lock(mu);
    backoff.erase(name);
  }

  void process(const std::string& name) {
    const auto t0 = Clock::now();
    Outcome out;
    try {
      out = processor(work / name, name);
    } catch (const std::exception& e) {
      out = {Outcome::Kind::kRetry, std::string("the processor threw: ") + e.what(), 0};
    } catch (...) {
      out = {Outcome::Kind::kRetry, "the processor threw", 0};
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    file_away(name, out, ms);
  }

  void work_loop(int n) {
    set_thread_name("vigil-collect-" + std::to_string(n));
    for (;;) {
      std::string name;
      {
        std::unique_lock lock(mu);
        work_cv.wait(lock, [&] { return !queue.empty() || watcher_done; });
        if (queue.empty()) return;
        name = std::move(queue.front());
        queue.pop_front();
      }
      process(name);
      {
        std::lock_guard lock(mu);
        in_hand.erase(name);
      }
      wake();  // room to claim another
    }
  }

  // Moves every file of `dir` back into the dropzone.
  void recover_dir(const fs::path& dir) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code sec;
      if (it->symlink_status(sec).type() == fs::file_type::regular) files.push_back(it->path());
    }
    for (const fs::path& f : files) {
      auto to = move_no_replace(f, o.dropzone, f.filename().string());
      if (!to.ok()) {
        spdlog::error("collector {}: cannot recover {}: {}", o.id, f.string(),
                      to.status().message());
        continue;
      }
      ++recovered;
      spdlog::info("collector {}: {} was left in {}; back in the dropzone as {}", o.id,
                   f.filename().string(), dir.string(), to->filename().string());
    }
  }

  // This collector's work directory, and those of collectors of this host whose process is gone.
  void recover() {
    std::error_code ec;
    std::vector<fs::path> dirs;
    for (fs::directory_iterator it(o.work_root, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code sec;
      if (!it->is_directory(sec)) continue;
      const std::string dn = it->path().filename().string();
      if (dn == o.id) {
        dirs.push_back(it->path());
        continue;
      }
      if (!dn.starts_with(host + "-")) continue;
      const std::string pid_text = dn.substr(host.size() + 1);
      if (pid_text.empty() || pid_text.size() > 9 ||
          !std::all_of(pid_text.begin(), pid_text.end(),
                       [](char c) { return c >= '0' && c <= '9'; }))
        continue;
      const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
      if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) dirs.push_back(it->path());
    }
    for (const fs::path& dir : dirs) {
      recover_dir(dir);
      if (dir != work) fs::remove(dir, ec);  // only when empty
    }
  }
};

Collector::Collector(CollectorOptions options, Processor processor)
    : s_(std::make_unique<State>()) {
  s_->o = std::move(options);
  s_->processor = std::move(processor);
}

Collector::~Collector() { stop(); }

Status Collector::start() {
  State& s = *s_;
  {
    std::lock_guard lock(s.mu);
    if (s.running) return failed_precondition("the collector is running");
  }
  CollectorOptions& o = s.o;
  s.host = this_hostname();
  if (o.id.empty()) o.id = s.host + "-" + std::to_string(getpid());
  if (o.id.find('/') != std::string::npos || o.id.front() == '.') {
    return invalid_field("collector.id", "must be a plain name (no '/', no leading '.')");
  }
  if (o.work_root.empty()) o.work_root = o.dropzone / ".work";
  o.workers = std::max(1, o.workers);
  s.max_in_hand = 2 * static_cast<size_t>(o.workers);
  s.work = o.work_root / o.id;
  for (const fs::path& dir : {o.dropzone, o.archive, o.quarantine, s.work}) {
    std::error_code ec;
    if (dir.empty()) return invalid_argument("the collector's folders must be set");
    fs::create_directories(dir, ec);
    if (ec) return unavailable("cannot create " + dir.string() + ": " + ec.message());
  }
  struct stat drop {
  }, work{};
  if (stat(o.dropzone.c_str(), &drop) != 0 || stat(s.work.c_str(), &work) != 0) {
    return unavailable("cannot read " + o.dropzone.string() + ": " + error_text(errno));
  }
  if (drop.st_dev != work.st_dev) {
    return invalid_field("collector.work_root", "must be on the dropzone's filesystem (" +
                                                    o.work_root.string() + " is not)");
  }
  s.recover();

  s.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s.wake_fd < 0) return unavailable("eventfd: " + error_text(errno));
  s.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (s.inotify_fd < 0) {
    spdlog::warn("collector {}: no inotify ({}); rescans alone find files", o.id,
                 error_text(errno));
  }
  s.watch_dropzone();  // before the first rescan: nothing completed in between is missed
  {
    std::lock_guard lock(s.mu);
    s.running = true;
    s.stopping = s.watcher_done = false;
  }
  s.watcher = std::thread([&s] { s.watch_loop(); });
  for (int i = 0; i < o.workers; ++i) s.workers.emplace_back([&s, i] { s.work_loop(i + 1); });
  spdlog::info("collector {}: watching {} ({} workers, work directory {})", o.id,
               o.dropzone.string(), o.workers, s.work.string());
  return {};
}

void Collector::stop() {
  State& s = *s_;
  {
    std::lock_guard lock(s.mu);
    if (!s.running || s.stopping) return;
    s.stopping = true;
  }
  s.wake();
  if (s.watcher.joinable()) s.watcher.join();
  {
    std::lock_guard lock(s.mu);
    s.watcher_done = true;
  }
  s.work_cv.notify_all();
  for (std::thread& t : s.workers) t.join();
  s.workers.clear();
  for (int* fd : {&s.inotify_fd, &s.wake_fd}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  s.watch = -1;
  std::lock_guard lock(s.mu);
  s.order.clear();
  s.pending.clear();
  s.claiming = false;
  s.running = false;
  s.stopping = false;
  s.scan_cv.notify_all();
}

CollectorStats Collector::stats() const {
  const State& s = *s_;
  return {s.claimed.load(), s.stored.load(),     s.duplicates.load(), s.quarantined.load(),
          s.retried.load(), s.lost_races.load(), s.recovered.load(),  s.move_errors.load()};
}

const std::string& Collector::id() const { return s_->o.id; }
const fs::path& Collector::work_dir() const { return s_->work; }
const CollectorOptions& Collector::options() const { return s_->o; }

void Collector::rescan_now() {
  State& s = *s_;
  std::unique_lock lock(s.mu);
  if (!s.running || s.stopping) return;
  const uint64_t ticket = ++s.rescans_requested;
  s.wake();
  s.scan_cv.wait(lock, [&] { return s.rescans_done >= ticket || !s.running || s.stopping; });
}

bool Collector::idle() const {
  const State& s = *s_;
  std::lock_guard lock(s.mu);
  return s.in_hand.empty() && s.order.empty() && !s.claiming;
}

}  // namespace vigil::records
