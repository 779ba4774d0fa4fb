// `voxctl schema show | diff FILE | apply FILE [--confirm-destructive]`
// (docs/voxctl.md, "Schema migrations"): the command's words checked, the
// migration file read, and the server's answers printed for people.
// RemoteSession (tools/remote_commands.h) sends GetSchema and
// ApplyMigration; with --format=json or csv their results print
// generically (tools/voxctl_output.h) instead.
//
// Thread-compatible.
#ifndef VOXDB_TOOLS_VOXCTL_MIGRATION_H_
#define VOXDB_TOOLS_VOXCTL_MIGRATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "net/rpc.h"

namespace vox::voxctl {

struct SchemaCommand {
  enum class Kind { kShow, kDiff, kApply };
  Kind kind = Kind::kShow;
  std::string file;                  // diff, apply: the migration; "-" is stdin
  bool confirm_destructive = false;  // apply: let steps that lose data run
};

// The words after `schema`: `show`, `diff FILE` or `apply FILE
// [--confirm-destructive]`. InvalidArgument (a usage error) naming what is
// wrong.
absl::StatusOr<SchemaCommand> ParseSchemaCommand(const std::vector<std::string>& words);

// The migration in `path` ("-": all of stdin). InvalidArgument naming the
// file when it cannot be read or holds nothing.
absl::StatusOr<std::string> ReadMigrationFile(const std::string& path);

// `schema show`: the server's description (the version and the built-in
// one, a line per migration applied, then every table and enum).
std::string RenderSchema(const rpc::SchemaInfo& schema);
// `schema diff` (a dry run) and `schema apply`: the versions, each step's
// change, and for a destructive dry run the line saying it needs
// --confirm-destructive.
std::string RenderMigration(const rpc::MigrationInfo& migration);

// The schema commands' usage lines, for help.
std::string SchemaCommandsHelp();

}  // namespace vox::voxctl

#endif  // VOXDB_TOOLS_VOXCTL_MIGRATION_H_
