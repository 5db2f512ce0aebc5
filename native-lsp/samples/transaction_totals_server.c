/* The server side of the seed's transaction-totals exchange: accepts one client, serves its
 * transactions, and answers its total with the grand total of every client so far.
 *
 *   transaction_totals_server PREVIOUS_GRAND_TOTAL [PORT]   (prints "port N" once listening;
 *                                                            PORT 0 or absent: any free port) */
#include "transaction_totals.h"

int main(int argc, char** argv) {
  uint64_t grand_total = argc > 1 ? strtoull(argv[1], NULL, 10) : 0;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = loopback(argc > 2 ? atoi(argv[2]) : 0);
  socklen_t length = sizeof(address);
  int reuse = 1;
  if (listener >= 0) setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
  if (listener < 0 || bind(listener, (struct sockaddr*)&address, sizeof(address)) != 0 ||
      listen(listener, 1) != 0 || getsockname(listener, (struct sockaddr*)&address, &length) != 0) {
    perror("server: listen");
    return 1;
  }
  printf("port %d\n", ntohs(address.sin_port));
  fflush(stdout);
  struct pollfd waiting = {listener, POLLIN, 0};
  if (poll(&waiting, 1, 30000) != 1) {
    fprintf(stderr, "server: no client within 30 s\n");
    return 1;
  }
  int client = accept(listener, NULL, NULL);
  close(listener);
  if (client < 0) {
    perror("server: accept");
    return 1;
  }
  uint64_t client_total = 0;
  if (read_until_peer_shutdown(client, "TOTAL", &client_total) != 0) {
    perror("server: read");
    return 1;
  }
  step("server", "2", "gets FD_CLOSE / zero-byte receive: graceful shutdown in progress");
  receive_disconnect_data(client, &client_total);
  printf("server (3) receives the client's total: %" PRIu64 "\n", client_total);
  grand_total += client_total;
  printf("server (4) computes the grand total: %" PRIu64 "\n", grand_total);
  if (send_total_and_disconnect(client, "GRAND", grand_total) != 0) {
    perror("server: send-disconnect");
    return 1;
  }
  step("server", "5", "send-disconnect with the grand total");
  close(client);
  step("server", "5'", "closes its socket");
  return 0;
}
