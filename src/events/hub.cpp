#include "events/hub.h"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <cassert>
#include <deque>
#include <map>
#include <mutex>

#include "core/ids.h"
#include "core/metrics.h"
#include "core/names.h"

namespace vigil::events {
namespace {

constexpr std::string_view kSensorPrefix = "sensor:";
constexpr std::string_view kAllSensors = "sensor:*";
constexpr std::string_view kPlainTopics[] = {"alarms", "devices", "rollouts", "tasks", "system"};

std::string gap_frame(uint64_t from, uint64_t to) {
  return R"({"type":"gap","from":)" + std::to_string(from) + R"(,"to":)" + std::to_string(to) + "}";
}

std::string event_frame(uint64_t seq, std::string_view topic_json, Clock::time_point at,
                        std::string_view body) {
  std::string frame;
  frame.reserve(body.size() + topic_json.size() + 80);
  frame += R"({"type":"event","seq":)";
  frame += std::to_string(seq);
  frame += R"(,"topic":)";
  frame += topic_json;
  frame += R"(,"at":")";
  append_rfc3339(frame, at);
  frame += R"(","event":)";
  frame += body;
  frame += '}';
  return frame;
}

}  // namespace

std::optional<std::string> topic_key(std::string_view topic) {
  for (std::string_view t : kPlainTopics) {
    if (topic == t) return std::string(t);
  }
  if (!topic.starts_with(kSensorPrefix)) return std::nullopt;
  if (topic == kAllSensors) return std::string(kAllSensors);
  std::string_view name = topic.substr(kSensorPrefix.size());
  if (!is_valid_name(name)) return std::nullopt;
  return std::string(kSensorPrefix) + name_key(name);
}

bool TopicSet::add(std::string_view topic) {
  auto key = topic_key(topic);
  if (!key) return false;
  if (*key == kAllSensors) {
    all_sensors_ = true;
  }
  keys_.insert(std::move(*key));
  return true;
}

bool TopicSet::matches(std::string_view key) const {
  if (all_sensors_ && key.starts_with(kSensorPrefix)) return true;
  return keys_.find(key) != keys_.end();
}

bool may_read(const Reader& reader, std::optional<int64_t> owner_user_id) {
  if (reader.role == "admin") return true;
  if (reader.role != "user") return false;
  return !owner_user_id || *owner_user_id == reader.user_id;
}

struct Subscription::State {
  struct Entry {
    uint64_t seq = 0;
    Clock::time_point at;
    std::optional<int64_t> owner;
    std::string key;
    std::string frame;
  };
  struct Sub {
    TopicSet topics;
    Reader reader;
    std::function<void(const std::string&)> deliver;

    bool wants(const Entry& e) const { return topics.matches(e.key) && may_read(reader, e.owner); }
  };

  explicit State(HubOptions o) : options(std::move(o)), next_seq(options.first_seq) {
    options.keep_events = std::max<size_t>(options.keep_events, 1);
    options.max_events = std::max(options.max_events, options.keep_events);
  }

  uint64_t newest() const { return next_seq - 1; }

  // Drops what neither the count nor the age keeps, and whatever is beyond the cap.
  void trim(Clock::time_point now) {
    while (ring.size() > options.max_events) ring.pop_front();
    while (ring.size() > options.keep_events && ring.front().at + options.keep_for < now) {
      ring.pop_front();
    }
  }

  // Replays to `sub` the kept events after `since` (newest first up to the byte budget), with
  // a gap in front for what it cannot replay.
  void replay(const Sub& sub, uint64_t since, size_t max_bytes) const {
    if (since > newest()) {
      if (newest() >= options.first_seq) sub.deliver(gap_frame(options.first_seq, newest()));
      return;
    }
    uint64_t oldest = ring.empty() ? next_seq : ring.front().seq;
    size_t start = since + 1 >= oldest ? static_cast<size_t>(since + 1 - oldest) : 0;
    size_t from = start;
    size_t bytes = 0;
    for (size_t i = ring.size(); i-- > start;) {
      if (!sub.wants(ring[i])) continue;
      if (bytes + ring[i].frame.size() > max_bytes) {
        from = i + 1;
        break;
      }
      bytes += ring[i].frame.size();
    }
    uint64_t first_replayed = from < ring.size() ? ring[from].seq : next_seq;
    if (first_replayed > since + 1) sub.deliver(gap_frame(since + 1, first_replayed - 1));
    for (size_t i = from; i < ring.size(); ++i) {
      if (sub.wants(ring[i])) sub.deliver(ring[i].frame);
    }
  }

  void count_subscribers() {
    if (subscribers_gauge) subscribers_gauge->set(static_cast<int64_t>(subs.size()));
  }

  HubOptions options;
  mutable std::mutex mu;
  std::deque<Entry> ring;
  uint64_t next_seq;
  std::map<uint64_t, Sub> subs;
  uint64_t next_sub_id = 1;
  Counter* published = nullptr;
  Gauge* subscribers_gauge = nullptr;
  Gauge* kept_gauge = nullptr;
};

Subscription::~Subscription() {
  std::lock_guard lock(state_->mu);
  state_->subs.erase(id_);
  state_->count_subscribers();
}

uint64_t Subscription::set_topics(TopicSet topics) {
  std::lock_guard lock(state_->mu);
  if (auto it = state_->subs.find(id_); it != state_->subs.end()) {
    it->second.topics = std::move(topics);
  }
  return state_->newest();
}

Hub::Hub(HubOptions options, MetricsRegistry* metrics)
    : state_(std::make_shared<Subscription::State>(std::move(options))) {
  if (metrics) {
    state_->published =
        &metrics->counter("vigil_events_published_total", "Events published on this node");
    state_->subscribers_gauge =
        &metrics->gauge("vigil_events_subscribers", "Live event subscriptions (WebSocket clients)");
    state_->kept_gauge =
        &metrics->gauge("vigil_events_kept", "Events kept in the ring for clients that reconnect");
  }
}

Hub::~Hub() {
  // Subscriptions may outlive the hub: they find no subscribers and touch no metrics.
  std::lock_guard lock(state_->mu);
  state_->subs.clear();
  state_->ring.clear();
  state_->published = nullptr;
  state_->subscribers_gauge = nullptr;
  state_->kept_gauge = nullptr;
}

uint64_t Hub::publish(std::string_view topic, boost::json::object event,
                      std::optional<int64_t> owner_user_id) {
  auto key = topic_key(topic);
  assert(key && *key != kAllSensors && "publish needs a concrete topic");
  if (!key) key = std::string(topic);
  std::string topic_json = boost::json::serialize(boost::json::string(topic));
  std::string body = boost::json::serialize(event);

  auto& s = *state_;
  std::lock_guard lock(s.mu);
  uint64_t seq = s.next_seq++;
  Clock::time_point at = s.options.now();
  std::string frame = event_frame(seq, topic_json, at, body);
  s.ring.push_back({seq, at, owner_user_id, std::move(*key), std::move(frame)});
  const auto& entry = s.ring.back();
  for (const auto& [id, sub] : s.subs) {
    if (sub.wants(entry)) sub.deliver(entry.frame);
  }
  s.trim(at);
  if (s.published) s.published->inc();
  if (s.kept_gauge) s.kept_gauge->set(static_cast<int64_t>(s.ring.size()));
  return seq;
}

size_t Hub::broadcast(std::string_view topic, const boost::json::object& event,
                      std::optional<int64_t> owner_user_id) {
  auto key = topic_key(topic);
  assert(key && *key != kAllSensors && "broadcast needs a concrete topic");
  if (!key) return 0;
  if (!has_subscribers(topic)) return 0;
  std::string topic_json = boost::json::serialize(boost::json::string(topic));
  std::string body = boost::json::serialize(event);
  auto& s = *state_;
  std::lock_guard lock(s.mu);
  Subscription::State::Entry entry{s.newest(), s.options.now(), owner_user_id, std::move(*key), {}};
  entry.frame = event_frame(entry.seq, topic_json, entry.at, body);
  size_t sent = 0;
  for (const auto& [id, sub] : s.subs) {
    if (sub.wants(entry)) {
      sub.deliver(entry.frame);
      ++sent;
    }
  }
  return sent;
}

std::string Hub::sample_frame(std::string_view topic, const boost::json::object& event) const {
  std::string topic_json = boost::json::serialize(boost::json::string(topic));
  std::string body = boost::json::serialize(event);
  std::lock_guard lock(state_->mu);
  return event_frame(state_->newest(), topic_json, state_->options.now(), body);
}

bool Hub::has_subscribers(std::string_view topic) const {
  auto key = topic_key(topic);
  if (!key) return false;
  std::lock_guard lock(state_->mu);
  for (const auto& [id, sub] : state_->subs) {
    if (sub.topics.matches(*key)) return true;
  }
  return false;
}

std::unique_ptr<Subscription> Hub::subscribe(SubscribeOptions options) {
  auto& s = *state_;
  std::lock_guard lock(s.mu);
  Subscription::State::Sub sub{std::move(options.topics), std::move(options.reader),
                               std::move(options.deliver)};
  if (options.since) s.replay(sub, *options.since, options.max_replay_bytes);
  uint64_t id = s.next_sub_id++;
  s.subs.emplace(id, std::move(sub));
  s.count_subscribers();
  return std::unique_ptr<Subscription>(new Subscription(state_, id, s.newest()));
}

uint64_t Hub::newest_seq() const {
  std::lock_guard lock(state_->mu);
  return state_->newest();
}

size_t Hub::kept() const {
  std::lock_guard lock(state_->mu);
  return state_->ring.size();
}

size_t Hub::subscribers() const {
  std::lock_guard lock(state_->mu);
  return state_->subs.size();
}

}  // namespace vigil::events
