/* teardown.h from plain C: it compiles as C11 and its calls behave as documented. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "teardown/teardown.h"

static int failures = 0;

#define CHECK(condition)                                              \
  do {                                                                \
    if (!(condition)) {                                               \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #condition); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

int main(void) {
  char dir[] = "/tmp/teardown-c-abi-XXXXXX";
  td_channel* channel = NULL;
  td_reader* reader = NULL;
  td_event_record event;
  td_event_record out[4];
  td_config config;
  td_counters counters;
  char field[32];
  char path[256];
  size_t count = 0;
  uint64_t lost = 0;
  uint32_t offset = 0, size = 0;

  CHECK(td_abi_version() >> 16 == TD_ABI_VERSION >> 16);
  CHECK(strcmp(td_status_text(TD_ERR_CORRUPT), "channel file is truncated or damaged") == 0);
  CHECK(td_status_text(12345) != NULL);
  CHECK(td_layout("event_record", NULL, &offset, &size) == TD_OK && size == sizeof(td_event_record));
  CHECK(td_layout("event_record", "captured", &offset, &size) == TD_OK &&
        offset == offsetof(td_event_record, captured) && size == TD_CAPTURE_MAX);
  CHECK(td_layout("nothing", NULL, &offset, &size) == TD_ERR_NOT_FOUND);

  /* Release functions accept NULL; calls reject NULL handles. */
  td_channel_close(NULL);
  td_reader_destroy(NULL);
  CHECK(td_channel_open(dir, 0, 0, NULL) == TD_ERR_INVALID_ARGUMENT);
  CHECK(td_channel_counters(NULL, &counters) == TD_ERR_INVALID_ARGUMENT);

  if (mkdtemp(dir) == NULL) return 2;
  CHECK(td_channel_open(dir, 0, 0, &channel) == TD_ERR_NOT_FOUND && channel == NULL);
  CHECK(td_channel_open(dir, TD_OPEN_CREATE, 100, &channel) == TD_ERR_INVALID_ARGUMENT);
  CHECK(td_channel_open(dir, TD_OPEN_CREATE, 64, &channel) == TD_OK && channel != NULL);
  if (channel == NULL) return 1;
  CHECK(td_channel_path(channel, path, sizeof(path)) == TD_OK && strcmp(path, dir) == 0);
  CHECK(td_channel_path(channel, path, 3) == TD_ERR_INVALID_ARGUMENT);
  {
    uint32_t slots = 0;
    uint32_t lane = 0;
    CHECK(td_channel_capacity(channel, &slots) == TD_OK && slots == 64);
    CHECK(td_channel_lane_capacity(channel, &lane) == TD_OK && lane == 64); /* too small for lanes */
    CHECK(td_channel_lane_capacity(NULL, &lane) == TD_ERR_INVALID_ARGUMENT);
    CHECK(td_channel_lane_capacity(channel, NULL) == TD_ERR_INVALID_ARGUMENT);
  }

  CHECK(td_reader_create(channel, TD_START_OLDEST, 0, &reader) == TD_OK);
  memset(&event, 0, sizeof(event));
  event.kind = TD_KIND_SEND_DISCONNECT;
  event.data_length = 3;
  event.captured_length = 3;
  memcpy(event.captured, "abc", 3);
  CHECK(td_channel_publish(channel, &event) == TD_OK);
  CHECK(td_channel_publish(channel, &event) == TD_OK);
  event.captured_length = TD_CAPTURE_MAX + 1;
  CHECK(td_channel_publish(channel, &event) == TD_ERR_INVALID_ARGUMENT);

  CHECK(td_reader_read(reader, out, 4, &count, &lost) == TD_OK);
  CHECK(count == 2 && lost == 0);
  {
    uint64_t user_lost = 1;
    CHECK(td_reader_user_lost(reader, 0, &user_lost) == TD_OK && user_lost == 0);
    CHECK(td_reader_user_lost(reader, 1, &user_lost) == TD_ERR_NOT_FOUND);
    CHECK(td_reader_user_lost(NULL, 0, &user_lost) == TD_ERR_INVALID_ARGUMENT);
  }
  CHECK(out[1].sequence == 1 && memcmp(out[1].captured, "abc", 3) == 0);
  CHECK(td_channel_counters(channel, &counters) == TD_OK);
  CHECK(counters.produced == 2 && counters.per_kind[TD_KIND_SEND_DISCONNECT] == 2);

  /* Positions saved after one event, and a reader resumed from them: the second event only. */
  {
    td_ring_position positions[2];
    td_reader* resumed = NULL;
    size_t rings = 0;
    CHECK(td_reader_positions(reader, positions, 0, &rings) == TD_ERR_INVALID_ARGUMENT &&
          rings == 1);
    CHECK(td_reader_positions(reader, positions, 2, &rings) == TD_OK && rings == 1);
    CHECK(strncmp(positions[0].ring, "ring-", 5) == 0 && positions[0].next_sequence == 2);
    positions[0].next_sequence = 1;
    CHECK(td_reader_resume(channel, positions, 1, 7, 0, &resumed) == TD_ERR_INVALID_ARGUMENT);
    CHECK(td_reader_resume(channel, NULL, 1, TD_START_FIRST, 0, &resumed) ==
          TD_ERR_INVALID_ARGUMENT);
    memset(positions[1].ring, 'x', sizeof(positions[1].ring));
    CHECK(td_reader_resume(channel, positions, 2, TD_START_FIRST, 0, &resumed) ==
          TD_ERR_INVALID_ARGUMENT); /* a name without its NUL */
    CHECK(td_reader_resume(channel, positions, 1, TD_START_NEWEST, 0, &resumed) == TD_OK);
    CHECK(td_reader_read(resumed, out, 4, &count, &lost) == TD_OK);
    CHECK(count == 1 && lost == 0 && out[0].sequence == 1);
    CHECK(td_layout("ring_position", NULL, &offset, &size) == TD_OK &&
          size == sizeof(td_ring_position));
    td_reader_destroy(resumed);
  }

  td_config_default(&config);
  config.ports[0].first = 10;
  config.ports[0].last = 9;
  config.port_count = 1;
  CHECK(td_config_check(&config, field, sizeof(field)) == TD_ERR_INVALID_CONFIG);
  CHECK(strcmp(field, "ports[0].last") == 0);
  CHECK(td_config_write(channel, &config) == TD_ERR_INVALID_CONFIG);
  config.ports[0].last = 10;
  config.capture_bytes = 16;
  CHECK(td_config_write(channel, &config) == TD_OK);
  memset(&config, 0, sizeof(config));
  CHECK(td_config_read(channel, &config) == TD_OK && config.capture_bytes == 16);

  td_reader_destroy(reader);
  td_channel_close(channel);
  {
    char command[300];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    if (system(command) != 0) ++failures;
  }
  printf("%s\n", failures == 0 ? "c_abi_test: all checks passed" : "c_abi_test: FAILED");
  return failures == 0 ? 0 : 1;
}
