/* Runs under libteardown_preload.so with a channel whose configuration emulates disconnect data on
 * PORT, and checks that programs see exactly the byte stream they would see without it, under
 * every send and receive call, short writes and reads, peeks, non-blocking and blocking sockets;
 * and that disconnect data travels with the graceful shutdown. Exit 0 when all holds.
 *
 *   emulation_probe stream PORT        non-blocking, small buffers, every call, then disconnect data
 *   emulation_probe blocking PORT      blocking: a writer thread against MSG_WAITALL and readv
 *   emulation_probe limits PORT        disconnect data's limits and refusals
 *   emulation_probe abandon PORT       a sender that gives up inside a record, then shuts down
 *   emulation_probe mismatch-framed PORT CHANNEL
 *   emulation_probe mismatch-plain PORT CHANNEL
 *                                      this process emulates on PORT; a child with CHANNEL (no
 *                                      emulation) connects: the emulating side sends first, or
 *                                      the plain side does
 *   emulation_probe plain-peer PORT    a child without the layer connects and prints what it got */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "teardown/disconnect.h"

#pragma weak teardown_send_disconnect
#pragma weak teardown_recv_disconnect

static int failures = 0;
#define CHECK(condition)                                                                   \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      fprintf(stderr, "emulation_probe:%d: %s (errno %d)\n", __LINE__, #condition, errno); \
      ++failures;                                                                          \
    }                                                                                      \
  } while (0)

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in address;
  memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_port = htons((uint16_t)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int reuse = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
  struct sockaddr_in address = loopback(port);
  if (bind(fd, (struct sockaddr*)&address, sizeof(address)) != 0 || listen(fd, 8) != 0) return -1;
  return fd;
}

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = loopback(port);
  return connect(fd, (struct sockaddr*)&address, sizeof(address)) == 0 ? fd : -1;
}

static void pair_on(int port, int* client, int* server) {
  int listener = listen_on(port);
  CHECK(listener >= 0);
  *client = connect_to(port);
  *server = accept(listener, NULL, NULL);
  CHECK(*client >= 0 && *server >= 0);
  close(listener);
}

static void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* The stream's byte at `offset`: a pattern no shift or repetition matches by chance. */
static uint8_t stream_byte(uint64_t offset) {
  uint64_t x = offset * 0x9E3779B97F4A7C15ull;
  return (uint8_t)(x >> 56);
}

static uint32_t next_random(uint32_t* state) {
  *state ^= *state << 13;
  *state ^= *state >> 17;
  *state ^= *state << 5;
  return *state;
}

/* One send of up to `length` stream bytes from `offset`, by the call `how` picks. */
static ssize_t send_some(int fd, uint64_t offset, size_t length, int how) {
  static uint8_t buffer[70000];
  if (length > sizeof(buffer)) length = sizeof(buffer);
  for (size_t i = 0; i < length; ++i) buffer[i] = stream_byte(offset + i);
  struct iovec pieces[3];
  size_t third = length / 3;
  pieces[0].iov_base = buffer;
  pieces[0].iov_len = third;
  pieces[1].iov_base = buffer + third;
  pieces[1].iov_len = 0;
  pieces[2].iov_base = buffer + third;
  pieces[2].iov_len = length - third;
  struct msghdr message;
  memset(&message, 0, sizeof(message));
  message.msg_iov = pieces;
  message.msg_iovlen = 3;
  switch (how % 5) {
    case 0: return send(fd, buffer, length, MSG_NOSIGNAL);
    case 1: return write(fd, buffer, length);
    case 2: return writev(fd, pieces, 3);
    case 3: return sendmsg(fd, &message, MSG_NOSIGNAL);
    default: return sendto(fd, buffer, length, MSG_NOSIGNAL, NULL, 0);
  }
}

/* One receive of up to `length` bytes by the call `how` picks; checks them against the stream at
 * `offset`. A peek is checked, then the same bytes are read. */
static ssize_t receive_some(int fd, uint64_t offset, size_t length, int how) {
  static uint8_t buffer[100000];
  if (length > sizeof(buffer)) length = sizeof(buffer);
  struct iovec pieces[4];
  size_t quarter = length / 4;
  for (int i = 0; i < 4; ++i) {
    pieces[i].iov_base = buffer + quarter * (size_t)i;
    pieces[i].iov_len = i < 3 ? quarter : length - 3 * quarter;
  }
  struct msghdr message;
  memset(&message, 0, sizeof(message));
  message.msg_iov = pieces;
  message.msg_iovlen = 4;
  ssize_t got;
  switch (how % 6) {
    case 0: got = recv(fd, buffer, length, 0); break;
    case 1: got = read(fd, buffer, length); break;
    case 2: got = readv(fd, pieces, 4); break;
    case 3: got = recvmsg(fd, &message, 0); break;
    case 4: got = recvfrom(fd, buffer, length, 0, NULL, NULL); break;
    default:
      got = recv(fd, buffer, length, MSG_PEEK);
      if (got > 0) {
        for (ssize_t i = 0; i < got; ++i) CHECK(buffer[i] == stream_byte(offset + (uint64_t)i));
        ssize_t again = recv(fd, buffer, (size_t)got, 0);
        CHECK(again == got);
      }
      break;
  }
  for (ssize_t i = 0; i < got; ++i) {
    if (buffer[i] != stream_byte(offset + (uint64_t)i)) {
      fprintf(stderr, "emulation_probe: byte %llu differs (call %d)\n",
              (unsigned long long)(offset + (uint64_t)i), how % 6);
      ++failures;
      exit(1);
    }
  }
  return got;
}

/* Non-blocking both ends with small buffers: short writes and reads everywhere. */
static void stream_scenario(int port) {
  int client, server;
  pair_on(port, &client, &server);
  /* A small send buffer refuses writes often; a small receive buffer would add TCP's 200 ms
   * zero-window probes to every stall. */
  int small = 4096;
  setsockopt(client, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  set_nonblocking(client);
  set_nonblocking(server);
  const uint64_t total = 4u << 20;
  uint64_t sent = 0, received = 0;
  uint32_t random = 0x1234567u;
  int would_block = 0;
  for (int rounds = 0; received < total && rounds < 10000000; ++rounds) {
    if (sent < total) {
      size_t offer = 1 + next_random(&random) % 70000;
      if (offer > total - sent) offer = (size_t)(total - sent);
      ssize_t n = send_some(client, sent, offer, (int)next_random(&random));
      if (n > 0) sent += (uint64_t)n;
      if (n < 0) {
        CHECK(errno == EAGAIN);
        ++would_block;
      }
    }
    ssize_t got = receive_some(server, received, 1 + next_random(&random) % 100000,
                               (int)next_random(&random));
    if (got > 0) received += (uint64_t)got;
    if (got < 0) CHECK(errno == EAGAIN);
    if (got == 0) break;
    if (got < 0) {
      struct pollfd both[2] = {{client, sent < total ? POLLOUT : 0, 0}, {server, POLLIN, 0}};
      poll(both, 2, 1000);
    }
  }
  CHECK(received == total);
  CHECK(would_block > 0); /* the buffers were small enough to refuse writes */
  fprintf(stderr, "emulation_probe: %llu bytes, %d refused writes\n", (unsigned long long)total,
          would_block);

  const char data[] = "totals:4194304";
  CHECK(teardown_send_disconnect(client, data, sizeof(data)) == 0);
  char byte;
  for (int waits = 0; waits < 100; ++waits) {
    ssize_t n = read(server, &byte, 1);
    if (n == 0) break;
    CHECK(n == -1 && errno == EAGAIN);
    struct pollfd readable = {server, POLLIN, 0};
    poll(&readable, 1, 100);
  }
  char got[64];
  CHECK(teardown_recv_disconnect(server, got, sizeof(got)) == (ssize_t)sizeof(data));
  CHECK(memcmp(got, data, sizeof(data)) == 0);
  CHECK(close(client) == 0 && close(server) == 0);
}

struct writer {
  int fd;
  uint64_t total;
};

static void* write_all(void* argument) {
  struct writer* w = argument;
  uint32_t random = 99;
  uint64_t sent = 0;
  while (sent < w->total) {
    size_t offer = 1 + next_random(&random) % 50000;
    if (offer > w->total - sent) offer = (size_t)(w->total - sent);
    ssize_t n = send_some(w->fd, sent, offer, (int)next_random(&random));
    if (n <= 0) return (void*)1;
    if ((size_t)n != offer) return (void*)2; /* a blocking send takes everything */
    sent += (uint64_t)n;
  }
  return teardown_send_disconnect(w->fd, NULL, 0) == 0 ? NULL : (void*)3;
}

/* Blocking: a writer thread; the reader asks for whole blocks with MSG_WAITALL. */
static void blocking_scenario(int port) {
  int client, server;
  pair_on(port, &client, &server);
  struct writer w = {client, 2u << 20};
  pthread_t thread;
  pthread_create(&thread, NULL, write_all, &w);
  static uint8_t block[32768];
  uint64_t received = 0;
  while (received < w.total) {
    ssize_t n = recv(server, block, sizeof(block), MSG_WAITALL);
    CHECK(n == (ssize_t)sizeof(block));
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      if (block[i] != stream_byte(received + (uint64_t)i)) {
        CHECK(!"the stream arrives unchanged");
        break;
      }
    }
    received += (uint64_t)n;
  }
  CHECK(recv(server, block, sizeof(block), MSG_WAITALL) == 0); /* the end, with no data */
  void* result = NULL;
  pthread_join(thread, &result);
  CHECK(result == NULL);
  char data[8];
  CHECK(teardown_recv_disconnect(server, data, sizeof(data)) == 0); /* a DISCONNECT, no data */
  close(client);
  close(server);
}

static void limits_scenario(int port) {
  int client, server;
  pair_on(port, &client, &server);
  static char big[1025];
  errno = 0;
  CHECK(teardown_send_disconnect(client, big, sizeof(big)) == -1 && errno == EINVAL);
  CHECK(send(client, "still open", 10, 0) == 10); /* refused, and nothing changed */

  /* More buffers than the kernel takes in one call: refused as the plain calls refuse them, with
   * nothing sent or taken off the stream (the layer never slices the vector into calls that would
   * succeed). */
  static struct iovec many[IOV_MAX + 1];
  static char one_byte[IOV_MAX + 1];
  for (int i = 0; i <= IOV_MAX; ++i) many[i] = (struct iovec){&one_byte[i], 1};
  struct msghdr too_many = {0};
  too_many.msg_iov = many;
  too_many.msg_iovlen = IOV_MAX + 1;
  errno = 0;
  CHECK(sendmsg(client, &too_many, 0) == -1 && errno == EMSGSIZE);
  errno = 0;
  CHECK(writev(client, many, IOV_MAX + 1) == -1 && errno == EINVAL);
  volatile int negative = -1; /* a count the compiler cannot see is negative */
  errno = 0;
  CHECK(writev(client, many, negative) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(recvmsg(server, &too_many, MSG_DONTWAIT) == -1 && errno == EMSGSIZE);
  errno = 0;
  CHECK(readv(server, many, IOV_MAX + 1) == -1 && errno == EINVAL);
  char still[10];
  CHECK(recv(server, still, sizeof(still), MSG_WAITALL) == 10 && memcmp(still, "still open", 10) == 0);

  /* A send the kernel only partly takes leaves a record open: no DISCONNECT until it is done. */
  int small = 4096;
  setsockopt(client, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  set_nonblocking(client);
  static uint8_t chunk[1 << 20];
  ssize_t took = send(client, chunk, sizeof(chunk), 0);
  CHECK(took > 0 && took < (ssize_t)sizeof(chunk));
  errno = 0;
  CHECK(teardown_send_disconnect(client, "x", 1) == -1 && errno == EAGAIN);
  /* The program finishes its send (the peer reads meanwhile), then disconnects. */
  static uint8_t sink[1 << 16];
  size_t left = sizeof(chunk) - (size_t)took;
  size_t to_read = sizeof(chunk); /* "still open" was read above */
  while (left > 0 || to_read > 0) {
    if (left > 0) {
      ssize_t n = send(client, chunk + (sizeof(chunk) - left), left, 0);
      if (n > 0) left -= (size_t)n;
    }
    ssize_t got = recv(server, sink, sizeof(sink) < to_read ? sizeof(sink) : to_read, MSG_DONTWAIT);
    if (got > 0) to_read -= (size_t)got;
    if (got < 0) {
      struct pollfd p[2] = {{client, left > 0 ? POLLOUT : 0, 0}, {server, POLLIN, 0}};
      poll(p, 2, 1000);
    }
    if (got == 0) break;
  }
  CHECK(to_read == 0);
  const char total[8] = {0, 0, 0, 0, 0, 0, 4, 18};
  CHECK(teardown_send_disconnect(client, total, sizeof(total)) == 0);
  errno = 0;
  CHECK(send(client, "late", 4, MSG_NOSIGNAL) == -1 && errno == EPIPE);
  char byte;
  struct pollfd readable = {server, POLLIN, 0};
  poll(&readable, 1, 5000);
  CHECK(read(server, &byte, 1) == 0);
  char four[4];
  errno = 0;
  CHECK(teardown_recv_disconnect(server, four, sizeof(four)) == -1 && errno == EMSGSIZE);
  char eight[8];
  CHECK(teardown_recv_disconnect(server, eight, sizeof(eight)) == 8);
  CHECK(memcmp(eight, total, 8) == 0);
  close(client);
  close(server);
}

/* The sender's write is cut short and it shuts down instead of finishing: the reader gets exactly
 * what the sender was told went, then a clean end. */
static void abandon_scenario(int port) {
  int client, server;
  pair_on(port, &client, &server);
  int small = 4096;
  setsockopt(client, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  set_nonblocking(client);
  static uint8_t chunk[1 << 20];
  for (size_t i = 0; i < sizeof(chunk); ++i) chunk[i] = stream_byte(i);
  ssize_t took = send(client, chunk, sizeof(chunk), 0);
  CHECK(took > 0 && took < (ssize_t)sizeof(chunk));
  CHECK(shutdown(client, SHUT_WR) == 0);
  uint64_t received = 0;
  for (;;) {
    ssize_t got = receive_some(server, received, 65536, 0);
    if (got <= 0) {
      CHECK(got == 0);
      break;
    }
    received += (uint64_t)got;
  }
  CHECK(received == (uint64_t)took);
  close(client);
  close(server);
}

static pid_t spawn_peer(const char* self, const char* role, int port, const char* channel) {
  pid_t child = fork();
  if (child == 0) {
    char text[16];
    snprintf(text, sizeof(text), "%d", port);
    if (channel != NULL) {
      setenv("TEARDOWN_CHANNEL", channel, 1);
    } else {
      unsetenv("LD_PRELOAD");
    }
    execl("/proc/self/exe", self, role, text, (char*)NULL);
    _exit(127);
  }
  return child;
}

static int wait_for(pid_t child) {
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* This side emulates; the peer's configuration does not. `framed_first`: this side sends first,
 * and the peer's layer refuses the HELLO; otherwise the peer's plain bytes are refused here. */
static void mismatch_scenario(const char* self, int port, const char* channel, int framed_first) {
  int listener = listen_on(port);
  pid_t child = spawn_peer(self, framed_first ? "peer-reads" : "peer-writes", port, channel);
  int server = accept(listener, NULL, NULL);
  CHECK(server >= 0);
  char buffer[64];
  if (framed_first) {
    CHECK(send(server, "hello", 5, 0) == 5);
    ssize_t n = recv(server, buffer, sizeof(buffer), 0); /* the peer's layer reset it */
    CHECK(n == 0 || (n == -1 && errno == ECONNRESET));
  } else {
    errno = 0;
    CHECK(recv(server, buffer, sizeof(buffer), 0) == -1 && errno == ECONNABORTED);
    errno = 0;
    CHECK(recv(server, buffer, sizeof(buffer), 0) == -1 && errno == ECONNABORTED);
  }
  CHECK(wait_for(child) == 0);
  close(server);
  close(listener);
}

/* The peer whose configuration does not emulate: reads first (and is refused the HELLO), or
 * writes plain bytes first (and is reset). */
static int peer(int port, int reads) {
  int fd = connect_to(port);
  CHECK(fd >= 0);
  char buffer[64];
  if (reads) {
    errno = 0;
    CHECK(recv(fd, buffer, sizeof(buffer), 0) == -1 && errno == ECONNABORTED);
  } else {
    CHECK(send(fd, "GET / HTTP/1.0\r\n\r\n", 18, 0) == 18);
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    CHECK(n == -1 && errno == ECONNRESET);
  }
  close(fd);
  return failures == 0 ? 0 : 1;
}

/* A peer without Teardown at all: what it reads is printed, byte by byte in hex. */
static int plain_peer(int port) {
  int fd = connect_to(port);
  uint8_t buffer[64];
  ssize_t total = 0;
  for (ssize_t n; (n = read(fd, buffer + total, sizeof(buffer) - (size_t)total)) > 0;) total += n;
  for (ssize_t i = 0; i < total; ++i) printf("%02x", buffer[i]);
  printf("\n");
  close(fd);
  return 0;
}

static void plain_peer_scenario(const char* self, int port) {
  int listener = listen_on(port);
  fflush(stdout);
  pid_t child = spawn_peer(self, "plain-reader", port, NULL);
  int server = accept(listener, NULL, NULL);
  CHECK(send(server, "hi", 2, 0) == 2);
  CHECK(teardown_send_disconnect(server, "42", 2) == 0);
  CHECK(wait_for(child) == 0);
  close(server);
  close(listener);
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  int port = atoi(argv[2]);
  if (strcmp(argv[1], "peer-reads") == 0) return peer(port, 1);
  if (strcmp(argv[1], "peer-writes") == 0) return peer(port, 0);
  if (strcmp(argv[1], "plain-reader") == 0) return plain_peer(port);
  if (teardown_send_disconnect == NULL) {
    fprintf(stderr, "emulation_probe: not running under the layer\n");
    return 2;
  }
  if (strcmp(argv[1], "stream") == 0) stream_scenario(port);
  else if (strcmp(argv[1], "blocking") == 0) blocking_scenario(port);
  else if (strcmp(argv[1], "limits") == 0) limits_scenario(port);
  else if (strcmp(argv[1], "abandon") == 0) abandon_scenario(port);
  else if (strcmp(argv[1], "mismatch-framed") == 0 && argc == 4) mismatch_scenario(argv[0], port, argv[3], 1);
  else if (strcmp(argv[1], "mismatch-plain") == 0 && argc == 4) mismatch_scenario(argv[0], port, argv[3], 0);
  else if (strcmp(argv[1], "plain-peer") == 0) plain_peer_scenario(argv[0], port);
  else return 2;
  return failures == 0 ? 0 : 1;
}
