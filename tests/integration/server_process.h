// A real voxdb process for integration tests: started on a loopback port
// (ephemeral unless the extra flags name one), killed when it goes out of
// scope.
#ifndef VOXDB_TESTS_INTEGRATION_SERVER_PROCESS_H_
#define VOXDB_TESTS_INTEGRATION_SERVER_PROCESS_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "net/client.h"

namespace vox {

// A voxdb child process serving a data directory.
class ServerProcess {
 public:
  ServerProcess(const std::string& data, std::vector<std::string> extra = {}) {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      std::vector<std::string> args = {VOXDB_BINARY, "--listen=127.0.0.1:0", "--data=" + data};
      for (auto& e : extra) args.push_back(e);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[256] = {};
    unsigned port = 0;
    while (fgets(line, sizeof(line), f) != nullptr) {
      if (std::sscanf(line, "metrics on 127.0.0.1:%u", &port) == 1) {
        metrics_port_ = static_cast<uint16_t>(port);
      }
      if (std::sscanf(line, "listening on 127.0.0.1:%u", &port) == 1) break;
    }
    port_ = static_cast<uint16_t>(port);
    out_ = f;
  }
  ~ServerProcess() {
    if (pid_ > 0) Kill(SIGKILL);
    if (out_ != nullptr) fclose(out_);
  }
  uint16_t port() const { return port_; }
  // The Prometheus endpoint's port (--metrics_listen=127.0.0.1:0); 0: off.
  uint16_t metrics_port() const { return metrics_port_; }
  pid_t pid() const { return pid_; }
  // Sends `sig` without waiting (SIGSTOP, SIGCONT).
  void Signal(int sig) { kill(pid_, sig); }
  // Sends `sig` and returns the exit status.
  int Kill(int sig) {
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  std::unique_ptr<Client> Connect() {
    auto c = Client::Connect({.port = port_});
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? std::move(*c) : nullptr;
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0, metrics_port_ = 0;
  FILE* out_ = nullptr;
};

// Runs `op`, expecting success (a test failure otherwise); its answer, or a
// default one on failure.
template <typename Op>
typename Op::Result CallOk(Client& client, const Op& op) {
  auto r = client.Call(op);
  if constexpr (std::is_void_v<typename Op::Result>) {
    EXPECT_TRUE(r.ok()) << r;
  } else {
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : typename Op::Result{};
  }
}

}  // namespace vox

#endif  // VOXDB_TESTS_INTEGRATION_SERVER_PROCESS_H_
