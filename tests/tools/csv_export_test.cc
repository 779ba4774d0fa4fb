#include "tools/datagen/csv_export.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "engine/ops/identity.h"
#include "engine/ops/rooms.h"
#include "engine/txn.h"
#include "engine/value.h"
#include "gtest/gtest.h"
#include "schema/str.h"
#include "tools/datagen/datagen.h"

namespace vox {
namespace {

// One CSV field: its text with the quoting undone, and whether it was
// quoted (an unquoted empty field is PostgreSQL's NULL).
struct Field {
  std::string text;
  bool quoted = false;
};
using Record = std::vector<Field>;

// RFC 4180, as PostgreSQL's COPY writes and reads it.
std::vector<Record> ParseCsv(const std::string& data) {
  std::vector<Record> records;
  Record record;
  Field field;
  size_t i = 0;
  while (i < data.size()) {
    const char c = data[i];
    if (c == '"') {
      field.quoted = true;
      for (++i; i < data.size(); ++i) {
        if (data[i] != '"') {
          field.text.push_back(data[i]);
        } else if (i + 1 < data.size() && data[i + 1] == '"') {
          field.text.push_back('"');
          ++i;
        } else {
          break;
        }
      }
      ++i;  // the closing quote
    } else if (c == ',' || c == '\n') {
      record.push_back(std::move(field));
      field = Field{};
      if (c == '\n') records.push_back(std::exchange(record, {}));
      ++i;
    } else {
      field.text.push_back(c);
      ++i;
    }
  }
  EXPECT_TRUE(record.empty() && field.text.empty()) << "the file does not end with a newline";
  return records;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// What PostgreSQL prints for a timestamptz with TimeZone UTC, from the
// engine's own (slow, independent) formatter: RFC 3339 -> "YYYY-MM-DD HH:MM:SS.ffffff+00".
std::string PostgresTime(Timestamp ts) {
  std::string s = FormatTimestamp(ts);
  s[10] = ' ';
  s.pop_back();  // 'Z'
  return s + "+00";
}

bool LooksLikeTimestamp(std::string_view s) {
  constexpr std::string_view kShape = "dddd-dd-dd dd:dd:dd.dddddd+00";
  if (s.size() != kShape.size() && !(s.size() == kShape.size() + 3 && s.ends_with(" BC"))) {
    return false;
  }
  for (size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != kShape[i]) {
      return false;
    }
  }
  return true;
}

// A temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/csv-export-test-XXXXXX";
    path_ = ::mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr Timestamp kNow = kWorkloadNow + 3600 * kMicrosPerSecond;
// 1 BC, 31 December; and a year below 1000.
constexpr Timestamp kOneBc = -62135596800LL * kMicrosPerSecond - 86400 * kMicrosPerSecond;
constexpr Timestamp kYear999 = -30641760000LL * kMicrosPerSecond + 5;  // 999-01-01 + 5 us
constexpr std::string_view kTrickyName = "Ann \"Q\", Jr.\nII";
constexpr std::string_view kTrickyTag = "a,b \"c\"";

class CsvExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new Database(WorkloadDatabaseOptions(7));
    auto data = GenerateWorkload(*db_, {.scale = 0.001, .seed = 7});
    ASSERT_TRUE(data.ok()) << data.status();
    data_ = new GeneratedData(*std::move(data));
    AddTrickyRows();
    dir_ = new TempDir;
    // A stale file from an earlier export is replaced.
    std::ofstream(dir_->path() + "/users.csv") << "stale\n";
    std::vector<std::string> calls;
    export_status_ = new absl::Status(
        ExportCsv(*db_, dir_->path(), [&](std::string_view table, uint64_t done, uint64_t total) {
          calls.push_back(StrCat(table, " ", done, "/", total));
        }));
    progress_ = new std::vector<std::string>(std::move(calls));
  }
  static void TearDownTestSuite() {
    delete progress_;
    delete export_status_;
    delete dir_;
    delete data_;
    delete db_;
  }

  // A user whose display name needs every CSV escape, a tag whose name needs
  // array quoting, a room with timestamps PostgreSQL writes unusually, and
  // an audit row from an IPv6 address.
  static void AddTrickyRows() {
    const OpContext ctx{.now = kNow};
    auto user = RegisterUser(*db_, ctx,
                             {.username = "tricky_user",
                              .email = "tricky@example.com",
                              .password_hash = "h",
                              .display_name = kTrickyName,
                              .bio = ""});
    ASSERT_TRUE(user.ok()) << user.status();
    tricky_user_ = new Uuid(user->user_id);
    const std::string_view music[] = {"music"};
    auto room = CreateAndOpenRoom(
        *db_, ctx,
        {.owner_id = user->user_id, .title = "csv, \"quoted\"", .settings = {.tags = music}});
    ASSERT_TRUE(room.ok()) << room.status();
    tricky_room_ = new Uuid(room->room_id);
    Txn txn(*db_, kNow);
    const RowId tag = txn.Insert(TableId::tags, {{tags::name, kTrickyTag}});
    const RowId r = db_->table(TableId::rooms).FindById(room->room_id);
    const int64_t music_tag = db_->table(TableId::rooms).GetInt(r, rooms::tags) & 0xffff;
    const uint16_t ids[] = {static_cast<uint16_t>(music_tag), static_cast<uint16_t>(tag + 1)};
    txn.Set(TableId::rooms, r, rooms::tags, PackTags(ids));
    txn.Set(TableId::rooms, r, rooms::scheduled_start, kOneBc);
    txn.Set(TableId::rooms, r, rooms::scheduled_end, kYear999);
    txn.Insert(TableId::audit_logs, {{audit_logs::action, AuditAction::SUSPICIOUS_ACTIVITY},
                                     {audit_logs::room_id, r},
                                     {audit_logs::ip_address, *ParseInet("2001:db8::7")}});
    ASSERT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
  }

  static std::vector<Record> Load(std::string_view table) {
    return ParseCsv(ReadFile(StrCat(dir_->path(), "/", table, ".csv")));
  }

  // The fields of the row with this id.
  static Record RowOf(std::string_view table, const Uuid& id) {
    for (Record& r : Load(table)) {
      if (r[0].text == FormatUuid(id)) return r;
    }
    ADD_FAILURE() << "no row " << FormatUuid(id) << " in " << table;
    return {};
  }

  static inline Database* db_ = nullptr;
  static inline GeneratedData* data_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline absl::Status* export_status_ = nullptr;
  static inline std::vector<std::string>* progress_ = nullptr;
  static inline Uuid* tricky_user_ = nullptr;
  static inline Uuid* tricky_room_ = nullptr;
};

// The value the engine holds, as the export must write it, from the
// engine's own formatters. Tags and pre-1 AD timestamps are checked apart.
std::string Expected(const Database& db, const Table& t, RowId r, ColumnId c) {
  const ColumnDef& def = t.def().columns[c];
  switch (def.type) {
    case ColumnType::kBool:
      return t.GetBool(r, c) ? "t" : "f";
    case ColumnType::kInt32:
    case ColumnType::kInt64:
      return StrCat(t.GetInt(r, c));
    case ColumnType::kTimestamp:
      return PostgresTime(t.GetTime(r, c));
    case ColumnType::kEnum:
      return std::string(GetEnum(def.enum_id).values[t.GetInt(r, c)]);
    case ColumnType::kUuid:
      return FormatUuid(t.GetUuid(r, c));
    case ColumnType::kInet:
      return FormatInet(t.GetUuid(r, c));
    case ColumnType::kString:
    case ColumnType::kJson:
      return std::string(t.GetString(r, c));
    case ColumnType::kRef:
      return FormatUuid(db.table(def.ref_table).id(t.GetRef(r, c)));
    case ColumnType::kTags: {
      uint16_t ids[kMaxTagsPerRoom];
      const int n = UnpackTags(t.GetInt(r, c), ids);
      std::vector<std::string_view> names;
      for (int i = 0; i < n; ++i)
        names.push_back(db.table(TableId::tags).GetString(ids[i] - 1, tags::name));
      return StrCat("{", StrJoin(names, ","), "}");
    }
  }
  return "?";
}

TEST_F(CsvExportTest, EveryTableHasItsHeaderAndLiveRows) {
  ASSERT_TRUE(export_status_->ok()) << *export_status_;
  for (const TableDef& def : kTables) {
    SCOPED_TRACE(def.name);
    const std::vector<Record> records = Load(def.name);
    ASSERT_FALSE(records.empty());
    ASSERT_EQ(records[0].size(), def.columns.size());
    for (size_t c = 0; c < def.columns.size(); ++c) {
      EXPECT_EQ(records[0][c].text, def.columns[c].name);
    }
    EXPECT_EQ(records[0][0].text, "id");
    EXPECT_EQ(records.size() - 1, db_->table(def.id).live_count());
    EXPECT_FALSE(std::filesystem::exists(StrCat(dir_->path(), "/", def.name, ".csv.tmp")));
    // The files hold password hashes and OAuth tokens: the owner's only.
    EXPECT_EQ(std::filesystem::status(StrCat(dir_->path(), "/", def.name, ".csv")).permissions(),
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  EXPECT_GT(Load("audit_logs").size(), 10000u);
}

TEST_F(CsvExportTest, EveryValueIsWhatTheEngineHolds) {
  ASSERT_TRUE(export_status_->ok()) << *export_status_;
  int mismatches = 0;
  for (const TableDef& def : kTables) {
    const Table& t = db_->table(def.id);
    const std::vector<Record> records = Load(def.name);
    size_t next = 1;
    for (RowId r = 0; r < t.row_count() && mismatches < 10; ++r) {
      if (!t.IsLive(r)) continue;
      ASSERT_LT(next, records.size()) << def.name;
      const Record& rec = records[next++];
      ASSERT_EQ(rec.size(), def.columns.size()) << def.name << " line " << next;
      for (ColumnId c = 0; c < def.columns.size(); ++c) {
        const ColumnDef& col = def.columns[c];
        const Field& f = rec[c];
        const std::string where = StrCat(def.name, ".", col.name, " of ", FormatUuid(t.id(r)));
        if (t.IsNull(r, c)) {
          EXPECT_TRUE(f.text.empty() && !f.quoted)
              << where << " is null, written '" << f.text << "'";
          continue;
        }
        const bool text = col.type == ColumnType::kString || col.type == ColumnType::kJson ||
                          col.type == ColumnType::kTags;
        EXPECT_EQ(f.quoted, text) << where;
        if (col.type == ColumnType::kTimestamp) {
          EXPECT_TRUE(LooksLikeTimestamp(f.text)) << where << ": " << f.text;
        }
        // Checked apart: timestamps before 1 AD and the tag needing quotes.
        if (col.type == ColumnType::kTimestamp && t.GetTime(r, c) < 0) continue;
        if (col.type == ColumnType::kTags && t.id(r) == *tricky_room_) continue;
        const std::string want = Expected(*db_, t, r, c);
        if (f.text != want) {
          ADD_FAILURE() << where << ": written '" << f.text << "', want '" << want << "'";
          ++mismatches;
        }
      }
    }
    EXPECT_EQ(next, records.size()) << def.name;
  }
}

TEST_F(CsvExportTest, EveryReferenceResolvesInTheReferencedFile) {
  ASSERT_TRUE(export_status_->ok()) << *export_status_;
  std::vector<absl::flat_hash_set<std::string>> ids(kTableCount);
  for (const TableDef& def : kTables) {
    const std::vector<Record> records = Load(def.name);
    for (size_t i = 1; i < records.size(); ++i) {
      EXPECT_TRUE(ParseUuid(records[i][0].text).ok()) << records[i][0].text;
      EXPECT_TRUE(ids[static_cast<size_t>(def.id)].insert(records[i][0].text).second)
          << def.name << " repeats id " << records[i][0].text;
    }
  }
  int64_t refs = 0;
  for (const TableDef& def : kTables) {
    const std::vector<Record> records = Load(def.name);
    for (ColumnId c = 0; c < def.columns.size(); ++c) {
      const ColumnDef& col = def.columns[c];
      if (col.type != ColumnType::kRef) continue;
      for (size_t i = 1; i < records.size(); ++i) {
        const Field& f = records[i][c];
        if (f.text.empty()) continue;
        ++refs;
        EXPECT_TRUE(ids[static_cast<size_t>(col.ref_table)].contains(f.text))
            << def.name << "." << col.name << " = " << f.text << " is no row of "
            << GetTable(col.ref_table).name;
      }
    }
  }
  EXPECT_GT(refs, 100000);
}

TEST_F(CsvExportTest, QuotesNullsTagsAndOddTimestamps) {
  ASSERT_TRUE(export_status_->ok()) << *export_status_;
  const Record user = RowOf("users", *tricky_user_);
  ASSERT_EQ(user.size(), std::size(schema_internal::k_users_columns));
  EXPECT_EQ(user[users::display_name].text, kTrickyName);
  EXPECT_EQ(user[users::email].text, "tricky@example.com");
  EXPECT_TRUE(user[users::bio].text.empty() && !user[users::bio].quoted);  // NULL
  EXPECT_EQ(user[users::created_at].text, "2026-11-01 01:00:00.000000+00");
  const std::string raw = ReadFile(dir_->path() + "/users.csv");
  EXPECT_NE(raw.find("\"Ann \"\"Q\"\", Jr.\nII\""), std::string::npos);

  const Record room = RowOf("rooms", *tricky_room_);
  ASSERT_EQ(room.size(), std::size(schema_internal::k_rooms_columns));
  EXPECT_EQ(room[rooms::title].text, "csv, \"quoted\"");
  EXPECT_EQ(room[rooms::tags].text, "{music,\"a,b \\\"c\\\"\"}");
  EXPECT_EQ(room[rooms::scheduled_start].text, "0001-12-31 00:00:00.000000+00 BC");
  EXPECT_EQ(room[rooms::scheduled_end].text, "0999-01-01 00:00:00.000005+00");
  EXPECT_EQ(room[rooms::status].text, "LIVE");
  EXPECT_EQ(room[rooms::is_public].text, "t");
  EXPECT_EQ(room[rooms::owner_id].text, FormatUuid(*tricky_user_));

  bool found_ipv6 = false, found_ipv4 = false;
  for (const Record& r : Load("audit_logs")) {
    found_ipv6 = found_ipv6 || r[audit_logs::ip_address].text == "2001:db8::7";
    found_ipv4 = found_ipv4 || std::count(r[audit_logs::ip_address].text.begin(),
                                          r[audit_logs::ip_address].text.end(), '.') == 3;
  }
  EXPECT_TRUE(found_ipv6);
  EXPECT_TRUE(found_ipv4);
}

TEST_F(CsvExportTest, ReportsProgressPerTable) {
  ASSERT_TRUE(export_status_->ok()) << *export_status_;
  const std::string users = StrCat(db_->table(TableId::users).live_count());
  EXPECT_EQ(progress_->front(), StrCat("users 0/", users));
  EXPECT_NE(std::find(progress_->begin(), progress_->end(), StrCat("users ", users, "/", users)),
            progress_->end());
  EXPECT_EQ(progress_->back(), "system_events 0/0");
}

TEST_F(CsvExportTest, AnUnwritableDirectoryIsNamed) {
  TempDir tmp;
  const std::string file = tmp.path() + "/not-a-dir";
  std::ofstream(file) << "x";
  const absl::Status s = ExportCsv(*db_, file + "/csv", nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(file + "/csv"), std::string_view::npos) << s;
}

TEST_F(CsvExportTest, AFailedWriteIsNamedAndLeavesNoTemporaryFile) {
  TempDir tmp;
  // A file size limit makes write() fail as a full disk would.
  rlimit old;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 64 << 10;
  ::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status s = ExportCsv(*db_, tmp.path(), nullptr);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::signal(SIGXFSZ, SIG_DFL);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(tmp.path() + "/users.csv.tmp"), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("too large"), std::string_view::npos) << s;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/users.csv.tmp"));
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/users.csv"));
}

}  // namespace
}  // namespace vox
