// Every operation of the protocol through vox::Client against a real voxdb
// process: each one on its success path, its effect checked through another
// call, the most important refusal of each domain with its status code, and
// batches. A union Op member without an rpc struct fails the suite.
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "gtest/gtest.h"
#include "net/client.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

using absl::StatusCode;

// ---- Which operations the client has, and which ran ----

template <typename Op>
uint8_t OpType() {
  flatbuffers::FlatBufferBuilder b;
  return Op{}.Encode(b).type;
}

struct ClientOp {
  uint8_t type;      // what the struct encodes
  const char* name;  // the struct's name
};
#define VOX_CLIENT_OP(Name) \
  ClientOp { OpType<rpc::Name>(), #Name }
// Every operation struct of net/rpc.h.
const std::vector<ClientOp>& ClientOps() {
  static const std::vector<ClientOp> ops = {
      VOX_CLIENT_OP(RegisterUser), VOX_CLIENT_OP(RecordLogin), VOX_CLIENT_OP(Logout),
      VOX_CLIENT_OP(UpdateProfile), VOX_CLIENT_OP(VerifyEmail), VOX_CLIENT_OP(SetAccountStatus),
      VOX_CLIENT_OP(SetUserRole), VOX_CLIENT_OP(LinkAuthProvider),
      VOX_CLIENT_OP(UnlinkAuthProvider), VOX_CLIENT_OP(DeleteUser),
      // Rooms and participants.
      VOX_CLIENT_OP(CreateRoom), VOX_CLIENT_OP(CreateAndOpenRoom),
      VOX_CLIENT_OP(UpdateRoomSettings), VOX_CLIENT_OP(JoinRoom), VOX_CLIENT_OP(LeaveRoom),
      VOX_CLIENT_OP(SetMuted), VOX_CLIENT_OP(MuteAll), VOX_CLIENT_OP(SetHandRaised),
      VOX_CLIENT_OP(SetScreenSharing), VOX_CLIENT_OP(SetSpeaking),
      VOX_CLIENT_OP(SetConnectionStatus), VOX_CLIENT_OP(ChangeParticipantRole),
      VOX_CLIENT_OP(KickParticipant), VOX_CLIENT_OP(BanFromRoom), VOX_CLIENT_OP(UnbanFromRoom),
      VOX_CLIENT_OP(EndRoom), VOX_CLIENT_OP(CancelRoom), VOX_CLIENT_OP(DeleteRoom),
      // Moderation.
      VOX_CLIENT_OP(TakeModerationAction), VOX_CLIENT_OP(RevokeModerationAction),
      // Recordings and call sessions.
      VOX_CLIENT_OP(StartRecording), VOX_CLIENT_OP(MarkRecordingInProgress),
      VOX_CLIENT_OP(StopRecording), VOX_CLIENT_OP(BeginProcessing), VOX_CLIENT_OP(RecordingReady),
      VOX_CLIENT_OP(FailRecording), VOX_CLIENT_OP(DeleteRecording),
      VOX_CLIENT_OP(ExpiredRecordings), VOX_CLIENT_OP(StartCallSession),
      VOX_CLIENT_OP(ConnectCallSession), VOX_CLIENT_OP(ReportTelemetry),
      VOX_CLIENT_OP(FailCallSession), VOX_CLIENT_OP(DropCallSession), VOX_CLIENT_OP(EndCallSession),
      VOX_CLIENT_OP(GetCallSession),
      // Wallets, transfers, premium.
      VOX_CLIENT_OP(CreateWallet), VOX_CLIENT_OP(TopUp), VOX_CLIENT_OP(Gift),
      VOX_CLIENT_OP(Reserve), VOX_CLIENT_OP(PostReservation), VOX_CLIENT_OP(VoidReservation),
      VOX_CLIENT_OP(Reverse), VOX_CLIENT_OP(SetFee), VOX_CLIENT_OP(CreatePremiumFeature),
      VOX_CLIENT_OP(PurchasePremium), VOX_CLIENT_OP(RefundPurchase),
      VOX_CLIENT_OP(CancelSubscription), VOX_CLIENT_OP(GetWalletBalance),
      VOX_CLIENT_OP(GetSystemWalletBalance), VOX_CLIENT_OP(AuditAllWallets),
      VOX_CLIENT_OP(WalletTransactions),
      // Notifications and system events.
      VOX_CLIENT_OP(SendNotification), VOX_CLIENT_OP(InviteToRoom), VOX_CLIENT_OP(RecordMissedCall),
      VOX_CLIENT_OP(MarkNotificationRead), VOX_CLIENT_OP(MarkAllRead),
      VOX_CLIENT_OP(DeleteNotification), VOX_CLIENT_OP(ListNotifications),
      VOX_CLIENT_OP(RecordSystemEvent),
      // Reads.
      VOX_CLIENT_OP(UserByEmail), VOX_CLIENT_OP(UserByUsername), VOX_CLIENT_OP(PresentParticipants),
      VOX_CLIENT_OP(UserPresentRooms), VOX_CLIENT_OP(RoomAuditTrail), VOX_CLIENT_OP(UserAuditTrail),
      VOX_CLIENT_OP(RoomStatistics), VOX_CLIENT_OP(LiveRoomsByTag), VOX_CLIENT_OP(FindTag),
      VOX_CLIENT_OP(IsBanned), VOX_CLIENT_OP(GetRow),
      // Generic writes and administration.
      VOX_CLIENT_OP(InsertRow), VOX_CLIENT_OP(UpdateRow), VOX_CLIENT_OP(DeleteRow),
      VOX_CLIENT_OP(RunMaintenance), VOX_CLIENT_OP(Stats), VOX_CLIENT_OP(Checkpoint),
      VOX_CLIENT_OP(ListSnapshots), VOX_CLIENT_OP(ApplyMigration), VOX_CLIENT_OP(GetSchema),
      // Reports (tests/integration/reports_test.cc tests them in depth).
      VOX_CLIENT_OP(IdentityReport), VOX_CLIENT_OP(RoomReport), VOX_CLIENT_OP(CallReport),
      VOX_CLIENT_OP(EngagementReport), VOX_CLIENT_OP(ModerationReport),
      VOX_CLIENT_OP(EconomyReport), VOX_CLIENT_OP(SystemEventReport), VOX_CLIENT_OP(AuditCount),
      // Searches and tracking (tests/integration/search_test.cc tests them in depth).
      VOX_CLIENT_OP(SearchUsers), VOX_CLIENT_OP(SearchRooms), VOX_CLIENT_OP(SearchCallSessions),
      VOX_CLIENT_OP(SearchParticipants), VOX_CLIENT_OP(SearchModeration),
      VOX_CLIENT_OP(SearchAudit), VOX_CLIENT_OP(SearchTransfers),
      VOX_CLIENT_OP(SearchNotifications), VOX_CLIENT_OP(HandRaiseQueue),
      // Change streams (tests/integration/subscription_test.cc tests them).
      VOX_CLIENT_OP(Subscribe), VOX_CLIENT_OP(Unsubscribe)};
  return ops;
}
#undef VOX_CLIENT_OP

// The operation types that succeeded through a test's Ok() in this process.
std::set<uint8_t>& Succeeded() {
  static std::set<uint8_t> types;
  return types;
}

Timestamp Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
constexpr Timestamp kSecond = 1'000'000;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}
// `"column":value` in a JSON row; `value` as JSON (quoted strings).
std::string Col(const std::string& column, const std::string& value) {
  return StrCat("\"", column, "\":", value);
}
std::string Quoted(const std::string& s) { return StrCat("\"", s, "\""); }
std::string Quoted(const Uuid& id) { return Quoted(FormatUuid(id)); }

// A server, an admin client, and the users and live room most tests share:
// the host's room "live-room" (tag "music"), the guest in it, and a third
// user who is not.
class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start(std::vector<std::string> flags = {}) {
    flags.push_back("--maintenance_interval_s=0");  // time-based work only when asked
    server_ = std::make_unique<ServerProcess>(dir_.path() + "/db", flags);
    ASSERT_NE(server_->port(), 0);
    client_ = server_->Connect();
    ASSERT_NE(client_, nullptr);
    host_ = Ok(rpc::RegisterUser{"hostess", "hostess@example.com", "h", "Hostess"}).user_id;
    guest_ = Ok(rpc::RegisterUser{"guest", "guest@example.com", "h", "Guest"}).user_id;
    third_ = Ok(rpc::RegisterUser{"third", "third@example.com", "h", "Third"}).user_id;
    const rpc::OpenedRoom room = Ok(rpc::CreateAndOpenRoom{
        .owner_id = host_, .title = "Live", .room_code = "live-room", .tags = {"music"}});
    room_ = room.room_id;
    host_participant_ = room.host_participant_id;
    guest_participant_ = Ok(rpc::JoinRoom{room_, guest_}).participant_id;
  }

  // Runs `op`, expecting success; its answer (a default one on failure).
  template <typename Op>
  typename Op::Result Ok(const Op& op, Client* client = nullptr) {
    auto r = (client != nullptr ? client : client_.get())->Call(op);
    if constexpr (std::is_void_v<typename Op::Result>) {
      EXPECT_TRUE(r.ok()) << OpName<Op>() << ": " << r;
      if (r.ok()) Succeeded().insert(OpType<Op>());
    } else {
      EXPECT_TRUE(r.ok()) << OpName<Op>() << ": " << r.status();
      if (!r.ok()) return typename Op::Result{};
      Succeeded().insert(OpType<Op>());
      return *std::move(r);
    }
  }
  // Runs `op`, expecting a refusal; its code.
  template <typename Op>
  StatusCode Code(const Op& op, Client* client = nullptr) {
    auto r = (client != nullptr ? client : client_.get())->Call(op);
    if constexpr (std::is_void_v<typename Op::Result>) {
      return r.code();
    } else {
      return r.status().code();
    }
  }
  template <typename Op>
  static const char* OpName() {
    return wire::EnumNameOp(static_cast<wire::Op>(OpType<Op>()));
  }

  std::string Row(const std::string& table, const Uuid& id) { return Ok(rpc::GetRow{table, id}); }
  std::vector<rpc::PresentParticipant> Present() { return Ok(rpc::PresentParticipants{room_}); }
  const rpc::PresentParticipant* Find(const std::vector<rpc::PresentParticipant>& present,
                                      const Uuid& user) {
    for (const auto& p : present) {
      if (p.user_id == user) return &p;
    }
    return nullptr;
  }

  testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
  Uuid host_, guest_, third_, room_, host_participant_, guest_participant_;
};

// ---- The client covers the protocol ----

// Each union Op member (but Hello, ScramProof and Batch, which Client sends
// itself) has an rpc struct, and each struct encodes its own op.
TEST(ClientOpsTest, EveryProtocolOperationHasAClientCall) {
  std::map<uint8_t, std::string> structs;
  for (const ClientOp& op : ClientOps()) {
    EXPECT_STREQ(wire::EnumNameOp(static_cast<wire::Op>(op.type)), op.name)
        << "rpc::" << op.name << " encodes another operation";
    EXPECT_TRUE(structs.emplace(op.type, op.name).second) << op.name << " listed twice";
  }
  for (const wire::Op op : wire::EnumValuesOp()) {
    if (op == wire::Op::NONE || op == wire::Op::Hello || op == wire::Op::Batch ||
        op == wire::Op::ScramProof) {
      continue;
    }
    EXPECT_TRUE(structs.contains(static_cast<uint8_t>(op)))
        << "union Op member " << wire::EnumNameOp(op) << " has no struct in net/rpc.h";
  }
  EXPECT_EQ(structs.size(), std::size(wire::EnumValuesOp()) - 4);  // NONE, Hello, Batch, ScramProof
}

// ---- Identity ----

TEST_F(OpsTest, Identity) {
  // Registration with the optional profile fields.
  const rpc::Registered pat =
      Ok(rpc::RegisterUser{"pat", "pat@example.com", "hash", "Pat", "plays bass",
                           "https://img.example.com/p.png", "fr-FR", "FR", "Europe/Paris"});
  std::string row = Row("users", pat.user_id);
  EXPECT_TRUE(Has(row, Col("bio", Quoted("plays bass")))) << row;
  EXPECT_TRUE(Has(row, Col("avatar_url", Quoted("https://img.example.com/p.png")))) << row;
  EXPECT_TRUE(Has(row, Col("locale", Quoted("fr-FR")))) << row;
  EXPECT_TRUE(Has(row, Col("country", Quoted("FR")))) << row;
  EXPECT_TRUE(Has(row, Col("timezone", Quoted("Europe/Paris")))) << row;
  EXPECT_FALSE(Has(row, "password_hash"));  // secrets never sent
  EXPECT_TRUE(Has(Row("wallets", pat.wallet_id), Col("currency", Quoted("COIN"))));
  EXPECT_EQ(Code(rpc::RegisterUser{"PAT", "other@example.com", "h", "P"}),
            StatusCode::kAlreadyExists);

  // Sign-ins, recorded.
  rpc::LoginResult login = Ok(rpc::RecordLogin{
      .user_id = pat.user_id, .identifier = "pat@example.com", .credentials_ok = true});
  EXPECT_EQ(login.outcome, "SUCCEEDED");
  EXPECT_EQ(login.account_status, "ACTIVE");
  EXPECT_FALSE(Has(Row("users", pat.user_id), Col("last_login_at", "null")));
  login = Ok(rpc::RecordLogin{.user_id = pat.user_id,
                              .identifier = "pat",
                              .credentials_ok = false,
                              .failure_reason = "bad_password"});
  EXPECT_EQ(login.outcome, "BAD_CREDENTIALS");
  EXPECT_TRUE(Has(Row("users", pat.user_id), Col("failed_login_count", "1")));
  EXPECT_EQ(Ok(rpc::RecordLogin{.identifier = "nobody"}).outcome, "UNKNOWN_USER");
  Ok(rpc::Logout{pat.user_id});
  const rpc::Rows trail = Ok(rpc::UserAuditTrail{.user_id = pat.user_id, .limit = 1});
  ASSERT_EQ(trail.rows.size(), 1u);
  EXPECT_TRUE(Has(trail.rows[0], Col("action", Quoted("USER_LOGOUT")))) << trail.rows[0];
  ASSERT_TRUE(trail.next.has_value());
  const rpc::Rows rest = Ok(rpc::UserAuditTrail{.user_id = pat.user_id, .after = trail.next});
  ASSERT_EQ(rest.rows.size(), 3u);  // the failed and the good sign-in, the registration
  EXPECT_TRUE(Has(rest.rows[0], Col("action", Quoted("USER_LOGIN_FAILED")))) << rest.rows[0];
  EXPECT_TRUE(Has(rest.rows[2], Col("action", Quoted("USER_REGISTERED")))) << rest.rows[2];
  EXPECT_FALSE(rest.next.has_value());

  // Profile: given fields change, an empty one clears, absent ones stay.
  Ok(rpc::UpdateProfile{.user_id = pat.user_id, .username = "patrick", .bio = "plays drums"});
  row = Ok(rpc::UserByUsername{"patrick"});
  EXPECT_TRUE(Has(row, Col("bio", Quoted("plays drums")))) << row;
  EXPECT_TRUE(Has(row, Col("country", Quoted("FR")))) << row;
  Ok(rpc::UpdateProfile{.user_id = pat.user_id, .bio = ""});
  EXPECT_TRUE(Has(Row("users", pat.user_id), Col("bio", "null")));
  EXPECT_EQ(Code(rpc::UpdateProfile{.user_id = pat.user_id}), StatusCode::kInvalidArgument);
  Ok(rpc::UpdateProfile{.user_id = pat.user_id, .email = "patrick@example.com"});
  row = Ok(rpc::UserByEmail{"patrick@example.com"});
  EXPECT_TRUE(Has(row, Col("is_verified", "false"))) << row;
  Ok(rpc::VerifyEmail{pat.user_id});
  EXPECT_TRUE(Has(Row("users", pat.user_id), Col("is_verified", "true")));

  // Another sign-in method, used, then unlinked.
  const Uuid github = Ok(rpc::LinkAuthProvider{.user_id = pat.user_id,
                                               .provider = "GITHUB",
                                               .provider_id = "gh-4242",
                                               .provider_email = "pat@users.github.com",
                                               .access_token = "secret-token",
                                               .token_expires_at = Now() + 3600 * kSecond});
  row = Row("auth_providers", github);
  EXPECT_TRUE(Has(row, Col("provider_type", Quoted("GITHUB")))) << row;
  EXPECT_FALSE(Has(row, "secret-token"));
  EXPECT_EQ(Code(rpc::LinkAuthProvider{
                .user_id = guest_, .provider = "GITHUB", .provider_id = "gh-4242"}),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(Ok(rpc::RecordLogin{.user_id = pat.user_id,
                                .identifier = "gh-4242",
                                .provider = "GITHUB",
                                .credentials_ok = true})
                .outcome,
            "SUCCEEDED");
  Ok(rpc::UnlinkAuthProvider{pat.user_id, github});
  EXPECT_EQ(Code(rpc::GetRow{"auth_providers", github}), StatusCode::kNotFound);
  EXPECT_EQ(Code(rpc::UnlinkAuthProvider{pat.user_id, pat.auth_provider_id}),
            StatusCode::kFailedPrecondition);  // the last sign-in method

  // Platform roles need a platform rank (see PlatformRolesTest for the rest).
  EXPECT_EQ(Code(rpc::SetUserRole{guest_, pat.user_id, "MODERATOR"}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(
      Code(rpc::SetAccountStatus{
          .actor_id = guest_, .user_id = pat.user_id, .status = "SUSPENDED", .reason = "spam"}),
      StatusCode::kPermissionDenied);

  // The seed's soft delete, by the user.
  EXPECT_EQ(Code(rpc::DeleteUser{guest_, pat.user_id}), StatusCode::kPermissionDenied);
  Ok(rpc::DeleteUser{pat.user_id, pat.user_id});
  row = Row("users", pat.user_id);
  EXPECT_FALSE(Has(row, Col("deleted_at", "null"))) << row;
  EXPECT_TRUE(Has(row, Col("display_name", Quoted("Deleted User")))) << row;
  EXPECT_EQ(Code(rpc::UserByEmail{"patrick@example.com"}), StatusCode::kNotFound);
}

// ---- Rooms and participants ----

TEST_F(OpsTest, RoomLifecycle) {
  // A room created for later, with settings.
  const Timestamp start = Now() + 3600 * kSecond;
  const rpc::CreatedRoom later =
      Ok(rpc::CreateRoom{.owner_id = host_,
                         .title = "Later",
                         .room_code = "later-room",
                         .settings = {.description = "jam session",
                                      .language = "en",
                                      .scheduled_start = start,
                                      .scheduled_end = start + 3600 * kSecond,
                                      .max_participants = 20,
                                      .invite_only = true,
                                      .tags = std::vector<std::string>{"jazz", "late"}}});
  EXPECT_EQ(later.room_code, "later-room");
  std::string row = Row("rooms", later.room_id);
  EXPECT_TRUE(Has(row, Col("status", Quoted("CREATED")))) << row;
  EXPECT_TRUE(Has(row, Col("description", Quoted("jam session")))) << row;
  EXPECT_TRUE(Has(row, Col("max_participants", "20"))) << row;
  EXPECT_TRUE(Has(row, Col("invite_only", "true"))) << row;
  EXPECT_TRUE(Has(row, Col("tags", R"(["jazz","late"])"))) << row;
  EXPECT_TRUE(Has(Ok(rpc::FindTag{"jazz"}), Col("name", Quoted("jazz"))));

  // Settings: given fields change, an empty description and tags clear.
  Ok(rpc::UpdateRoomSettings{.room_id = later.room_id,
                             .actor_id = host_,
                             .settings = {.title = "Later still",
                                          .description = "",
                                          .is_public = false,
                                          .tags = std::vector<std::string>{}}});
  row = Row("rooms", later.room_id);
  EXPECT_TRUE(Has(row, Col("title", Quoted("Later still")))) << row;
  EXPECT_TRUE(Has(row, Col("description", "null"))) << row;
  EXPECT_TRUE(Has(row, Col("is_public", "false"))) << row;
  EXPECT_TRUE(Has(row, Col("tags", "[]"))) << row;
  EXPECT_TRUE(Has(row, Col("language", Quoted("en")))) << row;  // not given: unchanged
  EXPECT_EQ(Code(rpc::UpdateRoomSettings{
                .room_id = later.room_id, .actor_id = guest_, .settings = {.title = "Mine now"}}),
            StatusCode::kPermissionDenied);

  Ok(rpc::CancelRoom{later.room_id, host_});
  EXPECT_TRUE(Has(Row("rooms", later.room_id), Col("status", Quoted("CANCELLED"))));
  EXPECT_EQ(Code(rpc::JoinRoom{later.room_id, guest_}), StatusCode::kFailedPrecondition);

  const rpc::CreatedRoom doomed = Ok(rpc::CreateRoom{.owner_id = host_, .title = "Doomed"});
  EXPECT_FALSE(doomed.room_code.empty());  // generated
  Ok(rpc::DeleteRoom{doomed.room_id, host_});
  EXPECT_FALSE(Has(Row("rooms", doomed.room_id), Col("deleted_at", "null")));

  // Settings given to CreateAndOpenRoom override the fields before them.
  const rpc::OpenedRoom second =
      Ok(rpc::CreateAndOpenRoom{.owner_id = third_,
                                .title = "Second",
                                .max_participants = 10,
                                .tags = {"music"},
                                .settings = {.max_participants = 30, .mute_on_join = true}});
  EXPECT_TRUE(Has(Row("rooms", second.room_id), Col("max_participants", "30")));
  EXPECT_TRUE(Ok(rpc::JoinRoom{second.room_id, guest_}).muted);

  // Live rooms by tag, newest started first, a page at a time.
  rpc::Rows live = Ok(rpc::LiveRoomsByTag{.tag = "music", .limit = 1});
  ASSERT_EQ(live.rows.size(), 1u);
  EXPECT_TRUE(Has(live.rows[0], Col("id", Quoted(second.room_id)))) << live.rows[0];
  ASSERT_TRUE(live.next.has_value());
  live = Ok(rpc::LiveRoomsByTag{.tag = "music", .limit = 1, .after = live.next});
  ASSERT_EQ(live.rows.size(), 1u);
  EXPECT_TRUE(Has(live.rows[0], Col("id", Quoted(room_)))) << live.rows[0];
  if (live.next) {
    EXPECT_TRUE(Ok(rpc::LiveRoomsByTag{.tag = "music", .after = live.next}).rows.empty());
  }

  // The live room ended.
  EXPECT_EQ(Code(rpc::EndRoom{room_, guest_}), StatusCode::kPermissionDenied);
  Ok(rpc::EndRoom{room_, host_});
  EXPECT_TRUE(Has(Row("rooms", room_), Col("status", Quoted("ENDED"))));
  EXPECT_TRUE(Ok(rpc::PresentParticipants{room_}).empty());
  live = Ok(rpc::LiveRoomsByTag{.tag = "music"});
  ASSERT_EQ(live.rows.size(), 1u);
  EXPECT_TRUE(Has(live.rows[0], Col("id", Quoted(second.room_id)))) << live.rows[0];
  EXPECT_EQ(Code(rpc::LiveRoomsByTag{.tag = "music", .limit = 0}), StatusCode::kInvalidArgument);
}

TEST_F(OpsTest, Participants) {
  const Uuid third_participant = Ok(rpc::JoinRoom{room_, third_}).participant_id;
  EXPECT_EQ(Code(rpc::JoinRoom{room_, third_}), StatusCode::kAlreadyExists);

  // The most important refusal: a listener muting the host.
  EXPECT_EQ(Code(rpc::SetMuted{room_, third_, host_, true}), StatusCode::kPermissionDenied);

  // A host mute with an expiry; the muted user cannot unmute themselves.
  Ok(rpc::SetMuted{.room_id = room_,
                   .actor_id = host_,
                   .target_id = guest_,
                   .muted = true,
                   .expires_at = Now() + 3600 * kSecond});
  EXPECT_TRUE(Find(Present(), guest_)->muted);
  EXPECT_FALSE(Has(Row("room_participants", guest_participant_), Col("mute_expires_at", "null")));
  EXPECT_EQ(Code(rpc::SetMuted{room_, guest_, guest_, false}), StatusCode::kPermissionDenied);
  Ok(rpc::SetMuted{room_, host_, guest_, false});
  EXPECT_FALSE(Find(Present(), guest_)->muted);

  // The guest's own live state.
  Ok(rpc::SetHandRaised{room_, guest_, guest_, true});
  Ok(rpc::SetSpeaking{room_, guest_, true});
  auto present = Present();
  EXPECT_TRUE(Find(present, guest_)->hand_raised);
  EXPECT_TRUE(Find(present, guest_)->speaking);
  Ok(rpc::SetScreenSharing{room_, guest_, true});
  Ok(rpc::SetConnectionStatus{room_, guest_, "RECONNECTING"});
  std::string row = Row("room_participants", guest_participant_);
  EXPECT_TRUE(Has(row, Col("is_screen_sharing", "true"))) << row;
  EXPECT_TRUE(Has(row, Col("connection_status", Quoted("RECONNECTING")))) << row;
  EXPECT_EQ(Code(rpc::SetConnectionStatus{room_, guest_, "ASLEEP"}), StatusCode::kInvalidArgument);

  // Roles, then the co-host's and the host's authority.
  Ok(rpc::ChangeParticipantRole{room_, host_, guest_, "CO_HOST"});
  EXPECT_EQ(Find(Present(), guest_)->role, "CO_HOST");
  EXPECT_EQ(Code(rpc::ChangeParticipantRole{room_, guest_, host_, "PARTICIPANT"}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Ok(rpc::MuteAll{room_, host_}), 2);  // the co-host and the third
  present = Present();
  EXPECT_TRUE(Find(present, guest_)->muted);
  EXPECT_TRUE(Find(present, third_)->muted);
  EXPECT_FALSE(Find(present, host_)->muted);

  // Kick, ban, unban.
  Ok(rpc::KickParticipant{room_, guest_, third_, "heckling"});
  EXPECT_EQ(Find(Present(), third_), nullptr);
  EXPECT_TRUE(Has(Row("room_participants", third_participant), Col("is_kicked", "true")));
  Ok(rpc::BanFromRoom{.room_id = room_, .actor_id = host_, .target_id = third_, .reason = "again"});
  EXPECT_TRUE(Ok(rpc::IsBanned{room_, third_}));
  EXPECT_EQ(Code(rpc::JoinRoom{room_, third_}), StatusCode::kPermissionDenied);
  Ok(rpc::UnbanFromRoom{room_, host_, third_});
  EXPECT_FALSE(Ok(rpc::IsBanned{room_, third_}));
  EXPECT_EQ(Code(rpc::UnbanFromRoom{room_, host_, third_}), StatusCode::kNotFound);

  // Where the guest is, the room's numbers, and leaving.
  const rpc::Rows rooms = Ok(rpc::UserPresentRooms{guest_});
  ASSERT_EQ(rooms.rows.size(), 1u);
  EXPECT_TRUE(Has(rooms.rows[0], Col("room_id", Quoted(room_)))) << rooms.rows[0];
  rpc::RoomStats stats = Ok(rpc::RoomStatistics{room_});
  EXPECT_EQ(stats.participations, 3);
  EXPECT_EQ(stats.present, 2);
  Ok(rpc::LeaveRoom{room_, guest_});
  EXPECT_EQ(Find(Present(), guest_), nullptr);
  EXPECT_TRUE(Ok(rpc::UserPresentRooms{guest_}).rows.empty());
  EXPECT_EQ(Ok(rpc::RoomStatistics{room_}).present, 1);
  EXPECT_EQ(Code(rpc::LeaveRoom{room_, guest_}), StatusCode::kFailedPrecondition);

  // The room's audit trail saw it all, newest first; pages add up to it.
  const rpc::Rows trail = Ok(rpc::RoomAuditTrail{.room_id = room_, .limit = 1000});
  ASSERT_GE(trail.rows.size(), 10u);
  EXPECT_FALSE(trail.next.has_value());
  EXPECT_TRUE(Has(trail.rows[0], Col("action", Quoted("USER_LEFT")))) << trail.rows[0];
  EXPECT_TRUE(Has(trail.rows.back(), Col("action", Quoted("ROOM_CREATED")))) << trail.rows.back();
  std::vector<std::string> paged;
  std::optional<Uuid> after;
  for (int page = 0; page < 100; ++page) {
    const rpc::Rows rows = Ok(rpc::RoomAuditTrail{.room_id = room_, .limit = 3, .after = after});
    paged.insert(paged.end(), rows.rows.begin(), rows.rows.end());
    if (!rows.next) break;
    after = rows.next;
  }
  EXPECT_EQ(paged, trail.rows);
}

// ---- Moderation ----

TEST_F(OpsTest, ModerationByTheHost) {
  // A host may mute, kick or ban in their room, and needs to outrank the target.
  const Uuid mute = Ok(rpc::TakeModerationAction{.moderator_id = host_,
                                                 .target_user_id = guest_,
                                                 .type = "MUTE",
                                                 .room_id = room_,
                                                 .reason = "noise",
                                                 .expires_at = Now() + 3600 * kSecond});
  EXPECT_TRUE(Find(Present(), guest_)->muted);
  const std::string row = Row("moderation_actions", mute);
  EXPECT_TRUE(Has(row, Col("action_type", Quoted("MUTE")))) << row;
  EXPECT_TRUE(Has(row, Col("room_id", Quoted(room_)))) << row;
  EXPECT_EQ(Code(rpc::TakeModerationAction{.moderator_id = guest_,
                                           .target_user_id = host_,
                                           .type = "KICK",
                                           .room_id = room_,
                                           .reason = "revenge"}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(rpc::TakeModerationAction{.moderator_id = host_,
                                           .target_user_id = guest_,
                                           .type = "SUSPENSION",
                                           .reason = "platform-wide"}),
            StatusCode::kPermissionDenied);  // hosts act in their room only
  // Revoking takes a platform moderator.
  EXPECT_EQ(Code(rpc::RevokeModerationAction{mute, host_, "sorry"}), StatusCode::kPermissionDenied);
  Ok(rpc::TakeModerationAction{.moderator_id = host_,
                               .target_user_id = guest_,
                               .type = "KICK",
                               .room_id = room_,
                               .reason = "out"});
  EXPECT_EQ(Find(Present(), guest_), nullptr);
}

// A platform admin comes from the demo data set (SF 0.01: a few ADMINs among
// user0..user9999): no operation makes the first one (SetUserRole needs an
// ADMIN actor; users.role is not a column UpdateRow may set).
class PlatformRolesTest : public OpsTest {
 protected:
  void SetUp() override {
    Start({"--demo_scale=0.01"});
    if (HasFatalFailure()) return;
    std::vector<Future<std::string>> users;
    for (int i = 0; i < 10000; ++i) {
      users.push_back(client_->Send(rpc::UserByUsername{StrCat("user", i)}));
    }
    for (auto& f : users) {
      auto row = f.Get();
      if (admin_.IsNil() && row.ok() && Has(*row, Col("role", Quoted("ADMIN"))) &&
          Has(*row, Col("account_status", Quoted("ACTIVE"))) &&
          Has(*row, Col("deleted_at", "null"))) {
        const size_t at = row->find(Col("id", "\"")) + 6;
        admin_ = ParseUuid(row->substr(at, 36)).value_or(Uuid{});
      }
    }
    ASSERT_FALSE(admin_.IsNil()) << "no active ADMIN in the demo data";
  }
  Uuid admin_;
};

TEST_F(PlatformRolesTest, AdminsAndModerators) {
  const Uuid mod = Ok(rpc::RegisterUser{"mod", "mod@example.com", "h", "Mod"}).user_id;
  Ok(rpc::SetUserRole{admin_, mod, "MODERATOR"});
  EXPECT_TRUE(Has(Row("users", mod), Col("role", Quoted("MODERATOR"))));
  EXPECT_EQ(Code(rpc::SetUserRole{mod, guest_, "MODERATOR"}), StatusCode::kPermissionDenied);

  // Account status (an admin's): a suspension keeps the user out, then is
  // lifted. A moderator suspends through a moderation action instead.
  EXPECT_EQ(Code(rpc::SetAccountStatus{.actor_id = mod, .user_id = guest_, .status = "SUSPENDED"}),
            StatusCode::kPermissionDenied);
  Ok(rpc::SetAccountStatus{.actor_id = admin_,
                           .user_id = guest_,
                           .status = "SUSPENDED",
                           .reason = "spam",
                           .until = Now() + 3600 * kSecond});
  EXPECT_TRUE(Has(Row("users", guest_), Col("account_status", Quoted("SUSPENDED"))));
  EXPECT_EQ(Find(Present(), guest_), nullptr);  // suspended users leave their rooms
  EXPECT_EQ(Ok(rpc::RecordLogin{.user_id = guest_, .credentials_ok = true}).outcome,
            "ACCOUNT_NOT_ACTIVE");
  Ok(rpc::SetAccountStatus{
      .actor_id = admin_, .user_id = guest_, .status = "ACTIVE", .reason = "appeal"});
  EXPECT_EQ(Ok(rpc::RecordLogin{.user_id = guest_, .credentials_ok = true}).outcome, "SUCCEEDED");
  EXPECT_EQ(Code(rpc::SetAccountStatus{.actor_id = mod, .user_id = admin_, .status = "BANNED"}),
            StatusCode::kPermissionDenied);

  // Platform moderation: a warning notifies; a suspension is revoked.
  Ok(rpc::TakeModerationAction{
      .moderator_id = mod, .target_user_id = third_, .type = "WARNING", .reason = "language"});
  const auto notes = Ok(rpc::ListNotifications{.recipient_id = third_});
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, "MODERATION_NOTICE");
  const Uuid suspension = Ok(rpc::TakeModerationAction{
      .moderator_id = mod, .target_user_id = third_, .type = "SUSPENSION", .reason = "spam"});
  EXPECT_TRUE(Has(Row("users", third_), Col("account_status", Quoted("SUSPENDED"))));
  Ok(rpc::RevokeModerationAction{suspension, mod, "mistaken identity"});
  EXPECT_TRUE(Has(Row("users", third_), Col("account_status", Quoted("ACTIVE"))));
  EXPECT_FALSE(Has(Row("moderation_actions", suspension), Col("revoked_at", "null")));
  EXPECT_EQ(Code(rpc::RevokeModerationAction{suspension, mod, "twice"}),
            StatusCode::kFailedPrecondition);

  // An admin deletes another user.
  Ok(rpc::DeleteUser{admin_, third_});
  EXPECT_TRUE(Has(Row("users", third_), Col("account_status", Quoted("DELETED"))));
}

// ---- Recordings and call sessions ----

TEST_F(OpsTest, Recordings) {
  EXPECT_EQ(Code(rpc::StartRecording{.room_id = room_, .actor_id = guest_, .storage_key = "k"}),
            StatusCode::kPermissionDenied);
  const Uuid rec = Ok(rpc::StartRecording{.room_id = room_,
                                          .actor_id = host_,
                                          .storage_key = "rooms/live/1.webm",
                                          .storage_bucket = "recordings",
                                          .filename = "1.webm",
                                          .codec = "opus",
                                          .bitrate = 64000});
  auto status = [&](const Uuid& id) {
    const std::string row = Row("recordings", id);
    const size_t at = row.find(Col("status", "\""));
    return at == std::string::npos ? row : row.substr(at + 10, row.find('"', at + 10) - at - 10);
  };
  EXPECT_EQ(status(rec), "STARTED");
  EXPECT_TRUE(Has(Row("recordings", rec), Col("bitrate", "64000")));
  EXPECT_TRUE(Has(Row("recordings", rec), Col("fps", "null")));
  Ok(rpc::MarkRecordingInProgress{rec});
  EXPECT_EQ(status(rec), "IN_PROGRESS");
  EXPECT_EQ(Code(rpc::DeleteRecording{rec, host_}), StatusCode::kFailedPrecondition);
  Ok(rpc::StopRecording{
      .recording_id = rec, .actor_id = host_, .size_bytes = 1 << 20, .duration_seconds = 60});
  EXPECT_EQ(status(rec), "STOPPED");
  EXPECT_TRUE(Has(Row("recordings", rec), Col("size_bytes", "1048576")));
  EXPECT_EQ(Code(rpc::StopRecording{.recording_id = rec, .actor_id = host_}),
            StatusCode::kFailedPrecondition);
  Ok(rpc::BeginProcessing{rec});
  EXPECT_EQ(status(rec), "PROCESSING");
  Ok(rpc::RecordingReady{.recording_id = rec, .storage_url = "https://cdn.example.com/1.webm"});
  EXPECT_EQ(status(rec), "READY");
  EXPECT_TRUE(
      Has(Row("recordings", rec), Col("storage_url", Quoted("https://cdn.example.com/1.webm"))));
  Ok(rpc::DeleteRecording{rec, host_});
  EXPECT_FALSE(Has(Row("recordings", rec), Col("deleted_at", "null")));

  const Uuid broken =
      Ok(rpc::StartRecording{.room_id = room_, .actor_id = host_, .storage_key = "2.webm"});
  Ok(rpc::FailRecording{broken, "encoder crashed"});
  EXPECT_EQ(status(broken), "FAILED");
  EXPECT_TRUE(Has(Row("recordings", broken), Col("error_message", Quoted("encoder crashed"))));
}

TEST_F(OpsTest, CallSessions) {
  // Connected, measured, ended.
  const Uuid call = Ok(rpc::StartCallSession{guest_participant_});
  rpc::CallSession s = Ok(rpc::GetCallSession{call});
  EXPECT_EQ(s.status, "CONNECTING");
  EXPECT_EQ(s.participant_id, guest_participant_);
  EXPECT_EQ(s.user_id, guest_);
  EXPECT_EQ(s.room_id, room_);
  EXPECT_FALSE(s.connected_at.has_value());
  Ok(rpc::ConnectCallSession{call, {.rtt_ms = 40, .region = "eu-west", .transport = "UDP"}});
  s = Ok(rpc::GetCallSession{call});
  EXPECT_EQ(s.status, "CONNECTED");
  EXPECT_TRUE(s.connected_at.has_value());
  EXPECT_EQ(s.rtt_ms, 40);
  EXPECT_EQ(s.region, "eu-west");
  EXPECT_EQ(s.transport, "UDP");
  EXPECT_FALSE(s.jitter_ms.has_value());
  Ok(rpc::ReportTelemetry{call, {.jitter_ms = 7, .packet_loss_bp = 25, .bitrate_kbps = 48}});
  s = Ok(rpc::GetCallSession{call});
  EXPECT_EQ(s.rtt_ms, 40);  // not given: unchanged
  EXPECT_EQ(s.jitter_ms, 7);
  EXPECT_EQ(s.packet_loss_bp, 25);
  EXPECT_EQ(s.bitrate_kbps, 48);
  EXPECT_EQ(Code(rpc::ReportTelemetry{call, {.packet_loss_bp = 20000}}),
            StatusCode::kInvalidArgument);
  Ok(rpc::EndCallSession{call});
  s = Ok(rpc::GetCallSession{call});
  EXPECT_EQ(s.status, "ENDED");
  EXPECT_TRUE(s.ended_at.has_value());
  EXPECT_EQ(Code(rpc::EndCallSession{call}), StatusCode::kFailedPrecondition);

  // Never connected.
  const Uuid failed = Ok(rpc::StartCallSession{guest_participant_});
  Ok(rpc::FailCallSession{failed, "ICE_FAILED", "no candidate pair"});
  s = Ok(rpc::GetCallSession{failed});
  EXPECT_EQ(s.status, "FAILED");
  EXPECT_EQ(s.failure_reason, "ICE_FAILED");
  EXPECT_EQ(s.failure_detail, "no candidate pair");

  // Connected, then lost.
  const Uuid dropped = Ok(rpc::StartCallSession{host_participant_});
  Ok(rpc::ConnectCallSession{dropped});
  EXPECT_EQ(Code(rpc::FailCallSession{dropped, "TIMEOUT"}), StatusCode::kFailedPrecondition);
  Ok(rpc::DropCallSession{dropped, "NETWORK_CHANGED", "wifi to 4g"});
  s = Ok(rpc::GetCallSession{dropped});
  EXPECT_EQ(s.status, "DROPPED");
  EXPECT_EQ(s.failure_reason, "NETWORK_CHANGED");
  EXPECT_EQ(Code(rpc::GetCallSession{Uuid{1, 2}}), StatusCode::kNotFound);
}

// ---- Wallets, transfers, premium ----

TEST_F(OpsTest, Ledger) {
  auto balance = [&](const Uuid& user, const std::string& currency = "") {
    return Ok(rpc::GetWalletBalance{user, currency});
  };
  const rpc::Transfer topup = Ok(rpc::TopUp{
      .user_id = guest_, .amount = 1000, .idempotency_key = "topup-1", .memo = "welcome bonus"});
  EXPECT_EQ(balance(guest_).balance, 1000);

  // Gifts pay a fee once one is set.
  const rpc::Transfer free_gift =
      Ok(rpc::Gift{.sender_id = guest_, .receiver_id = host_, .amount = 10});
  EXPECT_FALSE(free_gift.fee_transfer_id.has_value());
  EXPECT_EQ(free_gift.fee, 0);
  Ok(rpc::Gift{.sender_id = host_, .receiver_id = guest_, .amount = 10});
  Ok(rpc::SetFee{
      .transfer_type = "GIFT", .fee_bps = 1000, .min_fee = 1, .effective_from = Now() - kSecond});
  const rpc::Transfer gift = Ok(rpc::Gift{.sender_id = guest_,
                                          .receiver_id = host_,
                                          .amount = 100,
                                          .room_id = room_,
                                          .idempotency_key = "gift-1"});
  EXPECT_EQ(gift.fee, 10);
  ASSERT_TRUE(gift.fee_transfer_id.has_value());
  EXPECT_EQ(balance(guest_).balance, 900);
  EXPECT_EQ(balance(host_).balance, 90);
  // The most important refusal: a gift beyond the balance.
  EXPECT_EQ(Code(rpc::Gift{.sender_id = guest_, .receiver_id = host_, .amount = 5000}),
            StatusCode::kFailedPrecondition);

  // Call billing: a hold, posted for less; another, voided.
  const rpc::Transfer hold = Ok(rpc::Reserve{
      .payer_id = guest_, .amount = 200, .timeout_at = Now() + 60 * kSecond, .room_id = room_});
  rpc::WalletBalance b = balance(guest_);
  EXPECT_EQ(b.pending_debits, 200);
  EXPECT_EQ(b.available, 700);
  Ok(rpc::PostReservation{hold.transfer_id, 150});
  b = balance(guest_);
  EXPECT_EQ(b.pending_debits, 0);
  EXPECT_EQ(b.posted_debits, 10 + 100 + 150);  // the gifts and the call
  EXPECT_EQ(b.posted_credits, 1000 + 10);
  EXPECT_EQ(b.balance, 750);
  EXPECT_TRUE(b.ledger_consistent);
  EXPECT_EQ(Code(rpc::PostReservation{hold.transfer_id, 150}), StatusCode::kFailedPrecondition);
  const rpc::Transfer voided =
      Ok(rpc::Reserve{.payer_id = guest_, .amount = 50, .timeout_at = Now() + 60 * kSecond});
  Ok(rpc::VoidReservation{voided.transfer_id});
  b = balance(guest_);
  EXPECT_EQ(b.pending_debits, 0);
  EXPECT_EQ(b.available, 750);

  // A correction.
  const Uuid reversal = Ok(rpc::Reverse{gift.transfer_id, "sent by mistake"});
  EXPECT_EQ(balance(guest_).balance, 840);
  EXPECT_EQ(balance(host_).balance, 0);

  // Premium: a subscription, cancelled; a one-time purchase, refunded.
  Ok(rpc::CreatePremiumFeature{.code = "vip",
                               .name = "VIP",
                               .description = "a badge and priority",
                               .price = 100,
                               .kind = "SUBSCRIPTION",
                               .period_days = 30});
  const rpc::Purchase vip = Ok(rpc::PurchasePremium{guest_, "vip", "buy-vip"});
  EXPECT_TRUE(vip.expires_at.has_value());
  EXPECT_TRUE(Ok(rpc::PurchasePremium{guest_, "vip", "buy-vip"}).already_done);
  Ok(rpc::CancelSubscription{vip.purchase_id});
  EXPECT_TRUE(Has(Row("premium_purchases", vip.purchase_id), Col("status", Quoted("CANCELLED"))));
  Ok(rpc::CreatePremiumFeature{
      .code = "confetti", .name = "Confetti", .price = 40, .kind = "ONE_TIME"});
  const rpc::Purchase confetti =
      Ok(rpc::PurchasePremium{.user_id = guest_, .feature_code = "confetti"});
  EXPECT_FALSE(confetti.expires_at.has_value());
  Ok(rpc::RefundPurchase{confetti.purchase_id, "did not work"});
  EXPECT_TRUE(
      Has(Row("premium_purchases", confetti.purchase_id), Col("status", Quoted("REFUNDED"))));
  EXPECT_EQ(balance(guest_).balance, 740);

  // Other currencies.
  Ok(rpc::CreateWallet{guest_, "GEM"});
  Ok(rpc::CreateWallet{host_, "GEM"});
  EXPECT_EQ(Code(rpc::CreateWallet{guest_, "GEM"}), StatusCode::kAlreadyExists);
  Ok(rpc::TopUp{.user_id = guest_, .amount = 50, .currency = "GEM"});
  Ok(rpc::Gift{.sender_id = guest_, .receiver_id = host_, .amount = 20, .currency = "GEM"});
  EXPECT_EQ(balance(guest_, "GEM").balance, 30);
  EXPECT_EQ(balance(host_, "GEM").balance, 18);
  EXPECT_EQ(balance(guest_).balance, 740);

  // System wallets and the whole ledger.
  const rpc::WalletBalance revenue = Ok(rpc::GetSystemWalletBalance{.kind = "SYSTEM_REVENUE"});
  EXPECT_EQ(revenue.balance, 10 + 150 + 100);  // the fee, the call, the subscription
  EXPECT_TRUE(revenue.ledger_consistent);
  EXPECT_EQ(Ok(rpc::GetSystemWalletBalance{"SYSTEM_ISSUANCE", "GEM"}).balance, -50);
  EXPECT_EQ(Code(rpc::GetSystemWalletBalance{.kind = "USER"}), StatusCode::kInvalidArgument);
  const rpc::LedgerAudit audit = Ok(rpc::AuditAllWallets{});
  EXPECT_TRUE(audit.ok);
  EXPECT_TRUE(audit.balanced);
  EXPECT_TRUE(audit.mismatches.empty());
  EXPECT_TRUE(audit.overdrawn.empty());
  EXPECT_GE(audit.wallets, 7);
  EXPECT_GE(audit.transfers, 10);

  // The guest's statement, newest first, by pages.
  const rpc::TransferPage first = Ok(rpc::WalletTransactions{.user_id = guest_, .limit = 2});
  ASSERT_EQ(first.transfers.size(), 2u);
  ASSERT_TRUE(first.next.has_value());
  EXPECT_EQ(first.transfers[0].type, "REFUND");
  EXPECT_FALSE(first.transfers[0].outgoing);
  const rpc::TransferPage rest =
      Ok(rpc::WalletTransactions{.user_id = guest_, .after = first.next});
  EXPECT_FALSE(rest.next.has_value());
  std::map<std::string, int> types;
  const rpc::TransferView* first_topup = nullptr;
  const rpc::TransferView* reversed = nullptr;
  for (const auto& t : rest.transfers) {
    ++types[t.type];
    if (t.id == topup.transfer_id) first_topup = &t;
    if (t.id == reversal) reversed = &t;
  }
  EXPECT_EQ(types["GIFT"], 3);         // one each way without a fee, one with
  EXPECT_EQ(types["CALL_CHARGE"], 2);  // posted and voided
  ASSERT_NE(first_topup, nullptr);
  EXPECT_EQ(first_topup->memo, "welcome bonus");
  EXPECT_EQ(first_topup->counterparty_kind, "SYSTEM_ISSUANCE");
  ASSERT_NE(reversed, nullptr);
  EXPECT_EQ(reversed->reverses_id, gift.transfer_id);
  EXPECT_EQ(reversed->counterparty_user, host_);
  EXPECT_EQ(reversed->room_id, room_);
}

// ---- Notifications and system events ----

TEST_F(OpsTest, Notifications) {
  const Uuid hello = Ok(rpc::SendNotification{.recipient_id = guest_,
                                              .actor_id = host_,
                                              .room_id = room_,
                                              .title = "Welcome",
                                              .body = "Glad you came",
                                              .payload = R"({"tour":true})"});
  const Uuid missed = Ok(rpc::RecordMissedCall{guest_, host_, room_});
  EXPECT_EQ(Code(rpc::SendNotification{.recipient_id = guest_, .title = "Bad", .payload = "{"}),
            StatusCode::kInvalidArgument);

  auto notes = Ok(rpc::ListNotifications{.recipient_id = guest_});
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].id, missed);  // newest first
  EXPECT_EQ(notes[0].kind, "MISSED_CALL");
  EXPECT_EQ(notes[1].id, hello);
  EXPECT_EQ(notes[1].kind, "SYSTEM_MESSAGE");
  EXPECT_EQ(notes[1].actor_id, host_);
  EXPECT_EQ(notes[1].room_id, room_);
  EXPECT_EQ(notes[1].body, "Glad you came");
  EXPECT_EQ(notes[1].payload, R"({"tour":true})");
  EXPECT_FALSE(notes[1].read_at.has_value());

  // Reading: one, then all; the most important refusal: someone else's.
  EXPECT_EQ(Code(rpc::MarkNotificationRead{hello, host_}), StatusCode::kPermissionDenied);
  Ok(rpc::MarkNotificationRead{hello, guest_});
  notes = Ok(rpc::ListNotifications{.recipient_id = guest_, .unread_only = true});
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].id, missed);
  EXPECT_TRUE(Ok(rpc::ListNotifications{.recipient_id = guest_})[1].read_at.has_value());
  EXPECT_EQ(Ok(rpc::MarkAllRead{guest_}), 1);
  EXPECT_TRUE(Ok(rpc::ListNotifications{.recipient_id = guest_, .unread_only = true}).empty());
  Ok(rpc::DeleteNotification{missed, guest_});
  notes = Ok(rpc::ListNotifications{.recipient_id = guest_});
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].id, hello);
  EXPECT_EQ(Code(rpc::DeleteNotification{missed, guest_}), StatusCode::kFailedPrecondition);

  // Invitations, idempotent while open.
  const rpc::Invite invite = Ok(rpc::InviteToRoom{room_, host_, third_});
  EXPECT_FALSE(invite.already_invited);
  const rpc::Invite again = Ok(rpc::InviteToRoom{room_, host_, third_});
  EXPECT_TRUE(again.already_invited);
  EXPECT_EQ(again.notification_id, invite.notification_id);
  notes = Ok(rpc::ListNotifications{.recipient_id = third_, .limit = 10});
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, "ROOM_INVITATION");
  EXPECT_EQ(notes[0].room_id, room_);
  EXPECT_EQ(Code(rpc::InviteToRoom{room_, third_, guest_}), StatusCode::kPermissionDenied);

  // The operational event log.
  const Uuid event = Ok(rpc::RecordSystemEvent{.severity = "WARNING",
                                               .component = "net",
                                               .code = "SLOW_CLIENT",
                                               .message = "a client reads slowly",
                                               .details = R"({"lag_ms":250})",
                                               .user_id = guest_,
                                               .room_id = room_});
  const std::string row = Row("system_events", event);
  EXPECT_TRUE(Has(row, Col("severity", Quoted("WARNING")))) << row;
  EXPECT_TRUE(Has(row, Col("details", R"({"lag_ms":250})"))) << row;
  EXPECT_TRUE(
      Has(Row("system_events",
              Ok(rpc::RecordSystemEvent{.component = "wal", .code = "SYNC", .message = "synced"})),
          Col("severity", Quoted("INFO"))));
  EXPECT_EQ(Code(rpc::RecordSystemEvent{.component = "wal", .code = "X"}),
            StatusCode::kInvalidArgument);  // no message
}

// ---- Administration ----

TEST_F(OpsTest, GenericWritesAndSnapshots) {
  // Generic writes, on a table they may write.
  const Uuid category = Ok(rpc::InsertRow{"room_categories", {rpc::Field::Text("name", "Music")}});
  Ok(rpc::UpdateRow{"room_categories", category, {rpc::Field::Text("name", "Live music")}});
  EXPECT_TRUE(Has(Row("room_categories", category), Col("name", Quoted("Live music"))));
  Ok(rpc::UpdateRoomSettings{
      .room_id = room_, .actor_id = host_, .settings = {.category_id = category}});
  EXPECT_TRUE(Has(Row("rooms", room_), Col("category_id", Quoted(category))));
  Ok(rpc::UpdateRoomSettings{
      .room_id = room_, .actor_id = host_, .settings = {.category_id = Uuid{}}});  // nil: clears
  EXPECT_TRUE(Has(Row("rooms", room_), Col("category_id", "null")));
  Ok(rpc::UpdateRoomSettings{
      .room_id = room_, .actor_id = host_, .settings = {.category_id = category}});
  Ok(rpc::DeleteRow{"room_categories", category});
  EXPECT_EQ(Code(rpc::GetRow{"room_categories", category}), StatusCode::kNotFound);
  EXPECT_TRUE(Has(Row("rooms", room_), Col("category_id", "null")));
  EXPECT_EQ(Code(rpc::InsertRow{"users", {rpc::Field::Text("username", "sneaky")}}),
            StatusCode::kFailedPrecondition);  // users come from RegisterUser
  EXPECT_EQ(Code(rpc::DeleteRow{"audit_logs", room_}), StatusCode::kFailedPrecondition);

  // Statistics, a checkpoint, and the snapshot it wrote.
  const rpc::ServerStats stats = Ok(rpc::Stats{});
  EXPECT_GT(stats.commits, 0u);
  EXPECT_GT(stats.requests, 0u);
  EXPECT_FALSE(stats.snapshot_age_seconds.has_value());
  const rpc::CheckpointInfo checkpoint = Ok(rpc::Checkpoint{});
  const auto snapshots = Ok(rpc::ListSnapshots{});
  ASSERT_FALSE(snapshots.empty());
  EXPECT_EQ(snapshots[0].path, checkpoint.path);  // newest first
  EXPECT_EQ(snapshots[0].lsn, checkpoint.lsn);
  EXPECT_EQ(snapshots[0].database_id, client_->database_id());
  EXPECT_GT(snapshots[0].total_rows, 0u);
  EXPECT_TRUE(snapshots[0].error.empty());
  EXPECT_TRUE(Ok(rpc::Stats{}).snapshot_age_seconds.has_value());
}

// Schema migrations (tests/integration/voxctl_schema_test.cc tests them
// through voxctl): a dry run, the migration, and the new column in rows.
TEST_F(OpsTest, SchemaMigrations) {
  const std::string text = "version 2\nadd column users.headline string(2000) null\n";
  const rpc::MigrationInfo dry = Ok(rpc::ApplyMigration{.text = text, .dry_run = true});
  EXPECT_FALSE(dry.applied);
  EXPECT_EQ(Ok(rpc::GetSchema{}).version, 1u);
  const rpc::MigrationInfo done = Ok(rpc::ApplyMigration{.text = text});
  EXPECT_TRUE(done.applied);
  EXPECT_EQ(done.to_version, 2u);
  ASSERT_EQ(done.changes.size(), 1u);
  EXPECT_TRUE(
      Has(done.changes[0], "add column users.headline string(2000) null: 3 rows hold null"));
  const rpc::SchemaInfo schema = Ok(rpc::GetSchema{});
  EXPECT_EQ(schema.version, 2u);
  EXPECT_EQ(schema.builtin_version, 1u);
  EXPECT_EQ(schema.history, std::vector<std::string>{text});
  EXPECT_TRUE(Has(schema.description, "headline string(2000) null updatable  -- added"));
  Ok(rpc::UpdateRow{"users", guest_, {rpc::Field::Text("headline", "listens")}});
  EXPECT_TRUE(Has(Row("users", guest_), Col("headline", Quoted("listens"))));
  Batch batch;
  batch.Add(rpc::ApplyMigration{.text = "version 3\nadd column users.x int32 null\n"});
  EXPECT_EQ(client_->Run(batch).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Ok(rpc::GetSchema{}).version, 2u);
}

// Time passes: expired bans, recordings and reservations go at the next
// maintenance run (the scheduled one is off in these tests).
TEST_F(OpsTest, Maintenance) {
  // Each expires 2 s after it is set, and is checked in force at once.
  constexpr Timestamp kLife = 2 * kSecond;
  Ok(rpc::BanFromRoom{.room_id = room_,
                      .actor_id = host_,
                      .target_id = third_,
                      .reason = "cool off",
                      .expires_at = Now() + kLife});
  EXPECT_TRUE(Ok(rpc::IsBanned{room_, third_}));
  Ok(rpc::TopUp{.user_id = guest_, .amount = 100});
  Ok(rpc::Reserve{.payer_id = guest_, .amount = 60, .timeout_at = Now() + kLife});
  EXPECT_EQ(Ok(rpc::GetWalletBalance{.user_id = guest_}).pending_debits, 60);
  const Uuid rec =
      Ok(rpc::StartRecording{.room_id = room_, .actor_id = host_, .storage_key = "short.webm"});
  Ok(rpc::StopRecording{.recording_id = rec, .actor_id = host_});
  Ok(rpc::BeginProcessing{rec});
  const Timestamp last = Now() + kLife;
  Ok(rpc::RecordingReady{.recording_id = rec, .storage_url = "https://cdn/s", .expires_at = last});
  EXPECT_TRUE(Ok(rpc::ExpiredRecordings{}).rows.empty());

  std::this_thread::sleep_for(std::chrono::microseconds(last - Now() + 200'000));
  const rpc::Rows expired = Ok(rpc::ExpiredRecordings{.limit = 10});
  ASSERT_EQ(expired.rows.size(), 1u);
  EXPECT_TRUE(Has(expired.rows[0], Col("id", Quoted(rec)))) << expired.rows[0];
  const rpc::MaintenanceReport report = Ok(rpc::RunMaintenance{});
  EXPECT_EQ(report.restrictions_lifted, 1);
  EXPECT_EQ(report.recordings_deleted, 1);
  EXPECT_EQ(report.reservations_voided, 1);
  EXPECT_EQ(report.subscriptions_expired, 0);
  EXPECT_FALSE(Ok(rpc::IsBanned{room_, third_}));
  EXPECT_TRUE(Ok(rpc::ExpiredRecordings{}).rows.empty());
  EXPECT_EQ(Ok(rpc::GetWalletBalance{.user_id = guest_}).pending_debits, 0);
  const rpc::MaintenanceReport nothing = Ok(rpc::RunMaintenance{});
  EXPECT_EQ(nothing.restrictions_lifted + nothing.recordings_deleted + nothing.reservations_voided,
            0);
}

// What each token's role may run (docs/protocol.md, Operations).
TEST_F(OpsTest, RolesLimitWhatATokenMayRun) {
  const std::string tokens = dir_.path() + "/tokens";
  {
    std::ofstream out(tokens);
    out << "admin admin-token-0123456789\napp app-token-0123456789ab\n"
        << "readonly read-token-0123456789a\n";
  }
  ServerProcess server(dir_.path() + "/db2", {"--token_file=" + tokens});
  auto connect = [&](const std::string& token) {
    auto c = Client::Connect({.port = server.port(), .token = token});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  };
  auto admin = connect("admin-token-0123456789");
  auto app = connect("app-token-0123456789ab");
  auto reader = connect("read-token-0123456789a");
  ASSERT_TRUE(admin && app && reader);
  EXPECT_EQ(reader->role(), "readonly");

  const Uuid user = Ok(rpc::RegisterUser{"tok", "tok@example.com", "h", "Tok"}, app.get()).user_id;
  // readonly: reads only.
  EXPECT_EQ(Code(rpc::RegisterUser{"ro", "ro@example.com", "h", "Ro"}, reader.get()),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(rpc::TopUp{.user_id = user, .amount = 5}, reader.get()),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(Has(Ok(rpc::UserByUsername{"tok"}, reader.get()), Quoted(user)));
  EXPECT_EQ(Ok(rpc::GetWalletBalance{.user_id = user}, reader.get()).balance, 0);
  EXPECT_EQ(Code(rpc::AuditAllWallets{}, reader.get()), StatusCode::kPermissionDenied);
  // A batch of reads is a read; a write in it makes it a write.
  Batch reads;
  auto found = reads.Add(rpc::UserByUsername{"tok"});
  reads.Add(rpc::GetWalletBalance{.user_id = user});
  ASSERT_TRUE(reader->Run(reads).ok());
  EXPECT_TRUE(found.Get().ok());
  Batch mixed;
  mixed.Add(rpc::UserByUsername{"tok"});
  mixed.Add(rpc::TopUp{.user_id = user, .amount = 5});
  EXPECT_EQ(reader->Run(mixed).code(), StatusCode::kPermissionDenied);
  // app: writes, but no administration.
  Ok(rpc::TopUp{.user_id = user, .amount = 5}, app.get());
  for (StatusCode code :
       {Code(rpc::RunMaintenance{}, app.get()), Code(rpc::AuditAllWallets{}, app.get()),
        Code(rpc::Checkpoint{}, app.get()), Code(rpc::ListSnapshots{}, app.get()),
        Code(rpc::InsertRow{"room_categories", {rpc::Field::Text("name", "x")}}, app.get()),
        Code(rpc::UpdateRow{"users", user, {rpc::Field::Text("display_name", "x")}}, app.get()),
        Code(rpc::DeleteRow{"users", user}, app.get())}) {
    EXPECT_EQ(code, StatusCode::kPermissionDenied);
  }
  // admin: all of it.
  EXPECT_TRUE(Ok(rpc::AuditAllWallets{}, admin.get()).ok);
  Ok(rpc::UpdateRow{"users", user, {rpc::Field::Text("display_name", "Tokyo")}}, admin.get());
  EXPECT_TRUE(
      Has(Ok(rpc::GetRow{"users", user}, reader.get()), Col("display_name", Quoted("Tokyo"))));
}

// ---- Reports (in depth: reports_test.cc) ----

TEST_F(OpsTest, ReportsRun) {
  const Timestamp from = Now() - 3600 * kSecond, to = Now() + 3600 * kSecond;
  const rpc::Report identity = Ok(rpc::IdentityReport{.from = from, .to = to, .bucket = "day"});
  ASSERT_NE(identity.Find("identity"), nullptr);
  EXPECT_EQ(identity.Find("identity")->Sum("signups"), 3);  // the fixture's users
  const rpc::Report rooms = Ok(rpc::RoomReport{.from = from, .to = to});
  ASSERT_NE(rooms.Find("rooms"), nullptr);
  EXPECT_EQ(rooms.Find("rooms")->Sum("created"), 1);
  Ok(rpc::CallReport{.from = from, .to = to});
  Ok(rpc::EngagementReport{.from = from, .to = to});
  Ok(rpc::ModerationReport{.from = from, .to = to});
  Ok(rpc::EconomyReport{.from = from, .to = to});
  Ok(rpc::SystemEventReport{.from = from, .to = to});
  EXPECT_GE(Ok(rpc::AuditCount{.from = from, .to = to, .action = "USER_REGISTERED"}), 3);
}

// ---- Searches and tracking (in depth: search_test.cc) ----

TEST_F(OpsTest, SearchesRun) {
  const auto ids = [](const rpc::SearchPage& page) {
    std::vector<std::string> out;
    for (const std::string& row : page.rows) {
      const size_t at = row.find(Col("id", "\""));
      out.push_back(at == std::string::npos ? "" : row.substr(at + 6, 36));
    }
    return out;
  };
  const std::string guest = FormatUuid(guest_), room = FormatUuid(room_);
  EXPECT_EQ(ids(Ok(rpc::SearchUsers{.username_prefix = "gue"})), std::vector{guest});
  const rpc::SearchPage live = Ok(rpc::SearchRooms{
      .tags = {"music"}, .status = {"LIVE"}, .sort = "participants_desc", .limit = 20});
  EXPECT_EQ(ids(live), std::vector{room});
  EXPECT_FALSE(live.plan.empty());
  EXPECT_EQ(ids(Ok(rpc::SearchParticipants{.room_id = room_, .sort = "joined_asc"})),
            (std::vector{FormatUuid(host_participant_), FormatUuid(guest_participant_)}));
  const Uuid session = Ok(rpc::StartCallSession{guest_participant_});
  EXPECT_EQ(ids(Ok(rpc::SearchCallSessions{.room_id = room_})), std::vector{FormatUuid(session)});
  const Uuid mute = Ok(rpc::TakeModerationAction{.moderator_id = host_,
                                                 .target_user_id = guest_,
                                                 .type = "MUTE",
                                                 .room_id = room_,
                                                 .reason = "noise"});
  EXPECT_EQ(ids(Ok(rpc::SearchModeration{.target_user_id = guest_})),
            std::vector{FormatUuid(mute)});
  EXPECT_FALSE(Ok(rpc::SearchAudit{.action = {"USER_JOINED"}, .room_id = room_}).rows.empty());
  const Uuid topup = Ok(rpc::TopUp{.user_id = guest_, .amount = 70}).transfer_id;
  EXPECT_EQ(ids(Ok(rpc::SearchTransfers{.type = {"TOP_UP"}})), std::vector{FormatUuid(topup)});
  const Uuid note = Ok(rpc::SendNotification{.recipient_id = third_, .title = "Hi"});
  EXPECT_EQ(ids(Ok(rpc::SearchNotifications{.recipient_id = third_})),
            std::vector{FormatUuid(note)});
  Ok(rpc::SetHandRaised{room_, guest_, guest_, true});
  const auto queue = Ok(rpc::HandRaiseQueue{room_});
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].user_id, guest_);
  EXPECT_TRUE(queue[0].hand_raised_at.has_value());
  EXPECT_EQ(Code(rpc::SearchRooms{.sort = "loudest"}), StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(rpc::SearchRooms{.owner_id = Uuid{7, 7}}), StatusCode::kNotFound);
}

// ---- Batches ----

// A plain call of Subscribe gets its answer (the pushed batches that follow
// are dropped by a client that did not open a stream); Unsubscribe ends it
// once.
TEST_F(OpsTest, SubscribeAndUnsubscribe) {
  const rpc::Subscribed sub = Ok(rpc::Subscribe{.room_id = room_});
  EXPECT_GT(sub.subscription, 0u);
  Ok(rpc::Unsubscribe{sub.subscription});
  EXPECT_EQ(Code(rpc::Unsubscribe{sub.subscription}), StatusCode::kNotFound);
}

TEST_F(OpsTest, BatchRunsAsOneTransaction) {
  Batch batch;
  auto registered = batch.Add(rpc::RegisterUser{"batched", "batched@example.com", "h", "B"});
  auto found = batch.Add(rpc::UserByUsername{"batched"});  // sees the registration
  auto topup = batch.Add(rpc::TopUp{.user_id = guest_, .amount = 500, .idempotency_key = "b-1"});
  auto balance = batch.Add(rpc::GetWalletBalance{.user_id = guest_});  // sees the top-up
  auto muted = batch.Add(rpc::SetMuted{room_, guest_, guest_, true});
  auto present = batch.Add(rpc::PresentParticipants{room_});
  ASSERT_TRUE(client_->Run(batch).ok());
  ASSERT_TRUE(registered.Get().ok());
  ASSERT_TRUE(found.Get().ok());
  EXPECT_TRUE(Has(*found.Get(), Col("id", Quoted(registered.Get()->user_id))));
  ASSERT_TRUE(topup.Get().ok());
  EXPECT_FALSE(topup.Get()->already_done);
  ASSERT_TRUE(balance.Get().ok());
  EXPECT_EQ(balance.Get()->balance, 500);
  EXPECT_TRUE(muted.Get().ok());
  ASSERT_TRUE(present.Get().ok());
  EXPECT_TRUE(Find(*present.Get(), guest_)->muted);
  // Committed.
  EXPECT_TRUE(Has(Ok(rpc::UserByEmail{"batched@example.com"}), Quoted(registered.Get()->user_id)));
  EXPECT_EQ(Ok(rpc::GetWalletBalance{.user_id = guest_}).balance, 500);

  // The second op fails: nothing of the first stays.
  Batch failing;
  auto ghost = failing.Add(rpc::RegisterUser{"ghost", "ghost@example.com", "h", "Ghost"});
  failing.Add(rpc::JoinRoom{Uuid{7, 7}, guest_});
  failing.Add(rpc::TopUp{.user_id = guest_, .amount = 1});
  const absl::Status s = client_->Run(failing);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Has(std::string(s.message()), "batch op 1 (JoinRoom): ")) << s;
  EXPECT_EQ(ghost.Get().status().code(), StatusCode::kFailedPrecondition);  // never ran
  EXPECT_EQ(Code(rpc::UserByUsername{"ghost"}), StatusCode::kNotFound);
  EXPECT_EQ(Ok(rpc::GetWalletBalance{.user_id = guest_}).balance, 500);

  // What a batch may not hold is refused before anything runs.
  Batch checkpoint;
  checkpoint.Add(rpc::RegisterUser{"early", "early@example.com", "h", "E"});
  checkpoint.Add(rpc::Checkpoint{});
  EXPECT_EQ(client_->Run(checkpoint).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(rpc::UserByUsername{"early"}), StatusCode::kNotFound);
}

// ---- Every operation ran ----

// Runs last (gtest runs tests in the order they are defined) and only when
// the whole suite ran: every client operation succeeded at least once above.
TEST(OpsCoverageTest, EveryOperationSucceededThroughTheClient) {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  if (unit.test_to_run_count() + unit.disabled_test_count() != unit.total_test_count() ||
      GTEST_FLAG_GET(shuffle)) {
    GTEST_SKIP() << "only meaningful when the whole suite runs, in order";
  }
  for (const ClientOp& op : ClientOps()) {
    EXPECT_TRUE(Succeeded().contains(op.type)) << op.name << " never succeeded in this suite";
  }
}

}  // namespace
}  // namespace vox
