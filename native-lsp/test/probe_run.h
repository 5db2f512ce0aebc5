// Running a probe program once, with or without the Linux layer, and keeping what it printed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace teardown::testing {

struct ProbeRun {
  int status = -1;  // exit code, 128 + signal, or kHung
  std::string transcript;
  static constexpr int kHung = 200;  // killed after the deadline
};

// Runs `probe ARGUMENT PORT` with its output in `output_file`: with `channel` empty, without the
// layer; else under it, recording into `channel`. A probe still running after `deadline` is
// killed and reported as hung.
inline ProbeRun run_probe(const char* probe, const std::string& argument, int port,
                          const std::string& channel, const std::string& output_file,
                          std::chrono::seconds deadline = std::chrono::seconds(90)) {
  pid_t child = fork();
  if (child == 0) {
    int fd = open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    if (!channel.empty()) {
      setenv("LD_PRELOAD", TEARDOWN_PRELOAD_PATH, 1);
      setenv("TEARDOWN_CHANNEL", channel.c_str(), 1);
    }
    std::string port_text = std::to_string(port);
    execl(probe, probe, argument.c_str(), port_text.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ProbeRun run;
  auto until = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  while (waitpid(child, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      run.status = ProbeRun::kHung;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (run.status != ProbeRun::kHung) {
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::ifstream in(output_file);
  std::stringstream text;
  text << in.rdbuf();
  run.transcript = text.str();
  return run;
}

}  // namespace teardown::testing
