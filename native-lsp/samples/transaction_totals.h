/*
 * The seed's transaction-totals exchange ("Connection Shutdown"), shared by its two programs.
 *
 * The client concludes its session with WSPSendDisconnect carrying its transaction total; the
 * server reads it with WSPRecvDisconnect, answers with the grand total in its own send-disconnect
 * and closes; the client reads the grand total and closes. Where the connection cannot carry
 * disconnect data (TCP, as on Windows: ENOPROTOOPT), each total travels in-band just before the
 * same graceful shutdown, so the teardown sequence is the same.
 *
 * The disconnect calls are weak: without Teardown's layer they are absent, and plain shutdown is
 * used. Each program prints its steps, numbered as in the seed's table.
 */
#ifndef TEARDOWN_SAMPLES_TRANSACTION_TOTALS_H
#define TEARDOWN_SAMPLES_TRANSACTION_TOTALS_H

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "teardown/disconnect.h"

#pragma weak teardown_send_disconnect
#pragma weak teardown_recv_disconnect

/* 127.0.0.1:port (port 0: any). */
static struct sockaddr_in loopback(int port) {
  struct sockaddr_in address;
  memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_port = htons((uint16_t)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

static void step(const char* side, const char* number, const char* what) {
  printf("%s (%s) %s\n", side, number, what);
  fflush(stdout);
}

static int write_all(int fd, const char* text) {
  size_t left = strlen(text);
  while (left > 0) {
    ssize_t n = write(fd, text, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    text += n;
    left -= (size_t)n;
  }
  return 0;
}

/* Sends `total` as disconnect data if the connection can carry it, else in-band, then ends
 * sending (a graceful shutdown). Returns 0 on success. */
static int send_total_and_disconnect(int fd, const char* label, uint64_t total) {
  unsigned char data[8];
  for (int i = 0; i < 8; ++i) data[i] = (unsigned char)(total >> (56 - 8 * i));
  if (teardown_send_disconnect != NULL) {
    if (teardown_send_disconnect(fd, data, sizeof(data)) == 0) return 0;
    if (errno != ENOPROTOOPT) return -1;
  }
  char line[64];
  snprintf(line, sizeof(line), "%s %" PRIu64 "\n", label, total);
  if (write_all(fd, line) != 0) return -1;
  if (teardown_send_disconnect != NULL) return teardown_send_disconnect(fd, NULL, 0);
  return shutdown(fd, SHUT_WR);
}

/* Waits until the peer has shut down (poll reports the hang-up), then reads what is left until
 * end of stream, keeping the last line that starts with `label`. */
static int read_until_peer_shutdown(int fd, const char* label, uint64_t* value) {
  struct pollfd watch = {fd, POLLIN | POLLRDHUP, 0};
  char buffer[4096];
  size_t used = 0;
  int hung_up = 0;
  for (int rounds = 0; rounds < 1000; ++rounds) {
    if (!hung_up && poll(&watch, 1, 10000) <= 0) return -1;
    if (watch.revents & (POLLRDHUP | POLLHUP)) hung_up = 1;
    ssize_t n = read(fd, buffer + used, sizeof(buffer) - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    used += (size_t)n;
    if (used >= sizeof(buffer) - 1) return -1;
  }
  buffer[used] = '\0';
  for (char* line = strtok(buffer, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    if (strncmp(line, label, strlen(label)) == 0) *value = strtoull(line + strlen(label), NULL, 10);
  }
  return 0;
}

/* Receives the peer's disconnect data if there is any, else keeps the in-band value. */
static void receive_disconnect_data(int fd, uint64_t* value) {
  unsigned char data[8];
  if (teardown_recv_disconnect == NULL) return;
  ssize_t n = teardown_recv_disconnect(fd, data, sizeof(data));
  if (n == 8) {
    *value = 0;
    for (int i = 0; i < 8; ++i) *value = (*value << 8) | data[i];
  }
}

#endif
