#include "wal/checkpoint.h"

#include <fcntl.h>

#include <chrono>

#include "schema/str.h"
#include "wal/recovery.h"
#include "wal/wal_format.h"

namespace vox {

bool CheckpointDue(const CheckpointPolicy& policy, double seconds_since, uint64_t wal_bytes_since,
                   uint64_t seed) {
  // A stable factor in [1 - jitter, 1 + jitter] from the seed.
  const double unit = static_cast<double>((seed * 0x9e3779b97f4a7c15ULL) >> 11) / (1ull << 53);
  const double factor = 1 + policy.jitter * (2 * unit - 1);
  if (policy.interval_seconds > 0 && seconds_since >= policy.interval_seconds * factor) return true;
  return policy.wal_bytes > 0 &&
         static_cast<double>(wal_bytes_since) >= static_cast<double>(policy.wal_bytes) * factor;
}

std::vector<SnapshotEntry> ListSnapshots(FileIo& io, const std::string& data_dir) {
  std::vector<SnapshotEntry> out;
  auto names = io.List(SnapshotDir(data_dir));
  if (!names.ok()) return out;
  for (auto it = names->rbegin(); it != names->rend(); ++it) {
    if (it->rfind("snapshot-", 0) != 0 || it->size() < 6 ||
        it->substr(it->size() - 6) != ".vsnap") {
      continue;
    }
    const std::string path = StrCat(SnapshotDir(data_dir), "/", *it);
    out.push_back({path, ReadSnapshotHeader(io, path)});
  }
  return out;
}

Checkpointer::Checkpointer(FileIo& io, std::string data_dir, Uuid database_id, int keep)
    : io_(io), data_dir_(std::move(data_dir)), database_id_(database_id), keep_(keep) {}

Checkpointer::~Checkpointer() {
  if (thread_.joinable()) thread_.join();
}

bool Checkpointer::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

Checkpointer::Stats Checkpointer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

absl::StatusOr<double> Checkpointer::Start(const Database& db, uint64_t lsn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) return absl::FailedPreconditionError("a checkpoint is already running");
    running_ = true;
    result_.reset();
  }
  if (thread_.joinable()) thread_.join();
  const auto t0 = std::chrono::steady_clock::now();
  auto image = std::make_shared<std::vector<Table::Image>>(db.Pin());
  auto meta = std::make_shared<SnapshotMeta>(MetaOf(db, database_id_, lsn));
  const double pause = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  thread_ = std::thread([this, image, meta, lsn] {
    const absl::Status made = io_.MakeDir(SnapshotDir(data_dir_));
    // A snapshot a crash left half written is never loaded; left there,
    // each such crash would keep a snapshot's worth of disk.
    if (auto names = io_.List(SnapshotDir(data_dir_)); made.ok() && names.ok()) {
      for (const std::string& n : *names) {
        if (n.rfind("snapshot-", 0) == 0 && n.ends_with(".vsnap.tmp")) {
          (void)io_.Unlink(StrCat(SnapshotDir(data_dir_), "/", n));
        }
      }
    }
    absl::StatusOr<SnapshotInfo> info =
        made.ok() ? WriteSnapshot(io_, *image, *meta, SnapshotDir(data_dir_))
                  : absl::StatusOr<SnapshotInfo>(made);
    if (!info.ok() && absl::IsAlreadyExists(info.status())) {
      // Nothing was committed since the last snapshot: it is current.
      info = ReadSnapshotHeader(io_, StrCat(SnapshotDir(data_dir_), "/", SnapshotFileName(lsn)));
    }
    image->clear();  // unpin: the engine stops copying chunks
    if (info.ok()) {
      absl::Status pruned = Prune();
      if (!pruned.ok()) info = pruned;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (info.ok()) {
      ++stats_.completed;
      stats_.last = *info;
      stats_.last_finished_at = std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    } else {
      ++stats_.failed;
    }
    result_ = std::move(info);
    running_ = false;
    done_.notify_all();
  });
  return pause;
}

absl::StatusOr<SnapshotInfo> Checkpointer::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!running_ && !result_) return absl::FailedPreconditionError("no checkpoint was started");
  done_.wait(lock, [&] { return !running_; });
  return *result_;
}

void Checkpointer::Hold(uint64_t lsn) {
  std::lock_guard<std::mutex> lock(mu_);
  holds_.insert(lsn);
}

void Checkpointer::Release(uint64_t lsn) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = holds_.find(lsn);
  if (it != holds_.end()) holds_.erase(it);
}

absl::Status Checkpointer::Prune() {
  // Snapshots: keep the newest `keep_` valid ones.
  // Also the newest one at or before the oldest hold: replaying from a held
  // LSN starts there (wal/history.h).
  std::vector<SnapshotEntry> snapshots = ListSnapshots(io_, data_dir_);
  std::optional<uint64_t> oldest_hold;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!holds_.empty()) oldest_hold = *holds_.begin();
  }
  std::vector<const SnapshotEntry*> kept;
  bool hold_covered = !oldest_hold.has_value();
  for (const SnapshotEntry& s : snapshots) {
    if (!s.info.ok() || s.info->database_id != database_id_) continue;
    const bool for_hold = !hold_covered && s.info->lsn <= *oldest_hold;
    if (static_cast<int>(kept.size()) < keep_ || for_hold) {
      kept.push_back(&s);
      if (for_hold) hold_covered = true;
    } else {
      VOX_RETURN_IF_ERROR(io_.Unlink(s.path));
    }
  }
  if (kept.empty()) return absl::OkStatus();
  VOX_RETURN_IF_ERROR(io_.SyncDir(SnapshotDir(data_dir_)));
  // WAL: a segment goes when the next one starts at or before the oldest
  // kept snapshot's LSN (all its records are older) and no hold needs it.
  uint64_t keep_after = kept.back()->info->lsn;
  if (oldest_hold) keep_after = std::min(keep_after, *oldest_hold);
  auto names = io_.List(WalDir(data_dir_));
  std::vector<std::string> segments;
  if (names.ok()) {
    for (const std::string& n : *names) {
      if (wal::ParseSegmentName(n) != 0) segments.push_back(n);
    }
  }
  std::vector<std::string> live;
  bool removed = false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const bool covered =
        i + 1 < segments.size() && wal::ParseSegmentName(segments[i + 1]) <= keep_after;
    if (covered) {
      VOX_RETURN_IF_ERROR(io_.Unlink(StrCat(WalDir(data_dir_), "/", segments[i])));
      removed = true;
    } else {
      live.push_back(segments[i]);
    }
  }
  if (removed) VOX_RETURN_IF_ERROR(io_.SyncDir(WalDir(data_dir_)));
  // The MANIFEST: the current snapshot and the segments replay needs.
  std::string manifest = StrCat("{\"database_id\":\"", FormatUuid(database_id_),
                                "\",\"snapshot\":", JsonQuote(kept.front()->path),
                                ",\"snapshot_lsn\":", kept.front()->info->lsn, ",\"wal\":[");
  for (size_t i = 0; i < live.size(); ++i) manifest += StrCat(i ? "," : "", JsonQuote(live[i]));
  manifest += "]}\n";
  const std::string path = StrCat(data_dir_, "/MANIFEST"), tmp = path + ".tmp";
  auto fd = io_.Open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (!fd.ok()) return fd.status();
  absl::Status s = WriteFully(io_, *fd, manifest.data(), manifest.size(), 0);
  if (s.ok()) s = io_.Sync(*fd);
  (void)io_.Close(*fd);
  if (s.ok()) s = io_.Rename(tmp, path);
  if (s.ok()) s = io_.SyncDir(data_dir_);
  return s;
}

}  // namespace vox
