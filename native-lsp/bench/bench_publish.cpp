// Publish cost per event, the path every layer pays for a teardown: Producer::policy() to decide,
// then Producer::publish() into the ring. Reports ns/event for 1..N producer threads publishing
// at once, each thread a separate producer of the same channel.
//
//   teardown_bench [--producers N] [--events PER_PRODUCER] [--channel DIR]
//
// Run under `valgrind --tool=callgrind` for instruction counts (see run-benchmarks.sh).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "channel.h"
#include "producer.h"

namespace {

struct Options {
  int producers = 1;
  uint64_t events = 2'000'000;
  std::string channel;
};

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--producers") {
      options.producers = std::atoi(argv[i + 1]);
    } else if (flag == "--events") {
      options.events = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--channel") {
      options.channel = argv[i + 1];
    } else {
      return false;
    }
  }
  return (argc % 2) == 1 && options.producers >= 1 && options.events >= 1;
}

td_event_record sample_event(uint64_t socket) {
  td_event_record event;
  std::memset(&event, 0, sizeof(event));
  event.kind = TD_KIND_CLOSE;
  event.detail = TD_CLOSE_GRACEFUL;
  event.socket_id = socket;
  event.protocol = 6;
  event.socket_type = 1;
  event.local = {TD_FAMILY_IPV4, 0, 50000, 0, {127, 0, 0, 1}};
  event.remote = {TD_FAMILY_IPV4, 0, 8080, 0, {127, 0, 0, 1}};
  return event;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr, "usage: %s [--producers N] [--events PER_PRODUCER] [--channel DIR]\n", argv[0]);
    return 2;
  }
  std::string dir = options.channel;
  if (dir.empty()) dir = "/tmp/teardown-bench-" + std::to_string(getpid());
  std::unique_ptr<teardown::Channel> channel;
  if (teardown::Channel::open(dir, true, 1u << 16, channel) != TD_OK) {
    std::fprintf(stderr, "cannot create channel %s\n", dir.c_str());
    return 1;
  }
  teardown::Producer producer(dir);
  producer.policy();  // attach before timing

  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < options.producers; ++t) {
    threads.emplace_back([&, t] {
      td_event_record event = sample_event(static_cast<uint64_t>(t));
      for (uint64_t i = 0; i < options.events; ++i) {
        teardown::Policy policy = producer.policy();
        producer.publish(event, policy);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  td_counters counters{};
  channel->ring().counters(counters);
  uint64_t total = options.events * static_cast<uint64_t>(options.producers);
  std::printf("producers=%d events=%llu published=%llu dropped=%llu ns_per_event=%.1f "
              "ns_per_event_per_producer=%.1f\n",
              options.producers, static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(counters.per_kind[TD_KIND_CLOSE]),
              static_cast<unsigned long long>(counters.dropped), seconds * 1e9 / total,
              seconds * 1e9 / options.events);
  if (options.channel.empty()) {
    std::remove((dir + "/events").c_str());
    std::remove((dir + "/config").c_str());
    rmdir(dir.c_str());
  }
  return counters.per_kind[TD_KIND_CLOSE] + counters.dropped == total ? 0 : 1;
}
