// A platform server's view of VoxDB: the life of one live audio room through
// the C++ client (net/client.h). Copy it as a starting point.
//
//   build/tools/examples/live_room --server=127.0.0.1:7070 [--token_file=F] [--listeners=20]
//
// It registers a host and listeners (or finds them again when they exist),
// opens a room, lets the listeners join with pipelined requests, runs a
// hand-raise and an atomic "join and mute" batch, sends a gift safely
// (idempotency key), reads the room's live state and audit trail, and ends
// the room. Every refusal is printed with its code; the exit code is 0 only
// when the whole story ran.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "net/client.h"
#include "schema/str.h"

namespace {

using vox::Client;
using vox::Future;
using vox::Uuid;
namespace rpc = vox::rpc;

// Prints `what` and the status when it is not OK; true when OK.
bool Check(const char* what, const absl::Status& s) {
  if (s.ok()) return true;
  std::fprintf(stderr, "%s: %s: %s\n", what, absl::StatusCodeToString(s.code()).c_str(),
               std::string(s.message()).c_str());
  return false;
}

// Registers a user, or finds the one registered by an earlier run.
absl::StatusOr<Uuid> EnsureUser(Client& client, const std::string& name) {
  const std::string email = name + "@example.com";
  auto registered = client.Call(rpc::RegisterUser{
      .username = name,
      .email = email,
      .password_hash = "$argon2id$v=19$m=65536,t=3,p=4$example",  // hashed by the platform
      .display_name = name});
  if (registered.ok()) return registered->user_id;
  if (!absl::IsAlreadyExists(registered.status())) return registered.status();
  auto row = client.Call(rpc::UserByEmail{email});  // a JSON object
  if (!row.ok()) return row.status();
  const size_t at = row->find("\"id\":\"");
  if (at == std::string::npos) return absl::InternalError("a user row without an id");
  return vox::ParseUuid(row->substr(at + 6, 36));
}

struct Flags {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;
  std::string token;
  int listeners = 20;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::string prefix = std::string("--") + name + "=";
      return arg.rfind(prefix, 0) == 0 ? argv[i] + prefix.size() : nullptr;
    };
    if (const char* v = value("server")) {
      const std::string s = v;
      const size_t colon = s.rfind(':');
      if (colon == std::string::npos) return false;
      flags->host = s.substr(0, colon);
      flags->port = static_cast<uint16_t>(std::stoi(s.substr(colon + 1)));
    } else if (const char* v = value("token_file")) {
      std::ifstream in(v);
      if (!std::getline(in, flags->token)) return false;
    } else if (const char* v = value("listeners")) {
      flags->listeners = std::stoi(v);
    } else {
      return false;
    }
  }
  return flags->listeners >= 2;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: live_room [--server=HOST:PORT] [--token_file=F] [--listeners=N>=2]\n");
    return 2;
  }
  auto connected = Client::Connect({.host = flags.host, .port = flags.port, .token = flags.token});
  if (!Check("connect", connected.status())) return 3;
  Client& client = **connected;
  std::printf("connected to %s as %s\n", client.server_version().c_str(), client.role().c_str());

  // 1. People.
  auto host = EnsureUser(client, "host_demo");
  if (!Check("host", host.status())) return 1;
  std::vector<Uuid> listeners;
  for (int i = 0; i < flags.listeners; ++i) {
    auto user = EnsureUser(client, "listener_demo_" + std::to_string(i));
    if (!Check("listener", user.status())) return 1;
    listeners.push_back(*user);
  }

  // 2. A room goes live with its host.
  auto room = client.Call(rpc::CreateAndOpenRoom{
      .owner_id = *host, .title = "Late night jazz", .max_participants = 500, .tags = {"music"}});
  if (!Check("open room", room.status())) return 1;
  std::printf("room %s is live (code %s)\n", vox::FormatUuid(room->room_id).c_str(),
              room->room_code.c_str());

  // Idempotency keys name the business event: here, this room's gift.
  const std::string room_key = vox::FormatUuid(room->room_id);

  // 3. Listeners join, all requests in flight at once.
  std::vector<Future<rpc::Joined>> joins;
  for (size_t i = 0; i + 1 < listeners.size(); ++i) {
    joins.push_back(client.Send(rpc::JoinRoom{.room_id = room->room_id, .user_id = listeners[i]}));
  }
  int joined = 0;
  for (auto& j : joins) joined += Check("join", j.Get().status());
  std::printf("%d listeners joined\n", joined);

  // 4. The last listener joins and is muted in one transaction: both or neither.
  const Uuid late = listeners.back();
  vox::Batch batch;
  auto late_join = batch.Add(rpc::JoinRoom{.room_id = room->room_id, .user_id = late});
  batch.Add(rpc::SetMuted{
      .room_id = room->room_id, .actor_id = *host, .target_id = late, .muted = true});
  if (!Check("join and mute", client.Run(batch))) return 1;
  std::printf("late listener joined muted as %s\n", late_join.Get()->role.c_str());

  // 5. A listener raises a hand; the host sees it in the live state.
  if (!Check("raise hand", client.Call(rpc::SetHandRaised{.room_id = room->room_id,
                                                          .actor_id = listeners[0],
                                                          .target_id = listeners[0]}))) {
    return 1;
  }

  // 6. Money: a top-up and a gift to the host. The idempotency key makes a
  // retry after a lost answer safe: the second call changes nothing.
  if (!Check("top up", client.Call(rpc::TopUp{.user_id = listeners[0],
                                              .amount = 1000,
                                              .idempotency_key = "topup-" + room_key})
                           .status())) {
    return 1;
  }
  const rpc::Gift gift{.sender_id = listeners[0],
                       .receiver_id = *host,
                       .amount = 100,
                       .room_id = room->room_id,
                       .idempotency_key = "gift-" + room_key};
  auto sent = client.Call(gift);
  auto retried = client.Call(gift);
  if (!Check("gift", sent.status()) || !Check("gift retry", retried.status())) return 1;
  std::printf("gift of 100: fee %lld, retry was a no-op: %s\n", static_cast<long long>(sent->fee),
              retried->already_done ? "yes" : "no");

  // 7. Live state, as the room's app screen would show it.
  auto present = client.Call(rpc::PresentParticipants{room->room_id});
  if (!Check("participants", present.status())) return 1;
  int hands = 0, muted = 0;
  for (const rpc::PresentParticipant& p : *present) {
    hands += p.hand_raised;
    muted += p.muted;
  }
  std::printf("present: %zu, hands raised: %d, muted: %d\n", present->size(), hands, muted);

  // 8. The room's audit trail, newest first, page by page.
  size_t audit_rows = 0;
  std::optional<Uuid> after;
  do {
    auto page = client.Call(rpc::RoomAuditTrail{.room_id = room->room_id, .limit = 50, .after = after});
    if (!Check("audit", page.status())) return 1;
    audit_rows += page->rows.size();
    after = page->next;
  } while (after.has_value());
  std::printf("audit trail: %zu rows\n", audit_rows);

  // 9. A refusal is an ordinary answer: a listener cannot end the room.
  auto refused = client.Call(rpc::EndRoom{.room_id = room->room_id, .actor_id = listeners[1]});
  std::printf("a listener ending the room: %s\n",
              absl::StatusCodeToString(refused.code()).c_str());
  if (refused.ok()) return 1;
  if (!Check("end room", client.Call(rpc::EndRoom{.room_id = room->room_id, .actor_id = *host}))) {
    return 1;
  }
  std::printf("room ended\n");
  return 0;
}
