// Collector: the folder mechanics of the sleep-record collector (issue 18, decision 0021). Files
// dropped into a dropzone are seen as soon as they are complete, claimed atomically, handed to a
// Processor (which parses one in a child and stores the record: not this file's business), and
// then archived, deleted, quarantined with a reason file, or put back to be tried again.
//
// - Candidates: regular files directly in the dropzone whose name does not start with '.' and
//   does not end in .part, .tmp, .partial or .crdownload (is_candidate_name). Write a file under
//   such a name and rename it when complete, or write it in one open-write-close.
// - Seeing them: inotify (IN_CLOSE_WRITE | IN_MOVED_TO on the dropzone) gives a file the moment
//   its writer closes it or it is moved in; a rescan at start and every rescan_every is the
//   safety net (a lost event, a queue overflow, no inotify at all). A file found by a rescan only
//   is taken when nobody has it open: a write lease (F_SETLEASE F_WRLCK on a read-only fd,
//   released at once) is granted only then. Where a lease is not permitted (not the file's
//   owner, a filesystem without leases), the file is taken once its size and mtime have not
//   changed for `settle`. A file still being written is never taken half-done (a writer that
//   closes and reopens the file between chunks defeats this: use a temporary name instead).
// - Claiming: rename(dropzone/name, work_root/<id>/name), atomic on one filesystem; when another
//   collector renamed it first (ENOENT) that is a lost race, not an error. Several collectors
//   (threads, processes, hosts on one local filesystem) may share a dropzone: each file is
//   processed by exactly one of them. work_root must be on the dropzone's filesystem.
// - Recovery: start() moves back into the dropzone what is left in this collector's own work
//   directory and in the work directory of a collector "<this hostname>-<pid>" whose process is
//   gone (kill(pid, 0) answers ESRCH), and removes the latter: a crash mid-file loses nothing
//   (the file is processed again; the Processor recognises a duplicate).
// - After the Processor: kStored and kDuplicate → archive/<YYYY-MM-DD, UTC>/<name>, or deleted
//   when archive_processed is false; kRefused → quarantine/<name> beside quarantine/<name>.reason
//   (the reason, the time in UTC, the collector's id, the dropped name); kRetry → back into the
//   dropzone under its name, taken again by the first rescan after a back-off (retry_backoff,
//   doubling per consecutive retry of that name up to max_retry_backoff) so that an outage of
//   the store does not spin. Nothing is ever overwritten: a name already taken in the archive,
//   the quarantine or the dropzone gets a suffix ("night.h5" → "night-1.h5"). A file that cannot
//   be moved where it belongs stays in the work directory (logged) and comes back at the next
//   start.
// - Threads: one watcher ("vigil-collect") that sees and claims files, `workers` workers
//   ("vigil-collect-N") that run the Processor. At most 2 × workers files are claimed and not
//   finished at any time, so collectors sharing a dropzone share its files. Each finished file is
//   logged once (spdlog, "collector: stored night.h5 as record 42 (35 ms)").
//
// Thread safety: stats(), idle() and rescan_now() from any thread; start() and stop() from the
// owner. Errors: start() answers kInvalidArgument for unusable options (an id that is not a
// plain name, a work_root on another filesystem), kUnavailable when a folder cannot be created,
// kFailedPrecondition when already running; everything after start is logged (and a file that
// cannot be moved is left for the next start), never thrown.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil::records {

// What became of one claimed file: the Processor's answer.
struct Outcome {
  enum class Kind {
    kStored,     // a new record: archive (or delete) the file
    kDuplicate,  // the record was stored before: archive (or delete) the file
    kRefused,    // the file's fault (malformed, the parser crashed): quarantine it
    kRetry,      // the server's fault (store down, no parser process): put it back, try later
  };
  Kind kind = Kind::kRetry;
  std::string reason;     // kRefused: why (goes into the reason file); kRetry: for the log
  int64_t record_id = 0;  // kStored, kDuplicate
};

// Processes one claimed file: `claimed` is its path in the work directory, `original_name` the
// name it was dropped under. Called on a worker thread, several at once; must not throw (an
// exception is logged and taken as kRetry). The file must be left where it is.
using Processor =
    std::function<Outcome(const std::filesystem::path& claimed, const std::string& original_name)>;

struct CollectorOptions {
  std::filesystem::path dropzone, archive, quarantine;
  std::filesystem::path work_root;  // default: dropzone/.work
  bool archive_processed = true;    // false: a stored or duplicate file is deleted
  std::chrono::milliseconds rescan_every{5000};
  std::chrono::milliseconds settle{2000};  // unchanged this long, when a lease is not permitted
  std::chrono::milliseconds retry_backoff{1000};
  std::chrono::milliseconds max_retry_backoff{300'000};
  int workers = 2;
  std::string id;           // default: "<hostname>-<pid>"; a plain name, unique per dropzone
  bool lease_check = true;  // false: the settle rule alone (tests; root may always take a lease)
};

struct CollectorStats {
  uint64_t claimed = 0;
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t quarantined = 0;
  uint64_t retried = 0;
  uint64_t lost_races = 0;   // claims another collector won
  uint64_t recovered = 0;    // files moved back from a work directory at start
  uint64_t move_errors = 0;  // files left in the work directory (cannot archive, quarantine …)
};

class Collector {
 public:
  Collector(CollectorOptions options, Processor processor);
  ~Collector();  // stop()
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Creates the folders, recovers work directories, starts the threads (and the first rescan).
  Status start();
  // Stops claiming, finishes the claimed files, joins the threads. Unclaimed files stay where
  // they are. Idempotent.
  void stop();

  CollectorStats stats() const;
  const std::string& id() const;                  // after start(): the id in use
  const std::filesystem::path& work_dir() const;  // after start(): work_root/<id>
  const CollectorOptions& options() const;        // after start(): defaults filled in

  // Tests: rescans now and returns once the rescan's files are claimed (as far as the 2 × workers
  // limit allows) or passed over, not once they are processed. Nothing when not started.
  void rescan_now();
  // Tests: no file claimed and unfinished, none waiting to be claimed.
  bool idle() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Whether a dropzone entry's name makes it a candidate (not hidden, no temporary suffix).
bool is_candidate_name(std::string_view name);

// ("night.h5", 2) → "night-2.h5"; ("archive", 2) → "archive-2"; n = 0: the name itself.
std::string suffixed_name(const std::string& name, int n);

}  // namespace vigil::records
