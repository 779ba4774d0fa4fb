#include "engine/bulk_load.h"

#include <deque>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "engine/txn.h"
#include "gtest/gtest.h"
#include "schema/str.h"
#include "tests/engine/test_util.h"

namespace vox {
namespace {

using ::vox::testing::DumpDb;
using ::vox::testing::kT0;

// Rows for several tables, written the same way into any database: some
// with ids given (not self-locating: they go into the primary key index),
// most with ids minted on insert; defaults, nulls, strings, tags, refs.
struct Row {
  TableId table;
  std::vector<ColumnValue> values;
};

class RowSet {
 public:
  explicit RowSet(uint32_t seed) {
    std::mt19937_64 rng(seed);
    const auto below = [&](uint64_t n) { return static_cast<int64_t>(rng() % n); };
    for (int i = 0; i < 50; ++i) Add(TableId::tags, {{tags::name, Text(StrCat("Tag-", i))}});
    constexpr int kUsers = 300;
    for (int u = 0; u < kUsers; ++u) {
      std::vector<ColumnValue> v = {{users::username, Text(StrCat("User", u))},
                                    {users::display_name, Text(StrCat("Ünïcode ", u))}};
      if (u % 3 != 0) v.push_back({users::email, Text(StrCat("User", u, "@Example.com"))});
      if (u % 7 == 0)
        v.push_back({users::id,
                     Uuid{0x0123456789abcdefULL + u, 0x8000000000000000ULL | 0xffff0000ULL | u}});
      if (u % 5 == 0) v.push_back({users::failed_login_count, static_cast<int32_t>(below(4))});
      if (u % 11 == 0) v.push_back({users::last_login_at, kT0 - below(1000) * kMicrosPerSecond});
      if (u % 13 == 0) v.push_back({users::bio, ""});  // an empty string, not null
      Add(TableId::users, std::move(v));
      Add(TableId::wallets, u % 4 == 0
                                ? std::vector<ColumnValue>{{wallets::user_id, u}}
                                : std::vector<ColumnValue>{{wallets::user_id, u},
                                                           {wallets::currency, "GEM"},
                                                           {wallets::posted_credits, below(500)}});
    }
    Add(TableId::wallets, {{wallets::kind, WalletKind::SYSTEM_ISSUANCE}});
    constexpr int kRooms = 120;
    for (int r = 0; r < kRooms; ++r) {
      const uint16_t tag_ids[] = {static_cast<uint16_t>(1 + r % 50),
                                  static_cast<uint16_t>(1 + (r + 7) % 50)};
      std::vector<ColumnValue> v = {
          {rooms::owner_id, below(kUsers)},
          {rooms::room_code, Text(StrCat("code", r))},
          {rooms::title, Text(StrCat("Room ", r))},
          {rooms::tags, PackTags(std::span<const uint16_t>(tag_ids, 1 + r % 2))},
          {rooms::status, r % 3 == 0 ? RoomStatus::LIVE : RoomStatus::ENDED},
          {rooms::created_at, kT0 - below(100000) * kMicrosPerSecond}};
      if (r % 3 == 0) v.push_back({rooms::started_at, kT0 - below(1000) * kMicrosPerSecond});
      Add(TableId::rooms, std::move(v));
      for (int p = 0; p < 5; ++p) {
        std::vector<ColumnValue> pv = {{room_participants::room_id, r},
                                       {room_participants::user_id, (r * 5 + p) % kUsers}};
        if (p % 2 == 1) pv.push_back({room_participants::left_at, kT0 + p});
        if (p == 4) {
          pv.push_back({room_participants::is_banned, true});
          pv.push_back({room_participants::ban_expires_at, kT0 + 1000 + r});
        }
        Add(TableId::room_participants, std::move(pv));
      }
      Add(TableId::audit_logs,
          {{audit_logs::action, AuditAction::ROOM_CREATED},
           {audit_logs::room_id, r},
           {audit_logs::user_id, below(kUsers)},
           {audit_logs::metadata, Text(StrCat(R"({"n":)", r, "}"))},
           {audit_logs::ip_address, Uuid{0, 0xffff00000000ULL | static_cast<uint64_t>(r)}}});
    }
    for (int t = 0; t < 40; ++t) {
      std::vector<ColumnValue> v = {{transactions::debit_wallet_id, kUsers},
                                    {transactions::credit_wallet_id, t % kUsers},
                                    {transactions::amount, 1 + below(100)},
                                    {transactions::currency, "COIN"},
                                    {transactions::type, TransferType::TOP_UP},
                                    {transactions::status, TransferStatus::POSTED},
                                    {transactions::idempotency_key, Text(StrCat("k", t))}};
      if (t > 0) v.push_back({transactions::parent_id, t - 1});  // a ref into its own table
      Add(TableId::transactions, std::move(v));
    }
  }

  const std::vector<Row>& rows() const { return rows_; }

 private:
  std::string_view Text(std::string s) { return texts_.emplace_back(std::move(s)); }
  void Add(TableId t, std::vector<ColumnValue> v) { rows_.push_back({t, std::move(v)}); }

  std::deque<std::string> texts_;  // stable addresses for the views
  std::vector<Row> rows_;
};

void InsertThroughTxn(Database& db, const RowSet& set) {
  Txn txn(db, kT0);
  for (const Row& row : set.rows()) txn.Insert(row.table, row.values);
  ASSERT_TRUE(txn.ok()) << txn.status();
  txn.Commit();
}

void BulkLoad(Database& db, const RowSet& set, BulkLoadOptions options = {}) {
  BulkLoader loader(db, kT0, options);
  TableId last = set.rows().front().table;
  for (const Row& row : set.rows()) {
    // Tags end early: their indexes build while the other tables load.
    if (last == TableId::tags && row.table != TableId::tags) loader.EndTable(TableId::tags);
    last = row.table;
    ASSERT_NE(loader.Append(row.table, row.values), kNoRow) << loader.status();
  }
  ASSERT_TRUE(loader.Finish().ok());
}

// (index-building threads, check_text)
class BulkLoadTest : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(BulkLoadTest, RowsAreThoseTxnWritesAndEveryIndexAgreesWithAScan) {
  const auto [threads, check_text] = GetParam();
  const RowSet set(threads);
  Database by_txn({.id_seed = 5}), bulk({.id_seed = 5});
  InsertThroughTxn(by_txn, set);
  BulkLoad(bulk, set, {.threads = threads, .check_text = check_text});
  EXPECT_EQ(DumpDb(bulk), DumpDb(by_txn));
  const absl::Status s = bulk.VerifyIndexes();
  EXPECT_TRUE(s.ok()) << s;
  for (const TableDef& def : kTables) {
    EXPECT_EQ(bulk.table(def.id).live_count(), by_txn.table(def.id).live_count()) << def.name;
    for (size_t i = 0; i < bulk.table(def.id).index_count(); ++i) {
      EXPECT_EQ(bulk.table(def.id).index(i).size(), by_txn.table(def.id).index(i).size())
          << def.name << " " << bulk.table(def.id).index(i).def().name;
    }
  }
  // Ids found both ways: self-locating and through the primary key index.
  const Table& users = bulk.table(TableId::users);
  for (RowId u = 0; u < users.row_count(); ++u) EXPECT_EQ(users.FindById(users.id(u)), u);
  const Value email[] = {"user2@EXAMPLE.COM"};
  EXPECT_EQ(bulk.hash(IndexNo("users_email")).Find(email), 2u);
  // The database takes writes after the load.
  Txn txn(bulk, kT0 + 1);
  txn.Insert(TableId::users, {{users::username, "late"}, {users::display_name, "Late"}});
  txn.Set(TableId::users, 2, users::email, "two@example.com");
  EXPECT_TRUE(txn.ok()) << txn.status();
  txn.Commit();
  EXPECT_TRUE(bulk.VerifyIndexes().ok());
}

INSTANTIATE_TEST_SUITE_P(ThreadsAndChecks, BulkLoadTest,
                         ::testing::Combine(::testing::Values(1, 2, 4), ::testing::Bool()));

TEST(BulkLoadRefusalTest, ANonEmptyTableIsRefused) {
  Database db({.id_seed = 1});
  {
    Txn txn(db, kT0);
    txn.Insert(TableId::tags, {{tags::name, "jazz"}});
    txn.Commit();
  }
  BulkLoader loader(db, kT0);
  const ColumnValue tag[] = {{tags::name, "rock"}};
  EXPECT_EQ(loader.Append(TableId::tags, tag), kNoRow);
  EXPECT_EQ(loader.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(testing::Contains(ToStd(loader.status().message()), "tags has 1 rows"));
  const ColumnValue user[] = {{users::username, "a"}, {users::display_name, "A"}};
  EXPECT_EQ(loader.Append(TableId::users, user), kNoRow);  // latched
  EXPECT_EQ(loader.Finish().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(db.table(TableId::tags).live_count(), 1u);
  EXPECT_EQ(db.table(TableId::users).row_count(), 0u);
}

TEST(BulkLoadRefusalTest, ADatabaseWithACommitSinkIsRefused) {
  struct Sink : CommitSink {
    void OnCommit(const Txn&) override {}
  } sink;
  Database db({.id_seed = 1});
  db.set_commit_sink(&sink);
  BulkLoader loader(db, kT0);
  const ColumnValue tag[] = {{tags::name, "rock"}};
  EXPECT_EQ(loader.Append(TableId::tags, tag), kNoRow);
  EXPECT_EQ(loader.Finish().code(), absl::StatusCode::kFailedPrecondition);
  db.set_commit_sink(nullptr);
}

TEST(BulkLoadRefusalTest, AnEndedTableTakesNoMoreRows) {
  Database db({.id_seed = 1});
  BulkLoader loader(db, kT0);
  const ColumnValue tag[] = {{tags::name, "rock"}};
  ASSERT_NE(loader.Append(TableId::tags, tag), kNoRow);
  loader.EndTable(TableId::tags);
  const ColumnValue more[] = {{tags::name, "pop"}};
  EXPECT_EQ(loader.Append(TableId::tags, more), kNoRow);
  EXPECT_EQ(loader.Finish().code(), absl::StatusCode::kFailedPrecondition);
}

// A table emptied by a rolled-back insert keeps that row's bytes past its
// end; rows bulk-loaded there must not show them (Append writes only what
// differs from a zero row).
TEST(BulkLoadTest, BytesOfARolledBackInsertDoNotShowThrough) {
  Database db({.id_seed = 3}), clean({.id_seed = 3});
  {
    Txn txn(db, kT0);
    txn.Insert(TableId::users, {{users::username, "gone"},
                                {users::display_name, "Gone"},
                                {users::failed_login_count, 9},
                                {users::is_verified, true},
                                {users::last_login_at, kT0}});
    txn.Rollback();
  }
  Txn burn(clean, kT0);  // the same ids: mint one as the rolled-back insert did
  burn.Insert(TableId::users, {{users::username, "gone"}, {users::display_name, "Gone"}});
  burn.Rollback();
  for (Database* d : {&db, &clean}) {
    BulkLoader loader(*d, kT0);
    const ColumnValue user[] = {{users::username, "kept"}, {users::display_name, "Kept"}};
    ASSERT_NE(loader.Append(TableId::users, user), kNoRow);
    ASSERT_TRUE(loader.Finish().ok());
  }
  EXPECT_EQ(DumpDb(db), DumpDb(clean));
  const Table& users = db.table(TableId::users);
  EXPECT_EQ(users.GetInt(0, users::failed_login_count), 0);
  EXPECT_FALSE(users.GetBool(0, users::is_verified));
  EXPECT_TRUE(users.IsNull(0, users::last_login_at));
}

// Each bad value fails as it fails through Txn: same code, same message.
TEST(BulkLoadTest, BadValuesFailAsThroughTxn) {
  const std::vector<std::pair<TableId, std::vector<ColumnValue>>> cases = {
      {TableId::rooms, {{rooms::owner_id, 5}, {rooms::room_code, "c"}, {rooms::title, "t"}}},
      {TableId::rooms, {{rooms::owner_id, 0}, {rooms::room_code, "c"}}},
      {TableId::rooms,
       {{rooms::owner_id, 0}, {rooms::room_code, "c"}, {rooms::title, "t"}, {rooms::status, 9}}},
      {TableId::rooms,
       {{rooms::owner_id, 0},
        {rooms::room_code, "c"},
        {rooms::title, "t"},
        {rooms::max_participants, 1}}},
      {TableId::rooms,
       {{rooms::owner_id, 0}, {rooms::room_code, "c"}, {rooms::title, "t"}, {rooms::tags, 77}}},
      {TableId::users, {{users::username, std::string(40, 'x')}, {users::display_name, "X"}}},
      {TableId::users, {{users::username, "x"}, {users::display_name, nullptr}}},
      {TableId::users, {{users::username, 12}, {users::display_name, "X"}}},
  };
  for (bool check_text : {false, true}) {
    for (size_t i = 0; i < cases.size(); ++i) {
      SCOPED_TRACE(StrCat("check_text ", check_text, ", case ", i));
      const auto& [table, values] = cases[i];
      // Rooms need an owner (user row 0), written first the same way.
      const bool owner = table == TableId::rooms;
      const ColumnValue user[] = {{users::username, "owner"}, {users::display_name, "O"}};
      Database by_txn({.id_seed = 2}), bulk({.id_seed = 2});
      Txn txn(by_txn, kT0);
      if (owner) txn.Insert(TableId::users, user);
      EXPECT_EQ(txn.Insert(table, values), kNoRow);
      ASSERT_FALSE(txn.ok());
      txn.Rollback();
      BulkLoader loader(bulk, kT0, {.check_text = check_text});
      if (owner) {
        ASSERT_NE(loader.Append(TableId::users, user), kNoRow);
      }
      EXPECT_EQ(loader.Append(table, values), kNoRow);
      EXPECT_EQ(loader.status(), txn.status());
      EXPECT_EQ(loader.Finish(), txn.status());
    }
  }
}

TEST(BulkLoadTest, TextIsCheckedWhenAsked) {
  const ColumnValue bad_utf8[] = {{users::username, "x"}, {users::display_name, "\xc3\x28"}};
  const ColumnValue bad_json[] = {{audit_logs::action, AuditAction::USER_LOGIN_SUCCESS},
                                  {audit_logs::metadata, "{\"a\":"}};
  {
    Database db({.id_seed = 1});
    BulkLoader loader(db, kT0, {.check_text = true});
    EXPECT_EQ(loader.Append(TableId::users, bad_utf8), kNoRow);
    EXPECT_TRUE(testing::Contains(ToStd(loader.status().message()), "UTF-8"));
  }
  {
    Database db({.id_seed = 1});
    BulkLoader loader(db, kT0, {.check_text = true});
    EXPECT_EQ(loader.Append(TableId::audit_logs, bad_json), kNoRow);
    EXPECT_TRUE(testing::Contains(ToStd(loader.status().message()), "JSON"));
  }
  {
    // Unchecked, a trusted writer's text goes in as it is.
    Database db({.id_seed = 1});
    BulkLoader loader(db, kT0, {.check_text = false});
    EXPECT_NE(loader.Append(TableId::audit_logs, bad_json), kNoRow);
    EXPECT_TRUE(loader.Finish().ok());
  }
}

TEST(BulkLoadTest, UniqueKeysAndIdsAreCheckedWhenIndexesBuild) {
  {
    Database db({.id_seed = 1});
    BulkLoader loader(db, kT0);
    const ColumnValue a[] = {{users::username, "Same"}, {users::display_name, "A"}};
    const ColumnValue b[] = {{users::username, "same"}, {users::display_name, "B"}};
    ASSERT_NE(loader.Append(TableId::users, a), kNoRow);
    ASSERT_NE(loader.Append(TableId::users, b), kNoRow);  // found at the end
    const absl::Status s = loader.Finish();
    EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
    EXPECT_TRUE(testing::Contains(ToStd(s.message()), "users_username"));
  }
  {
    // The same id given twice, once self-locating (row 0's id carries row 0).
    Database db({.id_seed = 1});
    BulkLoader loader(db, kT0);
    const Uuid id{0x0123456789abcdefULL, 0x8000000000000000ULL};
    const ColumnValue a[] = {{tags::id, id}, {tags::name, "a"}};
    const ColumnValue b[] = {{tags::id, id}, {tags::name, "b"}};
    ASSERT_NE(loader.Append(TableId::tags, a), kNoRow);
    ASSERT_NE(loader.Append(TableId::tags, b), kNoRow);
    const absl::Status s = loader.Finish();
    EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
    EXPECT_TRUE(testing::Contains(ToStd(s.message()), "appears twice"));
  }
}

TEST(BulkLoadTest, ProgressCoversTheIndexWorkLeft) {
  Database db({.id_seed = 1});
  BulkLoader loader(db, kT0, {.threads = 1});
  for (int i = 0; i < 1000; ++i) {
    const std::string name = StrCat("t", i);
    const ColumnValue tag[] = {{tags::name, name}};
    ASSERT_NE(loader.Append(TableId::tags, tag), kNoRow);
  }
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  ASSERT_TRUE(
      loader.Finish([&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); }).ok());
  const uint64_t total = 1000 * db.table(TableId::tags).index_count();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls.front(), std::make_pair(uint64_t{0}, total));
  EXPECT_EQ(calls.back(), std::make_pair(total, total));
  EXPECT_TRUE(db.VerifyIndexes().ok());
}

}  // namespace
}  // namespace vox
