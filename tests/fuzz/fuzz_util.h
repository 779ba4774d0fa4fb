// What the fuzz targets share: an in-memory file system, so that a fuzzed
// WAL segment or snapshot is read through the real readers without a disk
// (and without leaking files between inputs), and FUZZ_CHECK, which turns a
// broken invariant into a crash libFuzzer reports.
// Thread-compatible, apart from MemFileIo, whose calls may come from any
// thread (the snapshot loader reads on one thread while others build
// indexes, but only the reader touches files).
#ifndef VOXDB_TESTS_FUZZ_FUZZ_UTIL_H_
#define VOXDB_TESTS_FUZZ_FUZZ_UTIL_H_

#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/database.h"
#include "engine/ops/generic.h"
#include "engine/ops/ledger.h"
#include "schema/str.h"
#include "wal/file_io.h"
#include "xxhash.h"

// Aborts with `what` when `cond` is false: libFuzzer keeps the input.
#define FUZZ_CHECK(cond, what)                                                                  \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n  %s\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                                  \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

namespace vox::fuzz {

// The database id of every fuzzed WAL, snapshot and server.
inline constexpr Uuid kFuzzDatabaseId{0x0123456789abcdefULL, 0x42};

inline std::string Message(const absl::Status& s) { return std::string(s.ToString()); }

// Every live row's values (and row id), hashed: equal exactly when no row
// changed. Dead rows' bytes and free lists are left out: replay need not
// reproduce them.
inline uint64_t Fingerprint(const Database& db) {
  XXH3_state_t* s = XXH3_createState();
  XXH3_64bits_reset(s);
  const uint32_t version = db.schema_version();
  XXH3_64bits_update(s, &version, sizeof(version));
  for (size_t i = 0; i < db.table_count(); ++i) {
    const Table& t = db.table(static_cast<TableId>(i));
    const TableDef& def = t.def();
    const uint64_t live = t.live_count();
    XXH3_64bits_update(s, &live, sizeof(live));
    for (RowId r = 0; r < t.row_count(); ++r) {
      if (!t.IsLive(r)) continue;
      XXH3_64bits_update(s, &r, sizeof(r));
      for (ColumnId c = 0; c < def.columns.size(); ++c) {
        const Column& col = t.column(c);
        const uint8_t null = col.IsNull(r);
        XXH3_64bits_update(s, &null, 1);
        if (null) continue;
        if (col.type() == ColumnType::kString || col.type() == ColumnType::kJson) {
          const std::string_view v = col.GetString(r);
          const uint64_t n = v.size();
          XXH3_64bits_update(s, &n, sizeof(n));
          XXH3_64bits_update(s, v.data(), v.size());
        } else {
          char buf[16];
          col.CopyOut(r, buf);
          XXH3_64bits_update(s, buf, col.width());
        }
      }
    }
  }
  const uint64_t h = XXH3_64bits_digest(s);
  XXH3_freeState(s);
  return h;
}

// Reads every live row as the server's reads do (RowToJson: refs followed
// to their ids, enums named) and audits the ledger: a database a reader
// accepted must be safe to serve.
// Checks too that each table counts the live rows it has.
inline void ReadEverything(const Database& db) {
  for (size_t i = 0; i < db.table_count(); ++i) {  // migrations' tables too
    const auto id = static_cast<TableId>(i);
    const Table& t = db.table(id);
    size_t live = 0;
    for (RowId r = 0; r < t.row_count(); ++r) {
      if (!t.IsLive(r)) continue;
      ++live;
      (void)RowToJson(db, id, r, /*include_secrets=*/true);
    }
    FUZZ_CHECK(live == t.live_count(),
               StrCat(t.name(), " counts ", t.live_count(), " live rows and has ", live));
  }
  (void)AuditAllWallets(db);
}

// Files are strings in a map; directories exist implicitly.
class MemFileIo final : public FileIo {
 public:
  void Put(const std::string& path, std::string_view bytes) {
    std::lock_guard l(mu_);
    files_[path] = std::make_shared<std::string>(bytes);
  }
  // The file's bytes, or nullptr.
  const std::string* Find(const std::string& path) const {
    std::lock_guard l(mu_);
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : it->second.get();
  }
  void Clear() {
    std::lock_guard l(mu_);
    files_.clear();
    fds_.clear();
  }
  // Paths, sorted.
  std::vector<std::string> Paths() const {
    std::lock_guard l(mu_);
    std::vector<std::string> out;
    for (const auto& [p, f] : files_) out.push_back(p);
    return out;
  }

  absl::StatusOr<int> Open(const std::string& path, int flags) override {
    std::lock_guard l(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) {
      if ((flags & O_CREAT) == 0) return ErrnoStatus(ENOENT, StrCat("open ", path));
      it = files_.emplace(path, std::make_shared<std::string>()).first;
    } else if ((flags & O_CREAT) != 0 && (flags & O_EXCL) != 0) {
      return ErrnoStatus(EEXIST, StrCat("open ", path));
    }
    if ((flags & O_TRUNC) != 0) it->second->clear();
    fds_[next_fd_] = it->second;
    return next_fd_++;
  }
  absl::Status Close(int fd) override {
    std::lock_guard l(mu_);
    return fds_.erase(fd) == 1 ? absl::OkStatus() : ErrnoStatus(EBADF, "close");
  }
  absl::StatusOr<size_t> PWrite(int fd, const void* data, size_t n, uint64_t offset) override {
    std::lock_guard l(mu_);
    VOX_ASSIGN_OR_RETURN(std::string * f, Get(fd));
    if (f->size() < offset + n) f->resize(offset + n, '\0');
    std::memcpy(f->data() + offset, data, n);
    return n;
  }
  absl::StatusOr<size_t> PRead(int fd, void* data, size_t n, uint64_t offset) override {
    std::lock_guard l(mu_);
    VOX_ASSIGN_OR_RETURN(std::string * f, Get(fd));
    if (offset >= f->size()) return size_t{0};
    const size_t m = std::min<size_t>(n, f->size() - offset);
    std::memcpy(data, f->data() + offset, m);
    return m;
  }
  absl::Status DataSync(int fd) override { return Known(fd); }
  absl::Status Sync(int fd) override { return Known(fd); }
  absl::StatusOr<uint64_t> FileSize(int fd) override {
    std::lock_guard l(mu_);
    VOX_ASSIGN_OR_RETURN(std::string * f, Get(fd));
    return uint64_t{f->size()};
  }
  absl::Status Truncate(int fd, uint64_t size) override {
    std::lock_guard l(mu_);
    VOX_ASSIGN_OR_RETURN(std::string * f, Get(fd));
    f->resize(size, '\0');
    return absl::OkStatus();
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    std::lock_guard l(mu_);
    auto it = files_.find(from);
    if (it == files_.end()) return ErrnoStatus(ENOENT, StrCat("rename ", from));
    auto f = it->second;
    files_.erase(it);
    files_[to] = std::move(f);
    return absl::OkStatus();
  }
  absl::Status Unlink(const std::string& path) override {
    std::lock_guard l(mu_);
    return files_.erase(path) == 1 ? absl::OkStatus()
                                   : ErrnoStatus(ENOENT, StrCat("unlink ", path));
  }
  absl::Status SyncDir(const std::string&) override { return absl::OkStatus(); }
  absl::Status MakeDir(const std::string&) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<std::string>> List(const std::string& dir) override {
    std::lock_guard l(mu_);
    const std::string prefix = dir + "/";
    std::vector<std::string> names;
    for (const auto& [path, f] : files_) {
      if (path.compare(0, prefix.size(), prefix) == 0 &&
          path.find('/', prefix.size()) == std::string::npos) {
        names.push_back(path.substr(prefix.size()));
      }
    }
    if (names.empty()) return ErrnoStatus(ENOENT, StrCat("list ", dir));
    return names;  // the map is sorted
  }

 private:
  absl::StatusOr<std::string*> Get(int fd) {
    auto it = fds_.find(fd);
    if (it == fds_.end()) return ErrnoStatus(EBADF, "bad file descriptor");
    return it->second.get();
  }
  absl::Status Known(int fd) {
    std::lock_guard l(mu_);
    return fds_.contains(fd) ? absl::OkStatus() : ErrnoStatus(EBADF, "sync");
  }

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::string>> files_;
  std::map<int, std::shared_ptr<std::string>> fds_;
  int next_fd_ = 3;
};

}  // namespace vox::fuzz

#endif  // VOXDB_TESTS_FUZZ_FUZZ_UTIL_H_
