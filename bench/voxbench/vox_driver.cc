// voxbench's driver for VoxDB: each workload operation is one request of
// the binary protocol (net/rpc.h), so a write is one transaction, durable
// before its answer, as WORKLOAD.md asks.
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "bench/voxbench/driver.h"
#include "net/client.h"
#include "schema/str.h"

namespace vox::bench {
namespace {

// The client reports a broken connection as Unavailable; the server never
// refuses an operation with that code.
bool ConnectionFailed(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable;
}

class VoxSession final : public Session {
 public:
  explicit VoxSession(std::unique_ptr<Client> client) : client_(std::move(client)) {}

  absl::StatusOr<SyncCounters> Counters() override {
    auto stats = client_->Call(rpc::Stats{});
    if (!stats.ok()) return stats.status();
    return SyncCounters{.commits = stats->commits, .syncs = stats->wal_syncs};
  }

  absl::Status Execute(const OpRequest& q, OpResponse& r) override {
    r = OpResponse{};
    switch (q.op) {
      case OpId::R1: {
        auto row = client_->Call(rpc::UserByEmail{.email = q.text});
        if (row.ok()) r.rows = 1;
        return Settle(row.status(), r, /*not_found_is_empty=*/true);
      }
      case OpId::R2: {
        auto rows = client_->Call(rpc::PresentParticipants{.room_id = q.room});
        if (rows.ok()) r.rows = static_cast<int64_t>(rows->size());
        return Settle(rows.status(), r);
      }
      case OpId::R3:
        return Rows(client_->Call(rpc::UserPresentRooms{.user_id = q.user}), r);
      case OpId::R4:
        return Rows(client_->Call(rpc::RoomAuditTrail{.room_id = q.room, .limit = 100}), r);
      case OpId::R5:
        return Rows(client_->Call(rpc::ExpiredRecordings{.limit = 1000}), r);
      case OpId::R6: {
        auto stats = client_->Call(rpc::RoomStatistics{.room_id = q.room});
        if (stats.ok()) {
          r.rows = stats->participations;
          r.present = stats->present;
        }
        return Settle(stats.status(), r);
      }
      case OpId::R7:
        return Rows(client_->Call(rpc::LiveRoomsByTag{.tag = q.text, .limit = 50}), r);
      case OpId::R8: {
        auto banned = client_->Call(rpc::IsBanned{.room_id = q.room, .user_id = q.user});
        if (banned.ok()) r.rows = *banned ? 1 : 0;
        return Settle(banned.status(), r);
      }
      case OpId::R9: {
        auto page = client_->Call(rpc::WalletTransactions{.user_id = q.user, .limit = 50});
        if (page.ok()) r.rows = static_cast<int64_t>(page->transfers.size());
        return Settle(page.status(), r);
      }
      case OpId::W1: {
        auto user = client_->Call(rpc::RegisterUser{.username = q.text,
                                                    .email = q.text + "@bench.example",
                                                    .password_hash = "x",
                                                    .display_name = q.text});
        if (user.ok()) r.created = user->user_id;
        return Settle(user.status(), r);
      }
      case OpId::W2: {
        auto room = client_->Call(rpc::CreateAndOpenRoom{.owner_id = q.user,
                                                         .title = q.text,
                                                         .max_participants = 100,
                                                         .is_public = true,
                                                         .tags = q.tags});
        if (room.ok()) r.created = room->room_id;
        return Settle(room.status(), r);
      }
      case OpId::W3:
        return Settle(client_->Call(rpc::JoinRoom{.room_id = q.room, .user_id = q.user}).status(),
                      r);
      case OpId::W4:
        return Settle(client_->Call(rpc::LeaveRoom{.room_id = q.room, .user_id = q.user}), r);
      case OpId::W5:
        switch (q.action) {
          case LiveAction::kMute:
          case LiveAction::kUnmute:
            return Settle(client_->Call(rpc::SetMuted{.room_id = q.room,
                                                      .actor_id = q.user,
                                                      .target_id = q.user,
                                                      .muted = q.action == LiveAction::kMute}),
                          r);
          case LiveAction::kRaiseHand:
          case LiveAction::kLowerHand:
            return Settle(
                client_->Call(rpc::SetHandRaised{.room_id = q.room,
                                                 .actor_id = q.user,
                                                 .target_id = q.user,
                                                 .raised = q.action == LiveAction::kRaiseHand}),
                r);
        }
        return absl::InternalError("unknown W5 action");
      case OpId::W6:
        return Settle(client_
                          ->Call(rpc::Gift{.sender_id = q.user,
                                           .receiver_id = q.other,
                                           .amount = q.amount,
                                           .idempotency_key = q.text})
                          .status(),
                      r);
      case OpId::W7:
        return Settle(client_->Call(rpc::EndRoom{.room_id = q.room, .actor_id = q.user}), r);
    }
    return absl::InternalError("unknown operation");
  }

 private:
  // A refusal or failure goes into the response; only a broken connection
  // ends the session.
  static absl::Status Settle(const absl::Status& s, OpResponse& r,
                             bool not_found_is_empty = false) {
    if (ConnectionFailed(s)) return s;
    if (not_found_is_empty && s.code() == absl::StatusCode::kNotFound) return absl::OkStatus();
    r.status = s;
    return absl::OkStatus();
  }
  static absl::Status Rows(const absl::StatusOr<rpc::Rows>& rows, OpResponse& r) {
    if (rows.ok()) r.rows = static_cast<int64_t>(rows->rows.size());
    return Settle(rows.status(), r);
  }

  std::unique_ptr<Client> client_;
};

class VoxDriver final : public Driver {
 public:
  VoxDriver(std::string address, std::string token)
      : address_(std::move(address)), token_(std::move(token)) {}

  std::string_view name() const override { return "voxdb"; }

  absl::StatusOr<std::unique_ptr<Session>> Connect() override {
    const size_t colon = address_.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(StrCat("'", address_, "' is not host:port"));
    }
    ClientOptions options{.host = address_.substr(0, colon),
                          .port = static_cast<uint16_t>(std::atoi(address_.c_str() + colon + 1)),
                          // "name:secret" or an older unnamed token, proven
                          // with SCRAM-SHA-256 (docs/security.md).
                          .token = token_,
                          .client_name = "voxbench"};
    auto client = Client::Connect(options);
    if (!client.ok()) return client.status();
    return std::unique_ptr<Session>(std::make_unique<VoxSession>(std::move(*client)));
  }

 private:
  std::string address_, token_;
};

}  // namespace

std::unique_ptr<Driver> MakeVoxDriver(std::string address, std::string token) {
  return std::make_unique<VoxDriver>(std::move(address), std::move(token));
}

}  // namespace vox::bench
