// LogDevice is the WAL thread's one I/O step: write a batch at an offset of
// a segment file and make it durable. UringLogDevice does it with io_uring,
// the write linked to its fdatasync in one submission; FileIoLogDevice does
// it through FileIo, so tests can inject disk failures.
// Thread-compatible: one WAL thread uses a device.
#ifndef VOXDB_WAL_LOG_DEVICE_H_
#define VOXDB_WAL_LOG_DEVICE_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "wal/file_io.h"

struct io_uring;

namespace vox {

class LogDevice {
 public:
  virtual ~LogDevice() = default;
  // Writes all `n` bytes at `offset` of `fd`, then, if `sync`, fdatasyncs
  // (`n` may be 0: a sync alone). Returns once all of it is done; any error
  // means none of it may be acknowledged.
  virtual absl::Status WriteAndSync(int fd, const char* data, size_t n, uint64_t offset,
                                    bool sync) = 0;
};

class UringLogDevice final : public LogDevice {
 public:
  static absl::StatusOr<std::unique_ptr<UringLogDevice>> Create();
  ~UringLogDevice() override;

  // A short write is resubmitted for its remainder and followed by a new
  // sync; -EAGAIN and -EINTR are retried; a full submission or completion
  // queue (-EBUSY) is drained and the submission retried.
  absl::Status WriteAndSync(int fd, const char* data, size_t n, uint64_t offset,
                            bool sync) override;

  // Tests: sees each completion's result (op 0: write, 1: fdatasync) and
  // may replace it, to simulate short writes and device errors.
  void set_completion_hook(std::function<int(int op, int result)> hook) { hook_ = std::move(hook); }

 private:
  UringLogDevice() = default;
  std::unique_ptr<io_uring> ring_;
  std::function<int(int, int)> hook_;
};

class FileIoLogDevice final : public LogDevice {
 public:
  // `io` must outlive the device.
  explicit FileIoLogDevice(FileIo& io) : io_(io) {}
  absl::Status WriteAndSync(int fd, const char* data, size_t n, uint64_t offset,
                            bool sync) override;

 private:
  FileIo& io_;
};

}  // namespace vox

#endif  // VOXDB_WAL_LOG_DEVICE_H_
