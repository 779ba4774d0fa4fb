#include "tools/voxctl_migration.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "schema/str.h"

namespace vox::voxctl {
namespace {

constexpr char kUsage[] =
    "usage: schema show | schema diff FILE | schema apply FILE [--confirm-destructive]";

// A migration file larger than this is not a migration (a frame holds 4 MiB).
constexpr size_t kMaxFileBytes = 1 << 20;

bool IsConfirmWord(const std::string& word) {
  return word == "--confirm-destructive" || word == "--confirm_destructive";
}

}  // namespace

absl::StatusOr<SchemaCommand> ParseSchemaCommand(const std::vector<std::string>& words) {
  if (words.empty()) return absl::InvalidArgumentError(StrCat("schema what? ", kUsage));
  SchemaCommand command;
  const std::string& sub = words[0];
  std::vector<std::string> rest;
  for (size_t i = 1; i < words.size(); ++i) {
    if (IsConfirmWord(words[i])) {
      if (sub != "apply") {
        return absl::InvalidArgumentError(StrCat(
            "--confirm-destructive is for `schema apply` (`schema ", sub, "` changes nothing)"));
      }
      command.confirm_destructive = true;
    } else {
      rest.push_back(words[i]);
    }
  }
  if (sub == "show") {
    if (!rest.empty()) return absl::InvalidArgumentError("schema show takes no arguments");
    command.kind = SchemaCommand::Kind::kShow;
    return command;
  }
  if (sub != "diff" && sub != "apply") {
    return absl::InvalidArgumentError(StrCat("unknown schema command '", sub, "'; ", kUsage));
  }
  command.kind = sub == "diff" ? SchemaCommand::Kind::kDiff : SchemaCommand::Kind::kApply;
  if (rest.size() != 1) {
    return absl::InvalidArgumentError(
        StrCat("schema ", sub, " takes one migration file (- for stdin); ", kUsage));
  }
  if (rest[0].size() > 1 && rest[0][0] == '-') {
    return absl::InvalidArgumentError(StrCat("schema ", sub, ": unknown option ", rest[0]));
  }
  command.file = rest[0];
  return command;
}

absl::StatusOr<std::string> ReadMigrationFile(const std::string& path) {
  const bool stdin_file = path == "-";
  const std::string name = stdin_file ? std::string("stdin") : path;
  std::FILE* in = stdin_file ? stdin : std::fopen(path.c_str(), "rb");
  if (in == nullptr) {
    return absl::InvalidArgumentError(StrCat("cannot read ", name, ": ", std::strerror(errno)));
  }
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), in)) > 0 && text.size() <= kMaxFileBytes) {
    text.append(buffer, n);
  }
  const int error = std::ferror(in) ? errno : 0;
  if (!stdin_file) std::fclose(in);
  if (error != 0) {
    return absl::InvalidArgumentError(StrCat("cannot read ", name, ": ", std::strerror(error)));
  }
  if (text.size() > kMaxFileBytes) {
    return absl::InvalidArgumentError(
        StrCat(name, " is over ", kMaxFileBytes >> 20, " MiB: not a migration"));
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat(name, " is empty: a migration starts with `version N`"));
  }
  return text;
}

std::string RenderSchema(const rpc::SchemaInfo& schema) {
  std::string out = schema.description;
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

std::string RenderMigration(const rpc::MigrationInfo& m) {
  std::string out =
      StrCat("version ", m.from_version, " -> ", m.to_version,
             m.applied ? (m.destructive ? ": applied (destructive, confirmed)" : ": applied")
                       : ": dry run, nothing changed",
             "\n");
  for (const std::string& change : m.changes) out += StrCat("  ", change, "\n");
  if (m.changes.empty()) out += "  (no steps)\n";
  if (m.destructive && !m.applied) {
    out += "DESTRUCTIVE: needs --confirm-destructive (a step loses data)\n";
  }
  return out;
}

std::string SchemaCommandsHelp() {
  return "  schema show                 the schema's version, migrations, tables and enums\n"
         "  schema diff FILE            what the migration in FILE would change (a dry run)\n"
         "  schema apply FILE [--confirm-destructive]\n"
         "                              apply it (admin); FILE - reads stdin\n";
}

}  // namespace vox::voxctl
