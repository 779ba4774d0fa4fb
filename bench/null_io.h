// Storage that accepts everything and keeps nothing, for benchmarks of the
// commit path without I/O (txn_bench, stream_bench).
#ifndef VOXDB_BENCH_NULL_IO_H_
#define VOXDB_BENCH_NULL_IO_H_

#include <fcntl.h>

#include <cerrno>
#include <string>
#include <vector>

#include "schema/str.h"
#include "wal/file_io.h"
#include "wal/log_device.h"

namespace vox {

// A file system that accepts everything and keeps nothing: the WAL writer's
// segment files (create, preallocate, rename) cost no I/O.
class NullFileIo final : public FileIo {
 public:
  absl::StatusOr<int> Open(const std::string& path, int flags) override {
    if ((flags & O_CREAT) == 0) return ErrnoStatus(ENOENT, StrCat("open ", path));
    return next_fd_++;
  }
  absl::Status Close(int) override { return absl::OkStatus(); }
  absl::StatusOr<size_t> PWrite(int, const void*, size_t n, uint64_t) override { return n; }
  absl::StatusOr<size_t> PRead(int, void*, size_t, uint64_t) override { return size_t{0}; }
  absl::Status DataSync(int) override { return absl::OkStatus(); }
  absl::Status Sync(int) override { return absl::OkStatus(); }
  absl::StatusOr<uint64_t> FileSize(int) override { return uint64_t{0}; }
  absl::Status Truncate(int, uint64_t) override { return absl::OkStatus(); }
  absl::Status Rename(const std::string&, const std::string&) override { return absl::OkStatus(); }
  absl::Status Unlink(const std::string& path) override {
    return ErrnoStatus(ENOENT, StrCat("unlink ", path));
  }
  absl::Status SyncDir(const std::string&) override { return absl::OkStatus(); }
  absl::Status MakeDir(const std::string&) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<std::string>> List(const std::string&) override {
    return std::vector<std::string>{};
  }

 private:
  int next_fd_ = 100;
};

class NullLogDevice final : public LogDevice {
 public:
  absl::Status WriteAndSync(int, const char*, size_t, uint64_t, bool) override {
    return absl::OkStatus();
  }
};

}  // namespace vox

#endif  // VOXDB_BENCH_NULL_IO_H_
