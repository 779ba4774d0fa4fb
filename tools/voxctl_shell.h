// `voxctl shell`: the remote commands (tools/remote_commands.h) one line at
// a time over one connection. On a terminal it edits lines with libedit,
// keeps ~/.voxctl_history (1000 lines; lines with a password or token are
// not kept) and completes operation and field names with Tab; from a pipe
// it reads plain lines, so scripts and tests can drive it.
#ifndef VOXDB_TOOLS_VOXCTL_SHELL_H_
#define VOXDB_TOOLS_VOXCTL_SHELL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/remote_commands.h"

namespace vox {

// Runs until quit, exit or end of input. Returns 0, or the exit code of the
// last command that failed.
int RunShell(const RemoteOptions& options);

// A line's words as a POSIX shell splits a simple command: blanks separate,
// '...' is literal, "..." keeps blanks (\" and \\ escape), a backslash
// escapes the next character. nullopt on an unterminated quote.
std::optional<std::vector<std::string>> SplitCommandLine(std::string_view line);

}  // namespace vox

#endif  // VOXDB_TOOLS_VOXCTL_SHELL_H_
