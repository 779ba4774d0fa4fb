#include "tools/remote_commands.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/numbers.h"
#include "net/client.h"
#include "schema/str.h"
#include "schema/types.h"
#include "schema/voxdb_generated.h"
#include "tools/voxctl_migration.h"
#include "tools/voxctl_schema.h"

namespace vox {

using voxctl::OpInfo;
using voxctl::WireSchema;

namespace {

// Friendly names over the generic path: `participants ROOM` runs
// `PresentParticipants room_id=ROOM`. Words after the positional ones are
// FIELD=VALUE words of the operation. A shortcut whose operation is not in
// the schema is not offered.
struct Shortcut {
  const char* name;
  const char* usage;
  const char* op;
  std::vector<const char*> positional;  // field names of the words after the name
  const char* what;
};

const std::vector<Shortcut>& Shortcuts() {
  static const std::vector<Shortcut> kShortcuts = {
      {"stats", "stats", "Stats", {}, "rows per table, commits, durable LSN"},
      {"checkpoint", "checkpoint", "Checkpoint", {}, "take a snapshot now (admin)"},
      {"snapshots", "snapshots", "ListSnapshots", {}, "the server's snapshots (admin)"},
      {"user",
       "user EMAIL|USERNAME|UUID",
       "UserByEmail",
       {"email"},
       "a user by email, username or id"},
      {"row", "row TABLE UUID", "GetRow", {"table", "id"}, "any row by primary key"},
      {"participants",
       "participants ROOM",
       "PresentParticipants",
       {"room_id"},
       "a room's present participants"},
      {"audit",
       "audit ROOM",
       "RoomAuditTrail",
       {"room_id"},
       "a room's audit trail, newest first (limit=100)"},
  };
  return kShortcuts;
}

const Shortcut* FindShortcut(const std::string& word) {
  for (const Shortcut& s : Shortcuts()) {
    if (word == s.name && WireSchema::Get().FindOp(s.op) != nullptr) return &s;
  }
  return nullptr;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "voxctl: %s\n", message.c_str());
  return kExitUsage;
}

std::string Message(const absl::Status& s) { return std::string(ToStd(s.message())); }

// A status from the client library: a broken or missing connection is
// exit 3; anything the server said (a refused handshake) is exit 1.
int Failed(const absl::Status& s) {
  std::fprintf(stderr, "voxctl: %s: %s\n", absl::StatusCodeToString(s.code()).c_str(),
               Message(s).c_str());
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ? kExitNoConnection : kExitRefused;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// Operations whose names contain `word` or are a typo away, for "did you mean".
std::string Suggestions(const std::string& word) {
  const std::string want = voxctl::NormalizeName(word);
  std::vector<std::string> near;
  for (const OpInfo& op : WireSchema::Get().ops()) {
    const std::string name = voxctl::NormalizeName(op.name);
    if (!want.empty() && (name.find(want) != std::string::npos ||
                          EditDistance(want, name) <= std::max<size_t>(1, name.size() / 5))) {
      near.push_back(op.name);
    }
  }
  if (near.empty() || near.size() > 8) return "; `voxctl ops` lists them";
  return StrCat("; did you mean ", StrJoin(near, ", "), "?");
}

}  // namespace

RemoteSession::RemoteSession(RemoteOptions options) : options_(std::move(options)) {}
RemoteSession::~RemoteSession() = default;

absl::StatusOr<ClientOptions> ToClientOptions(const RemoteOptions& options) {
  const std::string& server = options.server;
  const size_t colon = server.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(absl::string_view(server).substr(colon + 1), &port) || port == 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(StrCat("--server=", server, " is not HOST:PORT"));
  }
  std::string host = server.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return ClientOptions{.host = host,
                       .port = static_cast<uint16_t>(port),
                       .token = options.token,
                       .client_name = "voxctl",
                       .timeout = options.timeout,
                       .tls = options.tls,
                       .tls_ca_file = options.tls_ca_file};
}

int RemoteSession::Connect(bool announce) {
  if (client_ != nullptr) return kExitOk;
  absl::StatusOr<ClientOptions> client_options = ToClientOptions(options_);
  if (!client_options.ok()) return Usage(Message(client_options.status()));
  const std::string& server = options_.server;
  auto client = Client::Connect(*client_options);
  if (!client.ok()) return Failed(client.status());
  client_ = *std::move(client);
  if (announce) {
    std::printf("connected to %s: server %s, database %s, role %s\n", server.c_str(),
                client_->server_version().c_str(), FormatUuid(client_->database_id()).c_str(),
                client_->role().c_str());
  }
  return kExitOk;
}

int RemoteSession::Execute(const std::vector<std::string>& words) {
  if (words.empty()) return kExitOk;
  const std::string& first = words[0];
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  if (first == "call") {
    if (rest.empty()) return Usage("call what? `voxctl ops` lists the operations");
    return Execute(rest);
  }
  if (first == "ops") {
    std::fputs(voxctl::ListOps().c_str(), stdout);
    return kExitOk;
  }
  if (first == "help") {
    if (rest.empty()) {
      std::fputs(RemoteCommandsHelp().c_str(), stdout);
      return kExitOk;
    }
    const Shortcut* s = FindShortcut(rest[0]);
    const OpInfo* op = WireSchema::Get().FindOp(s != nullptr ? s->op : rest[0]);
    if (op == nullptr)
      return Usage(StrCat("unknown operation '", rest[0], "'", Suggestions(rest[0])));
    if (s != nullptr) std::printf("%s: %s; runs %s\n", s->usage, s->what, op->name.c_str());
    std::fputs(voxctl::DescribeOp(*op).c_str(), stdout);
    return kExitOk;
  }
  if (first == "schema") return Schema(rest);
  if (const Shortcut* s = FindShortcut(first)) {
    if (rest.size() < s->positional.size()) {
      return Usage(StrCat("usage: ", s->usage, " [FIELD=VALUE ...]"));
    }
    std::string op = s->op;
    std::vector<std::string> args;
    for (size_t i = 0; i < s->positional.size(); ++i) {
      args.push_back(StrCat(s->positional[i], "=", rest[i]));
    }
    if (std::string_view(s->name) == "user" && rest[0].find('@') == std::string::npos) {
      if (ParseUuid(rest[0]).ok()) {  // by id
        op = "GetRow";
        args = {"table=users", StrCat("id=", rest[0])};
      } else if (WireSchema::Get().FindOp("UserByUsername") != nullptr) {
        op = "UserByUsername";
        args = {StrCat("username=", rest[0])};
      }
    }
    args.insert(args.end(), rest.begin() + s->positional.size(), rest.end());
    return Call(op, args);
  }
  return Call(first, rest);
}

int RemoteSession::Call(const std::string& op_name, const std::vector<std::string>& args) {
  const OpInfo* op = WireSchema::Get().FindOp(op_name);
  if (op == nullptr) {
    return Usage(StrCat("unknown operation or command '", op_name, "'", Suggestions(op_name)));
  }
  absl::StatusOr<voxctl::OpRequest> request = voxctl::ParseOpArgs(*op, args);
  if (!request.ok()) return Usage(Message(request.status()));
  int rc = Connect(false);
  if (rc != kExitOk) return rc;
  std::optional<Reply> reply =
      Exchange([&request](rpc::Builder& b) { return request->Encode(b); }, &rc);
  if (!reply) return rc;
  const wire::Response& response = reply->response();
  if (const wire::ReportResult* report = response.result_as_ReportResult()) {
    return PrintReport(*report, args);
  }
  const std::string out = voxctl::Render(voxctl::ResultDoc(response), options_.format);
  std::fputs(out.c_str(), stdout);
  if (!options_.chart.path.empty()) {
    return Usage(StrCat("--chart: ", op->name, " answered with ",
                        wire::EnumNameResult(response.result_type()),
                        ", not a report; no chart written"));
  }
  return kExitOk;
}

std::optional<Reply> RemoteSession::Exchange(
    const std::function<rpc::Encoded(rpc::Builder&)>& encode, int* rc) {
  absl::StatusOr<Reply> reply = client_->SendRaw(encode).Get();
  if (!reply.ok()) {
    if (absl::IsUnavailable(reply.status())) client_.reset();  // reconnect next time
    *rc = Failed(reply.status());
    return std::nullopt;
  }
  if (absl::Status s = reply->status(); !s.ok()) {
    std::fprintf(stderr, "voxctl: %s: %s\n", absl::StatusCodeToString(s.code()).c_str(),
                 Message(s).c_str());
    *rc = kExitRefused;
    return std::nullopt;
  }
  return *std::move(reply);
}

int RemoteSession::Schema(const std::vector<std::string>& args) {
  absl::StatusOr<voxctl::SchemaCommand> command = voxctl::ParseSchemaCommand(args);
  if (!command.ok()) return Usage(Message(command.status()));
  if (!options_.chart.path.empty()) return Usage("--chart is for reports, not schema commands");
  using Kind = voxctl::SchemaCommand::Kind;
  rpc::ApplyMigration migration{.confirm_destructive = command->confirm_destructive,
                                .dry_run = command->kind == Kind::kDiff};
  if (command->kind != Kind::kShow) {
    absl::StatusOr<std::string> text = voxctl::ReadMigrationFile(command->file);
    if (!text.ok()) return Usage(Message(text.status()));
    migration.text = *std::move(text);
  }
  int rc = Connect(false);
  if (rc != kExitOk) return rc;
  std::optional<Reply> reply =
      command->kind == Kind::kShow
          ? Exchange([](rpc::Builder& b) { return rpc::GetSchema{}.Encode(b); }, &rc)
          : Exchange([&migration](rpc::Builder& b) { return migration.Encode(b); }, &rc);
  if (!reply) return rc;
  const wire::Response& response = reply->response();
  std::string out;
  if (options_.format != voxctl::Format::kTable) {
    out = voxctl::Render(voxctl::ResultDoc(response), options_.format);
  } else if (command->kind == Kind::kShow) {
    absl::StatusOr<rpc::SchemaInfo> schema = rpc::GetSchema::Decode(response);
    if (!schema.ok()) return Failed(schema.status());
    out = voxctl::RenderSchema(*schema);
  } else {
    absl::StatusOr<rpc::MigrationInfo> result = rpc::ApplyMigration::Decode(response);
    if (!result.ok()) return Failed(result.status());
    out = voxctl::RenderMigration(*result);
  }
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

int RemoteSession::PrintReport(const wire::ReportResult& report,
                               const std::vector<std::string>& args) {
  // The request's `bucket=` names the bucket width, which a report of one
  // bucket cannot show.
  std::string bucket;
  for (const std::string& a : args) {
    if (a.starts_with("bucket=")) bucket = a.substr(7);
  }
  std::fputs(voxctl::RenderReport(report, options_.format, bucket).c_str(), stdout);
  const voxctl::ChartOptions& chart = options_.chart;
  if (chart.path.empty()) return kExitOk;
  absl::StatusOr<svg::Chart> drawn = voxctl::ReportChart(report, chart, bucket);
  if (!drawn.ok()) return Usage(StrCat("--chart: ", Message(drawn.status())));
  if (absl::Status s = voxctl::WriteFileAtomically(chart.path, svg::RenderSvg(*drawn)); !s.ok()) {
    return Usage(StrCat("--chart: ", Message(s)));
  }
  // Beside json or csv on stdout, the path goes to stderr.
  std::fprintf(options_.format == voxctl::Format::kTable ? stdout : stderr, "chart: %s\n",
               chart.path.c_str());
  return kExitOk;
}

int RunCall(const std::vector<std::string>& args, const RemoteOptions& options) {
  if (args.empty()) {
    std::fprintf(stderr, "usage: voxctl call OP [FIELD=VALUE ...]\n\n%s",
                 RemoteCommandsHelp().c_str());
    return kExitUsage;
  }
  RemoteSession session(options);
  const int rc = session.Execute(args);
  std::fflush(stdout);
  return rc;
}

std::vector<std::string> CommandWords() {
  std::vector<std::string> words = {"call", "ops", "help", "schema"};
  for (const Shortcut& s : Shortcuts()) {
    if (WireSchema::Get().FindOp(s.op) != nullptr) words.push_back(s.name);
  }
  return words;
}

std::string RemoteCommandsHelp() {
  std::string out =
      "Against a running server ([--server=HOST:PORT] [--token_file=PATH] "
      "[--format=table|json|csv] [--chart=FILE.svg]):\n"
      "  call OP FIELD=VALUE ...     run any operation (names: JoinRoom or join_room)\n"
      "  ops                         every operation with its fields\n"
      "  help OP                     one operation's fields, types and defaults\n";
  out += "Schema migrations (docs/voxctl.md):\n" + voxctl::SchemaCommandsHelp();
  out += "Shortcuts (voxctl call NAME ..., or in the shell):\n";
  for (const Shortcut& s : Shortcuts()) {
    if (WireSchema::Get().FindOp(s.op) == nullptr) continue;
    const std::string_view usage = s.usage;
    out += StrCat("  ", usage, std::string(usage.size() < 28 ? 28 - usage.size() : 1, ' '), s.what,
                  "\n");
  }
  out +=
      "Values: strings as is; numbers; true/false; enums by name; uuids as text; timestamps as\n"
      "microseconds, RFC 3339 or now; lists comma-separated (tags=music,talk); nested tables as\n"
      "settings.title=...; FieldValue lists as values.COLUMN=VALUE (docs/voxctl.md).\n";
  return out;
}

}  // namespace vox
