#include "engine/ops/queries.h"

#include "engine/ops/rooms.h"
#include "test_util.h"

namespace vox {
namespace {

class QueriesTest : public testing::EngineTest {
 protected:
  QueriesTest() {
    owner_ = Register("owner");
    auto r = CreateAndOpenRoom(db_, Ctx(), {.owner_id = owner_, .title = "t"});
    EXPECT_TRUE(r.ok());
    room_ = db_.table(TableId::rooms).FindById(r->room_id);
  }
  // An audit row for the room at `seconds` after T0 (inserted in any order).
  RowId AuditAt(int64_t seconds) {
    Txn txn(db_, Ctx(seconds).now);
    const RowId r = txn.Insert(TableId::audit_logs, {{audit_logs::action, AuditAction::USER_MUTED},
                                                     {audit_logs::room_id, room_}});
    EXPECT_TRUE(txn.ok());
    txn.Commit();
    return r;
  }
  Uuid owner_;
  RowId room_;
};

TEST_F(QueriesTest, AuditTrailIsNewestFirstWhateverTheInsertOrderAndPagesCleanly) {
  std::vector<RowId> rows;
  RoomAuditTrail(db_, room_, 1000, std::nullopt, &rows);
  const size_t flow_rows = rows.size();  // ROOM_CREATED, USER_JOINED, ROOM_STARTED at t=0
  ASSERT_EQ(flow_rows, 3u);
  // Out of time order, with a tie at t=50.
  const RowId a = AuditAt(100), b = AuditAt(20), c = AuditAt(50), d = AuditAt(50), e = AuditAt(70);
  RoomAuditTrail(db_, room_, 1000, std::nullopt, &rows);
  ASSERT_EQ(rows.size(), flow_rows + 5);
  EXPECT_EQ(std::vector<RowId>(rows.begin(), rows.begin() + 5),
            (std::vector<RowId>{a, e, d, c, b}));  // ties: the later row first
  // Pages of two cover the same sequence without gaps or repeats.
  std::vector<RowId> paged, page;
  std::optional<PageCursor> cursor;
  do {
    cursor = RoomAuditTrail(db_, room_, 2, cursor, &page);
    paged.insert(paged.end(), page.begin(), page.end());
  } while (cursor);
  EXPECT_EQ(paged, rows);
  // A row added after the first page shows up in order on later pages only
  // if it is older than the cursor: keyset pagination.
  cursor = RoomAuditTrail(db_, room_, 2, std::nullopt, &page);
  AuditAt(10);
  AuditAt(200);
  RoomAuditTrail(db_, room_, 1000, cursor, &page);
  EXPECT_EQ(page.size(), flow_rows + 5 - 2 + 1);
  ExpectIndexesAgree();
}

TEST_F(QueriesTest, GroupedPrefixScanNarrowsBySortPart) {
  AuditAt(30);
  AuditAt(30);
  AuditAt(40);
  size_t n =
      db_.range(IndexNo("audit_by_room")).ScanPrefix({int64_t{room_}, Ctx(30).now}, [](RowId) {
        return true;
      });
  EXPECT_EQ(n, 2u);
  n = db_.range(IndexNo("audit_by_room")).ScanPrefix({int64_t{room_}}, [](RowId) { return true; });
  EXPECT_EQ(n, 6u);
  n = db_.range(IndexNo("audit_by_room")).ScanPrefix({int64_t{room_} + 1}, [](RowId) {
    return true;
  });
  EXPECT_EQ(n, 0u);
}

}  // namespace
}  // namespace vox
