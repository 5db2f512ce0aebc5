/* The conformance harness's hands on a channel, through the control library's C ABI:
 *
 *   channel_tool create DIR [PORT...]   a new channel recording everything, emulating disconnect
 *                                       data on the PORTs given
 *   channel_tool report DIR [PORT...]   one line: events produced, CLOSE events, and CLOSE events
 *                                       still in the ring on one of the PORTs (or on any port)
 *
 * Exit 0 on success; 1 with the failing call's status named on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teardown/teardown.h"

static int fail(const char* what, int status) {
  fprintf(stderr, "channel_tool: %s: %s\n", what, td_status_text(status));
  return 1;
}

static int listed(uint16_t port, char** ports, int count) {
  if (count == 0) return 1;
  for (int i = 0; i < count; ++i) {
    if (atoi(ports[i]) == port) return 1;
  }
  return 0;
}

static int create(const char* dir, char** ports, int count) {
  if (count > TD_FILTER_MAX) {
    fprintf(stderr, "channel_tool: at most %d emulation ports\n", TD_FILTER_MAX);
    return 1;
  }
  td_channel* channel = NULL;
  int status = td_channel_open(dir, TD_OPEN_CREATE, 65536, &channel);
  if (status != TD_OK) return fail("td_channel_open", status);
  td_config config;
  td_config_default(&config);
  config.emulation_port_count = (uint32_t)count;
  for (int i = 0; i < count; ++i) config.emulation_ports[i] = (uint16_t)atoi(ports[i]);
  status = td_config_write(channel, &config);
  td_channel_close(channel);
  return status == TD_OK ? 0 : fail("td_config_write", status);
}

static int report(const char* dir, char** ports, int count) {
  td_channel* channel = NULL;
  int status = td_channel_open(dir, 0, 0, &channel);
  if (status != TD_OK) return fail("td_channel_open", status);
  td_counters counters;
  status = td_channel_counters(channel, &counters);
  td_reader* reader = NULL;
  if (status == TD_OK) status = td_reader_create(channel, TD_START_OLDEST, 0, &reader);
  if (status != TD_OK) {
    td_channel_close(channel);
    return fail("reading the channel", status);
  }
  static td_event_record batch[1024];
  unsigned long long on_ports = 0;
  size_t got = 0;
  uint64_t lost = 0;
  do {
    if (td_reader_read(reader, batch, 1024, &got, &lost) != TD_OK) break;
    for (size_t i = 0; i < got; ++i) {
      if (batch[i].kind != TD_KIND_CLOSE) continue;
      on_ports += listed(batch[i].local.port, ports, count) || listed(batch[i].remote.port, ports, count);
    }
  } while (got > 0);
  printf("events %llu closes %llu closes-on-ports %llu\n", (unsigned long long)counters.produced,
         (unsigned long long)counters.per_kind[TD_KIND_CLOSE], on_ports);
  td_reader_destroy(reader);
  td_channel_close(channel);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "create") == 0) return create(argv[2], argv + 3, argc - 3);
  if (argc >= 3 && strcmp(argv[1], "report") == 0) return report(argv[2], argv + 3, argc - 3);
  fprintf(stderr, "usage: channel_tool create|report DIR [PORT...]\n");
  return 2;
}
