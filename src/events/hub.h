// Hub: the node's events. Code that changes something (alarms, devices, rollouts, tasks,
// sensors, the server itself) publishes an event on a topic; the hub numbers it (seq grows by
// one per event on this hub), serialises its frame once, keeps it in a ring for clients that
// reconnect, and hands the frame to every subscription whose topics and reader match.
//
// Topics: "alarms", "devices", "rollouts", "tasks", "system" and "sensor:<name>" (a sensor's
// name, compared ignoring case as names are); a subscription may also ask for "sensor:*" (every
// sensor). Who reads what: an event published with an owner is read by that user and admins
// only; one without by every admin and user; other roles (watchdog) read none.
//
// The ring keeps an event while it is one of the newest `keep_events` OR younger than
// `keep_for`, and never more than `max_events` (a burst beyond that drops the oldest early:
// a client that missed those gets a gap). Frames are ~150 bytes plus the event's JSON, so the
// default cap is some tens of MB at most.
//
// Frames (../shared/docs/API.md, "WebSocket: events"):
//   {"type":"event","seq":N,"topic":"alarms","at":"<RFC 3339>","event":{…}}
//   {"type":"gap","from":A,"to":B}   events A..B may have been missed and cannot be replayed
//
// Thread safety: every method may be called from any thread. Delivery runs on the publisher's
// (or, for a replay, the subscriber's) thread, under the hub's lock, so each subscription sees
// its frames one at a time and in seq order; a deliver callback must only enqueue (never
// block, never call back into the hub). Nothing here does I/O or throws on bad input.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace vigil {
class MetricsRegistry;
}

namespace vigil::events {

using Clock = std::chrono::system_clock;

// The key a topic is matched by ("sensor:" + the name in lower case; "sensor:*" stays), or
// nullopt when the text is no topic.
std::optional<std::string> topic_key(std::string_view topic);

// The topics a subscription wants, by key.
class TopicSet {
 public:
  // Adds a topic; false (nothing added) when topic_key() does not know it.
  bool add(std::string_view topic);
  bool matches(std::string_view key) const;
  size_t size() const { return keys_.size(); }

 private:
  std::set<std::string, std::less<>> keys_;
  bool all_sensors_ = false;
};

// Who is reading: decides which events a subscription gets.
struct Reader {
  int64_t user_id = 0;
  std::string role;  // "admin" | "user" | anything else reads nothing
};
bool may_read(const Reader& reader, std::optional<int64_t> owner_user_id);

struct HubOptions {
  size_t keep_events = 10000;  // at least 1
  std::chrono::seconds keep_for{3600};
  size_t max_events = 100000;  // raised to keep_events when below
  // The seq of the first event. The app starts from the wall clock in microseconds, so that a
  // later run's seqs are above an earlier run's and a client's old `since` gets a gap.
  uint64_t first_seq = 1;
  std::function<Clock::time_point()> now = [] { return Clock::now(); };
};

struct SubscribeOptions {
  TopicSet topics;
  Reader reader;
  // Replay first: the kept events with seq > since (a gap frame in front when some of them
  // are gone), then live ones. A since above every seq this hub issued (another node's, or a
  // run with a clock ahead) gets a gap over all of them and live events only.
  std::optional<uint64_t> since;
  // At most this many bytes of replayed frames; older matching events beyond it become part of
  // the gap (a WebSocket closes a reader whose queue passes 4 MiB).
  size_t max_replay_bytes = size_t{2} << 20;
  // Gets every frame for this subscription, the replay synchronously inside subscribe().
  std::function<void(const std::string& frame)> deliver;
};

class Hub;

// A live subscription; destroying it unsubscribes. Once the destructor returns, deliver is not
// called again. Must not be destroyed or changed from inside its own deliver callback. May
// outlive the hub (it then does nothing).
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Replaces the topics atomically: no event on a topic in both sets is lost or repeated.
  // Returns the newest seq at the change.
  uint64_t set_topics(TopicSet topics);
  // The newest seq when the subscription began: replay covered up to it, live starts above.
  uint64_t start_seq() const { return start_seq_; }

 private:
  friend class Hub;
  struct State;
  Subscription(std::shared_ptr<State> state, uint64_t id, uint64_t start_seq)
      : state_(std::move(state)), id_(id), start_seq_(start_seq) {}
  std::shared_ptr<State> state_;
  uint64_t id_;
  uint64_t start_seq_;
};

class Hub {
 public:
  // Metrics (when given): vigil_events_published_total, vigil_events_subscribers,
  // vigil_events_kept.
  explicit Hub(HubOptions options = {}, MetricsRegistry* metrics = nullptr);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Thread-safe, never blocks on I/O; returns the event's seq.
  // owner_user_id: when set, only that user and admins may read the event (e.g. a user's task);
  // otherwise every admin and user may.
  // The topic must be a concrete one (not "sensor:*"); another is a bug (asserts).
  uint64_t publish(std::string_view topic, boost::json::object event,
                   std::optional<int64_t> owner_user_id = std::nullopt);

  // A sample, not an event (a sensor's new points): delivered at once to the subscriptions
  // that want it, in the same frame as publish() makes, but neither numbered nor kept — its
  // "seq" is the newest event's, so a client's `since` stays about kept events, and a
  // reconnecting client never gets samples replayed (the sensor topic sends its recent points
  // on subscribe instead). Returns the number of subscriptions it went to.
  size_t broadcast(std::string_view topic, const boost::json::object& event,
                   std::optional<int64_t> owner_user_id = std::nullopt);
  // The frame broadcast() would send, for one reader (a subscriber's first points).
  std::string sample_frame(std::string_view topic, const boost::json::object& event) const;
  // Whether some subscription wants the topic (may_read aside): lets a publisher skip building
  // an event nobody reads. A concrete topic, as for publish().
  bool has_subscribers(std::string_view topic) const;

  std::unique_ptr<Subscription> subscribe(SubscribeOptions options);

  // The newest seq issued (first_seq - 1 before the first event).
  uint64_t newest_seq() const;
  size_t kept() const;
  size_t subscribers() const;

 private:
  std::shared_ptr<Subscription::State> state_;
};

}  // namespace vigil::events
