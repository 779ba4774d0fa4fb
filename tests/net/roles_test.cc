// Token roles for every operation of the protocol. A connection's token is
// readonly, app or admin (docs/protocol.md, "Operations"); each op needs
// one of: nothing (not an operation a role grants), read (any token),
// write (app or admin) or admin. kNeeds below is that table, written out
// by hand: the test fails for any op of the wire union it does not list, so
// a new op cannot ship without a decision about who may run it.
//
// Every op is sent through net::Dispatch as each role, alone and inside a
// Batch, with an empty request table: a role below the op's need must get
// PERMISSION_DENIED naming the token, any other role must get past the role
// check (the empty request then fails on its arguments, or runs).
#include <map>
#include <string>
#include <vector>

#include "engine/ops/ledger.h"
#include "engine/ops/queries.h"
#include "engine/txn.h"
#include "gtest/gtest.h"
#include "net/internal/dispatch.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "tests/engine/test_util.h"
#include "tests/net/engine_parts.h"

namespace vox::net {
namespace {

namespace fb = flatbuffers;
using testing::Contains;
using testing::DumpDb;
using testing::kT0;
using wire::Op;

// What an op needs from the connection's token.
enum class Need { kNone, kRead, kWrite, kAdmin };

struct OpNeed {
  Need need;
  bool in_batch = true;  // may be an op of a Batch
};

// The role each op needs: docs/protocol.md's "role" column. Ops not allowed
// in a Batch: Hello, Batch itself, Stats, Checkpoint, ListSnapshots,
// ApplyMigration and the reports (they run off the engine thread).
const std::map<Op, OpNeed>& Needs() {
  static const auto* const needs = new std::map<Op, OpNeed>{
      {Op::NONE, {Need::kNone, false}},
      {Op::Hello, {Need::kNone, false}},
      {Op::ScramProof, {Need::kNone, false}},  // the handshake's second message
      // Identity.
      {Op::RegisterUser, {Need::kWrite}},
      {Op::RecordLogin, {Need::kWrite}},
      {Op::Logout, {Need::kWrite}},
      {Op::UpdateProfile, {Need::kWrite}},
      {Op::VerifyEmail, {Need::kWrite}},
      {Op::SetAccountStatus, {Need::kWrite}},
      {Op::SetUserRole, {Need::kWrite}},
      {Op::LinkAuthProvider, {Need::kWrite}},
      {Op::UnlinkAuthProvider, {Need::kWrite}},
      {Op::DeleteUser, {Need::kWrite}},
      // Rooms.
      {Op::CreateRoom, {Need::kWrite}},
      {Op::CreateAndOpenRoom, {Need::kWrite}},
      {Op::UpdateRoomSettings, {Need::kWrite}},
      {Op::JoinRoom, {Need::kWrite}},
      {Op::LeaveRoom, {Need::kWrite}},
      {Op::SetMuted, {Need::kWrite}},
      {Op::MuteAll, {Need::kWrite}},
      {Op::SetHandRaised, {Need::kWrite}},
      {Op::SetScreenSharing, {Need::kWrite}},
      {Op::SetSpeaking, {Need::kWrite}},
      {Op::SetConnectionStatus, {Need::kWrite}},
      {Op::ChangeParticipantRole, {Need::kWrite}},
      {Op::KickParticipant, {Need::kWrite}},
      {Op::BanFromRoom, {Need::kWrite}},
      {Op::UnbanFromRoom, {Need::kWrite}},
      {Op::EndRoom, {Need::kWrite}},
      {Op::CancelRoom, {Need::kWrite}},
      {Op::DeleteRoom, {Need::kWrite}},
      // Moderation.
      {Op::TakeModerationAction, {Need::kWrite}},
      {Op::RevokeModerationAction, {Need::kWrite}},
      // Recordings and call sessions.
      {Op::StartRecording, {Need::kWrite}},
      {Op::MarkRecordingInProgress, {Need::kWrite}},
      {Op::StopRecording, {Need::kWrite}},
      {Op::BeginProcessing, {Need::kWrite}},
      {Op::RecordingReady, {Need::kWrite}},
      {Op::FailRecording, {Need::kWrite}},
      {Op::DeleteRecording, {Need::kWrite}},
      {Op::ExpiredRecordings, {Need::kRead}},
      {Op::StartCallSession, {Need::kWrite}},
      {Op::ConnectCallSession, {Need::kWrite}},
      {Op::ReportTelemetry, {Need::kWrite}},
      {Op::FailCallSession, {Need::kWrite}},
      {Op::DropCallSession, {Need::kWrite}},
      {Op::EndCallSession, {Need::kWrite}},
      {Op::GetCallSession, {Need::kRead}},
      // Ledger.
      {Op::CreateWallet, {Need::kWrite}},
      {Op::TopUp, {Need::kWrite}},
      {Op::Gift, {Need::kWrite}},
      {Op::Reserve, {Need::kWrite}},
      {Op::PostReservation, {Need::kWrite}},
      {Op::VoidReservation, {Need::kWrite}},
      {Op::Reverse, {Need::kWrite}},
      {Op::SetFee, {Need::kWrite}},
      {Op::CreatePremiumFeature, {Need::kWrite}},
      {Op::PurchasePremium, {Need::kWrite}},
      {Op::RefundPurchase, {Need::kWrite}},
      {Op::CancelSubscription, {Need::kWrite}},
      {Op::GetWalletBalance, {Need::kRead}},
      {Op::GetSystemWalletBalance, {Need::kRead}},
      {Op::AuditAllWallets, {Need::kAdmin}},  // a read, but administration
      {Op::WalletTransactions, {Need::kRead}},
      // Notifications and system events.
      {Op::SendNotification, {Need::kWrite}},
      {Op::InviteToRoom, {Need::kWrite}},
      {Op::RecordMissedCall, {Need::kWrite}},
      {Op::MarkNotificationRead, {Need::kWrite}},
      {Op::MarkAllRead, {Need::kWrite}},
      {Op::DeleteNotification, {Need::kWrite}},
      {Op::ListNotifications, {Need::kRead}},
      {Op::RecordSystemEvent, {Need::kWrite}},
      // Hot reads.
      {Op::UserByEmail, {Need::kRead}},
      {Op::UserByUsername, {Need::kRead}},
      {Op::PresentParticipants, {Need::kRead}},
      {Op::HandRaiseQueue, {Need::kRead}},
      {Op::UserPresentRooms, {Need::kRead}},
      {Op::RoomAuditTrail, {Need::kRead}},
      {Op::UserAuditTrail, {Need::kRead}},
      {Op::RoomStatistics, {Need::kRead}},
      {Op::LiveRoomsByTag, {Need::kRead}},
      {Op::FindTag, {Need::kRead}},
      {Op::IsBanned, {Need::kRead}},
      {Op::GetRow, {Need::kRead}},
      // Searches.
      {Op::SearchUsers, {Need::kRead}},
      {Op::SearchRooms, {Need::kRead}},
      {Op::SearchCallSessions, {Need::kRead}},
      {Op::SearchParticipants, {Need::kRead}},
      {Op::SearchModeration, {Need::kRead}},
      {Op::SearchAudit, {Need::kRead}},
      {Op::SearchTransfers, {Need::kRead}},
      {Op::SearchNotifications, {Need::kRead}},
      // Reports: reads, computed off the engine thread, never in a batch.
      {Op::IdentityReport, {Need::kRead, false}},
      {Op::RoomReport, {Need::kRead, false}},
      {Op::CallReport, {Need::kRead, false}},
      {Op::EngagementReport, {Need::kRead, false}},
      {Op::ModerationReport, {Need::kRead, false}},
      {Op::EconomyReport, {Need::kRead, false}},
      {Op::SystemEventReport, {Need::kRead, false}},
      {Op::AuditCount, {Need::kRead, false}},
      // Administration.
      {Op::InsertRow, {Need::kAdmin}},
      {Op::UpdateRow, {Need::kAdmin}},
      {Op::DeleteRow, {Need::kAdmin}},
      {Op::RunMaintenance, {Need::kAdmin}},
      {Op::Stats, {Need::kRead, false}},
      {Op::Checkpoint, {Need::kAdmin, false}},
      {Op::ListSnapshots, {Need::kAdmin, false}},  // a read, but administration
      // Schema migrations: a migration is a transaction of its own.
      {Op::ApplyMigration, {Need::kAdmin, false}},
      {Op::GetSchema, {Need::kRead}},
      // Change streams: the connection's own, never in a batch.
      {Op::Subscribe, {Need::kRead, false}},
      {Op::Unsubscribe, {Need::kRead, false}},
      // A batch as such needs only read; its ops are checked one by one.
      {Op::Batch, {Need::kRead, false}},
  };
  return *needs;
}

constexpr Role kRoles[] = {Role::kReadOnly, Role::kApp, Role::kAdmin};

bool Allows(Role role, Need need) {
  switch (need) {
    case Need::kNone:
    case Need::kRead:
      return true;
    case Need::kWrite:
      return role != Role::kReadOnly;
    case Need::kAdmin:
      return role == Role::kAdmin;
  }
  return false;
}

std::string Name(Op op) { return wire::EnumNameOp(op); }

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += StrCat(out.empty() ? "" : ", ", n);
  return out;
}

// An empty table of any type: every field absent (no field is `required`).
fb::Offset<void> EmptyTable(fb::FlatBufferBuilder& b) {
  return fb::Offset<void>(b.EndTable(b.StartTable()));
}

struct Reply {
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string message;
};

class RolesTest : public ::testing::Test {
 protected:
  RolesTest() : db_({.id_seed = 33}) {
    engine_ = testing::LoglessEngine(db_, Uuid{3, 3});
  }

  // Finishes a Request around (`type`, `op`), verifies it as the server
  // does, dispatches it as `role` and reads the Response (running a
  // report's deferred part as a report thread would).
  Reply Send(fb::FlatBufferBuilder& b, Op type, fb::Offset<void> op, Role role) {
    wire::RequestBuilder rb(b);
    rb.add_id(++next_id_);
    rb.add_op_type(type);
    if (!op.IsNull()) rb.add_op(op);
    b.FinishSizePrefixed(rb.Finish());
    fb::Verifier v(b.GetBufferPointer(), b.GetSize());
    EXPECT_TRUE(wire::VerifySizePrefixedRequestBuffer(v)) << Name(type);
    const auto* request = fb::GetSizePrefixedRoot<wire::Request>(b.GetBufferPointer());
    Dispatched d = Dispatch(engine_, *request, role, now_);
    if (d.deferred) {
      EXPECT_TRUE(d.frame.empty());
      d.frame = d.deferred();
    }
    fb::Verifier rv(d.frame.data(), d.frame.size());
    EXPECT_TRUE(rv.VerifySizePrefixedBuffer<wire::Response>(nullptr)) << Name(type);
    const auto* response = fb::GetSizePrefixedRoot<wire::Response>(d.frame.data());
    EXPECT_EQ(response->id(), next_id_);
    return {static_cast<absl::StatusCode>(response->code()),
            response->message() == nullptr ? "" : response->message()->str()};
  }

  // `type` alone, with an empty request table.
  Reply SendEmpty(Op type, Role role) {
    fb::FlatBufferBuilder b;
    return Send(b, type, type == Op::NONE ? fb::Offset<void>() : EmptyTable(b), role);
  }

  // A Batch of `ops` (each with an empty table unless given).
  Reply SendBatch(const std::vector<std::pair<Op, fb::Offset<void>>>& ops, fb::FlatBufferBuilder& b,
                  Role role) {
    std::vector<fb::Offset<wire::BatchOp>> built;
    for (const auto& [type, op] : ops) built.push_back(wire::CreateBatchOp(b, type, op));
    auto batch = wire::CreateBatch(b, b.CreateVector(built));
    return Send(b, Op::Batch, batch.Union(), role);
  }

  Uuid Register(const std::string& name, Role role = Role::kApp) {
    fb::FlatBufferBuilder b;
    auto op =
        wire::CreateRegisterUser(b, b.CreateString(name), b.CreateString(name + "@example.com"),
                                 b.CreateString("$argon2id$v=19$hash"), b.CreateString(name));
    const Reply r = Send(b, Op::RegisterUser, op.Union(), role);
    EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;
    const RowId row = FindUserByUsername(db_, name);
    return row == kNoRow ? Uuid{} : db_.table(TableId::users).id(row);
  }

  Database db_;
  EngineParts engine_;
  Timestamp now_ = kT0;
  uint64_t next_id_ = 0;
};

// The table covers exactly the wire union: a new op fails here until it
// has a role entry (and an op removed from the union fails to compile).
TEST_F(RolesTest, EveryOpOfTheUnionHasARoleEntry) {
  std::vector<std::string> missing;
  size_t listed = 0;
  for (Op op : wire::EnumValuesOp()) {
    if (Needs().count(op) == 0) {
      missing.push_back(Name(op));
    } else {
      ++listed;
    }
  }
  EXPECT_TRUE(missing.empty()) << "ops with no entry in kNeeds (roles_test.cc): " << Join(missing);
  EXPECT_EQ(listed, Needs().size()) << "kNeeds lists a value that is not an op of the union";
  EXPECT_EQ(std::size(wire::EnumValuesOp()), static_cast<size_t>(Op::MAX) + 1);
}

TEST_F(RolesTest, EachOpIsRefusedExactlyToRolesBelowItsNeed) {
  for (Op op : wire::EnumValuesOp()) {
    auto it = Needs().find(op);
    if (it == Needs().end()) continue;  // reported by EveryOpOfTheUnionHasARoleEntry
    for (Role role : kRoles) {
      SCOPED_TRACE(StrCat(Name(op), " as ", RoleName(role)));
      const Reply r = SendEmpty(op, role);
      if (Allows(role, it->second.need)) {
        EXPECT_NE(r.code, absl::StatusCode::kPermissionDenied) << r.message;
        // It reached its executor: no op falls through the dispatcher.
        EXPECT_NE(r.code, absl::StatusCode::kUnimplemented) << r.message;
      } else {
        EXPECT_EQ(r.code, absl::StatusCode::kPermissionDenied) << r.message;
        EXPECT_TRUE(Contains(r.message, "token"));
      }
    }
  }
}

// Each op as the second op of a Batch whose first op is a read: the batch
// is refused as a whole when any op needs more than the role has.
TEST_F(RolesTest, EachOpInABatchIsCheckedForTheRole) {
  for (Op op : wire::EnumValuesOp()) {
    auto it = Needs().find(op);
    if (it == Needs().end()) continue;
    for (Role role : kRoles) {
      SCOPED_TRACE(StrCat("Batch [GetRow, ", Name(op), "] as ", RoleName(role)));
      fb::FlatBufferBuilder b;
      const fb::Offset<void> first = EmptyTable(b);
      const fb::Offset<void> second = op == Op::NONE ? fb::Offset<void>() : EmptyTable(b);
      const Reply r = SendBatch({{Op::GetRow, first}, {op, second}}, b, role);
      const std::string where = StrCat("batch op 1 (", Name(op), ")");
      if (!it->second.in_batch) {
        EXPECT_EQ(r.code, absl::StatusCode::kInvalidArgument) << r.message;
        EXPECT_TRUE(Contains(r.message, where));
      } else if (Allows(role, it->second.need)) {
        EXPECT_NE(r.code, absl::StatusCode::kPermissionDenied) << r.message;
        EXPECT_NE(r.code, absl::StatusCode::kUnimplemented) << r.message;
      } else {
        EXPECT_EQ(r.code, absl::StatusCode::kPermissionDenied) << r.message;
        EXPECT_TRUE(Contains(r.message, StrCat(where, ": ")));
        EXPECT_TRUE(Contains(r.message, "token"));
      }
    }
  }
}

// A refusal comes before anything runs: requests that would succeed change
// nothing when the role is too low, and succeed with the role they need.
TEST_F(RolesTest, RefusedRequestsChangeNothing) {
  const Uuid alice = Register("alice");
  const std::string before = DumpDb(db_);
  const uint64_t commits = db_.commits();
  const wire::Uuid alice_id(alice.hi, alice.lo);
  auto top_up = [&](fb::FlatBufferBuilder& b) {
    return wire::CreateTopUp(b, &alice_id, 5).Union();
  };

  // A write from a readonly token.
  {
    fb::FlatBufferBuilder b;
    const Reply r = Send(b, Op::TopUp, top_up(b), Role::kReadOnly);
    EXPECT_EQ(r.code, absl::StatusCode::kPermissionDenied) << r.message;
  }
  // A batch of reads with one write in the middle, from a readonly token.
  {
    fb::FlatBufferBuilder b;
    auto read = wire::CreateUserByEmail(b, b.CreateString("alice@example.com")).Union();
    auto write = top_up(b);
    auto read2 = wire::CreateUserByUsername(b, b.CreateString("alice")).Union();
    const Reply r =
        SendBatch({{Op::UserByEmail, read}, {Op::TopUp, write}, {Op::UserByUsername, read2}}, b,
                  Role::kReadOnly);
    EXPECT_EQ(r.code, absl::StatusCode::kPermissionDenied) << r.message;
    EXPECT_TRUE(Contains(r.message, "batch op 1 (TopUp): a readonly token may only read"));
  }
  // A batch with an admin op, from an app token.
  {
    fb::FlatBufferBuilder b;
    auto write = top_up(b);
    auto admin = wire::CreateRunMaintenance(b).Union();
    const Reply r = SendBatch({{Op::TopUp, write}, {Op::RunMaintenance, admin}}, b, Role::kApp);
    EXPECT_EQ(r.code, absl::StatusCode::kPermissionDenied) << r.message;
    EXPECT_TRUE(Contains(r.message, "batch op 1 (RunMaintenance)"));
  }
  // Registration from a readonly token.
  {
    fb::FlatBufferBuilder b;
    auto op = wire::CreateRegisterUser(
        b, b.CreateString("mallory"), b.CreateString("mallory@example.com"),
        b.CreateString("$argon2id$v=19$hash"), b.CreateString("Mallory"));
    const Reply r = Send(b, Op::RegisterUser, op.Union(), Role::kReadOnly);
    EXPECT_EQ(r.code, absl::StatusCode::kPermissionDenied) << r.message;
  }
  EXPECT_EQ(DumpDb(db_), before);
  EXPECT_EQ(db_.commits(), commits);
  EXPECT_EQ(FindUserByUsername(db_, "mallory"), kNoRow);

  // The same requests with the role they need.
  {
    fb::FlatBufferBuilder b;
    auto read = wire::CreateUserByEmail(b, b.CreateString("alice@example.com")).Union();
    const Reply r = SendBatch({{Op::UserByEmail, read}}, b, Role::kReadOnly);
    EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;  // a batch of reads
  }
  {
    fb::FlatBufferBuilder b;
    const Reply r = Send(b, Op::TopUp, top_up(b), Role::kApp);
    EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;
  }
  {
    fb::FlatBufferBuilder b;
    auto write = top_up(b);
    auto admin = wire::CreateRunMaintenance(b).Union();
    const Reply r = SendBatch({{Op::TopUp, write}, {Op::RunMaintenance, admin}}, b, Role::kAdmin);
    EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;
  }
  auto balance = GetWalletBalance(db_, alice);
  ASSERT_TRUE(balance.ok()) << balance.status().message();
  EXPECT_EQ(balance->balance, 10);
  EXPECT_NE(Register("mallory"), Uuid{});
}

// Not operations a role grants: the same answer for every token. The
// handshake's messages are answered by the server before the connection
// has a role; after it they are out of place, whatever the role.
TEST_F(RolesTest, HandshakeMessagesAndNoOperationAreRefusedAlikeForEveryRole) {
  for (Role role : kRoles) {
    SCOPED_TRACE(RoleName(role));
    const Reply hello = SendEmpty(Op::Hello, role);
    EXPECT_EQ(hello.code, absl::StatusCode::kFailedPrecondition) << hello.message;
    EXPECT_TRUE(Contains(hello.message, "Hello is only the first request"));
    const Reply proof = SendEmpty(Op::ScramProof, role);
    EXPECT_EQ(proof.code, absl::StatusCode::kFailedPrecondition) << proof.message;
    EXPECT_TRUE(Contains(proof.message, "ScramProof is only part of the handshake"));
    const Reply none = SendEmpty(Op::NONE, role);
    EXPECT_EQ(none.code, absl::StatusCode::kInvalidArgument) << none.message;
    EXPECT_TRUE(Contains(none.message, "no operation"));
  }
}

}  // namespace
}  // namespace vox::net
