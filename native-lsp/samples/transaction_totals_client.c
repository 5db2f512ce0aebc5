/* The client side of the seed's transaction-totals exchange: runs TRANSACTIONS transactions with
 * the server, concludes with its total, and stores the grand total the server answers with.
 *
 *   transaction_totals_client PORT TRANSACTIONS */
#include "transaction_totals.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PORT TRANSACTIONS\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  uint64_t transactions = strtoull(argv[2], NULL, 10);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = loopback(port);
  if (fd < 0 || connect(fd, (struct sockaddr*)&address, sizeof(address)) != 0) {
    perror("client: connect");
    return 1;
  }
  for (uint64_t i = 1; i <= transactions; ++i) {
    char line[64];
    snprintf(line, sizeof(line), "TX %" PRIu64 "\n", i);
    if (write_all(fd, line) != 0) {
      perror("client: transaction");
      return 1;
    }
  }
  if (send_total_and_disconnect(fd, "TOTAL", transactions) != 0) {
    perror("client: send-disconnect");
    return 1;
  }
  step("client", "1", "send-disconnect with its transaction total");
  uint64_t grand_total = 0;
  if (read_until_peer_shutdown(fd, "GRAND", &grand_total) != 0) {
    perror("client: read");
    return 1;
  }
  step("client", "6", "receives FD_CLOSE");
  receive_disconnect_data(fd, &grand_total);
  printf("client (7) receives the grand total: %" PRIu64 "\n", grand_total);
  close(fd);
  step("client", "8", "closes its socket");
  return 0;
}
