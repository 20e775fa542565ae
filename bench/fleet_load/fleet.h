// A shard of emulated agents on one thread (one io_context): it opens their device sessions
// (hello → welcome) a bounded number at a time from many loopback source addresses, keeps each
// alive with a ping every ping_interval (the protocol's 20 s), spread evenly over the
// interval, and measures ping → pong round trips in a window. In agent mode (S8) each agent
// also carries out the commands it is sent as docs/protocol.md says: downloading, the
// artifact fetched with its own token and checked (sha256, Ed25519 signature), applied, then
// confirmed after confirm_s.
#pragma once

#include <openssl/evp.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "http_conn.h"
#include "ws_session.h"

namespace fleet_load {

struct FleetOptions {
  Target target;
  asio::ip::address_v4 first_source = asio::ip::make_address_v4("127.0.0.2");
  size_t per_source = 1000;          // sessions per source address (see main.cpp)
  size_t connect_concurrency = 128;  // sessions between connect and welcome at once (per shard)
  int max_attempts = 5;              // per session, for refused (503) or failed connects
  std::chrono::milliseconds ping_interval{20000};
  std::string agent_name = "vigil-fleet-load/1";
  // Agent mode (S8):
  bool agent = false;
  std::string signing_key;           // base64 Ed25519 public key, from the enrollment answer
  size_t download_connections = 32;  // kept-alive artifact connections (per shard)
};

// Counters every shard adds to; the main thread polls them.
struct FleetProgress {
  std::atomic<size_t> settled{0};   // sessions welcomed or given up
  std::atomic<size_t> finished{0};  // agents that confirmed or failed their command
};

struct FleetStats {
  size_t sessions = 0;            // given to the shard
  size_t held = 0;                // open and welcomed now
  size_t gave_up = 0;             // never opened after max_attempts
  size_t attempts = 0;            // connects started
  size_t connect_errors = 0;      // TCP connect failed
  size_t protocol_errors = 0;     // a malformed upgrade answer
  std::map<int, size_t> refused;  // upgrade answers other than 101, by status
  size_t closed_while_held = 0;
  std::string first_close;  // why the first held session ended
  size_t error_frames = 0;
  std::string first_error;  // the first error frame's detail
  // Pings in the measuring window:
  std::vector<double> rtt_ms;  // one per pong received
  size_t pings_measured = 0;   // sent in the window
  size_t pings_overdue = 0;    // a session's previous ping still unanswered at its next turn
  // Agent mode:
  size_t commands = 0;         // distinct commands received
  size_t command_resends = 0;  // the same command id again
  size_t downloads = 0;        // artifact answers with 200
  size_t download_bytes = 0;
  size_t download_retries = 0;  // 503/429 answers, fetched again after Retry-After
  size_t download_connects = 0;
  size_t checksum_mismatches = 0;
  size_t bad_signatures = 0;
  size_t confirmed = 0;
  size_t failed = 0;
  std::string first_failure;
  double first_command = 0;  // CLOCK_MONOTONIC seconds; 0: none
  double last_confirmed = 0;

  void merge(const FleetStats& o);
  // The agents' counters, times and the pings start again (the next rollout).
  void start_round();
  boost::json::object json(bool with_pings, bool with_agents) const;
};

class FleetShard final : public WsHandler {
 public:
  struct Entry {
    size_t global;  // position among all sessions: picks the source address
    const Credential* cred;
  };

  FleetShard(FleetOptions options, FleetProgress& progress, std::vector<Entry> entries);
  ~FleetShard() override;

  asio::io_context& context() { return ctx_; }
  // Both post to the shard's thread.
  void start();
  void measure(Clock::time_point from, Clock::time_point until);
  // Runs on the shard's thread; the caller blocks until it has. new_round: the agent counters
  // and times start again from zero (for the next rollout).
  FleetStats stats(bool new_round = false);

 private:
  struct Job;
  struct Agent;
  struct Downloader;

  void pump_connects();
  void launch(size_t i);
  void retry_later(size_t i, std::chrono::milliseconds delay);
  void settle();
  void tick();
  void on_pong(Agent& a);
  void on_command(size_t i, const boost::json::object& msg);
  void pump_downloads();
  void downloaded(Downloader& d, HttpAnswer& answer);
  void report(Agent& a, std::string_view state, std::string_view error = {});
  // failure: empty when the agent confirmed.
  void finish_job(Agent& a, std::string_view failure);

  // WsHandler
  void on_open(WsSession& s) override;
  void on_text(WsSession& s, std::string_view text) override;
  void on_fail(WsSession& s, WsFailure why, int status, int retry_after_s) override;
  void on_closed(WsSession& s, std::string_view why) override;

  FleetOptions opt_;
  FleetProgress& progress_;
  asio::io_context ctx_{1};
  std::deque<Agent> agents_;
  size_t next_connect_ = 0;
  size_t in_flight_ = 0;
  FleetStats stats_;
  asio::steady_timer ticker_{ctx_};
  Clock::time_point last_tick_{};
  double tick_budget_ = 0;
  size_t tick_cursor_ = 0;
  Clock::time_point measure_from_{Clock::time_point::max()};
  Clock::time_point measure_until_{Clock::time_point::max()};
  std::vector<std::unique_ptr<Downloader>> downloaders_;
  std::deque<size_t> download_queue_;
};

}  // namespace fleet_load
