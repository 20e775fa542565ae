#include "records/record_service.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace vigil::records {

RecordMetrics RecordMetrics::in(MetricsRegistry& r) {
  const std::string name = "vigil_records_total";
  const std::string help = "Record files taken in, by outcome";
  return {&r.counter(name, help, {{"outcome", "stored"}}),
          &r.counter(name, help, {{"outcome", "duplicate"}}),
          &r.counter(name, help, {{"outcome", "refused"}}),
          &r.counter(name, help, {{"outcome", "failed"}}),
          &r.histogram("vigil_record_ingest_seconds",
                       "From a record file handed in to stored: hash, parse, store", {})};
}

Expected<std::string> sha256_file(const std::string& path) {
  std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    if (errno == ENOENT) return not_found("no file " + path);
    return unavailable("cannot read " + path + ": " + std::strerror(errno));
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return internal_error("SHA-256 is not available");
  }
  std::string buffer(1 << 20, '\0');
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), f.get())) {
    EVP_DigestUpdate(ctx.get(), buffer.data(), n);
  }
  if (std::ferror(f.get())) return unavailable("cannot read " + path);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

RecordService::RecordService(store::Database& db, ParserOptions parser, RecordMetrics metrics)
    : store_(db), parser_(std::move(parser)), metrics_(metrics) {}

Expected<Record> RecordService::ingest(const IngestRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  auto count = [&](Counter* c) {
    if (c) c->inc();
  };
  auto outcome = [&]() -> Expected<Record> {
    auto sha = sha256_file(request.path);
    if (!sha.ok()) return sha.status();
    // A file sent twice is not parsed twice.
    auto stored = store_.find_sha256(*sha);
    if (!stored.ok()) return stored.status();
    if (*stored) {
      return already_exists("this file is stored already, as record " + std::to_string(**stored));
    }
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(request.path, ec);
    auto file = parser_.parse(request.path);
    if (!file.ok()) return file.status();
    return store_.insert(std::move(*file), {.sha256 = *sha,
                                            .file_name = request.file_name,
                                            .file_bytes = ec ? 0 : static_cast<int64_t>(bytes),
                                            .source = request.source,
                                            .created_by = request.by_user,
                                            .only_device = request.only_device});
  }();
  switch (outcome.status().code()) {
    case ErrorCode::kOk:
      count(metrics_.stored);
      if (on_stored) on_stored(*outcome);
      break;
    case ErrorCode::kAlreadyExists: count(metrics_.duplicates); break;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kPermissionDenied: count(metrics_.refused); break;
    default: count(metrics_.failed);
  }
  if (metrics_.seconds) {
    metrics_.seconds->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return outcome;
}

Outcome RecordService::collect(const std::filesystem::path& claimed,
                               const std::string& original_name) {
  auto r = ingest({.path = claimed.string(), .file_name = original_name});
  if (r.ok()) return {.kind = Outcome::Kind::kStored, .record_id = r->id};
  const Status& s = r.status();
  switch (s.code()) {
    case ErrorCode::kAlreadyExists: {
      auto id = sha256_file(claimed.string());
      auto existing =
          id.ok() ? store_.find_sha256(*id) : Expected<std::optional<int64_t>>(id.status());
      return {.kind = Outcome::Kind::kDuplicate,
              .reason = s.message(),
              .record_id = existing.ok() && *existing ? **existing : 0};
    }
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kMalformed: return {.kind = Outcome::Kind::kRefused, .reason = s.message()};
    default: return {.kind = Outcome::Kind::kRetry, .reason = s.to_string()};
  }
}

Expected<SignalView> RecordService::signal(int64_t record_id, std::string_view channel,
                                           std::optional<int64_t> from_ms,
                                           std::optional<int64_t> to_ms, size_t max_points) {
  auto record = store_.get(record_id, false);
  if (!record.ok()) return record.status();
  const ChannelInfo* found = nullptr;
  for (const ChannelInfo& c : record->channels) {
    if (c.name == channel || std::to_string(c.index) == channel) found = &c;
  }
  if (!found) {
    return not_found("record " + std::to_string(record_id) + " has no channel " +
                     std::string(channel));
  }
  SignalView v;
  v.channel = *found;
  // Sample i is at start_time + i / fs.
  const double t0_ms = static_cast<double>(record->start_time) * 1000;
  auto index_at = [&](int64_t ms) {
    const double i = std::ceil((static_cast<double>(ms) - t0_ms) * v.channel.fs / 1000);
    return static_cast<int64_t>(std::clamp(i, 0.0, static_cast<double>(v.channel.samples)));
  };
  v.first = from_ms ? index_at(*from_ms) : 0;
  v.last = to_ms ? index_at(*to_ms) : v.channel.samples;
  if (v.last < v.first) return invalid_field("to", "must not be before from");
  auto samples = store_.samples(record_id, v.channel.index, v.first, v.last);
  if (!samples.ok()) return samples.status();
  v.envelope = envelope(*samples, v.first, max_points);
  v.record = std::move(*record);
  return v;
}

}  // namespace vigil::records
