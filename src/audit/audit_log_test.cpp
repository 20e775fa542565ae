#include "audit/audit_log.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/ids.h"
#include "support/temp_db.h"

namespace vigil::audit {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sqlite_.ok()); }
  static AuditRecord record(int i) {
    AuditRecord r;
    r.at = std::chrono::system_clock::now();
    r.request_id = "req-" + std::to_string(i);
    r.user_id = i % 3 == 0 ? 0 : 1;
    r.user_email = r.user_id ? "admin@localhost" : "";
    r.method = i % 2 ? "GET" : "POST";
    r.path = i % 5 ? "/api/v1/auth/me" : "/healthz";
    r.status = i % 7 ? 200 : 401;
    r.latency_us = i;
    r.ip = "127.0.0.1";
    return r;
  }
  vigil::testing::MigratedSqlite sqlite_;
  store::Database* db_ = sqlite_.db();
};

// Every record of every page, newest first, following the cursor.
std::vector<AuditRecord> read_all(store::Database& db, AuditQuery q) {
  std::vector<AuditRecord> all;
  while (true) {
    auto page = query_audit(db, q);
    EXPECT_TRUE(page.ok()) << page.status().to_string();
    if (!page.ok()) return all;
    for (auto& r : page->items) all.push_back(std::move(r));
    if (!page->next_before) return all;
    q.before_id = page->next_before;
  }
}

TEST_F(AuditLogTest, WritesEveryRecordAndReadsThemBackNewestFirst) {
  MetricsRegistry metrics;
  AuditWriter writer(*db_, {.batch_size = 150}, metrics);
  ASSERT_TRUE(writer.start().ok());
  for (int i = 0; i < 1000; ++i) writer.submit(record(i));
  writer.flush();
  auto n = db_->query("SELECT SUM(count) FROM audit_segments");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->get_int(0, 0), 1000);
  EXPECT_NE(metrics.render().find("vigil_audit_written_total 1000"), std::string::npos);

  AuditQuery q;
  q.limit = 64;
  auto all = read_all(*db_, q);
  ASSERT_EQ(all.size(), 1000u);
  int64_t latency_sum = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].request_id, "req-" + std::to_string(999 - i));  // newest first
    if (i) {
      EXPECT_LT(all[i].id, all[i - 1].id);
    }
    latency_sum += all[i].latency_us;
  }
  EXPECT_EQ(latency_sum, 999 * 1000 / 2);
  const AuditRecord& r7 = all[999 - 7];  // record(7): GET /api/v1/auth/me 401 as user 1
  EXPECT_EQ(r7.method, "GET");
  EXPECT_EQ(r7.path, "/api/v1/auth/me");
  EXPECT_EQ(r7.status, 401);
  EXPECT_EQ(r7.user_id, 1);
  EXPECT_EQ(r7.user_email, "admin@localhost");
  EXPECT_EQ(r7.ip, "127.0.0.1");

  q = {};
  q.path_prefix = "/health";
  q.limit = 1000;
  auto page = query_audit(*db_, q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 200u);
  EXPECT_FALSE(page->next_before.has_value());
  q = {};
  q.status = 401;
  q.method = "GET";
  q.limit = 10;
  page = query_audit(*db_, q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 10u);
  EXPECT_TRUE(page->next_before.has_value());
  for (const auto& r : page->items) {
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.method, "GET");
  }
  q.limit = 1000;
  EXPECT_EQ(read_all(*db_, q).size(), 71u);  // odd i with i % 7 == 0, i < 1000
  q = {};
  q.user_email = "ADMIN@localhost";  // case-insensitive
  q.limit = 1000;
  EXPECT_EQ(read_all(*db_, q).size(), 666u);
  q = {};
  q.user_id = 1;
  q.limit = 1000;
  EXPECT_EQ(read_all(*db_, q).size(), 666u);
}

TEST_F(AuditLogTest, SegmentsAreWrittenAsColumnsAndReadInBothFormats) {
  MetricsRegistry metrics;
  AuditWriter writer(*db_, {}, metrics);
  ASSERT_TRUE(writer.start().ok());
  std::vector<AuditRecord> sent;
  for (int i = 0; i < 40; ++i) {
    sent.push_back(record(i));
    sent.back().bytes_in = 1000 + i;
    sent.back().bytes_out = 2000 + i;
    if (i == 3) sent.back().user_email = "other\"@x";  // same id, another email: its own entry
    if (i == 5) sent.back().ip = "::1";
  }
  for (const auto& r : sent) writer.submit(r);
  writer.flush();
  auto rows = db_->query("SELECT format, records FROM audit_segments");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->get_int(0, 0), kSegmentFormat);
  const std::string columns = rows->get_text(0, 1);
  // Each distinct value once: the path of 40 records is stored twice, not 40 times.
  size_t paths = 0;
  for (size_t at = columns.find("/api/v1/auth/me"); at != std::string::npos;
       at = columns.find("/api/v1/auth/me", at + 1)) {
    ++paths;
  }
  EXPECT_EQ(paths, 1u) << columns;
  std::string objects = "[";
  for (const auto& r : sent) objects += audit_record_json(r) + ",";
  objects.back() = ']';
  auto from_columns = decode_segment(columns);
  auto from_objects = decode_segment(objects);
  ASSERT_TRUE(from_columns.has_value()) << columns;
  ASSERT_TRUE(from_objects.has_value());
  ASSERT_EQ(from_columns->size(), sent.size());
  ASSERT_EQ(from_objects->size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    for (const auto* got : {&(*from_columns)[i], &(*from_objects)[i]}) {
      EXPECT_EQ(audit_record_json(*got), audit_record_json(sent[i]));
    }
    EXPECT_EQ((*from_columns)[i].at, std::chrono::floor<std::chrono::microseconds>(sent[i].at));
  }
}

TEST(AuditRecordJson, ExactBytesAndTheWorstCaseOfEscaping) {
  AuditRecord r;
  r.id = 65537;
  r.at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795428930123));
  r.request_id = "0123456789abcde";
  r.user_id = 7;
  r.user_email = "a\"b@c";
  r.method = "GET";
  r.path = "/x\ty";
  r.status = 200;
  r.latency_us = -1;
  r.bytes_in = std::numeric_limits<int64_t>::min();
  r.bytes_out = std::numeric_limits<int64_t>::max();
  r.ip = "::1";
  EXPECT_EQ(audit_record_json(r),
            "{\"id\":65537,\"at\":\"2026-11-23T10:15:30.123Z\",\"request_id\":\"0123456789abcde\","
            "\"user\":{\"id\":7,\"email\":\"a\\\"b@c\"},\"method\":\"GET\",\"path\":\"/x\\ty\","
            "\"status\":200,\"latency_us\":-1,\"bytes_in\":-9223372036854775808,"
            "\"bytes_out\":9223372036854775807,\"ip\":\"::1\"}");
  r.user_id = 0;
  r.id = 0;
  EXPECT_NE(audit_record_json(r).find(",\"user\":null,"), std::string::npos);
  // Every byte a control character: each becomes six (\u00XX), in the line and in the columns.
  std::string controls;
  for (int i = 0; i < 2048; ++i) controls += static_cast<char>(1 + i % 31);
  r.path = r.request_id = r.ip = r.method = controls;
  r.user_id = 3;
  r.user_email = controls;
  std::string line = audit_record_json(r);
  EXPECT_EQ(audit_record_from_json(boost::json::parse(line).as_object()).path, controls);
  std::string columns;
  append_segment_columns(columns, {&r, &r});
  auto back = decode_segment(columns);
  ASSERT_TRUE(back.has_value()) << columns.substr(0, 200);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ(audit_record_json((*back)[1]), line);
  // No records: every column an empty array.
  columns.clear();
  append_segment_columns(columns, {});
  EXPECT_EQ(columns,
            "{\"v\":2,\"t0\":0,\"at\":[],\"rid\":[],\"u\":[],\"users\":[],\"m\":[],\"methods\":[],"
            "\"p\":[],\"paths\":[],\"s\":[],\"lat\":[],\"in\":[],\"out\":[],\"ip\":[],\"ips\":[]}");
}

TEST_F(AuditLogTest, ASegmentWithBrokenColumnsIsNotRead) {
  std::vector<AuditRecord> rs = {record(1), record(2)};
  std::vector<const AuditRecord*> ptrs = {&rs[0], &rs[1]};
  std::string good;
  append_segment_columns(good, ptrs);
  ASSERT_TRUE(decode_segment(good).has_value());
  auto broken = [&](std::string_view from, std::string_view to) {
    std::string text = good;
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return decode_segment(text);
  };
  EXPECT_FALSE(broken("\"p\":[0,0]", "\"p\":[0,1]").has_value());      // no such path
  EXPECT_FALSE(broken("\"p\":[0,0]", "\"p\":[0,-1]").has_value());     // negative index
  EXPECT_FALSE(broken("\"s\":[200,200]", "\"s\":[200]").has_value());  // a short column
  EXPECT_FALSE(broken("\"s\":[200,200]", "\"s\":[200,\"x\"]").has_value());
  EXPECT_FALSE(broken("\"u\":[1,1]", "\"u\":[1,2]").has_value());  // no second user
  EXPECT_FALSE(broken("\"t0\":", "\"t1\":").has_value());
  std::string empty;
  append_segment_columns(empty, {});
  auto none = decode_segment(empty);
  ASSERT_TRUE(none.has_value()) << empty;
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(decode_segment("[1,2]").has_value());
  EXPECT_FALSE(decode_segment("\"x\"").has_value());
  EXPECT_FALSE(decode_segment("{\"v\":2").has_value());
  // A broken segment is skipped by queries; the others stay readable.
  ASSERT_TRUE(db_->exec("INSERT INTO audit_segments (first_at, last_at, count, format, records) "
                        "VALUES (0, 0, 2, 2, $1)",
                        {store::Value(std::string("{\"v\":2}"))})
                  .ok());
  ASSERT_TRUE(db_->exec("INSERT INTO audit_segments (first_at, last_at, count, format, records) "
                        "VALUES (0, 0, 2, 2, $1)",
                        {store::Value(good)})
                  .ok());
  ASSERT_TRUE(db_->exec("INSERT INTO audit_segments (first_at, last_at, count, format, records) "
                        "VALUES (0, 0, 2, 2, $1)",
                        {store::Value(std::string("{\"v\":2}"))})
                  .ok());
  EXPECT_EQ(read_all(*db_, {}).size(), 2u);
}

TEST_F(AuditLogTest, ABatchLargerThanASegmentIsSplit) {
  MetricsRegistry metrics;
  AuditWriter writer(*db_, {.batch_size = 20000}, metrics);
  ASSERT_TRUE(writer.start().ok());
  const int n = static_cast<int>(kSegmentRecords) + 100;
  for (int i = 0; i < n; ++i) writer.submit(record(i));
  writer.flush();
  auto rows = db_->query("SELECT count FROM audit_segments ORDER BY id");
  ASSERT_TRUE(rows.ok());
  int64_t total = 0;
  for (size_t i = 0; i < rows->size(); ++i) {
    EXPECT_LE(rows->get_int(i, 0), static_cast<int64_t>(kSegmentRecords));
    total += rows->get_int(i, 0);
  }
  EXPECT_GE(rows->size(), 2u);
  EXPECT_EQ(total, n);
  AuditQuery q;
  q.limit = 1000;
  auto all = read_all(*db_, q);
  ASSERT_EQ(all.size(), static_cast<size_t>(n));
  EXPECT_EQ(all.front().request_id, "req-" + std::to_string(n - 1));
  EXPECT_EQ(all.back().request_id, "req-0");
}

TEST_F(AuditLogTest, AQueryStopsAfterMaxScannedAndGoesOnFromThere) {
  MetricsRegistry metrics;
  AuditWriter writer(*db_, {}, metrics);
  ASSERT_TRUE(writer.start().ok());
  for (int i = 0; i < 500; ++i) writer.submit(record(i));
  writer.flush();
  AuditQuery q;
  q.status = 401;  // every 7th record
  q.limit = 1000;
  q.max_scanned = 100;
  auto page = query_audit(*db_, q);
  ASSERT_TRUE(page.ok());
  EXPECT_LE(page->items.size(), 15u);  // what 100 records held
  ASSERT_TRUE(page->next_before.has_value());
  auto all = read_all(*db_, q);  // five calls of 100 records, one more to find the end
  EXPECT_EQ(all.size(), 72u);    // i % 7 == 0, i < 500
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i].id, all[i - 1].id);
}

TEST_F(AuditLogTest, ASegmentThatIsNotJsonIsSkipped) {
  MetricsRegistry metrics;
  AuditWriter writer(*db_, {}, metrics);
  ASSERT_TRUE(writer.start().ok());
  writer.submit(record(1));
  writer.flush();
  ASSERT_TRUE(db_->exec("INSERT INTO audit_segments (first_at, last_at, count, records) "
                        "VALUES (0, 0, 1, 'not json')")
                  .ok());
  writer.submit(record(2));
  writer.flush();
  auto all = read_all(*db_, {});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].request_id, "req-2");
  EXPECT_EQ(all[1].request_id, "req-1");
}

TEST_F(AuditLogTest, TimeRangeKeepsSinceAndDropsUntil) {
  MetricsRegistry metrics;
  AuditWriter writer(*db_, {}, metrics);
  ASSERT_TRUE(writer.start().ok());
  auto t0 = *parse_timestamp("2026-11-23T10:00:00Z");
  for (int i = 0; i < 10; ++i) {
    AuditRecord r = record(i);
    r.at = t0 + std::chrono::milliseconds(1500 * i) + std::chrono::microseconds(7);
    writer.submit(r);
  }
  writer.flush();
  AuditQuery q;
  q.since = t0 + std::chrono::milliseconds(3000);  // record 2 (+7 µs) onwards
  q.until = t0 + std::chrono::milliseconds(7500);  // record 5 is at 7.500007 s: out
  auto page = query_audit(*db_, q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].request_id, "req-4");  // newest first
  EXPECT_EQ(page->items[2].request_id, "req-2");
  // Stored to the microsecond, shown to the millisecond.
  EXPECT_EQ(page->items[2].at, q.since.value() + std::chrono::microseconds(7));
  EXPECT_NE(audit_record_json(page->items[2]).find("\"at\":\"2026-11-23T10:00:03.000Z\""),
            std::string::npos);
  q.since = t0 + std::chrono::hours(1);
  q.until.reset();
  page = query_audit(*db_, q);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->items.empty());
}

TEST_F(AuditLogTest, LikeWildcardsInThePrefixAreLiteral) {
  MetricsRegistry metrics;
  AuditWriter writer(*db_, {}, metrics);
  ASSERT_TRUE(writer.start().ok());
  AuditRecord a = record(1);
  a.path = "/a_b/c";
  AuditRecord b = record(2);
  b.path = "/axb/c";
  writer.submit(a);
  writer.submit(b);
  writer.flush();
  AuditQuery q;
  q.path_prefix = "/a_b";
  auto page = query_audit(*db_, q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].path, "/a_b/c");
}

TEST_F(AuditLogTest, AFullQueueDropsAndCountsInsteadOfBlocking) {
  MetricsRegistry metrics;
  AuditWriter writer(*db_, {.queue_capacity = 16}, metrics);  // not started: nothing drains
  for (int i = 0; i < 40; ++i) writer.submit(record(i));
  EXPECT_NE(metrics.render().find("vigil_audit_dropped_total 24"), std::string::npos);
}

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_F(AuditLogTest, AccessLogHasOneJsonLinePerRecord) {
  auto dir = vigil::testing::make_temp_dir();
  MetricsRegistry metrics;
  AuditOptions o;
  o.store = false;
  std::chrono::system_clock::time_point t0;
  o.access_log_file = (dir / "logs" / "access.log").string();
  {
    AuditWriter writer(*db_, o, metrics);
    ASSERT_TRUE(writer.start().ok());
    // 300 records 7 ms apart: most share their second with the one before, some do not.
    t0 = *parse_timestamp("2026-11-23T23:59:59.500Z");
    for (int i = 0; i < 300; ++i) {
      AuditRecord r = record(i);
      r.at = t0 + std::chrono::milliseconds(7 * i) + std::chrono::microseconds(999);
      if (i == 7) r.path = "/quote\"and\\back\nslash";
      writer.submit(std::move(r));
    }
    writer.flush();
  }
  auto lines = read_lines(dir / "logs" / "access.log");
  ASSERT_EQ(lines.size(), 300u);
  for (size_t i = 0; i < lines.size(); ++i) {
    boost::system::error_code ec;
    auto v = boost::json::parse(lines[i], ec);
    ASSERT_FALSE(ec) << lines[i];
    const auto& o2 = v.as_object();
    EXPECT_EQ(o2.at("request_id").as_string(), "req-" + std::to_string(i));
    EXPECT_EQ(o2.at("latency_us").as_int64(), static_cast<int64_t>(i));
    EXPECT_EQ(o2.at("at").as_string(),
              format_rfc3339(t0 + std::chrono::milliseconds(7 * static_cast<int>(i))));
    if (i % 3 == 0) {
      EXPECT_TRUE(o2.at("user").is_null());
    } else {
      EXPECT_EQ(o2.at("user").at("email").as_string(), "admin@localhost");
    }
  }
  EXPECT_EQ(boost::json::parse(lines[7]).at("path").as_string(), "/quote\"and\\back\nslash");
  std::filesystem::remove_all(dir);
}

TEST(RotatingFileTest, RotatesBySizeAndKeepsAtMostMaxFiles) {
  auto dir = vigil::testing::make_temp_dir();
  auto path = (dir / "a.log").string();
  RotatingFile f(path, 100, 2);
  ASSERT_TRUE(f.open().ok());
  std::string line(39, 'x');
  line += '\n';  // 40 bytes: two fit in 100, the third rotates
  for (int i = 0; i < 7; ++i) {
    line[0] = static_cast<char>('0' + i);
    ASSERT_TRUE(f.append(line).ok());
  }
  // 0 1 | 2 3 | 4 5 | 6  →  a.log = 6, a.log.1 = 4 5, a.log.2 = 2 3, 0 1 deleted
  auto cur = read_lines(path), one = read_lines(path + ".1"), two = read_lines(path + ".2");
  ASSERT_EQ(cur.size(), 1u);
  EXPECT_EQ(cur[0][0], '6');
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0][0], '4');
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0][0], '2');
  EXPECT_FALSE(std::filesystem::exists(path + ".3"));

  // Reopening appends and counts what is already there.
  RotatingFile again(path, 100, 2);
  ASSERT_TRUE(again.open().ok());
  ASSERT_TRUE(again.append(line).ok());
  ASSERT_TRUE(again.append(line).ok());  // 120 > 100: rotated
  EXPECT_EQ(read_lines(path).size(), 1u);
  EXPECT_EQ(read_lines(path + ".1").size(), 2u);
  std::filesystem::remove_all(dir);
}

TEST(RotatingFileTest, AnUnwritablePathIsAnError) {
  RotatingFile f("/proc/vigil-no-such-dir/a.log", 100, 2);
  EXPECT_FALSE(f.open().ok());
}

}  // namespace
}  // namespace vigil::audit
