#include "wal/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "schema/str.h"

namespace vox {
namespace {

class Posix final : public FileIo {
 public:
  absl::StatusOr<int> Open(const std::string& path, int flags) override {
    int fd;
    do {
      fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoStatus(errno, StrCat("open ", path));
    return fd;
  }
  absl::Status Close(int fd) override {
    if (::close(fd) != 0 && errno != EINTR) return ErrnoStatus(errno, "close");
    return absl::OkStatus();
  }
  absl::StatusOr<size_t> PWrite(int fd, const void* data, size_t n, uint64_t offset) override {
    ssize_t w;
    do {
      w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    } while (w < 0 && errno == EINTR);
    if (w < 0) return ErrnoStatus(errno, "pwrite");
    return static_cast<size_t>(w);
  }
  absl::StatusOr<size_t> PRead(int fd, void* data, size_t n, uint64_t offset) override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r =
          ::pread(fd, static_cast<char*>(data) + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return ErrnoStatus(errno, "pread");
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }
  absl::Status DataSync(int fd) override {
    if (::fdatasync(fd) != 0) return ErrnoStatus(errno, "fdatasync");
    return absl::OkStatus();
  }
  absl::Status Sync(int fd) override {
    if (::fsync(fd) != 0) return ErrnoStatus(errno, "fsync");
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> FileSize(int fd) override {
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "fstat");
    return static_cast<uint64_t>(st.st_size);
  }
  absl::Status Truncate(int fd, uint64_t size) override {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return ErrnoStatus(errno, "ftruncate");
    return absl::OkStatus();
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus(errno, StrCat("rename ", from, " to ", to));
    }
    return absl::OkStatus();
  }
  absl::Status Unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus(errno, StrCat("unlink ", path));
    return absl::OkStatus();
  }
  absl::Status SyncDir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, StrCat("open directory ", dir));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus(err, StrCat("fsync directory ", dir));
    return absl::OkStatus();
  }
  absl::Status MakeDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, StrCat("mkdir ", dir));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> List(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus(errno, StrCat("list ", dir));
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }
};

}  // namespace

FileIo& PosixFileIo() {
  static Posix* io = new Posix;
  return *io;
}

absl::Status ErrnoStatus(int error, const std::string& what) {
  const std::string message = StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    case EIO:
      return absl::DataLossError(message);
    case ENOENT:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status WriteFully(FileIo& io, int fd, const void* data, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    auto w = io.PWrite(fd, static_cast<const char*>(data) + done, n - done, offset + done);
    if (!w.ok()) return w.status();
    if (*w == 0) return ErrnoStatus(EIO, "pwrite wrote nothing");
    done += *w;
  }
  return absl::OkStatus();
}

void FaultyFileIo::FailNth(Op op, int nth, int error, bool sticky, size_t short_by) {
  const int i = static_cast<int>(op);
  fail_at_[i] = calls_[i].load() + nth;
  error_[i] = error;
  sticky_[i] = sticky;
  short_by_[i] = short_by;
}

void FaultyFileIo::Clear() {
  for (int i = 0; i < kOps; ++i) fail_at_[i] = 0;
}

int FaultyFileIo::Check(Op op, size_t* short_by) {
  const int i = static_cast<int>(op);
  const int call = ++calls_[i];
  const int at = fail_at_[i].load();
  if (at == 0 || call < at || (call > at && !sticky_[i])) return 0;
  if (short_by != nullptr) *short_by = short_by_[i];
  return error_[i];
}

absl::StatusOr<int> FaultyFileIo::Open(const std::string& path, int flags) {
  if (int e = Check(Op::kOpen)) return ErrnoStatus(e, StrCat("open ", path, " (injected)"));
  return base_.Open(path, flags);
}

absl::StatusOr<size_t> FaultyFileIo::PWrite(int fd, const void* data, size_t n, uint64_t off) {
  size_t short_by = 0;
  const int e = Check(Op::kWrite, &short_by);
  if (e != 0 && short_by > 0) return base_.PWrite(fd, data, n > short_by ? n - short_by : 1, off);
  if (e != 0) return ErrnoStatus(e, "pwrite (injected)");
  return base_.PWrite(fd, data, n, off);
}

absl::StatusOr<size_t> FaultyFileIo::PRead(int fd, void* data, size_t n, uint64_t offset) {
  if (int e = Check(Op::kRead)) return ErrnoStatus(e, "pread (injected)");
  return base_.PRead(fd, data, n, offset);
}

absl::Status FaultyFileIo::DataSync(int fd) {
  if (int e = Check(Op::kDataSync)) return ErrnoStatus(e, "fdatasync (injected)");
  return base_.DataSync(fd);
}

absl::Status FaultyFileIo::Sync(int fd) {
  if (int e = Check(Op::kSync)) return ErrnoStatus(e, "fsync (injected)");
  return base_.Sync(fd);
}

absl::Status FaultyFileIo::Truncate(int fd, uint64_t size) {
  if (int e = Check(Op::kTruncate)) return ErrnoStatus(e, "ftruncate (injected)");
  return base_.Truncate(fd, size);
}

absl::Status FaultyFileIo::Rename(const std::string& from, const std::string& to) {
  if (int e = Check(Op::kRename)) return ErrnoStatus(e, StrCat("rename ", from, " (injected)"));
  return base_.Rename(from, to);
}

absl::Status FaultyFileIo::Unlink(const std::string& path) {
  if (int e = Check(Op::kUnlink)) return ErrnoStatus(e, StrCat("unlink ", path, " (injected)"));
  return base_.Unlink(path);
}

absl::Status FaultyFileIo::SyncDir(const std::string& dir) {
  if (int e = Check(Op::kSyncDir))
    return ErrnoStatus(e, StrCat("fsync directory ", dir, " (injected)"));
  return base_.SyncDir(dir);
}

}  // namespace vox
