// Sleep records over HTTP (API.md "Records"): uploads go through the parser child and the store
// as a dropped file does; every field, the hypnogram, the channels and downsampled signal
// ranges read back; bad files are refused with their reason while the server keeps serving; on
// SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "support/http_client.h"
#include "support/test_app.h"
#include "support/ws_client.h"

namespace vigil {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using testing::HttpResult;

std::string file_bytes(const std::string& name) {
  std::ifstream in(std::string(VIGIL_TEST_DATA_DIR) + "/records/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class RecordsTest : public testing::BackendAppTest {
 protected:
  void SetUp() override {
    start_app({}, "records");
    if (IsSkipped() || HasFatalFailure()) return;
    admin_ = bearer(app_->account("admin").second);
    auto [alice, alice_token] = app_->account("user");
    user_ = bearer(alice_token);
    alice_ = alice;
    set_username(alice_, "Alice");
    set_username(app_->account("user").first, "bob");
  }
  // As an admin does: PATCH /api/v1/users/{id}.
  void set_username(int64_t id, const std::string& name) {
    auto r = send(http::verb::patch, "/api/v1/users/" + std::to_string(id),
                  json::object{{"username", name}}, admin_);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  HttpResult upload(const std::string& bytes, const std::string& name, const Headers& who) {
    Headers h = who;
    h.emplace("Content-Type", "application/octet-stream");
    return client_->request(http::verb::post, "/api/v1/records?name=" + name, bytes, h);
  }
  json::value get(const std::string& path, int expect = 200) {
    auto r = client_->get(path, user_);
    EXPECT_EQ(r.status, expect) << path << ": " << r.body;
    return r.status == 200 ? json::parse(r.body) : json::value();
  }

  Headers admin_, user_;
  int64_t alice_ = 0;
};

TEST_P(RecordsTest, AnUploadedRecordIsQueryableWithEveryField) {
  using namespace std::chrono_literals;
  testing::WsClient ws(app_->port(), "/api/v1/ws/events", app_->account("user").second);
  ASSERT_TRUE(ws.ok()) << ws.error();
  ws.send(json::object{{"type", "subscribe"}, {"topics", {"system"}}});
  ASSERT_TRUE(ws.next_of_type("subscribed", 5s));
  auto r = upload(file_bytes("record_alice_night1.h5"), "alice1.h5", admin_);
  ASSERT_EQ(r.status, 201) << r.body;
  const json::object rec = json::parse(r.body).as_object();
  const int64_t id = rec.at("id").as_int64();
  EXPECT_EQ(rec.at("user"), "alice");
  EXPECT_EQ(rec.at("user_id").as_int64(), alice_);
  EXPECT_EQ(rec.at("source"), "upload");
  EXPECT_EQ(rec.at("file").at("name"), "alice1.h5");
  EXPECT_EQ(rec.at("file").at("bytes").as_int64(), 4956682);
  EXPECT_EQ(rec.at("attributes").as_object().size(), 10u);
  EXPECT_EQ(rec.at("stages").at("epochs").as_int64(), 120);
  EXPECT_TRUE(rec.at("stages").at("efficiency").is_double());
  ASSERT_GE(rec.at("channels").as_array().size(), 3u);
  EXPECT_EQ(r.header("location"), "/api/v1/records/" + std::to_string(id));
  const std::string device = std::string(rec.at("device").as_string());
  // Watchers hear of it.
  auto event = ws.next(5s);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->at("event").at("kind"), "record_stored");
  EXPECT_EQ(event->at("event").at("id").as_int64(), id);
  EXPECT_EQ(event->at("event").at("source"), "upload");

  // The device is registered, of type unknown.
  auto dev = client_->get("/api/v1/devices/" + device, admin_);
  ASSERT_EQ(dev.status, 200) << dev.body;
  EXPECT_EQ(json::parse(dev.body).at("type"), "unknown");

  // Everything reads back, as any signed-in user.
  json::value one = get("/api/v1/records/" + std::to_string(id));
  EXPECT_EQ(one.at("sleep_score"), rec.at("sleep_score"));
  EXPECT_EQ(one.at("attributes"), rec.at("attributes"));
  json::value hyp = get("/api/v1/records/" + std::to_string(id) + "/hypnogram");
  ASSERT_EQ(hyp.as_array().size(), 120u);
  EXPECT_EQ(hyp.as_array()[0].at("at"), rec.at("start_time"));
  json::value channels = get("/api/v1/records/" + std::to_string(id) + "/signals");
  ASSERT_EQ(channels.as_array().size(), rec.at("channels").as_array().size());
  const json::value& f7 = channels.as_array()[1];
  EXPECT_EQ(f7.at("name"), "F7_O1");
  EXPECT_EQ(f7.at("samples").as_int64(), 450000);

  // The whole night in 1000 points keeps the envelope; a 2 s zoom gives the samples themselves.
  json::value env = get("/api/v1/records/" + std::to_string(id) + "/signals/F7_O1?max_points=1000");
  EXPECT_EQ(env.at("points").as_int64(), 1000);
  EXPECT_EQ(env.at("step").as_int64(), 450);
  EXPECT_EQ(env.at("samples").as_int64(), 450000);
  json::value zoom =
      get("/api/v1/records/" + std::to_string(id) +
          "/signals/1?from=" + std::string(rec.at("start_time").as_string()) +
          "&to=" + std::to_string(rec.at("attributes").at("start_time").as_int64() * 1000 + 2000));
  EXPECT_EQ(zoom.at("step").as_int64(), 1);
  const int64_t fs = static_cast<int64_t>(f7.at("fs").to_number<double>());
  EXPECT_EQ(zoom.at("points").as_int64(), 2 * fs);
  // The zoomed samples lie inside the whole night's first buckets' envelope.
  const auto& lo = env.at("min").as_array();
  const auto& hi = env.at("max").as_array();
  const auto& s = zoom.at("min").as_array();
  double zmin = 1e30, zmax = -1e30;
  for (const auto& v : s) {
    zmin = std::min(zmin, v.to_number<double>());
    zmax = std::max(zmax, v.to_number<double>());
  }
  EXPECT_LE(std::min(lo[0].to_number<double>(), lo[1].to_number<double>()), zmin);
  EXPECT_GE(std::max(hi[0].to_number<double>(), hi[1].to_number<double>()), zmax);
  get("/api/v1/records/" + std::to_string(id) + "/signals/nope", 404);
  get("/api/v1/records/999999", 404);
  auto bad =
      client_->get("/api/v1/records/" + std::to_string(id) + "/signals/0?max_points=0", user_);
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(error_fields(bad), std::set<std::string>{"max_points"});

  // The original's /signal/{user}: records wholly inside the window, with hypnograms.
  const std::string start = std::string(rec.at("start_time").as_string());
  const std::string stop = std::string(rec.at("stop_time").as_string());
  json::value sig = get("/api/v1/signal/alice?from=" + start + "&to=" + stop);
  ASSERT_EQ(sig.at("records").as_array().size(), 1u);
  EXPECT_EQ(sig.at("records").as_array()[0].at("hypnogram").as_array().size(), 120u);
  json::value early =
      get("/api/v1/signal/" + std::to_string(alice_) + "?from=" + start +
          "&to=" + std::to_string(rec.at("attributes").at("stop_time").as_int64() * 1000 - 1000));
  EXPECT_TRUE(early.at("records").as_array().empty());
  get("/api/v1/signal/nobody", 404);
}

// A watchdog uploads its own device's records only; another device's file is 403 and leaves no
// trace (not stored, that device not registered).
TEST_P(RecordsTest, AWatchdogUploadsItsOwnDevicesRecordsOnly) {
  ASSERT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", "DREEM-0042"}}, admin_).status,
            201);
  auto code =
      send(http::verb::post, "/api/v1/devices/dreem-0042/enrollments", json::object{}, admin_);
  ASSERT_EQ(code.status, 201) << code.body;
  auto e = send(http::verb::post, "/api/v1/enroll",
                {{"code", code.json().at("code")}, {"watchdog", "wd-42"}}, {});
  ASSERT_EQ(e.status, 201) << e.body;
  const Headers wd = bearer(std::string(e.json().at("token").as_string()));
  auto own = upload(file_bytes("record_alice_night1.h5"), "a.h5", wd);  // device dreem-0042
  EXPECT_EQ(own.status, 201) << own.body;
  auto other = upload(file_bytes("record_bob_night1.h5"), "b.h5", wd);  // device dreem-0077
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_NE(other.body.find("device dreem-0077"), std::string::npos) << other.body;
  EXPECT_EQ(get("/api/v1/records").at("items").as_array().size(), 1u);
  EXPECT_EQ(client_->get("/api/v1/devices/dreem-0077", admin_).status, 404);
  EXPECT_EQ(upload(file_bytes("record_bob_night1.h5"), "b.h5", admin_).status, 201);
}

TEST_P(RecordsTest, ListsFilterByUserDeviceTimeAndScore) {
  ASSERT_EQ(upload(file_bytes("record_alice_night1.h5"), "a.h5", admin_).status, 201);
  auto b = upload(file_bytes("record_bob_night1.h5"), "b.h5", admin_);
  ASSERT_EQ(b.status, 201) << b.body;
  const json::value bob = json::parse(b.body);
  json::value all = get("/api/v1/records");
  ASSERT_EQ(all.at("items").as_array().size(), 2u);
  EXPECT_EQ(all.at("items").as_array()[0].at("user"), "bob");  // newest first
  EXPECT_EQ(get("/api/v1/records?user=BOB").at("items").as_array().size(), 1u);
  json::value on_device =
      get("/api/v1/records?device=" + std::string(bob.at("device").as_string()));
  ASSERT_FALSE(on_device.at("items").as_array().empty());
  for (const auto& r : on_device.at("items").as_array())
    EXPECT_EQ(r.at("device"), bob.at("device"));
  EXPECT_TRUE(get("/api/v1/records?device=no-such-device").at("items").as_array().empty());
  const double score = bob.at("sleep_score").to_number<double>();
  json::value by_score = get("/api/v1/records?min_score=" + std::to_string(score - 0.001) +
                             "&max_score=" + std::to_string(score + 0.001));
  ASSERT_GE(by_score.at("items").as_array().size(), 1u);
  EXPECT_EQ(get("/api/v1/records?from=" + std::string(bob.at("start_time").as_string()) +
                "&to=" + std::string(bob.at("stop_time").as_string()))
                .at("items")
                .as_array()[0]
                .at("id"),
            bob.at("id"));
  json::value page = get("/api/v1/records?limit=1");
  ASSERT_EQ(page.at("items").as_array().size(), 1u);
  ASSERT_TRUE(page.at("next_cursor").is_string());
  json::value next =
      get("/api/v1/records?limit=1&cursor=" + std::string(page.at("next_cursor").as_string()));
  ASSERT_EQ(next.at("items").as_array().size(), 1u);
  EXPECT_NE(next.at("items").as_array()[0].at("id"), page.at("items").as_array()[0].at("id"));
  auto bad = client_->get("/api/v1/records?from=yesterday&min_score=high", user_);
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(error_fields(bad), (std::set<std::string>{"from", "min_score"}));
}

TEST_P(RecordsTest, BadFilesAreRefusedWithTheirReasonAndTheServerKeepsServing) {
  auto not_hdf5 = upload(file_bytes("bad_not_hdf5.h5"), "x.h5", admin_);
  EXPECT_EQ(not_hdf5.status, 422);
  EXPECT_NE(not_hdf5.body.find("not an HDF5 file"), std::string::npos) << not_hdf5.body;
  auto missing = upload(file_bytes("bad_missing_attrs.h5"), "y.h5", admin_);
  EXPECT_EQ(missing.status, 422);
  EXPECT_NE(missing.body.find("attribute device is missing"), std::string::npos) << missing.body;
  auto truncated = upload(file_bytes("bad_truncated.h5"), "z.h5", admin_);
  EXPECT_EQ(truncated.status, 422);
  // libhdf5 itself crashes on this one (fuzz/seeds): the parser child dies, the server does not.
  std::ifstream crash(
      std::string(VIGIL_SOURCE_DIR) + "/fuzz/corpus/hdf5_record/libhdf5_segv_asan.h5",
      std::ios::binary);
  ASSERT_TRUE(crash);
  std::ostringstream crash_bytes;
  crash_bytes << crash.rdbuf();
  auto crashed = upload(crash_bytes.str(), "crash.h5", admin_);
  EXPECT_EQ(crashed.status, 422) << crashed.body;
  // An unknown user: refused, naming them.
  set_username(alice_, "someone-else");
  auto stranger = upload(file_bytes("record_alice_night1.h5"), "a.h5", admin_);
  EXPECT_EQ(stranger.status, 422);
  EXPECT_NE(stranger.body.find("no user has the username alice"), std::string::npos)
      << stranger.body;
  set_username(alice_, "alice");
  // A file stored twice: 409 naming the record.
  auto first = upload(file_bytes("record_alice_night1.h5"), "a.h5", admin_);
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = upload(file_bytes("record_alice_night1.h5"), "a-again.h5", admin_);
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(
      again.body.find("record " + std::to_string(json::parse(first.body).at("id").as_int64())),
      std::string::npos);
  // Who may: a user may not upload; an empty body is 422.
  EXPECT_EQ(upload(file_bytes("record_bob_night1.h5"), "b.h5", user_).status, 403);
  EXPECT_EQ(upload("", "b.h5", admin_).status, 422);
  EXPECT_EQ(client_->get("/healthz").status, 200);
  // Nothing is left behind in the upload folder.
  EXPECT_TRUE(std::filesystem::is_empty(app_->data_dir() / "tmp" / "uploads"));
}

INSTANTIATE_TEST_SUITE_P(Backends, RecordsTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil
