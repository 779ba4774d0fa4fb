#include "tests/fuzz/frame_fixture.h"

#include <cstdio>
#include <cstdlib>

#include "engine/txn.h"
#include "schema/voxdb_generated.h"

namespace vox::fuzz {
namespace {

namespace fb = flatbuffers;

[[noreturn]] void Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "fuzz fixture: %s failed: %s\n", what, std::string(s.ToString()).c_str());
  std::abort();
}

// Runs `op` as an admin token, as the server would, and decodes its answer.
template <typename Op>
auto Run(EngineParts& engine, const Op& op, Timestamp now) {
  const std::vector<uint8_t> frame = OpFrame(IdFor(1, net::Role::kAdmin), op);
  fb::Verifier v(frame.data(), frame.size());
  if (!wire::VerifySizePrefixedRequestBuffer(v)) std::abort();
  net::Dispatched d =
      net::Dispatch(engine, *wire::GetSizePrefixedRequest(frame.data()), net::Role::kAdmin, now);
  const wire::Response& response = *fb::GetSizePrefixedRoot<wire::Response>(d.frame.data());
  if (response.code() != wire::StatusCode::OK) {
    Fail(typeid(Op).name(), absl::Status(static_cast<absl::StatusCode>(response.code()),
                                         response.message() ? response.message()->str() : ""));
  }
  auto decoded = Op::Decode(response);
  if constexpr (std::is_void_v<typename Op::Result>) {
    if (!decoded.ok()) Fail(typeid(Op).name(), decoded);
  } else {
    if (!decoded.ok()) Fail(typeid(Op).name(), decoded.status());
    return *std::move(decoded);
  }
}

}  // namespace

std::vector<uint8_t> RequestFrame(uint64_t id,
                                  const std::function<rpc::Encoded(rpc::Builder&)>& encode,
                                  bool read_unsynced) {
  fb::FlatBufferBuilder b(256);
  const rpc::Encoded op = encode(b);
  wire::RequestBuilder rb(b);
  rb.add_id(id);
  rb.add_op_type(static_cast<wire::Op>(op.type));
  rb.add_op(fb::Offset<void>(op.offset));
  rb.add_read_unsynced(read_unsynced);
  b.FinishSizePrefixed(rb.Finish());
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

std::vector<uint8_t> BatchFrame(
    uint64_t id, const std::vector<std::function<rpc::Encoded(rpc::Builder&)>>& ops) {
  return RequestFrame(id, [&ops](rpc::Builder& b) {
    std::vector<fb::Offset<wire::BatchOp>> encoded;
    for (const auto& encode : ops) {
      const rpc::Encoded op = encode(b);
      encoded.push_back(
          wire::CreateBatchOp(b, static_cast<wire::Op>(op.type), fb::Offset<void>(op.offset)));
    }
    return rpc::Encoded{static_cast<uint8_t>(wire::Op::Batch),
                        wire::CreateBatch(b, b.CreateVector(encoded)).o};
  });
}

FixtureIds BuildFixture(EngineParts& engine) {
  Database& db = *engine.db;
  FixtureIds f;
  Timestamp now = kFixtureStart;
  auto tick = [&now] { return now += kMicrosPerSecond; };
  auto user = [&](const std::string& name) {
    return Run(engine,
               rpc::RegisterUser{.username = name,
                                 .email = name + "@example.com",
                                 .password_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
                                 .display_name = name,
                                 .locale = "en-US",
                                 .country = "US"},
               tick())
        .user_id;
  };
  f.root = user("root");
  {
    // The first super admin cannot be made through the wire.
    Txn txn(db, tick());
    txn.Set(TableId::users, db.table(TableId::users).FindById(f.root), users::role,
            UserRole::SUPER_ADMIN);
    if (!txn.ok()) Fail("granting root", txn.status());
    txn.Commit();
  }
  f.mod = user("mod");
  f.alice = user("alice");
  f.bob = user("bob");
  f.carol = user("carol");
  f.dave = user("dave");
  f.eve = user("eve");
  f.frank = user("frank");
  f.gina = user("gina");
  Run(engine, rpc::SetUserRole{.actor_id = f.root, .user_id = f.mod, .role = "MODERATOR"}, tick());
  f.alice_google = Run(engine,
                       rpc::LinkAuthProvider{.user_id = f.alice,
                                             .provider = "GOOGLE",
                                             .provider_id = "google-sub-1",
                                             .provider_email = "alice@gmail.com",
                                             .access_token = "at-secret",
                                             .refresh_token = "rt-secret",
                                             .metadata_json = R"({"hd":"example.com"})",
                                             .token_expires_at = now + 86400 * kMicrosPerSecond},
                       tick());
  Run(engine, rpc::RecordLogin{.user_id = f.alice, .identifier = "alice", .credentials_ok = true},
      tick());
  Run(engine, rpc::VerifyEmail{.user_id = f.alice}, tick());
  f.category =
      Run(engine,
          rpc::InsertRow{.table = "room_categories", .values = {rpc::Field::Text("name", "Music")}},
          tick());

  // Money first, so that rooms can carry gifts.
  Run(engine,
      rpc::SetFee{.transfer_type = "GIFT", .fee_bps = 500, .min_fee = 1, .effective_from = now},
      tick());
  Run(engine,
      rpc::CreatePremiumFeature{
          .code = "hd_audio", .name = "HD audio", .price = 300, .kind = "ONE_TIME"},
      tick());
  Run(engine,
      rpc::CreatePremiumFeature{
          .code = "vip", .name = "VIP", .price = 500, .kind = "SUBSCRIPTION", .period_days = 30},
      tick());
  Run(engine, rpc::TopUp{.user_id = f.alice, .amount = 10000, .idempotency_key = "top-a"}, tick());
  Run(engine, rpc::TopUp{.user_id = f.bob, .amount = 5000, .idempotency_key = "top-b"}, tick());
  Run(engine, rpc::TopUp{.user_id = f.carol, .amount = 1000}, tick());
  Run(engine, rpc::CreateWallet{.user_id = f.bob, .currency = "GEM"}, tick());

  // Rooms.
  const rpc::OpenedRoom jazz = Run(engine,
                                   rpc::CreateAndOpenRoom{.owner_id = f.alice,
                                                          .title = "Late jazz",
                                                          .room_code = "jazz0001",
                                                          .max_participants = 50,
                                                          .tags = {"music", "jazz"}},
                                   tick());
  f.jazz = jazz.room_id;
  f.alice_in_jazz = jazz.host_participant_id;
  f.talk = Run(engine,
               rpc::CreateAndOpenRoom{
                   .owner_id = f.bob, .title = "Talk", .room_code = "talk0001", .tags = {"talk"}},
               tick())
               .room_id;
  f.later = Run(engine,
                rpc::CreateRoom{.owner_id = f.carol,
                                .title = "Later",
                                .room_code = "later001",
                                .settings = {.scheduled_start = now + 7200 * kMicrosPerSecond,
                                             .category_id = f.category}},
                tick())
                .room_id;
  f.gone = Run(engine,
               rpc::CreateAndOpenRoom{.owner_id = f.dave, .title = "Gone", .room_code = "gone0001"},
               tick())
               .room_id;
  Run(engine, rpc::EndRoom{.room_id = f.gone, .actor_id = f.dave}, tick());
  f.bob_in_jazz =
      Run(engine, rpc::JoinRoom{.room_id = f.jazz, .user_id = f.bob}, tick()).participant_id;
  f.carol_in_jazz =
      Run(engine, rpc::JoinRoom{.room_id = f.jazz, .user_id = f.carol}, tick()).participant_id;
  Run(engine, rpc::JoinRoom{.room_id = f.talk, .user_id = f.carol}, tick());
  Run(engine,
      rpc::ChangeParticipantRole{
          .room_id = f.jazz, .actor_id = f.alice, .target_id = f.bob, .role = "CO_HOST"},
      tick());
  Run(engine, rpc::SetHandRaised{.room_id = f.jazz, .actor_id = f.carol, .target_id = f.carol},
      tick());
  Run(engine,
      rpc::BanFromRoom{
          .room_id = f.jazz, .actor_id = f.alice, .target_id = f.frank, .reason = "spam"},
      tick());
  Run(engine, rpc::SetMuted{.room_id = f.jazz, .actor_id = f.bob, .target_id = f.carol}, tick());

  // Transfers, purchases.
  f.gift =
      Run(engine,
          rpc::Gift{.sender_id = f.bob, .receiver_id = f.alice, .amount = 200, .room_id = f.jazz},
          tick())
          .transfer_id;
  f.reservation = Run(engine,
                      rpc::Reserve{.payer_id = f.carol,
                                   .amount = 50,
                                   .timeout_at = now + 1800 * kMicrosPerSecond,
                                   .room_id = f.jazz},
                      tick())
                      .transfer_id;
  f.purchase =
      Run(engine, rpc::PurchasePremium{.user_id = f.alice, .feature_code = "hd_audio"}, tick())
          .purchase_id;
  f.vip_purchase =
      Run(engine, rpc::PurchasePremium{.user_id = f.bob, .feature_code = "vip"}, tick())
          .purchase_id;

  // Media.
  f.recording =
      Run(engine,
          rpc::StartRecording{
              .room_id = f.jazz, .actor_id = f.alice, .storage_key = "rec/jazz/1", .codec = "opus"},
          tick());
  Run(engine, rpc::MarkRecordingInProgress{.recording_id = f.recording}, tick());
  f.call = Run(engine, rpc::StartCallSession{.participant_id = f.carol_in_jazz}, tick());
  Run(engine,
      rpc::ConnectCallSession{
          .session_id = f.call,
          .telemetry = {.rtt_ms = 40, .packet_loss_bp = 12, .region = "eu", .transport = "UDP"}},
      tick());

  // Notifications, moderation, events.
  f.notification =
      Run(engine,
          rpc::SendNotification{
              .recipient_id = f.bob, .title = "Welcome", .body = "Hello", .payload = R"({"k":1})"},
          tick());
  f.invite =
      Run(engine, rpc::InviteToRoom{.room_id = f.jazz, .inviter_id = f.alice, .invitee_id = f.dave},
          tick())
          .notification_id;
  f.warning =
      Run(engine,
          rpc::TakeModerationAction{
              .moderator_id = f.mod, .target_user_id = f.eve, .type = "WARNING", .reason = "rude"},
          tick());
  Run(engine,
      rpc::SetAccountStatus{.actor_id = f.root,
                            .user_id = f.eve,
                            .status = "SUSPENDED",
                            .reason = "abuse",
                            .until = now + 86400 * kMicrosPerSecond},
      tick());
  Run(engine, rpc::DeleteUser{.actor_id = f.gina, .user_id = f.gina}, tick());
  Run(engine,
      rpc::RecordSystemEvent{
          .severity = "ERROR", .component = "sfu", .code = "E42", .message = "lost a node"},
      tick());
  return f;
}

}  // namespace vox::fuzz
