// What voxbench asks of a system under test: one Session per client, which
// runs the workload's operations (WORKLOAD.md R1-R9, W1-W7) one at a time.
// The harness (voxbench.cc) picks the parameters from keys that exist,
// measures, and checks every answer; a driver only speaks its system's
// protocol: vox_driver.cc (VoxDB over the binary protocol) and pg_driver.cc
// (PostgreSQL through libpq).
//
// Refusals are reported as the status codes VoxDB's engine uses, so the
// harness checks both systems against the same rules:
//   PermissionDenied    the user is banned from the room (W3)
//   AlreadyExists       the user is already present in the room (W3)
//   ResourceExhausted   the room is full (W3)
//   FailedPrecondition  the room is not LIVE (W3, W7), the user is not
//                       present (W4, W5), the sender's balance is too low
//                       (W6), the state already is what was asked (W5)
// Any other non-OK status is a failure of the system under test.
#ifndef VOXDB_BENCH_VOXBENCH_DRIVER_H_
#define VOXDB_BENCH_VOXBENCH_DRIVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "schema/types.h"

namespace vox::bench {

enum class OpId : uint8_t {
  R1, R2, R3, R4, R5, R6, R7, R8, R9,  // reads
  W1, W2, W3, W4, W5, W6, W7,          // writes
};
inline constexpr int kOpCount = 16;
inline bool IsWrite(OpId op) { return op >= OpId::W1; }

// W5's four actions on a present participant (self-actions).
enum class LiveAction : uint8_t { kMute, kUnmute, kRaiseHand, kLowerHand };

// One operation's parameters. Which fields an operation reads:
//   R1 text = email                  R2 room (LIVE)            R3 user
//   R4 room (100 newest audit rows)  R5 -                      R6 room
//   R7 text = tag (public LIVE rooms, newest started first, 50)
//   R8 room, user                    R9 user (50 newest transfers of the COIN wallet)
//   W1 text = username; email = username + "@bench.example"; password hash "x"
//   W2 user = owner, text = title, tags (1-3 vocabulary names), a public room
//      with max_participants 100
//   W3 room, user (join)             W4 room, user (leave)
//   W5 room, user, action (on themselves)
//   W6 user = sender, other = receiver, amount (coins, fee included),
//      text = idempotency key        W7 room, user = actor (its host)
struct OpRequest {
  OpId op = OpId::R1;
  std::string text;
  Uuid room{};
  Uuid user{};
  Uuid other{};
  int64_t amount = 0;
  LiveAction action = LiveAction::kMute;
  std::vector<std::string> tags;
};

struct OpResponse {
  absl::Status status;  // OK, a refusal (see above) or a failure
  // Rows the read returned: R1 1 (0: no such user), R2/R3/R4/R5/R7/R9 the
  // rows, R6 the room's participations (every join), R8 1 if banned else 0.
  int64_t rows = 0;
  // R6: the room's present participants (checked against R6's rows).
  int64_t present = 0;
  // W1: the new user's id; W2: the new room's id.
  Uuid created{};
};

// The system's own count of durable commits and of the log syncs that made
// them durable, for "transactions per fdatasync" (group commit at work).
struct SyncCounters {
  uint64_t commits = 0;
  uint64_t syncs = 0;
};

// One client's connection. Used by one thread at a time.
class Session {
 public:
  virtual ~Session() = default;
  // The counters now; Unimplemented where the system does not tell.
  virtual absl::StatusOr<SyncCounters> Counters() {
    return absl::UnimplementedError("no commit and sync counters");
  }
  // Runs `request` to completion (a write: durable, or refused) and fills
  // `response`. Returns a non-OK status only when the connection itself
  // failed (the harness then stops the run).
  virtual absl::Status Execute(const OpRequest& request, OpResponse& response) = 0;
};

class Driver {
 public:
  virtual ~Driver() = default;
  // "voxdb", "postgres": the `system` of every JSON line.
  virtual std::string_view name() const = 0;
  virtual absl::StatusOr<std::unique_ptr<Session>> Connect() = 0;
};

// VoxDB at `address` ("host:port"), with `token` (empty: none).
std::unique_ptr<Driver> MakeVoxDriver(std::string address, std::string token);
// PostgreSQL through libpq with `conninfo` ("host=127.0.0.1 port=5433
// dbname=voxbench"); nullptr when voxbench was built without libpq.
std::unique_ptr<Driver> MakePostgresDriver(std::string conninfo);

}  // namespace vox::bench

#endif  // VOXDB_BENCH_VOXBENCH_DRIVER_H_
