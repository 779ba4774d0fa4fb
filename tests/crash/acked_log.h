// What a writer of the crash tests did, and the checks run against what a
// database holds afterwards.
//
// acked_writer (tests/crash/acked_writer.cc) drives a real voxdb with a
// write-heavy mix and logs every write it attempted, one line each, once its
// answer came back:
//
//   A <op> <fields...> <ids the answer carried...>   acknowledged: must be there
//   U <op> <fields...>                               unknown (the connection died,
//                                                    the log stopped): all or nothing
//   R <op> <fields...> <code>                        refused: must not be there
//   E <code> <message...>                            the first refusal of the
//                                                    stopped log (disk full), verbatim
//
// ops (users, rooms and keys are the writer's own names, unique per round):
//   user  <name> [user_id wallet_id]
//   topup <key> <user> <amount> [transfer_id]
//   gift  <key> <sender> <receiver> <amount> [gift_id fee fee_id|-]
//   batch <topup_key> <gift_key>        a TopUp and a Gift in one Batch (also
//                                       logged as their own topup and gift lines)
//   room  <code> <owner> [room_id host_participant_id]
//   join  <code> <user> [participant_id]
//   leave <code> <user> <participant_id>
//   kick  <code> <host> <target> <participant_id>
//   end   <code> <host>
//   event <code> [event_id]             a system event padded to --payload bytes
//
// CheckAgainst() replays the log into a model (what must be, what may be)
// and compares it with a recovered Database; CheckInvariants() checks what
// must hold in any database whatever wrote it (ledger, indexes, no half
// flows). Both return failures as sentences; empty means it held.
// Thread-compatible.
#ifndef VOXDB_TESTS_CRASH_ACKED_LOG_H_
#define VOXDB_TESTS_CRASH_ACKED_LOG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/database.h"

namespace vox::crash {

enum class Outcome : char { kAcked = 'A', kUnknown = 'U', kRefused = 'R' };

struct LogEntry {
  Outcome outcome;
  std::string op;
  std::vector<std::string> fields;  // after the op, as written
};

// Every line of every writer run so far (data accumulates across rounds).
class AckedLog {
 public:
  // Appends the lines of `path` (a writer's --out). Returns how many entries
  // it added; InvalidArgument for a line that does not parse. `E` lines
  // are kept apart (stop_errors).
  absl::StatusOr<size_t> AddFile(const std::string& path);

  const std::vector<LogEntry>& entries() const { return entries_; }
  const std::vector<std::string>& stop_errors() const { return stop_errors_; }
  size_t count(Outcome o) const;

 private:
  std::vector<LogEntry> entries_;
  std::vector<std::string> stop_errors_;
};

struct CheckResult {
  uint64_t acked_checked = 0;               // acknowledged writes found as they must be
  uint64_t unknown = 0;                     // unknown writes: all present or all absent
  uint64_t unknown_present = 0;             // of which were there
  uint64_t refused = 0;                     // refused writes: absent
  uint64_t users = 0;                       // balances compared with the model
  uint64_t lost = 0;                        // acknowledged writes not there (must be 0)
  std::map<std::string, int64_t> balances;  // per user: what its transfers add up to
  std::vector<std::string> failures;
};

// Compares `db` with what `log` says must and may be there.
CheckResult CheckAgainst(const Database& db, const AckedLog& log);

// Invariants of any database: the ledger audit, every index against a
// scan, and no half-applied flow (registration, join, gift, top-up, room
// creation, kick) judged by its rows, counters and audit rows.
std::vector<std::string> CheckInvariants(const Database& db);

// Live rows per table, by table name (to compare with the server's Stats).
std::vector<std::pair<std::string, uint64_t>> LiveRows(const Database& db);

}  // namespace vox::crash

#endif  // VOXDB_TESTS_CRASH_ACKED_LOG_H_
