// Change streams (docs/streams.md): every committed transaction's events
// (engine/change_events.h), kept in a bounded history by LSN and pushed to
// the connections subscribed to a room, a user or a table once the WAL has
// made them durable, in LSN order.
//
// ChangeStreams sits between the engine and the WAL's CommitSink: it passes
// each commit on, then records its events under the LSN the WAL gave it.
// Subscriptions are cursors into that history: a subscriber that resumes
// "from LSN X" is served (X, now] from it, so it sees no gap and no
// duplicate; X older than the history is OUT_OF_RANGE. Recovery fills the
// history from the WAL records it replays (RecoveryOptions::on_events), so
// a subscriber resumes across a restart too.
//
// Slow subscribers never slow the engine: the engine thread only appends to
// the history; frames are built and handed to connections by the delivery
// thread (the server's releaser), each subscription at most `buffer_bytes`
// ahead of what its socket took. One whose socket stays full that long
// while more waits, or whose cursor the history dropped, is ended with
// "fell behind at LSN X".
//
// Thread-safe: OnCommit on the engine thread, Deliver on one delivery
// thread, the rest from any.
#ifndef VOXDB_NET_STREAMS_H_
#define VOXDB_NET_STREAMS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/change_events.h"
#include "engine/database.h"
#include "wal/checkpoint.h"
#include "wal/file_io.h"
#include "wal/wal_sink.h"

namespace vox {

// A connection's end of its subscriptions (the server's connections).
class StreamOutlet {
 public:
  virtual ~StreamOutlet() = default;
  // Queues a frame for the client. Any thread.
  virtual void Push(std::vector<uint8_t> frame) = 0;
  // Bytes queued for the client that its socket has not yet taken.
  virtual size_t unsent_bytes() const = 0;
  virtual bool closed() const = 0;
  // Subscriptions open on the connection: while any are, it is not idle.
  std::atomic<int> open_streams{0};
};

struct StreamOptions {
  // History kept for resuming, in bytes of events; 0: change streams off.
  // While a subscriber is behind it (reading a backlog, or caught up from
  // the WAL) the history keeps what it has yet to read, up to twice this.
  size_t retention_bytes = size_t{64} << 20;
  // Per subscription: bytes handed to its connection and not yet sent.
  size_t buffer_bytes = size_t{4} << 20;
  // A subscription whose connection stays at `buffer_bytes` this long while
  // more events wait for it is ended ("fell behind").
  std::chrono::milliseconds stall_limit{1000};
  // Events per pushed frame, at most about this many bytes.
  size_t max_batch_bytes = size_t{256} << 10;
  int max_subscriptions = 100000;
  // Resuming from before the history (WAL catch-up, WalSource): WAL held
  // for subscribers, at most this many bytes behind the log's end; a
  // subscriber that disconnected keeps its hold this long.
  uint64_t wal_hold_bytes = uint64_t{1} << 30;
  std::chrono::seconds resume_grace{300};
};

// Where the WAL catch-up reads (wal/history.h). All must outlive the streams.
struct WalSource {
  FileIo* io = nullptr;
  std::string data_dir;
  Uuid database_id;
  Checkpointer* checkpointer = nullptr;  // holds; may be null
  // The last LSN the WAL acknowledged (what may be delivered); empty: all.
  std::function<uint64_t()> acknowledged_lsn;
};

// What a subscription follows.
struct StreamFilter {
  enum class Kind : uint8_t { kRoom, kUser, kTable, kAllTables };
  Kind kind = Kind::kAllTables;
  Uuid id;             // kRoom, kUser
  TableId table = {};  // kTable
  bool Matches(const ChangeEvent& e) const;
  bool operator==(const StreamFilter&) const = default;
};

class ChangeStreams final : public CommitSink {
 public:
  explicit ChangeStreams(StreamOptions options);
  ~ChangeStreams() override;

  bool enabled() const { return options_.retention_bytes > 0; }
  const StreamOptions& options() const { return options_; }

  // Recovery (before Attach): a replayed record's events. The history then
  // starts after the first one's predecessor.
  void Replayed(uint64_t lsn, Timestamp commit_time, std::vector<ChangeEvent> events);
  // Starts following `db`'s commits: installs itself as its CommitSink and
  // passes every commit on to `wal_sink` (null without a WAL: then commits
  // are numbered from `last_lsn` on). `last_lsn`: the last LSN recovered;
  // with nothing replayed the history starts there.
  void Attach(Database& db, WalCommitSink* wal_sink, uint64_t last_lsn);
  // Restores `db`'s sink to the WAL's.
  void Detach();
  // Lets a subscriber resume from before the in-memory history: its events
  // are replayed from the files (wal/history.h) on a background thread,
  // one such catch-up at a time. Without it such a resume is OUT_OF_RANGE.
  // Call before subscriptions start.
  void set_wal_source(WalSource source) { wal_source_ = std::move(source); }

  void OnCommit(const Txn& txn) override;

  // Engine thread. Subscribes `out` to `filter` from after `from_lsn` (none:
  // from the last commit). Returns the subscription's id and, in
  // `*start_lsn`, the LSN its events follow. A `from_lsn` older than the
  // history is caught up from the WAL (set_wal_source); OUT_OF_RANGE when
  // the files no longer reach back that far, RESOURCE_EXHAUSTED while
  // another catch-up runs; INVALID_ARGUMENT when past the last commit.
  // `accepted` (may be empty) is called with the id and start just before
  // the subscription can be delivered to: its answer must be on its way
  // before the first batch.
  absl::StatusOr<uint64_t> Subscribe(
      std::shared_ptr<StreamOutlet> out, uint64_t request_id, const StreamFilter& filter,
      std::optional<uint64_t> from_lsn, uint64_t* start_lsn,
      const std::function<void(uint64_t id, uint64_t start_lsn)>& accepted = nullptr);
  // Ends `out`'s subscription `id` (its last batch says "unsubscribed").
  // `accepted` (may be empty) is called before that batch can be pushed:
  // the answer goes first.
  absl::Status Unsubscribe(const StreamOutlet* out, uint64_t id,
                           const std::function<void()>& accepted = nullptr);

  // The delivery thread: pushes what each subscription may have of the
  // commits up to `durable`, ends the ones that fell behind, drops the
  // ones whose connection closed. False when it could do nothing (every
  // subscription with events waiting has a full connection).
  bool Deliver(uint64_t durable);
  // Whether a subscription has events waiting (up to the last commit).
  bool HasWork() const;
  // The delivery thread's wake-up when a commit may be delivered (set once,
  // before Attach).
  void set_on_commit(std::function<void()> wake) { wake_ = std::move(wake); }
  // Ends every subscription with `why` (the server stopping), stops a
  // catch-up and drops the checkpointer hold.
  void EndAll(std::string_view why);

  struct Stats {
    uint64_t history_after_lsn = 0, last_lsn = 0;  // the history holds (after, last]
    size_t history_bytes = 0, history_commits = 0;
    size_t subscriptions = 0;
    uint64_t events_delivered = 0, frames_pushed = 0, fell_behind = 0;
    uint64_t catchups = 0;     // WAL catch-ups started
    uint64_t wal_hold_lsn = 0;  // the checkpointer hold for subscribers; 0: none
  };
  Stats stats() const;

  struct Commit;
  struct Subscription;

 private:
  void Publish(uint64_t lsn, Timestamp commit_time, std::vector<ChangeEvent> events);
  // Pushes the last batch, `ended` = why. Delivery thread or under mu_.
  void End(Subscription& sub, std::string_view why);
  // The catch-up thread's work for `sub`: (after, through] from the files.
  void CatchUp(std::shared_ptr<Subscription> sub, uint64_t snapshot_lsn, std::string snapshot,
               uint64_t through);
  // Delivery thread: moves the checkpointer hold to what subscribers need.
  void UpdateHold();
  void StopCatchUp();

  const StreamOptions options_;
  Database* db_ = nullptr;
  WalCommitSink* wal_sink_ = nullptr;
  std::function<void()> wake_;

  mutable std::mutex mu_;
  std::deque<std::shared_ptr<const Commit>> history_;  // guarded by mu_, by LSN
  uint64_t history_after_ = 0;                         // guarded by mu_
  // Kept for subscribers: the history is not trimmed past this LSN (under
  // twice the retention); the delivery thread's last minimum of cursors.
  uint64_t pin_lsn_ = UINT64_MAX;                       // guarded by mu_
  bool history_started_ = false;                       // guarded by mu_
  uint64_t last_lsn_ = 0;                              // guarded by mu_
  size_t history_bytes_ = 0;                           // guarded by mu_
  std::vector<std::shared_ptr<Subscription>> subs_;    // guarded by mu_
  uint64_t next_id_ = 1;                               // guarded by mu_
  std::atomic<uint64_t> events_delivered_{0}, frames_pushed_{0}, fell_behind_{0};
  std::atomic<bool> has_subscribers_{false};

  WalSource wal_source_;
  std::thread catchup_;                // at most one; joined by the next or at the end
  std::atomic<bool> catchup_running_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> catchups_{0};
  // Delivery thread: the hold in place, and the cursors of subscriptions
  // that ended, kept resume_grace for their resume.
  uint64_t hold_lsn_ = 0;
  std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> recent_ends_;
  std::chrono::steady_clock::time_point last_hold_update_{};
  std::atomic<uint64_t> hold_for_stats_{0};
};

}  // namespace vox

#endif  // VOXDB_NET_STREAMS_H_
