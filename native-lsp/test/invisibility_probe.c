/* Prints what a program sees of its sockets, one observation a line: return values, errno, poll
 * revents, SO_ERROR, bytes, and whether calls return at all. test_invisibility runs each scenario
 * without the layer, under it with a channel recording everything, and under it with
 * disconnect-data emulation on PORT; the three transcripts must be identical.
 *
 *   invisibility_probe SCENARIO PORT
 *
 * Every scenario's connections are made to PORT on 127.0.0.1 (so the emulated run frames them),
 * and every scenario is bounded: an alarm ends a call that never returns. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int port;

/* One observation: what a call returned and, when it failed, its errno by name. */
static void seen(const char* what, long result) {
  int error = errno;
  if (result < 0) {
    printf("%s = -1 %s\n", what, strerrorname_np(error) ? strerrorname_np(error) : "?");
  } else {
    printf("%s = %ld\n", what, result);
  }
  fflush(stdout);
  errno = error;
}

static void seen_bytes(const char* what, const char* bytes, long length) {
  printf("%s:", what);
  for (long i = 0; i < length; ++i) printf(" %02x", (unsigned char)bytes[i]);
  printf("\n");
  fflush(stdout);
}

static void seen_revents(const char* what, short revents) {
  static const struct {
    short bit;
    const char* name;
  } names[] = {{POLLIN, "IN"},   {POLLPRI, "PRI"},   {POLLOUT, "OUT"},    {POLLERR, "ERR"},
               {POLLHUP, "HUP"}, {POLLNVAL, "NVAL"}, {POLLRDHUP, "RDHUP"}};
  printf("%s:", what);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
    if (revents & names[i].bit) printf(" %s", names[i].name);
  }
  printf("\n");
  fflush(stdout);
}

static void seen_so_error(int fd) {
  int pending = -1;
  socklen_t length = sizeof(pending);
  int result = getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length);
  printf("SO_ERROR = %s (getsockopt %d)\n",
         pending == 0 ? "0" : (strerrorname_np(pending) ? strerrorname_np(pending) : "?"), result);
  fflush(stdout);
}

static struct sockaddr_in loopback(void) {
  struct sockaddr_in address;
  memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_port = htons((uint16_t)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

static int listen_on_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int reuse = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
  struct sockaddr_in address = loopback();
  if (bind(fd, (struct sockaddr*)&address, sizeof(address)) != 0 || listen(fd, 16) != 0) {
    perror("invisibility_probe: listen");
    exit(3);
  }
  return fd;
}

/* A connection to PORT: the client's and the accepted server's ends. */
static void pair(int* listener, int* client, int* server) {
  *listener = listen_on_port();
  *client = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = loopback();
  if (connect(*client, (struct sockaddr*)&address, sizeof(address)) != 0) {
    perror("invisibility_probe: connect");
    exit(3);
  }
  *server = accept(*listener, NULL, NULL);
}

static void sleep_ms(int milliseconds) {
  struct timespec pause = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
  nanosleep(&pause, NULL);
}

static void abort_connection(int fd) {
  struct linger hard = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  close(fd);
}

/* A non-blocking connect to a port nobody listens on, learned the way event loops learn it:
 * poll for writability, then SO_ERROR. */
static void refused_connect(int use_epoll) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in address = loopback();
  seen("connect", connect(fd, (struct sockaddr*)&address, sizeof(address)));
  if (use_epoll) {
    int epfd = epoll_create1(0);
    struct epoll_event interest = {.events = EPOLLOUT, .data.u64 = 77};
    seen("epoll_ctl", epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &interest));
    struct epoll_event ready;
    seen("epoll_wait", epoll_wait(epfd, &ready, 1, 5000));
    seen_revents("events", (short)ready.events);
    close(epfd);
  } else {
    struct pollfd item = {fd, POLLOUT, 0};
    seen("poll", poll(&item, 1, 5000));
    seen_revents("revents", item.revents);
  }
  seen_so_error(fd);
  seen_so_error(fd);
  seen("close", close(fd));
}

/* The peer resets; this side hears of it through poll or epoll, then reads. */
static void reset_seen_by_poll(int use_epoll) {
  int listener, client, server;
  pair(&listener, &client, &server);
  abort_connection(client);
  if (use_epoll) {
    int epfd = epoll_create1(0);
    struct epoll_event interest = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = server};
    seen("epoll_ctl", epoll_ctl(epfd, EPOLL_CTL_ADD, server, &interest));
    struct epoll_event ready;
    seen("epoll_wait", epoll_wait(epfd, &ready, 1, 5000));
    seen_revents("events", (short)ready.events);
    close(epfd);
  } else {
    struct pollfd item = {server, POLLIN | POLLRDHUP, 0};
    seen("poll", poll(&item, 1, 5000));
    seen_revents("revents", item.revents);
  }
  char buffer[16];
  seen("recv", recv(server, buffer, sizeof(buffer), 0));
  seen("recv again", recv(server, buffer, sizeof(buffer), 0));
  seen("close", close(server));
  close(listener);
}

/* Urgent data read in line, as ftplib's abort does it: the client sends a command with MSG_OOB
 * (the last byte is urgent), the server has SO_OOBINLINE set and reads it in the stream; then more
 * ordinary bytes both ways. Set on the listener (inherited) and on an accepted socket. */
static void urgent_inline(void) {
  for (int on_listener = 1; on_listener >= 0; --on_listener) {
    int listener = listen_on_port();
    int one = 1;
    if (on_listener) {
      seen("oobinline listener", setsockopt(listener, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one)));
    }
    int client = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = loopback();
    if (connect(client, (struct sockaddr*)&address, sizeof(address)) != 0) {
      perror("invisibility_probe: connect");
      exit(3);
    }
    int server = accept(listener, NULL, NULL);
    if (!on_listener) {
      seen("oobinline", setsockopt(server, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one)));
    }
    seen("send", send(client, "USER x\r\n", 8, 0));
    sleep_ms(50);
    char buffer[64];
    long got = recv(server, buffer, sizeof(buffer), 0);
    seen("recv", got);
    if (got > 0) seen_bytes("bytes", buffer, got);
    seen("send OOB", send(client, "ABOR\r\n", 6, MSG_OOB));
    sleep_ms(50);
    int at_mark = -1;
    long total = 0;
    for (int round = 0; round < 8 && total < 6; ++round) {
      got = recv(server, buffer + total, sizeof(buffer) - total, MSG_DONTWAIT);
      if (got <= 0) break;
      total += got;
    }
    seen("recv abort", total);
    seen_bytes("abort", buffer, total);
    seen("atmark after", ioctl(server, SIOCATMARK, &at_mark));
    seen("send", send(server, "226 ok\r\n", 8, 0));
    sleep_ms(50);
    got = recv(client, buffer, sizeof(buffer), 0);
    seen("recv reply", got);
    if (got > 0) seen_bytes("reply", buffer, got);
    seen("send", send(client, "QUIT\r\n", 6, 0));
    sleep_ms(50);
    got = recv(server, buffer, sizeof(buffer), 0);
    seen("recv", got);
    if (got > 0) seen_bytes("bytes", buffer, got);
    close(client);
    close(server);
    close(listener);
  }
}

/* Receive flags the layer has no business with: MSG_TRUNC discards (a NULL buffer is legal),
 * MSG_ERRQUEUE reads the error queue, MSG_OOB the urgent byte. */
static void receive_flags(void) {
  int listener, client, server;
  pair(&listener, &client, &server);
  const char hello_like[] =
      "\xa1\x00\x00\x05TDWN\x01"
      "0123456789";
  seen("send", send(client, hello_like, sizeof(hello_like) - 1, 0));
  sleep_ms(50);
  char buffer[64];
  seen("recv TRUNC NULL", recv(server, NULL, 4, MSG_TRUNC));
  seen("recv ERRQUEUE", recv(server, buffer, sizeof(buffer), MSG_ERRQUEUE | MSG_DONTWAIT));
  seen("recv OOB", recv(server, buffer, sizeof(buffer), MSG_OOB | MSG_DONTWAIT));
  seen("recv PEEK|TRUNC", recv(server, buffer, 2, MSG_PEEK | MSG_TRUNC));
  long got = recv(server, buffer, sizeof(buffer), 0);
  seen("recv", got);
  if (got > 0) seen_bytes("bytes", buffer, got);
  seen("send OOB", send(client, "!", 1, MSG_OOB));
  sleep_ms(50);
  char urgent = 0;
  seen("recv OOB", recv(server, &urgent, 1, MSG_OOB));
  seen_bytes("urgent", &urgent, 1);
  seen("send", send(client, "more", 4, 0));
  sleep_ms(50);
  got = recv(server, buffer, sizeof(buffer), 0);
  seen("recv", got);
  if (got > 0) seen_bytes("bytes", buffer, got);
  seen("close", close(client));
  got = recv(server, buffer, sizeof(buffer), 0);
  seen("recv after close", got);
  close(server);
  close(listener);
}

/* A peer whose first bytes happen to be a HELLO, on a connection nobody emulates. */
static void hello_lookalike(void) {
  int listener, client, server;
  pair(&listener, &client, &server);
  const char bytes[] = "\xa1\x00\x00\x05TDWN\x01xyz";
  seen("send", send(client, bytes, sizeof(bytes) - 1, 0));
  char buffer[64];
  long got = 0, total = 0;
  while (total < (long)sizeof(bytes) - 1 &&
         (got = recv(server, buffer + total, sizeof(buffer) - total, 0)) > 0) {
    total += got;
  }
  seen("recv", got < 0 ? got : total);
  seen_bytes("bytes", buffer, total);
  close(client);
  close(server);
  close(listener);
}

struct blocked_call {
  int fd;
  long result;
  int error;
};

static void* send_until_stopped(void* argument) {
  struct blocked_call* call = argument;
  size_t length = 64u << 20;
  char* bytes = calloc(1, length);
  call->result = send(call->fd, bytes, length, MSG_NOSIGNAL);
  call->error = errno;
  free(bytes);
  return NULL;
}

static void* receive_until_stopped(void* argument) {
  struct blocked_call* call = argument;
  char buffer[64];
  call->result = recv(call->fd, buffer, sizeof(buffer), 0);
  call->error = errno;
  return NULL;
}

/* How a blocked call ended, in words that do not depend on timing. */
static void seen_ending(const char* what, const struct blocked_call* call, long whole) {
  if (call->result < 0) {
    printf("%s ended = -1 %s\n", what, strerrorname_np(call->error));
  } else if (call->result == 0) {
    printf("%s ended = 0\n", what);
  } else {
    printf("%s ended = %s\n", what, call->result < whole ? "part" : "all");
  }
  fflush(stdout);
}

/* Another thread is blocked in send (the peer does not read) or in recv (the peer sends
 * nothing); shutdown from this thread must return at once and wake it. */
static void shutdown_wakes_blocked_calls(void) {
  int listener, client, server;
  pair(&listener, &client, &server);
  struct blocked_call sending = {client, 0, 0};
  pthread_t sender;
  pthread_create(&sender, NULL, send_until_stopped, &sending);
  sleep_ms(300);
  seen("shutdown RDWR while send blocks", shutdown(client, SHUT_RDWR));
  pthread_join(sender, NULL);
  seen_ending("send", &sending, 64l << 20);
  close(client);
  close(server);
  close(listener);

  pair(&listener, &client, &server);
  struct blocked_call receiving = {server, 0, 0};
  pthread_t receiver;
  pthread_create(&receiver, NULL, receive_until_stopped, &receiving);
  sleep_ms(300);
  seen("shutdown RD while recv blocks", shutdown(server, SHUT_RD));
  pthread_join(receiver, NULL);
  seen_ending("recv", &receiving, 64);
  close(client);
  close(server);
  close(listener);
}

/* A socket closed behind libc's back (a raw close system call, fclose of an fdopen'ed stream),
 * its number then taken by a regular file. */
static void descriptor_reused(void) {
  int listener, client, server;
  pair(&listener, &client, &server);
  seen("send", send(client, "ab", 2, 0));
  seen("raw close", syscall(SYS_close, client));
  int file = open("/dev/null", O_RDWR);
  printf("same number: %s\n", file == client ? "yes" : "no");
  seen("write", write(file, "hello", 5));
  char buffer[8];
  seen("read", read(file, buffer, sizeof(buffer)));

  FILE* stream = fdopen(server, "r+");
  seen("fclose", fclose(stream));
  int other = open("/dev/null", O_RDWR);
  printf("same number: %s\n", other == server ? "yes" : "no");
  seen("write", write(other, "hello", 5));
  seen("close", close(other));
  seen("close", close(file));
  close(listener);
}

/* A vfork child (as posix_spawn and CPython's subprocess make) closes what it inherited, then
 * runs another program; the parent's connections must be as they were. */
static void vfork_child_closes(void) {
  int listener, client, server;
  pair(&listener, &client, &server);
  pid_t child = vfork();
  if (child == 0) {
    close(client);
    execl("/bin/true", "true", (char*)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  seen("child exit", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  seen("send", send(client, "after", 5, MSG_NOSIGNAL));
  char buffer[16];
  long got = recv(server, buffer, sizeof(buffer), 0);
  seen("recv", got);
  if (got > 0) seen_bytes("bytes", buffer, got);
  seen("close", close(client));
  seen("recv", recv(server, buffer, sizeof(buffer), 0));
  close(server);
  close(listener);
}

/* A vfork child that only exits: the parent's sockets are still the parent's. */
static void vfork_child_exits(void) {
  int listener, client, server;
  pair(&listener, &client, &server);
  pid_t child = vfork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  seen("child exit", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  seen("close", close(client));
  char buffer[4];
  seen("recv", recv(server, buffer, sizeof(buffer), 0));
  seen("close", close(server));
  close(listener);
}

/* dup2 onto a socket fails (a bad source): the target is still open and still a socket. */
static void failed_duplication(void) {
  int listener, client, server;
  pair(&listener, &client, &server);
  seen("dup2 bad source", dup2(-1, client));
  seen("dup3 bad flags", dup3(server, client, 12345));
  seen("send", send(client, "x", 1, 0));
  int copy = fcntl(client, F_DUPFD_CLOEXEC, 100);
  seen("F_DUPFD_CLOEXEC >= 100", copy >= 100);
  seen("close original", close(client));
  seen("send on copy", send(copy, "y", 1, 0));
  char buffer[4];
  seen("recv", recv(server, buffer, sizeof(buffer), MSG_WAITALL | MSG_DONTWAIT));
  seen("close copy", close(copy));
  seen("recv", recv(server, buffer, sizeof(buffer), 0));
  close(server);
  close(listener);
}

/* close() called from a signal handler, interrupting the program anywhere, even inside the
 * layer's own calls (acquiring an emulated connection, closing one): it must neither deadlock
 * nor fail. Another thread signals the main one every 20 us; the handler closes the spare
 * socket, if there is one. */
static volatile sig_atomic_t spare = -1;
static volatile sig_atomic_t interrupting = 1;

static void close_spare(int signal_number) {
  (void)signal_number;
  int saved = errno;
  int fd = spare;
  spare = -1;
  if (fd >= 0) close(fd);
  errno = saved;
}

static void* interrupt_often(void* target) {
  struct timespec pause = {0, 20 * 1000};
  while (interrupting) {
    pthread_kill(*(pthread_t*)target, SIGUSR1);
    nanosleep(&pause, NULL);
  }
  return NULL;
}

static void close_in_signal_handler(void) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = close_spare;
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, NULL);
  int listener = listen_on_port();
  struct sockaddr_in address = loopback();
  pthread_t self = pthread_self(), interrupter;
  pthread_create(&interrupter, NULL, interrupt_often, &self);
  int made = 0;
  for (int round = 0; round < 1000; ++round) {
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(client, (struct sockaddr*)&address, sizeof(address)) != 0) break;
    int server = accept(listener, NULL, NULL);
    if (spare < 0) {
      spare = client; /* the handler closes it, whenever the signal comes */
      client = -1;
    }
    if (client >= 0) close(client);
    close(server);
    ++made;
  }
  interrupting = 0;
  pthread_join(interrupter, NULL);
  if (spare >= 0) close(spare);
  printf("connections made and closed: %d\n", made);
  close(listener);
}

static void alarm_rang(int signal_number) {
  (void)signal_number;
  static const char message[] = "timed out: a call did not return\n";
  if (write(1, message, sizeof(message) - 1) < 0) _exit(4);
  _exit(4);
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  port = atoi(argv[2]);
  signal(SIGALRM, alarm_rang);
  alarm(20);
  const char* scenario = argv[1];
  if (strcmp(scenario, "refused-connect-poll") == 0)
    refused_connect(0);
  else if (strcmp(scenario, "refused-connect-epoll") == 0)
    refused_connect(1);
  else if (strcmp(scenario, "reset-poll") == 0)
    reset_seen_by_poll(0);
  else if (strcmp(scenario, "reset-epoll") == 0)
    reset_seen_by_poll(1);
  else if (strcmp(scenario, "receive-flags") == 0)
    receive_flags();
  else if (strcmp(scenario, "urgent-inline") == 0)
    urgent_inline();
  else if (strcmp(scenario, "hello-lookalike") == 0)
    hello_lookalike();
  else if (strcmp(scenario, "shutdown-wakes") == 0)
    shutdown_wakes_blocked_calls();
  else if (strcmp(scenario, "descriptor-reused") == 0)
    descriptor_reused();
  else if (strcmp(scenario, "vfork-child") == 0)
    vfork_child_closes();
  else if (strcmp(scenario, "vfork-exit") == 0)
    vfork_child_exits();
  else if (strcmp(scenario, "failed-duplication") == 0)
    failed_duplication();
  else if (strcmp(scenario, "signal-close") == 0)
    close_in_signal_handler();
  else
    return 2;
  return 0;
}
