#include "audit/audit_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "core/ids.h"
#include "core/logging.h"
#include "core/thread_name.h"

namespace vigil::audit {

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

void AuditWriter::submit(AuditRecord record) {
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
  if (access_log_) {
    access_buffer_.clear();
    // Records of a batch share their second, mostly: its 19 characters are formatted once.
    std::string at;
    int64_t at_second = std::numeric_limits<int64_t>::min();
    for (const auto& r : batch) {
      int64_t ms = std::chrono::floor<std::chrono::milliseconds>(r.at).time_since_epoch().count();
      int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
      if (second != at_second) {
        at.clear();
        append_rfc3339(at, r.at);  // "2026-11-23T10:15:30.123Z"
        at_second = second;
      } else {
        int milli = static_cast<int>(ms - second * 1000);
        at[20] = static_cast<char>('0' + milli / 100);
        at[21] = static_cast<char>('0' + milli / 10 % 10);
        at[22] = static_cast<char>('0' + milli % 10);
      }
      append_audit_record_json(access_buffer_, r, at);
      access_buffer_ += '\n';
    }
    if (Status s = access_log_->append(access_buffer_); !s.ok()) {
      spdlog::warn("audit: access log: {}", s.message());
    }
    if (access_buffer_.capacity() > (4u << 20)) std::string().swap(access_buffer_);
  }
  if (!options_.store) {
    written_.inc(batch.size());
    return;
  }
  // Multi-row INSERTs: one statement per kRowsPerStatement records, the rest in power-of-two
  // statements (32, 16, ... 1 rows) so that every statement text is one of seven, prepared once
  // and cached — a statement for every remainder would be parsed anew on most batches. SQLite
  // and PostgreSQL both allow far more parameters than 11 × 64. The records are consumed:
  // strings move into the parameters.
  constexpr size_t kColumns = 11;
  constexpr size_t kRowsPerStatement = 64;
  static const std::vector<std::string> kSql = [] {
    std::vector<std::string> sql;  // [k]: 2^k rows
    for (size_t rows = 1; rows <= kRowsPerStatement; rows *= 2) {
      std::string s =
          "INSERT INTO audit_log (at, request_id, user_id, user_email, method, path, status, "
          "latency_us, bytes_in, bytes_out, ip) VALUES ";
      for (size_t r = 0; r < rows; ++r) {
        s += r ? ",(" : "(";
        for (size_t c = 0; c < kColumns; ++c) {
          if (c) s += ',';
          s += '$';
          s += std::to_string(r * kColumns + c + 1);
        }
        s += ')';
      }
      sql.push_back(std::move(s));
    }
    return sql;
  }();
  std::vector<store::Value> params;
  params.reserve(kColumns * kRowsPerStatement);
  Status s = db_.write([&](store::Session& session) -> Status {
    size_t start = 0;
    while (start < batch.size()) {
      size_t left = batch.size() - start;
      size_t k = kSql.size() - 1;
      while ((size_t{1} << k) > left) --k;
      const size_t rows = size_t{1} << k;
      params.clear();
      for (size_t i = start; i < start + rows; ++i) {
        auto& r = batch[i];
        params.emplace_back(to_epoch_micros(r.at));
        params.emplace_back(std::move(r.request_id));
        // (if/else, not ?: — GCC 12 warns about the variant temporaries of a conditional)
        if (r.user_id) {
          params.emplace_back(r.user_id);
        } else {
          params.emplace_back();
        }
        if (r.user_email.empty()) {
          params.emplace_back();
        } else {
          params.emplace_back(std::move(r.user_email));
        }
        params.emplace_back(std::move(r.method));
        params.emplace_back(std::move(r.path));
        params.emplace_back(int64_t{r.status});
        params.emplace_back(r.latency_us);
        params.emplace_back(r.bytes_in);
        params.emplace_back(r.bytes_out);
        params.emplace_back(std::move(r.ip));
      }
      auto n = session.exec(kSql[k], params);
      if (!n.ok()) return n.status();
      start += rows;
    }
    return {};
  });
  if (s.ok()) {
    written_.inc(batch.size());
  } else {
    failed_.inc(batch.size());
    spdlog::error("audit: {} records lost: {}", batch.size(), s.to_string());
  }
}

namespace {

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// ,"name":"escaped value"
void append_string_field(std::string& out, std::string_view name, std::string_view v) {
  out += name;
  out += '"';
  append_json_escaped(out, v);
  out += '"';
}

}  // namespace

void append_audit_record_json(std::string& out, const AuditRecord& r, std::string_view at) {
  using namespace std::literals;
  out += '{';
  if (r.id) {
    out += "\"id\":"sv;
    append_int(out, r.id);
    out += ',';
  }
  out += "\"at\":\""sv;
  out += at;
  out += '"';
  append_string_field(out, ",\"request_id\":"sv, r.request_id);
  if (r.user_id) {
    out += ",\"user\":{\"id\":"sv;
    append_int(out, r.user_id);
    append_string_field(out, ",\"email\":"sv, r.user_email);
    out += '}';
  } else {
    out += ",\"user\":null"sv;
  }
  append_string_field(out, ",\"method\":"sv, r.method);
  append_string_field(out, ",\"path\":"sv, r.path);
  out += ",\"status\":"sv;
  append_int(out, r.status);
  out += ",\"latency_us\":"sv;
  append_int(out, r.latency_us);
  out += ",\"bytes_in\":"sv;
  append_int(out, r.bytes_in);
  out += ",\"bytes_out\":"sv;
  append_int(out, r.bytes_out);
  append_string_field(out, ",\"ip\":"sv, r.ip);
  out += '}';
}

std::string audit_record_json(const AuditRecord& r) {
  std::string out;
  out.reserve(256);
  append_audit_record_json(out, r, format_rfc3339(r.at));
  return out;
}

int64_t to_epoch_micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_epoch_micros(int64_t us) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::microseconds(us)));
}

Expected<AuditPage> query_audit(store::Database& db, const AuditQuery& q) {
  // Fixed SQL fragments only; every value is a bound parameter.
  std::string sql =
      "SELECT id, at, request_id, user_id, user_email, method, path, status, latency_us, "
      "bytes_in, bytes_out, ip FROM audit_log WHERE 1 = 1";
  std::vector<store::Value> params;
  auto add = [&](const char* fragment, store::Value v) {
    params.push_back(std::move(v));
    sql += std::string(" AND ") + fragment + " $" + std::to_string(params.size());
  };
  if (q.user_id) add("user_id =", *q.user_id);
  if (q.user_email) add("lower(user_email) = lower(", *q.user_email), sql += ")";
  if (q.method) add("method =", *q.method);
  if (q.path_prefix) {
    std::string like;
    for (char c : *q.path_prefix) {
      if (c == '%' || c == '_' || c == '\\') like += '\\';
      like += c;
    }
    like += '%';
    add("path LIKE", like);
    sql += " ESCAPE '\\'";
  }
  if (q.status) add("status =", int64_t{*q.status});
  if (q.since) add("at >=", to_epoch_micros(*q.since));
  if (q.until) add("at <", to_epoch_micros(*q.until));
  if (q.before_id) add("id <", *q.before_id);
  params.push_back(int64_t{q.limit} + 1);
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());

  auto rows = db.query(sql, params);
  if (!rows.ok()) return rows.status();
  AuditPage page;
  for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(q.limit); ++i) {
    AuditRecord r;
    r.id = rows->get_int(i, 0);
    r.at = from_epoch_micros(rows->get_int(i, 1));
    r.request_id = rows->get_text(i, 2);
    r.user_id = rows->get_int(i, 3);
    r.user_email = rows->get_text(i, 4);
    r.method = rows->get_text(i, 5);
    r.path = rows->get_text(i, 6);
    r.status = static_cast<int>(rows->get_int(i, 7));
    r.latency_us = rows->get_int(i, 8);
    r.bytes_in = rows->get_int(i, 9);
    r.bytes_out = rows->get_int(i, 10);
    r.ip = rows->get_text(i, 11);
    page.items.push_back(std::move(r));
  }
  if (rows->size() > static_cast<size_t>(q.limit)) page.next_before = page.items.back().id;
  return page;
}

}  // namespace vigil::audit
