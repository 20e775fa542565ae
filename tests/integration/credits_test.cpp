// Credits over HTTP (issue 16), on SQLite and PostgreSQL: admins top up and correct, callers read
// their balance and ledger, and synchronous predictions of a priced model (metadata
// price_per_row) charge price × rows on both inference APIs, or answer 402 with the balance and
// the cost and charge nothing.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "support/http_client.h"
#include "support/test_app.h"

namespace vigil {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using testing::HttpResult;

class CreditsTest : public testing::BackendAppTest {
 protected:
  void SetUp() override {
    start_app({}, "credits");
    if (IsSkipped() || HasFatalFailure()) return;
    admin_ = bearer(app_->account("admin").second);
    auto [id, token] = app_->account("user");
    user_id_ = id;
    user_ = bearer(token);
    other_ = bearer(app_->account("user").second);
  }
  HttpResult top_up(int64_t user, const json::value& body, const Headers& who) {
    return send(http::verb::post, "/api/v1/users/" + std::to_string(user) + "/credits", body, who);
  }
  json::value balance(const Headers& who) {
    auto r = client_->get("/api/v1/credits", who);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  // A linear model (one feature, identity link) of this price per row.
  void upload_model(const std::string& name, const std::string& metadata) {
    Headers h = admin_;
    h.emplace("Content-Type", "application/octet-stream");
    h.emplace("Vigil-Metadata", metadata);
    auto r = client_->request(http::verb::post, "/api/v1/models/" + name + "/versions?kind=linear",
                              R"({"weights":[2],"bias":1,"link":"identity"})", h);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  Headers admin_, user_, other_;
  int64_t user_id_ = 0;
};

TEST_P(CreditsTest, AdminsTopUpAndCorrectEveryChangeIsInTheLedger) {
  EXPECT_EQ(balance(user_),
            (json::value{{"user", user_id_}, {"balance", 0.0}, {"held", 0.0}, {"available", 0.0}}));
  auto made = top_up(user_id_, {{"amount", 10.5}, {"reason", "welcome"}}, admin_);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.json().at("amount"), 10.5);
  EXPECT_EQ(made.json().at("balance_after"), 10.5);
  EXPECT_NE(made.body.find("\"amount\":10.5,"), std::string::npos) << made.body;  // as written

  EXPECT_EQ(top_up(user_id_, {{"amount", 1}, {"reason", "mine"}}, user_).status, 403);
  EXPECT_EQ(top_up(99999, {{"amount", 1}, {"reason", "x"}}, admin_).status, 404);
  for (const json::value& bad :
       {json::value{{"amount", 0.0001}, {"reason", "x"}},
        json::value{{"amount", 0}, {"reason", "x"}}, json::value{{"amount", "5"}, {"reason", "x"}},
        json::value{{"amount", 5}}, json::value{{"amount", 5}, {"reason", "x"}, {"extra", 1}}}) {
    auto r = top_up(user_id_, bad, admin_);
    EXPECT_EQ(r.status, 422) << json::serialize(bad) << " " << r.body;
  }
  EXPECT_EQ(top_up(user_id_, {{"amount", -11}, {"reason", "too much"}}, admin_).status, 409);
  ASSERT_EQ(top_up(user_id_, {{"amount", -0.5}, {"reason", "correction"}}, admin_).status, 201);
  EXPECT_EQ(balance(user_).at("balance"), 10.0);

  auto mine = client_->get("/api/v1/credits/transactions", user_);
  ASSERT_EQ(mine.status, 200);
  ASSERT_EQ(mine.json().at("items").as_array().size(), 2u);
  EXPECT_EQ(mine.json().at("items").at(0).at("reason"), "correction");
  EXPECT_EQ(
      client_->get("/api/v1/credits/transactions?user=" + std::to_string(user_id_), other_).status,
      403);
  auto theirs =
      client_->get("/api/v1/credits/transactions?limit=1&user=" + std::to_string(user_id_), admin_);
  ASSERT_EQ(theirs.status, 200);
  EXPECT_TRUE(theirs.json().at("next_cursor").is_string());
}

TEST_P(CreditsTest, PricedPredictionsChargeRowsOrAnswer402AndChargeNothing) {
  ASSERT_NO_FATAL_FAILURE(upload_model("priced", R"({"features":["x"],"price_per_row":0.25})"));
  ASSERT_NO_FATAL_FAILURE(upload_model("free", R"({"features":["x"]})"));
  // Nothing to spend: a free model answers, a priced one is 402 with the balance and the cost.
  auto free = send(http::verb::post, "/api/v1/predict/free", {{"features", {{"x", 1}}}}, user_);
  EXPECT_EQ(free.status, 200) << free.body;
  json::object rows{{"rows", {{{"x", 1}}, {{"x", 2}}, {{"x", 3}}}}};
  auto broke = send(http::verb::post, "/api/v1/predict/priced", rows, user_);
  ASSERT_EQ(broke.status, 402) << broke.body;
  EXPECT_EQ(broke.header("content-type"), "application/problem+json");
  EXPECT_EQ(broke.json().at("cost"), 0.75);
  EXPECT_EQ(broke.json().at("balance"), 0.0);

  ASSERT_EQ(top_up(user_id_, {{"amount", 1}, {"reason", "top-up"}}, admin_).status, 201);
  auto paid = send(http::verb::post, "/api/v1/predict/priced", rows, user_);
  ASSERT_EQ(paid.status, 200) << paid.body;
  const json::value answer = paid.json();
  const auto& predictions = answer.at("predictions").as_array();
  ASSERT_EQ(predictions.size(), 3u);
  EXPECT_EQ(predictions[2].to_number<double>(), 7.0);
  EXPECT_EQ(balance(user_).at("balance"), 0.25);
  // KServe v2 charges the same way: one row is 0.25, the next is short.
  json::object infer{
      {"inputs", {{{"name", "x"}, {"shape", {1, 1}}, {"datatype", "FP32"}, {"data", {4}}}}}};
  EXPECT_EQ(send(http::verb::post, "/v2/models/priced/infer", infer, user_).status, 200);
  auto short_v2 = send(http::verb::post, "/v2/models/priced/infer", infer, user_);
  EXPECT_EQ(short_v2.status, 402) << short_v2.body;
  // A refused request (bad input) is not charged.
  ASSERT_EQ(top_up(user_id_, {{"amount", 1}, {"reason", "top-up"}}, admin_).status, 201);
  EXPECT_EQ(
      send(http::verb::post, "/api/v1/predict/priced", {{"features", {{"nope", 1}}}}, user_).status,
      422);
  EXPECT_EQ(balance(user_).at("balance"), 1.0);

  auto ledger = client_->get("/api/v1/credits/transactions", user_).json().at("items");
  ASSERT_EQ(ledger.as_array().size(), 4u);  // top-up, predict, infer, top-up
  EXPECT_EQ(ledger.at(1).at("reason"), "infer priced:1, 1 rows");
  EXPECT_EQ(ledger.at(1).at("amount"), -0.25);
  EXPECT_EQ(ledger.at(2).at("reason"), "predict priced:1, 3 rows");
  double sum = 0;
  for (const auto& e : ledger.as_array()) sum += e.at("amount").to_number<double>();
  EXPECT_DOUBLE_EQ(sum, 1.0);
}

INSTANTIATE_TEST_SUITE_P(Backends, CreditsTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil
