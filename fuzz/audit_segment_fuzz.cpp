// Outside input, of a kind: an audit_segments.records value read back from the database, which
// a restored backup or a hand-edited row can fill with anything. Whatever it is, decoding must
// not crash, and records that decode must survive being written as columns and read again.
#include <cstdint>
#include <string_view>

#include "audit/audit_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto records = vigil::audit::decode_segment(in);
  if (!records || records->empty()) return 0;
  std::vector<const vigil::audit::AuditRecord*> pointers;
  for (const auto& r : *records) pointers.push_back(&r);
  std::string columns;
  vigil::audit::append_segment_columns(columns, pointers);
  auto again = vigil::audit::decode_segment(columns);
  if (!again || again->size() != records->size()) __builtin_trap();
  for (size_t i = 0; i < records->size(); ++i) {
    const auto& a = (*records)[i];
    const auto& b = (*again)[i];
    if (a.request_id != b.request_id || a.user_id != b.user_id || a.method != b.method ||
        a.path != b.path || a.status != b.status || a.latency_us != b.latency_us || a.ip != b.ip) {
      __builtin_trap();
    }
  }
  return 0;
}
