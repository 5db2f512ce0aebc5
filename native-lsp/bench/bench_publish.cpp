// Publish cost per event. Two paths are timed, each with 1..N producer threads publishing at once:
//  - publish: Producer::publish() into the ring, with the policy already in hand (stamping time,
//    pid and name, the ring's sequence, slot, hash and counters);
//  - decide+publish: Producer::policy() first, as a layer does on every teardown call.
//
//   teardown_bench [--producers N] [--events PER_PRODUCER] [--slots N] [--channel DIR]
//                  [--path publish|decide+publish|both]
//
// Run under `valgrind --tool=callgrind` for instruction counts (see run-benchmarks.sh).
#include <unistd.h>

#include <atomic>
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
  uint32_t slots = 1u << 16;
  std::string path = "both";
};

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--producers") {
      options.producers = std::atoi(argv[i + 1]);
    } else if (flag == "--events") {
      options.events = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--slots") {
      options.slots = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    } else if (flag == "--channel") {
      options.channel = argv[i + 1];
    } else if (flag == "--path") {
      options.path = argv[i + 1];
    } else {
      return false;
    }
  }
  return (argc % 2) == 1 && options.producers >= 1 && options.events >= 1 &&
         (options.path == "both" || options.path == "publish" || options.path == "decide+publish");
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
    std::fprintf(stderr,
                 "usage: %s [--producers N] [--events PER_PRODUCER] [--slots N] [--channel DIR]"
                 " [--path publish|decide+publish|both]\n",
                 argv[0]);
    return 2;
  }
  std::string dir = options.channel;
  // Where real channels live (tmpfs), not a disk-backed directory.
  if (dir.empty()) dir = "/dev/shm/teardown-bench-" + std::to_string(getpid());
  std::unique_ptr<teardown::Channel> channel;
  if (teardown::Channel::open(dir, true, options.slots, channel) != TD_OK) {
    std::fprintf(stderr, "cannot create channel %s\n", dir.c_str());
    return 1;
  }
  teardown::Producer producer(dir);
  producer.policy();  // attach

  const uint64_t total = options.events * static_cast<uint64_t>(options.producers);
  uint64_t warmed = 0;
  auto run = [&](const char* name, bool decide_each_time) {
    std::vector<std::thread> threads;
    // Each thread first fills the ring's size of events, untimed: its lane's pages are faulted
    // in and its lines warm. The clock starts once every thread is ready.
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    for (int t = 0; t < options.producers; ++t) {
      threads.emplace_back([&, t] {
        td_event_record event = sample_event(static_cast<uint64_t>(t));
        teardown::Policy held = producer.policy();
        for (uint32_t i = 0; i < options.slots; ++i) producer.publish(event, held);
        ready.fetch_add(1);
        while (!go.load()) std::this_thread::yield();
        for (uint64_t i = 0; i < options.events; ++i) {
          if (decide_each_time) {
            teardown::Policy policy = producer.policy();
            producer.publish(event, policy);
          } else {
            producer.publish(event, held);
          }
        }
      });
    }
    while (ready.load() < options.producers) std::this_thread::yield();
    auto start = std::chrono::steady_clock::now();
    go.store(true);
    for (auto& thread : threads) thread.join();
    warmed += static_cast<uint64_t>(options.producers) * options.slots;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-15s producers=%d events=%llu ns_per_event=%.1f ns_per_event_per_producer=%.1f\n",
                name, options.producers, static_cast<unsigned long long>(total),
                seconds * 1e9 / total, seconds * 1e9 / options.events);
  };
  uint64_t runs = 0;
  if (options.path != "decide+publish") {
    run("publish", false);
    ++runs;
  }
  if (options.path != "publish") {
    run("decide+publish", true);
    ++runs;
  }

  td_counters counters{};
  channel->ring().counters(counters);
  std::printf("accounted: published=%llu dropped=%llu of %llu\n",
              static_cast<unsigned long long>(counters.per_kind[TD_KIND_CLOSE]),
              static_cast<unsigned long long>(counters.dropped),
              static_cast<unsigned long long>(runs * total + warmed));
  if (options.channel.empty()) {
    for (const std::string& name : teardown::list_directory(channel->rings_dir(), 16)) {
      std::remove((channel->rings_dir() + "/" + name).c_str());
    }
    rmdir(channel->rings_dir().c_str());
    for (const char* name : {"/config", "/config.lock"}) std::remove((dir + name).c_str());
    rmdir(dir.c_str());
  }
  return counters.per_kind[TD_KIND_CLOSE] + counters.dropped == runs * total + warmed ? 0 : 1;
}
