// `voxctl watch room ID | user ID | table NAME|'*'`: a change stream
// (net/subscription.h) printed as its events come, one line each, flushed
// at once, resuming by itself after a lost connection or a server restart
// (docs/voxctl.md, "Watching changes").
//
//   table:  LSN  TIME  TABLE  put|delete  ID  ACTION  ROW
//   json:   {"lsn":..,"commit_time":"RFC 3339","table":..,"id":..,"deleted":..,
//            "action":..|null,"row":{..}|null}
//
// Thread-compatible.
#ifndef VOXDB_TOOLS_VOXCTL_WATCH_H_
#define VOXDB_TOOLS_VOXCTL_WATCH_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/rpc.h"
#include "tools/remote_commands.h"

namespace vox::voxctl {

struct WatchOptions {
  std::optional<uint64_t> from_lsn;        // nullopt: from now
  int64_t count = 0;                       // exit 0 after this many events; 0: never
  std::chrono::milliseconds idle_exit{0};  // exit 0 after this long without one; 0: never
};

// The subscription `args` (`room ID`, `user ID` or `table NAME`) name, or
// INVALID_ARGUMENT saying what is wrong.
absl::StatusOr<rpc::Subscribe> ParseWatchArgs(const std::vector<std::string>& args);

// One event as printed in `format` (table or json), with its newline.
std::string FormatEvent(const rpc::StreamEvent& event, Format format);

// Runs `voxctl watch ARGS` until --count events, --idle_exit, SIGINT or
// SIGTERM (exit 0), a refusal (1), a usage error (2) or a connection that
// could not be remade (3).
int RunWatch(const std::vector<std::string>& args, const RemoteOptions& remote,
             const WatchOptions& options);

}  // namespace vox::voxctl

#endif  // VOXDB_TOOLS_VOXCTL_WATCH_H_
