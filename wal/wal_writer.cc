#include "wal/wal_writer.h"

#include <pthread.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "schema/schema.h"
#include "schema/str.h"
#include "wal/wal_format.h"

namespace vox {

using wal::RecordHeader;
using wal::SegmentHeader;

absl::StatusOr<Durability> ParseDurability(std::string_view name) {
  if (name == "fsync") return Durability::kFsync;
  if (name == "write") return Durability::kWrite;
  if (name == "none") return Durability::kNone;
  return absl::InvalidArgumentError(
      StrCat("durability '", name, "' is not one of fsync, write, none"));
}

std::string_view DurabilityName(Durability d) {
  switch (d) {
    case Durability::kFsync:
      return "fsync";
    case Durability::kWrite:
      return "write";
    case Durability::kNone:
      return "none";
  }
  return "?";
}

size_t LatencyBucket(uint64_t micros) {
  return static_cast<size_t>(
      std::lower_bound(kLatencyBucketsMicros.begin(), kLatencyBucketsMicros.end(), micros) -
      kLatencyBucketsMicros.begin());
}

namespace {

uint64_t MicrosSince(std::chrono::steady_clock::time_point t0) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count());
}

}  // namespace

WalWriter::WalWriter(FileIo& io, LogDevice& device, const WalOptions& options)
    : io_(io), device_(device), options_(options) {
  schema_version_.store(options.schema_version);
}

absl::StatusOr<std::unique_ptr<WalWriter>> WalWriter::Open(FileIo& io, LogDevice& device,
                                                           const WalOptions& options,
                                                           const WalTail& tail) {
  if (options.segment_bytes < 4096 || options.max_batch_bytes == 0) {
    return absl::InvalidArgumentError("WAL segments must be at least 4 KiB, batches non-empty");
  }
  std::unique_ptr<WalWriter> w(new WalWriter(io, device, options));
  w->next_lsn_ = tail.next_lsn;
  w->prev_hash_ = tail.prev_hash;
  w->written_lsn_ = w->durable_lsn_ = tail.next_lsn - 1;
  if (options.durability != Durability::kNone) {
    VOX_RETURN_IF_ERROR(io.MakeDir(options.dir));
    // A segment a crash left half made (StartSegment's temporary) is never
    // part of the log; left there, each such crash would keep a segment's
    // worth of disk.
    if (auto names = io.List(options.dir); names.ok()) {
      for (const std::string& n : *names) {
        if (n.ends_with(".wal.tmp")) (void)io.Unlink(StrCat(options.dir, "/", n));
      }
    }
    VOX_RETURN_IF_ERROR(w->OpenSegment(tail));
  }
  w->thread_ = std::thread([p = w.get()] {
    pthread_setname_np(pthread_self(), "vox-wal");
    p->Run();
  });
  return w;
}

WalWriter::~WalWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) (void)io_.Close(fd_);
}

absl::Status WalWriter::OpenSegment(const WalTail& tail) {
  if (tail.segment.empty()) return StartSegment(tail.next_lsn);
  const std::string path = StrCat(options_.dir, "/", tail.segment);
  // A segment of an older format is left as it is: new records (of types
  // its format lacks) go into a new one, so that an older server reading
  // the old segment never meets them.
  auto rd = io_.Open(path, O_RDONLY);
  if (!rd.ok()) return rd.status();
  SegmentHeader h{};
  absl::StatusOr<size_t> n = io_.PRead(*rd, &h, sizeof(h), 0);
  (void)io_.Close(*rd);
  if (!n.ok()) return n.status();
  if (*n == sizeof(h) && h.format < wal::kFormatVersion) return StartSegment(tail.next_lsn);
  auto fd = io_.Open(path, O_WRONLY);
  if (!fd.ok()) return fd.status();
  fd_ = *fd;
  offset_ = tail.offset;
  return absl::OkStatus();
}

absl::Status WalWriter::StartSegment(uint64_t first_lsn) {
  // Built under a temporary name and renamed once complete: a crash part
  // way through leaves no half-made segment for recovery to trip on.
  const std::string path = StrCat(options_.dir, "/", wal::SegmentName(first_lsn));
  const std::string tmp = path + ".tmp";
  (void)io_.Unlink(tmp);  // a leftover from a crash
  auto fd = io_.Open(tmp, O_WRONLY | O_CREAT | O_EXCL);
  if (!fd.ok()) return fd.status();
  // Preallocate by writing zeros once: later fdatasyncs need not also sync
  // a growing file size. Zeros also mark the log's end for the reader.
  const std::vector<char> zeros(1u << 20, 0);
  absl::Status s;
  for (uint64_t at = 0; s.ok() && at < options_.segment_bytes; at += zeros.size()) {
    s = WriteFully(io_, *fd, zeros.data(),
                   std::min<uint64_t>(zeros.size(), options_.segment_bytes - at), at);
  }
  SegmentHeader h{};
  std::memcpy(h.magic, wal::kSegmentMagic, sizeof(h.magic));
  h.format = wal::kFormatVersion;
  h.schema = schema_version_.load();
  h.database_id_hi = options_.database_id.hi;
  h.database_id_lo = options_.database_id.lo;
  h.first_lsn = first_lsn;
  h.created_at = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  wal::SealSegmentHeader(&h);
  if (s.ok()) s = WriteFully(io_, *fd, &h, sizeof(h), 0);
  if (s.ok()) s = io_.Sync(*fd);
  if (s.ok()) s = io_.Rename(tmp, path);
  if (s.ok()) s = io_.SyncDir(options_.dir);
  if (!s.ok()) {
    (void)io_.Close(*fd);
    (void)io_.Unlink(tmp);
    return absl::Status(s.code(), StrCat("cannot make the next WAL segment ", path, " (",
                                         options_.segment_bytes, " bytes): ", s.message()));
  }
  if (fd_ >= 0) (void)io_.Close(fd_);
  fd_ = *fd;
  offset_ = wal::kSegmentHeaderSize;
  ++stats_.segments;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> WalWriter::Append(std::string_view payload, Done done,
                                           wal::RecordType type) {
  if (payload.size() > wal::kMaxPayload) {
    return absl::ResourceExhaustedError(
        StrCat("a transaction of ", payload.size(), " bytes is over the WAL's record limit"));
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (!status_.ok()) return status_;
  const uint64_t lsn = next_lsn_++;
  if (options_.durability == Durability::kNone) {
    written_lsn_ = durable_lsn_ = lsn;
    lock.unlock();
    if (done) done(absl::OkStatus());
    return lsn;
  }
  RecordHeader h{};
  h.lsn = lsn;
  h.prev_hash = prev_hash_;
  h.db_tag = wal::DatabaseTag(options_.database_id);
  h.length = static_cast<uint32_t>(payload.size());
  h.type = static_cast<uint16_t>(type);
  wal::SealRecordHeader(&h, payload);
  prev_hash_ = h.header_hash;
  Pending p{lsn, std::string(), std::move(done)};
  p.bytes.reserve(wal::kRecordHeaderSize + wal::Padded(payload.size()));
  p.bytes.append(reinterpret_cast<const char*>(&h), sizeof(h));
  p.bytes.append(payload);
  p.bytes.resize(wal::kRecordHeaderSize + wal::Padded(payload.size()), '\0');
  queued_bytes_ += p.bytes.size();
  queue_.push_back(std::move(p));
  lock.unlock();
  wake_.notify_one();
  return lsn;
}

absl::Status WalWriter::Sync() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = next_lsn_ - 1;
  sync_requested_ = std::max(sync_requested_, target);
  wake_.notify_one();
  progress_.wait(lock, [&] { return durable_lsn_ >= target || !status_.ok(); });
  return status_;
}

absl::Status WalWriter::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

uint64_t WalWriter::durable_lsn() const {
  std::lock_guard<std::mutex> lock(mu_);
  return durable_lsn_;
}

uint64_t WalWriter::WaitAcknowledged(uint64_t lsn, std::chrono::microseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  auto acked = [&] {
    return options_.durability == Durability::kWrite ? written_lsn_ : durable_lsn_;
  };
  // A zero timeout only looks: even an already expired condition-variable
  // wait puts the thread to sleep in the kernel, which the engine thread
  // (asking after every write) cannot afford.
  if (timeout.count() > 0) {
    progress_.wait_for(lock, timeout, [&] { return acked() >= lsn || !status_.ok(); });
  }
  return acked();
}

WalWriter::Stats WalWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void WalWriter::CountSync(uint64_t micros) {
  ++stats_.syncs;
  ++stats_.sync_micros[LatencyBucket(micros)];
  stats_.sync_micros_sum += micros;
}

void WalWriter::FailAll(const absl::Status& error, std::deque<Pending>& batch) {
  std::deque<Pending> rest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.ok()) {
      status_ = absl::Status(
          error.code(), StrCat("the write-ahead log stopped taking writes: ", error.message()));
    }
    rest.swap(queue_);
    queued_bytes_ = 0;
  }
  progress_.notify_all();
  const absl::Status stopped = status();
  for (Pending& p : batch) {
    if (p.done) p.done(stopped);
  }
  for (Pending& p : rest) {
    if (p.done) p.done(stopped);
  }
  batch.clear();
}

bool WalWriter::WriteBatch(std::deque<Pending>& batch, bool sync) {
  std::string buffer;
  for (const Pending& p : batch) buffer += p.bytes;
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status s = device_.WriteAndSync(fd_, buffer.data(), buffer.size(), offset_, sync);
  const uint64_t micros = MicrosSince(t0);
  if (!s.ok()) {
    FailAll(s, batch);
    return false;
  }
  offset_ += buffer.size();
  // kFsync acknowledges after the sync; kWrite after the write. The acks
  // run before Sync() waiters are released, so a Sync() that returns has
  // seen every acknowledgement it covers.
  for (Pending& p : batch) {
    if (p.done) p.done(absl::OkStatus());
  }
  const uint64_t last = batch.empty() ? 0 : batch.back().lsn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!batch.empty()) written_lsn_ = last;
    if (sync) durable_lsn_ = written_lsn_;
    stats_.records += batch.size();
    stats_.batches += batch.empty() ? 0 : 1;
    if (sync) CountSync(micros);
    stats_.bytes += buffer.size();
  }
  progress_.notify_all();
  batch.clear();
  return true;
}

void WalWriter::Run() {
  const bool fsync_mode = options_.durability == Durability::kFsync;
  const auto interval = std::chrono::milliseconds(std::max(1, options_.sync_interval_ms));
  auto last_sync = std::chrono::steady_clock::now();
  std::deque<Pending> batch;
  while (true) {
    bool sync_now = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [&] {
        return stop_ || !queue_.empty() || sync_requested_ > durable_lsn_ ||
               (!fsync_mode && written_lsn_ > durable_lsn_ &&
                std::chrono::steady_clock::now() - last_sync >= interval);
      };
      if (fsync_mode) {
        wake_.wait(lock, ready);
      } else {
        wake_.wait_for(lock, interval, ready);
      }
      if (!status_.ok() || (stop_ && queue_.empty() && written_lsn_ == durable_lsn_)) break;
      if (options_.durability == Durability::kNone) {
        durable_lsn_ = next_lsn_ - 1;
        progress_.notify_all();
        if (stop_) break;
        continue;
      }
      // Take records up to the batch cap and the segment's end (at least one).
      size_t bytes = 0;
      const uint64_t room = options_.segment_bytes > offset_ ? options_.segment_bytes - offset_ : 0;
      while (!queue_.empty()) {
        const size_t next = queue_.front().bytes.size();
        if (!batch.empty() && (bytes + next > options_.max_batch_bytes || bytes + next > room)) {
          break;
        }
        if (batch.empty() && next > room && offset_ > wal::kSegmentHeaderSize) break;  // rotate
        bytes += next;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_bytes_ -= bytes;
      sync_now = fsync_mode || stop_ || sync_requested_ > durable_lsn_ ||
                 std::chrono::steady_clock::now() - last_sync >= interval;
    }
    if (batch.empty() && fd_ >= 0) {
      std::unique_lock<std::mutex> lock(mu_);
      const bool rotate = !queue_.empty();
      lock.unlock();
      if (rotate) {
        // The next record does not fit: sync this segment, then start the next.
        const auto t0 = std::chrono::steady_clock::now();
        absl::Status s = device_.WriteAndSync(fd_, nullptr, 0, offset_, true);
        if (s.ok()) {
          std::lock_guard<std::mutex> l(mu_);
          durable_lsn_ = written_lsn_;
          CountSync(MicrosSince(t0));
        }
        uint64_t first;
        {
          std::lock_guard<std::mutex> l(mu_);
          first = queue_.front().lsn;
        }
        if (s.ok()) s = StartSegment(first);
        if (!s.ok()) {
          FailAll(s, batch);
          break;
        }
        progress_.notify_all();
        continue;
      }
    }
    if (!WriteBatch(batch, sync_now)) break;
    if (sync_now) last_sync = std::chrono::steady_clock::now();
  }
}

}  // namespace vox
