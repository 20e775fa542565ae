#include "audit/audit_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

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
  // Each record's timestamp is formatted once, for both the access log and the row.
  std::vector<std::string> ats;
  ats.reserve(batch.size());
  for (const auto& r : batch) ats.push_back(format_rfc3339(r.at));
  if (access_log_) {
    access_buffer_.clear();
    for (size_t i = 0; i < batch.size(); ++i) {
      append_audit_record_json(access_buffer_, batch[i], ats[i]);
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
  // Multi-row INSERTs: one statement per kRowsPerStatement records (SQLite and PostgreSQL both
  // allow far more parameters than 11 × 64). The records are consumed: strings move into the
  // parameters.
  constexpr size_t kColumns = 11;
  constexpr size_t kRowsPerStatement = 64;
  auto insert_sql = [](size_t rows) {
    std::string sql =
        "INSERT INTO audit_log (at, request_id, user_id, user_email, method, path, status, "
        "latency_us, bytes_in, bytes_out, ip) VALUES ";
    for (size_t r = 0; r < rows; ++r) {
      sql += r ? ",(" : "(";
      for (size_t c = 0; c < kColumns; ++c) {
        if (c) sql += ',';
        sql += '$';
        sql += std::to_string(r * kColumns + c + 1);
      }
      sql += ')';
    }
    return sql;
  };
  static const std::string kFullSql = insert_sql(kRowsPerStatement);
  std::vector<store::Value> params;
  params.reserve(kColumns * kRowsPerStatement);
  Status s = db_.write([&](store::Session& session) -> Status {
    for (size_t start = 0; start < batch.size(); start += kRowsPerStatement) {
      size_t rows = std::min(kRowsPerStatement, batch.size() - start);
      params.clear();
      for (size_t i = start; i < start + rows; ++i) {
        auto& r = batch[i];
        params.emplace_back(std::move(ats[i]));
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
      auto n = session.exec(rows == kRowsPerStatement ? kFullSql : insert_sql(rows), params);
      if (!n.ok()) return n.status();
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
  out += '{';
  if (r.id) {
    out += "\"id\":";
    append_int(out, r.id);
    out += ',';
  }
  out += "\"at\":\"";
  out += at;
  out += '"';
  append_string_field(out, ",\"request_id\":", r.request_id);
  if (r.user_id) {
    out += ",\"user\":{\"id\":";
    append_int(out, r.user_id);
    append_string_field(out, ",\"email\":", r.user_email);
    out += '}';
  } else {
    out += ",\"user\":null";
  }
  append_string_field(out, ",\"method\":", r.method);
  append_string_field(out, ",\"path\":", r.path);
  out += ",\"status\":";
  append_int(out, r.status);
  out += ",\"latency_us\":";
  append_int(out, r.latency_us);
  out += ",\"bytes_in\":";
  append_int(out, r.bytes_in);
  out += ",\"bytes_out\":";
  append_int(out, r.bytes_out);
  append_string_field(out, ",\"ip\":", r.ip);
  out += '}';
}

std::string audit_record_json(const AuditRecord& r) {
  std::string out;
  out.reserve(256);
  append_audit_record_json(out, r, format_rfc3339(r.at));
  return out;
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
  if (q.since) add("at >=", *q.since);
  if (q.until) add("at <", *q.until);
  if (q.before_id) add("id <", *q.before_id);
  params.push_back(int64_t{q.limit} + 1);
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());

  auto rows = db.query(sql, params);
  if (!rows.ok()) return rows.status();
  AuditPage page;
  for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(q.limit); ++i) {
    AuditRecord r;
    r.id = rows->get_int(i, 0);
    auto at = parse_timestamp(rows->get_text(i, 1));
    r.at = at ? *at : std::chrono::system_clock::time_point();
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
