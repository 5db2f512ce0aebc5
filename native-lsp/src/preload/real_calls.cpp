#include "real_calls.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>

namespace teardown::preload {

namespace {

template <typename Function>
void resolve(Function& target, const char* name) {
  target = reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

RealCalls load() {
  RealCalls calls{};
  resolve(calls.socket, "socket");
  resolve(calls.connect, "connect");
  resolve(calls.listen, "listen");
  resolve(calls.accept, "accept");
  resolve(calls.accept4, "accept4");
  resolve(calls.shutdown, "shutdown");
  resolve(calls.close, "close");
  resolve(calls.close_range, "close_range");
  resolve(calls.dup, "dup");
  resolve(calls.dup2, "dup2");
  resolve(calls.dup3, "dup3");
  resolve(calls.setsockopt, "setsockopt");
  resolve(calls.getsockopt, "getsockopt");
  resolve(calls.fcntl, "fcntl");
  resolve(calls.fcntl64, "fcntl64");
  if (calls.fcntl64 == nullptr) calls.fcntl64 = calls.fcntl;  // a libc without the 64-bit name
  resolve(calls.ioctl, "ioctl");
  resolve(calls.send, "send");
  resolve(calls.sendto, "sendto");
  resolve(calls.sendmsg, "sendmsg");
  resolve(calls.recv, "recv");
  resolve(calls.recvfrom, "recvfrom");
  resolve(calls.recvmsg, "recvmsg");
  resolve(calls.read, "read");
  resolve(calls.write, "write");
  resolve(calls.readv, "readv");
  resolve(calls.writev, "writev");
  resolve(calls.sendfile, "sendfile");
  resolve(calls.poll, "poll");
  resolve(calls.ppoll, "ppoll");
  resolve(calls.epoll_ctl, "epoll_ctl");
  resolve(calls.epoll_wait, "epoll_wait");
  resolve(calls.epoll_pwait, "epoll_pwait");
  resolve(calls.exit_now, "_exit");
  resolve(calls.setuid, "setuid");
  resolve(calls.seteuid, "seteuid");
  resolve(calls.setreuid, "setreuid");
  resolve(calls.setresuid, "setresuid");
  return calls;
}

}  // namespace

std::atomic<const RealCalls*> resolved_real_calls{nullptr};

const RealCalls& resolve_real_calls() {
  // A function-local static: initialised once, thread-safely, on first use (which may come from
  // another library's constructor before ours has run).
  static const RealCalls calls = load();
  resolved_real_calls.store(&calls, std::memory_order_release);
  return calls;
}

}  // namespace teardown::preload
