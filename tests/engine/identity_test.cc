#include "engine/ops/identity.h"

#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "test_util.h"

namespace vox {
namespace {

using testing::EngineTest;
using testing::LiveCounts;

class IdentityTest : public EngineTest {};

TEST_F(IdentityTest, RegistrationWritesUserProviderWalletAndAudit) {
  auto r = RegisterUser(db_, Ctx(),
                        {.username = "alice",
                         .email = "Alice@Example.com",
                         .password_hash = "h",
                         .display_name = "Alice",
                         .bio = "hi",
                         .country = "DE"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const RowId user = FindUserByEmail(db_, "alice@example.COM");
  ASSERT_NE(user, kNoRow);
  const Table& users = db_.table(TableId::users);
  EXPECT_EQ(users.id(user), r->user_id);
  EXPECT_TRUE(users.GetBool(user, users::is_active));
  EXPECT_FALSE(users.GetBool(user, users::is_verified));
  EXPECT_EQ(users.GetEnum<AccountStatus>(user, users::account_status), AccountStatus::ACTIVE);
  EXPECT_EQ(users.GetEnum<UserRole>(user, users::role), UserRole::USER);
  EXPECT_EQ(users.GetString(user, users::country), "DE");
  EXPECT_EQ(users.GetTime(user, users::created_at), testing::kT0);
  const Table& providers = db_.table(TableId::auth_providers);
  const RowId p = providers.FindById(r->auth_provider_id);
  ASSERT_NE(p, kNoRow);
  EXPECT_EQ(providers.GetEnum<AuthProviderType>(p, auth_providers::provider_type),
            AuthProviderType::LOCAL);
  EXPECT_EQ(db_.table(TableId::wallets).live_count(), 1u);
  const Table& audit = db_.table(TableId::audit_logs);
  ASSERT_EQ(audit.live_count(), 1u);
  EXPECT_EQ(audit.GetEnum<AuditAction>(0, audit_logs::action), AuditAction::USER_REGISTERED);
  EXPECT_EQ(audit.GetRef(0, audit_logs::user_id), user);
  ExpectIndexesAgree();
}

TEST_F(IdentityTest, DuplicateUsernameOrEmailIsRefusedCaseInsensitively) {
  Register("bob");
  const auto before = LiveCounts(db_);
  auto dup_name = RegisterUser(
      db_, Ctx(),
      {.username = "BOB", .email = "other@example.com", .password_hash = "h", .display_name = "B"});
  EXPECT_EQ(dup_name.status().code(), absl::StatusCode::kAlreadyExists);
  auto dup_email = RegisterUser(
      db_, Ctx(),
      {.username = "bob2", .email = "BOB@example.com", .password_hash = "h", .display_name = "B"});
  EXPECT_EQ(dup_email.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(ToStd(dup_email.status().message()).find("email 'BOB@example.com'"), std::string::npos);
  EXPECT_EQ(LiveCounts(db_), before);
  ExpectIndexesAgree();
}

TEST_F(IdentityTest, MalformedRegistrationsAreRefused) {
  const auto before = LiveCounts(db_);
  const RegisterUserRequest bad[] = {
      {.username = "ab", .email = "a@b.co", .password_hash = "h", .display_name = "x"},
      {.username = "has space", .email = "a@b.co", .password_hash = "h", .display_name = "x"},
      {.username = "okname", .email = "not-an-email", .password_hash = "h", .display_name = "x"},
      {.username = "okname", .email = "a@@b.co", .password_hash = "h", .display_name = "x"},
      {.username = "okname", .email = "a@b.co", .password_hash = "", .display_name = "x"},
      {.username = "okname", .email = "a@b.co", .password_hash = "h", .display_name = ""},
      {.username = "okname",
       .email = "a@b.co",
       .password_hash = "h",
       .display_name = std::string(65, 'x')},
      {.username = "okname", .email = "a@b.co", .password_hash = "h", .display_name = "\xff\xfe"},
      {.username = "okname",
       .email = "a@b.co",
       .password_hash = "h",
       .display_name = "x",
       .country = "DEU"},
  };
  for (const auto& req : bad) {
    auto r = RegisterUser(db_, Ctx(), req);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << req.username;
  }
  EXPECT_EQ(LiveCounts(db_), before);
}

TEST_F(IdentityTest, LoginOutcomesAreRecorded) {
  const Uuid alice = Register("alice");
  auto ok =
      RecordLogin(db_, Ctx(10), {.user_id = alice, .identifier = "alice", .credentials_ok = true});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->outcome, LoginOutcome::kSucceeded);
  const Table& users = db_.table(TableId::users);
  EXPECT_EQ(users.GetTime(UserRow(alice), users::last_login_at), Ctx(10).now);

  auto bad = RecordLogin(db_, Ctx(20),
                         {.user_id = alice,
                          .identifier = "alice",
                          .credentials_ok = false,
                          .failure_reason = "bad_password"});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->outcome, LoginOutcome::kBadCredentials);
  EXPECT_EQ(users.GetInt(UserRow(alice), users::failed_login_count), 1);

  auto unknown = RecordLogin(db_, Ctx(30), {.identifier = "nobody@example.com"});
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->outcome, LoginOutcome::kUnknownUser);

  const Table& audit = db_.table(TableId::audit_logs);
  int success = 0, failed = 0;
  for (RowId r = 0; r < audit.row_count(); ++r) {
    const auto a = audit.GetEnum<AuditAction>(r, audit_logs::action);
    success += a == AuditAction::USER_LOGIN_SUCCESS;
    failed += a == AuditAction::USER_LOGIN_FAILED;
  }
  EXPECT_EQ(success, 1);
  EXPECT_EQ(failed, 2);
}

TEST_F(IdentityTest, SuspendedUserCannotLogInOrAct) {
  const Uuid mod = Register("moddy");
  const Uuid bob = Register("bobby");
  GrantRole(mod, UserRole::ADMIN);
  ASSERT_TRUE(SetAccountStatus(db_, Ctx(1),
                               {.actor_id = mod,
                                .user_id = bob,
                                .status = AccountStatus::SUSPENDED,
                                .reason = "spam",
                                .until = Ctx(3600).now})
                  .ok());
  auto login = RecordLogin(db_, Ctx(2), {.user_id = bob, .credentials_ok = true});
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(login->outcome, LoginOutcome::kAccountNotActive);
  EXPECT_EQ(login->account_status, AccountStatus::SUSPENDED);
  auto room = CreateRoom(db_, Ctx(3), {.owner_id = bob, .title = "t"});
  EXPECT_EQ(room.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(db_.table(TableId::users).GetBool(UserRow(bob), users::is_active));
}

TEST_F(IdentityTest, StatusAndRoleChangesFollowTheHierarchy) {
  const Uuid admin = Register("admin1");
  const Uuid mod = Register("mod1");
  const Uuid user = Register("user1");
  GrantRole(admin, UserRole::ADMIN);
  GrantRole(mod, UserRole::MODERATOR);
  // A plain user cannot ban anyone, nor can a moderator (moderators use
  // moderation actions); an admin cannot ban an admin.
  EXPECT_EQ(SetAccountStatus(db_, Ctx(),
                             {.actor_id = user, .user_id = mod, .status = AccountStatus::BANNED})
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SetAccountStatus(db_, Ctx(),
                             {.actor_id = mod, .user_id = user, .status = AccountStatus::BANNED})
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SetAccountStatus(db_, Ctx(),
                             {.actor_id = admin, .user_id = admin, .status = AccountStatus::BANNED})
                .code(),
            absl::StatusCode::kPermissionDenied);
  // An admin may make a moderator, not another admin.
  EXPECT_TRUE(SetUserRole(db_, Ctx(), admin, user, UserRole::MODERATOR).ok());
  EXPECT_EQ(SetUserRole(db_, Ctx(), admin, user, UserRole::ADMIN).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SetUserRole(db_, Ctx(), mod, user, UserRole::USER).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(db_.table(TableId::users).GetEnum<UserRole>(UserRow(user), users::role),
            UserRole::MODERATOR);
  EXPECT_EQ(SetAccountStatus(db_, Ctx(),
                             {.actor_id = admin, .user_id = user, .status = AccountStatus::DELETED})
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(IdentityTest, ProfileUpdateChecksUniquenessAndClearsVerification) {
  const Uuid a = Register("anna");
  Register("bert");
  ASSERT_TRUE(VerifyEmail(db_, Ctx(), a).ok());
  EXPECT_EQ(UpdateProfile(db_, Ctx(), a, {.email = "BERT@example.com"}).code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(UpdateProfile(db_, Ctx(5), a, {.email = "anna2@example.com", .bio = "hello"}).ok());
  const Table& users = db_.table(TableId::users);
  EXPECT_FALSE(users.GetBool(UserRow(a), users::is_verified));
  EXPECT_EQ(users.GetString(UserRow(a), users::bio), "hello");
  EXPECT_EQ(users.GetTime(UserRow(a), users::updated_at), Ctx(5).now);
  ASSERT_TRUE(UpdateProfile(db_, Ctx(6), a, {.bio = ""}).ok());
  EXPECT_TRUE(users.IsNull(UserRow(a), users::bio));
  EXPECT_EQ(UpdateProfile(db_, Ctx(), a, {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FindUserByEmail(db_, "anna@example.com"), kNoRow);
  ExpectIndexesAgree();
}

TEST_F(IdentityTest, ProvidersLinkOnceAndTheLastCannotBeUnlinked) {
  const Uuid a = Register("carla");
  auto g = LinkAuthProvider(db_, Ctx(),
                            {.user_id = a,
                             .provider = AuthProviderType::GOOGLE,
                             .provider_id = "g-123",
                             .access_token = "secret",
                             .metadata_json = R"({"scope":"email"})"});
  ASSERT_TRUE(g.ok()) << g.status().message();
  const Uuid b = Register("dora");
  EXPECT_EQ(
      LinkAuthProvider(db_, Ctx(),
                       {.user_id = b, .provider = AuthProviderType::GOOGLE, .provider_id = "g-123"})
          .status()
          .code(),
      absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(LinkAuthProvider(db_, Ctx(),
                             {.user_id = b,
                              .provider = AuthProviderType::GITHUB,
                              .provider_id = "x",
                              .metadata_json = "{bad"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(UnlinkAuthProvider(db_, Ctx(), a, *g).ok());
  EXPECT_EQ(db_.table(TableId::auth_providers).FindById(*g), kNoRow);
  // Only LOCAL is left now.
  RowId local = kNoRow;
  const Table& p = db_.table(TableId::auth_providers);
  for (RowId r = 0; r < p.row_count(); ++r) {
    if (p.IsLive(r) && p.GetRef(r, auth_providers::user_id) == UserRow(a)) local = r;
  }
  ASSERT_NE(local, kNoRow);
  EXPECT_EQ(UnlinkAuthProvider(db_, Ctx(), a, p.id(local)).code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectIndexesAgree();
}

TEST_F(IdentityTest, SoftDeleteFollowsTheSeedFlow) {
  const Uuid owner = Register("owner");
  const Uuid guest = Register("guest");
  auto live = CreateAndOpenRoom(db_, Ctx(1), {.owner_id = owner, .title = "mine"});
  ASSERT_TRUE(live.ok());
  auto other = CreateAndOpenRoom(db_, Ctx(2), {.owner_id = guest, .title = "theirs"});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(JoinRoom(db_, Ctx(3), other->room_id, owner).ok());
  ASSERT_TRUE(JoinRoom(db_, Ctx(3), live->room_id, guest).ok());
  // An owned recording, inserted directly.
  {
    Txn txn(db_, Ctx(4).now);
    txn.Insert(TableId::recordings,
               {{recordings::room_id, db_.table(TableId::rooms).FindById(live->room_id)},
                {recordings::owner_id, UserRow(owner)},
                {recordings::storage_key, "rec/1"}});
    ASSERT_TRUE(txn.ok());
    txn.Commit();
  }
  const size_t audit_before = db_.table(TableId::audit_logs).live_count();
  ASSERT_TRUE(DeleteUser(db_, Ctx(100), owner, owner).ok());

  const Table& users = db_.table(TableId::users);
  const RowId u = UserRow(owner);
  EXPECT_EQ(users.GetTime(u, users::deleted_at), Ctx(100).now);
  EXPECT_TRUE(users.IsNull(u, users::email));
  EXPECT_TRUE(users.IsNull(u, users::password_hash));
  EXPECT_EQ(users.GetString(u, users::display_name), "Deleted User");
  EXPECT_EQ(users.GetEnum<AccountStatus>(u, users::account_status), AccountStatus::DELETED);
  const Table& rooms = db_.table(TableId::rooms);
  const RowId mine = rooms.FindById(live->room_id);
  EXPECT_EQ(rooms.GetEnum<RoomStatus>(mine, rooms::status), RoomStatus::ENDED);
  EXPECT_EQ(rooms.GetInt(mine, rooms::participant_count), 0);
  const RowId theirs = rooms.FindById(other->room_id);
  EXPECT_EQ(rooms.GetEnum<RoomStatus>(theirs, rooms::status), RoomStatus::LIVE);
  std::vector<RowId> present;
  UserPresentRooms(db_, u, &present);
  EXPECT_TRUE(present.empty());
  EXPECT_FALSE(db_.table(TableId::recordings).IsNull(0, recordings::deleted_at));
  // Login providers are gone, audit rows stay and still name the user.
  for (RowId r = 0; r < db_.table(TableId::auth_providers).row_count(); ++r) {
    if (db_.table(TableId::auth_providers).IsLive(r)) {
      EXPECT_NE(db_.table(TableId::auth_providers).GetRef(r, auth_providers::user_id), u);
    }
  }
  const Table& audit = db_.table(TableId::audit_logs);
  EXPECT_GT(audit.live_count(), audit_before);
  const RowId last = static_cast<RowId>(audit.row_count() - 1);
  EXPECT_EQ(audit.GetEnum<AuditAction>(last, audit_logs::action), AuditAction::USER_LOGOUT);
  EXPECT_EQ(audit.GetString(last, audit_logs::metadata), R"({"reason":"account_deleted"})");
  EXPECT_EQ(audit.GetRef(0, audit_logs::user_id), u);
  // The email is free again; the deleted user can neither act nor be deleted twice.
  EXPECT_EQ(FindUserByEmail(db_, "owner@example.com"), kNoRow);
  EXPECT_EQ(DeleteUser(db_, Ctx(101), owner, owner).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(JoinRoom(db_, Ctx(102), other->room_id, owner).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectIndexesAgree();
}

TEST_F(IdentityTest, OnlyTheUserOrAnAdminDeletes) {
  const Uuid a = Register("erin");
  const Uuid b = Register("fred");
  EXPECT_EQ(DeleteUser(db_, Ctx(), b, a).code(), absl::StatusCode::kPermissionDenied);
  GrantRole(b, UserRole::ADMIN);
  EXPECT_TRUE(DeleteUser(db_, Ctx(), b, a).ok());
}

}  // namespace
}  // namespace vox
