#include "wal/log_device.h"

#include <liburing.h>

#include <cerrno>

#include "schema/str.h"
#include "schema/types.h"

namespace vox {
namespace {

constexpr uint64_t kWriteTag = 1;
constexpr uint64_t kSyncTag = 2;

}  // namespace

absl::StatusOr<std::unique_ptr<UringLogDevice>> UringLogDevice::Create() {
  std::unique_ptr<UringLogDevice> d(new UringLogDevice);
  d->ring_ = std::make_unique<io_uring>();
  const int rc = io_uring_queue_init(8, d->ring_.get(), 0);
  if (rc < 0) {
    d->ring_.reset();
    return ErrnoStatus(-rc, "io_uring_queue_init");
  }
  return d;
}

UringLogDevice::~UringLogDevice() {
  if (ring_) io_uring_queue_exit(ring_.get());
}

absl::Status UringLogDevice::WriteAndSync(int fd, const char* data, size_t n, uint64_t offset,
                                          bool sync) {
  io_uring* ring = ring_.get();
  size_t done = 0;
  bool need_sync = sync;
  while (done < n || need_sync) {
    // One submission: the rest of the write, linked to the sync.
    const bool write = done < n;
    if (write) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      io_uring_prep_write(sqe, fd, data + done, static_cast<unsigned>(n - done), offset + done);
      sqe->user_data = kWriteTag;
      if (need_sync) sqe->flags |= IOSQE_IO_LINK;
    }
    if (need_sync) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
      sqe->user_data = kSyncTag;
    }
    const int expected = (write ? 1 : 0) + (need_sync ? 1 : 0);
    int rc;
    do {
      rc = io_uring_submit_and_wait(ring, static_cast<unsigned>(expected));
    } while (rc == -EINTR || rc == -EAGAIN || rc == -EBUSY);
    if (rc < 0) return ErrnoStatus(-rc, "io_uring_submit");
    int write_result = 0, sync_result = 0;
    for (int seen = 0; seen < expected; ++seen) {
      io_uring_cqe* cqe;
      do {
        rc = io_uring_wait_cqe(ring, &cqe);
      } while (rc == -EINTR || rc == -EAGAIN);
      if (rc < 0) return ErrnoStatus(-rc, "io_uring_wait_cqe");
      const bool is_write = cqe->user_data == kWriteTag;
      int result = cqe->res;
      if (hook_) result = hook_(is_write ? 0 : 1, result);
      (is_write ? write_result : sync_result) = result;
      io_uring_cqe_seen(ring, cqe);
    }
    if (write) {
      if (write_result == -EAGAIN || write_result == -EINTR) continue;  // retry the rest
      if (write_result < 0) return ErrnoStatus(-write_result, "WAL write");
      if (write_result == 0) return ErrnoStatus(EIO, "WAL write made no progress");
      done += static_cast<size_t>(write_result);
      // A short write cancels the linked sync: go round, the rest then a sync.
      if (done < n) continue;
    }
    if (need_sync) {
      if (sync_result == -EAGAIN || sync_result == -EINTR || sync_result == -ECANCELED) continue;
      if (sync_result < 0) return ErrnoStatus(-sync_result, "WAL fdatasync");
      need_sync = false;
    }
  }
  return absl::OkStatus();
}

absl::Status FileIoLogDevice::WriteAndSync(int fd, const char* data, size_t n, uint64_t offset,
                                           bool sync) {
  if (n > 0) VOX_RETURN_IF_ERROR(WriteFully(io_, fd, data, n, offset));
  if (sync) VOX_RETURN_IF_ERROR(io_.DataSync(fd));
  return absl::OkStatus();
}

}  // namespace vox
