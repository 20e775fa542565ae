#include "common.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <stdexcept>

namespace fleet_load {

namespace {
constexpr std::string_view kTokensHeader = "# vigil_fleet_load tokens; signing_key ";
}

tcp::endpoint Target::endpoint() const { return {asio::ip::make_address_v4(host), port}; }

Target parse_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) throw std::invalid_argument("--url must start with http://");
  url.remove_prefix(kScheme.size());
  if (url.ends_with('/')) url.remove_suffix(1);
  auto colon = url.rfind(':');
  if (colon == std::string_view::npos) throw std::invalid_argument("--url needs a :port");
  Target t;
  t.host = std::string(url.substr(0, colon));
  boost::system::error_code ec;
  (void)asio::ip::make_address_v4(t.host, ec);
  if (ec) throw std::invalid_argument("--url: the host must be an IPv4 address");
  const std::string port(url.substr(colon + 1));
  size_t used = 0;
  const long p = std::stol(port, &used);
  if (used != port.size() || p < 1 || p > 65535) throw std::invalid_argument("--url: bad port");
  t.port = static_cast<uint16_t>(p);
  return t;
}

void write_tokens(const std::string& path, const std::string& signing_key,
                  const std::vector<Credential>& creds) {
  std::ofstream out(path, std::ios::trunc);
  out << kTokensHeader << signing_key << "\n";
  for (const auto& c : creds) out << c.device << '\t' << c.watchdog << '\t' << c.token << '\n';
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

std::vector<Credential> read_tokens(const std::string& path, std::string& signing_key) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string line;
  if (!std::getline(in, line) || !line.starts_with(kTokensHeader)) {
    throw std::runtime_error(path + ": not a tokens file (run `vigil_fleet_load seed` first)");
  }
  signing_key = line.substr(kTokensHeader.size());
  std::vector<Credential> out;
  while (std::getline(in, line)) {
    auto a = line.find('\t');
    auto b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos) throw std::runtime_error(path + ": malformed line: " + line);
    out.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return out;
}

double mono_seconds(Clock::time_point t) {
  // steady_clock is CLOCK_MONOTONIC on Linux with libstdc++.
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

asio::ip::address_v4 source_address(asio::ip::address_v4 first, size_t i, size_t per_ip) {
  return asio::ip::address_v4(first.to_uint() + static_cast<uint32_t>(i / per_ip));
}

boost::system::error_code open_from(tcp::socket& sock, asio::ip::address_v4 source) {
  boost::system::error_code ec;
  if (sock.is_open()) sock.close(ec);
  sock.open(tcp::v4(), ec);
  if (ec) return ec;
  int one = 1;
  ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  ::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sock.bind(tcp::endpoint(source, 0), ec);
  return ec;
}

int http_status(std::string_view head) {
  if (head.size() < 12 || !head.starts_with("HTTP/1.1 ")) return 0;
  int status = 0;
  for (char c : head.substr(9, 3)) {
    if (c < '0' || c > '9') return 0;
    status = status * 10 + (c - '0');
  }
  return status;
}

std::string_view header_value(std::string_view head, std::string_view name) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const size_t start = at + 2;
    const size_t end = head.find("\r\n", start);
    std::string_view line = head.substr(start, end == std::string_view::npos ? end : end - start);
    bool match = line.size() > name.size() && line[name.size()] == ':';
    for (size_t i = 0; match && i < name.size(); ++i) match = lower(line[i]) == lower(name[i]);
    if (match) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    }
    at = end;
  }
  return {};
}

int retry_after_s(std::string_view head) {
  auto v = header_value(head, "Retry-After");
  return v.empty() ? -1 : std::atoi(std::string(v).c_str());
}

uint64_t raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
    (void)::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
}

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * double(sorted.size())));
  if (rank < 1) rank = 1;
  return sorted[std::min(rank, sorted.size()) - 1];
}

void emit(const boost::json::object& o) {
  const std::string line = boost::json::serialize(o) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void progress(const char* fmt, ...) {
  std::fputs("fleet_load: ", stderr);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

}  // namespace fleet_load
