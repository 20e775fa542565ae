#include "audit/audit_log.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <utility>

#include "core/ids.h"
#include "core/json_text.h"
#include "core/logging.h"
#include "core/thread_name.h"

namespace vigil::audit {

namespace {

// audit_segments.first_at / last_at: microseconds since the Unix epoch.
int64_t to_epoch_micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// Writes through a raw pointer into room made once: the audit writer formats ~20 fields per
// record twice (access-log line and segment columns), and a capacity check and a call per
// field (std::string::append) were most of its instructions. `room` must bound what is
// written (kJsonEscapedMax bytes per escaped character, kMaxInt per integer); the destructor
// records how much was.
class Appender {
 public:
  static constexpr size_t kMaxInt = 20;  // -9223372036854775808

  Appender(TextScratch& out, size_t room) : out_(out) {
    if (out_.buf.size() - out_.len < room)
      out_.buf.resize(std::max(2 * out_.buf.size(), out_.len + room));
    p_ = out_.buf.data() + out_.len;
  }
  ~Appender() {
    size_t written = static_cast<size_t>(p_ - out_.buf.data());
    // Past the room is past what resize() made: a wrong bound here, a bug to stop at once.
    if (written > out_.buf.size()) std::abort();
    out_.len = written;
  }
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  Appender& lit(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
    return *this;
  }
  Appender& ch(char c) {
    *p_++ = c;
    return *this;
  }
  Appender& integer(int64_t v) {
    p_ = std::to_chars(p_, p_ + kMaxInt, v).ptr;
    return *this;
  }
  Appender& escaped(std::string_view s) {
    p_ = write_json_escaped(p_, s);
    return *this;
  }
  // "escaped"
  Appender& quoted(std::string_view s) { return ch('"').escaped(s).ch('"'); }
  // Replaces the last character written (a trailing comma) with c.
  Appender& replace_last(char c) {
    p_[-1] = c;
    return *this;
  }

 private:
  TextScratch& out_;
  char* p_;
};

// Room for s written by Appender::quoted.
size_t quoted_room(std::string_view s) { return kJsonEscapedMax * s.size() + 2; }

}  // namespace

AuditWriter::AuditWriter(store::Database& db, AuditOptions options, MetricsRegistry& metrics)
    : db_(db),
      options_(std::move(options)),
      written_(metrics.counter("vigil_audit_written_total", "Audit records written")),
      dropped_(metrics.counter("vigil_audit_dropped_total",
                               "Audit records dropped because the writer fell behind")),
      failed_(metrics.counter("vigil_audit_failed_total", "Audit records lost to a store error")),
      depth_(metrics.gauge("vigil_audit_queue_depth", "Audit records waiting to be written")) {
  pending_.reserve(options_.batch_size);
}

AuditWriter::~AuditWriter() { stop(); }

Status AuditWriter::start() {
  if (!options_.access_log_file.empty()) {
    access_log_ = std::make_unique<RotatingFile>(
        options_.access_log_file, static_cast<uint64_t>(options_.access_log_max_mb) << 20,
        options_.access_log_max_files);
    if (Status s = access_log_->open(); !s.ok()) {
      return unavailable("cannot open the access log: " + s.message());
    }
  }
  thread_ = std::thread([this] {
    set_thread_name("vigil-audit");
    run();
  });
  return {};
}

void AuditWriter::submit(AuditRecord&& record) {
  std::unique_lock lock(mu_);
  if (stopping_ || pending_.size() >= options_.queue_capacity) {
    lock.unlock();
    dropped_.inc();
    return;
  }
  pending_.push_back(std::move(record));
  ++submitted_;
  bool wake = pending_.size() >= options_.batch_size;
  lock.unlock();
  if (wake) wake_.notify_one();
}

void AuditWriter::flush() {
  std::unique_lock lock(mu_);
  if (!thread_.joinable()) return;
  uint64_t target = submitted_;
  ++flush_waiters_;
  wake_.notify_one();
  done_.wait(lock, [&] { return handled_ >= target; });
  --flush_waiters_;
}

void AuditWriter::stop() {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void AuditWriter::run() {
  std::vector<AuditRecord> batch;
  batch.reserve(options_.batch_size);
  std::unique_lock lock(mu_);
  while (true) {
    // Write when a batch is full, when flush() or stop() asks, or every flush_interval — not
    // whenever something is pending, which under load turns into a transaction per handful
    // of records.
    wake_.wait_for(lock, options_.flush_interval, [&] {
      return stopping_ || pending_.size() >= options_.batch_size ||
             (flush_waiters_ > 0 && handled_ < submitted_);
    });
    if (pending_.empty()) {
      if (stopping_) break;
      continue;
    }
    batch.swap(pending_);
    depth_.set(0);
    lock.unlock();
    size_t n = batch.size();
    write_batch(batch);
    batch.clear();
    lock.lock();
    handled_ += n;
    done_.notify_all();
  }
}

void AuditWriter::write_batch(std::vector<AuditRecord>& batch) {
  // Each record becomes a line of the access log (its JSON object) and a row of its segment's
  // columns (see kSegmentRecords, kSegmentFormat). A segment is one row and one statement
  // however many records it holds — a row per record cost more CPU than the rest of a simple
  // request, and the columns are a fifth of the objects' bytes
  // (docs/decisions/0005-audit-writer.md).
  segments_.clear();
  if (access_log_) {
    access_lines_.restart();
    // Records of a batch share their second, mostly: its 19 characters are formatted once.
    std::string at;
    int64_t at_second = std::numeric_limits<int64_t>::min();
    for (const AuditRecord& r : batch) {
      auto ms = std::chrono::floor<std::chrono::milliseconds>(r.at);
      auto whole_second = std::chrono::floor<std::chrono::seconds>(ms);
      int64_t second = whole_second.time_since_epoch().count();
      if (second != at_second) {
        at.clear();
        append_rfc3339(at, r.at);  // "2026-11-23T10:15:30.123Z"
        at_second = second;
      } else {
        int milli = static_cast<int>((ms - whole_second).count());  // 0-999, also before 1970
        at[20] = static_cast<char>('0' + milli / 100);
        at[21] = static_cast<char>('0' + milli / 10 % 10);
        at[22] = static_cast<char>('0' + milli % 10);
      }
      append_audit_record_json(access_lines_, r, at);
      Appender(access_lines_, 1).ch('\n');
    }
    if (Status s = access_log_->append(access_lines_.view()); !s.ok()) {
      spdlog::warn("audit: access log: {}", s.message());
    }
  }
  if (!options_.store) {
    written_.inc(batch.size());
    return;
  }
  std::vector<const AuditRecord*> chunk;
  for (size_t i = 0; i < batch.size(); i += kSegmentRecords) {
    chunk.clear();
    auto& seg = segments_.emplace_back();
    seg.first_at = std::numeric_limits<int64_t>::max();
    seg.last_at = std::numeric_limits<int64_t>::min();
    for (size_t k = i; k < std::min(batch.size(), i + kSegmentRecords); ++k) {
      chunk.push_back(&batch[k]);
      int64_t us = to_epoch_micros(batch[k].at);
      seg.first_at = std::min(seg.first_at, us);
      seg.last_at = std::max(seg.last_at, us);
    }
    seg.count = chunk.size();
    columns_.restart();
    append_segment_columns(columns_, chunk);
    seg.text.assign(columns_.view());
  }
  std::vector<store::Value> params;
  Status s = db_.write([&](store::Session& session) -> Status {
    for (auto& seg : segments_) {
      params.clear();
      params.emplace_back(seg.first_at);
      params.emplace_back(seg.last_at);
      params.emplace_back(static_cast<int64_t>(seg.count));
      params.emplace_back(int64_t{kSegmentFormat});
      params.emplace_back(std::move(seg.text));
      auto n = session.exec(
          "INSERT INTO audit_segments (first_at, last_at, count, format, records) "
          "VALUES ($1, $2, $3, $4, $5)",
          params);
      if (!n.ok()) return n.status();
    }
    return {};
  });
  segments_.clear();
  if (s.ok()) {
    written_.inc(batch.size());
  } else {
    failed_.inc(batch.size());
    spdlog::error("audit: {} records lost: {}", batch.size(), s.to_string());
  }
}

namespace {

// Values of one column of a segment, each stored once: a record holds its value's index.
template <typename Key, typename Hash = std::hash<Key>>
class Dictionary {
 public:
  size_t index(const Key& key) {
    if (!keys_.empty() && key == keys_[last_]) return last_;  // the common case: a run
    auto [it, added] = map_.try_emplace(key, keys_.size());
    if (added) keys_.push_back(key);
    last_ = it->second;
    return last_;
  }
  const std::vector<Key>& keys() const { return keys_; }

 private:
  std::unordered_map<Key, size_t, Hash> map_;
  std::vector<Key> keys_;
  size_t last_ = 0;
};

using User = std::pair<int64_t, std::string_view>;  // (id, email)
struct UserHash {
  size_t operator()(const User& u) const {
    return std::hash<std::string_view>()(u.second) ^
           static_cast<size_t>(u.first) * 0x9e3779b97f4a7c15ULL;
  }
};

}  // namespace

void append_segment_columns(std::string& out, const std::vector<const AuditRecord*>& records) {
  TextScratch scratch;
  append_segment_columns(scratch, records);
  out += scratch.view();
}

void append_segment_columns(TextScratch& out, const std::vector<const AuditRecord*>& records) {
  using namespace std::literals;
  int64_t t0 = records.empty() ? 0 : std::numeric_limits<int64_t>::max();
  for (const AuditRecord* r : records) t0 = std::min(t0, to_epoch_micros(r->at));
  const size_t n = records.size();
  // ,"name":[value_of(0),value_of(1),...]
  auto ints = [&](std::string_view name, auto value_of) {
    Appender a(out, name.size() + 2 + n * (Appender::kMaxInt + 1));
    a.lit(name).ch('[');
    for (size_t k = 0; k < n; ++k) a.integer(value_of(k)).ch(',');
    if (n == 0) a.ch(',');
    a.replace_last(']');
  };
  auto column = [](const std::vector<int64_t>& c) { return [&c](size_t k) { return c[k]; }; };
  auto field = [&](auto member) {
    return [&records, member](size_t k) { return static_cast<int64_t>(records[k]->*member); };
  };
  // ,"name":["value_of(0)",...]
  auto strings = [&](std::string_view name, size_t count, auto value_of) {
    size_t room = name.size() + 2;
    for (size_t k = 0; k < count; ++k) room += quoted_room(value_of(k)) + 1;
    Appender a(out, room);
    a.lit(name).ch('[');
    for (size_t k = 0; k < count; ++k) a.quoted(value_of(k)).ch(',');
    if (count == 0) a.ch(',');
    a.replace_last(']');
  };
  auto keys = [](const std::vector<std::string_view>& v) {
    return [&v](size_t k) { return v[k]; };
  };
  Dictionary<User, UserHash> users;
  Dictionary<std::string_view> methods, paths, ips;
  std::vector<int64_t> u(n), m(n), p(n), ip(n);
  for (size_t i = 0; i < n; ++i) {
    const AuditRecord& r = *records[i];
    u[i] = r.user_id ? static_cast<int64_t>(users.index({r.user_id, r.user_email})) + 1 : 0;
    m[i] = static_cast<int64_t>(methods.index(r.method));
    p[i] = static_cast<int64_t>(paths.index(r.path));
    ip[i] = static_cast<int64_t>(ips.index(r.ip));
  }
  {
    Appender a(out, 16 + Appender::kMaxInt);
    a.lit("{\"v\":2,\"t0\":"sv).integer(t0);
  }
  ints(",\"at\":"sv, [&](size_t k) { return to_epoch_micros(records[k]->at) - t0; });
  strings(",\"rid\":"sv, n, [&](size_t k) { return std::string_view(records[k]->request_id); });
  ints(",\"u\":"sv, column(u));
  {
    size_t room = 12;
    for (const auto& user : users.keys()) room += Appender::kMaxInt + quoted_room(user.second) + 4;
    Appender a(out, room);
    a.lit(",\"users\":["sv);
    for (const auto& [id, email] : users.keys())
      a.ch('[').integer(id).ch(',').quoted(email).lit("],"sv);
    if (users.keys().empty()) a.ch(',');
    a.replace_last(']');
  }
  ints(",\"m\":"sv, column(m));
  strings(",\"methods\":"sv, methods.keys().size(), keys(methods.keys()));
  ints(",\"p\":"sv, column(p));
  strings(",\"paths\":"sv, paths.keys().size(), keys(paths.keys()));
  ints(",\"s\":"sv, field(&AuditRecord::status));
  ints(",\"lat\":"sv, field(&AuditRecord::latency_us));
  ints(",\"in\":"sv, field(&AuditRecord::bytes_in));
  ints(",\"out\":"sv, field(&AuditRecord::bytes_out));
  ints(",\"ip\":"sv, column(ip));
  strings(",\"ips\":"sv, ips.keys().size(), keys(ips.keys()));
  Appender(out, 1).ch('}');
}

void append_audit_record_json(TextScratch& out, const AuditRecord& r, std::string_view at) {
  using namespace std::literals;
  // The keys and punctuation below are < 160 bytes; 7 integers, 5 escaped strings and `at`.
  Appender a(out, 160 + 7 * Appender::kMaxInt + at.size() + quoted_room(r.request_id) +
                      quoted_room(r.user_email) + quoted_room(r.method) + quoted_room(r.path) +
                      quoted_room(r.ip));
  a.ch('{');
  if (r.id) a.lit("\"id\":"sv).integer(r.id).ch(',');
  a.lit("\"at\":\""sv).lit(at).ch('"');
  a.lit(",\"request_id\":"sv).quoted(r.request_id);
  if (r.user_id) {
    a.lit(",\"user\":{\"id\":"sv)
        .integer(r.user_id)
        .lit(",\"email\":"sv)
        .quoted(r.user_email)
        .ch('}');
  } else {
    a.lit(",\"user\":null"sv);
  }
  a.lit(",\"method\":"sv).quoted(r.method);
  a.lit(",\"path\":"sv).quoted(r.path);
  a.lit(",\"status\":"sv).integer(r.status);
  a.lit(",\"latency_us\":"sv).integer(r.latency_us);
  a.lit(",\"bytes_in\":"sv).integer(r.bytes_in);
  a.lit(",\"bytes_out\":"sv).integer(r.bytes_out);
  a.lit(",\"ip\":"sv).quoted(r.ip);
  a.ch('}');
}

std::string audit_record_json(const AuditRecord& r) {
  TextScratch out;
  append_audit_record_json(out, r, format_rfc3339(r.at));
  return std::string(out.view());
}

namespace {

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool matches(const AuditQuery& q, const AuditRecord& r) {
  if (q.user_id && r.user_id != *q.user_id) return false;
  if (q.user_email && (r.user_id == 0 || !iequals_ascii(r.user_email, *q.user_email))) {
    return false;
  }
  if (q.method && r.method != *q.method) return false;
  if (q.path_prefix && !std::string_view(r.path).starts_with(*q.path_prefix)) return false;
  if (q.status && r.status != *q.status) return false;
  if (q.since && r.at < *q.since) return false;
  if (q.until && r.at >= *q.until) return false;
  return true;
}

std::string string_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t int_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return 0;
}

}  // namespace

AuditRecord audit_record_from_json(const boost::json::object& o) {
  AuditRecord r;
  auto at = parse_timestamp(string_field(o, "at"));
  r.at = at ? *at : std::chrono::system_clock::time_point();
  r.request_id = string_field(o, "request_id");
  if (const auto* u = o.if_contains("user"); u && u->is_object()) {
    r.user_id = int_field(u->get_object(), "id");
    r.user_email = string_field(u->get_object(), "email");
  }
  r.method = string_field(o, "method");
  r.path = string_field(o, "path");
  r.status = static_cast<int>(int_field(o, "status"));
  r.latency_us = int_field(o, "latency_us");
  r.bytes_in = int_field(o, "bytes_in");
  r.bytes_out = int_field(o, "bytes_out");
  r.ip = string_field(o, "ip");
  return r;
}

namespace {

// Format 2's columns back into records; nullopt when a column is missing, short or mistyped.
std::optional<std::vector<AuditRecord>> decode_columns(const boost::json::object& o) {
  auto array = [&](std::string_view key) -> const boost::json::array* {
    const auto* v = o.if_contains(key);
    return v && v->is_array() ? &v->get_array() : nullptr;
  };
  auto as_int = [](const boost::json::value& v, int64_t& out) {
    if (v.is_int64()) {
      out = v.get_int64();
    } else if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
      out = static_cast<int64_t>(v.get_uint64());
    } else {
      return false;
    }
    return true;
  };
  const auto* t0v = o.if_contains("t0");
  int64_t t0 = 0;
  if (t0v == nullptr || !as_int(*t0v, t0)) return std::nullopt;
  const auto* at = array("at");
  if (at == nullptr) return std::nullopt;
  const size_t n = at->size();
  const char* int_columns[] = {"at", "u", "m", "p", "s", "lat", "in", "out", "ip"};
  std::vector<std::vector<int64_t>> ints;
  for (const char* name : int_columns) {
    const auto* a = array(name);
    if (a == nullptr || a->size() != n) return std::nullopt;
    auto& column = ints.emplace_back(n);
    for (size_t k = 0; k < n; ++k) {
      if (!as_int((*a)[k], column[k])) return std::nullopt;
    }
  }
  auto strings = [&](std::string_view key, std::vector<std::string>& out) {
    const auto* a = array(key);
    if (a == nullptr) return false;
    for (const auto& v : *a) {
      if (!v.is_string()) return false;
      out.emplace_back(v.get_string());
    }
    return true;
  };
  std::vector<std::string> rid, methods, paths, ips;
  if (!strings("rid", rid) || rid.size() != n || !strings("methods", methods) ||
      !strings("paths", paths) || !strings("ips", ips)) {
    return std::nullopt;
  }
  std::vector<std::pair<int64_t, std::string>> users;
  const auto* ua = array("users");
  if (ua == nullptr) return std::nullopt;
  for (const auto& v : *ua) {
    int64_t id = 0;
    if (!v.is_array() || v.get_array().size() != 2 || !as_int(v.get_array()[0], id) ||
        !v.get_array()[1].is_string()) {
      return std::nullopt;
    }
    users.emplace_back(id, std::string(v.get_array()[1].get_string()));
  }
  auto in_range = [](int64_t k, size_t size) { return k >= 0 && static_cast<uint64_t>(k) < size; };
  std::vector<AuditRecord> records(n);
  for (size_t k = 0; k < n; ++k) {
    AuditRecord& r = records[k];
    const int64_t u = ints[1][k], m = ints[2][k], p = ints[3][k], ip = ints[8][k];
    if ((u != 0 && !in_range(u - 1, users.size())) || !in_range(m, methods.size()) ||
        !in_range(p, paths.size()) || !in_range(ip, ips.size())) {
      return std::nullopt;
    }
    // Within ±8e15 µs (±250 years) of 1970, so that neither the sum nor the time_point (in
    // nanoseconds) overflows.
    constexpr int64_t kMaxMicros = 8'000'000'000'000'000;
    int64_t us = 0;
    if (__builtin_add_overflow(t0, ints[0][k], &us) || us > kMaxMicros || us < -kMaxMicros) {
      return std::nullopt;
    }
    r.at = std::chrono::system_clock::time_point(std::chrono::microseconds(us));
    r.request_id = std::move(rid[k]);
    if (u != 0) {
      r.user_id = users[static_cast<size_t>(u - 1)].first;
      r.user_email = users[static_cast<size_t>(u - 1)].second;
    }
    r.method = methods[static_cast<size_t>(m)];
    r.path = paths[static_cast<size_t>(p)];
    r.status = static_cast<int>(ints[4][k]);
    r.latency_us = ints[5][k];
    r.bytes_in = ints[6][k];
    r.bytes_out = ints[7][k];
    r.ip = ips[static_cast<size_t>(ip)];
  }
  return records;
}

}  // namespace

std::optional<std::vector<AuditRecord>> decode_segment(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = parse_json(text, ec);
  if (ec) return std::nullopt;
  if (v.is_object()) return decode_columns(v.get_object());
  if (!v.is_array()) return std::nullopt;
  std::vector<AuditRecord> records;  // format 1
  records.reserve(v.get_array().size());
  for (const auto& element : v.get_array()) {
    if (!element.is_object()) return std::nullopt;
    records.push_back(audit_record_from_json(element.get_object()));
  }
  return records;
}

Expected<AuditPage> query_audit(store::Database& db, const AuditQuery& q) {
  // Segments newest first, a few at a time (a segment is up to kSegmentRecords records), their
  // records newest first, filtered here. Time bounds prune whole segments; a call reads at most
  // kMaxScannedRecords records and then answers what it found, with a cursor to go on from.
  AuditPage page;
  std::optional<int64_t> segment_below;  // the next query reads segments with id < this
  if (q.before_id) segment_below = (*q.before_id >> kRecordIdShift) + 1;
  size_t scanned = 0;
  while (true) {
    std::string sql = "SELECT id, records FROM audit_segments WHERE 1 = 1";
    std::vector<store::Value> params;
    auto add = [&](const char* fragment, int64_t v) {
      params.emplace_back(v);
      sql += std::string(" AND ") + fragment + " $" + std::to_string(params.size());
    };
    if (q.since) add("last_at >=", to_epoch_micros(*q.since));
    if (q.until) add("first_at <", to_epoch_micros(*q.until));
    if (segment_below) add("id <", *segment_below);
    params.emplace_back(int64_t{kSegmentsPerRead});
    sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());
    auto rows = db.query(sql, params);
    if (!rows.ok()) return rows.status();
    for (size_t i = 0; i < rows->size(); ++i) {
      const int64_t segment = rows->get_int(i, 0);
      segment_below = segment;
      auto records = decode_segment(rows->get_text(i, 1));
      if (!records) {
        // Not written by us (we write arrays and columns only): skipped, so the rest stays
        // readable.
        spdlog::warn("audit: segment {} holds no records we can read; skipped", segment);
        continue;
      }
      for (size_t k = records->size(); k-- > 0;) {
        const int64_t id = (segment << kRecordIdShift) | static_cast<int64_t>(k);
        if (q.before_id && id >= *q.before_id) continue;
        if (++scanned > q.max_scanned) {
          page.next_before = id + 1;  // go on from this record
          return page;
        }
        AuditRecord& r = (*records)[k];
        if (!matches(q, r)) continue;
        if (page.items.size() == static_cast<size_t>(q.limit)) {
          page.next_before = page.items.back().id;
          return page;
        }
        r.id = id;
        page.items.push_back(std::move(r));
      }
    }
    if (rows->size() < static_cast<size_t>(kSegmentsPerRead)) return page;
  }
}

}  // namespace vigil::audit
