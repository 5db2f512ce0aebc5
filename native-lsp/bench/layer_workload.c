/* Loopback workloads for measuring the Linux layer's overhead: run the same binary with and
 * without LD_PRELOAD. Prints the measured section's cost (start-up excluded).
 *
 *   layer_workload rr N [PORT]      N one-byte request/response round trips on one connection
 *   layer_workload churn N [PORT]   N connect/accept/close cycles
 *   layer_workload bulk MB [PORT]   MB megabytes sent through one connection
 * PORT: the server's port (default: any free one), so that a configuration can name it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listener;
static long count;
static const char* mode;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*)&address, sizeof(address)) != 0) {
    perror("connect");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

static void* serve(void* unused) {
  (void)unused;
  char buffer[65536];
  long connections = strcmp(mode, "churn") == 0 ? count : 1;
  for (long c = 0; c < connections; ++c) {
    int fd = accept(listener, NULL, NULL);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ssize_t n;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
      if (strcmp(mode, "rr") == 0 && write(fd, buffer, (size_t)n) != n) break;
    }
    close(fd);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s rr|churn|bulk N [PORT]\n", argv[0]);
    return 2;
  }
  mode = argv[1];
  count = atol(argv[2]);
  listener = socket(AF_INET, SOCK_STREAM, 0);
  int reuse = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)(argc > 3 ? atoi(argv[3]) : 0));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(listener, (struct sockaddr*)&address, sizeof(address)) != 0 || listen(listener, 512) != 0) {
    perror("listen");
    return 1;
  }
  getsockname(listener, (struct sockaddr*)&address, &length);
  int port = ntohs(address.sin_port);
  pthread_t server;
  pthread_create(&server, NULL, serve, NULL);

  double start = now_seconds();
  if (strcmp(mode, "rr") == 0) {
    int fd = connect_to(port);
    char byte = 'x';
    for (long i = 0; i < count; ++i) {
      if (write(fd, &byte, 1) != 1 || read(fd, &byte, 1) != 1) return 1;
    }
    close(fd);
  } else if (strcmp(mode, "churn") == 0) {
    for (long i = 0; i < count; ++i) close(connect_to(port));
  } else {
    static char block[65536];
    int fd = connect_to(port);
    for (long sent = 0; sent < count * 1048576L;) {
      ssize_t n = write(fd, block, sizeof(block));
      if (n <= 0) return 1;
      sent += n;
    }
    close(fd);
  }
  pthread_join(server, NULL);
  double seconds = now_seconds() - start;
  if (strcmp(mode, "bulk") == 0) {
    printf("%.1f MB/s\n", count / seconds);
  } else {
    printf("%.2f us/op\n", seconds * 1e6 / count);
  }
  return 0;
}
