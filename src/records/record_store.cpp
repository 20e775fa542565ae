#include "records/record_store.h"

#include <boost/json.hpp>

#include <algorithm>
#include <span>
#include <unordered_map>

#include "auth/user_store.h"
#include "core/ids.h"
#include "core/json_text.h"
#include "core/names.h"
#include "records/signal_codec.h"

namespace vigil::records {
namespace {

namespace json = boost::json;
using store::Value;

Value id_or_null(int64_t id) { return id > 0 ? Value(id) : Value(std::monostate{}); }
Value optional_int(const std::optional<int64_t>& v) {
  return v ? Value(*v) : Value(std::monostate{});
}
Value optional_double(const std::optional<double>& v) {
  return v ? Value(*v) : Value(std::monostate{});
}

std::string attributes_json(const RecordFile& f) {
  json::object o;
  for (const auto& entry : f.attributes) {
    std::visit([&o, &name = entry.first](const auto& v) { o[name] = v; }, entry.second);
  }
  return json_text(o);
}

constexpr std::string_view kColumns =
    "id, sha256, user_id, username, device_id, device, dreempy_version, start_time, stop_time, "
    "sleep_start_time, sleep_stop_time, sleep_score, number_of_stimulations, number_of_wake, "
    "attributes, epochs, artefact_s, wake_s, n1_s, n2_s, n3_s, rem_s, asleep_s, efficiency, "
    "sleep_latency_s, rem_latency_s, file_name, file_bytes, source, created_at, created_by, "
    "hypnogram";

Record record_at(const store::Rows& rows, size_t r, bool with_hypnogram) {
  Record x;
  size_t c = 0;
  x.id = rows.get_int(r, c++);
  x.sha256 = rows.get_text(r, c++);
  x.user_id = rows.get_int(r, c++);
  x.username = rows.get_text(r, c++);
  x.device_id = rows.get_int(r, c++);
  x.device = rows.get_text(r, c++);
  x.dreempy_version = rows.get_text(r, c++);
  x.start_time = rows.get_int(r, c++);
  x.stop_time = rows.get_int(r, c++);
  x.sleep_start_time = rows.get_int(r, c++);
  x.sleep_stop_time = rows.get_int(r, c++);
  x.sleep_score = rows.get_double(r, c++);
  x.number_of_stimulations = rows.get_int(r, c++);
  x.number_of_wake = rows.get_int(r, c++);
  x.attributes = rows.get_text(r, c++);
  SleepStats& s = x.stats;
  s.epochs = rows.get_int(r, c++);
  s.artefact_s = rows.get_int(r, c++);
  s.wake_s = rows.get_int(r, c++);
  s.n1_s = rows.get_int(r, c++);
  s.n2_s = rows.get_int(r, c++);
  s.n3_s = rows.get_int(r, c++);
  s.rem_s = rows.get_int(r, c++);
  s.asleep_s = rows.get_int(r, c++);
  if (!rows.is_null(r, c)) s.efficiency = rows.get_double(r, c);
  ++c;
  if (!rows.is_null(r, c)) s.sleep_latency_s = rows.get_int(r, c);
  ++c;
  if (!rows.is_null(r, c)) s.rem_latency_s = rows.get_int(r, c);
  ++c;
  x.file_name = rows.get_text(r, c++);
  x.file_bytes = rows.get_int(r, c++);
  x.source = rows.get_text(r, c++);
  x.created_at = rows.get_text(r, c++);
  x.created_by = rows.get_int(r, c++);
  if (with_hypnogram) {
    const std::string h = rows.get_blob(r, c);
    x.hypnogram.assign(h.begin(), h.end());
  }
  return x;
}

// The columns with or without the hypnogram (a list does not read them).
std::string columns(bool with_hypnogram) {
  if (with_hypnogram) return std::string(kColumns);
  std::string c(kColumns);
  c.replace(c.rfind("hypnogram"), 9, "NULL");
  return c;
}

// The channels of every record, in one query.
Status fill_channels(store::Session& s, std::span<Record> records) {
  if (records.empty()) return {};
  std::vector<Value> p;
  std::string in;
  for (const Record& r : records) {
    p.push_back(r.id);
    in += (in.empty() ? "$" : ", $") + std::to_string(p.size());
  }
  auto rows = s.query(
      "SELECT record_id, idx, modality, name, fs, unit, samples FROM record_channels WHERE "
      "record_id IN (" +
          in + ") ORDER BY record_id, idx",
      p);
  if (!rows.ok()) return rows.status();
  std::unordered_map<int64_t, Record*> by_id;
  for (Record& r : records) {
    r.channels.clear();
    by_id[r.id] = &r;
  }
  for (size_t i = 0; i < rows->size(); ++i) {
    auto r = by_id.find(rows->get_int(i, 0));
    if (r == by_id.end()) continue;
    r->second->channels.push_back({static_cast<int>(rows->get_int(i, 1)), rows->get_text(i, 2),
                                   rows->get_text(i, 3), rows->get_double(i, 4),
                                   rows->get_text(i, 5), rows->get_int(i, 6)});
  }
  return {};
}

// The records a query of columns(with_hypnogram) selects, with their channels, in one read.
Expected<std::vector<Record>> records_with_channels(store::Database& db, const std::string& sql,
                                                    const std::vector<Value>& p,
                                                    bool with_hypnogram) {
  return store::read_returning<std::vector<Record>>(
      db, [&](store::Session& s) -> Expected<std::vector<Record>> {
        auto rows = s.query(sql, p);
        if (!rows.ok()) return rows.status();
        std::vector<Record> out;
        for (size_t r = 0; r < rows->size(); ++r) {
          out.push_back(record_at(*rows, r, with_hypnogram));
        }
        VIGIL_RETURN_IF_ERROR(fill_channels(s, out));
        return out;
      });
}

Expected<Record> get_in(store::Session& s, int64_t id, bool with_hypnogram) {
  std::vector<Value> p{id};
  auto rows = s.query("SELECT " + columns(with_hypnogram) + " FROM records WHERE id = $1", p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found("no record " + std::to_string(id));
  Record r = record_at(*rows, 0, with_hypnogram);
  VIGIL_RETURN_IF_ERROR(fill_channels(s, std::span<Record>(&r, 1)));
  return r;
}

Expected<int64_t> device_id_for(store::Session& s, const std::string& name) {
  std::vector<Value> key{name_key(name)};
  auto found = s.query("SELECT id FROM devices WHERE lower(name) = $1", key);
  if (!found.ok()) return found.status();
  if (!found->empty()) return found->get_int(0, 0);
  std::vector<Value> p{name, now_rfc3339()};
  // Another node may register it meanwhile: then its row is used.
  VIGIL_RETURN_IF_ERROR(s.exec("INSERT INTO devices (name, type, created_at) VALUES ($1, "
                               "'unknown', $2) ON CONFLICT DO NOTHING",
                               p)
                            .status());
  found = s.query("SELECT id FROM devices WHERE lower(name) = $1", key);
  if (!found.ok()) return found.status();
  if (found->empty()) return unavailable("the device " + name + " went while it was registered");
  return found->get_int(0, 0);
}

bool is_id(std::string_view s) {
  return !s.empty() && s.size() < 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Expected<int64_t> RecordStore::user_id(std::string_view user) {
  if (is_id(user)) {
    std::vector<Value> p{std::stoll(std::string(user))};
    auto rows = db_.query("SELECT id FROM users WHERE id = $1", p);
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) return rows->get_int(0, 0);
  } else {
    auto found = store::read_returning<auth::User>(
        db_, [&](store::Session& s) { return auth::UserStore::get_by_username(s, user); });
    if (found.ok()) return found->id;
    if (found.status().code() != ErrorCode::kNotFound) return found.status();
  }
  return not_found("no user " + std::string(user));
}

Expected<Record> RecordStore::insert(RecordFile f, const NewRecord& meta) {
  if (auto why = name_error(f.device)) return invalid_field("device", "the file's device " + *why);
  const SleepStats stats = sleep_stats(f.hypnogram);
  const std::string attributes = attributes_json(f);
  // Encoded before the transaction: SQLite has one writer, and it should not wait for this.
  struct Chunk {
    int channel;
    int64_t first;
    int64_t samples;
    std::string data;
  };
  std::vector<Chunk> chunks;
  std::vector<int64_t> lengths;  // each channel's samples (its kept chunks move out below)
  for (size_t c = 0; c < f.channels.size(); ++c) {
    lengths.push_back(static_cast<int64_t>(f.channels[c].length()));
    int64_t at = 0;
    for (std::string& kept : f.channels[c].chunks) {  // the file's own, as they are
      const int64_t n = signal_chunk_count(kept);
      chunks.push_back({static_cast<int>(c), at, n, std::move(kept)});
      at += n;
    }
    const std::vector<float>& x = f.channels[c].samples;
    for (size_t first = 0; first < x.size(); first += kSignalChunkSamples) {
      const size_t n = std::min(kSignalChunkSamples, x.size() - first);
      chunks.push_back({static_cast<int>(c), static_cast<int64_t>(first), static_cast<int64_t>(n),
                        encode_signal_chunk(std::span<const float>(x).subspan(first, n))});
    }
  }
  auto out = store::write_returning<Record>(db_, [&](store::Session& s) -> Expected<Record> {
    auto user = auth::UserStore::get_by_username(s, f.user);
    if (user.status().code() == ErrorCode::kNotFound) {
      return failed_precondition("no user has the username " + f.user);
    }
    if (!user.ok()) return user.status();
    auto device = device_id_for(s, f.device);
    if (!device.ok()) return device.status();
    if (meta.only_device > 0 && *device != meta.only_device) {  // (a registration rolls back)
      return Status(ErrorCode::kPermissionDenied,
                    "the file is device " + f.device + "'s, not this watchdog's device's");
    }
    std::vector<Value> p{meta.sha256,
                         user->id,
                         f.user,
                         *device,
                         f.device,
                         f.dreempy_version,
                         f.start_time,
                         f.stop_time,
                         f.sleep_start_time,
                         f.sleep_stop_time,
                         f.sleep_score,
                         f.number_of_stimulations,
                         f.number_of_wake,
                         attributes,
                         store::Blob{std::string(f.hypnogram.begin(), f.hypnogram.end())},
                         stats.epochs,
                         stats.artefact_s,
                         stats.wake_s,
                         stats.n1_s,
                         stats.n2_s,
                         stats.n3_s,
                         stats.rem_s,
                         stats.asleep_s,
                         optional_double(stats.efficiency),
                         optional_int(stats.sleep_latency_s),
                         optional_int(stats.rem_latency_s),
                         meta.file_name,
                         meta.file_bytes,
                         meta.source,
                         now_rfc3339(),
                         id_or_null(meta.created_by)};
    auto id = s.query(
        "INSERT INTO records (sha256, user_id, username, device_id, device, dreempy_version, "
        "start_time, stop_time, sleep_start_time, sleep_stop_time, sleep_score, "
        "number_of_stimulations, number_of_wake, attributes, hypnogram, epochs, artefact_s, "
        "wake_s, n1_s, n2_s, n3_s, rem_s, asleep_s, efficiency, sleep_latency_s, rem_latency_s, "
        "file_name, file_bytes, source, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, "
        "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, "
        "$25, $26, $27, $28, $29, $30, $31) RETURNING id",
        p);
    if (!id.ok()) return id.status();
    const int64_t record_id = id->get_int(0, 0);
    for (size_t c = 0; c < f.channels.size(); ++c) {
      const Channel& ch = f.channels[c];
      std::vector<Value> q{record_id, static_cast<int64_t>(c), ch.modality, ch.name, ch.fs, ch.unit,
                           lengths[c]};
      VIGIL_RETURN_IF_ERROR(
          s.exec("INSERT INTO record_channels (record_id, idx, modality, name, fs, unit, samples) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                 q)
              .status());
    }
    for (Chunk& k : chunks) {
      std::vector<Value> q{record_id, int64_t{k.channel}, k.first, k.samples,
                           store::Blob{std::move(k.data)}};
      VIGIL_RETURN_IF_ERROR(
          s.exec("INSERT INTO record_chunks (record_id, channel, first_sample, samples, data) "
                 "VALUES ($1, $2, $3, $4, $5)",
                 q)
              .status());
    }
    return get_in(s, record_id, false);
  });
  if (out.status().code() == ErrorCode::kAlreadyExists) {
    auto existing = find_sha256(meta.sha256);
    if (existing.ok() && *existing) {
      return already_exists("this file is stored already, as record " + std::to_string(**existing));
    }
    return already_exists("this file is stored already");
  }
  return out;
}

Expected<std::optional<int64_t>> RecordStore::find_sha256(std::string_view sha256) {
  std::vector<Value> p{std::string(sha256)};
  auto rows = db_.query("SELECT id FROM records WHERE sha256 = $1", p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(rows->get_int(0, 0));
}

Expected<Record> RecordStore::get(int64_t id, bool with_hypnogram) {
  return store::read_returning<Record>(
      db_, [&](store::Session& s) { return get_in(s, id, with_hypnogram); });
}

Expected<std::vector<Record>> RecordStore::list(const RecordFilter& f) {
  if (f.limit < 1 || f.limit > 1000) return invalid_field("limit", "must be 1-1000");
  std::string where = " WHERE 1 = 1";
  std::vector<Value> p;
  auto add = [&](const char* clause, Value v) {
    p.push_back(std::move(v));
    where += std::string(" AND ") + clause + " $" + std::to_string(p.size());
  };
  if (f.before_id > 0) add("id <", f.before_id);
  if (f.user && is_id(*f.user)) add("user_id =", std::stoll(*f.user));
  if (f.user && !is_id(*f.user)) add("lower(username) =", name_key(*f.user));
  if (f.device) add("lower(device) =", name_key(*f.device));
  if (f.from) add("start_time >=", *f.from);
  if (f.to) add("start_time <", *f.to);
  if (f.min_score) add("sleep_score >=", *f.min_score);
  if (f.max_score) add("sleep_score <=", *f.max_score);
  p.push_back(int64_t{f.limit});
  const std::string sql = "SELECT " + columns(false) + " FROM records" + where +
                          " ORDER BY id DESC LIMIT $" + std::to_string(p.size());
  return records_with_channels(db_, sql, p, false);
}

Expected<std::vector<Record>> RecordStore::within(int64_t user_id, int64_t from, int64_t to,
                                                  int limit) {
  std::vector<Value> p{user_id, from, to, int64_t{limit}};
  return records_with_channels(db_,
                               "SELECT " + columns(true) +
                                   " FROM records WHERE user_id = $1 AND start_time >= $2 AND "
                                   "stop_time <= $3 ORDER BY start_time, id LIMIT $4",
                               p, true);
}

Expected<std::vector<float>> RecordStore::samples(int64_t record_id, int channel, int64_t first,
                                                  int64_t last) {
  return store::read_returning<std::vector<float>>(
      db_, [&](store::Session& s) -> Expected<std::vector<float>> {
        std::vector<Value> c{record_id, int64_t{channel}};
        auto info =
            s.query("SELECT samples FROM record_channels WHERE record_id = $1 AND idx = $2", c);
        if (!info.ok()) return info.status();
        if (info->empty()) {
          return not_found("record " + std::to_string(record_id) + " has no channel " +
                           std::to_string(channel));
        }
        const int64_t total = info->get_int(0, 0);
        const int64_t lo = std::clamp<int64_t>(first, 0, total);
        const int64_t hi = std::clamp<int64_t>(last, lo, total);
        std::vector<float> out;
        if (lo == hi) return out;
        // A chunk reaches into [lo, hi) when it starts before hi and ends after lo; chunks
        // are at most kMaxSignalChunkSamples long, which bounds where the first may start.
        std::vector<Value> p{record_id, int64_t{channel},
                             lo - static_cast<int64_t>(kMaxSignalChunkSamples), hi};
        auto rows = s.query(
            "SELECT first_sample, samples, data FROM record_chunks WHERE record_id = $1 AND "
            "channel = $2 AND first_sample > $3 AND first_sample < $4 ORDER BY first_sample",
            p);
        if (!rows.ok()) return rows.status();
        out.reserve(static_cast<size_t>(hi - lo));
        std::vector<float> chunk;
        for (size_t r = 0; r < rows->size(); ++r) {
          const int64_t start = rows->get_int(r, 0);
          const int64_t n = rows->get_int(r, 1);
          if (start + n <= lo) continue;
          chunk.clear();
          VIGIL_RETURN_IF_ERROR(decode_signal_chunk(rows->get_blob(r, 2), chunk));
          if (static_cast<int64_t>(chunk.size()) != n) {
            return internal_error("a chunk of record " + std::to_string(record_id) +
                                  " holds other than its count");
          }
          const int64_t from = std::max(lo, start) - start;
          const int64_t to = std::min(hi, start + n) - start;
          out.insert(out.end(), chunk.begin() + from, chunk.begin() + to);
        }
        if (static_cast<int64_t>(out.size()) != hi - lo) {
          return internal_error("record " + std::to_string(record_id) + " misses samples");
        }
        return out;
      });
}

Status RecordStore::remove(int64_t id) {
  std::vector<Value> p{id};
  auto n = db_.exec("DELETE FROM records WHERE id = $1", p);
  if (!n.ok()) return n.status();
  if (*n == 0) return not_found("no record " + std::to_string(id));
  return {};
}

}  // namespace vigil::records
