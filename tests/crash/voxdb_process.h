// Child processes for the crash tests: a real voxdb (its log appended to a
// file, its port read from its stdout) and the acked_writer. Killed with
// SIGKILL when they go out of scope still running.
#ifndef VOXDB_TESTS_CRASH_VOXDB_PROCESS_H_
#define VOXDB_TESTS_CRASH_VOXDB_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "schema/str.h"

namespace vox::crash {

// A child running `args` (args[0] the binary), stdout to a pipe (or
// `stdout_path` if given), stderr appended to `stderr_path`.
class ChildProcess {
 public:
  static std::unique_ptr<ChildProcess> Start(const std::vector<std::string>& args,
                                             const std::string& stderr_path,
                                             const std::string& stdout_path = "") {
    // Everything the child needs is made before fork: only async-signal-safe
    // calls after it.
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int out[2] = {-1, -1};
    if (stdout_path.empty()) {
      if (pipe2(out, O_CLOEXEC) != 0) return nullptr;
    } else {
      out[1] = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    const pid_t pid = fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      if (out[1] >= 0) dup2(out[1], 1);
      if (err >= 0) dup2(err, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (err >= 0) close(err);
    if (out[1] >= 0) close(out[1]);
    auto child = std::unique_ptr<ChildProcess>(new ChildProcess(pid));
    if (out[0] >= 0) child->out_ = fdopen(out[0], "r");
    return child;
  }
  ~ChildProcess() {
    if (pid_ > 0) Kill(SIGKILL);
    if (out_ != nullptr) fclose(out_);
  }
  pid_t pid() const { return pid_; }
  FILE* out() const { return out_; }
  bool running() const { return pid_ > 0; }

  // Sends `sig` and reaps the child; its wait status.
  int Kill(int sig) {
    ::kill(pid_, sig);
    return Wait();
  }
  // Reaps the child; its wait status.
  int Wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }
  // Reaps the child if it exits within `timeout`; false (still running) if not.
  bool WaitFor(std::chrono::milliseconds timeout, int* status) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      const pid_t r = waitpid(pid_, status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

// The last `n` lines of a file (for failure messages).
inline std::string Tail(const std::string& path, size_t n = 15) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::ostringstream out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
    out << "  " << lines[i] << "\n";
  }
  return out.str();
}

// A voxdb serving `data` on a loopback port chosen by the kernel.
class Voxdb {
 public:
  // Starts it and waits until it listens. An error (with its log's tail)
  // if it exits first.
  static absl::StatusOr<std::unique_ptr<Voxdb>> Start(const std::string& data,
                                                      const std::vector<std::string>& flags,
                                                      const std::string& log_path) {
    std::vector<std::string> args = {VOXDB_BINARY, "--listen=127.0.0.1:0", "--data=" + data};
    args.insert(args.end(), flags.begin(), flags.end());
    auto child = ChildProcess::Start(args, log_path);
    if (child == nullptr) return absl::InternalError("cannot start voxdb");
    char line[512];
    unsigned port = 0;
    while (port == 0 && fgets(line, sizeof(line), child->out()) != nullptr) {
      if (std::sscanf(line, "listening on 127.0.0.1:%u", &port) != 1) port = 0;
    }
    if (port == 0) {
      const int status = child->Wait();
      return absl::UnavailableError(StrCat("voxdb exited (status ", status,
                                           ") before listening; its log ends:\n", Tail(log_path)));
    }
    return std::unique_ptr<Voxdb>(new Voxdb(std::move(child), static_cast<uint16_t>(port)));
  }

  uint16_t port() const { return port_; }
  ChildProcess& process() { return *child_; }

 private:
  Voxdb(std::unique_ptr<ChildProcess> child, uint16_t port)
      : child_(std::move(child)), port_(port) {}
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_;
};

}  // namespace vox::crash

#endif  // VOXDB_TESTS_CRASH_VOXDB_PROCESS_H_
