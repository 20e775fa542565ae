#include "support/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>

namespace vigil::testing {

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

void print_skip_banner(std::string_view suite, std::string_view why) {
  static std::mutex mu;
  static std::set<std::string, std::less<>> printed;
  std::lock_guard lock(mu);
  if (!printed.emplace(suite).second) return;
  std::cerr << "\n"
            << "************************************************************************\n"
            << "*** SKIPPING " << suite << " tests: " << why << "\n"
            << "************************************************************************\n"
            << std::endl;
}

std::string file_tail(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > max) text = "..." + text.substr(text.size() - max);
  return text;
}

}  // namespace vigil::testing
