#include "fleet/rollout_spec.h"

#include <gtest/gtest.h>

namespace vigil::fleet {
namespace {

std::vector<std::string> fields(const ParsedRolloutSpec& p) {
  std::vector<std::string> out;
  for (const auto& [f, why] : p.errors) out.push_back(f);
  return out;
}

TEST(RolloutSpecTest, TheApiExampleParsesWithItsDefaults) {
  auto p = parse_rollout_spec(
      R"({"select":{"model":"x","version":3},"action":"update","target":{"model":"x","version":4}})");
  ASSERT_TRUE(p.spec) << (p.errors.empty() ? p.malformed : p.errors[0].second);
  EXPECT_EQ(p.spec->select.kind, RolloutSelect::Kind::kModel);
  EXPECT_EQ(p.spec->select.model, (ModelRef{"x", 3}));
  EXPECT_EQ(p.spec->target, (ModelRef{"x", 4}));
  EXPECT_EQ(p.spec->limits.canary_percent, 10);
  EXPECT_EQ(p.spec->limits.batch_size, 100);
  EXPECT_EQ(p.spec->limits.device_timeout.count(), 300);
  EXPECT_EQ(p.spec->limits.confirm.count(), 30);
  EXPECT_FALSE(p.spec->limits.auto_rollback);
  // What is stored reads back the same.
  auto again = parse_rollout_spec(rollout_spec_json(*p.spec));
  ASSERT_TRUE(again.spec);
  EXPECT_EQ(rollout_spec_json(*again.spec), rollout_spec_json(*p.spec));
}

TEST(RolloutSpecTest, EverySelectorAndAction) {
  auto d = parse_rollout_spec(R"({"select":{"devices":["a","b"]},"action":"blank"})");
  ASSERT_TRUE(d.spec);
  EXPECT_EQ(d.spec->select.devices, (std::vector<std::string>{"a", "b"}));
  auto l = parse_rollout_spec(
      R"({"select":{"labels":{"site":"north"}},"action":"rollback","auto_rollback":true,"rate_per_minute":60})");
  ASSERT_TRUE(l.spec);
  EXPECT_EQ(l.spec->select.labels.at("site"), "north");
  EXPECT_EQ(l.spec->limits.rate_per_minute, 60);
  auto all = parse_rollout_spec(R"({"select":{"all":true},"action":"blank","canary_percent":0})");
  ASSERT_TRUE(all.spec);
  EXPECT_EQ(all.spec->select.kind, RolloutSelect::Kind::kAll);
}

TEST(RolloutSpecTest, BadFieldsAreEachNamed) {
  EXPECT_FALSE(parse_rollout_spec("[1]").malformed.empty());
  EXPECT_FALSE(parse_rollout_spec("{").malformed.empty());
  auto p = parse_rollout_spec(
      R"({"select":{"all":false},"action":"explode","canary_percent":101,"confirm_s":-1,"colour":1})");
  EXPECT_FALSE(p.spec);
  EXPECT_EQ(fields(p), (std::vector<std::string>{"colour", "select.all", "action", "canary_percent",
                                                 "confirm_s"}));
  auto t = parse_rollout_spec(R"({"select":{"all":true},"action":"update"})");
  EXPECT_EQ(fields(t), (std::vector<std::string>{"target"}));
  auto extra = parse_rollout_spec(
      R"({"select":{"all":true},"action":"blank","target":{"model":"m","version":1}})");
  EXPECT_EQ(fields(extra), (std::vector<std::string>{"target"}));
  auto timing = parse_rollout_spec(
      R"({"select":{"all":true},"action":"blank","device_timeout_s":10,"confirm_s":10})");
  EXPECT_EQ(fields(timing), (std::vector<std::string>{"confirm_s"}));
  auto names = parse_rollout_spec(R"({"select":{"devices":["ok","no way"]},"action":"blank"})");
  EXPECT_EQ(fields(names), (std::vector<std::string>{"select.devices"}));
}

TEST(RolloutSpecTest, SelectionMatchesModelIgnoringCaseAndAllLabels) {
  RolloutSelect by_model{.kind = RolloutSelect::Kind::kModel, .model = {"Leak", 2}};
  EXPECT_TRUE(selects(by_model, ModelRef{"leak", 2}, {}));
  EXPECT_FALSE(selects(by_model, ModelRef{"leak", 3}, {}));
  EXPECT_FALSE(selects(by_model, std::nullopt, {}));
  RolloutSelect by_labels;
  by_labels.kind = RolloutSelect::Kind::kLabels;
  by_labels.labels = {{"a", "1"}, {"b", "2"}};
  EXPECT_TRUE(selects(by_labels, std::nullopt, {{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  EXPECT_FALSE(selects(by_labels, std::nullopt, {{"a", "1"}}));
}

}  // namespace
}  // namespace vigil::fleet
