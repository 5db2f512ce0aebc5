// Helpers shared by the native tests: scratch directories, free ports and event construction.
#pragma once

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "teardown/teardown.h"

namespace teardown::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/teardown-test-XXXXXX";
    path_ = mkdtemp(pattern.data()) ? pattern : std::string();
  }
  ~TempDir() {
    if (!path_.empty()) {
      nftw(path_.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); },
           16, FTW_DEPTH | FTW_PHYS);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A port nobody listens on now (the kernel's choice of a free ephemeral port).
inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

inline td_event_record make_event(td_event_kind kind, uint64_t socket_id, uint16_t local_port = 0,
                                  uint16_t remote_port = 0) {
  td_event_record event;
  std::memset(&event, 0, sizeof(event));
  event.kind = static_cast<uint16_t>(kind);
  event.socket_id = socket_id;
  event.protocol = 6;
  event.socket_type = 1;
  event.local.family = TD_FAMILY_IPV4;
  event.local.port = local_port;
  event.remote.family = TD_FAMILY_IPV4;
  event.remote.port = remote_port;
  return event;
}

}  // namespace teardown::testing
