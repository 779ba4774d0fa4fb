// Fixtures shared by the engine's operation tests.
#ifndef VOXDB_TESTS_ENGINE_TEST_UTIL_H_
#define VOXDB_TESTS_ENGINE_TEST_UTIL_H_
#include <string>

#include "engine/database.h"
#include "engine/ops/context.h"
#include "engine/ops/identity.h"
#include "engine/txn.h"
#include "gtest/gtest.h"
#include "schema/str.h"

namespace vox::testing {

inline constexpr Timestamp kT0 = 1793491200LL * kMicrosPerSecond;  // 2026-11-01T00:00:00Z

// Row counts of every table: a failed operation must leave them unchanged.
inline std::vector<size_t> LiveCounts(const Database& db) {
  std::vector<size_t> out;
  for (const TableDef& t : kTables) out.push_back(db.table(t.id).live_count());
  return out;
}

// Whether `text` contains `part`, with both shown on failure.
inline ::testing::AssertionResult Contains(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// Every live row of every table, as text: equal before and after an
// operation exactly when the operation changed nothing.
inline std::string DumpDb(const Database& db) {
  std::string out;
  for (const TableDef& def : kTables) {
    const Table& t = db.table(def.id);
    out += StrCat(def.name, " ", t.live_count(), "\n");
    for (RowId r = 0; r < t.row_count(); ++r) {
      if (!t.IsLive(r)) continue;
      for (ColumnId c = 0; c < def.columns.size(); ++c) {
        if (t.IsNull(r, c)) {
          out += "null|";
          continue;
        }
        switch (def.columns[c].type) {
          case ColumnType::kString:
          case ColumnType::kJson:
            out += StrCat(t.GetString(r, c), "|");
            break;
          case ColumnType::kUuid:
          case ColumnType::kInet:
            out += StrCat(FormatUuid(t.GetUuid(r, c)), "|");
            break;
          default:
            out += StrCat(t.GetInt(r, c), "|");
        }
      }
      out += "\n";
    }
  }
  return out;
}

// Test setup only: a present participation of `user` in `room`, committed.
inline RowId AddParticipant(Database& db, Timestamp at, RowId user, RowId room,
                            ParticipantRole role) {
  Txn txn(db, at);
  const RowId p = txn.Insert(TableId::room_participants, {{room_participants::user_id, user},
                                                          {room_participants::room_id, room},
                                                          {room_participants::role, role}});
  EXPECT_TRUE(txn.ok()) << txn.status().message();
  txn.Commit();
  return p;
}

// Test setup only: a room of `owner` in `status` (started a moment before
// `at` unless CREATED), with one more setting, committed.
inline RowId AddRoom(Database& db, Timestamp at, RowId owner, std::string_view code,
                     std::string_view title, RoomStatus status, ColumnValue setting) {
  Txn txn(db, at);
  const RowId r = txn.Insert(
      TableId::rooms,
      {{rooms::owner_id, owner}, {rooms::room_code, code}, {rooms::title, title}, setting});
  txn.Set(TableId::rooms, r, rooms::status, status);
  if (status != RoomStatus::CREATED) txn.Set(TableId::rooms, r, rooms::started_at, at);
  EXPECT_TRUE(txn.ok()) << txn.status().message();
  txn.Commit();
  return r;
}

// Test setup only: one column set in a committed transaction.
inline void SetColumn(Database& db, Timestamp at, TableId t, RowId r, ColumnId c, const Value& v) {
  Txn txn(db, at);
  txn.Set(t, r, c, v);
  EXPECT_TRUE(txn.ok()) << txn.status().message();
  txn.Commit();
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : db_({.id_seed = 7}) {}

  OpContext Ctx(int64_t seconds_after_t0 = 0) {
    return OpContext{.now = kT0 + seconds_after_t0 * kMicrosPerSecond};
  }

  // Registers `name` (email name@example.com) and returns its user id.
  Uuid Register(const std::string& name) {
    const std::string email = name + "@example.com";
    RegisterUserRequest req{.username = name,
                            .email = email,
                            .password_hash = "$argon2id$v=19$hash",
                            .display_name = name};
    auto r = RegisterUser(db_, Ctx(), req);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->user_id : Uuid{};
  }
  RowId UserRow(const Uuid& id) { return db_.table(TableId::users).FindById(id); }

  void ExpectIndexesAgree() {
    const absl::Status s = db_.VerifyIndexes();
    EXPECT_TRUE(s.ok()) << s.message();
  }

  // Sets a user's platform role directly (tests only).
  void GrantRole(const Uuid& user, UserRole role) {
    Txn txn(db_, kT0);
    txn.Set(TableId::users, UserRow(user), users::role, role);
    ASSERT_TRUE(txn.ok());
    txn.Commit();
  }

  Database db_;
};

}  // namespace vox::testing

#endif  // VOXDB_TESTS_ENGINE_TEST_UTIL_H_
