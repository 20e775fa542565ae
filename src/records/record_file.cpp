#include "records/record_file.h"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "records/hdf5_handle.h"
#include "records/signal_codec.h"

namespace vigil::records {

std::mutex& hdf5_lock() {
  static std::mutex mu;
  return mu;
}

namespace {

Status bad(std::string why) { return invalid_field("file", std::move(why)); }

// A scalar attribute of `obj` (an int, a float or a string); nullopt when it is something else
// (an array, a compound).
Expected<std::optional<AttributeValue>> read_attribute(hid_t obj, const std::string& name,
                                                       const RecordLimits& limits) {
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!a.ok()) return bad("attribute " + name + " cannot be read");
  Handle type(H5Aget_type(a.get()), H5Tclose);
  Handle space(H5Aget_space(a.get()), H5Sclose);
  if (!type.ok() || !space.ok()) return bad("attribute " + name + " cannot be read");
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return std::optional<AttributeValue>();
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER: {
      int64_t v = 0;
      if (H5Aread(a.get(), H5T_NATIVE_INT64, &v) < 0)
        return bad("attribute " + name + " unreadable");
      return std::optional<AttributeValue>(v);
    }
    case H5T_FLOAT: {
      double v = 0;
      if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0)
        return bad("attribute " + name + " unreadable");
      return std::optional<AttributeValue>(v);
    }
    case H5T_STRING: {
      if (H5Tis_variable_str(type.get()) > 0) {
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.get(), H5T_VARIABLE);
        H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
        char* text = nullptr;
        if (H5Aread(a.get(), mem.get(), &text) < 0 || !text) {
          return bad("attribute " + name + " unreadable");
        }
        std::string s(text);
        H5free_memory(text);
        if (s.size() > limits.max_text) return bad("attribute " + name + " is too long");
        return std::optional<AttributeValue>(std::move(s));
      }
      const size_t size = H5Tget_size(type.get());
      if (size == 0 || size > limits.max_text) return bad("attribute " + name + " is too long");
      std::string s(size, '\0');
      Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(mem.get(), size);
      H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
      if (H5Aread(a.get(), mem.get(), s.data()) < 0)
        return bad("attribute " + name + " unreadable");
      s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
      return std::optional<AttributeValue>(std::move(s));
    }
    default: return std::optional<AttributeValue>();
  }
}

struct NameList {
  std::vector<std::string> names;
  size_t max = 0;
  bool too_many = false;
};

herr_t collect_attribute(hid_t, const char* name, const H5A_info_t*, void* data) {
  auto* list = static_cast<NameList*>(data);
  if (list->names.size() >= list->max) {
    list->too_many = true;
    return 1;  // stop
  }
  list->names.emplace_back(name);
  return 0;
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  auto* list = static_cast<NameList*>(data);
  if (list->names.size() >= list->max) {
    list->too_many = true;
    return 1;
  }
  list->names.emplace_back(name);
  return 0;
}

Expected<std::vector<std::string>> links_of(hid_t group, size_t max, const std::string& what) {
  NameList list{{}, max, false};
  hsize_t index = 0;
  if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect_link, &list) < 0) {
    return bad(what + " cannot be listed");
  }
  if (list.too_many) {
    return Status(ErrorCode::kResourceExhausted,
                  what + " holds more than " + std::to_string(max) + " entries");
  }
  return list.names;
}

// A 1-D dataset's length, checked against `max`.
Expected<size_t> length_of(hid_t dataset, const std::string& path, size_t max) {
  Handle space(H5Dget_space(dataset), H5Sclose);
  if (!space.ok()) return bad(path + " cannot be read");
  if (H5Sget_simple_extent_ndims(space.get()) != 1) return bad(path + " is not one-dimensional");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  if (n > max) {
    return Status(ErrorCode::kResourceExhausted, path + " holds " + std::to_string(n) +
                                                     " values, more than " + std::to_string(max));
  }
  return static_cast<size_t>(n);
}

template <typename T>
Expected<T> required(const RecordFile& r, const std::string& name) {
  auto it = r.attributes.find(name);
  if (it == r.attributes.end()) return bad("attribute " + name + " is missing");
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto* s = std::get_if<std::string>(&it->second)) return *s;
    return bad("attribute " + name + " must be text");
  } else if constexpr (std::is_same_v<T, double>) {
    if (auto* d = std::get_if<double>(&it->second)) return *d;
    if (auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
    return bad("attribute " + name + " must be a number");
  } else {
    if (auto* i = std::get_if<int64_t>(&it->second)) return *i;
    if (auto* d = std::get_if<double>(&it->second);
        d && std::isfinite(*d) && *d == std::floor(*d) && std::abs(*d) < 9e15) {
      return static_cast<int64_t>(*d);
    }
    return bad("attribute " + name + " must be an integer");
  }
}

}  // namespace

Status take_required(RecordFile& r) {
  auto text = [&](const char* name, std::string& out) -> Status {
    auto v = required<std::string>(r, name);
    if (!v.ok()) return v.status();
    if (v->empty()) return bad("attribute " + std::string(name) + " is empty");
    out = std::move(*v);
    return {};
  };
  auto integer = [&](const char* name, int64_t& out) -> Status {
    auto v = required<int64_t>(r, name);
    if (!v.ok()) return v.status();
    out = *v;
    return {};
  };
  VIGIL_RETURN_IF_ERROR(text("user", r.user));
  VIGIL_RETURN_IF_ERROR(text("device", r.device));
  VIGIL_RETURN_IF_ERROR(text("dreempy_version", r.dreempy_version));
  VIGIL_RETURN_IF_ERROR(integer("start_time", r.start_time));
  VIGIL_RETURN_IF_ERROR(integer("stop_time", r.stop_time));
  VIGIL_RETURN_IF_ERROR(integer("sleep_start_time", r.sleep_start_time));
  VIGIL_RETURN_IF_ERROR(integer("sleep_stop_time", r.sleep_stop_time));
  VIGIL_RETURN_IF_ERROR(integer("number_of_stimulations", r.number_of_stimulations));
  VIGIL_RETURN_IF_ERROR(integer("number_of_wake", r.number_of_wake));
  auto score = required<double>(r, "sleep_score");
  if (!score.ok()) return score.status();
  if (!std::isfinite(*score)) return bad("attribute sleep_score must be a finite number");
  r.sleep_score = *score;
  if (r.stop_time < r.start_time) return bad("stop_time is before start_time");
  if (r.sleep_stop_time < r.sleep_start_time)
    return bad("sleep_stop_time is before sleep_start_time");
  return {};
}

namespace {

Status read_hypnogram(hid_t file, RecordFile& r, const RecordLimits& limits) {
  const char* path = "reporting/dreemnogram";
  if (H5Lexists(file, "reporting", H5P_DEFAULT) <= 0 || H5Lexists(file, path, H5P_DEFAULT) <= 0) {
    return bad("dataset reporting/dreemnogram (the hypnogram) is missing");
  }
  Handle d(H5Dopen2(file, path, H5P_DEFAULT), H5Dclose);
  if (!d.ok()) return bad("reporting/dreemnogram is not a dataset");
  auto n = length_of(d.get(), path, limits.max_epochs);
  if (!n.ok()) return n.status();
  std::vector<int64_t> stages(*n);
  if (*n > 0 &&
      H5Dread(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, stages.data()) < 0) {
    return bad("reporting/dreemnogram cannot be read");
  }
  r.hypnogram.reserve(*n);
  for (size_t i = 0; i < stages.size(); ++i) {
    if (stages[i] < -1 || stages[i] > 4) {
      return bad("reporting/dreemnogram epoch " + std::to_string(i) + " has stage " +
                 std::to_string(stages[i]) + " (stages are -1 to 4)");
    }
    r.hypnogram.push_back(static_cast<int8_t>(stages[i]));
  }
  return {};
}

// The dataset's own chunks as stored chunks, when they are float32 LE in 1-D chunks of at most
// kMaxSignalChunkSamples with HDF5's deflate filter alone, each present and applied; false when
// they are not (the caller reads the samples instead).
Expected<bool> keep_file_chunks(hid_t d, size_t n, const std::string& path, Channel& c) {
  Handle plist(H5Dget_create_plist(d), H5Pclose);
  if (n == 0 || !plist.ok() || H5Pget_layout(plist.get()) != H5D_CHUNKED) return false;
  hsize_t dim = 0;
  if (H5Pget_chunk(plist.get(), 1, &dim) != 1 || dim == 0 || dim > kMaxSignalChunkSamples ||
      H5Pget_nfilters(plist.get()) != 1) {
    return false;
  }
  unsigned flags = 0;
  size_t values = 0;
  if (H5Pget_filter2(plist.get(), 0, &flags, &values, nullptr, 0, nullptr, nullptr) !=
      H5Z_FILTER_DEFLATE) {
    return false;
  }
  Handle type(H5Dget_type(d), H5Tclose);
  if (!type.ok() || H5Tequal(type.get(), H5T_IEEE_F32LE) <= 0) return false;
  const hsize_t most = dim * sizeof(float) * 2 + 4096;  // deflate never grows data that much
  std::vector<std::string> chunks;
  std::string raw;
  for (hsize_t first = 0; first < n; first += dim) {
    hsize_t stored = 0;
    // An unallocated chunk (fill values) has no bytes to keep.
    if (H5Dget_chunk_storage_size(d, &first, &stored) < 0 || stored == 0) return false;
    if (stored > most) return bad(path + " cannot be read (damaged or truncated)");
    raw.resize(stored);
    uint32_t skipped = 0;
    if (H5Dread_chunk(d, H5P_DEFAULT, &first, &skipped, raw.data()) < 0) {
      return bad(path + " cannot be read (damaged or truncated)");
    }
    if (skipped != 0) return false;  // stored without its filter
    auto kept = keep_zlib_chunk(raw, static_cast<uint32_t>(std::min<hsize_t>(dim, n - first)),
                                static_cast<uint32_t>(dim));
    if (!kept.ok()) return bad(path + " cannot be read (damaged or truncated)");
    chunks.push_back(std::move(*kept));
  }
  c.chunks = std::move(chunks);
  return true;
}

Status read_signals(hid_t file, RecordFile& r, const RecordLimits& limits, bool keep_chunks) {
  if (H5Lexists(file, "signals", H5P_DEFAULT) <= 0) return {};  // a record without signals
  Handle signals(H5Gopen2(file, "signals", H5P_DEFAULT), H5Gclose);
  if (!signals.ok()) return bad("signals is not a group");
  auto modalities = links_of(signals.get(), limits.max_channels, "signals");
  if (!modalities.ok()) return modalities.status();
  size_t samples = 0;
  for (const std::string& modality : *modalities) {
    Handle group(H5Gopen2(signals.get(), modality.c_str(), H5P_DEFAULT), H5Gclose);
    if (!group.ok()) return bad("signals/" + modality + " is not a group");
    auto channels = links_of(group.get(), limits.max_channels, "signals/" + modality);
    if (!channels.ok()) return channels.status();
    for (const std::string& name : *channels) {
      const std::string path = "signals/" + modality + "/" + name;
      if (r.channels.size() >= limits.max_channels) {
        return Status(ErrorCode::kResourceExhausted,
                      "more than " + std::to_string(limits.max_channels) + " channels");
      }
      Handle d(H5Dopen2(group.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
      if (!d.ok()) return bad(path + " is not a dataset");
      Channel c{modality, name, 0, "", {}};
      auto fs = read_attribute(d.get(), "fs", limits);
      if (H5Aexists(d.get(), "fs") <= 0) return bad(path + " has no fs");
      if (!fs.ok()) return fs.status();
      if (!*fs || std::holds_alternative<std::string>(**fs)) return bad(path + ": fs is no number");
      c.fs = std::holds_alternative<double>(**fs) ? std::get<double>(**fs)
                                                  : static_cast<double>(std::get<int64_t>(**fs));
      if (!(c.fs > 0) || c.fs > 1e6) return bad(path + ": fs must be above 0 (at most 1 MHz)");
      if (H5Aexists(d.get(), "unit") > 0) {
        auto unit = read_attribute(d.get(), "unit", limits);
        if (!unit.ok()) return unit.status();
        if (*unit && std::holds_alternative<std::string>(**unit))
          c.unit = std::get<std::string>(**unit);
      }
      auto n = length_of(d.get(), path, limits.max_samples - samples);
      if (!n.ok()) return n.status();
      samples += *n;
      if (keep_chunks) {
        auto kept = keep_file_chunks(d.get(), *n, path, c);
        if (!kept.ok()) return kept.status();
        if (*kept) {
          r.channels.push_back(std::move(c));
          continue;
        }
      }
      c.samples.resize(*n);
      if (*n > 0 &&
          H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.samples.data()) < 0) {
        return bad(path + " cannot be read (damaged or truncated)");
      }
      r.channels.push_back(std::move(c));
    }
  }
  return {};
}

}  // namespace

size_t Channel::length() const {
  if (chunks.empty()) return samples.size();
  size_t n = 0;
  for (const std::string& k : chunks) n += signal_chunk_count(k);
  return n;
}

Expected<RecordFile> read_record_file(const std::string& path, const RecordLimits& limits,
                                      bool keep_chunks) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return not_found("no file " + path);
  std::lock_guard lock(hdf5_lock());
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors come back as statuses, not on stderr
  if (H5Fis_hdf5(path.c_str()) <= 0) return bad("not an HDF5 file");
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) return bad("the HDF5 file cannot be opened (truncated or damaged)");
  RecordFile r;
  NameList names{{}, limits.max_attributes, false};
  hsize_t index = 0;
  if (H5Aiterate2(file.get(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &names) < 0) {
    return bad("the root attributes cannot be read");
  }
  if (names.too_many) {
    return Status(ErrorCode::kResourceExhausted,
                  "more than " + std::to_string(limits.max_attributes) + " root attributes");
  }
  for (const std::string& name : names.names) {
    auto v = read_attribute(file.get(), name, limits);
    if (!v.ok()) return v.status();
    if (*v) r.attributes.emplace(name, std::move(**v));
  }
  VIGIL_RETURN_IF_ERROR(take_required(r));
  VIGIL_RETURN_IF_ERROR(read_hypnogram(file.get(), r, limits));
  VIGIL_RETURN_IF_ERROR(read_signals(file.get(), r, limits, keep_chunks));
  return r;
}

}  // namespace vigil::records
