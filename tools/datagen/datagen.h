// The standard workload's data set (WORKLOAD.md), generated deterministically
// into an empty Database at scale factor SF: users and their sign-ins,
// tagged rooms with their participants, recordings and audit trails, and a
// coin ledger (wallets and transfers) whose counters add up.
//
// Use it to load a fresh database for benchmarks, demos and tests. By
// default the rows are bulk loaded (engine/bulk_load.h): appended to the
// columns with the values checked, and every index built once per table, on
// background threads, as the generator finishes with the table. With
// `bulk = false`, or when a CommitSink is attached to `db`, every row goes
// in through Txn instead (validated, indexed, committed in batches, slow).
// Either way the rows are the same and keep every engine invariant: room
// counters match their participants, the ledger balances and no user
// wallet is below zero, soft-deleted users are present nowhere, and so on
// (tests/tools/datagen_test.cc checks them all).
//
// A bulk load writes no WAL record (nor does a load without a CommitSink):
// a server that serves the data must snapshot it before taking logged
// writes, as voxdb does after its demo load.
//
// The same options give the same rows, uuids included: the generator mints
// the ids itself (UUIDv7 over each row's own creation time) from `seed`.
//
// Cost on the 2-core dev machine (docs/benchmarks.md, "Loading the data
// set"): SF=1 bulk loads in ~30 s, 8.6 GiB resident after (9.8 GiB at the
// peak, while the largest indexes build); through Txn ~90 s; SF=0.1 ~2 s.
//
// At SF=1 (the reference size) it writes about 80 million rows: 1M users,
// ~1.3M auth_providers, 2M rooms, 20M room_participants, 200k recordings,
// 50M audit_logs, 1M wallets (+2 system wallets), 5M transactions, plus the
// 200 tags and one fee_schedule row (GIFT, 10%, min 1) the gifts were
// charged under.
//
// Thread-compatible: run it on the thread that owns the Database.
#ifndef VOXDB_TOOLS_DATAGEN_DATAGEN_H_
#define VOXDB_TOOLS_DATAGEN_DATAGEN_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/database.h"

namespace vox {

// The workload's fixed "now": 2026-11-01T00:00:00Z. Generated times fall in
// the 90 days before it.
inline constexpr Timestamp kWorkloadNow = 1793491200LL * kMicrosPerSecond;

struct GenerateOptions {
  // Scale factor: 1.0 is the reference size. At least 0.0005 (smaller data
  // sets clamp some shapes, e.g. LIVE rooms' 20-200 present participants).
  double scale = 0.01;
  uint64_t seed = 42;
  Timestamp now = kWorkloadNow;
  // Bulk load (default; see above). false: every row through Txn, the
  // slow reference path that gives the same rows.
  bool bulk = true;
  // Called with (phase, done, total) when a phase starts and ends, and
  // in between at most once per `progress_seconds`. Phases, in order:
  // "reference", "users", "rooms", "ledger", "wallets", "transactions",
  // then, for a bulk load, "indexes" (done and total count rows once per
  // index of their table, for the index work left when the last rows are
  // written). On the calling thread. May be empty.
  std::function<void(std::string_view phase, uint64_t done, uint64_t total)> progress;
  // 0: an in-phase call every 10,000 rows (tests).
  double progress_seconds = 1.0;
};

// Options for the Database to generate into: its own id generator (used by
// whatever writes after the load) seeded from `seed`, so that a benchmark
// run replays exactly.
inline DatabaseOptions WorkloadDatabaseOptions(uint64_t seed) {
  return {.id_seed = seed == 0 ? 1 : seed};
}

// Handy keys into the generated data, for benchmarks and demos. All are row
// ids; `db.table(t).id(row)` gives the uuid the wire uses.
struct GeneratedData {
  struct BannedPair {
    RowId room = kNoRow;
    RowId user = kNoRow;
  };

  // Rows written per table, indexed by TableId.
  std::array<uint64_t, kTableCount> rows{};
  uint64_t total_rows = 0;
  double load_seconds = 0;

  // Every user who may act (account ACTIVE, not deleted), ascending.
  std::vector<RowId> active_users;
  // Up to 1,000 emails of users who are not deleted (R1's keys).
  std::vector<std::string> sample_emails;
  // Every LIVE room (each has 20-200 present participants).
  std::vector<RowId> live_rooms;
  // Every (room, user) with a banned participation (R8's hits).
  std::vector<BannedPair> banned;
  // Up to 10,000 active users whose wallet holds at least 1,000 coins.
  std::vector<RowId> funded_users;
  // Up to 10,000 rooms that have recordings.
  std::vector<RowId> rooms_with_recordings;
  // Tag name ("tag-17") -> tag id (its tags row + 1, as rooms.tags packs it).
  absl::flat_hash_map<std::string, uint16_t> tag_ids;
  // The system wallets (currency COIN).
  RowId issuance_wallet = kNoRow;
  RowId revenue_wallet = kNoRow;

  uint64_t row_count(TableId t) const { return rows[static_cast<size_t>(t)]; }
};

// Fills `db` with the workload at `options.scale`. `db` must be empty
// (FailedPrecondition otherwise); InvalidArgument for a scale outside
// [0.0005, 50]. On an error the database holds a partial load: discard it.
[[nodiscard]] absl::StatusOr<GeneratedData> GenerateWorkload(Database& db,
                                                             const GenerateOptions& options);

}  // namespace vox

#endif  // VOXDB_TOOLS_DATAGEN_DATAGEN_H_
