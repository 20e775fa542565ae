#include "audit/audit_log.h"

#include <gtest/gtest.h>

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

TEST_F(AuditLogTest, WritesEveryRecordAcrossFullAndPartialStatements) {
  MetricsRegistry metrics;
  AuditWriter writer(*db_, {.batch_size = 150}, metrics);
  ASSERT_TRUE(writer.start().ok());
  for (int i = 0; i < 1000; ++i) writer.submit(record(i));
  writer.flush();
  auto n =
      db_->query("SELECT COUNT(*), COUNT(DISTINCT request_id), SUM(latency_us) FROM audit_log");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->get_int(0, 0), 1000);
  EXPECT_EQ(n->get_int(0, 1), 1000);
  EXPECT_EQ(n->get_int(0, 2), 999 * 1000 / 2);
  EXPECT_NE(metrics.render().find("vigil_audit_written_total 1000"), std::string::npos);

  AuditQuery q;
  q.path_prefix = "/health";
  q.limit = 1000;
  auto page = query_audit(*db_, q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 200u);
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

}  // namespace
}  // namespace vigil::audit
