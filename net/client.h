// A C++ client for the VoxDB server: one connection, synchronous typed
// calls returning absl::Status / StatusOr, a timeout per call. Reconnects
// once on a dropped connection before a call. (A pipelined asynchronous API
// follows in issue 4.)
// Thread-compatible: use one Client per thread.
#ifndef VOXDB_NET_CLIENT_H_
#define VOXDB_NET_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "schema/types.h"

namespace vox {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;
  std::string token;  // empty: loopback without tokens
  std::chrono::milliseconds timeout{10000};
  bool read_unsynced = false;  // reads need not wait for the WAL
};

struct Registered {
  Uuid user_id, auth_provider_id, wallet_id;
};
struct OpenedRoom {
  Uuid room_id, host_participant_id;
  std::string room_code;
};
struct Joined {
  Uuid participant_id;
  std::string role;
  bool muted = false, room_started = false;
};
struct Transfer {
  Uuid transfer_id;
  int64_t fee = 0;
  bool already_done = false;
};
struct PresentParticipant {
  Uuid participant_id, user_id;
  std::string role;
  bool muted = false, hand_raised = false, speaking = false;
  Timestamp joined_at = 0;
};
struct RowsPage {
  std::vector<std::string> rows;  // JSON objects
  std::optional<Uuid> next;
};
// A column value for the generic writes.
struct Field {
  enum class Kind { kNull, kInt, kString, kUuid };
  std::string column;
  Kind kind = Kind::kNull;
  int64_t int_value = 0;
  std::string string_value;
  Uuid uuid_value;

  static Field Null(std::string column) { return {std::move(column)}; }
  static Field Int(std::string column, int64_t v) { return {std::move(column), Kind::kInt, v}; }
  static Field Text(std::string column, std::string v) {
    return {std::move(column), Kind::kString, 0, std::move(v)};
  }
  static Field Id(std::string column, const Uuid& v) {
    return {std::move(column), Kind::kUuid, 0, {}, v};
  }
};

struct ServerStats {
  uint64_t commits = 0, durable_lsn = 0;
  std::string durability;
  std::vector<std::pair<std::string, uint64_t>> rows_per_table;
};

class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const ClientOptions& options);
  ~Client();

  const std::string& role() const { return role_; }
  const std::string& server_version() const { return server_version_; }
  const Uuid& database_id() const { return database_id_; }

  absl::StatusOr<Registered> RegisterUser(std::string_view username, std::string_view email,
                                          std::string_view password_hash,
                                          std::string_view display_name);
  absl::StatusOr<OpenedRoom> CreateAndOpenRoom(const Uuid& owner, std::string_view title,
                                               std::string_view room_code = {},
                                               int32_t max_participants = 0,
                                               std::span<const std::string> tags = {});
  absl::StatusOr<Joined> JoinRoom(const Uuid& room, const Uuid& user);
  absl::Status LeaveRoom(const Uuid& room, const Uuid& user);
  absl::Status SetMuted(const Uuid& room, const Uuid& actor, const Uuid& target, bool muted);
  absl::Status SetHandRaised(const Uuid& room, const Uuid& actor, const Uuid& target, bool raised);
  absl::Status EndRoom(const Uuid& room, const Uuid& actor);
  absl::StatusOr<Transfer> TopUp(const Uuid& user, int64_t amount,
                                 std::string_view idempotency_key = {});
  absl::StatusOr<Transfer> Gift(const Uuid& sender, const Uuid& receiver, int64_t amount,
                                std::string_view idempotency_key = {});
  absl::StatusOr<std::string> UserByEmail(std::string_view email);  // the user's JSON
  absl::StatusOr<std::vector<PresentParticipant>> PresentParticipants(const Uuid& room);
  absl::StatusOr<RowsPage> RoomAuditTrail(const Uuid& room, uint32_t limit = 100,
                                          std::optional<Uuid> after = std::nullopt);
  absl::StatusOr<bool> IsBanned(const Uuid& room, const Uuid& user);
  absl::StatusOr<std::string> GetRow(std::string_view table, const Uuid& id);
  // Generic access by table name (docs/protocol.md): the table's deletion
  // policy and invariants apply as for every other path.
  absl::StatusOr<Uuid> InsertRow(std::string_view table, const std::vector<Field>& values);
  absl::Status UpdateRow(std::string_view table, const Uuid& id, const std::vector<Field>& values);
  absl::Status DeleteRow(std::string_view table, const Uuid& id);
  absl::StatusOr<ServerStats> Stats();
  absl::StatusOr<std::string> Checkpoint();  // the snapshot's path

  class Call;

 private:
  Client() = default;
  absl::Status Open();
  // Sends one size-prefixed request and reads its response frame.
  absl::StatusOr<std::vector<uint8_t>> RoundTrip(std::vector<uint8_t> request, uint64_t id);

  struct Socket;
  ClientOptions options_;
  std::unique_ptr<Socket> socket_;
  uint64_t next_id_ = 1;
  std::string role_, server_version_;
  Uuid database_id_;
};

}  // namespace vox

#endif  // VOXDB_NET_CLIENT_H_
