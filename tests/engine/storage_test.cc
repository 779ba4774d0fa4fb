#include <cstring>

#include "engine/column.h"
#include "engine/database.h"
#include "engine/ops/identity.h"
#include "engine/txn.h"
#include "gtest/gtest.h"
#include "schema/str.h"

namespace vox {
namespace {

constexpr Timestamp kNow = 1793491200LL * kMicrosPerSecond;

TEST(ColumnTest, NullableValuesAndGrowth) {
  static constexpr ColumnDef def = TimestampCol().Nullable().Named("t");
  Column c(def);
  c.Grow(100000);
  c.Put<int64_t>(99999, 42);
  c.SetNull(99999, false);
  EXPECT_EQ(c.Get<int64_t>(99999), 42);
  EXPECT_FALSE(c.IsNull(99999));
  c.SetNull(99999, true);
  EXPECT_TRUE(c.IsNull(99999));
  EXPECT_TRUE(c.IsNull(5));  // new rows start null in a nullable column
}

TEST(ColumnTest, StringsSurviveManyAppends) {
  static constexpr ColumnDef def = StringCol(100).Named("s");
  Column c(def);
  c.Grow(50000);
  for (RowId r = 0; r < 50000; ++r) c.PutString(r, "value-" + std::to_string(r));
  for (RowId r = 0; r < 50000; r += 997) EXPECT_EQ(c.GetString(r), "value-" + std::to_string(r));
}

TEST(TxnTest, RollbackUndoesInsertsUpdatesAndIndexes) {
  Database db({.id_seed = 1});
  RowId user;
  {
    Txn txn(db, kNow);
    user = txn.Insert(TableId::users, {{users::username, "alice"},
                                       {users::email, "Alice@Example.com"},
                                       {users::display_name, "Alice"}});
    ASSERT_NE(user, kNoRow);
    txn.Commit();
  }
  {
    Txn txn(db, kNow + 1);
    txn.Set(TableId::users, user, users::email, "new@example.com");
    txn.Insert(TableId::users, {{users::username, "bob"}, {users::display_name, "Bob"}});
    txn.Rollback();
  }
  const Table& t = db.table(TableId::users);
  EXPECT_EQ(t.live_count(), 1u);
  EXPECT_EQ(t.GetString(user, users::email), "Alice@Example.com");
  const Value probe[] = {"alice@EXAMPLE.com"};
  EXPECT_EQ(db.hash(IndexNo("users_email")).Find(probe), user);
  const Value gone[] = {"new@example.com"};
  EXPECT_EQ(db.hash(IndexNo("users_email")).Find(gone), kNoRow);
  EXPECT_TRUE(db.VerifyIndexes().ok()) << db.VerifyIndexes();
}

TEST(TxnTest, UniqueClashIsCaseInsensitiveAndLatches) {
  Database db({.id_seed = 1});
  Txn txn(db, kNow);
  ASSERT_NE(txn.Insert(TableId::users, {{users::username, "Carol"}, {users::display_name, "C"}}),
            kNoRow);
  EXPECT_EQ(txn.Insert(TableId::users, {{users::username, "carol"}, {users::display_name, "C"}}),
            kNoRow);
  EXPECT_EQ(txn.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(txn.status().message().find("username 'carol'"), std::string::npos);
  txn.Rollback();
  EXPECT_EQ(db.table(TableId::users).live_count(), 0u);
}

TEST(TxnTest, ValidationNamesTheColumn) {
  Database db({.id_seed = 1});
  Txn txn(db, kNow);
  txn.Insert(TableId::users, {{users::username, std::string(40, 'x')}, {users::display_name, "x"}});
  EXPECT_EQ(txn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(txn.status().message().find("users.username"), std::string::npos);
  txn.Rollback();
}

TEST(JsonTest, AcceptsValidAndRefusesInvalid) {
  EXPECT_TRUE(ValidateJson(R"({"a": [1, 2.5e3, -0, true, null, "x\u00e9"]})").ok());
  EXPECT_FALSE(ValidateJson(R"({"a": })").ok());
  EXPECT_FALSE(ValidateJson(R"({"a": 1} x)").ok());
  EXPECT_FALSE(ValidateJson(R"([01])").ok());
  EXPECT_FALSE(ValidateJson(std::string(100, '[')).ok());
}

}  // namespace
}  // namespace vox

namespace vox {
namespace {

TEST(PrimaryKeyTest, EngineIdsLocateTheirRowAndGivenIdsUseTheIndex) {
  Database db({.id_seed = 3});
  Txn txn(db, kNow);
  const RowId minted = txn.Insert(TableId::tags, {{tags::name, "a"}});
  const Uuid given{0x0123456789abcdefULL, 0x8000000000000007ULL};  // "row 7", but row 1
  const RowId explicit_row = txn.Insert(TableId::tags, {{tags::id, given}, {tags::name, "b"}});
  ASSERT_TRUE(txn.ok());
  txn.Commit();
  const Table& t = db.table(TableId::tags);
  EXPECT_EQ(static_cast<RowId>(t.id(minted).lo), minted);
  EXPECT_EQ(t.FindById(t.id(minted)), minted);
  EXPECT_EQ(t.FindById(given), explicit_row);
  EXPECT_EQ(t.index(0).size(), 1u);  // only the given id needed the index
  // Neither id can be taken again, whichever way it would be found.
  Txn again(db, kNow);
  again.Insert(TableId::tags, {{tags::id, t.id(minted)}, {tags::name, "c"}});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  again.Rollback();
  Txn third(db, kNow);
  third.Insert(TableId::tags, {{tags::id, given}, {tags::name, "d"}});
  EXPECT_EQ(third.status().code(), absl::StatusCode::kAlreadyExists);
  third.Rollback();
  // An id that names a live row but is not that row's id is not found.
  Uuid forged = t.id(minted);
  forged.hi ^= 1;
  EXPECT_EQ(t.FindById(forged), kNoRow);
  EXPECT_TRUE(db.VerifyIndexes().ok());
}

}  // namespace
}  // namespace vox

namespace vox {
namespace {

TEST(PinTest, AnImageKeepsItsValuesWhileTheEngineWritesOn) {
  Database db({.id_seed = 4});
  RowId a;
  {
    Txn txn(db, kNow);
    a = txn.Insert(TableId::tags, {{tags::name, "before"}});
    ASSERT_TRUE(txn.ok());
    txn.Commit();
  }
  const std::vector<Table::Image> images = db.Pin();
  const Table::Image& image = images[static_cast<size_t>(TableId::tags)];
  ASSERT_EQ(image.row_count, 1u);
  const uint64_t ref_before = [&] {
    uint64_t ref;
    std::memcpy(&ref, image.columns[tags::name][0].data + a * 8, 8);
    return ref;
  }();
  // The engine changes the row and adds rows past the image.
  {
    Txn txn(db, kNow + 1);
    txn.Set(TableId::tags, a, tags::name, "after");
    for (int i = 0; i < 100; ++i) txn.Insert(TableId::tags, {{tags::name, StrCat("t", i)}});
    ASSERT_TRUE(txn.ok());
    txn.Commit();
  }
  EXPECT_EQ(db.table(TableId::tags).GetString(a, tags::name), "after");
  uint64_t ref_now;
  std::memcpy(&ref_now, image.columns[tags::name][0].data + a * 8, 8);
  EXPECT_EQ(ref_now, ref_before);  // the pinned chunk was copied, not written
  const std::string_view block = image.heaps[tags::name].blocks[ref_before >> 40];
  EXPECT_EQ(block.substr((ref_before >> 20) & 0xfffff, ref_before & 0xfffff), "before");
  EXPECT_EQ(image.live[0].data[a], 1);
}

}  // namespace
}  // namespace vox

namespace vox {
namespace {

// ---- Nested transactions: Transact() inside Transact() joins the open Txn.

// Counts commits handed to the WAL and the rows they changed.
class CountingSink : public CommitSink {
 public:
  void OnCommit(const Txn& txn) override {
    ++commits;
    changes += txn.changes().size();
  }
  int commits = 0;
  size_t changes = 0;
};

RowId InsertUser(Txn& txn, std::string_view name) {
  return txn.Insert(TableId::users, {{users::username, name}, {users::display_name, name}});
}

TEST(NestedTransactTest, InnerTransactRunsOnTheOpenTxnAndCommitsOnce) {
  Database db({.id_seed = 4});
  CountingSink sink;
  db.set_commit_sink(&sink);
  const uint64_t commits_before = db.commits();
  Txn* outer_txn = nullptr;
  absl::Status s = Transact(db, kNow, [&](Txn& outer) -> absl::Status {
    outer_txn = &outer;
    EXPECT_EQ(db.open_txn(), &outer);
    const RowId a = InsertUser(outer, "alice");
    absl::StatusOr<RowId> b = Transact(db, kNow + 5, [&](Txn& inner) -> absl::StatusOr<RowId> {
      EXPECT_EQ(&inner, outer_txn);
      EXPECT_EQ(inner.now(), kNow);                     // the open transaction's clock
      EXPECT_TRUE(db.table(TableId::users).IsLive(a));  // sees the outer write
      return InsertUser(inner, "bob");
    });
    EXPECT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(db.commits(), commits_before);  // nothing committed yet
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(db.open_txn(), nullptr);
  EXPECT_EQ(db.commits(), commits_before + 1);
  EXPECT_EQ(sink.commits, 1);  // one WAL record for both
  EXPECT_EQ(sink.changes, 2u);
  EXPECT_EQ(db.table(TableId::users).live_count(), 2u);
  db.set_commit_sink(nullptr);
}

TEST(NestedTransactTest, InnerFailureRollsBackTheWholeOuterTransaction) {
  Database db({.id_seed = 4});
  ASSERT_TRUE(Transact(db, kNow, [&](Txn& t) -> absl::Status {
                InsertUser(t, "keep");
                return absl::OkStatus();
              }).ok());
  const uint64_t commits_before = db.commits();
  absl::Status s = Transact(db, kNow, [&](Txn& outer) -> absl::Status {
    InsertUser(outer, "alice");
    absl::Status inner = Transact(db, kNow, [&](Txn& t) -> absl::Status {
      InsertUser(t, "bob");
      return absl::FailedPreconditionError("bob may not join");
    });
    EXPECT_EQ(inner.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_FALSE(outer.ok());  // latched on the open transaction
    return absl::OkStatus();   // even if the caller ignores it...
  });
  // ...the outer transaction fails with the inner error and rolls back.
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "bob may not join");
  EXPECT_EQ(db.commits(), commits_before);
  EXPECT_EQ(db.table(TableId::users).live_count(), 1u);
  EXPECT_EQ(db.open_txn(), nullptr);
  EXPECT_TRUE(db.VerifyIndexes().ok());
}

TEST(NestedTransactTest, OperationsComposeIntoOneAtomicTransaction) {
  Database db({.id_seed = 4});
  const OpContext ctx{.now = kNow};
  auto reg = [&](std::string_view name, std::string_view email) {
    return RegisterUser(
        db, ctx, {.username = name, .email = email, .password_hash = "h", .display_name = name});
  };
  // Both registrations commit together.
  absl::Status ok = Transact(db, kNow, [&](Txn&) -> absl::Status {
    VOX_RETURN_IF_ERROR(reg("ann", "ann@example.com").status());
    return reg("ben", "ben@example.com").status();
  });
  ASSERT_TRUE(ok.ok()) << ok;
  const size_t users = db.table(TableId::users).live_count();
  const size_t wallets = db.table(TableId::wallets).live_count();
  EXPECT_EQ(users, 2u);
  // The second registration clashes with the first: neither is kept.
  absl::Status clash = Transact(db, kNow, [&](Txn&) -> absl::Status {
    VOX_RETURN_IF_ERROR(reg("cat", "cat@example.com").status());
    return reg("cat", "other@example.com").status();
  });
  EXPECT_EQ(clash.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(db.table(TableId::users).live_count(), users);
  EXPECT_EQ(db.table(TableId::wallets).live_count(), wallets);
  // Afterwards an operation is its own outermost transaction again.
  EXPECT_EQ(db.open_txn(), nullptr);
  ASSERT_TRUE(reg("dan", "dan@example.com").ok());
  EXPECT_EQ(db.table(TableId::users).live_count(), users + 1);
  EXPECT_TRUE(db.VerifyIndexes().ok());
}

}  // namespace
}  // namespace vox
