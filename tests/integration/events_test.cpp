// The events WebSocket end to end: a Beast client over loopback subscribes, events published
// through the app's hub arrive, a reconnect with since misses nothing, a since older than the
// ring gets a gap, owned events reach their owner and admins only, watchdogs are refused.
// SQLite only: the hub keeps events in memory and never touches the store (the store only
// signs callers in, and the identity suites cover that on both backends).
#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <optional>

#include "events/hub.h"
#include "support/test_app.h"

namespace vigil {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;
using testing::TestApp;

// One client of GET /api/v1/ws/events, signed in with a bearer token (none: anonymous).
class EventsClient {
 public:
  EventsClient(uint16_t port, const std::string& token) : ws_(ioc_) {
    ws_.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    }));
    beast::error_code ec;
    ws_.handshake(response_, "127.0.0.1", "/api/v1/ws/events", ec);
  }

  // 101 when upgraded, else the status the server refused the upgrade with.
  int status() const { return response_.result_int(); }

  void send(const json::value& message) { send_text(json::serialize(message)); }
  void send_text(const std::string& text) { ws_.write(asio::buffer(text)); }

  void subscribe(json::array topics, std::optional<uint64_t> since = std::nullopt) {
    json::object m{{"type", "subscribe"}, {"topics", std::move(topics)}};
    if (since) m["since"] = *since;
    send(m);
  }

  // The next frame; an empty object (and a failure) when none comes within 5 s.
  json::object next() {
    beast::flat_buffer buffer;
    beast::error_code ec;
    bool done = false;
    ws_.async_read(buffer, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(5s);
    if (!done) {
      beast::get_lowest_layer(ws_).socket().cancel();
      ioc_.restart();
      ioc_.run();
      ADD_FAILURE() << "no frame within 5 s";
      return {};
    }
    if (ec) {
      ADD_FAILURE() << "read: " << ec.message();
      return {};
    }
    json::value v = json::parse(beast::buffers_to_string(buffer.data()));
    return v.is_object() ? v.as_object() : json::object{};
  }

  // Frames up to the next "subscribed" (left out), which is checked against `seq`.
  std::vector<json::object> until_subscribed(uint64_t seq) {
    std::vector<json::object> frames;
    for (int i = 0; i < 100; ++i) {
      json::object f = next();
      if (f.empty()) break;
      if (f.at("type") == "subscribed") {
        EXPECT_EQ(f.at("seq").to_number<uint64_t>(), seq);
        return frames;
      }
      frames.push_back(std::move(f));
    }
    ADD_FAILURE() << "no subscribed frame";
    return frames;
  }

  void close() { ws_.close(websocket::close_code::normal); }

 private:
  asio::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
};

uint64_t seq_of(const json::object& frame) { return frame.at("seq").to_number<uint64_t>(); }

// "e<seq>" for an event, "gap:<from>-<to>" for a gap: a stream at a glance.
std::vector<std::string> summary(const std::vector<json::object>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) {
    if (f.at("type") == "gap") {
      out.push_back("gap:" + json::serialize(f.at("from")) + "-" + json::serialize(f.at("to")));
    } else {
      out.push_back(std::string(f.at("type").as_string()) + ":" + json::serialize(f.at("seq")));
    }
  }
  return out;
}

std::string ev(uint64_t seq) { return "event:" + std::to_string(seq); }

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = std::make_unique<TestApp>(settings());
    ASSERT_FALSE(HasFatalFailure());
    admin_ = app_->account("admin");
    user_ = app_->account("user");
  }
  virtual std::vector<std::pair<std::string, std::string>> settings() { return {}; }
  events::Hub& hub() { return app_->app().events(); }
  std::unique_ptr<EventsClient> connect(const std::string& token) {
    auto c = std::make_unique<EventsClient>(app_->port(), token);
    EXPECT_EQ(c->status(), 101);
    return c;
  }

  std::unique_ptr<TestApp> app_;
  std::pair<int64_t, std::string> admin_;
  std::pair<int64_t, std::string> user_;
};

TEST_F(EventsTest, ASubscriberGetsTheEventsOfItsTopicsAsTheyArePublished) {
  auto c = connect(admin_.second);
  c->subscribe({"alarms", "sensor:*"});
  EXPECT_TRUE(c->until_subscribed(hub().newest_seq()).empty());

  uint64_t a = hub().publish("alarms", {{"id", 7}, {"severity", "major"}});
  hub().publish("devices", {{"name", "cam-1"}});  // not asked for
  uint64_t s = hub().publish("sensor:Pump-1", {{"value", 1.5}});
  json::object first = c->next();
  EXPECT_EQ(first.at("type"), "event");
  EXPECT_EQ(seq_of(first), a);
  EXPECT_EQ(first.at("topic"), "alarms");
  EXPECT_TRUE(first.at("at").is_string());
  EXPECT_EQ(first.at("event"), (json::object{{"id", 7}, {"severity", "major"}}));
  json::object second = c->next();
  EXPECT_EQ(seq_of(second), s);
  EXPECT_EQ(second.at("topic"), "sensor:Pump-1");
  EXPECT_EQ(s, a + 2);

  // Subscribing again replaces the topics.
  c->subscribe({"devices"});
  EXPECT_TRUE(c->until_subscribed(s).empty());
  hub().publish("alarms", {});
  uint64_t d = hub().publish("devices", {});
  EXPECT_EQ(seq_of(c->next()), d);
}

TEST_F(EventsTest, BadMessagesGetAnErrorFrameAndTheConnectionStays) {
  auto c = connect(user_.second);
  c->subscribe({"alarms"});
  c->until_subscribed(hub().newest_seq());
  for (const std::string& bad :
       {std::string("not json"), std::string(R"({"type":"unsubscribe"})"),
        std::string(R"({"type":"subscribe","topics":["alarms","gossip"]})")}) {
    c->send_text(bad);
    json::object e = c->next();
    EXPECT_EQ(e.at("type"), "error") << bad;
    EXPECT_TRUE(e.at("ref").is_null()) << bad;
    EXPECT_TRUE(e.at("detail").is_string()) << bad;
  }
  c->send({{"type", "ping"}});
  EXPECT_EQ(c->next(), (json::object{{"type", "pong"}}));
  // The refused subscribe left the subscription as it was.
  uint64_t a = hub().publish("alarms", {});
  EXPECT_EQ(seq_of(c->next()), a);
}

TEST_F(EventsTest, TheServerAnnouncesItsStartOnTheSystemTopic) {
  auto c = connect(user_.second);
  c->subscribe({"system"}, 0);
  auto frames = c->until_subscribed(hub().newest_seq());
  ASSERT_EQ(frames.size(), 2u);
  // Seqs start from the wall clock in microseconds: what came before this run is a gap.
  EXPECT_EQ(frames[0].at("type"), "gap");
  EXPECT_EQ(frames[0].at("from"), 1);
  EXPECT_EQ(frames[0].at("to").to_number<uint64_t>() + 1, seq_of(frames[1]));
  EXPECT_EQ(frames[1].at("topic"), "system");
  EXPECT_EQ(frames[1].at("event").at("kind"), "server_started");
}

TEST_F(EventsTest, AClientThatReconnectsWithSinceMissesNothing) {
  auto c = connect(user_.second);
  c->subscribe({"devices"});
  c->until_subscribed(hub().newest_seq());
  uint64_t seen = hub().publish("devices", {{"n", 1}});
  ASSERT_EQ(seq_of(c->next()), seen);
  c->close();

  std::vector<std::string> missed;
  for (int n = 2; n <= 4; ++n) {
    missed.push_back(ev(hub().publish("devices", {{"n", n}})));
    hub().publish("alarms", {});  // not asked for
  }
  c = connect(user_.second);
  c->subscribe({"devices"}, seen);
  auto frames = c->until_subscribed(hub().newest_seq());
  EXPECT_EQ(summary(frames), missed);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2].at("event").at("n"), 4);
  uint64_t live = hub().publish("devices", {{"n", 5}});
  EXPECT_EQ(seq_of(c->next()), live);
}

TEST_F(EventsTest, UsersGetOnlyTheirOwnOwnedEventsWhileAdminsGetAll) {
  auto other = app_->account("user");
  auto mine = connect(user_.second);
  auto theirs = connect(other.second);
  auto admin = connect(admin_.second);
  for (auto* c : {mine.get(), theirs.get(), admin.get()}) {
    c->subscribe({"tasks"});
    c->until_subscribed(hub().newest_seq());
  }
  uint64_t of_other = hub().publish("tasks", {{"id", 1}}, other.first);
  uint64_t of_mine = hub().publish("tasks", {{"id", 2}}, user_.first);
  uint64_t of_all = hub().publish("tasks", {{"id", 3}});
  EXPECT_EQ(seq_of(mine->next()), of_mine);
  EXPECT_EQ(seq_of(mine->next()), of_all);
  EXPECT_EQ(seq_of(theirs->next()), of_other);
  EXPECT_EQ(seq_of(theirs->next()), of_all);
  for (uint64_t seq : {of_other, of_mine, of_all}) EXPECT_EQ(seq_of(admin->next()), seq);
  // A replay filters the same way.
  auto late = connect(user_.second);
  late->subscribe({"tasks"}, of_other - 1);
  EXPECT_EQ(summary(late->until_subscribed(of_all)), (std::vector{ev(of_mine), ev(of_all)}));
}

TEST_F(EventsTest, WatchdogsAndAnonymousCallersAreRefusedTheUpgrade) {
  EventsClient watchdog(app_->port(), app_->account("watchdog").second);
  EXPECT_EQ(watchdog.status(), 403);
  EventsClient anonymous(app_->port(), "");
  EXPECT_EQ(anonymous.status(), 401);
  EXPECT_EQ(hub().subscribers(), 0u);
}

class SmallRingEventsTest : public EventsTest {
 protected:
  std::vector<std::pair<std::string, std::string>> settings() override {
    return {{"events.keep_events", "2"}, {"events.max_events", "3"}};
  }
};

TEST_F(SmallRingEventsTest, ASinceOlderThanTheRingGetsAGapThenWhatIsKept) {
  std::vector<uint64_t> seqs;
  for (int n = 0; n < 6; ++n) seqs.push_back(hub().publish("devices", {{"n", n}}));
  EXPECT_EQ(hub().kept(), 3u);
  auto c = connect(admin_.second);
  c->subscribe({"devices"}, seqs[0]);
  auto frames = c->until_subscribed(seqs[5]);
  EXPECT_EQ(summary(frames), (std::vector<std::string>{"gap:" + std::to_string(seqs[0] + 1) + "-" +
                                                           std::to_string(seqs[2]),
                                                       ev(seqs[3]), ev(seqs[4]), ev(seqs[5])}));
  uint64_t live = hub().publish("devices", {});
  EXPECT_EQ(seq_of(c->next()), live);
}

}  // namespace
}  // namespace vigil
