// The dispatcher without the network: size-prefixed Request frames built as
// a client builds them, verified as the server verifies them, executed by
// net::Dispatch on an in-memory Database, and their Responses read back.
// Every operation of the protocol runs at least once and its effect is
// checked in the engine; so are the refusals (enum names, missing ids,
// roles) and Batch's atomicity.
#include "net/internal/dispatch.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/ops/generic.h"
#include "engine/ops/ledger.h"
#include "engine/ops/queries.h"
#include "engine/txn.h"
#include "gtest/gtest.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "tests/engine/test_util.h"
#include "tests/wal/wal_test_util.h"
#include "wal/checkpoint.h"
#include "wal/file_io.h"
#include "wal/log_device.h"
#include "wal/wal_sink.h"
#include "tests/net/engine_parts.h"

namespace vox::net {
namespace {

namespace fb = flatbuffers;
using testing::Contains;
using testing::DumpDb;
using testing::kT0;
using wire::Op;

constexpr Timestamp kMinute = 60 * kMicrosPerSecond;
constexpr Timestamp kHour = 60 * kMinute;
constexpr Timestamp kDay = 24 * kHour;

// A wire uuid for a Create* call, null when absent; the temporary lives to
// the end of the full expression.
class WireId {
 public:
  WireId(const Uuid& u) : v_(u.hi, u.lo), set_(true) {}         // NOLINT: implicit
  WireId(const std::optional<Uuid>& u) : set_(u.has_value()) {  // NOLINT: implicit
    if (u) v_ = wire::Uuid(u->hi, u->lo);
  }
  const wire::Uuid* get() const { return set_ ? &v_ : nullptr; }

 private:
  wire::Uuid v_;
  bool set_;
};
const wire::Uuid* W(const WireId& id) { return id.get(); }
Uuid U(const wire::Uuid* u) { return u == nullptr ? Uuid{} : Uuid{u->hi(), u->lo()}; }
std::string S(const fb::String* s) { return s == nullptr ? std::string() : s->str(); }
Uuid RandomId() { return Uuid{0x0123456789abcdefULL, 0x1122334455667788ULL}; }

struct Reply {
  std::vector<uint8_t> frame;
  uint64_t needs_lsn = 0;

  const wire::Response& r() const { return *fb::GetSizePrefixedRoot<wire::Response>(frame.data()); }
  absl::StatusCode code() const { return static_cast<absl::StatusCode>(r().code()); }
  std::string message() const { return S(r().message()); }
};

// What a test does to build one op into the request's builder.
template <typename F>
concept OpBuilder = requires(F f, fb::FlatBufferBuilder& b) {
  f(b).Union();
};

class DispatchTest : public ::testing::Test {
 protected:
  DispatchTest() : db_({.id_seed = 21}) {
    engine_ = testing::LoglessEngine(db_, Uuid{7, 7});
  }

  // A WAL in `dir`/wal writing through `device`, for this database.
  std::unique_ptr<WalWriter> OpenWal(const std::string& dir, LogDevice& device) {
    auto wal = WalWriter::Open(PosixFileIo(), device,
                               {.dir = dir + "/wal", .database_id = engine_.database_id}, {});
    EXPECT_TRUE(wal.ok()) << wal.status();
    return wal.ok() ? std::move(*wal) : nullptr;
  }
  // Every commit from here on goes to `wal` through `sink`, with fsync
  // durability, as in the server; StopLogging detaches them.
  void StartLogging(WalWriter& wal, WalCommitSink& sink) {
    db_.set_commit_sink(&sink);
    engine_.wal = &wal;
    engine_.sink = &sink;
    engine_.durability = Durability::kFsync;
  }
  void StopLogging() { db_.set_commit_sink(nullptr); }

  // Builds a Request around the op `build` makes into `b`, verifies it as
  // the server does, and dispatches it as `role`.
  template <OpBuilder F>
  Dispatched DispatchOp(fb::FlatBufferBuilder& b, Op type, F&& build, Role role,
                        bool read_unsynced = false) {
    auto op = build(b).Union();
    const uint64_t id = ++next_id_;
    wire::RequestBuilder rb(b);
    rb.add_id(id);
    rb.add_op_type(type);
    rb.add_op(op);
    rb.add_read_unsynced(read_unsynced);
    b.FinishSizePrefixed(rb.Finish());
    fb::Verifier v(b.GetBufferPointer(), b.GetSize());
    EXPECT_TRUE(wire::VerifySizePrefixedRequestBuffer(v));
    const auto* request = fb::GetSizePrefixedRoot<wire::Request>(b.GetBufferPointer());
    return Dispatch(engine_, *request, role, now_);
  }

  // Dispatches as DispatchOp does, runs a report's deferred task, and
  // verifies the Response.
  template <OpBuilder F>
  Reply Send(Op type, F&& build, Role role = Role::kApp, bool read_unsynced = false) {
    fb::FlatBufferBuilder b;
    Dispatched d = DispatchOp(b, type, build, role, read_unsynced);
    const uint64_t id = next_id_;
    if (d.deferred) {
      // A report: the server runs this on a report thread.
      EXPECT_TRUE(d.frame.empty());
      d.frame = d.deferred();
    }
    Reply reply{std::move(d.frame), d.needs_lsn};
    fb::Verifier rv(reply.frame.data(), reply.frame.size());
    EXPECT_TRUE(rv.VerifySizePrefixedBuffer<wire::Response>(nullptr));
    EXPECT_EQ(reply.r().id(), id);
    return reply;
  }

  // Sends and expects OK with a `T` result; the result lives until the next call.
  template <typename T, OpBuilder F>
  const T& Ok(Op type, F&& build, Role role = Role::kApp) {
    last_ = Send(type, build, role);
    EXPECT_EQ(last_.code(), absl::StatusCode::kOk)
        << wire::EnumNameOp(type) << ": " << last_.message();
    const T* result = last_.r().template result_as<T>();
    if (result == nullptr) {
      // Fails this test (gtest catches it) without crashing the others.
      throw std::runtime_error(StrCat(wire::EnumNameOp(type), " answered ",
                                      wire::EnumNameResult(last_.r().result_type()), ": ",
                                      last_.message()));
    }
    return *result;
  }
  template <OpBuilder F>
  void Done(Op type, F&& build, Role role = Role::kApp) {
    Ok<wire::Empty>(type, build, role);
  }
  template <OpBuilder F>
  Uuid Id(Op type, F&& build, Role role = Role::kApp) {
    return U(Ok<wire::IdResult>(type, build, role).id());
  }
  // Sends and expects the error `code` with `part` in its message.
  template <OpBuilder F>
  void Refused(Op type, F&& build, absl::StatusCode code, std::string_view part,
               Role role = Role::kApp) {
    Reply reply = Send(type, build, role);
    EXPECT_EQ(reply.code(), code) << wire::EnumNameOp(type) << ": " << reply.message();
    EXPECT_TRUE(Contains(reply.message(), part));
    EXPECT_EQ(reply.r().result_type(), wire::Result::NONE);
  }

  // ---- Setup through the wire ----
  Uuid Register(const std::string& name) {
    const auto& r = Ok<wire::RegisterUserResult>(Op::RegisterUser, [&](fb::FlatBufferBuilder& b) {
      return wire::CreateRegisterUser(b, b.CreateString(name),
                                      b.CreateString(name + "@example.com"),
                                      b.CreateString("$argon2id$v=19$hash"), b.CreateString(name));
    });
    return U(r.user_id());
  }
  Uuid OpenRoom(const Uuid& owner, const std::string& code, std::vector<std::string> tags = {}) {
    const auto& r =
        Ok<wire::CreateRoomResult>(Op::CreateAndOpenRoom, [&](fb::FlatBufferBuilder& b) {
          auto t = tags.empty() ? 0 : b.CreateVectorOfStrings(tags);
          return wire::CreateCreateAndOpenRoom(b, W(owner), b.CreateString(code),
                                               b.CreateString("Room " + code), 0, true, t);
        });
    return U(r.room_id());
  }
  Uuid Join(const Uuid& room, const Uuid& user) {
    return U(Ok<wire::JoinRoomResult>(Op::JoinRoom, [&](fb::FlatBufferBuilder& b) {
               return wire::CreateJoinRoom(b, W(room), W(user));
             }).participant_id());
  }
  // Tests only: a user's platform role, set directly.
  void GrantRole(const Uuid& user, UserRole role) {
    testing::SetColumn(db_, now_, TableId::users, Row(TableId::users, user), users::role, role);
  }

  // ---- Reading the engine ----
  const Table& T(TableId t) const { return db_.table(t); }
  RowId Row(TableId t, const Uuid& id) const {
    const RowId r = db_.table(t).FindById(id);
    EXPECT_NE(r, kNoRow) << "no " << GetTable(t).name << " row " << FormatUuid(id);
    return r;
  }
  // The latest audit action a user caused.
  AuditAction LastAudit(const Uuid& user) {
    std::vector<RowId> rows;
    UserAuditTrail(db_, Row(TableId::users, user), 1, std::nullopt, &rows);
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? AuditAction{}
                        : T(TableId::audit_logs).GetEnum<AuditAction>(rows[0], audit_logs::action);
  }

  Database db_;
  EngineParts engine_;
  Timestamp now_ = kT0;
  uint64_t next_id_ = 100;
  Reply last_;
};

using B = fb::FlatBufferBuilder;

// ---- Identity ------------------------------------------------------------------

TEST_F(DispatchTest, RegisterUserTakesTheOptionalProfileFields) {
  const auto& r = Ok<wire::RegisterUserResult>(Op::RegisterUser, [&](B& b) {
    return wire::CreateRegisterUser(b, b.CreateString("alice"), b.CreateString("alice@example.com"),
                                    b.CreateString("$argon2id$hash"), b.CreateString("Alice"),
                                    b.CreateString("I host jazz rooms"), 0, b.CreateString("en-GB"),
                                    b.CreateString("GB"), 0);
  });
  const RowId a = Row(TableId::users, U(r.user_id()));
  EXPECT_EQ(T(TableId::users).GetString(a, users::bio), "I host jazz rooms");
  EXPECT_EQ(T(TableId::users).GetString(a, users::locale), "en-GB");
  EXPECT_EQ(T(TableId::users).GetString(a, users::country), "GB");
  EXPECT_TRUE(T(TableId::users).IsNull(a, users::avatar_url));
  EXPECT_TRUE(T(TableId::users).IsNull(a, users::timezone));
  EXPECT_NE(T(TableId::wallets).FindById(U(r.wallet_id())), kNoRow);
}

TEST_F(DispatchTest, RecordLoginReportsEachOutcome) {
  const Uuid alice = Register("alice");
  const RowId a = Row(TableId::users, alice);
  now_ += kMinute;
  auto login = [&](std::optional<Uuid> user, bool ok, const char* provider = nullptr) {
    return [=](B& b) {
      return wire::CreateRecordLogin(b, W(user), b.CreateString("alice"),
                                     provider ? b.CreateString(provider) : 0, ok,
                                     ok ? 0 : b.CreateString("bad_password"));
    };
  };
  const auto& ok = Ok<wire::LoginResult>(Op::RecordLogin, login(alice, true));
  EXPECT_EQ(S(ok.outcome()), "SUCCEEDED");
  EXPECT_EQ(S(ok.account_status()), "ACTIVE");
  EXPECT_EQ(T(TableId::users).GetTime(a, users::last_login_at), now_);

  const auto& bad = Ok<wire::LoginResult>(Op::RecordLogin, login(alice, false, "LOCAL"));
  EXPECT_EQ(S(bad.outcome()), "BAD_CREDENTIALS");
  EXPECT_EQ(T(TableId::users).GetInt(a, users::failed_login_count), 1);
  EXPECT_EQ(LastAudit(alice), AuditAction::USER_LOGIN_FAILED);

  EXPECT_EQ(S(Ok<wire::LoginResult>(Op::RecordLogin, login(std::nullopt, true)).outcome()),
            "UNKNOWN_USER");
  // An unknown provider name is refused before anything is recorded.
  const size_t audits = T(TableId::audit_logs).live_count();
  Refused(Op::RecordLogin, login(alice, true, "FACEBOOK"), absl::StatusCode::kInvalidArgument,
          "provider: 'FACEBOOK' is not a AuthProviderType");
  EXPECT_EQ(T(TableId::audit_logs).live_count(), audits);
}

TEST_F(DispatchTest, ProfileEmailLogoutAndProviders) {
  const Uuid alice = Register("alice");
  const RowId a = Row(TableId::users, alice);
  Done(Op::UpdateProfile, [&](B& b) {
    auto name = b.CreateString("Alice A.");
    auto tz = b.CreateString("Europe/Paris");
    wire::UpdateProfileBuilder u(b);
    u.add_user_id(W(alice));
    u.add_display_name(name);
    u.add_timezone(tz);
    return u.Finish();
  });
  EXPECT_EQ(T(TableId::users).GetString(a, users::display_name), "Alice A.");
  EXPECT_EQ(T(TableId::users).GetString(a, users::timezone), "Europe/Paris");
  EXPECT_EQ(T(TableId::users).GetString(a, users::username), "alice");  // absent: unchanged

  Done(Op::VerifyEmail, [&](B& b) { return wire::CreateVerifyEmail(b, W(alice)); });
  EXPECT_TRUE(T(TableId::users).GetBool(a, users::is_verified));

  Done(Op::Logout, [&](B& b) { return wire::CreateLogout(b, W(alice)); });
  EXPECT_EQ(LastAudit(alice), AuditAction::USER_LOGOUT);

  const Uuid google = Id(Op::LinkAuthProvider, [&](B& b) {
    return wire::CreateLinkAuthProvider(
        b, W(alice), b.CreateString("GOOGLE"), b.CreateString("google-sub-123"),
        b.CreateString("alice@gmail.com"), b.CreateString("at"), b.CreateString("rt"),
        b.CreateString(R"({"hd":"x"})"), now_ + kHour);
  });
  const RowId g = Row(TableId::auth_providers, google);
  EXPECT_EQ(T(TableId::auth_providers).GetEnum<AuthProviderType>(g, auth_providers::provider_type),
            AuthProviderType::GOOGLE);
  EXPECT_EQ(T(TableId::auth_providers).GetTime(g, auth_providers::token_expires_at), now_ + kHour);
  Refused(
      Op::LinkAuthProvider,
      [&](B& b) {
        return wire::CreateLinkAuthProvider(b, W(alice), b.CreateString("MYSPACE"),
                                            b.CreateString("x"));
      },
      absl::StatusCode::kInvalidArgument, "'MYSPACE' is not a AuthProviderType");

  Done(Op::UnlinkAuthProvider,
       [&](B& b) { return wire::CreateUnlinkAuthProvider(b, W(alice), W(google)); });
  EXPECT_EQ(T(TableId::auth_providers).FindById(google), kNoRow);
}

TEST_F(DispatchTest, RolesStatusAndDeletion) {
  const Uuid root = Register("root"), bob = Register("bob"), carol = Register("carol");
  GrantRole(root, UserRole::SUPER_ADMIN);
  Done(Op::SetUserRole, [&](B& b) {
    return wire::CreateSetUserRole(b, W(root), W(bob), b.CreateString("MODERATOR"));
  });
  EXPECT_EQ(T(TableId::users).GetEnum<UserRole>(Row(TableId::users, bob), users::role),
            UserRole::MODERATOR);
  Refused(
      Op::SetUserRole,
      [&](B& b) { return wire::CreateSetUserRole(b, W(root), W(bob), b.CreateString("OWNER")); },
      absl::StatusCode::kInvalidArgument, "role: 'OWNER' is not a UserRole (one of USER");
  Refused(
      Op::SetUserRole, [&](B& b) { return wire::CreateSetUserRole(b, W(root), W(bob)); },
      absl::StatusCode::kInvalidArgument, "role is required");

  Done(Op::SetAccountStatus, [&](B& b) {
    return wire::CreateSetAccountStatus(b, W(root), W(carol), b.CreateString("SUSPENDED"),
                                        b.CreateString("spam"), now_ + kDay);
  });
  const RowId c = Row(TableId::users, carol);
  EXPECT_EQ(T(TableId::users).GetEnum<AccountStatus>(c, users::account_status),
            AccountStatus::SUSPENDED);
  EXPECT_EQ(T(TableId::users).GetTime(c, users::suspended_until), now_ + kDay);

  Done(Op::DeleteUser, [&](B& b) { return wire::CreateDeleteUser(b, W(root), W(carol)); });
  EXPECT_FALSE(T(TableId::users).IsNull(c, users::deleted_at));
  EXPECT_EQ(T(TableId::users).GetString(c, users::display_name), "Deleted User");
}

TEST_F(DispatchTest, MissingIdsAndUnknownRowsAreRefused) {
  Refused(
      Op::Logout, [&](B& b) { return wire::CreateLogout(b); }, absl::StatusCode::kInvalidArgument,
      "user_id is required");
  Refused(
      Op::JoinRoom, [&](B& b) { return wire::CreateJoinRoom(b, nullptr, W(RandomId())); },
      absl::StatusCode::kInvalidArgument, "room_id is required");
  Refused(
      Op::Logout, [&](B& b) { return wire::CreateLogout(b, W(RandomId())); },
      absl::StatusCode::kNotFound, "");
  Refused(
      Op::GetRow,
      [&](B& b) { return wire::CreateGetRow(b, b.CreateString("rooms"), W(RandomId())); },
      absl::StatusCode::kNotFound, "rooms row");
  Refused(
      Op::GetRow, [&](B& b) { return wire::CreateGetRow(b, b.CreateString("planets")); },
      absl::StatusCode::kInvalidArgument, "planets");
  // A request naming an op without its table.
  Refused(
      Op::JoinRoom, [&](B&) { return fb::Offset<wire::JoinRoom>(); },
      absl::StatusCode::kInvalidArgument, "JoinRoom: its table is missing");
}

// ---- Rooms ---------------------------------------------------------------------

TEST_F(DispatchTest, CreateUpdateAndCancelARoom) {
  const Uuid host = Register("host");
  const auto& created = Ok<wire::CreateRoomResult>(Op::CreateRoom, [&](B& b) {
    auto desc = b.CreateString("Weekly jazz");
    auto tags = b.CreateVectorOfStrings({"jazz", "music"});
    wire::RoomSettingsBuilder s(b);
    s.add_description(desc);
    s.add_scheduled_start(now_ + kHour);
    s.add_max_participants(50);
    s.add_invite_only(true);
    s.add_tags(tags);
    auto settings = s.Finish();
    return wire::CreateCreateRoom(b, W(host), b.CreateString("jazz-night"),
                                  b.CreateString("Jazz night"), settings);
  });
  EXPECT_EQ(S(created.room_code()), "jazz-night");
  EXPECT_EQ(created.host_participant_id(), nullptr);  // not opened
  const Uuid room = U(created.room_id());
  const RowId r = Row(TableId::rooms, room);
  const Table& rooms = T(TableId::rooms);
  EXPECT_EQ(rooms.GetEnum<RoomStatus>(r, rooms::status), RoomStatus::CREATED);
  EXPECT_EQ(rooms.GetString(r, rooms::description), "Weekly jazz");
  EXPECT_EQ(rooms.GetInt(r, rooms::max_participants), 50);
  EXPECT_EQ(rooms.GetTime(r, rooms::scheduled_start), now_ + kHour);
  EXPECT_TRUE(rooms.GetBool(r, rooms::invite_only));
  EXPECT_NE(FindTag(db_, "jazz"), kNoRow);

  Done(Op::UpdateRoomSettings, [&](B& b) {
    auto title = b.CreateString("Jazz night, live");
    auto lang = b.CreateString("fr");
    wire::RoomSettingsBuilder s(b);
    s.add_title(title);
    s.add_language(lang);
    s.add_mute_on_join(true);
    s.add_invite_only(false);
    auto settings = s.Finish();
    return wire::CreateUpdateRoomSettings(b, W(room), W(host), settings);
  });
  EXPECT_EQ(rooms.GetString(r, rooms::title), "Jazz night, live");
  EXPECT_EQ(rooms.GetString(r, rooms::language), "fr");
  EXPECT_TRUE(rooms.GetBool(r, rooms::mute_on_join));
  EXPECT_FALSE(rooms.GetBool(r, rooms::invite_only));
  EXPECT_EQ(rooms.GetInt(r, rooms::max_participants), 50);  // absent: unchanged
  EXPECT_EQ(rooms.GetString(r, rooms::description), "Weekly jazz");

  Done(Op::CancelRoom, [&](B& b) { return wire::CreateCancelRoom(b, W(room), W(host)); });
  EXPECT_EQ(rooms.GetEnum<RoomStatus>(r, rooms::status), RoomStatus::CANCELLED);
}

TEST_F(DispatchTest, CreateAndOpenRoomTakesTheNewSettings) {
  const Uuid host = Register("host"), guest = Register("guest");
  const auto& opened = Ok<wire::CreateRoomResult>(Op::CreateAndOpenRoom, [&](B& b) {
    auto desc = b.CreateString("Ask me anything");
    wire::RoomSettingsBuilder s(b);
    s.add_description(desc);
    s.add_mute_on_join(true);
    s.add_max_participants(40);  // overrides the first max_participants
    auto settings = s.Finish();
    return wire::CreateCreateAndOpenRoom(b, W(host), b.CreateString("ama-1"), b.CreateString("AMA"),
                                         30, true, b.CreateVectorOfStrings({"talk"}), settings);
  });
  EXPECT_NE(opened.host_participant_id(), nullptr);
  const Uuid room = U(opened.room_id());
  const RowId r = Row(TableId::rooms, room);
  EXPECT_EQ(T(TableId::rooms).GetEnum<RoomStatus>(r, rooms::status), RoomStatus::LIVE);
  EXPECT_EQ(T(TableId::rooms).GetString(r, rooms::description), "Ask me anything");
  EXPECT_EQ(T(TableId::rooms).GetInt(r, rooms::max_participants), 40);
  const auto& joined = Ok<wire::JoinRoomResult>(
      Op::JoinRoom, [&](B& b) { return wire::CreateJoinRoom(b, W(room), W(guest)); });
  EXPECT_TRUE(joined.muted());  // mute_on_join
  EXPECT_EQ(S(joined.role()), "PARTICIPANT");
}

TEST_F(DispatchTest, ParticipantStateRolesKicksAndBans) {
  const Uuid host = Register("host"), p1 = Register("pat1"), p2 = Register("pat2");
  const Uuid room = OpenRoom(host, "live-1");
  const Uuid part1 = Join(room, p1), part2 = Join(room, p2);
  const Table& parts = T(TableId::room_participants);
  const RowId r1 = Row(TableId::room_participants, part1),
              r2 = Row(TableId::room_participants, part2);

  // A host mute with an expiry.
  Done(Op::SetMuted, [&](B& b) {
    return wire::CreateSetMuted(b, W(room), W(host), W(p2), true, now_ + 10 * kMinute);
  });
  EXPECT_TRUE(parts.GetBool(r2, room_participants::muted_by_host));
  EXPECT_EQ(parts.GetTime(r2, room_participants::mute_expires_at), now_ + 10 * kMinute);

  EXPECT_EQ(Ok<wire::CountResult>(Op::MuteAll,
                                  [&](B& b) { return wire::CreateMuteAll(b, W(room), W(host)); })
                .count(),
            1);  // p1; p2 was muted already
  EXPECT_TRUE(parts.GetBool(r1, room_participants::is_muted));

  Done(Op::SetHandRaised,
       [&](B& b) { return wire::CreateSetHandRaised(b, W(room), W(p1), W(p1), true); });
  EXPECT_TRUE(parts.GetBool(r1, room_participants::hand_raised));
  Done(Op::SetScreenSharing,
       [&](B& b) { return wire::CreateSetScreenSharing(b, W(room), W(p1), true); });
  EXPECT_TRUE(parts.GetBool(r1, room_participants::is_screen_sharing));
  Done(Op::SetSpeaking, [&](B& b) { return wire::CreateSetSpeaking(b, W(room), W(p1), true); });
  EXPECT_TRUE(parts.GetBool(r1, room_participants::is_speaking));
  Done(Op::SetConnectionStatus, [&](B& b) {
    return wire::CreateSetConnectionStatus(b, W(room), W(p1), b.CreateString("RECONNECTING"));
  });
  EXPECT_EQ(parts.GetEnum<ConnectionStatus>(r1, room_participants::connection_status),
            ConnectionStatus::RECONNECTING);
  Refused(
      Op::SetConnectionStatus,
      [&](B& b) {
        return wire::CreateSetConnectionStatus(b, W(room), W(p1), b.CreateString("OFFLINE"));
      },
      absl::StatusCode::kInvalidArgument, "status: 'OFFLINE' is not a ConnectionStatus");

  Done(Op::ChangeParticipantRole, [&](B& b) {
    return wire::CreateChangeParticipantRole(b, W(room), W(host), W(p1), b.CreateString("CO_HOST"));
  });
  EXPECT_EQ(parts.GetEnum<ParticipantRole>(r1, room_participants::role), ParticipantRole::CO_HOST);

  Done(Op::KickParticipant, [&](B& b) {
    return wire::CreateKickParticipant(b, W(room), W(host), W(p2), b.CreateString("spam"));
  });
  EXPECT_TRUE(parts.GetBool(r2, room_participants::is_kicked));
  EXPECT_FALSE(parts.IsNull(r2, room_participants::left_at));

  auto is_banned = [&] {
    return Ok<wire::BoolResult>(Op::IsBanned,
                                [&](B& b) { return wire::CreateIsBanned(b, W(room), W(p2)); })
        .value();
  };
  Done(Op::BanFromRoom, [&](B& b) {
    return wire::CreateBanFromRoom(b, W(room), W(host), W(p2), b.CreateString("spam"), now_ + kDay);
  });
  EXPECT_TRUE(is_banned());
  Done(Op::UnbanFromRoom,
       [&](B& b) { return wire::CreateUnbanFromRoom(b, W(room), W(host), W(p2)); });
  EXPECT_FALSE(is_banned());

  Done(Op::LeaveRoom, [&](B& b) { return wire::CreateLeaveRoom(b, W(room), W(p1)); });
  EXPECT_FALSE(parts.IsNull(r1, room_participants::left_at));
  Done(Op::DeleteRoom, [&](B& b) { return wire::CreateDeleteRoom(b, W(room), W(host)); });
  const RowId r = Row(TableId::rooms, room);
  EXPECT_EQ(T(TableId::rooms).GetEnum<RoomStatus>(r, rooms::status), RoomStatus::ENDED);
  EXPECT_FALSE(T(TableId::rooms).IsNull(r, rooms::deleted_at));
}

TEST_F(DispatchTest, ModerationActionsAndRevocation) {
  const Uuid mod = Register("mod"), host = Register("host"), troll = Register("troll");
  GrantRole(mod, UserRole::MODERATOR);
  const Uuid room = OpenRoom(host, "mod-room");
  Join(room, troll);
  const Uuid warning = Id(Op::TakeModerationAction, [&](B& b) {
    return wire::CreateTakeModerationAction(b, W(mod), W(troll), b.CreateString("WARNING"), nullptr,
                                            b.CreateString("be nice"));
  });
  const RowId w = Row(TableId::moderation_actions, warning);
  EXPECT_EQ(T(TableId::moderation_actions)
                .GetEnum<ModerationActionType>(w, moderation_actions::action_type),
            ModerationActionType::WARNING);
  const Uuid ban = Id(Op::TakeModerationAction, [&](B& b) {
    return wire::CreateTakeModerationAction(b, W(mod), W(troll), b.CreateString("ROOM_BAN"),
                                            W(room), b.CreateString("again"), now_ + kDay);
  });
  EXPECT_TRUE(IsBanned(db_, Row(TableId::rooms, room), Row(TableId::users, troll)));
  Done(Op::RevokeModerationAction, [&](B& b) {
    return wire::CreateRevokeModerationAction(b, W(ban), W(mod), b.CreateString("appeal"));
  });
  EXPECT_FALSE(T(TableId::moderation_actions)
                   .IsNull(Row(TableId::moderation_actions, ban), moderation_actions::revoked_at));
  EXPECT_FALSE(IsBanned(db_, Row(TableId::rooms, room), Row(TableId::users, troll)));
  Refused(
      Op::TakeModerationAction,
      [&](B& b) {
        return wire::CreateTakeModerationAction(b, W(mod), W(troll), b.CreateString("SHADOW_BAN"),
                                                nullptr, b.CreateString("x"));
      },
      absl::StatusCode::kInvalidArgument, "'SHADOW_BAN' is not a ModerationActionType");
}

// ---- Media ---------------------------------------------------------------------

TEST_F(DispatchTest, TheRecordingFlow) {
  const Uuid host = Register("host");
  const Uuid room = OpenRoom(host, "rec-room");
  auto start = [&](const char* key) {
    return Id(Op::StartRecording, [&](B& b) {
      auto k = b.CreateString(key);
      auto codec = b.CreateString("opus");
      wire::StartRecordingBuilder s(b);
      s.add_room_id(W(room));
      s.add_actor_id(W(host));
      s.add_storage_key(k);
      s.add_codec(codec);
      s.add_fps(30);
      s.add_is_public(true);
      return s.Finish();
    });
  };
  const Uuid rec = start("rec/1");
  const Table& recs = T(TableId::recordings);
  const RowId r = Row(TableId::recordings, rec);
  auto status = [&] { return recs.GetEnum<RecordingStatus>(r, recordings::status); };
  EXPECT_EQ(status(), RecordingStatus::STARTED);
  EXPECT_EQ(recs.GetInt(r, recordings::fps), 30);
  EXPECT_TRUE(recs.IsNull(r, recordings::bitrate));  // absent optional scalar
  EXPECT_TRUE(recs.GetBool(r, recordings::is_public));

  Done(Op::MarkRecordingInProgress,
       [&](B& b) { return wire::CreateMarkRecordingInProgress(b, W(rec)); });
  EXPECT_EQ(status(), RecordingStatus::IN_PROGRESS);
  Done(Op::StopRecording,
       [&](B& b) { return wire::CreateStopRecording(b, W(rec), W(host), 123456, 60); });
  EXPECT_EQ(status(), RecordingStatus::STOPPED);
  EXPECT_EQ(recs.GetInt(r, recordings::size_bytes), 123456);
  Done(Op::BeginProcessing, [&](B& b) { return wire::CreateBeginProcessing(b, W(rec)); });
  EXPECT_EQ(status(), RecordingStatus::PROCESSING);
  Done(Op::RecordingReady, [&](B& b) {
    return wire::CreateRecordingReady(b, W(rec), b.CreateString("https://cdn/rec1.ogg"),
                                      now_ + kHour);
  });
  EXPECT_EQ(status(), RecordingStatus::READY);
  EXPECT_EQ(recs.GetTime(r, recordings::expires_at), now_ + kHour);
  Refused(
      Op::MarkRecordingInProgress,
      [&](B& b) { return wire::CreateMarkRecordingInProgress(b, W(rec)); },
      absl::StatusCode::kFailedPrecondition, "READY");

  const Uuid rec2 = start("rec/2");
  Done(Op::FailRecording, [&](B& b) {
    return wire::CreateFailRecording(b, W(rec2), b.CreateString("encoder crashed"));
  });
  const RowId r2 = Row(TableId::recordings, rec2);
  EXPECT_EQ(recs.GetEnum<RecordingStatus>(r2, recordings::status), RecordingStatus::FAILED);
  EXPECT_EQ(recs.GetString(r2, recordings::error_message), "encoder crashed");
  Done(Op::DeleteRecording, [&](B& b) { return wire::CreateDeleteRecording(b, W(rec2), W(host)); });
  EXPECT_FALSE(recs.IsNull(r2, recordings::deleted_at));

  now_ += 2 * kHour;  // rec/1 has expired
  const auto& expired = Ok<wire::RowsResult>(
      Op::ExpiredRecordings, [&](B& b) { return wire::CreateExpiredRecordings(b, 10); },
      Role::kReadOnly);
  ASSERT_EQ(expired.rows()->size(), 1u);
  EXPECT_TRUE(Contains(expired.rows()->Get(0)->str(), FormatUuid(rec)));
  Refused(
      Op::ExpiredRecordings, [&](B& b) { return wire::CreateExpiredRecordings(b, 0); },
      absl::StatusCode::kInvalidArgument, "limit must be 1..1000");
}

TEST_F(DispatchTest, CallSessionsAndTelemetry) {
  const Uuid host = Register("host"), guest = Register("guest");
  const Uuid room = OpenRoom(host, "call-room");
  const Uuid part = Join(room, guest);
  auto start = [&] {
    return Id(Op::StartCallSession, [&](B& b) { return wire::CreateStartCallSession(b, W(part)); });
  };
  const Uuid s1 = start();
  Done(Op::ConnectCallSession, [&](B& b) {
    auto region = b.CreateString("eu-west");
    auto transport = b.CreateString("UDP");
    wire::CallTelemetryBuilder t(b);
    t.add_rtt_ms(40);
    t.add_region(region);
    t.add_transport(transport);
    auto tel = t.Finish();
    return wire::CreateConnectCallSession(b, W(s1), tel);
  });
  Done(Op::ReportTelemetry, [&](B& b) {
    wire::CallTelemetryBuilder t(b);
    t.add_jitter_ms(5);
    t.add_packet_loss_bp(12);
    auto tel = t.Finish();
    return wire::CreateReportTelemetry(b, W(s1), tel);
  });
  {
    const auto& s = Ok<wire::CallSessionResult>(
        Op::GetCallSession, [&](B& b) { return wire::CreateGetCallSession(b, W(s1)); },
        Role::kReadOnly);
    EXPECT_EQ(U(s.id()), s1);
    EXPECT_EQ(U(s.participant_id()), part);
    EXPECT_EQ(U(s.user_id()), guest);
    EXPECT_EQ(U(s.room_id()), room);
    EXPECT_EQ(S(s.status()), "CONNECTED");
    EXPECT_EQ(s.connected_at(), std::optional<int64_t>(now_));
    EXPECT_FALSE(s.ended_at().has_value());
    EXPECT_EQ(s.rtt_ms(), std::optional<int32_t>(40));
    EXPECT_EQ(s.jitter_ms(), std::optional<int32_t>(5));
    EXPECT_EQ(s.packet_loss_bp(), std::optional<int32_t>(12));
    EXPECT_FALSE(s.bitrate_kbps().has_value());
    EXPECT_EQ(S(s.region()), "eu-west");
    EXPECT_EQ(S(s.transport()), "UDP");
    EXPECT_EQ(s.failure_reason(), nullptr);
  }
  Done(Op::EndCallSession, [&](B& b) { return wire::CreateEndCallSession(b, W(s1)); });
  const Table& calls = T(TableId::call_sessions);
  EXPECT_EQ(
      calls.GetEnum<CallSessionStatus>(Row(TableId::call_sessions, s1), call_sessions::status),
      CallSessionStatus::ENDED);

  const Uuid s2 = start();
  Done(Op::FailCallSession, [&](B& b) {
    return wire::CreateFailCallSession(b, W(s2), b.CreateString("ICE_FAILED"),
                                       b.CreateString("no candidates"));
  });
  const RowId r2 = Row(TableId::call_sessions, s2);
  EXPECT_EQ(calls.GetEnum<CallSessionStatus>(r2, call_sessions::status), CallSessionStatus::FAILED);
  EXPECT_EQ(calls.GetEnum<CallFailureReason>(r2, call_sessions::failure_reason),
            CallFailureReason::ICE_FAILED);

  const Uuid s3 = start();
  Done(Op::ConnectCallSession, [&](B& b) { return wire::CreateConnectCallSession(b, W(s3)); });
  Done(Op::DropCallSession, [&](B& b) {
    return wire::CreateDropCallSession(b, W(s3), b.CreateString("NETWORK_CHANGED"));
  });
  EXPECT_EQ(
      calls.GetEnum<CallSessionStatus>(Row(TableId::call_sessions, s3), call_sessions::status),
      CallSessionStatus::DROPPED);

  const Uuid s4 = start();
  Refused(
      Op::ReportTelemetry,
      [&](B& b) {
        auto transport = b.CreateString("QUIC");
        wire::CallTelemetryBuilder t(b);
        t.add_transport(transport);
        auto tel = t.Finish();
        return wire::CreateReportTelemetry(b, W(s4), tel);
      },
      absl::StatusCode::kInvalidArgument, "telemetry.transport: 'QUIC' is not a CallTransport");
  Refused(
      Op::FailCallSession,
      [&](B& b) { return wire::CreateFailCallSession(b, W(s4), b.CreateString("GREMLINS")); },
      absl::StatusCode::kInvalidArgument, "'GREMLINS' is not a CallFailureReason");
  Refused(
      Op::GetCallSession, [&](B& b) { return wire::CreateGetCallSession(b, W(RandomId())); },
      absl::StatusCode::kNotFound, "");
}

// ---- Ledger --------------------------------------------------------------------

TEST_F(DispatchTest, WalletsTransfersAndReservations) {
  const Uuid alice = Register("alice"), bob = Register("bob");
  auto balance = [&](const Uuid& user,
                     const char* currency = nullptr) -> const wire::WalletBalanceResult& {
    return Ok<wire::WalletBalanceResult>(
        Op::GetWalletBalance,
        [&](B& b) {
          return wire::CreateGetWalletBalance(b, W(user), currency ? b.CreateString(currency) : 0);
        },
        Role::kReadOnly);
  };
  const Uuid gem = Id(Op::CreateWallet, [&](B& b) {
    return wire::CreateCreateWallet(b, W(alice), b.CreateString("GEM"));
  });
  EXPECT_EQ(T(TableId::wallets).GetString(Row(TableId::wallets, gem), wallets::currency), "GEM");

  const auto& top = Ok<wire::TransferResult>(Op::TopUp, [&](B& b) {
    return wire::CreateTopUp(b, W(alice), 1000, b.CreateString("t1"), 0, b.CreateString("welcome"));
  });
  const Uuid topup = U(top.transfer_id());
  EXPECT_EQ(
      T(TableId::transactions).GetString(Row(TableId::transactions, topup), transactions::memo),
      "welcome");
  const Uuid gem_topup = U(Ok<wire::TransferResult>(Op::TopUp, [&](B& b) {
                             return wire::CreateTopUp(b, W(alice), 50, 0, b.CreateString("GEM"));
                           }).transfer_id());
  EXPECT_EQ(balance(alice, "GEM").balance(), 50);

  Id(Op::SetFee,
     [&](B& b) { return wire::CreateSetFee(b, b.CreateString("GIFT"), 1000, 1, now_ - kMinute); });
  Refused(
      Op::SetFee, [&](B& b) { return wire::CreateSetFee(b, b.CreateString("TIP"), 1, 1, now_); },
      absl::StatusCode::kInvalidArgument, "transfer_type: 'TIP' is not a TransferType");
  const auto& gift = Ok<wire::TransferResult>(Op::Gift, [&](B& b) {
    return wire::CreateGift(b, W(alice), W(bob), 100, nullptr, b.CreateString("g1"));
  });
  EXPECT_EQ(gift.fee(), 10);
  EXPECT_NE(gift.fee_transfer_id(), nullptr);
  {
    const auto& bb = balance(bob);
    EXPECT_EQ(bb.balance(), 90);
    EXPECT_EQ(bb.available(), 90);
    EXPECT_TRUE(bb.ledger_consistent());
  }

  const Uuid hold = U(Ok<wire::TransferResult>(Op::Reserve, [&](B& b) {
                        return wire::CreateReserve(b, W(alice), 200, now_ + kHour, 0, nullptr,
                                                   b.CreateString("r1"));
                      }).transfer_id());
  EXPECT_EQ(balance(alice).pending_debits(), 200);
  Done(Op::PostReservation, [&](B& b) { return wire::CreatePostReservation(b, W(hold), 150); });
  {
    const auto& ab = balance(alice);
    EXPECT_EQ(ab.pending_debits(), 0);
    EXPECT_EQ(ab.balance(), 1000 - 100 - 150);
  }
  const Uuid hold2 = U(Ok<wire::TransferResult>(Op::Reserve, [&](B& b) {
                         return wire::CreateReserve(b, W(alice), 50, now_ + kHour);
                       }).transfer_id());
  Done(Op::VoidReservation, [&](B& b) { return wire::CreateVoidReservation(b, W(hold2)); });
  EXPECT_EQ(T(TableId::transactions)
                .GetEnum<TransferStatus>(Row(TableId::transactions, hold2), transactions::status),
            TransferStatus::VOIDED);

  const Uuid reversal = Id(Op::Reverse, [&](B& b) {
    return wire::CreateReverse(b, W(gem_topup), b.CreateString("mistake"));
  });
  EXPECT_EQ(T(TableId::transactions)
                .GetEnum<TransferType>(Row(TableId::transactions, reversal), transactions::type),
            TransferType::REVERSAL);
  EXPECT_EQ(balance(alice, "GEM").balance(), 0);

  const auto& revenue = Ok<wire::WalletBalanceResult>(
      Op::GetSystemWalletBalance,
      [&](B& b) { return wire::CreateGetSystemWalletBalance(b, b.CreateString("SYSTEM_REVENUE")); },
      Role::kReadOnly);
  EXPECT_EQ(revenue.balance(), 10 + 150);
  Refused(
      Op::GetSystemWalletBalance,
      [&](B& b) { return wire::CreateGetSystemWalletBalance(b, b.CreateString("USER")); },
      absl::StatusCode::kInvalidArgument, "system wallet kind");
  Refused(
      Op::GetSystemWalletBalance,
      [&](B& b) { return wire::CreateGetSystemWalletBalance(b, b.CreateString("BANK")); },
      absl::StatusCode::kInvalidArgument, "'BANK' is not a WalletKind");

  // Alice's COIN transfers, newest first, two a page.
  const auto& page = Ok<wire::TransfersResult>(
      Op::WalletTransactions,
      [&](B& b) { return wire::CreateWalletTransactions(b, W(alice), 0, 2); }, Role::kReadOnly);
  ASSERT_EQ(page.transfers()->size(), 2u);
  EXPECT_EQ(S(page.transfers()->Get(0)->type()), "CALL_CHARGE");
  EXPECT_EQ(S(page.transfers()->Get(0)->status()), "VOIDED");
  EXPECT_TRUE(page.transfers()->Get(0)->outgoing());
  EXPECT_EQ(S(page.transfers()->Get(0)->counterparty_kind()), "SYSTEM_REVENUE");
  ASSERT_NE(page.next(), nullptr);
  const Uuid next = U(page.next());
  const auto& page2 = Ok<wire::TransfersResult>(
      Op::WalletTransactions,
      [&](B& b) { return wire::CreateWalletTransactions(b, W(alice), 0, 100, W(next)); },
      Role::kReadOnly);
  ASSERT_EQ(page2.transfers()->size(), 3u);
  EXPECT_EQ(S(page2.transfers()->Get(page2.transfers()->size() - 1)->type()), "TOP_UP");
  EXPECT_EQ(S(page2.transfers()->Get(page2.transfers()->size() - 1)->memo()), "welcome");
  EXPECT_EQ(page2.next(), nullptr);
}

TEST_F(DispatchTest, PremiumFeaturesAndTheLedgerAudit) {
  const Uuid alice = Register("alice");
  Ok<wire::TransferResult>(Op::TopUp, [&](B& b) { return wire::CreateTopUp(b, W(alice), 1000); });
  auto feature = [&](const char* code, const char* kind, std::optional<int32_t> days) {
    return Id(Op::CreatePremiumFeature, [&](B& b) {
      return wire::CreateCreatePremiumFeature(b, b.CreateString(code), b.CreateString(code),
                                              b.CreateString("a feature"), 100, 0,
                                              b.CreateString(kind), days);
    });
  };
  const Uuid hd = feature("hd-audio", "SUBSCRIPTION", 30);
  EXPECT_EQ(T(TableId::premium_features)
                .GetInt(Row(TableId::premium_features, hd), premium_features::period_days),
            30);
  feature("badge", "ONE_TIME", std::nullopt);
  Refused(
      Op::CreatePremiumFeature,
      [&](B& b) {
        return wire::CreateCreatePremiumFeature(b, b.CreateString("x"), b.CreateString("x"), 0, 10,
                                                0, b.CreateString("FOREVER"));
      },
      absl::StatusCode::kInvalidArgument, "kind: 'FOREVER' is not a PremiumKind");

  auto buy = [&](const char* code) -> const wire::PurchaseResult& {
    return Ok<wire::PurchaseResult>(Op::PurchasePremium, [&](B& b) {
      return wire::CreatePurchasePremium(b, W(alice), b.CreateString(code));
    });
  };
  const auto& sub = buy("hd-audio");
  EXPECT_EQ(sub.expires_at(), std::optional<int64_t>(now_ + 30 * kDay));
  const Uuid sub_id = U(sub.purchase_id());
  Done(Op::CancelSubscription, [&](B& b) { return wire::CreateCancelSubscription(b, W(sub_id)); });
  EXPECT_EQ(T(TableId::premium_purchases)
                .GetEnum<PurchaseStatus>(Row(TableId::premium_purchases, sub_id),
                                         premium_purchases::status),
            PurchaseStatus::CANCELLED);
  const auto& one_time = buy("badge");
  EXPECT_FALSE(one_time.expires_at().has_value());  // one-time: no expiry
  const Uuid badge = U(one_time.purchase_id());
  Id(Op::RefundPurchase,
     [&](B& b) { return wire::CreateRefundPurchase(b, W(badge), b.CreateString("changed mind")); });
  EXPECT_EQ(T(TableId::premium_purchases)
                .GetEnum<PurchaseStatus>(Row(TableId::premium_purchases, badge),
                                         premium_purchases::status),
            PurchaseStatus::REFUNDED);

  // The audit is administration.
  Refused(
      Op::AuditAllWallets, [&](B& b) { return wire::CreateAuditAllWallets(b); },
      absl::StatusCode::kPermissionDenied, "AuditAllWallets is administration");
  Refused(
      Op::AuditAllWallets, [&](B& b) { return wire::CreateAuditAllWallets(b); },
      absl::StatusCode::kPermissionDenied, "admin", Role::kReadOnly);
  const auto& audit = Ok<wire::LedgerAuditResult>(
      Op::AuditAllWallets, [&](B& b) { return wire::CreateAuditAllWallets(b); }, Role::kAdmin);
  EXPECT_TRUE(audit.ok());
  EXPECT_TRUE(audit.balanced());
  EXPECT_EQ(audit.wallets(), static_cast<int64_t>(T(TableId::wallets).live_count()));
  EXPECT_EQ(audit.transfers(), static_cast<int64_t>(T(TableId::transactions).live_count()));
  EXPECT_EQ(audit.mismatches()->size(), 0u);
  EXPECT_EQ(audit.overdrawn()->size(), 0u);
}

// ---- Notifications -------------------------------------------------------------

TEST_F(DispatchTest, NotificationsInvitationsAndSystemEvents) {
  const Uuid alice = Register("alice"), bob = Register("bob");
  const Uuid room = OpenRoom(alice, "inv-room");
  const Uuid hello = Id(Op::SendNotification, [&](B& b) {
    auto title = b.CreateString("Hello");
    auto payload = b.CreateString(R"({"x":1})");
    wire::SendNotificationBuilder n(b);
    n.add_recipient_id(W(bob));
    n.add_actor_id(W(alice));
    n.add_title(title);
    n.add_payload(payload);
    n.add_expires_at(now_ + kDay);
    return n.Finish();
  });
  const Table& notes = T(TableId::notifications);
  EXPECT_EQ(
      notes.GetEnum<NotificationKind>(Row(TableId::notifications, hello), notifications::kind),
      NotificationKind::SYSTEM_MESSAGE);  // the default
  Refused(
      Op::SendNotification,
      [&](B& b) {
        return wire::CreateSendNotification(b, W(bob), b.CreateString("SPAM"), nullptr, nullptr,
                                            b.CreateString("x"));
      },
      absl::StatusCode::kInvalidArgument, "kind: 'SPAM' is not a NotificationKind");

  const auto& inv = Ok<wire::InviteResult>(Op::InviteToRoom, [&](B& b) {
    return wire::CreateInviteToRoom(b, W(room), W(alice), W(bob));
  });
  EXPECT_FALSE(inv.already_invited());
  const Uuid invitation = U(inv.notification_id());
  const auto& again = Ok<wire::InviteResult>(Op::InviteToRoom, [&](B& b) {
    return wire::CreateInviteToRoom(b, W(room), W(alice), W(bob));
  });
  EXPECT_TRUE(again.already_invited());
  EXPECT_EQ(U(again.notification_id()), invitation);

  now_ += kMinute;
  const Uuid missed = Id(Op::RecordMissedCall, [&](B& b) {
    return wire::CreateRecordMissedCall(b, W(bob), W(alice), W(room));
  });
  const auto& list = Ok<wire::NotificationsResult>(
      Op::ListNotifications,
      [&](B& b) { return wire::CreateListNotifications(b, W(bob), false, 10); }, Role::kReadOnly);
  ASSERT_EQ(list.notifications()->size(), 3u);
  const auto* newest = list.notifications()->Get(0);
  EXPECT_EQ(U(newest->id()), missed);
  EXPECT_EQ(S(newest->kind()), "MISSED_CALL");
  EXPECT_EQ(U(newest->actor_id()), alice);
  EXPECT_EQ(U(newest->room_id()), room);
  EXPECT_FALSE(newest->read_at().has_value());
  EXPECT_EQ(S(list.notifications()->Get(2)->payload()), R"({"x":1})");
  EXPECT_EQ(list.notifications()->Get(2)->expires_at(), std::optional<int64_t>(kT0 + kDay));

  Done(Op::MarkNotificationRead,
       [&](B& b) { return wire::CreateMarkNotificationRead(b, W(hello), W(bob)); });
  EXPECT_EQ(notes.GetTime(Row(TableId::notifications, hello), notifications::read_at), now_);
  Refused(
      Op::MarkNotificationRead,
      [&](B& b) { return wire::CreateMarkNotificationRead(b, W(hello), W(alice)); },
      absl::StatusCode::kPermissionDenied, "");
  EXPECT_EQ(Ok<wire::CountResult>(Op::MarkAllRead,
                                  [&](B& b) { return wire::CreateMarkAllRead(b, W(bob)); })
                .count(),
            2);
  EXPECT_EQ(Ok<wire::NotificationsResult>(
                Op::ListNotifications,
                [&](B& b) { return wire::CreateListNotifications(b, W(bob), true); })
                .notifications()
                ->size(),
            0u);
  Done(Op::DeleteNotification,
       [&](B& b) { return wire::CreateDeleteNotification(b, W(hello), W(bob)); });
  EXPECT_FALSE(notes.IsNull(Row(TableId::notifications, hello), notifications::deleted_at));

  const Uuid event = Id(Op::RecordSystemEvent, [&](B& b) {
    auto severity = b.CreateString("WARNING");
    auto component = b.CreateString("net");
    auto code = b.CreateString("SLOW_CLIENT");
    auto message = b.CreateString("a client reads slowly");
    wire::RecordSystemEventBuilder e(b);
    e.add_severity(severity);
    e.add_component(component);
    e.add_code(code);
    e.add_message(message);
    e.add_user_id(W(alice));
    e.add_occurred_at(now_ - kMinute);
    return e.Finish();
  });
  const RowId ev = Row(TableId::system_events, event);
  EXPECT_EQ(T(TableId::system_events).GetEnum<Severity>(ev, system_events::severity),
            Severity::WARNING);
  Refused(
      Op::RecordSystemEvent,
      [&](B& b) {
        return wire::CreateRecordSystemEvent(b, b.CreateString("LOUD"), b.CreateString("c"),
                                             b.CreateString("c"), b.CreateString("m"));
      },
      absl::StatusCode::kInvalidArgument, "severity: 'LOUD' is not a Severity");
}

// ---- Reads ---------------------------------------------------------------------

TEST_F(DispatchTest, HotReadsForReadonlyTokens) {
  const Uuid alice = Register("alice"), bob = Register("bob");
  const Uuid room = OpenRoom(alice, "read-room", {"jazz"});
  Join(room, bob);
  now_ += kMinute;
  Done(Op::LeaveRoom, [&](B& b) { return wire::CreateLeaveRoom(b, W(room), W(bob)); });
  const Role ro = Role::kReadOnly;

  const auto& by_name = Ok<wire::RowsResult>(
      Op::UserByUsername,
      [&](B& b) { return wire::CreateUserByUsername(b, b.CreateString("ALICE")); }, ro);
  ASSERT_EQ(by_name.rows()->size(), 1u);
  EXPECT_TRUE(Contains(by_name.rows()->Get(0)->str(), FormatUuid(alice)));
  EXPECT_FALSE(Contains(by_name.rows()->Get(0)->str(), "argon2"));  // no secrets
  Refused(
      Op::UserByUsername,
      [&](B& b) { return wire::CreateUserByUsername(b, b.CreateString("nobody")); },
      absl::StatusCode::kNotFound, "no user has that username", ro);

  const auto& present = Ok<wire::RowsResult>(
      Op::UserPresentRooms, [&](B& b) { return wire::CreateUserPresentRooms(b, W(alice)); }, ro);
  ASSERT_EQ(present.rows()->size(), 1u);
  EXPECT_TRUE(Contains(present.rows()->Get(0)->str(), FormatUuid(room)));
  EXPECT_EQ(
      Ok<wire::RowsResult>(
          Op::UserPresentRooms, [&](B& b) { return wire::CreateUserPresentRooms(b, W(bob)); }, ro)
          .rows()
          ->size(),
      0u);

  // Alice's audit trail, one row a page.
  const auto& first = Ok<wire::RowsResult>(
      Op::UserAuditTrail, [&](B& b) { return wire::CreateUserAuditTrail(b, W(alice), 1); }, ro);
  ASSERT_EQ(first.rows()->size(), 1u);
  ASSERT_NE(first.next(), nullptr);
  const std::string newest = first.rows()->Get(0)->str();
  const Uuid next = U(first.next());
  const auto& second = Ok<wire::RowsResult>(
      Op::UserAuditTrail, [&](B& b) { return wire::CreateUserAuditTrail(b, W(alice), 1, W(next)); },
      ro);
  ASSERT_EQ(second.rows()->size(), 1u);
  EXPECT_NE(second.rows()->Get(0)->str(), newest);
  Refused(
      Op::UserAuditTrail, [&](B& b) { return wire::CreateUserAuditTrail(b, W(alice), 5000); },
      absl::StatusCode::kInvalidArgument, "limit must be 1..1000", ro);

  const auto& stats = Ok<wire::RoomStatsResult>(
      Op::RoomStatistics, [&](B& b) { return wire::CreateRoomStatistics(b, W(room)); }, ro);
  EXPECT_EQ(stats.participations(), 2);
  EXPECT_EQ(stats.present(), 1);
  EXPECT_EQ(stats.total_duration_seconds(), 60);
  EXPECT_DOUBLE_EQ(stats.average_duration_seconds(), 60.0);

  const auto& live = Ok<wire::RowsResult>(
      Op::LiveRoomsByTag,
      [&](B& b) { return wire::CreateLiveRoomsByTag(b, b.CreateString("jazz"), 10); }, ro);
  ASSERT_EQ(live.rows()->size(), 1u);
  EXPECT_TRUE(Contains(live.rows()->Get(0)->str(), FormatUuid(room)));
  EXPECT_EQ(live.next(), nullptr);

  const auto& tag = Ok<wire::RowsResult>(
      Op::FindTag, [&](B& b) { return wire::CreateFindTag(b, b.CreateString("jazz")); }, ro);
  ASSERT_EQ(tag.rows()->size(), 1u);
  EXPECT_TRUE(Contains(tag.rows()->Get(0)->str(), "\"jazz\""));
  Refused(
      Op::FindTag, [&](B& b) { return wire::CreateFindTag(b, b.CreateString("polka")); },
      absl::StatusCode::kNotFound, "no tag", ro);
}

// ---- Administration and roles ----------------------------------------------------

TEST_F(DispatchTest, RolesGateWritesAndAdministration) {
  const Uuid alice = Register("alice");
  const Uuid room = OpenRoom(alice, "role-room");
  const Uuid bob = Register("bob");
  const std::string before = DumpDb(db_);
  Refused(
      Op::JoinRoom, [&](B& b) { return wire::CreateJoinRoom(b, W(room), W(bob)); },
      absl::StatusCode::kPermissionDenied, "a readonly token may only read", Role::kReadOnly);
  Refused(
      Op::RecordSystemEvent, [&](B& b) { return wire::CreateRecordSystemEvent(b); },
      absl::StatusCode::kPermissionDenied, "readonly", Role::kReadOnly);
  for (Role role : {Role::kApp, Role::kReadOnly}) {
    Refused(
        Op::RunMaintenance, [&](B& b) { return wire::CreateRunMaintenance(b); },
        absl::StatusCode::kPermissionDenied, "", role);
    Refused(
        Op::ListSnapshots, [&](B& b) { return wire::CreateListSnapshots(b); },
        absl::StatusCode::kPermissionDenied, "ListSnapshots is administration", role);
    Refused(
        Op::Checkpoint, [&](B& b) { return wire::CreateCheckpoint(b); },
        absl::StatusCode::kPermissionDenied, "", role);
    Refused(
        Op::DeleteRow,
        [&](B& b) { return wire::CreateDeleteRow(b, b.CreateString("rooms"), W(room)); },
        absl::StatusCode::kPermissionDenied, "", role);
  }
  EXPECT_EQ(DumpDb(db_), before);
  // Reads are fine for readonly tokens.
  Ok<wire::RowsResult>(
      Op::GetRow, [&](B& b) { return wire::CreateGetRow(b, b.CreateString("rooms"), W(room)); },
      Role::kReadOnly);
  Ok<wire::StatsResult>(
      Op::Stats, [&](B& b) { return wire::CreateStats(b); }, Role::kReadOnly);
}

TEST_F(DispatchTest, RunMaintenanceLiftsExpiredRestrictions) {
  const Uuid host = Register("host"), guest = Register("guest");
  const Uuid room = OpenRoom(host, "mx-room");
  const Uuid part = Join(room, guest);
  Done(Op::SetMuted, [&](B& b) {
    return wire::CreateSetMuted(b, W(room), W(host), W(guest), true, now_ + kMinute);
  });
  now_ += 2 * kMinute;
  const auto& r = Ok<wire::MaintenanceResult>(
      Op::RunMaintenance, [&](B& b) { return wire::CreateRunMaintenance(b); }, Role::kAdmin);
  EXPECT_EQ(r.restrictions_lifted(), 1);
  EXPECT_EQ(r.recordings_deleted(), 0);
  EXPECT_EQ(r.reservations_voided(), 0);
  EXPECT_EQ(r.subscriptions_expired(), 0);
  EXPECT_FALSE(T(TableId::room_participants)
                   .GetBool(Row(TableId::room_participants, part), room_participants::is_muted));
}

TEST_F(DispatchTest, ListSnapshotsListsTheDataDirectory) {
  Refused(
      Op::ListSnapshots, [&](B& b) { return wire::CreateListSnapshots(b); },
      absl::StatusCode::kFailedPrecondition, "no data directory", Role::kAdmin);
  testing::TempDir dir;
  Checkpointer checkpointer(PosixFileIo(), dir.path(), engine_.database_id, /*keep=*/3);
  engine_.checkpointer = &checkpointer;
  engine_.data_dir = dir.path();
  EXPECT_EQ(Ok<wire::SnapshotsResult>(
                Op::ListSnapshots, [&](B& b) { return wire::CreateListSnapshots(b); }, Role::kAdmin)
                .snapshots()
                ->size(),
            0u);
  Register("alice");
  const auto& cp = Ok<wire::CheckpointResult>(
      Op::Checkpoint, [&](B& b) { return wire::CreateCheckpoint(b); }, Role::kAdmin);
  const std::string path = S(cp.path());
  const auto& list = Ok<wire::SnapshotsResult>(
      Op::ListSnapshots, [&](B& b) { return wire::CreateListSnapshots(b); }, Role::kAdmin);
  ASSERT_EQ(list.snapshots()->size(), 1u);
  const auto* s = list.snapshots()->Get(0);
  EXPECT_EQ(S(s->path()), path);
  EXPECT_EQ(s->error(), nullptr);
  EXPECT_EQ(U(s->database_id()), engine_.database_id);
  EXPECT_GT(s->total_rows(), 0u);
  EXPECT_GT(s->bytes(), 0u);
}

TEST_F(DispatchTest, GenericWritesAndTheRoomTrailForAdmins) {
  auto field = [](B& b, const char* column, const char* text) {
    return wire::CreateFieldValue(b, b.CreateString(column), wire::ValueKind::String, 0,
                                  b.CreateString(text));
  };
  const Uuid category = Id(
      Op::InsertRow,
      [&](B& b) {
        auto values = b.CreateVector({field(b, "name", "Music")});
        return wire::CreateInsertRow(b, b.CreateString("room_categories"), values);
      },
      Role::kAdmin);
  Done(
      Op::UpdateRow,
      [&](B& b) {
        auto values = b.CreateVector({field(b, "name", "Live music")});
        return wire::CreateUpdateRow(b, b.CreateString("room_categories"), W(category), values);
      },
      Role::kAdmin);
  EXPECT_EQ(T(TableId::room_categories)
                .GetString(Row(TableId::room_categories, category), room_categories::name),
            "Live music");
  Refused(
      Op::UpdateRow,
      [&](B& b) { return wire::CreateUpdateRow(b, b.CreateString("room_categories")); },
      absl::StatusCode::kInvalidArgument, "id is required", Role::kAdmin);
  Refused(
      Op::InsertRow,
      [&](B& b) {
        auto values = b.CreateVector({field(b, "name", "Talk")});
        return wire::CreateInsertRow(b, b.CreateString("room_categories"), values);
      },
      absl::StatusCode::kPermissionDenied, "need an admin token");
  Done(
      Op::DeleteRow,
      [&](B& b) {
        return wire::CreateDeleteRow(b, b.CreateString("room_categories"), W(category));
      },
      Role::kAdmin);
  EXPECT_EQ(T(TableId::room_categories).FindById(category), kNoRow);

  // A room's trail, newest first, after ending it.
  const Uuid host = Register("host");
  const Uuid room = OpenRoom(host, "trail-room");
  now_ += kMinute;
  Done(Op::EndRoom, [&](B& b) { return wire::CreateEndRoom(b, W(room), W(host)); });
  EXPECT_EQ(T(TableId::rooms).GetEnum<RoomStatus>(Row(TableId::rooms, room), rooms::status),
            RoomStatus::ENDED);
  const auto& trail = Ok<wire::RowsResult>(
      Op::RoomAuditTrail, [&](B& b) { return wire::CreateRoomAuditTrail(b, W(room), 2); },
      Role::kReadOnly);
  ASSERT_EQ(trail.rows()->size(), 2u);
  EXPECT_TRUE(Contains(trail.rows()->Get(0)->str(), "ROOM_ENDED"));
  ASSERT_NE(trail.next(), nullptr);
  const Uuid next = U(trail.next());
  const auto& rest = Ok<wire::RowsResult>(
      Op::RoomAuditTrail,
      [&](B& b) { return wire::CreateRoomAuditTrail(b, W(room), 100, W(next)); }, Role::kReadOnly);
  EXPECT_EQ(rest.rows()->size(), 2u);  // the two oldest
  EXPECT_EQ(rest.next(), nullptr);
}

// ---- Batch ---------------------------------------------------------------------

// A batch built from (type, op) pairs.
struct BatchBuilder {
  B& b;
  std::vector<fb::Offset<wire::BatchOp>> ops;
  template <typename T>
  BatchBuilder& Add(Op type, fb::Offset<T> op) {
    ops.push_back(wire::CreateBatchOp(b, type, op.Union()));
    return *this;
  }
  fb::Offset<wire::Batch> Finish() { return wire::CreateBatch(b, b.CreateVector(ops)); }
};

TEST_F(DispatchTest, BatchOpsSeeEachOthersWritesAndAnswerInOrder) {
  const Uuid host = Register("host"), bob = Register("bob");
  const Uuid room = OpenRoom(host, "batch-room");
  const uint64_t commits = db_.commits();
  const auto& r = Ok<wire::BatchResult>(Op::Batch, [&](B& b) {
    BatchBuilder batch{b};
    batch.Add(Op::TopUp, wire::CreateTopUp(b, W(bob), 500));
    batch.Add(Op::JoinRoom, wire::CreateJoinRoom(b, W(room), W(bob)));
    batch.Add(Op::SetHandRaised, wire::CreateSetHandRaised(b, W(room), W(bob), W(bob), true));
    batch.Add(Op::PresentParticipants, wire::CreatePresentParticipants(b, W(room)));
    batch.Add(Op::GetWalletBalance, wire::CreateGetWalletBalance(b, W(bob)));
    batch.Add(Op::RegisterUser,
              wire::CreateRegisterUser(b, b.CreateString("carol"), b.CreateString("c@example.com"),
                                       b.CreateString("h"), b.CreateString("Carol")));
    batch.Add(Op::UserByUsername, wire::CreateUserByUsername(b, b.CreateString("carol")));
    return batch.Finish();
  });
  EXPECT_EQ(db_.commits(), commits + 1);  // one transaction
  const auto* results = r.results();
  ASSERT_EQ(results->size(), 7u);
  const wire::Result expected[] = {wire::Result::TransferResult,
                                   wire::Result::JoinRoomResult,
                                   wire::Result::Empty,
                                   wire::Result::ParticipantsResult,
                                   wire::Result::WalletBalanceResult,
                                   wire::Result::RegisterUserResult,
                                   wire::Result::RowsResult};
  for (uint32_t i = 0; i < results->size(); ++i) {
    EXPECT_EQ(results->Get(i)->id(), i);
    EXPECT_EQ(results->Get(i)->code(), wire::StatusCode::OK);
    EXPECT_EQ(results->Get(i)->result_type(), expected[i]) << "op " << i;
  }
  // Later ops saw the earlier ones' writes.
  const auto* present = results->Get(3)->result_as_ParticipantsResult()->participants();
  ASSERT_EQ(present->size(), 2u);
  EXPECT_EQ(U(present->Get(1)->user_id()), bob);
  EXPECT_TRUE(present->Get(1)->hand_raised());
  EXPECT_EQ(results->Get(4)->result_as_WalletBalanceResult()->balance(), 500);
  const Uuid carol = U(results->Get(5)->result_as_RegisterUserResult()->user_id());
  EXPECT_TRUE(
      Contains(results->Get(6)->result_as_RowsResult()->rows()->Get(0)->str(), FormatUuid(carol)));
  // And all of it committed.
  EXPECT_NE(FindUserByUsername(db_, "carol"), kNoRow);
  EXPECT_EQ(GetWalletBalance(db_, bob)->balance, 500);
}

TEST_F(DispatchTest, ABatchFailureRollsBackEveryEarlierOp) {
  const Uuid host = Register("host"), bob = Register("bob");
  const Uuid room = OpenRoom(host, "atomic-room");
  const std::string before = DumpDb(db_);
  const uint64_t commits = db_.commits();
  Reply reply = Send(Op::Batch, [&](B& b) {
    BatchBuilder batch{b};
    batch.Add(Op::TopUp, wire::CreateTopUp(b, W(bob), 500));
    batch.Add(Op::RegisterUser,
              wire::CreateRegisterUser(b, b.CreateString("carol"), b.CreateString("c@example.com"),
                                       b.CreateString("h"), b.CreateString("Carol")));
    batch.Add(Op::JoinRoom, wire::CreateJoinRoom(b, W(room), W(bob)));
    batch.Add(Op::JoinRoom, wire::CreateJoinRoom(b, W(room), W(bob)));  // already present
    batch.Add(Op::LeaveRoom, wire::CreateLeaveRoom(b, W(room), W(bob)));
    return batch.Finish();
  });
  EXPECT_EQ(reply.code(), absl::StatusCode::kAlreadyExists) << reply.message();
  EXPECT_TRUE(Contains(reply.message(), "batch op 3 (JoinRoom): "));
  EXPECT_EQ(reply.r().result_type(), wire::Result::NONE);
  EXPECT_EQ(DumpDb(db_), before);  // the top-up, the registration and the join are gone
  EXPECT_EQ(db_.commits(), commits);
  EXPECT_EQ(FindUserByUsername(db_, "carol"), kNoRow);
  EXPECT_TRUE(db_.VerifyIndexes().ok());
  // A failing read rolls back too.
  Reply read_fails = Send(Op::Batch, [&](B& b) {
    BatchBuilder batch{b};
    batch.Add(Op::TopUp, wire::CreateTopUp(b, W(bob), 5));
    batch.Add(Op::UserByEmail, wire::CreateUserByEmail(b, b.CreateString("none@example.com")));
    return batch.Finish();
  });
  EXPECT_EQ(read_fails.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(read_fails.message(), "batch op 1 (UserByEmail): no user has that email"));
  EXPECT_EQ(DumpDb(db_), before);
  // And the database takes ordinary requests afterwards.
  Join(room, bob);
}

TEST_F(DispatchTest, BatchRefusalsComeBeforeAnythingRuns) {
  const Uuid alice = Register("alice");
  const std::string before = DumpDb(db_);
  auto with = [&](Op type, auto make) {
    return [=, this](B& b) {
      BatchBuilder batch{b};
      batch.Add(Op::TopUp, wire::CreateTopUp(b, W(alice), 5));
      batch.Add(type, make(b));
      return batch.Finish();
    };
  };
  Refused(Op::Batch, with(Op::Batch, [](B& b) { return wire::CreateBatch(b); }),
          absl::StatusCode::kInvalidArgument, "batch op 1 (Batch): not allowed in a batch");
  Refused(Op::Batch, with(Op::Stats, [](B& b) { return wire::CreateStats(b); }),
          absl::StatusCode::kInvalidArgument, "batch op 1 (Stats)", Role::kAdmin);
  Refused(Op::Batch, with(Op::Checkpoint, [](B& b) { return wire::CreateCheckpoint(b); }),
          absl::StatusCode::kInvalidArgument, "batch op 1 (Checkpoint)", Role::kAdmin);
  Refused(Op::Batch, with(Op::ListSnapshots, [](B& b) { return wire::CreateListSnapshots(b); }),
          absl::StatusCode::kInvalidArgument, "batch op 1 (ListSnapshots)", Role::kAdmin);
  Refused(Op::Batch, with(Op::Hello, [](B& b) { return wire::CreateHello(b, 1); }),
          absl::StatusCode::kInvalidArgument, "batch op 1 (Hello)");
  // Roles are checked per op.
  Refused(Op::Batch, with(Op::RunMaintenance, [](B& b) { return wire::CreateRunMaintenance(b); }),
          absl::StatusCode::kPermissionDenied,
          "batch op 1 (RunMaintenance): RunMaintenance is administration");
  Refused(
      Op::Batch,
      [&](B& b) {
        BatchBuilder batch{b};
        batch.Add(Op::GetRow, wire::CreateGetRow(b, b.CreateString("users"), W(alice)));
        batch.Add(Op::TopUp, wire::CreateTopUp(b, W(alice), 5));
        return batch.Finish();
      },
      absl::StatusCode::kPermissionDenied, "batch op 1 (TopUp): a readonly token may only read",
      Role::kReadOnly);
  // At most 1000 ops.
  Refused(
      Op::Batch,
      [&](B& b) {
        BatchBuilder batch{b};
        for (int i = 0; i < 1001; ++i) {
          batch.Add(Op::TopUp, wire::CreateTopUp(b, W(alice), 1));
        }
        return batch.Finish();
      },
      absl::StatusCode::kInvalidArgument, "at most 1000 ops; 1001 given");
  EXPECT_EQ(DumpDb(db_), before);
  // 1000 is fine.
  const auto& full = Ok<wire::BatchResult>(Op::Batch, [&](B& b) {
    BatchBuilder batch{b};
    for (int i = 0; i < 1000; ++i) batch.Add(Op::TopUp, wire::CreateTopUp(b, W(alice), 1));
    return batch.Finish();
  });
  EXPECT_EQ(full.results()->size(), 1000u);
  EXPECT_EQ(GetWalletBalance(db_, alice)->balance, 1000);
}

TEST_F(DispatchTest, AReadonlyTokenMayBatchReads) {
  const Uuid alice = Register("alice");
  const Uuid room = OpenRoom(alice, "ro-room");
  const auto& r = Ok<wire::BatchResult>(
      Op::Batch,
      [&](B& b) {
        BatchBuilder batch{b};
        batch.Add(Op::GetRow, wire::CreateGetRow(b, b.CreateString("users"), W(alice)));
        batch.Add(Op::PresentParticipants, wire::CreatePresentParticipants(b, W(room)));
        batch.Add(Op::IsBanned, wire::CreateIsBanned(b, W(room), W(alice)));
        return batch.Finish();
      },
      Role::kReadOnly);
  ASSERT_EQ(r.results()->size(), 3u);
  EXPECT_EQ(r.results()->Get(1)->result_as_ParticipantsResult()->participants()->size(), 1u);
  EXPECT_FALSE(r.results()->Get(2)->result_as_BoolResult()->value());
  // An empty batch does nothing, successfully.
  EXPECT_EQ(Ok<wire::BatchResult>(
                Op::Batch, [&](B& b) { return wire::CreateBatch(b); }, Role::kReadOnly)
                .results()
                ->size(),
            0u);
}

// ---- The durability gate ---------------------------------------------------------

TEST_F(DispatchTest, ABatchIsAWriteUnlessAllItsOpsRead) {
  testing::TempDir dir;
  FaultyFileIo faulty(PosixFileIo());
  FileIoLogDevice device(faulty);
  std::unique_ptr<WalWriter> wal = OpenWal(dir.path(), device);
  ASSERT_NE(wal, nullptr);
  WalCommitSink sink(*wal);
  StartLogging(*wal, sink);

  const Uuid alice = Register("alice");
  auto read_batch = [&](B& b) {
    BatchBuilder batch{b};
    batch.Add(Op::GetWalletBalance, wire::CreateGetWalletBalance(b, W(alice)));
    batch.Add(Op::UserByUsername, wire::CreateUserByUsername(b, b.CreateString("alice")));
    return batch.Finish();
  };
  auto write_batch = [&](B& b) {
    BatchBuilder batch{b};
    batch.Add(Op::TopUp, wire::CreateTopUp(b, W(alice), 7));
    batch.Add(Op::TopUp, wire::CreateTopUp(b, W(alice), 8));
    batch.Add(Op::GetWalletBalance, wire::CreateGetWalletBalance(b, W(alice)));
    return batch.Finish();
  };
  // A batch of writes is one WAL record; its answer waits for it.
  const uint64_t lsn = sink.last_lsn();
  Reply w = Send(Op::Batch, write_batch);
  ASSERT_EQ(w.code(), absl::StatusCode::kOk) << w.message();
  EXPECT_EQ(sink.last_lsn(), lsn + 1);
  EXPECT_EQ(w.needs_lsn, lsn + 1);
  EXPECT_EQ(Send(Op::Batch, read_batch, Role::kApp, /*read_unsynced=*/true).needs_lsn, 0u);

  // The log stops (EIO on every write from now on).
  faulty.FailNth(FaultyFileIo::Op::kWrite, 1, EIO, /*sticky=*/true);
  EXPECT_EQ(Send(Op::TopUp, [&](B& b) { return wire::CreateTopUp(b, W(alice), 1); }).code(),
            absl::StatusCode::kOk);  // appended before the failure is known
  EXPECT_FALSE(wal->Sync().ok());
  Reply lost = Send(Op::TopUp, [&](B& b) { return wire::CreateTopUp(b, W(alice), 1); });
  EXPECT_EQ(lost.code(), absl::StatusCode::kDataLoss) << lost.message();
  ASSERT_FALSE(sink.status().ok());
  // Fail-stop: a batch that writes is refused before it runs...
  const std::string before = DumpDb(db_);
  Reply refused = Send(Op::Batch, write_batch);
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DumpDb(db_), before);
  // ...and a batch of reads is still answered.
  Reply reads = Send(Op::Batch, read_batch);
  EXPECT_EQ(reads.code(), absl::StatusCode::kOk) << reads.message();
  StopLogging();
}

// A read waits only for the last transaction that changed a table it read.
TEST_F(DispatchTest, AReadWaitsOnlyForTheTablesItRead) {
  testing::TempDir dir;
  FileIoLogDevice device(PosixFileIo());
  std::unique_ptr<WalWriter> wal = OpenWal(dir.path(), device);
  ASSERT_NE(wal, nullptr);
  WalCommitSink sink(*wal);
  StartLogging(*wal, sink);

  const Uuid alice = Register("alice");
  const uint64_t registered = sink.last_lsn();
  ASSERT_GT(registered, 0u);
  ASSERT_EQ(Send(Op::TopUp, [&](B& b) { return wire::CreateTopUp(b, W(alice), 5); }).code(),
            absl::StatusCode::kOk);
  const uint64_t topped_up = sink.last_lsn();
  ASSERT_GT(topped_up, registered);
  auto by_name = [&](B& b) { return wire::CreateUserByUsername(b, b.CreateString("alice")); };
  auto balance = [&](B& b) { return wire::CreateGetWalletBalance(b, W(alice)); };
  // The top-up changed wallets, transactions and audit_logs, not users.
  Reply user = Send(Op::UserByUsername, by_name);
  ASSERT_EQ(user.code(), absl::StatusCode::kOk) << user.message();
  EXPECT_EQ(user.needs_lsn, registered);
  Reply wallet = Send(Op::GetWalletBalance, balance);
  ASSERT_EQ(wallet.code(), absl::StatusCode::kOk) << wallet.message();
  EXPECT_EQ(wallet.needs_lsn, topped_up);
  // A refused read waits the same way: it may have seen the same state.
  Reply missing = Send(Op::UserByUsername,
                       [&](B& b) { return wire::CreateUserByUsername(b, b.CreateString("bob")); });
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.needs_lsn, registered);
  // A profile change moves the users table on; a write always waits for itself.
  Reply update = Send(Op::UpdateProfile, [&](B& b) {
    return wire::CreateUpdateProfile(b, W(alice), 0, 0, b.CreateString("Alice A."));
  });
  ASSERT_EQ(update.code(), absl::StatusCode::kOk) << update.message();
  EXPECT_EQ(update.needs_lsn, sink.last_lsn());
  const uint64_t updated = sink.last_lsn();
  EXPECT_EQ(Send(Op::UserByUsername, by_name).needs_lsn, updated);
  // The balance read resolves the user too: it waits for the update.
  EXPECT_EQ(Send(Op::GetWalletBalance, balance).needs_lsn, updated);
  ASSERT_EQ(Send(Op::TopUp, [&](B& b) { return wire::CreateTopUp(b, W(alice), 5); }).code(),
            absl::StatusCode::kOk);
  EXPECT_EQ(Send(Op::UserByUsername, by_name).needs_lsn, updated);
  EXPECT_EQ(Send(Op::GetWalletBalance, balance).needs_lsn, sink.last_lsn());
  StopLogging();
}

// ---- Reports --------------------------------------------------------------------

// The sum of `column` over the rows of the result's table `name` (-1: no
// such table or column).
double SumOf(const wire::ReportResult& result, std::string_view name, std::string_view column) {
  for (const wire::ReportTable* t : *result.tables()) {
    if (S(t->name()) != name) continue;
    int c = -1;
    for (uint32_t i = 0; i < t->columns()->size(); ++i) {
      if (t->columns()->Get(i)->string_view() == column) c = static_cast<int>(i);
    }
    if (c < 0) return -1;
    double sum = 0;
    for (const wire::ReportRow* row : *t->rows()) sum += row->values()->Get(c);
    return sum;
  }
  return -1;
}

TEST_F(DispatchTest, AReportRunsDeferredOnWhatItsPinSaw) {
  Register("alice");
  Register("bob");
  auto identity = [&](const char* bucket) {
    return [=, this](B& b) {
      return wire::CreateIdentityReport(b, now_ - kDay, now_ + kDay, b.CreateString(bucket));
    };
  };
  // The engine thread only pins: the answer comes from the deferred task.
  fb::FlatBufferBuilder request;
  Dispatched d = DispatchOp(request, Op::IdentityReport, identity("hour"), Role::kReadOnly);
  ASSERT_TRUE(d.deferred);
  EXPECT_TRUE(d.frame.empty());
  EXPECT_EQ(d.needs_lsn, 0u);  // durability none
  Register("carol");           // after the pin: not in the report
  const std::vector<uint8_t> frame = d.deferred();
  const auto* response = fb::GetSizePrefixedRoot<wire::Response>(frame.data());
  ASSERT_EQ(response->code(), wire::StatusCode::OK) << S(response->message());
  const wire::ReportResult* result = response->result_as_ReportResult();
  ASSERT_NE(result, nullptr);
  ASSERT_EQ(result->tables()->size(), 1u);
  EXPECT_EQ(S(result->tables()->Get(0)->name()), "identity");
  EXPECT_EQ(result->tables()->Get(0)->buckets()->size(), 48u);
  EXPECT_EQ(SumOf(*result, "identity", "signups"), 2);
  EXPECT_GE(result->micros(), 0);

  // Through Send (the deferred task run at once), it sees all three.
  const auto& now = Ok<wire::ReportResult>(Op::IdentityReport, identity("day"), Role::kReadOnly);
  EXPECT_EQ(SumOf(now, "identity", "signups"), 3);
  // Refused at once, on the engine thread: no task.
  fb::FlatBufferBuilder bad;
  Dispatched refused = DispatchOp(bad, Op::IdentityReport, identity("month"), Role::kApp);
  EXPECT_FALSE(refused.deferred);
  Refused(Op::IdentityReport, identity("month"), absl::StatusCode::kInvalidArgument,
          "bucket: unknown bucket 'month'");
  Refused(
      Op::CallReport,
      [&](B& b) {
        return wire::CreateCallReport(b, now_, now_ + kDay, 0, b.CreateString("color"));
      },
      absl::StatusCode::kInvalidArgument,
      "by: 'color' is not a dimension of CallReport (one of none, transport, region, room_type)");
  // Refused by the report itself, on the report thread: an unknown tag.
  Refused(
      Op::RoomReport,
      [&](B& b) {
        return wire::CreateRoomReport(b, now_, now_ + kDay, 0, 0, flatbuffers::nullopt,
                                      b.CreateString("polka"));
      },
      absl::StatusCode::kInvalidArgument, "no tag named 'polka'");
  // AuditCount answers a count.
  const auto& count = Ok<wire::CountResult>(Op::AuditCount, [&](B& b) {
    return wire::CreateAuditCount(b, now_ - kDay, now_ + kDay, b.CreateString("USER_REGISTERED"));
  });
  EXPECT_EQ(count.count(), 3);
  // Not in a batch.
  Refused(
      Op::Batch,
      [&](B& b) {
        BatchBuilder batch{b};
        batch.Add(Op::IdentityReport, identity("day")(b));
        return batch.Finish();
      },
      absl::StatusCode::kInvalidArgument,
      "batch op 0 (IdentityReport): reports cannot run in a batch");
}

// ---- Searches and the hand-raise queue --------------------------------------------

// A search's page as ids (each JSON row's "id").
std::vector<std::string> PageIds(const wire::SearchResult& page) {
  std::vector<std::string> out;
  if (page.rows() == nullptr) return out;
  for (const fb::String* row : *page.rows()) {
    const std::string text = row->str();
    const size_t at = text.find("\"id\":\"");
    out.push_back(at == std::string::npos ? "" : text.substr(at + 6, 36));
  }
  return out;
}

TEST_F(DispatchTest, SearchesMapFiltersRangesSortsAndCursors) {
  const Uuid alice = Register("alice");
  now_ += kMinute;
  const Uuid bob = Register("bob");
  now_ += kMinute;
  const Uuid carol = Register("carol");
  const Role ro = Role::kReadOnly;
  auto users = [&](B& b, Timestamp from, Timestamp to, const char* sort, uint32_t limit,
                   const std::string& after) {
    auto range = wire::CreateTimeRange(b, from, to);
    return wire::CreateSearchUsers(b, 0, 0, 0, 0, 0, fb::nullopt, range, 0, false,
                                   b.CreateString(sort), limit, b.CreateString(after));
  };

  // [from, to): the creation range's ends, inclusive then exclusive.
  const auto& mid = Ok<wire::SearchResult>(
      Op::SearchUsers, [&](B& b) { return users(b, kT0 + kMinute, kT0 + 2 * kMinute, "", 10, ""); },
      ro);
  EXPECT_EQ(PageIds(mid), std::vector<std::string>{FormatUuid(bob)});
  EXPECT_EQ(mid.next(), nullptr);
  EXPECT_TRUE(Contains(S(mid.plan()), "users: scan")) << S(mid.plan());

  // Oldest first, one a page, to the end.
  std::vector<std::string> seen;
  std::string after;
  for (int page = 0; page < 5; ++page) {
    const auto& r = Ok<wire::SearchResult>(
        Op::SearchUsers, [&](B& b) { return users(b, kT0, kT0 + kHour, "created_asc", 1, after); },
        ro);
    for (const std::string& id : PageIds(r)) seen.push_back(id);
    if (r.next() == nullptr) break;
    after = r.next()->str();
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{FormatUuid(alice), FormatUuid(bob), FormatUuid(carol)}));

  // Refusals name the field and list what is legal.
  Refused(
      Op::SearchUsers, [&](B& b) { return users(b, kT0, kT0 + kHour, "oldest", 10, ""); },
      absl::StatusCode::kInvalidArgument,
      "sort: 'oldest' is not a user sort (one of created_desc, created_asc, username_asc, "
      "last_login_desc)",
      ro);
  Refused(
      Op::SearchUsers, [&](B& b) { return users(b, kT0 + kHour, kT0, "", 10, ""); },
      absl::StatusCode::kInvalidArgument, "created: from", ro);
  Refused(
      Op::SearchUsers, [&](B& b) { return users(b, kT0, kT0 + kHour, "", 0, ""); },
      absl::StatusCode::kInvalidArgument, "limit must be 1..1000", ro);
  Refused(
      Op::SearchUsers, [&](B& b) { return users(b, kT0, kT0 + kHour, "", 10, "Zm9v"); },
      absl::StatusCode::kInvalidArgument, "invalid search cursor", ro);
  Refused(
      Op::SearchRooms,
      [&](B& b) {
        const std::vector<std::string> status = {"LIVE", "PAUSED"};
        return wire::CreateSearchRooms(b, 0, 0, b.CreateVectorOfStrings(status));
      },
      absl::StatusCode::kInvalidArgument, "status: 'PAUSED' is not a RoomStatus", ro);
  Refused(
      Op::SearchRooms,
      [&](B& b) {
        auto seats = wire::CreateIntRange(b, 10, 2);
        return wire::CreateSearchRooms(b, 0, 0, 0, false, fb::nullopt, 0, seats);
      },
      absl::StatusCode::kInvalidArgument, "participants: min (10) must be at most max (2)", ro);
  Refused(
      Op::SearchRooms,
      [&](B& b) {
        return wire::CreateSearchRooms(b, 0, 0, 0, false, fb::nullopt, 0, 0, false, W(RandomId()));
      },
      absl::StatusCode::kNotFound, "owner_id: ", ro);

  // In a batch, a search sees the ops before it.
  const auto& r = Ok<wire::BatchResult>(Op::Batch, [&](B& b) {
    BatchBuilder batch{b};
    batch.Add(Op::RegisterUser,
              wire::CreateRegisterUser(b, b.CreateString("dave"), b.CreateString("d@example.com"),
                                       b.CreateString("h"), b.CreateString("Dave")));
    batch.Add(Op::SearchUsers, wire::CreateSearchUsers(b, b.CreateString("DA")));
    return batch.Finish();
  });
  ASSERT_EQ(r.results()->size(), 2u);
  const Uuid dave = U(r.results()->Get(0)->result_as_RegisterUserResult()->user_id());
  EXPECT_EQ(PageIds(*r.results()->Get(1)->result_as_SearchResult()),
            std::vector<std::string>{FormatUuid(dave)});
}

TEST_F(DispatchTest, HandRaiseQueueAndParticipantLiveState) {
  const Uuid host = Register("host"), ann = Register("ann"), bea = Register("bea"),
             cal = Register("cal");
  const Uuid room = OpenRoom(host, "queue-room");
  for (const Uuid& u : {ann, bea, cal}) Join(room, u);
  auto raise = [&](const Uuid& u, bool up) {
    Done(Op::SetHandRaised,
         [&](B& b) { return wire::CreateSetHandRaised(b, W(room), W(u), W(u), up); });
  };
  auto queue = [&]() {
    std::vector<std::pair<Uuid, std::optional<int64_t>>> out;
    const auto& r = Ok<wire::ParticipantsResult>(
        Op::HandRaiseQueue, [&](B& b) { return wire::CreateHandRaiseQueue(b, W(room)); },
        Role::kReadOnly);
    for (const wire::Participant* p : *r.participants()) {
      EXPECT_TRUE(p->hand_raised());
      out.emplace_back(U(p->user_id()), p->hand_raised_at()
                                            ? std::optional<int64_t>(*p->hand_raised_at())
                                            : std::nullopt);
    }
    return out;
  };
  using Entry = std::pair<Uuid, std::optional<int64_t>>;

  now_ += kMinute;
  raise(cal, true);
  now_ += kMinute;
  raise(bea, true);
  raise(ann, true);  // at the same time as bea: join order breaks the tie
  EXPECT_EQ(queue(),
            (std::vector<Entry>{
                {cal, kT0 + kMinute}, {ann, kT0 + 2 * kMinute}, {bea, kT0 + 2 * kMinute}}));
  raise(cal, false);
  EXPECT_EQ(queue(), (std::vector<Entry>{{ann, kT0 + 2 * kMinute}, {bea, kT0 + 2 * kMinute}}));

  // PresentParticipants carries the raise time (absent when lowered) and
  // screen sharing.
  Done(Op::SetScreenSharing,
       [&](B& b) { return wire::CreateSetScreenSharing(b, W(room), W(bea), true); });
  const auto& present = Ok<wire::ParticipantsResult>(
      Op::PresentParticipants, [&](B& b) { return wire::CreatePresentParticipants(b, W(room)); });
  ASSERT_EQ(present.participants()->size(), 4u);
  for (const wire::Participant* p : *present.participants()) {
    const Uuid user = U(p->user_id());
    EXPECT_EQ(p->hand_raised_at().has_value(), user == ann || user == bea) << FormatUuid(user);
    EXPECT_EQ(p->screen_sharing(), user == bea) << FormatUuid(user);
  }
  Refused(
      Op::HandRaiseQueue, [&](B& b) { return wire::CreateHandRaiseQueue(b); },
      absl::StatusCode::kInvalidArgument, "room_id is required");
}

}  // namespace
}  // namespace vox::net
