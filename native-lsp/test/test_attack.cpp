// The channel's security model under attack: an unprivileged local user does everything it can to
// the channel while root's programs churn connections under the layer and root's reader reads.
// Root's programs must neither crash nor hang, root's events must arrive intact, and no
// configuration of the attacker's may steer root's programs.
//
// Needs root, to create the attacker (useradd) and to be the victim; skips otherwise.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "channel.h"
#include "channel_events.h"
#include "platform.h"
#include "probe_run.h"
#include "test_support.h"

namespace teardown {
namespace {

using teardown::testing::free_port;
using teardown::testing::ProbeRun;
using teardown::testing::TempDir;

constexpr auto kAttackTime = std::chrono::seconds(4);

struct Attacker {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

int run_command(const std::string& command) {
  return std::system(command.c_str());
}

// The sequence probe (many connections, closes graceful and abortive, resets) once as root: with
// `channel` empty, without the layer.
ProbeRun run_program(const std::string& channel, const char* seed, int port,
                     const std::string& output) {
  return teardown::testing::run_probe(TEARDOWN_SEQUENCE_PROBE_PATH, seed, port, channel, output,
                                      std::chrono::seconds(60));
}

// What the attacker does, as the attacker, until `until`: everything a local user can do to the
// channel's files. Runs in a forked child that has dropped root.
[[noreturn]] void attack(const std::string& channel, const std::string& squat,
                         std::chrono::steady_clock::time_point until) {
  std::mt19937_64 random(4242);
  std::string rings = channel + "/rings";
  // Squatting: the name of root's ring, before root's programs start, and a channel directory
  // of its own whose configuration would turn emulation on for everyone's connections, make
  // abortive closes graceful and capture disconnect data.
  {
    int fd = open((rings + "/ring-0").c_str(), O_RDWR | O_CREAT | O_EXCL, 0666);
    if (fd >= 0) {
      fchmod(fd, 0666);
      if (ftruncate(fd, 1 << 20) != 0) _exit(3);
      close(fd);
    }
    std::unique_ptr<Channel> own;
    if (Channel::open(squat, true, 64, own) != TD_OK) _exit(4);
    td_config config = default_config();
    config.abortive_to_graceful = 1;
    config.capture_bytes = TD_CAPTURE_MAX;
    config.emulation_port_count = 1;
    config.emulation_ports[0] = static_cast<uint16_t>(std::atoi(getenv("ATTACK_PORT")));
    std::string field;
    if (own->write_config(config, field) != TD_OK) _exit(5);
    chmod(squat.c_str(), 0777);
    chmod((squat + "/rings").c_str(), 0777);
  }
  // Its own tools work in root's channel (`teardown run` opens it with create), and cannot
  // configure it.
  {
    std::unique_ptr<Channel> system;
    if (Channel::open(channel, true, 64, system) != TD_OK) _exit(9);
    td_config config = default_config();
    config.enabled = 0;
    std::string field;
    if (system->write_config(config, field) != TD_ERR_ACCESS_DENIED) _exit(10);
  }
  // Planted names: links to root's files, a FIFO, junk rings claiming root's uid.
  if (symlink("/etc/shadow", (rings + "/ring-0-link").c_str()) != 0) _exit(6);
  if (mkfifo((rings + "/ring-0-fifo").c_str(), 0666) != 0) _exit(7);
  // A lock on root's configuration, held throughout (it may be opened for reading).
  int config_fd = open((channel + "/config").c_str(), O_RDONLY);
  if (config_fd >= 0) flock(config_fd, LOCK_EX | LOCK_NB);
  int round = 0;
  while (std::chrono::steady_clock::now() < until) {
    ++round;
    std::vector<std::string> targets = {channel + "/config", channel + "/config.lock"};
    for (const std::string& name : list_directory(rings, 4096))
      targets.push_back(rings + "/" + name);
    for (const std::string& target : targets) {
      int fd = open(target.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK);
      if (fd < 0) continue;  // root's files: not writable by this user
      switch (random() % 5) {
        case 0: {  // scribble
          uint8_t junk[512];
          for (uint8_t& byte : junk) byte = static_cast<uint8_t>(random());
          pwrite(fd, junk, sizeof(junk), static_cast<off_t>(random() % (1 << 20)));
          break;
        }
        case 1: {  // flip header fields: magic, slot count, head, generation
          uint64_t value = random();
          uint32_t count = (random() & 1) ? 64u : (1u << 31);
          pwrite(fd, &count, sizeof(count), offsetof(layout::EventsHeader, slot_count));
          off_t lane = static_cast<off_t>(random() % layout::kMaxLanes);
          pwrite(fd, &value, sizeof(value),
                 static_cast<off_t>(offsetof(layout::EventsHeader, heads)) + 64 * lane);
          uint64_t magic = (random() & 1) ? layout::kEventsMagic : 0;
          pwrite(fd, &magic, sizeof(magic), 0);
          pwrite(fd, &value, sizeof(value), offsetof(layout::EventsHeader, generation));
          break;
        }
        case 2:  // truncate
          if (ftruncate(fd, static_cast<off_t>(random() % 8192)) != 0) break;
          break;
        case 3:  // regrow, sparse, to many terabytes
          if (ftruncate(fd, off_t{1} << (40 + random() % 4)) != 0) break;
          break;
        default:
          if (ftruncate(fd, static_cast<off_t>(layout::events_file_bytes(64))) != 0) break;
          break;
      }
      close(fd);
    }
    // New files of its own, claiming root's name.
    std::string planted = rings + "/ring-0-" + std::to_string(round % 8);
    int fd = open(planted.c_str(), O_RDWR | O_CREAT, 0666);
    if (fd >= 0) {
      if (ftruncate(fd, static_cast<off_t>(layout::events_file_bytes(64))) != 0) _exit(8);
      close(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  _exit(0);
}

class Attack : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0)
      GTEST_SKIP() << "needs root: to create the attacking user and be its victim";
    attacker_.name = "tdattack" + std::to_string(getpid() % 100000);
    // useradd fails while another holds the password files' lock: a few tries.
    bool made = false;
    for (int attempt = 0; attempt < 5 && !made; ++attempt) {
      made = run_command("useradd --system --no-create-home --shell /usr/sbin/nologin " +
                         attacker_.name + " >/dev/null 2>&1") == 0;
      if (!made) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (!made) GTEST_SKIP() << "useradd could not create the attacking user";
    created_ = true;
    struct passwd* entry = getpwnam(attacker_.name.c_str());
    ASSERT_NE(entry, nullptr);
    attacker_.uid = entry->pw_uid;
    attacker_.gid = entry->pw_gid;
    ASSERT_EQ(chmod(base_.path().c_str(), 0755), 0);  // the attacker may reach the channel
  }
  void TearDown() override {
    if (created_) run_command("userdel " + attacker_.name + " >/dev/null 2>&1");
  }

  // Runs `body` in a child that has become the unprivileged user; its exit code is the body's
  // (2: the privileges could not be dropped).
  template <typename Body>
  pid_t as_user(Body&& body) {
    pid_t child = fork();
    if (child == 0) {
      if (setgroups(0, nullptr) != 0 || setgid(attacker_.gid) != 0 || setuid(attacker_.uid) != 0 ||
          getuid() == 0) {
        _exit(2);
      }
      body();
      _exit(0);
    }
    return child;
  }

  static int exit_code_of(pid_t child) {
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  pid_t start_attacker(const std::string& channel, const std::string& squat, int port,
                       std::chrono::steady_clock::time_point until) {
    return as_user([&] {
      setenv("ATTACK_PORT", std::to_string(port).c_str(), 1);
      attack(channel, squat, until);
    });
  }

  TempDir base_;
  Attacker attacker_;
  bool created_ = false;
};

TEST_F(Attack, AnUnprivilegedUserCannotCrashSteerOrImpersonateRootsProgramsOrReader) {
  std::string channel_dir = base_.file("channel");
  // Where the system channel would be, in a directory anyone may add to (as /dev/shm is), and
  // made there first by the attacker.
  std::string shared = base_.file("shm");
  ASSERT_EQ(mkdir(shared.c_str(), 0755), 0);
  ASSERT_EQ(chmod(shared.c_str(), 01777), 0);
  std::string squat_dir = shared + "/teardown";
  std::unique_ptr<Channel> admin;
  ASSERT_EQ(Channel::open(channel_dir, true, 1024, admin), TD_OK);
  int port = free_port();

  // What the program sees without the layer: the reference every run must match. Seed 8 closes
  // with linger {1,0} where its peer then sees the reset: a configuration that made abortive
  // closes graceful would change what it sees.
  ProbeRun reference = run_program("", "8", port, base_.file("plain"));
  ASSERT_EQ(reference.status, 0);
  const std::string& plain = reference.transcript;
  ASSERT_GT(plain.size(), 1000u);

  auto until = std::chrono::steady_clock::now() + kAttackTime;
  pid_t attacker = start_attacker(channel_dir, squat_dir, port, until);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // its squats are in place

  // Root's reader, reading all the while.
  std::atomic<bool> reading{true};
  std::atomic<uint64_t> root_events{0};
  std::atomic<uint64_t> foreign_root_claims{0};
  std::atomic<int> read_failures{0};
  std::thread reader([&] {
    // A producer preempted between taking a slot and filling it holds the reader back; with a
    // stall timeout shorter than a loaded machine's preemption its event would be counted lost.
    ChannelReader channel_reader(admin->rings_dir(), ReaderStart::Oldest, 5'000'000'000);
    std::vector<td_event_record> batch(1024);
    auto drain = [&] {
      size_t count = 0;
      uint64_t lost = 0;
      if (channel_reader.read(batch.data(), batch.size(), count, lost) != TD_OK) ++read_failures;
      for (size_t i = 0; i < count; ++i) {
        const std::string& user = channel_reader.user_keys().at(batch[i].user);
        if (user == "0") {
          ++root_events;
        } else if (user != std::to_string(attacker_.uid)) {
          ++foreign_root_claims;  // attributed to someone who owns no ring here
        }
      }
      return count;
    };
    while (reading) drain();
    while (drain() > 0) {
    }
  });

  // Root's programs, under the layer, in the channel and in the squatted directory, while the
  // attack goes on; and root changing its configuration with the attacker holding a lock on it.
  int runs = 0;
  while (std::chrono::steady_clock::now() < until) {
    std::string output = base_.file("run");
    const std::string& where = runs % 2 == 0 ? channel_dir : squat_dir;
    ProbeRun run = run_program(where, "8", port, output);
    EXPECT_EQ(run.status, 0) << "root's program under the layer (200: hung), run " << runs << " in "
                             << where;
    EXPECT_EQ(run.transcript, plain)
        << "run " << runs << " in " << where << ": the program saw something else";
    td_config config = default_config();
    config.capture_bytes = static_cast<uint32_t>(runs % 8);
    std::string field;
    EXPECT_EQ(admin->write_config(config, field), TD_OK) << "the writer was blocked or refused";
    ++runs;
    if (::testing::Test::HasFailure()) break;
  }
  int attacker_status = 0;
  waitpid(attacker, &attacker_status, 0);
  EXPECT_TRUE(WIFEXITED(attacker_status) && WEXITSTATUS(attacker_status) == 0)
      << "the attack itself ran: " << attacker_status;
  reading = false;
  reader.join();

  EXPECT_GE(runs, 2);
  EXPECT_EQ(read_failures.load(), 0) << "root's reader read on throughout";
  EXPECT_EQ(foreign_root_claims.load(), 0u);

  // Root's events intact: every event root's programs published in the channel was read, and
  // nothing of root's went to the squatter's directory.
  td_counters root_counters{};
  uint64_t root_produced = 0;
  for (const std::string& name : list_directory(admin->rings_dir(), 4096)) {
    MappedFile file;
    if (MappedFile::open(admin->rings_dir() + "/" + name, FileAccess::ReadOnly, Owner::Self,
                         file) != TD_OK) {
      continue;  // not root's
    }
    FileSource source(file);
    ASSERT_TRUE(read_counters(source, root_counters));
    root_produced += root_counters.produced;
    EXPECT_EQ(root_counters.dropped, 0u);
  }
  std::printf("attack: %d runs of root's program, %llu events of root's read\n", runs,
              static_cast<unsigned long long>(root_events.load()));
  EXPECT_GT(root_produced, 0u) << "root's programs recorded despite the squatted ring name";
  EXPECT_EQ(root_events.load(), root_produced) << "every event of root's was read, unaltered";
  for (const std::string& name : list_directory(squat_dir + "/rings", 4096)) {
    struct stat info {};
    ASSERT_EQ(lstat((squat_dir + "/rings/" + name).c_str(), &info), 0);
    EXPECT_NE(info.st_uid, 0u) << name << ": root recorded into the squatter's directory";
  }
}

// Another user fills the rings directory: thousands of files under their own ring names, sound
// rings under root's names, names that are not text. Root's ring is found, read and counted, and
// nothing of theirs is taken for root's.
TEST_F(Attack, JunkInTheRingsDirectoryHidesNoRingAndPassesForNoOnesElse) {
  std::string channel_dir = base_.file("channel");
  std::unique_ptr<Channel> admin;
  ASSERT_EQ(Channel::open(channel_dir, true, 1024, admin), TD_OK);
  std::string rings = admin->rings_dir();
  ASSERT_TRUE(admin->ring().publish(teardown::testing::make_event(TD_KIND_EOF, 7)));
  std::string uid = std::to_string(attacker_.uid);
  pid_t junk = as_user([&] {
    for (int i = 0; i < 5000; ++i) {
      char name[96];
      std::snprintf(name, sizeof(name), "/ring-%s-%016x", uid.c_str(), i);
      int fd = ::open((rings + name).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      if (fd < 0) _exit(3);
      close(fd);
    }
    for (const char* odd : {"/ring-\xff\xfe", "/\x80", "/ring-0\n1", "/ring-0 "}) {
      int fd = ::open((rings + odd).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      if (fd >= 0) close(fd);
    }
    for (int i = 0; i < 20; ++i) {  // sound rings, with root's name
      char name[96];
      std::snprintf(name, sizeof(name), "/ring-0-%016x", 0xabc000 + i);
      if (teardown::testing::make_sound_ring(rings + name) != TD_OK) _exit(4);
    }
  });
  ASSERT_EQ(exit_code_of(junk), 0);
  ChannelReader reader(rings, ReaderStart::Oldest, 1'000'000'000);
  td_event_record batch[16];
  size_t count = 0;
  uint64_t lost = 0;
  ASSERT_EQ(reader.read(batch, 16, count, lost), TD_OK);
  ASSERT_EQ(count, 1u) << "root's one event, found among 5,024 other names";
  EXPECT_EQ(batch[0].socket_id, 7u);
  EXPECT_EQ(reader.user_keys().at(batch[0].user), "0");
  EXPECT_EQ(reader.ring_count(), 1u) << "no file of theirs is read as root's or as a ring at all";
  td_counters counters{};
  ASSERT_EQ(channel_counters(rings, counters), TD_OK);
  EXPECT_EQ(counters.produced, 1u);
}

// A root server forks a worker that becomes another user (nginx, Apache and sshd do): the worker
// keeps no descriptor and no mapping of root's ring, so it can neither truncate root's ring under
// root's readers and programs (SIGBUS) nor rewrite it, and what it does as the other user is
// recorded in that user's ring, attributed to that user.
TEST_F(Attack, AWorkerThatBecomesAnotherUserKeepsNothingOfRootsRing) {
  std::string channel_dir = base_.file("channel");
  std::unique_ptr<Channel> admin;
  ASSERT_EQ(Channel::open(channel_dir, true, 1024, admin), TD_OK);
  // Root's reader maps root's own ring: a truncation under it would kill it.
  ChannelReader reader(admin->rings_dir(), ReaderStart::Oldest, 1'000'000'000);
  int port = free_port();
  std::string ids = std::to_string(attacker_.uid) + ":" + std::to_string(attacker_.gid);
  ProbeRun run = teardown::testing::run_probe(TEARDOWN_DROP_PROBE_PATH, ids, port, channel_dir,
                                              base_.file("drop"), std::chrono::seconds(60));
  ASSERT_EQ(run.status, 0) << run.transcript;
  EXPECT_NE(run.transcript.find("descriptors 0\n"), std::string::npos) << run.transcript;
  EXPECT_NE(run.transcript.find("mappings 0\n"), std::string::npos) << run.transcript;
  EXPECT_NE(run.transcript.find("truncate EACCES\n"), std::string::npos) << run.transcript;
  // Whose each connection's events are, by the client's port.
  std::map<int, std::string> phase_of;
  std::istringstream lines(run.transcript);
  std::string word;
  while (lines >> word) {
    if (word != "connection") continue;
    std::string phase;
    int local_port = 0;
    lines >> phase >> local_port;
    phase_of[local_port] = phase;
  }
  ASSERT_EQ(phase_of.size(), 4u) << run.transcript;
  std::map<std::string, std::set<std::string>> users_of_phase;
  std::vector<td_event_record> batch(256);
  for (int attempt = 0; attempt < 200; ++attempt) {
    size_t count = 0;
    uint64_t lost = 0;
    ASSERT_EQ(reader.read(batch.data(), batch.size(), count, lost), TD_OK);
    EXPECT_EQ(lost, 0u);
    for (size_t i = 0; i < count; ++i) {
      auto phase = phase_of.find(batch[i].local.port);
      if (phase == phase_of.end()) phase = phase_of.find(batch[i].remote.port);
      if (phase == phase_of.end()) continue;
      users_of_phase[phase->second].insert(reader.user_keys().at(batch[i].user));
    }
    if (users_of_phase.size() == 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::set<std::string> root{"0"};
  const std::set<std::string> worker{std::to_string(attacker_.uid)};
  EXPECT_EQ(users_of_phase["root-before"], root);
  EXPECT_EQ(users_of_phase["worker-as-root"], root);
  EXPECT_EQ(users_of_phase["worker-as-user"], worker) << "after the drop: the new user's events";
  EXPECT_EQ(users_of_phase["root-after"], root) << "the parent still records as root";
}

// A user with no system channel records into a private channel of their own under
// $XDG_RUNTIME_DIR: made by their own tools, with its modes, found by their programs without
// TEARDOWN_CHANNEL, and read by root's reader as that user's.
TEST_F(Attack, AUserWithoutASystemChannelRecordsIntoAPrivateOne) {
  if (directory_exists(platform::system_channel_dir())) {
    GTEST_SKIP() << "this machine has a system channel, which users' programs record into";
  }
  std::string runtime = base_.file("run-user");
  ASSERT_EQ(mkdir(runtime.c_str(), 0700), 0);
  ASSERT_EQ(chown(runtime.c_str(), attacker_.uid, attacker_.gid), 0);
  std::string output = base_.file("private-run");
  ASSERT_EQ(chmod(base_.path().c_str(), 0755), 0);
  int fd = open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fchown(fd, attacker_.uid, attacker_.gid), 0);
  close(fd);
  int port = free_port();
  pid_t user = as_user([&] {
    setenv("XDG_RUNTIME_DIR", runtime.c_str(), 1);
    unsetenv("TEARDOWN_CHANNEL");
    std::string dir = platform::standard_channel_dir();
    if (dir != runtime + "/teardown") _exit(3);
    std::unique_ptr<Channel> own;  // what `teardown init` or `teardown run` does as the user
    if (Channel::open(dir, true, 64, own) != TD_OK) _exit(4);
    // A program of theirs under the layer, with no TEARDOWN_CHANNEL: the private channel.
    pid_t program = fork();
    if (program == 0) {
      int out = open(output.c_str(), O_WRONLY | O_TRUNC);
      if (out < 0 || dup2(out, 1) < 0) _exit(5);
      setenv("LD_PRELOAD", TEARDOWN_PRELOAD_PATH, 1);
      std::string port_text = std::to_string(port);
      execl(TEARDOWN_SEQUENCE_PROBE_PATH, TEARDOWN_SEQUENCE_PROBE_PATH, "2", port_text.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    if (exit_code_of(program) != 0) _exit(6);
  });
  ASSERT_EQ(exit_code_of(user), 0)
      << "3: not the private channel; 4: not made; 5, 6: the program's run failed";

  std::string dir = runtime + "/teardown";
  struct stat info {};
  ASSERT_EQ(stat(dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, attacker_.uid);
  EXPECT_EQ(info.st_mode & 07777, 0755u);
  ASSERT_EQ(stat((dir + "/rings").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u) << "a private channel's rings are its user's";
  std::string ring = dir + "/rings/ring-" + std::to_string(attacker_.uid);
  ASSERT_EQ(stat(ring.c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, attacker_.uid);
  EXPECT_EQ(info.st_mode & 07777, 0600u) << "readable by that user and root only";
  ChannelReader reader(dir + "/rings", ReaderStart::Oldest, 1'000'000);
  std::vector<td_event_record> batch(4096);
  size_t count = 0;
  uint64_t lost = 0;
  ASSERT_EQ(reader.read(batch.data(), batch.size(), count, lost), TD_OK);
  EXPECT_GT(count, 0u) << "the user's program recorded";
  for (size_t i = 0; i < count; ++i) {
    EXPECT_EQ(reader.user_keys().at(batch[i].user), std::to_string(attacker_.uid));
  }
}

}  // namespace
}  // namespace teardown
