// voxctl's commands against a running server (docs/voxctl.md): any
// operation of the protocol by name (`voxctl call JoinRoom room_id=...`),
// the shortcuts (stats, user EMAIL, ...), `ops`, `help OP` and the schema
// migrations (`schema show|diff|apply`, tools/voxctl_migration.h). The
// shell (tools/voxctl_shell.h) runs the same command lines.
//
// Thread-compatible.
#ifndef VOXDB_TOOLS_REMOTE_COMMANDS_H_
#define VOXDB_TOOLS_REMOTE_COMMANDS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "net/client.h"
#include "net/rpc.h"
#include "tools/voxctl_output.h"
#include "tools/voxctl_report.h"

namespace vox {

// What voxctl exits with, and what a shell command returns.
enum ExitCode : int {
  kExitOk = 0,
  kExitRefused = 1,       // the server answered with a non-OK status
  kExitUsage = 2,         // a bad command, field or value: nothing was sent
  kExitNoConnection = 3,  // cannot connect, or the connection was lost
};

struct RemoteOptions {
  std::string server = "127.0.0.1:7070";  // HOST:PORT ([v6]:PORT)
  // "name:secret" or a legacy unnamed token (ClientOptions::token); never printed.
  std::string token;
  bool tls = false;         // connect with TLS (ClientOptions::tls)
  std::string tls_ca_file;  // PEM CA verifying the server; empty: the system's CAs
  std::chrono::milliseconds timeout{10000};
  voxctl::Format format = voxctl::Format::kTable;
  // With a path, a report's answer is also drawn there as an SVG chart
  // (tools/voxctl_report.h); any other answer is then a usage error.
  voxctl::ChartOptions chart;
};

// One connection (made on first use, remade after a loss) that runs
// command lines.
class RemoteSession {
 public:
  explicit RemoteSession(RemoteOptions options);
  ~RemoteSession();

  // Runs one command's words: `OP FIELD=VALUE ...` (also `call OP ...`), a
  // shortcut, `ops`, `help [OP]`, `schema ...`. The result goes to stdout,
  // errors to stderr as `voxctl: CODE: message`.
  int Execute(const std::vector<std::string>& words);
  // Connects if not connected. With `announce`, says to whom on stdout.
  int Connect(bool announce);

  voxctl::Format format() const { return options_.format; }
  void set_format(voxctl::Format format) { options_.format = format; }
  const RemoteOptions& options() const { return options_; }

 private:
  int Call(const std::string& op_name, const std::vector<std::string>& args);
  // `schema show|diff|apply ...` (tools/voxctl_migration.h).
  int Schema(const std::vector<std::string>& args);
  // Sends one operation and waits for its answer. On a lost connection or a
  // refusal, prints it and returns nullopt with the exit code in `*rc`.
  std::optional<Reply> Exchange(const std::function<rpc::Encoded(rpc::Builder&)>& encode, int* rc);
  // Prints a report's answer and draws its chart when asked.
  int PrintReport(const wire::ReportResult& report, const std::vector<std::string>& args);

  RemoteOptions options_;
  std::unique_ptr<Client> client_;
};

// `voxctl call ARGS...`.
int RunCall(const std::vector<std::string>& args, const RemoteOptions& options);

// The client options `options` name (--server split into host and port),
// or INVALID_ARGUMENT.
absl::StatusOr<ClientOptions> ToClientOptions(const RemoteOptions& options);

// The commands a line may start with besides operation names: shortcuts,
// ops, help, schema (for the shell's completion).
std::vector<std::string> CommandWords();
// The shortcuts and the generic commands, for usage messages.
std::string RemoteCommandsHelp();

}  // namespace vox

#endif  // VOXDB_TOOLS_REMOTE_COMMANDS_H_
