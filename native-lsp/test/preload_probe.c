/* Runs under libteardown_preload.so and checks that the program sees exactly what it would see
 * without it: results, errno, non-socket descriptors, threads, fork. Exit 0 when all hold.
 *
 *   preload_probe SCENARIO   (errno | pipes | threads | fork | abortive | close_range | exec |
 *                             totals | unread_endings | kernel_view | raw_close | established)
 *
 * abortive closes with SO_LINGER {1, 0} and exits 0 if the peer then read a reset, 3 if it read
 * an orderly end of stream (the abortive-to-graceful policy at work). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(condition)                                                         \
  do {                                                                           \
    if (!(condition)) {                                                          \
      fprintf(stderr, "preload_probe:%d: %s (errno %d)\n", __LINE__, #condition, errno); \
      ++failures;                                                                \
    }                                                                            \
  } while (0)

/* A loopback socket on a port of the system's choosing, listening when `backlog` is not 0. */
static int bound_on(int* port, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, (struct sockaddr*)&address, sizeof(address)) != 0) return -1;
  if (backlog != 0 && listen(fd, backlog) != 0) return -1;
  getsockname(fd, (struct sockaddr*)&address, &length);
  *port = ntohs(address.sin_port);
  return fd;
}

static int listener_on(int* port) { return bound_on(port, 64); }

/* A port that refuses connects for as long as the returned socket stays open: bound, never
 * listening. A listener closed instead frees its port for any bind(0) before the connect. */
static int refusing_port(int* port) { return bound_on(port, 0); }

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return connect(fd, (struct sockaddr*)&address, sizeof(address)) == 0 ? fd : -1;
}

/* A listener and one connection accepted on it. */
static void connected_pair(int* listener, int* client, int* server) {
  int port = 0;
  *listener = listener_on(&port);
  *client = connect_to(port);
  *server = accept(*listener, NULL, NULL);
}

/* Waits (up to 2 s) until the kernel has `fd` in TCP state `state` (netinet/tcp.h's numbers). */
static int wait_for_state(int fd, int state) {
  for (int i = 0; i < 400; ++i) {
    struct tcp_info info;
    socklen_t length = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) == 0 && info.tcpi_state == state)
      return 1;
    usleep(5000);
  }
  return 0;
}

/* Three connections whose client closes without reading how the server ended it, in this order
 * of closes: the server closes (FIN) and then the client; the server resets and then the
 * client; the client shuts down its sending side, the server reads the end and closes, and then
 * the client closes (each side's FIN in turn, nothing to conclude from the kernel). */
static void unread_endings_scenario(void) {
  int listener, client, server;
  connected_pair(&listener, &client, &server);
  CHECK(close(server) == 0);
  CHECK(wait_for_state(client, TCP_CLOSE_WAIT));
  CHECK(close(client) == 0);

  struct sockaddr_in bound;
  socklen_t bound_length = sizeof(bound);
  CHECK(getsockname(listener, (struct sockaddr*)&bound, &bound_length) == 0);
  int reset_client = connect_to(ntohs(bound.sin_port));
  int reset_server = accept(listener, NULL, NULL);
  struct linger hard = {1, 0};
  CHECK(setsockopt(reset_server, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard)) == 0);
  CHECK(close(reset_server) == 0);
  CHECK(wait_for_state(reset_client, TCP_CLOSE));
  CHECK(close(reset_client) == 0);

  int port = 0;
  int second_listener = listener_on(&port);
  int half_client = connect_to(port);
  int half_server = accept(second_listener, NULL, NULL);
  CHECK(shutdown(half_client, SHUT_WR) == 0);
  char byte;
  CHECK(read(half_server, &byte, 1) == 0);
  CHECK(close(half_server) == 0);
  usleep(20000);
  CHECK(close(half_client) == 0);
  close(listener);
  close(second_listener);
}

/* What the kernel tells beside the program's calls: a blocking and a non-blocking connect refused
 * (no listener on the port), a close that discards 1000 unread bytes, and a client that writes on
 * after its server closed until a send fails with EPIPE (the server's kernel reset it). */
static void kernel_view_scenario(void) {
  int port = 0;
  int refusing = refusing_port(&port);
  CHECK(refusing >= 0);
  errno = 0;
  CHECK(connect_to(port) == -1 && errno == ECONNREFUSED);

  int pending = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int started = connect(pending, (struct sockaddr*)&address, sizeof(address));
  CHECK(started == 0 || errno == EINPROGRESS);
  struct pollfd writable = {pending, POLLOUT, 0};
  CHECK(poll(&writable, 1, 2000) == 1);
  int error = 0;
  socklen_t length = sizeof(error);
  CHECK(getsockopt(pending, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == ECONNREFUSED);
  CHECK(close(pending) == 0);
  close(refusing);

  int listener, client, server;
  connected_pair(&listener, &client, &server);
  static char thousand[1000];
  CHECK(send(client, thousand, sizeof(thousand), 0) == (ssize_t)sizeof(thousand));
  usleep(20000);
  CHECK(close(server) == 0); /* 1000 bytes unread: the stack resets */
  CHECK(wait_for_state(client, TCP_CLOSE));
  CHECK(close(client) == 0);

  struct sockaddr_in bound;
  socklen_t bound_length = sizeof(bound);
  CHECK(getsockname(listener, (struct sockaddr*)&bound, &bound_length) == 0);
  int talker = connect_to(ntohs(bound.sin_port));
  int quitter = accept(listener, NULL, NULL);
  CHECK(close(quitter) == 0);
  CHECK(wait_for_state(talker, TCP_CLOSE_WAIT));
  CHECK(send(talker, "12345", 5, MSG_NOSIGNAL) == 5); /* the server's kernel answers with RST */
  CHECK(wait_for_state(talker, TCP_CLOSE));
  errno = 0;
  ssize_t late = send(talker, "12345", 5, MSG_NOSIGNAL);
  CHECK(late == -1 && errno == EPIPE); /* a reset in CLOSE_WAIT: Linux says EPIPE */
  CHECK(close(talker) == 0);
  close(listener);
}

/* Closes the layer cannot see, as libuv makes them (syscall(SYS_close)): one whose descriptor the
 * next socket takes, and one left closed until the process exits. */
static void raw_close_scenario(void) {
  int listener, client, server;
  connected_pair(&listener, &client, &server);
  CHECK(syscall(SYS_close, client) == 0);
  char byte;
  CHECK(read(server, &byte, 1) == 0); /* the raw close's FIN */
  int next = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(next == client); /* the lowest free descriptor: the raw-closed one's */
  close(next);
  CHECK(close(server) == 0);

  struct sockaddr_in bound;
  socklen_t bound_length = sizeof(bound);
  CHECK(getsockname(listener, (struct sockaddr*)&bound, &bound_length) == 0);
  int left = connect_to(ntohs(bound.sin_port));
  int left_server = accept(listener, NULL, NULL);
  CHECK(syscall(SYS_close, left) == 0); /* never reused: noticed at exit */
  CHECK(read(left_server, &byte, 1) == 0);
  CHECK(close(left_server) == 0);
  close(listener);
}

/* Connections made every way a program learns it: a blocking connect, a non-blocking one seen
 * writable by poll, one whose SO_ERROR is read without waiting for it to be writable, and a
 * connect refused. */
static void established_scenario(void) {
  int listener, client, server;
  connected_pair(&listener, &client, &server);
  struct sockaddr_in bound;
  socklen_t bound_length = sizeof(bound);
  CHECK(getsockname(listener, (struct sockaddr*)&bound, &bound_length) == 0);
  for (int way = 0; way < 2; ++way) {
    int pending = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int started = connect(pending, (struct sockaddr*)&bound, sizeof(bound));
    CHECK(started == 0 || errno == EINPROGRESS);
    int error = -1;
    socklen_t length = sizeof(error);
    if (way == 0) {
      struct pollfd writable = {pending, POLLOUT, 0};
      CHECK(poll(&writable, 1, 2000) == 1);
    } else {
      usleep(20000);
    }
    CHECK(getsockopt(pending, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0);
    int accepted = accept(listener, NULL, NULL);
    CHECK(accepted >= 0);
    close(pending);
    close(accepted);
  }
  close(client);
  close(server);
  close(listener);
  int port = 0;
  int refusing = refusing_port(&port);
  CHECK(refusing >= 0);
  errno = 0;
  CHECK(connect_to(port) == -1 && errno == ECONNREFUSED);
  close(refusing);
}

static void errno_scenario(void) {
  errno = 0;
  CHECK(close(-1) == -1 && errno == EBADF);
  errno = 0;
  CHECK(shutdown(12345, SHUT_WR) == -1 && errno == EBADF);
  int listener, client, server;
  connected_pair(&listener, &client, &server);
  CHECK(client >= 0 && server >= 0);
  char byte;
  errno = 0;
  CHECK(recv(server, &byte, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN);
  CHECK(send(client, "abc", 3, 0) == 3);
  char buffer[8];
  CHECK(recv(server, buffer, sizeof(buffer), 0) == 3 && memcmp(buffer, "abc", 3) == 0);
  struct linger hard = {1, 0};
  CHECK(setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard)) == 0);
  CHECK(close(client) == 0);
  errno = 0;
  CHECK(recv(server, buffer, sizeof(buffer), 0) == -1 && errno == ECONNRESET);
  errno = 0;
  CHECK(send(server, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
  CHECK(close(server) == 0 && close(listener) == 0);
}

static void pipes_scenario(void) {
  int ends[2];
  CHECK(pipe(ends) == 0);
  CHECK(write(ends[1], "hello", 5) == 5);
  char buffer[16];
  CHECK(read(ends[0], buffer, 2) == 2 && memcmp(buffer, "he", 2) == 0);  /* partial reads stay */
  CHECK(close(ends[1]) == 0);
  CHECK(read(ends[0], buffer, sizeof(buffer)) == 3);
  CHECK(read(ends[0], buffer, sizeof(buffer)) == 0);
  CHECK(close(ends[0]) == 0);
  int duplicate = dup(1);
  CHECK(duplicate > 2 && close(duplicate) == 0);
}

static int thread_port;
static void* connect_and_close(void* unused) {
  (void)unused;
  for (int i = 0; i < 100; ++i) {
    int fd = connect_to(thread_port);
    if (fd < 0 || close(fd) != 0) return (void*)1;
  }
  return NULL;
}

static void threads_scenario(void) {
  int listener = listener_on(&thread_port);
  pthread_t threads[4];
  for (int t = 0; t < 4; ++t) pthread_create(&threads[t], NULL, connect_and_close, NULL);
  for (int accepted = 0; accepted < 400; ++accepted) {
    int fd = accept(listener, NULL, NULL);
    char byte;
    CHECK(fd >= 0 && read(fd, &byte, 1) == 0);
    CHECK(close(fd) == 0);
  }
  for (int t = 0; t < 4; ++t) {
    void* result = NULL;
    pthread_join(threads[t], &result);
    CHECK(result == NULL);
  }
  close(listener);
}

static void fork_scenario(void) {
  int listener, client, server;
  connected_pair(&listener, &client, &server);
  pid_t child = fork();
  if (child == 0) {
    /* The child writes on the inherited socket and exits: the parent's copy stays open. */
    _exit(write(server, "from child", 10) == 10 ? 0 : 1);
  }
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char buffer[16];
  CHECK(read(client, buffer, sizeof(buffer)) == 10);
  CHECK(close(server) == 0);
  CHECK(read(client, buffer, sizeof(buffer)) == 0);
  CHECK(close(client) == 0 && close(listener) == 0);
}

static int abortive_scenario(void) {
  int listener, client, server;
  connected_pair(&listener, &client, &server);
  struct linger hard = {1, 0};
  CHECK(setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard)) == 0);
  CHECK(close(client) == 0);
  char byte;
  ssize_t n = read(server, &byte, 1);
  int saw_reset = n == -1 && errno == ECONNRESET;
  int saw_end = n == 0;
  CHECK(saw_reset || saw_end);
  close(server);
  close(listener);
  if (failures != 0) return 1;
  return saw_reset ? 0 : 3;
}

/* Two connections closed at once with close_range; the peers read their end. */
static void close_range_scenario(void) {
  int port = 0;
  int listener = listener_on(&port);
  int first = connect_to(port);
  int first_peer = accept(listener, NULL, NULL);
  int second = connect_to(port);
  int second_peer = accept(listener, NULL, NULL);
  int low = first < second ? first : second;
  int high = first < second ? second : first;
  CHECK(high - low == 2);  /* first_peer lies between them: it goes too */
  CHECK(close_range((unsigned)low, (unsigned)high, 0) == 0);
  char byte;
  CHECK(read(second_peer, &byte, 1) == 0);
  CHECK(close(second_peer) == 0 && close(listener) == 0);
  errno = 0;
  CHECK(close(first_peer) == -1 && errno == EBADF);
}

/* A connection survives exec: the new image (run again under the layer) closes the inherited
 * client end, and the peer, still here in the parent, reads the end of the stream. */
static void exec_scenario(const char* self) {
  int listener, client, server;
  connected_pair(&listener, &client, &server);
  pid_t child = fork();
  if (child == 0) {
    char descriptor[16];
    snprintf(descriptor, sizeof(descriptor), "%d", client);
    execl("/proc/self/exe", self, "exec-child", descriptor, (char*)NULL);
    _exit(127);
  }
  CHECK(close(client) == 0);  /* the parent's copy: the child's still holds the connection */
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char byte;
  CHECK(read(server, &byte, 1) == 0);
  CHECK(close(server) == 0 && close(listener) == 0);
}

/* Reads exactly `length` bytes with `receive` (TCP may hand them over in pieces). */
static int receive_all(int fd, char* buffer, size_t length, int how) {
  size_t got = 0;
  while (got < length) {
    ssize_t n = -1;
    struct iovec one = {buffer + got, length - got};
    struct msghdr message = {0};
    message.msg_iov = &one;
    message.msg_iovlen = 1;
    switch (how) {
      case 0:
        n = read(fd, buffer + got, length - got);
        break;
      case 1:
        n = recv(fd, buffer + got, length - got, 0);
        break;
      case 2:
        n = recvfrom(fd, buffer + got, length - got, 0, NULL, NULL);
        break;
      case 3:
        n = recvmsg(fd, &message, 0);
        break;
      default:
        n = readv(fd, &one, 1);
        break;
    }
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  return 0;
}

/* Bytes both ways through every send and receive call, a peek among them: the closes' totals
 * (checked by the test) count each byte once. The client sends 3 + 5 + 7 + 11 + 13 = 39 bytes,
 * the server 17. */
static void totals_scenario(void) {
  int listener, client, server;
  connected_pair(&listener, &client, &server);
  char data[64];
  memset(data, 'x', sizeof(data));
  struct iovec one = {data, 11};
  struct msghdr message = {0};
  message.msg_iov = &one;
  message.msg_iovlen = 1;
  struct iovec thirteen = {data, 13};
  CHECK(write(client, data, 3) == 3);
  CHECK(send(client, data, 5, 0) == 5);
  CHECK(sendto(client, data, 7, 0, NULL, 0) == 7);
  CHECK(sendmsg(client, &message, 0) == 11);
  CHECK(writev(client, &thirteen, 1) == 13);
  char in[64];
  CHECK(receive_all(server, in, 1, 0) == 0);
  char peeked;
  CHECK(recv(server, &peeked, 1, MSG_PEEK) == 1); /* looked at, not taken: not counted */
  CHECK(receive_all(server, in, 8, 1) == 0);
  CHECK(receive_all(server, in, 10, 2) == 0);
  CHECK(receive_all(server, in, 10, 3) == 0);
  CHECK(receive_all(server, in, 10, 4) == 0);
  CHECK(send(server, data, 17, 0) == 17);
  CHECK(receive_all(client, in, 17, 0) == 0);
  CHECK(close(client) == 0);
  char byte;
  CHECK(read(server, &byte, 1) == 0);
  CHECK(close(server) == 0 && close(listener) == 0);
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "exec-child") == 0) return close(atoi(argv[2])) == 0 ? 0 : 1;
  if (argc < 2) return 2;
  if (strcmp(argv[1], "errno") == 0) errno_scenario();
  else if (strcmp(argv[1], "pipes") == 0) pipes_scenario();
  else if (strcmp(argv[1], "threads") == 0) threads_scenario();
  else if (strcmp(argv[1], "fork") == 0) fork_scenario();
  else if (strcmp(argv[1], "abortive") == 0) return abortive_scenario();
  else if (strcmp(argv[1], "unread_endings") == 0) unread_endings_scenario();
  else if (strcmp(argv[1], "kernel_view") == 0) kernel_view_scenario();
  else if (strcmp(argv[1], "raw_close") == 0) raw_close_scenario();
  else if (strcmp(argv[1], "established") == 0) established_scenario();
  else if (strcmp(argv[1], "close_range") == 0) close_range_scenario();
  else if (strcmp(argv[1], "exec") == 0) exec_scenario(argv[0]);
  else if (strcmp(argv[1], "totals") == 0)
    totals_scenario();
  else return 2;
  return failures == 0 ? 0 : 1;
}
