#include "tools/datagen/csv_export.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <vector>

#include "engine/value.h"
#include "schema/str.h"

namespace vox {
namespace {

// The buffer is written out past this size: large writes, few syscalls.
constexpr size_t kFlushBytes = size_t{4} << 20;
constexpr uint64_t kProgressRows = 1'000'000;
// PostgreSQL's first timestamp, 4714-11-24 00:00:00 BC (Julian day 0).
constexpr Timestamp kPostgresMinTimestamp = -210866803200LL * kMicrosPerSecond;

absl::Status ErrnoError(int error, std::string_view what, std::string_view path) {
  return absl::Status(absl::ErrnoToStatusCode(error),
                      StrCat("cannot ", what, " ", path, ": ", std::strerror(error)));
}

// One table's CSV file: written to `<path>.tmp`, renamed to `path` by
// Commit(); removed if never committed.
class CsvFile {
 public:
  explicit CsvFile(std::string path) : path_(std::move(path)), tmp_path_(path_ + ".tmp") {
    buffer_.reserve(kFlushBytes + (size_t{1} << 16));
  }
  CsvFile(const CsvFile&) = delete;
  CsvFile& operator=(const CsvFile&) = delete;
  ~CsvFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_path_.c_str());
  }

  absl::Status Open() {
    fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) return ErrnoError(errno, "create", tmp_path_);
    return absl::OkStatus();
  }

  // Rows are appended here; call MaybeFlush() after each.
  std::string& buffer() { return buffer_; }

  absl::Status MaybeFlush() { return buffer_.size() >= kFlushBytes ? Flush() : absl::OkStatus(); }

  absl::Status Commit() {
    VOX_RETURN_IF_ERROR(Flush());
    // No fsync: the files are an intermediate the loader reads right away,
    // and a crash simply means exporting again.
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return ErrnoError(errno, "write", tmp_path_);
    if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
      return ErrnoError(errno, "rename into place", path_);
    }
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  absl::Status Flush() {
    const char* p = buffer_.data();
    size_t left = buffer_.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(errno, "write", tmp_path_);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    buffer_.clear();
    return absl::OkStatus();
  }

  std::string path_, tmp_path_;
  int fd_ = -1;
  bool committed_ = false;
  std::string buffer_;
};

// ---- Value formats -----------------------------------------------------------

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// `s` in double quotes, each `"` doubled: CSV's only escape.
void AppendQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  while (true) {
    const void* quote = std::memchr(s.data(), '"', s.size());
    if (quote == nullptr) break;
    const size_t n = static_cast<const char*>(quote) - s.data() + 1;
    out.append(s.data(), n);
    out.push_back('"');
    s.remove_prefix(n);
  }
  out.append(s);
  out.push_back('"');
}

void Put2(char* p, int64_t v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// "2026-10-01 12:00:00.123456+00": the proleptic Gregorian calendar, as
// PostgreSQL reads it (years before 1 AD are written "... BC").
// REQUIRES: ts >= kPostgresMinTimestamp.
void AppendPgTimestamp(std::string& out, Timestamp ts) {
  const int64_t secs = FloorDiv(ts, kMicrosPerSecond);
  const int64_t micros = ts - secs * kMicrosPerSecond;
  const int64_t days = FloorDiv(secs, 86400);
  const int64_t sod = secs - days * 86400;
  const auto [year, month, day] = CivilFromDays(days);
  const bool bc = year <= 0;  // 1 BC is year 0
  const int64_t shown_year = bc ? 1 - year : year;
  if (shown_year < 1000) out.append(shown_year < 10 ? "000" : shown_year < 100 ? "00" : "0");
  AppendInt(out, shown_year);
  char buf[26] = "-MM-DD HH:MM:SS.uuuuuu+00";
  Put2(buf + 1, month);
  Put2(buf + 4, day);
  Put2(buf + 7, sod / 3600);
  Put2(buf + 10, sod / 60 % 60);
  Put2(buf + 13, sod % 60);
  int64_t frac = micros;
  for (int i = 21; i >= 16; --i, frac /= 10) buf[i] = static_cast<char>('0' + frac % 10);
  out.append(buf, 25);
  if (bc) out.append(" BC");
}

void AppendInet(std::string& out, const Uuid& addr) {
  // IPv4 (stored as ::ffff:a.b.c.d) is nearly every address: format it here.
  if (addr.hi == 0 && (addr.lo >> 32) == 0xffff) {
    for (int i = 3; i >= 0; --i) {
      AppendInt(out, static_cast<int64_t>((addr.lo >> (8 * i)) & 0xff));
      if (i > 0) out.push_back('.');
    }
    return;
  }
  out.append(FormatInet(addr));
}

// A tag name as an element of a PostgreSQL array literal: quoted (with
// backslash escapes) when it holds anything the literal's syntax uses.
std::string ArrayElement(std::string_view name) {
  bool plain = !name.empty() && !EqualsIgnoreCase(name, "NULL");
  for (char c : name) {
    plain = plain && c != '{' && c != '}' && c != ',' && c != '"' && c != '\\' &&
            static_cast<unsigned char>(c) > ' ';
  }
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// ---- Tables ------------------------------------------------------------------

class TableExporter {
 public:
  TableExporter(const Database& db, const Table& table, const std::vector<std::string>& tag_names)
      : db_(db), table_(table), def_(table.def()), tag_names_(tag_names) {}

  absl::Status Write(const std::string& dir,
                     const std::function<void(std::string_view, uint64_t, uint64_t)>& progress) {
    CsvFile file(StrCat(dir, "/", def_.name, ".csv"));
    VOX_RETURN_IF_ERROR(file.Open());
    std::string& out = file.buffer();
    for (size_t c = 0; c < def_.columns.size(); ++c) {
      if (c > 0) out.push_back(',');
      out.append(def_.columns[c].name);
    }
    out.push_back('\n');
    const uint64_t total = table_.live_count();
    uint64_t done = 0;
    if (progress) progress(def_.name, 0, total);
    for (RowId r = 0; r < table_.row_count(); ++r) {
      if (!table_.IsLive(r)) continue;
      for (ColumnId c = 0; c < def_.columns.size(); ++c) {
        if (c > 0) out.push_back(',');
        VOX_RETURN_IF_ERROR(AppendValue(out, r, c));
      }
      out.push_back('\n');
      VOX_RETURN_IF_ERROR(file.MaybeFlush());
      if (++done % kProgressRows == 0 && progress) progress(def_.name, done, total);
    }
    VOX_RETURN_IF_ERROR(file.Commit());
    if (progress) progress(def_.name, done, total);
    return absl::OkStatus();
  }

 private:
  absl::Status AppendValue(std::string& out, RowId r, ColumnId c) {
    const Column& col = table_.column(c);
    if (col.IsNull(r)) return absl::OkStatus();  // an empty unquoted field
    const ColumnDef& def = def_.columns[c];
    switch (def.type) {
      case ColumnType::kBool:
        out.push_back(col.Get<uint8_t>(r) != 0 ? 't' : 'f');
        break;
      case ColumnType::kInt32:
      case ColumnType::kInt64:
        AppendInt(out, col.GetInt(r));
        break;
      case ColumnType::kTimestamp: {
        const Timestamp ts = col.Get<int64_t>(r);
        if (ts < kPostgresMinTimestamp) {
          return absl::OutOfRangeError(
              StrCat(Where(r, c), " is ", ts, " us, before PostgreSQL's first timestamp"));
        }
        AppendPgTimestamp(out, ts);
        break;
      }
      case ColumnType::kEnum:
        out.append(EnumValueName(def.enum_id, col.Get<uint8_t>(r)));
        break;
      case ColumnType::kUuid:
        AppendUuid(out, col.GetUuid(r));
        break;
      case ColumnType::kInet:
        AppendInet(out, col.GetUuid(r));
        break;
      case ColumnType::kString:
      case ColumnType::kJson:
        AppendQuoted(out, col.GetString(r));
        break;
      case ColumnType::kRef: {
        const Table& target = db_.table(def.ref_table);
        const RowId to = col.Get<uint32_t>(r);
        if (!target.IsLive(to)) {
          return absl::DataLossError(StrCat(Where(r, c), " refers to ", target.name(), " row ", to,
                                            ", which is not live"));
        }
        AppendUuid(out, target.id(to));
        break;
      }
      case ColumnType::kTags:
        return AppendTags(out, r, c, col.GetInt(r));
    }
    return absl::OkStatus();
  }

  absl::Status AppendTags(std::string& out, RowId r, ColumnId c, int64_t packed) {
    uint16_t ids[kMaxTagsPerRoom];
    const int n = UnpackTags(packed, ids);
    scratch_ = "{";
    for (int i = 0; i < n; ++i) {
      // A live tag's element is never empty (an empty name is written "").
      if (ids[i] > tag_names_.size() || tag_names_[ids[i] - 1].empty()) {
        return absl::DataLossError(
            StrCat(Where(r, c), " holds tag id ", ids[i], ", which is no live tag"));
      }
      if (i > 0) scratch_.push_back(',');
      scratch_.append(tag_names_[ids[i] - 1]);
    }
    scratch_.push_back('}');
    AppendQuoted(out, scratch_);
    return absl::OkStatus();
  }

  // "rooms.owner_id of row 0195...": for error messages.
  std::string Where(RowId r, ColumnId c) const {
    return StrCat(def_.name, ".", def_.columns[c].name, " of row ", FormatUuid(table_.id(r)));
  }

  const Database& db_;
  const Table& table_;
  const TableDef& def_;
  const std::vector<std::string>& tag_names_;  // by tag id - 1, as array elements
  std::string scratch_;
};

}  // namespace

absl::Status ExportCsv(
    const Database& db, const std::string& dir,
    const std::function<void(std::string_view table, uint64_t done, uint64_t total)>& progress) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return ErrnoError(error.value(), "create directory", dir);
  // Tag id t (what rooms.tags packs) is tags row t - 1.
  const Table& tags = db.table(TableId::tags);
  std::vector<std::string> tag_names(tags.row_count());
  for (RowId r = 0; r < tags.row_count(); ++r) {
    if (tags.IsLive(r)) tag_names[r] = ArrayElement(tags.GetString(r, tags::name));
  }
  for (const TableDef& def : kTables) {
    VOX_RETURN_IF_ERROR(TableExporter(db, db.table(def.id), tag_names).Write(dir, progress));
  }
  return absl::OkStatus();
}

}  // namespace vox
