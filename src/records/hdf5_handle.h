// What the records module's libhdf5 code shares (record_file.cpp, record_writer.cpp): an id that
// closes itself, and the process-wide lock every use of libhdf5 holds (the Debian build is not
// thread-safe). Internal to the module.
#pragma once

#include <hdf5.h>

#include <mutex>
#include <utility>

namespace vigil::records {

std::mutex& hdf5_lock();

// Closes an HDF5 id with its own close function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

}  // namespace vigil::records
