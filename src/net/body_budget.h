// BodyBudget: the request-body bytes held in memory at once, bounded for the whole server and
// per client address, on top of each route's own body limit. A request that would go over is
// refused before its body is read (server full: 503; that client's share full: 429), so many
// slow or parallel uploads cannot fill memory.
//
// A Reservation holds bytes until it is released or destroyed (it moves into the Exchange, which
// releases it as it answers, before the client can see the answer). Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/metrics.h"

namespace vigil::net {

class BodyBudget {
 public:
  enum class Refusal { kNone, kServer, kClient };

  // `in_flight`, when given, follows the server's total.
  BodyBudget(size_t server_bytes, size_t client_bytes, Gauge* in_flight = nullptr)
      : server_limit_(server_bytes), client_limit_(client_bytes), in_flight_(in_flight) {}
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;

  class Reservation {
   public:
    Reservation() = default;
    Reservation(BodyBudget& budget, std::string client)
        : budget_(&budget), client_(std::move(client)) {}
    Reservation(Reservation&& o) noexcept { *this = std::move(o); }
    Reservation& operator=(Reservation&& o) noexcept;
    ~Reservation() { release(); }

    // Adds n bytes; on refusal nothing is added and the reason is returned.
    Refusal grow(size_t n);
    size_t bytes() const { return bytes_; }
    void release();

   private:
    BodyBudget* budget_ = nullptr;
    std::string client_;
    size_t bytes_ = 0;
  };

  Reservation open(std::string client) { return Reservation(*this, std::move(client)); }

  size_t server_bytes() const;
  size_t client_bytes(const std::string& client) const;
  size_t server_limit() const { return server_limit_; }
  size_t client_limit() const { return client_limit_; }

 private:
  Refusal take(const std::string& client, size_t n);
  void give(const std::string& client, size_t n);

  const size_t server_limit_;
  const size_t client_limit_;
  Gauge* const in_flight_;
  mutable std::mutex mu_;
  size_t total_ = 0;
  std::unordered_map<std::string, size_t> per_client_;  // entries at 0 are erased
};

}  // namespace vigil::net
