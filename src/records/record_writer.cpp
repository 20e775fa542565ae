#include "records/record_writer.h"

#include <hdf5.h>

#include <algorithm>
#include <set>
#include <utility>

#include "records/hdf5_handle.h"

namespace vigil::records {
namespace {

Status cannot(const std::string& path, const std::string& what) {
  return unavailable("cannot write " + path + ": " + what);
}

bool plain_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

// A scalar attribute of `obj`; false when libhdf5 refuses.
bool put_attribute(hid_t obj, const std::string& name, const AttributeValue& v) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (!space.ok()) return false;
  if (const auto* i = std::get_if<int64_t>(&v)) {
    Handle a(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
             H5Aclose);
    return a.ok() && H5Awrite(a.get(), H5T_NATIVE_INT64, i) >= 0;
  }
  if (const auto* d = std::get_if<double>(&v)) {
    Handle a(H5Acreate2(obj, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
             H5Aclose);
    return a.ok() && H5Awrite(a.get(), H5T_NATIVE_DOUBLE, d) >= 0;
  }
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  if (!type.ok() || H5Tset_size(type.get(), H5T_VARIABLE) < 0 ||
      H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0) {
    return false;
  }
  Handle a(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
           H5Aclose);
  const char* text = std::get<std::string>(v).c_str();
  return a.ok() && H5Awrite(a.get(), type.get(), &text) >= 0;
}

// A 1-D dataset of `n` values from `data` (of memory type `mem`), chunked and compressed when
// gzip_level > 0.
Handle put_dataset(hid_t parent, const std::string& name, hid_t file_type, hid_t mem,
                   const void* data, size_t n, int gzip_level) {
  const hsize_t dims[1] = {n};
  Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  Handle props(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (!space.ok() || !props.ok()) return Handle(-1, H5Dclose);
  if (gzip_level > 0 && n > 0) {
    const hsize_t chunk[1] = {std::min<hsize_t>(n, 64 * 1024)};
    if (H5Pset_chunk(props.get(), 1, chunk) < 0 ||
        H5Pset_deflate(props.get(), static_cast<unsigned>(std::min(gzip_level, 9))) < 0) {
      return Handle(-1, H5Dclose);
    }
  }
  Handle d(H5Dcreate2(parent, name.c_str(), file_type, space.get(), H5P_DEFAULT, props.get(),
                      H5P_DEFAULT),
           H5Dclose);
  if (d.ok() && n > 0 && H5Dwrite(d.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    return Handle(-1, H5Dclose);
  }
  return d;
}

Handle group_in(hid_t parent, const std::string& name) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0) {
    return Handle(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose);
  }
  return Handle(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
}

Status write_channels(hid_t file, const std::string& path, const RecordFile& r, int gzip_level) {
  if (r.channels.empty()) return {};
  Handle signals = group_in(file, "signals");
  if (!signals.ok()) return cannot(path, "group signals");
  for (const Channel& c : r.channels) {
    const std::string where = "signals/" + c.modality + "/" + c.name;
    Handle group = group_in(signals.get(), c.modality);
    if (!group.ok()) return cannot(path, "group signals/" + c.modality);
    Handle d = put_dataset(group.get(), c.name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, c.samples.data(),
                           c.samples.size(), gzip_level);
    if (!d.ok()) return cannot(path, where);
    if (!put_attribute(d.get(), "fs", c.fs) || !put_attribute(d.get(), "unit", c.unit)) {
      return cannot(path, where + " attributes");
    }
  }
  return {};
}

}  // namespace

Status write_record_file(const std::string& path, const RecordFile& r,
                         const RecordWriteOptions& options) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const Channel& c : r.channels) {
    if (!plain_name(c.modality) || !plain_name(c.name)) {
      return invalid_argument("channel \"" + c.modality + "/" + c.name +
                              "\": modality and name must be plain names");
    }
    if (!seen.emplace(c.modality, c.name).second) {
      return invalid_argument("channel " + c.modality + "/" + c.name + " appears twice");
    }
  }
  std::lock_guard lock(hdf5_lock());
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) return cannot(path, "the file cannot be created");
  for (const auto& [name, value] : r.attributes) {
    if (!put_attribute(file.get(), name, value)) return cannot(path, "attribute " + name);
  }
  Handle reporting = group_in(file.get(), "reporting");
  if (!reporting.ok()) return cannot(path, "group reporting");
  Handle hypnogram = put_dataset(reporting.get(), "dreemnogram", H5T_STD_I8LE, H5T_NATIVE_INT8,
                                 r.hypnogram.data(), r.hypnogram.size(), 0);
  if (!hypnogram.ok()) return cannot(path, "reporting/dreemnogram");
  VIGIL_RETURN_IF_ERROR(write_channels(file.get(), path, r, options.gzip_level));
  if (H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) return cannot(path, "flush");
  return {};
}

}  // namespace vigil::records
