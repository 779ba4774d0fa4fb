// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
// and fuzz_frame's dictionary:
//   fuzz_frame            one Request frame per operation of the protocol,
//                         naming rows of the fixture (frame_fixture.h), a few
//                         batches and pipelined inputs;
//   fuzz_wal_reader       the fixture's WAL as the engine writes it (small
//                         segments, so that it rotates), whole and in parts;
//   fuzz_snapshot_reader  snapshots of the fixture and of an empty database.
// Usage: fuzz_seed_gen <corpus dir>   (scripts/fuzz.sh --seeds runs it)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "engine/ops/generic.h"
#include "engine/ops/migration.h"
#include "tests/fuzz/frame_fixture.h"
#include "tests/fuzz/fuzz_util.h"
#include "wal/log_device.h"
#include "wal/recovery.h"
#include "wal/snapshot.h"
#include "wal/wal_format.h"
#include "wal/wal_sink.h"
#include "wal/wal_writer.h"

namespace vox::fuzz {
namespace {

using net::Role;
using Encoder = std::function<rpc::Encoded(rpc::Builder&)>;

constexpr Timestamp kSecond = kMicrosPerSecond;
constexpr Timestamp kDay = 86400 * kSecond;

class Writer {
 public:
  explicit Writer(std::filesystem::path dir) : dir_(std::move(dir)) {}
  void Put(const std::string& target, const std::string& name, std::string_view bytes) {
    const std::filesystem::path d = dir_ / target;
    std::filesystem::create_directories(d);
    std::ofstream(d / name, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    ++files_;
    bytes_ += bytes.size();
  }
  void Put(const std::string& target, const std::string& name, const std::vector<uint8_t>& b) {
    Put(target, name, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  }
  ~Writer() { std::printf("fuzz_seed_gen: %d files, %zu bytes\n", files_, bytes_); }

 private:
  std::filesystem::path dir_;
  int files_ = 0;
  size_t bytes_ = 0;
};

template <typename Op>
Encoder E(const Op& op) {
  return [op](rpc::Builder& b) { return op.Encode(b); };
}

// ---- fuzz_frame ----

void FrameSeeds(Writer& out, const FixtureIds& f) {
  std::map<std::string, std::vector<uint8_t>> seeds;
  uint64_t next = 1000;
  auto add = [&](const std::string& name, const Encoder& op, Role role = Role::kApp) {
    next = IdFor(next + 1, role);
    seeds[name] = RequestFrame(next, op);
  };
  const Timestamp now = kFuzzNow;
  const rpc::TimeRange last_day{.from = now - kDay, .to = now + kSecond};

  // Identity.
  add("RegisterUser", E(rpc::RegisterUser{.username = "zed",
                                          .email = "zed@example.com",
                                          .password_hash = "$argon2id$v=19$x",
                                          .display_name = "Zed",
                                          .bio = "hi",
                                          .timezone = "Europe/Paris"}));
  add("RecordLogin",
      E(rpc::RecordLogin{.user_id = f.bob, .identifier = "bob", .credentials_ok = true}));
  add("RecordLogin_failed", E(rpc::RecordLogin{.user_id = f.alice,
                                               .identifier = "alice",
                                               .provider = "LOCAL",
                                               .failure_reason = "bad_password"}));
  add("Logout", E(rpc::Logout{.user_id = f.alice}));
  add("UpdateProfile", E(rpc::UpdateProfile{.user_id = f.alice,
                                            .email = "alice2@example.com",
                                            .display_name = "Alice B.",
                                            .bio = "",
                                            .timezone = "UTC"}));
  add("VerifyEmail", E(rpc::VerifyEmail{.user_id = f.bob}));
  add("SetAccountStatus",
      E(rpc::SetAccountStatus{
          .actor_id = f.mod, .user_id = f.frank, .status = "BANNED", .reason = "x"}));
  add("SetAccountStatus_lift",
      E(rpc::SetAccountStatus{.actor_id = f.mod, .user_id = f.eve, .status = "ACTIVE"}));
  add("SetUserRole",
      E(rpc::SetUserRole{.actor_id = f.root, .user_id = f.bob, .role = "MODERATOR"}));
  add("LinkAuthProvider", E(rpc::LinkAuthProvider{.user_id = f.bob,
                                                  .provider = "GITHUB",
                                                  .provider_id = "gh-2",
                                                  .metadata_json = "[1,2]",
                                                  .token_expires_at = now + kDay}));
  add("UnlinkAuthProvider",
      E(rpc::UnlinkAuthProvider{.user_id = f.alice, .auth_provider_id = f.alice_google}));
  add("DeleteUser", E(rpc::DeleteUser{.actor_id = f.root, .user_id = f.dave}));

  // Rooms.
  add("CreateRoom", E(rpc::CreateRoom{.owner_id = f.dave,
                                      .title = "Soon",
                                      .settings = {.description = "d",
                                                   .scheduled_start = now + kDay,
                                                   .max_participants = 10,
                                                   .invite_only = true,
                                                   .tags = std::vector<std::string>{"news"},
                                                   .category_id = f.category}}));
  add("CreateAndOpenRoom",
      E(rpc::CreateAndOpenRoom{.owner_id = f.carol, .title = "Open", .tags = {"jazz", "talk"}}));
  add("UpdateRoomSettings",
      E(rpc::UpdateRoomSettings{.room_id = f.jazz,
                                .actor_id = f.alice,
                                .settings = {.title = "Later jazz",
                                             .max_participants = 3,
                                             .mute_on_join = true,
                                             .hand_raise_allowed = false,
                                             .tags = std::vector<std::string>{}}}));
  add("JoinRoom", E(rpc::JoinRoom{.room_id = f.jazz, .user_id = f.dave}));
  add("JoinRoom_banned", E(rpc::JoinRoom{.room_id = f.jazz, .user_id = f.frank}));
  add("JoinRoom_created", E(rpc::JoinRoom{.room_id = f.later, .user_id = f.carol}));
  add("LeaveRoom", E(rpc::LeaveRoom{.room_id = f.jazz, .user_id = f.carol}));
  add("LeaveRoom_host", E(rpc::LeaveRoom{.room_id = f.jazz, .user_id = f.alice}));
  add("SetMuted",
      E(rpc::SetMuted{
          .room_id = f.jazz, .actor_id = f.alice, .target_id = f.carol, .muted = false}));
  add("SetMuted_expiring", E(rpc::SetMuted{.room_id = f.jazz,
                                           .actor_id = f.alice,
                                           .target_id = f.bob,
                                           .expires_at = now + 60 * kSecond}));
  add("MuteAll", E(rpc::MuteAll{.room_id = f.jazz, .actor_id = f.alice}));
  add("SetHandRaised",
      E(rpc::SetHandRaised{
          .room_id = f.jazz, .actor_id = f.alice, .target_id = f.carol, .raised = false}));
  add("SetScreenSharing", E(rpc::SetScreenSharing{.room_id = f.jazz, .user_id = f.bob}));
  add("SetSpeaking", E(rpc::SetSpeaking{.room_id = f.jazz, .user_id = f.bob}));
  add("SetConnectionStatus",
      E(rpc::SetConnectionStatus{.room_id = f.jazz, .user_id = f.bob, .status = "RECONNECTING"}));
  add("ChangeParticipantRole",
      E(rpc::ChangeParticipantRole{
          .room_id = f.jazz, .actor_id = f.alice, .target_id = f.carol, .role = "CO_HOST"}));
  add("KickParticipant",
      E(rpc::KickParticipant{
          .room_id = f.jazz, .actor_id = f.alice, .target_id = f.carol, .reason = "bye"}));
  add("BanFromRoom", E(rpc::BanFromRoom{.room_id = f.jazz,
                                        .actor_id = f.bob,
                                        .target_id = f.carol,
                                        .reason = "r",
                                        .expires_at = now + kDay}));
  add("UnbanFromRoom",
      E(rpc::UnbanFromRoom{.room_id = f.jazz, .actor_id = f.alice, .target_id = f.frank}));
  add("EndRoom", E(rpc::EndRoom{.room_id = f.jazz, .actor_id = f.alice}));
  add("CancelRoom", E(rpc::CancelRoom{.room_id = f.later, .actor_id = f.carol}));
  add("DeleteRoom", E(rpc::DeleteRoom{.room_id = f.talk, .actor_id = f.bob}));

  // Moderation.
  add("TakeModerationAction", E(rpc::TakeModerationAction{.moderator_id = f.mod,
                                                          .target_user_id = f.carol,
                                                          .type = "MUTE",
                                                          .room_id = f.jazz,
                                                          .reason = "loud",
                                                          .expires_at = now + kDay}));
  add("TakeModerationAction_ban", E(rpc::TakeModerationAction{.moderator_id = f.mod,
                                                              .target_user_id = f.bob,
                                                              .type = "PLATFORM_BAN",
                                                              .reason = "fraud"}));
  add("RevokeModerationAction",
      E(rpc::RevokeModerationAction{.action_id = f.warning, .revoker_id = f.mod, .reason = "ok"}));

  // Recordings and calls.
  add("StartRecording", E(rpc::StartRecording{.room_id = f.jazz,
                                              .actor_id = f.bob,
                                              .storage_key = "rec/jazz/2",
                                              .resolution = "720p",
                                              .fps = 30,
                                              .bitrate = 128}));
  add("MarkRecordingInProgress", E(rpc::MarkRecordingInProgress{.recording_id = f.recording}));
  add("StopRecording", E(rpc::StopRecording{.recording_id = f.recording,
                                            .actor_id = f.alice,
                                            .size_bytes = 1 << 20,
                                            .duration_seconds = 60}));
  add("BeginProcessing", E(rpc::BeginProcessing{.recording_id = f.recording}));
  add("RecordingReady",
      E(rpc::RecordingReady{
          .recording_id = f.recording, .storage_url = "https://cdn/x", .expires_at = now + kDay}));
  add("FailRecording", E(rpc::FailRecording{.recording_id = f.recording, .error_message = "disk"}));
  add("DeleteRecording", E(rpc::DeleteRecording{.recording_id = f.recording, .actor_id = f.alice}));
  add("ExpiredRecordings", E(rpc::ExpiredRecordings{.limit = 10}), Role::kReadOnly);
  add("StartCallSession", E(rpc::StartCallSession{.participant_id = f.bob_in_jazz}));
  add("ConnectCallSession",
      E(rpc::ConnectCallSession{.session_id = f.call, .telemetry = {.rtt_ms = 20}}));
  add("ReportTelemetry", E(rpc::ReportTelemetry{.session_id = f.call,
                                                .telemetry = {.rtt_ms = 30,
                                                              .jitter_ms = 4,
                                                              .packet_loss_bp = 100,
                                                              .bitrate_kbps = 64,
                                                              .region = "us",
                                                              .transport = "TURN_TLS"}}));
  add("FailCallSession",
      E(rpc::FailCallSession{.session_id = f.call, .reason = "ICE_FAILED", .detail = "d"}));
  add("DropCallSession", E(rpc::DropCallSession{.session_id = f.call, .reason = "TIMEOUT"}));
  add("EndCallSession", E(rpc::EndCallSession{.session_id = f.call}));
  add("GetCallSession", E(rpc::GetCallSession{.session_id = f.call}), Role::kReadOnly);

  // Money.
  add("CreateWallet", E(rpc::CreateWallet{.user_id = f.alice, .currency = "GEM"}));
  add("TopUp",
      E(rpc::TopUp{.user_id = f.dave, .amount = 100, .idempotency_key = "k1", .memo = "m"}));
  add("TopUp_retry",
      E(rpc::TopUp{.user_id = f.alice, .amount = 10000, .idempotency_key = "top-a"}));
  add("Gift", E(rpc::Gift{.sender_id = f.alice,
                          .receiver_id = f.bob,
                          .amount = 50,
                          .room_id = f.jazz,
                          .idempotency_key = "g1"}));
  add("Gift_gem",
      E(rpc::Gift{.sender_id = f.bob, .receiver_id = f.alice, .amount = 1, .currency = "GEM"}));
  add("Reserve",
      E(rpc::Reserve{.payer_id = f.alice, .amount = 100, .timeout_at = now + 600 * kSecond}));
  add("PostReservation", E(rpc::PostReservation{.transfer_id = f.reservation, .final_amount = 30}));
  add("VoidReservation", E(rpc::VoidReservation{.transfer_id = f.reservation}));
  add("Reverse", E(rpc::Reverse{.transfer_id = f.gift, .reason = "chargeback"}));
  add("SetFee",
      E(rpc::SetFee{
          .transfer_type = "PURCHASE", .fee_bps = 100, .min_fee = 1, .effective_from = now}));
  add("CreatePremiumFeature",
      E(rpc::CreatePremiumFeature{
          .code = "badge", .name = "Badge", .price = 10, .kind = "ONE_TIME"}));
  add("PurchasePremium",
      E(rpc::PurchasePremium{
          .user_id = f.carol, .feature_code = "hd_audio", .idempotency_key = "p1"}));
  add("RefundPurchase", E(rpc::RefundPurchase{.purchase_id = f.purchase, .reason = "r"}));
  add("CancelSubscription", E(rpc::CancelSubscription{.purchase_id = f.vip_purchase}));
  add("GetWalletBalance", E(rpc::GetWalletBalance{.user_id = f.alice}), Role::kReadOnly);
  add("GetSystemWalletBalance", E(rpc::GetSystemWalletBalance{.kind = "SYSTEM_REVENUE"}));
  add("AuditAllWallets", E(rpc::AuditAllWallets{}), Role::kAdmin);
  add("WalletTransactions", E(rpc::WalletTransactions{.user_id = f.bob, .limit = 2}));

  // Notifications and events.
  add("SendNotification", E(rpc::SendNotification{.recipient_id = f.carol,
                                                  .kind = "GIFT_RECEIVED",
                                                  .actor_id = f.bob,
                                                  .room_id = f.jazz,
                                                  .title = "t",
                                                  .payload = R"({"a":[1,{"b":null}]})",
                                                  .expires_at = now + kDay}));
  add("InviteToRoom",
      E(rpc::InviteToRoom{.room_id = f.jazz, .inviter_id = f.alice, .invitee_id = f.eve}));
  add("RecordMissedCall",
      E(rpc::RecordMissedCall{.recipient_id = f.bob, .caller_id = f.alice, .room_id = f.jazz}));
  add("MarkNotificationRead",
      E(rpc::MarkNotificationRead{.notification_id = f.notification, .recipient_id = f.bob}));
  add("MarkAllRead", E(rpc::MarkAllRead{.recipient_id = f.bob}));
  add("DeleteNotification",
      E(rpc::DeleteNotification{.notification_id = f.invite, .recipient_id = f.dave}));
  add("ListNotifications", E(rpc::ListNotifications{.recipient_id = f.bob, .unread_only = true}));
  add("RecordSystemEvent", E(rpc::RecordSystemEvent{.severity = "CRITICAL",
                                                    .component = "db",
                                                    .code = "X1",
                                                    .message = "m",
                                                    .details = R"({"n":1})",
                                                    .user_id = f.alice,
                                                    .occurred_at = now - kSecond}));

  // Reads.
  add("UserByEmail", E(rpc::UserByEmail{.email = "ALICE@example.com"}), Role::kReadOnly);
  add("UserByUsername", E(rpc::UserByUsername{.username = "bob"}), Role::kReadOnly);
  add("PresentParticipants", E(rpc::PresentParticipants{.room_id = f.jazz}), Role::kReadOnly);
  add("HandRaiseQueue", E(rpc::HandRaiseQueue{.room_id = f.jazz}));
  add("UserPresentRooms", E(rpc::UserPresentRooms{.user_id = f.carol}));
  add("RoomAuditTrail", E(rpc::RoomAuditTrail{.room_id = f.jazz, .limit = 3}));
  add("UserAuditTrail", E(rpc::UserAuditTrail{.user_id = f.alice, .limit = 2}));
  add("RoomStatistics", E(rpc::RoomStatistics{.room_id = f.gone}));
  add("LiveRoomsByTag", E(rpc::LiveRoomsByTag{.tag = "music", .limit = 1}));
  add("FindTag", E(rpc::FindTag{.name = "Jazz"}));
  add("IsBanned", E(rpc::IsBanned{.room_id = f.jazz, .user_id = f.frank}));
  add("GetRow", E(rpc::GetRow{.table = "auth_providers", .id = f.alice_google}));

  // Searches.
  add("SearchUsers", E(rpc::SearchUsers{.username_prefix = "a",
                                        .account_status = {"ACTIVE", "SUSPENDED"},
                                        .verified = true,
                                        .created = last_day,
                                        .sort = "username_asc",
                                        .limit = 2}));
  add("SearchRooms", E(rpc::SearchRooms{.tags = {"music", "talk"},
                                        .status = {"LIVE"},
                                        .participants = {.min = 1},
                                        .has_free_seat = true,
                                        .sort = "participants_desc",
                                        .limit = 1}));
  add("SearchCallSessions", E(rpc::SearchCallSessions{.status = {"CONNECTED"},
                                                      .transport = {"UDP"},
                                                      .room_id = f.jazz,
                                                      .rtt_ms = {.min = 0, .max = 100},
                                                      .sort = "rtt_desc"}));
  add("SearchParticipants", E(rpc::SearchParticipants{.role = {"HOST", "CO_HOST"},
                                                      .present = true,
                                                      .room_id = f.jazz,
                                                      .sort = "joined_asc",
                                                      .limit = 1}));
  add("SearchModeration",
      E(rpc::SearchModeration{
          .action_type = {"WARNING"}, .in_force = true, .moderator_id = f.mod}));
  add("SearchAudit", E(rpc::SearchAudit{.action = {"USER_JOINED", "GIFT_SENT"},
                                        .room_id = f.jazz,
                                        .time = last_day,
                                        .sort = "oldest_first",
                                        .limit = 2}));
  add("SearchTransfers", E(rpc::SearchTransfers{.type = {"GIFT", "FEE"},
                                                .direction = "outgoing",
                                                .amount = {.min = 1},
                                                .sort = "amount_desc"}));
  add("SearchNotifications", E(rpc::SearchNotifications{.kind = {"ROOM_INVITATION"},
                                                        .unread = true,
                                                        .recipient_id = f.dave,
                                                        .unexpired_at = now,
                                                        .sort = "unread_first"}));

  // Reports.
  const Timestamp from = kFixtureStart - kDay, to = kFuzzNow + kDay;
  add("IdentityReport", E(rpc::IdentityReport{.from = from, .to = to, .by = "provider"}));
  add("RoomReport", E(rpc::RoomReport{.from = from, .to = to, .bucket = "hour", .by = "tag"}));
  add("CallReport", E(rpc::CallReport{.from = from, .to = to, .by = "transport"}));
  add("EngagementReport",
      E(rpc::EngagementReport{.from = from, .to = to, .by = "room_type", .is_public = true}));
  add("ModerationReport",
      E(rpc::ModerationReport{
          .from = from, .to = to, .bucket = "week", .by = "moderator", .top_n = 3}));
  add("EconomyReport", E(rpc::EconomyReport{.from = from, .to = to, .by = "transfer_type"}));
  add("SystemEventReport", E(rpc::SystemEventReport{.from = from,
                                                    .to = to,
                                                    .by = "severity",
                                                    .min_severity = "WARNING",
                                                    .burst_threshold = 0}));
  add("AuditCount", E(rpc::AuditCount{.from = from, .to = to, .action = "USER_JOINED"}),
      Role::kReadOnly);

  // Generic writes and administration.
  add("InsertRow",
      E(rpc::InsertRow{.table = "tags", .values = {rpc::Field::Text("name", "blues")}}),
      Role::kAdmin);
  add("InsertRow_category",
      E(rpc::InsertRow{.table = "room_categories", .values = {rpc::Field::Text("name", "Talk")}}),
      Role::kAdmin);
  add("UpdateRow",
      E(rpc::UpdateRow{
          .table = "users",
          .id = f.bob,
          .values = {rpc::Field::Text("display_name", "Bobby"), rpc::Field::Null("bio")}}),
      Role::kAdmin);
  add("DeleteRow", E(rpc::DeleteRow{.table = "room_categories", .id = f.category}), Role::kAdmin);
  add("DeleteRow_participant",
      E(rpc::DeleteRow{.table = "room_participants", .id = f.carol_in_jazz}), Role::kAdmin);
  add("RunMaintenance", E(rpc::RunMaintenance{}), Role::kAdmin);
  add("Stats", E(rpc::Stats{}), Role::kReadOnly);
  add("Checkpoint", E(rpc::Checkpoint{}), Role::kAdmin);
  add("ListSnapshots", E(rpc::ListSnapshots{}), Role::kAdmin);
  add("ApplyMigration",
      E(rpc::ApplyMigration{
          .text = "version 2\nname 'topics'\nadd table room_topics\n"
                  "add column room_topics.name string(100) default ''\n"
                  "add column rooms.topic_id ref(room_topics) null on delete set null\n"
                  "add index rooms_topic on rooms (topic_id)\nadd enum value RoomStatus BANNED\n"
                  "alter column rooms.status updatable\nrename column users.bio to about\n"
                  "widen column users.about string(2000)\n"}),
      Role::kAdmin);
  add("ApplyMigration_destructive",
      E(rpc::ApplyMigration{.text = "version 2\nadd column users.k int32 default 1\n"
                                    "narrow column users.display_name string(10)\n"
                                    "drop column users.k\nadd unique index users_dn on users "
                                    "(display_name)\ndrop index users_dn\n",
                            .confirm_destructive = true}),
      Role::kAdmin);
  add("ApplyMigration_dry_run",
      E(rpc::ApplyMigration{.text = "version 2\nadd table t\ndrop table t\n", .dry_run = true}),
      Role::kAdmin);
  add("GetSchema", E(rpc::GetSchema{}), Role::kReadOnly);
  add("Gift_readonly", E(rpc::Gift{.sender_id = f.alice, .receiver_id = f.bob, .amount = 5}),
      Role::kReadOnly);

  // Batches: all or nothing.
  next = IdFor(next + 1, Role::kApp);
  seeds["Batch_join_and_raise"] = BatchFrame(
      next,
      {E(rpc::JoinRoom{.room_id = f.jazz, .user_id = f.dave}),
       E(rpc::SetHandRaised{.room_id = f.jazz, .actor_id = f.dave, .target_id = f.dave}),
       E(rpc::Gift{.sender_id = f.alice, .receiver_id = f.dave, .amount = 10, .room_id = f.jazz})});
  next = IdFor(next + 1, Role::kApp);
  seeds["Batch_refused"] = BatchFrame(
      next, {E(rpc::TopUp{.user_id = f.carol, .amount = 5}),
             E(rpc::Gift{.sender_id = f.carol, .receiver_id = f.bob, .amount = 1 << 30})});
  next = IdFor(next + 1, Role::kApp);
  seeds["Batch_end_then_join"] =
      BatchFrame(next, {E(rpc::EndRoom{.room_id = f.jazz, .actor_id = f.alice}),
                        E(rpc::JoinRoom{.room_id = f.jazz, .user_id = f.carol})});
  next = IdFor(next + 1, Role::kAdmin);
  seeds["Batch_admin"] = BatchFrame(
      next,
      {E(rpc::UpdateRow{
           .table = "rooms", .id = f.talk, .values = {rpc::Field::Int("max_participants", 2)}}),
       E(rpc::JoinRoom{.room_id = f.talk, .user_id = f.dave}), E(rpc::RunMaintenance{})});

  for (const auto& [name, frame] : seeds) out.Put("fuzz_frame", name, frame);
  // Pipelined: several frames in one input, each seeing the ones before.
  auto cat = [&](std::initializer_list<const char*> names) {
    std::vector<uint8_t> all;
    for (const char* n : names) all.insert(all.end(), seeds[n].begin(), seeds[n].end());
    return all;
  };
  out.Put("fuzz_frame", "Pipeline_room", cat({"JoinRoom", "KickParticipant", "EndRoom", "Stats"}));
  out.Put("fuzz_frame", "Pipeline_money",
          cat({"Reserve", "PostReservation", "Reverse", "GetWalletBalance"}));
  out.Put("fuzz_frame", "Pipeline_recording",
          cat({"StopRecording", "BeginProcessing", "RecordingReady", "DeleteRecording"}));
}

// fuzz_frame's dictionary: the protocol's words (enum values, table names,
// sorts, buckets) and the fixture's ids.
void FrameDictionary(const std::filesystem::path& path, const FixtureIds& f) {
  std::ofstream out(path);
  out << "# fuzz_frame: enum names, table names, search sorts, report buckets and dimensions,\n"
         "# and the ids of the fixture (tests/fuzz/fuzz_seed_gen.cc writes this file).\n";
  int n = 0;
  auto word = [&](std::string_view w) {
    out << "w" << n++ << "=\"";
    for (unsigned char c : w) {
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        out << c;
      } else {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\x%02x", c);
        out << buf;
      }
    }
    out << "\"\n";
  };
  for (const EnumDef& e : kEnums) {
    for (std::string_view v : e.values) word(v);
  }
  for (const TableDef& t : kTables) word(t.name);
  for (const char* w : {"created_desc",   "created_asc",
                        "username_asc",   "last_login_desc",
                        "started_desc",   "participants_desc",
                        "scheduled_asc",  "packet_loss_desc",
                        "rtt_desc",       "joined_desc",
                        "left_desc",      "duration_desc",
                        "newest_first",   "oldest_first",
                        "amount_desc",    "unread_first",
                        "outgoing",       "incoming",
                        "hour",           "day",
                        "week",           "provider",
                        "account_status", "role",
                        "room_type",      "tag",
                        "transport",      "region",
                        "action_type",    "moderator",
                        "transfer_type",  "status",
                        "severity",       "component",
                        "COIN",           "GEM",
                        // the migration statements' words (ApplyMigration)
                        "version ",       "\nadd column ",
                        "\nadd table ",   "\nadd enum value ",
                        "\nadd index ",   "\nadd unique index ",
                        "\ndrop index ",  "\ndrop column ",
                        "\ndrop table ",  "\nrename column ",
                        "\nwiden column ", "\nnarrow column ",
                        "\nalter column ", " updatable",
                        " null",          " default ",
                        " on delete set null", "string(",
                        "ref(",           "enum("}) {
    word(w);
  }
  for (const Uuid& id :
       {f.root,         f.mod,    f.alice,  f.bob,           f.carol,       f.dave,
        f.eve,          f.frank,  f.gina,   f.alice_google,  f.category,    f.jazz,
        f.talk,         f.later,  f.gone,   f.alice_in_jazz, f.bob_in_jazz, f.carol_in_jazz,
        f.recording,    f.call,   f.gift,   f.reservation,   f.purchase,    f.vip_purchase,
        f.notification, f.invite, f.warning}) {
    // As the wire holds a Uuid struct: hi then lo, little-endian.
    word(std::string_view(reinterpret_cast<const char*>(&id), sizeof(id)));
  }
}

// ---- fuzz_wal_reader and fuzz_snapshot_reader ----

// Each segment cut after its last record (the zeros a segment is
// preallocated with say nothing the reader has not seen).
std::vector<std::string> TrimmedSegments(MemFileIo& io, const std::string& dir) {
  std::vector<std::string> out;
  for (const std::string& path : io.Paths()) {
    if (path.rfind(dir + "/", 0) != 0 || wal::ParseSegmentName(path.substr(dir.size() + 1)) == 0) {
      continue;
    }
    std::string seg = *io.Find(path);
    // A fixed creation time: the seeds are the same on every run.
    wal::SegmentHeader h;
    std::memcpy(&h, seg.data(), sizeof(h));
    h.created_at = kFixtureStart;
    wal::SealSegmentHeader(&h);
    std::memcpy(seg.data(), &h, sizeof(h));
    size_t end = seg.size();
    while (end > 0 && seg[end - 1] == '\0') --end;
    seg.resize(std::min(seg.size(), wal::Padded(end)));
    out.push_back(std::move(seg));
  }
  return out;
}

std::string Flagged(uint8_t flags, const std::vector<std::string>& segments, size_t from = 0,
                    size_t to = SIZE_MAX) {
  std::string out(1, static_cast<char>(flags));
  for (size_t i = from; i < std::min(to, segments.size()); ++i) out += segments[i];
  return out;
}

void MigratedSeeds(Writer& out);

void DurabilitySeeds(Writer& out) {
  MemFileIo io;
  FileIoLogDevice device(io);
  const std::string data = "/data";
  Database db({.id_seed = kFixtureSeed});
  {
    auto wal = WalWriter::Open(
        io, device, {.dir = WalDir(data), .database_id = kFuzzDatabaseId, .segment_bytes = 8192},
        {});
    if (!wal.ok()) {
      std::fprintf(stderr, "fuzz_seed_gen: %s\n", std::string(wal.status().message()).c_str());
      std::exit(1);
    }
    WalCommitSink sink(**wal);
    db.set_commit_sink(&sink);
    EngineParts parts{.db = &db, .database_id = kFuzzDatabaseId, .durability = Durability::kFsync};
    BuildFixture(parts);
    db.set_commit_sink(nullptr);
    if (!(*wal)->Sync().ok()) std::exit(1);
  }
  const std::vector<std::string> segs = TrimmedSegments(io, WalDir(data));
  std::printf("fuzz_seed_gen: the fixture's WAL has %zu segments\n", segs.size());
  const std::string w = "fuzz_wal_reader";
  out.Put(w, "log_whole", Flagged(0, segs));
  out.Put(w, "log_whole_sealed", Flagged(7, segs));
  out.Put(w, "log_first_segment", Flagged(0, segs, 0, 1));
  out.Put(w, "log_last_segment_chained", Flagged(7, segs, segs.size() - 1));
  out.Put(w, "log_stop_at_last_good", Flagged(8 | 3, segs));
  out.Put(w, "log_point_in_time", Flagged(16 | 32, segs));
  out.Put(w, "log_dump", Flagged(64, segs, 0, 2));
  {
    // A torn tail: the last record cut short.
    std::string torn = Flagged(0, segs);
    torn.resize(torn.size() - 20);
    out.Put(w, "log_torn_tail", torn);
  }
  {
    // A gap: the middle segment missing.
    std::vector<std::string> gap = segs;
    if (gap.size() > 2) gap.erase(gap.begin() + 1);
    out.Put(w, "log_missing_segment", Flagged(0, gap));
  }
  out.Put(w, "log_empty_segment", Flagged(0, {segs[0].substr(0, wal::kSegmentHeaderSize)}));
  // Regressions (fuzz_wal_reader's findings; see tests/wal/recovery_test.cc).
  auto record = [](std::string_view payload) {
    wal::RecordHeader h{.length = static_cast<uint32_t>(payload.size()), .type = 1};
    return std::string(reinterpret_cast<const char*>(&h), sizeof(h)) + std::string(payload);
  };
  const std::string header = segs[0].substr(0, wal::kSegmentHeaderSize);
  // The file ends in the last record's padding (scanned for the dump tool).
  out.Put(w, "regress_end_in_padding", Flagged(64 | 7, {header + record("hello")}));
  {
    // 40 deletes, each 4M rows past the one before.
    std::string payload(12, '\0');
    payload[8] = 40;
    for (uint32_t k = 1; k <= 40; ++k) {
      payload.push_back(static_cast<char>(TableId::room_categories));
      payload.push_back(2);
      const uint32_t row = k * 4000000;
      payload.append(reinterpret_cast<const char*>(&row), 4);
      payload.append(16, '\0');
    }
    out.Put(w, "regress_rows_far_past",
            Flagged(7, {header + record(payload) + std::string(4, '\0')}));
  }

  const std::string s = "fuzz_snapshot_reader";
  auto snapshot = [&](const Database& from, uint64_t lsn) {
    auto info = WriteSnapshot(
        io, from.Pin(), {.database_id = kFuzzDatabaseId, .lsn = lsn, .created_at = kFixtureStart},
        SnapshotDir(data));
    if (!info.ok()) std::exit(1);
    return *io.Find(info->path);
  };
  const std::string fixture = snapshot(db, 1);
  out.Put(s, "snapshot_fixture", std::string(1, '\0') + fixture);
  out.Put(s, "snapshot_fixture_sealed", std::string(1, '\7') + fixture);
  Database empty;
  const std::string none = snapshot(empty, 2);
  out.Put(s, "snapshot_empty", std::string(1, '\0') + none);
  out.Put(s, "snapshot_empty_sealed", std::string(1, '\7') + none);
  std::printf("fuzz_seed_gen: snapshots of %zu and %zu bytes\n", fixture.size(), none.size());
  MigratedSeeds(out);
}

// The fixture, then migrations (a table, a reference, an index, an enum
// value, a rename, a drop) and writes through them: a log with migration
// records, and a snapshot with schema blocks.
void MigratedSeeds(Writer& out) {
  MemFileIo io;
  FileIoLogDevice device(io);
  const std::string data = "/migrated";
  Database db({.id_seed = kFixtureSeed});
  {
    auto wal = WalWriter::Open(
        io, device, {.dir = WalDir(data), .database_id = kFuzzDatabaseId, .segment_bytes = 8192},
        {});
    if (!wal.ok()) std::exit(1);
    WalCommitSink sink(**wal);
    db.set_commit_sink(&sink);
    EngineParts parts{.db = &db, .database_id = kFuzzDatabaseId, .durability = Durability::kFsync};
    BuildFixture(parts);
    const OpContext ctx{.now = kFixtureStart + 1000 * kMicrosPerSecond};
    auto migrate = [&](std::string_view text) {
      if (!ApplyMigration(db, ctx, text, {.confirm_destructive = true}).ok()) std::exit(1);
    };
    migrate(
        "version 2\nname 'room topics'\nadd table room_topics\n"
        "add column room_topics.name string(100) default ''\n"
        "add column rooms.topic_id ref(room_topics) null on delete set null\n"
        "add index rooms_topic on rooms (topic_id)\nadd enum value RoomStatus BANNED\n"
        "alter column rooms.status updatable\nadd column users.score int32 default 7\n");
    const NamedValue topic[] = {{"name", "Jazz"}};
    auto topic_id = InsertRow(db, ctx, *db.FindTable("room_topics"), topic);
    const Table& rooms = db.table(TableId::rooms);
    if (!topic_id.ok() || rooms.live_count() == 0) std::exit(1);
    const NamedValue set[] = {{"topic_id", *topic_id}, {"status", "BANNED"}};
    if (!UpdateRow(db, ctx, TableId::rooms, rooms.id(0), set).ok()) std::exit(1);
    migrate("version 3\nrename column room_topics.name to title\nwiden column users.score int64\n"
            "drop column users.score\n");
    db.set_commit_sink(nullptr);
    if (!(*wal)->Sync().ok()) std::exit(1);
  }
  const std::vector<std::string> segs = TrimmedSegments(io, WalDir(data));
  out.Put("fuzz_wal_reader", "log_migrated", Flagged(0, segs));
  out.Put("fuzz_wal_reader", "log_migrated_dump", Flagged(64, segs));
  auto info = WriteSnapshot(io, db.Pin(), MetaOf(db, kFuzzDatabaseId, 1), SnapshotDir(data));
  if (!info.ok()) std::exit(1);
  out.Put("fuzz_snapshot_reader", "snapshot_migrated", std::string(1, '\0') + *io.Find(info->path));
}

}  // namespace
}  // namespace vox::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_gen <corpus dir>\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  vox::fuzz::Writer out(dir);
  vox::Database db({.id_seed = vox::fuzz::kFixtureSeed});
  vox::EngineParts parts{
      .db = &db, .database_id = vox::fuzz::kFuzzDatabaseId, .durability = vox::Durability::kNone};
  const vox::fuzz::FixtureIds ids = vox::fuzz::BuildFixture(parts);
  vox::fuzz::FrameSeeds(out, ids);
  vox::fuzz::FrameDictionary(dir.parent_path() / "fuzz_frame.dict", ids);
  vox::fuzz::DurabilitySeeds(out);
  return 0;
}
