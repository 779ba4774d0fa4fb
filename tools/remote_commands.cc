#include "tools/remote_commands.h"

#include <cstdio>

#include "net/client.h"
#include "schema/str.h"

namespace vox {
namespace {

constexpr char kUsage[] =
    "voxctl call <what> [--server=HOST:PORT] [--token=T] [--json]\n"
    "  stats                     rows per table, commits, durable LSN\n"
    "  checkpoint                take a snapshot now (admin)\n"
    "  user EMAIL                a user by email\n"
    "  row TABLE UUID            any row by primary key\n"
    "  participants ROOM_UUID    a room's present participants\n"
    "  audit ROOM_UUID           a room's audit trail, newest first (100)\n";

int Refused(const absl::Status& s) {
  std::fprintf(stderr, "voxctl: %s: %s\n", absl::StatusCodeToString(s.code()).c_str(),
               std::string(ToStd(s.message())).c_str());
  return 1;
}

absl::StatusOr<Uuid> UuidArg(const std::string& text) { return ParseUuid(text); }

}  // namespace

int RunRemote(const std::vector<std::string>& args, const std::string& server,
              const std::string& token, bool json) {
  if (args.empty()) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  const size_t colon = server.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "voxctl: --server=%s is not host:port\n", server.c_str());
    return 2;
  }
  auto client =
      Client::Connect({.host = server.substr(0, colon),
                       .port = static_cast<uint16_t>(std::atoi(server.c_str() + colon + 1)),
                       .token = token});
  if (!client.ok()) {
    std::fprintf(stderr, "voxctl: %s\n", std::string(ToStd(client.status().message())).c_str());
    return absl::IsUnavailable(client.status()) ? 3 : 1;
  }
  Client& c = **client;
  const std::string& what = args[0];
  if (what == "stats" && args.size() == 1) {
    auto s = c.Stats();
    if (!s.ok()) return Refused(s.status());
    if (json) {
      std::string rows;
      for (const auto& [name, n] : s->rows_per_table) {
        rows += StrCat(rows.empty() ? "" : ",", JsonQuote(name), ":", n);
      }
      std::printf("{\"commits\":%llu,\"durable_lsn\":%llu,\"durability\":%s,\"rows\":{%s}}\n",
                  static_cast<unsigned long long>(s->commits),
                  static_cast<unsigned long long>(s->durable_lsn), JsonQuote(s->durability).c_str(),
                  rows.c_str());
    } else {
      std::printf("server %s, database %s, durability %s\ncommits %llu, durable LSN %llu\n\n",
                  c.server_version().c_str(), FormatUuid(c.database_id()).c_str(),
                  s->durability.c_str(), static_cast<unsigned long long>(s->commits),
                  static_cast<unsigned long long>(s->durable_lsn));
      std::printf("%-20s %12s\n", "table", "rows");
      for (const auto& [name, n] : s->rows_per_table) {
        std::printf("%-20s %12llu\n", name.c_str(), static_cast<unsigned long long>(n));
      }
    }
    return 0;
  }
  if (what == "checkpoint" && args.size() == 1) {
    auto path = c.Checkpoint();
    if (!path.ok()) return Refused(path.status());
    std::printf(json ? "{\"snapshot\":%s}\n" : "snapshot %s\n",
                json ? JsonQuote(*path).c_str() : path->c_str());
    return 0;
  }
  if (what == "user" && args.size() == 2) {
    auto row = c.UserByEmail(args[1]);
    if (!row.ok()) return Refused(row.status());
    std::printf("%s\n", row->c_str());
    return 0;
  }
  if (what == "row" && args.size() == 3) {
    auto id = UuidArg(args[2]);
    if (!id.ok()) return Refused(id.status());
    auto row = c.GetRow(args[1], *id);
    if (!row.ok()) return Refused(row.status());
    std::printf("%s\n", row->c_str());
    return 0;
  }
  if (what == "participants" && args.size() == 2) {
    auto room = UuidArg(args[1]);
    if (!room.ok()) return Refused(room.status());
    auto list = c.PresentParticipants(*room);
    if (!list.ok()) return Refused(list.status());
    if (!json) std::printf("%-36s  %-11s %5s %5s\n", "user", "role", "muted", "hand");
    for (const PresentParticipant& p : *list) {
      if (json) {
        std::printf("{\"user_id\":\"%s\",\"role\":\"%s\",\"muted\":%s,\"hand_raised\":%s}\n",
                    FormatUuid(p.user_id).c_str(), p.role.c_str(), p.muted ? "true" : "false",
                    p.hand_raised ? "true" : "false");
      } else {
        std::printf("%-36s  %-11s %5s %5s\n", FormatUuid(p.user_id).c_str(), p.role.c_str(),
                    p.muted ? "yes" : "", p.hand_raised ? "yes" : "");
      }
    }
    return 0;
  }
  if (what == "audit" && args.size() == 2) {
    auto room = UuidArg(args[1]);
    if (!room.ok()) return Refused(room.status());
    auto page = c.RoomAuditTrail(*room, 100);
    if (!page.ok()) return Refused(page.status());
    for (const std::string& row : page->rows) std::printf("%s\n", row.c_str());
    return 0;
  }
  std::fprintf(stderr, "voxctl: unknown or incomplete call '%s'\n%s", what.c_str(), kUsage);
  return 2;
}

}  // namespace vox
