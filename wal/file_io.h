// FileIo is the file system as the WAL and snapshots use it: a small
// interface so that tests can inject the failures real disks have (EIO,
// ENOSPC, short writes) at any call. PosixFileIo() is the real one.
// Errors are absl::Status naming the path and the errno text.
// Thread-safe: implementations hold no state but what they say.
#ifndef VOXDB_WAL_FILE_IO_H_
#define VOXDB_WAL_FILE_IO_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vox {

class FileIo {
 public:
  virtual ~FileIo() = default;

  // open(2); files VoxDB creates get mode 0600.
  virtual absl::StatusOr<int> Open(const std::string& path, int flags) = 0;
  virtual absl::Status Close(int fd) = 0;
  // One pwrite(2): may write less than `n` (the caller continues).
  virtual absl::StatusOr<size_t> PWrite(int fd, const void* data, size_t n, uint64_t offset) = 0;
  // Reads up to `n` bytes; fewer only at the end of the file.
  virtual absl::StatusOr<size_t> PRead(int fd, void* data, size_t n, uint64_t offset) = 0;
  virtual absl::Status DataSync(int fd) = 0;  // fdatasync(2)
  virtual absl::Status Sync(int fd) = 0;      // fsync(2)
  virtual absl::StatusOr<uint64_t> FileSize(int fd) = 0;
  virtual absl::Status Truncate(int fd, uint64_t size) = 0;
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  virtual absl::Status Unlink(const std::string& path) = 0;
  // Opens the directory and fsyncs it (after create, rename, unlink).
  virtual absl::Status SyncDir(const std::string& dir) = 0;
  virtual absl::Status MakeDir(const std::string& dir) = 0;  // OK if it exists
  // Names in `dir` (not "." or ".."), sorted.
  virtual absl::StatusOr<std::vector<std::string>> List(const std::string& dir) = 0;
};

// The real file system.
FileIo& PosixFileIo();

// Writes all of `n` bytes at `offset`, continuing after short writes.
absl::Status WriteFully(FileIo& io, int fd, const void* data, size_t n, uint64_t offset);

// Wraps another FileIo and fails a chosen call: the `nth` (1-based) call of
// `op` from now on returns `error` (an errno: EIO, ENOSPC, ...), and so does
// every later one of that op if `sticky` (a disk that stays broken). For
// kWrite, `short_by` > 0 instead makes that write short by as many bytes.
class FaultyFileIo : public FileIo {
 public:
  enum class Op { kOpen, kWrite, kRead, kDataSync, kSync, kRename, kUnlink, kSyncDir, kTruncate };

  explicit FaultyFileIo(FileIo& base) : base_(base) {}
  void FailNth(Op op, int nth, int error, bool sticky = false, size_t short_by = 0);
  void Clear();
  int calls(Op op) const { return calls_[static_cast<int>(op)].load(); }

  absl::StatusOr<int> Open(const std::string& path, int flags) override;
  absl::Status Close(int fd) override { return base_.Close(fd); }
  absl::StatusOr<size_t> PWrite(int fd, const void* data, size_t n, uint64_t offset) override;
  absl::StatusOr<size_t> PRead(int fd, void* data, size_t n, uint64_t offset) override;
  absl::Status DataSync(int fd) override;
  absl::Status Sync(int fd) override;
  absl::StatusOr<uint64_t> FileSize(int fd) override { return base_.FileSize(fd); }
  absl::Status Truncate(int fd, uint64_t size) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Unlink(const std::string& path) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::Status MakeDir(const std::string& dir) override { return base_.MakeDir(dir); }
  absl::StatusOr<std::vector<std::string>> List(const std::string& dir) override {
    return base_.List(dir);
  }

 private:
  static constexpr int kOps = 9;
  // The errno to fail this call of `op` with, or 0.
  int Check(Op op, size_t* short_by = nullptr);

  FileIo& base_;
  std::atomic<int> calls_[kOps] = {};
  std::atomic<int> fail_at_[kOps] = {};  // 0: never
  std::atomic<int> error_[kOps] = {};
  std::atomic<bool> sticky_[kOps] = {};
  std::atomic<size_t> short_by_[kOps] = {};
};

// An errno as a Status with the most fitting code (ENOSPC: ResourceExhausted,
// EIO: DataLoss, ENOENT: NotFound, ...), e.g. "fdatasync wal/000001.log: ...".
absl::Status ErrnoStatus(int error, const std::string& what);

}  // namespace vox

#endif  // VOXDB_WAL_FILE_IO_H_
