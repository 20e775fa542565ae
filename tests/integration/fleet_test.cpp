// The fleet over HTTP (issue 14, in progress): devices, on SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "support/http_client.h"
#include "support/test_app.h"

namespace vigil {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using testing::HttpResult;

class FleetTest : public testing::BackendAppTest {
 protected:
  void SetUp() override {
    start_app({}, "fleet");
    if (IsSkipped() || HasFatalFailure()) return;
    admin_ = bearer(app_->account("admin").second);
    user_ = bearer(app_->account("user").second);
  }
  std::vector<std::string> names(const std::string& query) {
    auto r = client_->get("/api/v1/devices" + query, user_);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const json::value page = r.json();
    if (!page.is_object()) return out;
    for (const auto& d : page.at("items").as_array()) {
      out.emplace_back(d.at("name").as_string());
    }
    return out;
  }

  Headers admin_;
  Headers user_;
};

TEST_P(FleetTest, DevicesAreRegisteredListedChangedAndDeleted) {
  auto made =
      send(http::verb::post, "/api/v1/devices",
           {{"name", "Cam-1"}, {"type", "camera"}, {"labels", {{"site", "north"}}}}, admin_);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.header("location"), "/api/v1/devices/Cam-1");
  EXPECT_EQ(made.json().at("labels").at("site"), "north");
  EXPECT_TRUE(made.json().at("model").is_null());
  EXPECT_EQ(made.json().at("online"), false);
  EXPECT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", "cam-1"}}, admin_).status, 409);
  EXPECT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", "x"}}, user_).status, 403);
  ASSERT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", "probe"}}, admin_).status, 201);

  EXPECT_EQ(names(""), (std::vector<std::string>{"Cam-1", "probe"}));
  EXPECT_EQ(names("?type=camera"), (std::vector<std::string>{"Cam-1"}));
  EXPECT_EQ(names("?label=site:north"), (std::vector<std::string>{"Cam-1"}));
  EXPECT_EQ(names("?type=unknown"), (std::vector<std::string>{"probe"}));
  const json::value page = client_->get("/api/v1/devices?limit=1", user_).json();
  ASSERT_TRUE(page.is_object() && page.at("next_cursor").is_string());
  std::string cursor(page.at("next_cursor").as_string());
  EXPECT_EQ(names("?limit=1&cursor=" + cursor), (std::vector<std::string>{"probe"}));

  auto changed = send(http::verb::patch, "/api/v1/devices/CAM-1",
                      {{"labels", {{"site", "south"}, {"floor", "2"}}}}, admin_);
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.json().at("labels").as_object().size(), 2u);
  EXPECT_EQ(client_->get("/api/v1/devices/cam-1", user_).json().at("type"), "camera");
  EXPECT_EQ(client_->request(http::verb::delete_, "/api/v1/devices/cam-1", "", admin_).status, 204);
  EXPECT_EQ(client_->get("/api/v1/devices/cam-1", user_).status, 404);
}

TEST_P(FleetTest, BadDevicesAreRefusedNamingTheField) {
  for (const json::value& body :
       {json::value{{"name", "bad name"}}, json::value{{"name", "ok"}, {"type", "Big Cam"}},
        json::value{{"name", "ok"}, {"labels", {{"k", 1}}}},
        json::value{{"name", "ok"}, {"colour", "red"}}}) {
    auto r = send(http::verb::post, "/api/v1/devices", body, admin_);
    EXPECT_EQ(r.status, 422) << json::serialize(body) << " " << r.body;
    EXPECT_TRUE(r.json().as_object().contains("errors")) << r.body;
  }
  auto r = client_->get("/api/v1/devices?label=nocolon", user_);
  EXPECT_EQ(r.status, 422) << r.body;
}

// Assigning a model: the version must be stored; the one it replaces becomes previous_model.
TEST_P(FleetTest, AssigningAStoredModelKeepsThePreviousOne) {
  ASSERT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", "d1"}}, admin_).status, 201);
  auto put = [&](const std::string& device, const json::value& body) {
    return send(http::verb::put, "/api/v1/devices/" + device + "/model", body, admin_);
  };
  auto blank = put("d1", {{"model", "BLANK"}, {"version", 1}});
  ASSERT_EQ(blank.status, 200) << blank.body;
  EXPECT_EQ(blank.json().at("model").at("name"), "blank");  // as the registry stores it
  EXPECT_EQ(put("d1", {{"model", "blank"}, {"version", 2}}).status, 404);
  EXPECT_EQ(put("d1", {{"model", "nope"}, {"version", 1}}).status, 404);
  EXPECT_EQ(put("nope", {{"model", "blank"}, {"version", 1}}).status, 404);
  EXPECT_EQ(put("d1", {{"model", "blank"}}).status, 422);
  EXPECT_EQ(names("?model=blank&version=1"), (std::vector<std::string>{"d1"}));
  EXPECT_EQ(
      send(http::verb::put, "/api/v1/devices/d1/model", {{"model", "blank"}, {"version", 1}}, user_)
          .status,
      403);
}

// An admin makes a code; an agent redeems it once, anonymously, for a watchdog token; the
// token reads the signing key but not the device list; deleting the watchdog ends the token.
TEST_P(FleetTest, EnrollmentCodesBecomeWatchdogTokens) {
  ASSERT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", "d1"}}, admin_).status, 201);
  auto code = send(http::verb::post, "/api/v1/devices/D1/enrollments", json::object{}, admin_);
  ASSERT_EQ(code.status, 201) << code.body;
  std::string c(code.json().at("code").as_string());
  EXPECT_EQ(c.size(), 16u);
  EXPECT_EQ(
      send(http::verb::post, "/api/v1/devices/nope/enrollments", json::object{}, admin_).status,
      404);
  EXPECT_EQ(send(http::verb::post, "/api/v1/devices/d1/enrollments", json::object{}, user_).status,
            403);

  auto enrolled = send(http::verb::post, "/api/v1/enroll", {{"code", c}, {"watchdog", "wd-1"}}, {});
  ASSERT_EQ(enrolled.status, 201) << enrolled.body;
  const json::value e = enrolled.json();
  EXPECT_EQ(e.at("device"), "d1");
  EXPECT_EQ(e.at("watchdog"), "wd-1");
  Headers watchdog = bearer(std::string(e.at("token").as_string()));
  auto key = client_->get("/api/v1/fleet/signing-key", watchdog);
  ASSERT_EQ(key.status, 200) << key.body;
  EXPECT_EQ(key.json().at("algorithm"), "ed25519");
  EXPECT_EQ(key.json().at("public_key"), e.at("signing_key"));
  EXPECT_EQ(client_->get("/api/v1/devices", watchdog).status, 403);
  EXPECT_EQ(
      send(http::verb::post, "/api/v1/enroll", {{"code", c}, {"watchdog", "wd-2"}}, {}).status,
      401);

  auto listed = client_->get("/api/v1/watchdogs?device=d1", user_);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.json().at("items").as_array().size(), 1u);
  EXPECT_EQ(client_->request(http::verb::delete_, "/api/v1/watchdogs/WD-1", "", admin_).status,
            204);
  EXPECT_EQ(client_->get("/api/v1/fleet/signing-key", watchdog).status, 401);
}

TEST_P(FleetTest, SeventeenStoresForOneDeviceGiveVersionsOneToSeventeen) {
  ASSERT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", "Cam-7"}}, admin_).status, 201);
  Headers upload = admin_;
  upload.emplace("Content-Type", "application/octet-stream");
  for (int i = 1; i <= 17; ++i) {
    auto r = client_->request(http::verb::post, "/api/v1/devices/cam-7/models?kind=linear",
                              R"({"weights":[)" + std::to_string(i) + R"(],"bias":0})", upload);
    ASSERT_EQ(r.status, 201) << r.body;
    const json::value v = r.json();
    EXPECT_EQ(v.at("model"), "Cam-7");
    EXPECT_EQ(v.at("version"), i);
    EXPECT_EQ(v.at("device").at("model").at("version"), i);
    EXPECT_EQ(r.header("location"), "/api/v1/models/Cam-7/versions/" + std::to_string(i));
  }
  auto d = client_->get("/api/v1/devices/Cam-7", user_).json();
  EXPECT_EQ(d.at("model"), (json::value{{"name", "Cam-7"}, {"version", 17}}));
  EXPECT_EQ(d.at("previous_model"), (json::value{{"name", "Cam-7"}, {"version", 16}}));
  // The assigned version is in use; an older one is not.
  auto in_use =
      client_->request(http::verb::delete_, "/api/v1/models/Cam-7/versions/17", {}, admin_);
  EXPECT_EQ(in_use.status, 409) << in_use.body;
  EXPECT_NE(in_use.body.find("Cam-7"), std::string::npos);
  EXPECT_EQ(
      client_->request(http::verb::delete_, "/api/v1/models/Cam-7/versions/3", {}, admin_).status,
      204);
  // ?model= stores under another model; unknown devices, bad files and callers are refused.
  auto other =
      client_->request(http::verb::post, "/api/v1/devices/cam-7/models?model=shared&kind=linear",
                       R"({"weights":[1],"bias":0})", upload);
  ASSERT_EQ(other.status, 201) << other.body;
  EXPECT_EQ(other.json().at("model"), "shared");
  EXPECT_EQ(client_
                ->request(http::verb::post, "/api/v1/devices/nope/models?kind=linear",
                          R"({"weights":[1],"bias":0})", upload)
                .status,
            404);
  EXPECT_EQ(client_->get("/api/v1/models/nope", admin_).status, 404);  // nothing stored
  EXPECT_EQ(
      client_->request(http::verb::post, "/api/v1/devices/cam-7/models", "junk", upload).status,
      422);
  Headers user_upload = user_;
  user_upload.emplace("Content-Type", "application/octet-stream");
  EXPECT_EQ(client_
                ->request(http::verb::post, "/api/v1/devices/cam-7/models?kind=linear",
                          R"({"weights":[1],"bias":0})", user_upload)
                .status,
            403);
  EXPECT_EQ(send(http::verb::put, "/api/v1/devices/Cam-7/model",
                 {{"model", "Cam-7"}, {"version", 18}}, admin_)
                .status,
            404);
}

INSTANTIATE_TEST_SUITE_P(Backends, FleetTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil
