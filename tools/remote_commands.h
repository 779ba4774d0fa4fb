// voxctl's commands against a running server (voxctl call ...).
#ifndef VOXDB_TOOLS_REMOTE_COMMANDS_H_
#define VOXDB_TOOLS_REMOTE_COMMANDS_H_

#include <string>
#include <vector>

namespace vox {

// `args` are the words after "call". Exit codes: 0 done, 1 the server
// refused (its code and message are printed), 2 usage, 3 no connection.
int RunRemote(const std::vector<std::string>& args, const std::string& server,
              const std::string& token, bool json);

}  // namespace vox

#endif  // VOXDB_TOOLS_REMOTE_COMMANDS_H_
