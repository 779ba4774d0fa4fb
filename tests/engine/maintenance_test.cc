#include "engine/ops/maintenance.h"

#include "engine/ops/ledger.h"
#include "engine/ops/media.h"
#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "test_util.h"

namespace vox {
namespace {

class MaintenanceTest : public testing::EngineTest {};

TEST_F(MaintenanceTest, LiftsEverythingThatIsDueAndNothingElse) {
  const Uuid host = Register("host");
  const Uuid guest = Register("guest");
  const Uuid payer = Register("payer");
  auto room = CreateAndOpenRoom(db_, Ctx(), {.owner_id = host, .title = "r"});
  ASSERT_TRUE(room.ok());
  ASSERT_TRUE(JoinRoom(db_, Ctx(1), room->room_id, guest).ok());
  // A host mute ending at t=100 and a room ban ending at t=200.
  ASSERT_TRUE(SetMuted(db_, Ctx(2), room->room_id, host, guest, true, Ctx(100).now).ok());
  const Uuid other = Register("other");
  ASSERT_TRUE(BanFromRoom(db_, Ctx(3), room->room_id, host, other, "spam", Ctx(200).now).ok());
  // A reservation timing out at t=150.
  ASSERT_TRUE(TopUp(db_, Ctx(4), {.user_id = payer, .amount = 100}).ok());
  ASSERT_TRUE(
      Reserve(db_, Ctx(5), {.payer_id = payer, .amount = 40, .timeout_at = Ctx(150).now}).ok());
  // An expired recording (READY, expires at t=120).
  {
    Txn txn(db_, Ctx(6).now);
    txn.Insert(TableId::recordings,
               {{recordings::room_id, db_.table(TableId::rooms).FindById(room->room_id)},
                {recordings::owner_id, UserRow(host)},
                {recordings::storage_key, "rec/expiring"},
                {recordings::status, RecordingStatus::READY},
                {recordings::expires_at, Ctx(120).now}});
    ASSERT_TRUE(txn.ok());
    txn.Commit();
  }

  auto early = RunMaintenance(db_, Ctx(50));
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->restrictions_lifted + early->recordings_deleted + early->reservations_voided +
                early->subscriptions_expired,
            0);

  auto report = RunMaintenance(db_, Ctx(300));
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->restrictions_lifted, 2);  // the mute and the ban
  EXPECT_EQ(report->recordings_deleted, 1);
  EXPECT_EQ(report->reservations_voided, 1);
  const RowId r = db_.table(TableId::rooms).FindById(room->room_id);
  EXPECT_FALSE(IsBanned(db_, r, UserRow(other)));
  std::vector<ParticipantState> present;
  PresentParticipants(db_, r, &present);
  ASSERT_EQ(present.size(), 2u);
  EXPECT_FALSE(present[1].muted);
  auto balance = GetWalletBalance(db_, payer);
  ASSERT_TRUE(balance.ok());
  EXPECT_EQ(balance->available, 100);
  EXPECT_TRUE(AuditAllWallets(db_).ok());

  // Running it again finds nothing: the work is idempotent.
  auto again = RunMaintenance(db_, Ctx(301));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->restrictions_lifted + again->recordings_deleted + again->reservations_voided, 0);
  ExpectIndexesAgree();
}

}  // namespace
}  // namespace vox
