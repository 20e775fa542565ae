// vigil_fleet_load: the load client of BENCHMARKS.md S7 and S8 (bench/README.md). Shared
// pieces: the server's address, the tokens file, clocks, source addresses and statistics.
#pragma once

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fleet_load {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Where the server listens: http://HOST:PORT (an IPv4 address; no TLS).
struct Target {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  tcp::endpoint endpoint() const;
  std::string host_header() const { return host + ":" + std::to_string(port); }
};
// Throws std::invalid_argument on anything but http://A.B.C.D:PORT[/].
Target parse_url(std::string_view url);

// One enrolled watchdog: its device, its name and its token (role watchdog).
struct Credential {
  std::string device;
  std::string watchdog;
  std::string token;
};

// The tokens file the seed writes and the sessions read: a header line with the signing key
// from the enrollment answers, then one tab-separated "device watchdog token" line each.
void write_tokens(const std::string& path, const std::string& signing_key,
                  const std::vector<Credential>& creds);
// Throws std::runtime_error when the file is missing or malformed.
std::vector<Credential> read_tokens(const std::string& path, std::string& signing_key);

// CLOCK_MONOTONIC in seconds: what Python's time.monotonic() reads, so the harness can compare.
double mono_seconds(Clock::time_point t);
inline double mono_now() { return mono_seconds(Clock::now()); }

// The loopback source address of connection `i`: `per_ip` connections per address from
// `first` on (127.0.0.2, 127.0.0.3, …): one address has only the ephemeral port range
// (net.ipv4.ip_local_port_range, ~28 000 ports) towards one server port.
asio::ip::address_v4 source_address(asio::ip::address_v4 first, size_t i, size_t per_ip);

// Opens `sock` to connect from `source`: the port is picked at connect() for the whole 4-tuple
// (IP_BIND_ADDRESS_NO_PORT), not at bind() for the address alone; TCP_NODELAY.
boost::system::error_code open_from(tcp::socket& sock, asio::ip::address_v4 source);

// The status of an HTTP/1.1 answer head ("HTTP/1.1 101 …"); 0 when it is not one.
int http_status(std::string_view head);
// The value of header `name` (any case) in an HTTP head of CRLF lines, trimmed; empty when
// absent.
std::string_view header_value(std::string_view head, std::string_view name);
// Retry-After in seconds; -1 when absent.
int retry_after_s(std::string_view head);

// Raises RLIMIT_NOFILE's soft limit to the hard one; returns the soft limit now in force.
uint64_t raise_fd_limit();
// User + system CPU seconds of this process so far.
double cpu_seconds();

// Percentile (0..100, nearest rank) of sorted values; 0 when empty.
double percentile(const std::vector<double>& sorted, double p);

// Prints one JSON object as a line on stdout and flushes: the harness reads these.
void emit(const boost::json::object& o);
// The process's progress messages go to stderr.
void progress(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace fleet_load
