// /api/v1/records and /api/v1/signal/{user} (API.md "Records"; docs/http/records.md): upload a
// sleep-record file (the collector's path: records::RecordService), list records with filters,
// one record, its hypnogram, its channels, a channel's samples downsampled to their min/max
// envelope, and a user's records inside a window with their hypnograms.
#pragma once

#include <cstdint>
#include <string>

#include "core/blocking_pool.h"
#include "fleet/watchdogs.h"
#include "net/router.h"
#include "records/record_service.h"

namespace vigil::api {

struct RecordDeps {
  records::RecordService* records = nullptr;
  fleet::WatchdogService* watchdogs = nullptr;  // a watchdog uploads its own device's records
  BlockingPool* blocking = nullptr;
  std::string upload_dir;  // where an uploaded body is written for the parser (made at start)
  int64_t max_upload_bytes = 256 << 20;
};

void add_record_routes(net::Router& router, RecordDeps deps);

}  // namespace vigil::api
