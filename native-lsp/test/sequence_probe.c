/* Random but reproducible sequences of socket calls, printing everything the program sees.
 *
 *   sequence_probe SEED PORT
 *
 * From SEED, three threads each get two connections to PORT on 127.0.0.1 (made one after another
 * before they start, so that which accept gets which connection is fixed) and make 80 calls on
 * them, picked at random: sends and receives with every flag, shutdowns, linger settings, closes
 * (graceful and abortive, so the peer sees resets), dup, fork, poll, epoll and SO_ERROR. Each
 * thread writes its own transcript; they are printed in thread order at the end, so the output is
 * the same on every run of the same SEED. test_invisibility runs it without the layer and under
 * it, and requires the same output. Waits for readiness are bounded (poll, 20 ms), and each call
 * is given 10 ms for the peer's reaction to land.
 *
 * Every connection has TCP_NODELAY. With Nagle's algorithm a small send can wait in the sender's
 * queue for the peer's delayed ACK (40 ms), and whether it is still waiting when the peer shuts
 * down both directions decides whether its late arrival resets the connection: the transcript
 * would depend on the clock, not on the calls. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kThreads = 3, kPairs = 2, kCalls = 80, kTranscript = 64 << 10 };

struct worker {
  int index;
  uint32_t random;
  int ends[kPairs][2]; /* [pair][0 client, 1 server]; -1 once closed */
  int epfd;
  char transcript[kTranscript];
  size_t used;
};

static int port;
static struct worker* all_workers;
static volatile int calls_made[kThreads];

static uint32_t next_random(struct worker* w) {
  w->random ^= w->random << 13;
  w->random ^= w->random >> 17;
  w->random ^= w->random << 5;
  return w->random;
}

static void note(struct worker* w, const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int n = vsnprintf(w->transcript + w->used, kTranscript - w->used, format, arguments);
  va_end(arguments);
  if (n > 0 && w->used + (size_t)n < kTranscript) w->used += (size_t)n;
}

static const char* error_name(long result) {
  if (result >= 0) return "";
  const char* name = strerrorname_np(errno);
  return name != NULL ? name : "?";
}

static void result(struct worker* w, int call, const char* what, long value) {
  note(w, "%02d %s = %ld %s\n", call, what, value, error_name(value));
}

static void no_delay(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    perror("sequence_probe: TCP_NODELAY");
    exit(3);
  }
}

static int connect_to_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((uint16_t)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*)&address, sizeof(address)) != 0) {
    perror("sequence_probe: connect");
    exit(3);
  }
  return fd;
}

/* Waits (bounded) until `fd` is readable, so that what a receive returns does not depend on
 * timing; returns poll's revents. */
static short wait_readable(int fd) {
  struct pollfd item = {fd, POLLIN | POLLRDHUP, 0};
  return poll(&item, 1, 20) > 0 ? item.revents : 0;
}

static void send_some(struct worker* w, int call, int fd) {
  static const int flag_choices[] = {MSG_DONTWAIT | MSG_NOSIGNAL, MSG_NOSIGNAL, MSG_DONTWAIT};
  char bytes[3000];
  size_t length = 1 + next_random(w) % sizeof(bytes);
  for (size_t i = 0; i < length; ++i) bytes[i] = (char)(i * 7 + (size_t)call);
  int flags = flag_choices[next_random(w) % 3];
  result(w, call, "send", send(fd, bytes, length, flags));
}

static void receive_some(struct worker* w, int call, int fd) {
  static const int flag_choices[] = {0,      MSG_PEEK, MSG_WAITALL, MSG_TRUNC, MSG_PEEK | MSG_TRUNC,
                                     MSG_OOB};
  int flags = flag_choices[next_random(w) % 6] | MSG_DONTWAIT;
  char buffer[4096];
  size_t length = 1 + next_random(w) % sizeof(buffer);
  short ready = (flags & MSG_OOB) ? 0 : wait_readable(fd);
  long got = recv(fd, (flags & MSG_TRUNC) && !(flags & MSG_PEEK) ? NULL : buffer, length, flags);
  unsigned sum = 0;
  for (long i = 0; !(flags & MSG_TRUNC) && i < got; ++i) sum = sum * 31 + (unsigned char)buffer[i];
  note(w, "%02d recv flags %x ready %x = %ld %s sum %u\n", call, flags & ~MSG_DONTWAIT, ready, got,
       error_name(got), sum);
}

static void show_poll(struct worker* w, int call, int a, int b) {
  struct pollfd items[2] = {{a, POLLIN | POLLOUT | POLLRDHUP, 0},
                            {b, POLLIN | POLLOUT | POLLRDHUP, 0}};
  int n = poll(items, 2, 20);
  note(w, "%02d poll = %d %x %x\n", call, n, items[0].revents, items[1].revents);
}

static void show_epoll(struct worker* w, int call) {
  struct epoll_event ready[4];
  int n = epoll_wait(w->epfd, ready, 4, 20);
  /* Which sockets are ready, and for what, is the transcript's; the order they come in is the
   * order they became ready, which the other threads' timing decides: shown sorted. */
  for (int i = 1; i < n; ++i) {
    for (int j = i; j > 0 && ready[j - 1].data.u64 > ready[j].data.u64; --j) {
      struct epoll_event swap = ready[j];
      ready[j] = ready[j - 1];
      ready[j - 1] = swap;
    }
  }
  note(w, "%02d epoll_wait = %d", call, n);
  for (int i = 0; i < n; ++i)
    note(w, " [%llu %x]", (unsigned long long)ready[i].data.u64, ready[i].events);
  note(w, "\n");
}

static void fork_and_close(struct worker* w, int call, int fd) {
  pid_t child = fork();
  if (child == 0) {
    close(fd);
    _exit(7);
  }
  int status = 0;
  waitpid(child, &status, 0);
  note(w, "%02d fork child exit %d\n", call, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void one_call(struct worker* w, int call) {
  int pair = (int)(next_random(w) % kPairs);
  int side = (int)(next_random(w) % 2);
  int* end = &w->ends[pair][side];
  int other = w->ends[pair][1 - side];
  if (*end < 0) {
    note(w, "%02d (closed)\n", call);
    return;
  }
  int fd = *end;
  switch (next_random(w) % 12) {
    case 0:
    case 1:
      send_some(w, call, fd);
      break;
    case 2:
    case 3:
      receive_some(w, call, fd);
      break;
    case 4: {
      int how = (int)(next_random(w) % 3);
      char what[32];
      snprintf(what, sizeof(what), "shutdown %d", how);
      result(w, call, what, shutdown(fd, how));
      break;
    }
    case 5: {
      struct linger option = {(int)(next_random(w) % 2), (int)(next_random(w) % 2)};
      char what[32];
      snprintf(what, sizeof(what), "linger {%d,%d}", option.l_onoff, option.l_linger);
      result(w, call, what, setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof(option)));
      break;
    }
    case 6:
      if (next_random(w) % 3 == 0) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
        result(w, call, "close", close(fd));
        *end = -1;
      } else {
        show_poll(w, call, fd, other);
      }
      break;
    case 7: {
      int copy = dup(fd);
      epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
      result(w, call, "dup then close the original", copy >= 0 && close(fd) == 0 ? 0 : -1);
      *end = copy;
      struct epoll_event interest = {.events = EPOLLIN | EPOLLRDHUP,
                                     .data.u64 = (uint64_t)(pair * 2 + side)};
      epoll_ctl(w->epfd, EPOLL_CTL_ADD, copy, &interest);
      break;
    }
    case 8:
      fork_and_close(w, call, fd);
      break;
    case 9:
      show_epoll(w, call);
      break;
    case 10: {
      int pending = -1;
      socklen_t length = sizeof(pending);
      long r = getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length);
      note(w, "%02d SO_ERROR = %ld %s\n", call, r, pending == 0 ? "0" : strerrorname_np(pending));
      break;
    }
    default: {
      int unread = -1;
      long r = ioctl(fd, FIONREAD, &unread);
      note(w, "%02d FIONREAD = %ld %d\n", call, r, unread);
      break;
    }
  }
}

/* Loopback carries a segment at once, but the peer's answer to it (a reset for data sent to a
 * closed socket, say) may be made on another CPU: each call is given time for that to land
 * before the next looks at the connection. 3 ms was not always enough on a loaded 2-core VM
 * (about one run in 35 of the eight seeds saw a reset land after the next poll). */
static void settle(void) {
  struct timespec pause = {0, 10 * 1000 * 1000};
  nanosleep(&pause, NULL);
}

static void* work(void* argument) {
  struct worker* w = argument;
  for (int call = 0; call < kCalls; ++call) {
    calls_made[w->index] = call;
    one_call(w, call);
    settle();
  }
  for (int pair = 0; pair < kPairs; ++pair) {
    for (int side = 0; side < 2; ++side) {
      if (w->ends[pair][side] >= 0) close(w->ends[pair][side]);
    }
  }
  close(w->epfd);
  return NULL;
}

/* A call that never returned: what each thread saw so far, and where it stopped. */
static void alarm_rang(int signal_number) {
  (void)signal_number;
  for (int t = 0; t < kThreads; ++t) {
    char line[96];
    int n = snprintf(line, sizeof(line), "thread %d (stopped in call %d)\n", t, calls_made[t]);
    if (write(1, line, (size_t)n) < 0 ||
        write(1, all_workers[t].transcript, all_workers[t].used) < 0)
      break;
  }
  _exit(4);
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  uint32_t seed = (uint32_t)strtoul(argv[1], NULL, 10);
  port = atoi(argv[2]);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGALRM, alarm_rang);
  alarm(60);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int reuse = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((uint16_t)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr*)&address, sizeof(address)) != 0 ||
      listen(listener, 16) != 0) {
    perror("sequence_probe: listen");
    return 3;
  }
  static struct worker workers[kThreads];
  all_workers = workers;
  for (int t = 0; t < kThreads; ++t) {
    struct worker* w = &workers[t];
    w->index = t;
    w->random = seed * 2654435761u + (uint32_t)t * 40503u + 1u;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    for (int pair = 0; pair < kPairs; ++pair) {
      w->ends[pair][0] = connect_to_port();
      w->ends[pair][1] = accept(listener, NULL, NULL);
      no_delay(w->ends[pair][0]);
      no_delay(w->ends[pair][1]);
      for (int side = 0; side < 2; ++side) {
        struct epoll_event interest = {.events = EPOLLIN | EPOLLRDHUP,
                                       .data.u64 = (uint64_t)(pair * 2 + side)};
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->ends[pair][side], &interest);
      }
    }
  }
  pthread_t threads[kThreads];
  for (int t = 0; t < kThreads; ++t) pthread_create(&threads[t], NULL, work, &workers[t]);
  for (int t = 0; t < kThreads; ++t) pthread_join(threads[t], NULL);
  for (int t = 0; t < kThreads; ++t) printf("thread %d\n%s", t, workers[t].transcript);
  close(listener);
  return 0;
}
