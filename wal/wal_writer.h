// WalWriter appends committed transactions to the write-ahead log on its
// own thread, with group commit: while one batch is being written and
// synced the next one gathers (capped in bytes), and every record of a
// batch is acknowledged by the batch's single fdatasync.
//
// Durability modes (chosen at start):
//   kFsync  a record is acknowledged once it is written and fdatasync'd;
//   kWrite  once it is written (in the OS page cache); the log is
//           fdatasync'd every `sync_interval_ms`, so a machine crash (not a
//           process crash) may lose the last interval's acknowledged records;
//   kNone   nothing is written; acknowledged at once.
//
// Fail-stop: the first failed write or sync (EIO, ENOSPC, ...) stops the
// log for good: that batch and every later append get the error, nothing
// unsynced is acknowledged, and status() reports it (reads go on elsewhere).
//
// Thread-safe: Append from the engine thread (one appender: records are
// chained in append order); Sync and status from any thread.
#ifndef VOXDB_WAL_WAL_WRITER_H_
#define VOXDB_WAL_WAL_WRITER_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "schema/schema.h"
#include "schema/types.h"
#include "wal/file_io.h"
#include "wal/log_device.h"
#include "wal/wal_format.h"

namespace vox {

enum class Durability { kFsync, kWrite, kNone };
absl::StatusOr<Durability> ParseDurability(std::string_view name);  // "fsync", "write", "none"
std::string_view DurabilityName(Durability d);

struct WalOptions {
  std::string dir;  // holds the segments
  Uuid database_id;
  Durability durability = Durability::kFsync;
  uint64_t segment_bytes = 64ull << 20;  // rotation size; segments are preallocated to it
  size_t max_batch_bytes = 1u << 20;     // group commit cap
  int sync_interval_ms = 10;             // kWrite: the loss window on a machine crash
  uint32_t schema_version = kSchemaVersion;  // the database's, for segment headers
};

// Upper bounds, in microseconds, of the buckets of VoxDB's latency
// histograms (the WAL's syncs here, the server's requests in net/metrics.h):
// 1-2-5 steps from 1 us to 10 s, then one bucket for anything slower.
inline constexpr std::array<uint64_t, 22> kLatencyBucketsMicros = {
    1,    2,     5,     10,    20,     50,     100,    200,     500,     1000,    2000,
    5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000, 2000000, 5000000, 10000000};
inline constexpr size_t kLatencyBucketCount = kLatencyBucketsMicros.size() + 1;
// The bucket holding `micros`: the first whose bound is >= it (the last one
// if none is).
size_t LatencyBucket(uint64_t micros);

// Where the log continues (from recovery, or a new log).
struct WalTail {
  uint64_t next_lsn = 1;
  uint64_t prev_hash = 0;  // header hash of record next_lsn - 1
  std::string segment;     // the segment to continue; empty: start a new one
  uint64_t offset = 0;     // where in it the next record goes
};

class WalWriter {
 public:
  // Called on the WAL thread once the record is durable (as the mode
  // defines it), or with the error that stopped the log.
  using Done = std::function<void(const absl::Status&)>;

  // Starts the WAL thread. `io` (segments: create, preallocate, rotate) and
  // `device` (batch writes and syncs) must outlive the writer.
  static absl::StatusOr<std::unique_ptr<WalWriter>> Open(FileIo& io, LogDevice& device,
                                                         const WalOptions& options,
                                                         const WalTail& tail);
  // Writes and syncs what was appended, then stops the thread.
  ~WalWriter();

  // Appends one record; returns its LSN, or the fail-stop error at once.
  absl::StatusOr<uint64_t> Append(std::string_view payload, Done done = nullptr,
                                  wal::RecordType type = wal::RecordType::kTransaction);
  // The schema version new segments record in their header.
  void set_schema_version(uint32_t version) { schema_version_.store(version); }
  // Blocks until every record appended before the call is durable (also in
  // kWrite mode: it forces a sync). Returns the log's status.
  absl::Status Sync();
  absl::Status status() const;
  uint64_t durable_lsn() const;
  // The last LSN acknowledged as the mode defines it: synced (kFsync) or
  // written (kWrite). Waits up to `timeout` for it to reach `lsn`; a zero
  // timeout never sleeps.
  uint64_t WaitAcknowledged(uint64_t lsn, std::chrono::microseconds timeout) const;

  // Counted on the WAL thread once per batch. `syncs` counts every
  // fdatasync (segment rotations included); `sync_micros` is their latency,
  // measured around the submission that carries the sync (the batch's write
  // linked to its fdatasync), per bucket of kLatencyBucketsMicros (not
  // cumulative).
  struct Stats {
    uint64_t records = 0, batches = 0, syncs = 0, bytes = 0, segments = 0;
    std::array<uint64_t, kLatencyBucketCount> sync_micros{};
    uint64_t sync_micros_sum = 0;
  };
  Stats stats() const;

 private:
  std::atomic<uint32_t> schema_version_{kSchemaVersion};
  struct Pending {
    uint64_t lsn;
    std::string bytes;  // header, payload, padding
    Done done;
  };
  WalWriter(FileIo& io, LogDevice& device, const WalOptions& options);
  absl::Status OpenSegment(const WalTail& tail);
  absl::Status StartSegment(uint64_t first_lsn);
  void Run();
  // Writes one batch (all in the current segment); false once failed.
  bool WriteBatch(std::deque<Pending>& batch, bool sync);
  void FailAll(const absl::Status& error, std::deque<Pending>& batch);
  // Counts one fdatasync that took `micros`. REQUIRES: mu_ held.
  void CountSync(uint64_t micros);

  FileIo& io_;
  LogDevice& device_;
  const WalOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;              // the WAL thread: work, sync request or stop
  mutable std::condition_variable progress_;  // Sync() and WaitAcknowledged() waiters
  std::deque<Pending> queue_;
  size_t queued_bytes_ = 0;
  uint64_t next_lsn_ = 1;
  uint64_t prev_hash_ = 0;
  uint64_t written_lsn_ = 0;  // written (not necessarily synced)
  uint64_t durable_lsn_ = 0;
  uint64_t sync_requested_ = 0;  // a Sync() wants records up to here synced
  absl::Status status_;
  bool stop_ = false;
  Stats stats_;

  // WAL thread only.
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::thread thread_;
};

}  // namespace vox

#endif  // VOXDB_WAL_WAL_WRITER_H_
