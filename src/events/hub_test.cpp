#include "events/hub.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "core/metrics.h"

namespace vigil::events {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// 2026-01-02T03:04:05Z
const Clock::time_point kStart = Clock::time_point(std::chrono::seconds(1767323045));

struct FakeClock {
  Clock::time_point now = kStart;
  std::function<Clock::time_point()> source() {
    return [this] { return now; };
  }
};

TopicSet topics(std::initializer_list<std::string_view> list) {
  TopicSet set;
  for (auto t : list) EXPECT_TRUE(set.add(t)) << t;
  return set;
}

// What one subscription received, frame by frame.
struct Inbox {
  std::vector<std::string> frames;
  std::function<void(const std::string&)> deliver() {
    return [this](const std::string& f) { frames.push_back(f); };
  }
  json::object at(size_t i) const { return json::parse(frames.at(i)).as_object(); }
  // "e<seq>" per event, "gap:<from>-<to>" per gap: the stream at a glance.
  std::vector<std::string> summary() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < frames.size(); ++i) {
      auto f = at(i);
      if (f.at("type") == "gap") {
        out.push_back("gap:" + json::serialize(f.at("from")) + "-" + json::serialize(f.at("to")));
      } else {
        out.push_back("e" + json::serialize(f.at("seq")));
      }
    }
    return out;
  }
};

std::unique_ptr<Subscription> subscribe(Hub& hub, Inbox& inbox, TopicSet t,
                                        std::optional<uint64_t> since = std::nullopt,
                                        Reader reader = {1, "admin"}) {
  return hub.subscribe({.topics = std::move(t),
                        .reader = std::move(reader),
                        .since = since,
                        .deliver = inbox.deliver()});
}

using Strings = std::vector<std::string>;

// The seq of an event frame, without parsing the whole frame.
uint64_t seq_of(const std::string& frame) {
  constexpr std::string_view kHead = R"({"type":"event","seq":)";
  EXPECT_TRUE(frame.starts_with(kHead)) << frame;
  return std::stoull(frame.substr(kHead.size(), 24));
}

TEST(HubTest, EventsAreNumberedByOneAndFramedWithTopicTimeAndEvent) {
  FakeClock clock;
  Hub hub({.first_seq = 41, .now = clock.source()});
  EXPECT_EQ(hub.newest_seq(), 40u);
  Inbox inbox;
  auto sub = subscribe(hub, inbox, topics({"alarms", "system"}));
  EXPECT_EQ(hub.publish("alarms", {{"id", 3}, {"severity", "major"}}), 41u);
  clock.now += 1500ms;
  EXPECT_EQ(hub.publish("system", {{"kind", "server_started"}}), 42u);
  EXPECT_EQ(hub.newest_seq(), 42u);

  ASSERT_EQ(inbox.frames.size(), 2u);
  EXPECT_EQ(inbox.at(0), (json::object{{"type", "event"},
                                       {"seq", 41},
                                       {"topic", "alarms"},
                                       {"at", "2026-01-02T03:04:05.000Z"},
                                       {"event", {{"id", 3}, {"severity", "major"}}}}));
  EXPECT_EQ(inbox.at(1).at("at"), "2026-01-02T03:04:06.500Z");
  EXPECT_EQ(inbox.at(1).at("seq"), 42);
}

TEST(HubTest, EveryMatchingSubscriberGetsTheOneSerialisedFrame) {
  Hub hub;
  std::vector<const std::string*> seen;
  auto deliver = [&](const std::string& f) { seen.push_back(&f); };
  auto a =
      hub.subscribe({.topics = topics({"devices"}), .reader = {1, "admin"}, .deliver = deliver});
  auto b =
      hub.subscribe({.topics = topics({"devices"}), .reader = {2, "user"}, .deliver = deliver});
  hub.publish("devices", {{"name", "cam-1"}});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], seen[1]);  // the same string, not a copy made per subscriber
}

TEST(HubTest, TopicsAreKnownOnesAndSensorNamesIgnoringCase) {
  EXPECT_EQ(topic_key("alarms"), "alarms");
  EXPECT_EQ(topic_key("sensor:Pump-1.a_b"), "sensor:pump-1.a_b");
  EXPECT_EQ(topic_key("sensor:*"), "sensor:*");
  for (std::string_view bad : {"", "alarm", "Alarms", "sensor", "sensor:", "sensor:a b",
                               "sensor:**", "sensor:p*", "sensors:x", "system "}) {
    EXPECT_FALSE(topic_key(bad)) << bad;
    TopicSet set;
    EXPECT_FALSE(set.add(bad)) << bad;
    EXPECT_EQ(set.size(), 0u);
  }
  EXPECT_FALSE(topic_key("sensor:" + std::string(65, 'a')));
  EXPECT_TRUE(topic_key("sensor:" + std::string(64, 'a')));

  Hub hub;
  Inbox one, all;
  auto a = subscribe(hub, one, topics({"sensor:PUMP-1"}));
  auto b = subscribe(hub, all, topics({"sensor:*"}));
  hub.publish("sensor:pump-1", {{"v", 1}});
  hub.publish("sensor:pump-2", {{"v", 2}});
  hub.publish("alarms", {{"v", 3}});
  EXPECT_EQ(one.summary(), (Strings{"e1"}));
  EXPECT_EQ(one.at(0).at("topic"), "sensor:pump-1");  // as published
  EXPECT_EQ(all.summary(), (Strings{"e1", "e2"}));
}

TEST(HubTest, OwnedEventsGoToTheirOwnerAndAdminsOnly) {
  Hub hub;
  Inbox admin, owner, other, watchdog;
  auto a = subscribe(hub, admin, topics({"tasks"}), std::nullopt, {1, "admin"});
  auto b = subscribe(hub, owner, topics({"tasks"}), std::nullopt, {7, "user"});
  auto c = subscribe(hub, other, topics({"tasks"}), std::nullopt, {8, "user"});
  auto d = subscribe(hub, watchdog, topics({"tasks"}), std::nullopt, {9, "watchdog"});
  hub.publish("tasks", {{"id", 1}}, 7);
  hub.publish("tasks", {{"id", 2}});
  EXPECT_EQ(admin.summary(), (Strings{"e1", "e2"}));
  EXPECT_EQ(owner.summary(), (Strings{"e1", "e2"}));
  EXPECT_EQ(other.summary(), (Strings{"e2"}));
  EXPECT_TRUE(watchdog.frames.empty());

  // The replay filters the same way.
  Inbox late;
  auto e = subscribe(hub, late, topics({"tasks"}), 0, {8, "user"});
  EXPECT_EQ(late.summary(), (Strings{"e2"}));
  EXPECT_FALSE(may_read({0, ""}, std::nullopt));
}

TEST(HubTest, ASubscriptionFromSinceGetsWhatItMissedInOrderThenLiveEvents) {
  Hub hub;
  for (int i = 0; i < 5; ++i) hub.publish(i % 2 ? "devices" : "alarms", {{"i", i}});
  Inbox inbox;
  auto sub = subscribe(hub, inbox, topics({"alarms", "devices"}), 2);
  EXPECT_EQ(inbox.summary(), (Strings{"e3", "e4", "e5"}));
  EXPECT_EQ(sub->start_seq(), 5u);
  hub.publish("alarms", {});
  EXPECT_EQ(inbox.summary(), (Strings{"e3", "e4", "e5", "e6"}));

  Inbox current, live_only, alarms_only;
  auto b = subscribe(hub, current, topics({"alarms"}), 6);
  auto c = subscribe(hub, live_only, topics({"alarms"}));
  auto d = subscribe(hub, alarms_only, topics({"alarms"}), 0);
  EXPECT_TRUE(current.frames.empty());
  EXPECT_TRUE(live_only.frames.empty());
  EXPECT_EQ(alarms_only.summary(), (Strings{"e1", "e3", "e5", "e6"}));
}

TEST(HubTest, TheRingKeepsTheNewestCountOrTheLastHourWhicheverIsMore) {
  FakeClock clock;
  Hub hub({.keep_events = 3, .keep_for = 1h, .max_events = 100, .now = clock.source()});
  for (int i = 0; i < 8; ++i) hub.publish("system", {});
  clock.now += 30min;
  hub.publish("system", {});  // 9
  EXPECT_EQ(hub.kept(), 9u);  // all younger than an hour
  clock.now += 90min;
  hub.publish("system", {});  // 10: 1-9 are older than an hour; the newest 3 stay
  EXPECT_EQ(hub.kept(), 3u);
  Inbox inbox;
  auto sub = subscribe(hub, inbox, topics({"system"}), 0);
  EXPECT_EQ(inbox.summary(), (Strings{"gap:1-7", "e8", "e9", "e10"}));

  for (int i = 0; i < 5; ++i) hub.publish("system", {});  // 11-15, young
  clock.now += 1s;
  hub.publish("system", {});  // 16: 8 and 9 go (old); 10-16 are younger than an hour
  EXPECT_EQ(hub.kept(), 7u);
}

TEST(HubTest, ABurstBeyondTheCapDropsTheOldestEarlyAndTheReplayReportsTheGap) {
  FakeClock clock;
  Hub hub({.keep_events = 3, .keep_for = 1h, .max_events = 5, .now = clock.source()});
  for (int i = 0; i < 10; ++i) hub.publish("devices", {{"i", i}});
  EXPECT_EQ(hub.kept(), 5u);
  Inbox inbox;
  auto sub = subscribe(hub, inbox, topics({"devices"}), 2);
  EXPECT_EQ(inbox.summary(), (Strings{"gap:3-5", "e6", "e7", "e8", "e9", "e10"}));
  Inbox none_missing;
  auto b = subscribe(hub, none_missing, topics({"devices"}), 5);
  EXPECT_EQ(none_missing.summary(), (Strings{"e6", "e7", "e8", "e9", "e10"}));
}

TEST(HubTest, AllEventsDroppedGiveAGapAlone) {
  Hub hub({.keep_events = 1, .max_events = 1});
  for (int i = 0; i < 4; ++i) hub.publish("alarms", {});
  Inbox inbox;
  auto sub = subscribe(hub, inbox, topics({"devices"}), 1);  // 4 is kept, but not a device
  EXPECT_EQ(inbox.summary(), (Strings{"gap:2-3"}));
}

TEST(HubTest, AReplayLargerThanItsBudgetSendsTheNewestAndAGapForTheRest) {
  Hub hub;
  for (int i = 0; i < 10; ++i) hub.publish("alarms", {{"pad", std::string(100, 'x')}});
  hub.publish("devices", {});  // 11: not wanted, so not counted
  Inbox probe;
  auto p = subscribe(hub, probe, topics({"alarms"}), 9);
  size_t frame = probe.frames.at(0).size();
  Inbox inbox;
  auto sub = hub.subscribe({.topics = topics({"alarms"}),
                            .reader = {1, "admin"},
                            .since = 2,
                            .max_replay_bytes = frame * 3 + frame / 2,
                            .deliver = inbox.deliver()});
  EXPECT_EQ(inbox.summary(), (Strings{"gap:3-7", "e8", "e9", "e10"}));
}

TEST(HubTest, ASinceFromAnEarlierRunGetsAGapThenEverythingKept) {
  Hub hub({.first_seq = 1000});
  Inbox empty;
  auto e = subscribe(hub, empty, topics({"system"}), 5000);
  EXPECT_TRUE(empty.frames.empty());  // nothing issued here yet: nothing to report
  for (int i = 0; i < 3; ++i) hub.publish("system", {});
  Inbox earlier, ahead;
  auto a = subscribe(hub, earlier, topics({"system"}), 5);
  EXPECT_EQ(earlier.summary(), (Strings{"gap:6-999", "e1000", "e1001", "e1002"}));
  // A since above anything issued here (another node's, a clock that stepped back).
  auto b = subscribe(hub, ahead, topics({"system"}), 5000);
  EXPECT_EQ(ahead.summary(), (Strings{"gap:1000-1002"}));
  hub.publish("system", {});
  EXPECT_EQ(ahead.summary(), (Strings{"gap:1000-1002", "e1003"}));
}

TEST(HubTest, UnsubscribedCallbacksAreNotCalledAndCountsFollow) {
  MetricsRegistry metrics;
  auto hub = std::make_unique<Hub>(HubOptions{}, &metrics);
  Inbox a, b;
  auto sa = subscribe(*hub, a, topics({"alarms"}));
  auto sb = subscribe(*hub, b, topics({"alarms"}));
  EXPECT_EQ(hub->subscribers(), 2u);
  EXPECT_NE(metrics.render().find("vigil_events_subscribers 2"), std::string::npos);
  hub->publish("alarms", {});
  sa.reset();
  hub->publish("alarms", {});
  EXPECT_EQ(a.summary(), (Strings{"e1"}));
  EXPECT_EQ(b.summary(), (Strings{"e1", "e2"}));
  EXPECT_EQ(hub->subscribers(), 1u);
  std::string text = metrics.render();
  EXPECT_NE(text.find("vigil_events_published_total 2"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_events_subscribers 1"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_events_kept 2"), std::string::npos) << text;
  hub.reset();
  sb.reset();  // outliving the hub is fine
}

TEST(HubTest, SetTopicsReplacesWhatArrivesFromTheNextEvent) {
  Hub hub;
  Inbox inbox;
  auto sub = subscribe(hub, inbox, topics({"alarms"}));
  hub.publish("alarms", {});
  hub.publish("devices", {});
  EXPECT_EQ(sub->set_topics(topics({"devices", "sensor:*"})), 2u);
  hub.publish("alarms", {});
  hub.publish("devices", {});
  hub.publish("sensor:x", {});
  EXPECT_EQ(inbox.summary(), (Strings{"e1", "e4", "e5"}));
}

// Publishers on several threads while subscribers join with a since: each subscriber sees
// every event after its since exactly once and in order, whichever side of the join it was
// published on.
TEST(HubTest, NothingIsLostOrRepeatedBetweenReplayAndLiveWithConcurrentPublishers) {
  constexpr int kThreads = 4;
  constexpr size_t kRing = size_t{1} << 22;
  Hub hub({.keep_events = kRing, .max_events = kRing});
  std::atomic<bool> stop{false};
  std::vector<std::thread> publishers;
  for (int t = 0; t < kThreads; ++t) {
    publishers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        hub.publish(t % 2 ? "alarms" : "sensor:s" + std::to_string(t), {{"i", i}});
      }
    });
  }
  struct Joiner {
    uint64_t since = 0;
    std::vector<uint64_t> seqs;  // written under the hub's lock, read after the publishers end
    std::unique_ptr<Subscription> sub;
  };
  std::vector<Joiner> joiners(40);
  while (hub.newest_seq() < 100) std::this_thread::yield();
  for (size_t j = 0; j < joiners.size(); ++j) {
    auto& joiner = joiners[j];
    uint64_t newest = hub.newest_seq();
    joiner.since = newest - std::min<uint64_t>(newest, j * 7);
    joiner.sub = hub.subscribe(
        {.topics = topics({"alarms", "sensor:*"}),
         .reader = {1, "admin"},
         .since = joiner.since,
         .deliver = [&joiner](const std::string& f) { joiner.seqs.push_back(seq_of(f)); }});
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  hub.publish("alarms", {});  // at least one event after the last join
  stop = true;
  for (auto& p : publishers) p.join();
  uint64_t total = hub.newest_seq();
  ASSERT_LT(total, kRing) << "the test assumes the ring kept everything";
  for (const auto& joiner : joiners) {
    ASSERT_GT(joiner.since, 0u);
    ASSERT_EQ(joiner.seqs.size(), total - joiner.since) << "since " << joiner.since;
    for (size_t i = 0; i < joiner.seqs.size(); ++i) {
      ASSERT_EQ(joiner.seqs[i], joiner.since + 1 + i) << "since " << joiner.since;
    }
  }
}

TEST(HubTest, ABroadcastSampleGoesToLiveReadersOnlyAndIsNeitherNumberedNorKept) {
  FakeClock clock;
  Hub hub({.now = clock.source()});
  hub.publish("alarms", {{"n", 1}});
  EXPECT_FALSE(hub.has_subscribers("sensor:gas-1"));
  EXPECT_EQ(hub.broadcast("sensor:gas-1", {{"kind", "points"}}), 0u) << "no reader: not even built";

  Inbox one, all, other, watchdog;
  auto s1 = subscribe(hub, one, topics({"sensor:GAS-1"}));
  auto s2 = subscribe(hub, all, topics({"sensor:*"}));
  auto s3 = subscribe(hub, other, topics({"sensor:gas-2", "alarms"}));
  auto s4 = subscribe(hub, watchdog, topics({"sensor:gas-1"}), std::nullopt, {7, "watchdog"});
  EXPECT_TRUE(hub.has_subscribers("sensor:gas-1"));
  EXPECT_EQ(hub.broadcast("sensor:gas-1", {{"kind", "points"}}), 2u);
  ASSERT_EQ(one.frames.size(), 1u);
  EXPECT_EQ(one.frames, all.frames);
  EXPECT_TRUE(other.frames.empty());
  EXPECT_TRUE(watchdog.frames.empty()) << "may_read still decides";
  auto f = one.at(0);
  EXPECT_EQ(f.at("seq"), 1) << "the newest event's seq: a sample takes none of its own";
  EXPECT_EQ(f.at("topic"), "sensor:gas-1");
  EXPECT_EQ(f.at("event").at("kind"), "points");
  EXPECT_EQ(hub.newest_seq(), 1u);
  EXPECT_EQ(hub.kept(), 1u);

  Inbox late;
  auto s5 = subscribe(hub, late, topics({"sensor:gas-1"}), 0);
  EXPECT_EQ(late.summary(), Strings{}) << "samples are never replayed";
}

}  // namespace
}  // namespace vigil::events
