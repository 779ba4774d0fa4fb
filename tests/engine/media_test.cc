#include "engine/ops/media.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "engine/database.h"
#include "engine/txn.h"
#include "gtest/gtest.h"
#include "schema/str.h"
#include "test_util.h"

namespace vox {
namespace {

using testing::Contains;
using testing::DumpDb;

constexpr Timestamp kNow = 1793491200LL * kMicrosPerSecond;  // 2026-11-01T00:00:00Z
constexpr Timestamp kSecond = kMicrosPerSecond;
constexpr Timestamp kDay = 86400 * kSecond;

class MediaFixture : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(db_.VerifyIndexes().ok()) << db_.VerifyIndexes(); }

  OpContext At(Timestamp t) const { return {.now = t}; }

  RowId AddUser(std::string_view name, UserRole role = UserRole::USER) {
    Txn txn(db_, kNow - kDay);
    const RowId u = txn.Insert(TableId::users, {{users::username, name},
                                                {users::email, StrCat(name, "@example.com")},
                                                {users::display_name, name},
                                                {users::role, role}});
    EXPECT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
    return u;
  }

  RowId AddRoom(RowId owner, std::string_view code, RoomStatus status = RoomStatus::LIVE,
                bool recordable = true) {
    return testing::AddRoom(db_, kNow - kDay, owner, code, StrCat("Room ", code), status,
                            {rooms::is_recordable, recordable});
  }

  RowId AddParticipant(RowId user, RowId room, ParticipantRole role) {
    return testing::AddParticipant(db_, kNow - kDay, user, room, role);
  }

  void SetColumn(TableId t, RowId r, ColumnId c, const Value& v) {
    testing::SetColumn(db_, kNow - kDay, t, r, c, v);
  }

  Uuid Id(TableId t, RowId r) const { return db_.table(t).id(r); }
  Uuid UserId(RowId u) const { return Id(TableId::users, u); }
  Uuid RoomId(RowId r) const { return Id(TableId::rooms, r); }

  // The audit rows written so far, in order.
  std::vector<AuditAction> AuditActions() const {
    const Table& t = db_.table(TableId::audit_logs);
    std::vector<AuditAction> out;
    for (RowId r = 0; r < t.row_count(); ++r) {
      if (t.IsLive(r)) out.push_back(t.GetEnum<AuditAction>(r, audit_logs::action));
    }
    return out;
  }
  // The newest audit row.
  RowId LastAudit() const { return db_.table(TableId::audit_logs).row_count() - 1; }
  std::string LastAuditMetadata() const {
    return std::string(db_.table(TableId::audit_logs).GetString(LastAudit(), audit_logs::metadata));
  }

  Database db_{{.id_seed = 1}};
};

// ---- Recordings ---------------------------------------------------------------

class RecordingFlowTest : public MediaFixture {
 protected:
  void SetUp() override {
    owner_ = AddUser("owner");
    host_ = AddUser("host");
    room_ = AddRoom(owner_, "k3x9");
    host_part_ = AddParticipant(host_, room_, ParticipantRole::HOST);
  }

  absl::StatusOr<Uuid> Start(RowId room, RowId actor, std::string_view key) {
    auto r = StartRecording(db_, At(kNow),
                            {.room_id = RoomId(room),
                             .actor_id = UserId(actor),
                             .storage_key = key,
                             .storage_bucket = "vox-recordings",
                             .filename = "k3x9.opus",
                             .codec = "opus",
                             .resolution = "audio",
                             .fps = 0,
                             .bitrate = 64000,
                             .is_public = true});
    if (!r.ok()) return r.status();
    return r->recording_id;
  }

  // A recording in `status`, reached through the operations, in a room of
  // its own.
  Uuid RecordingIn(RecordingStatus status) {
    const std::string code = StrCat("r", ++rooms_made_);
    const RowId room = AddRoom(owner_, code);
    AddParticipant(host_, room, ParticipantRole::HOST);
    const Uuid rec = *Start(room, host_, StrCat("rec/", code));
    const OpContext ctx = At(kNow);
    auto step = [&](absl::Status s) { EXPECT_TRUE(s.ok()) << s; };
    if (status == RecordingStatus::STARTED) return rec;
    step(MarkRecordingInProgress(db_, ctx, rec));
    if (status == RecordingStatus::IN_PROGRESS) return rec;
    if (status == RecordingStatus::FAILED) {
      step(FailRecording(db_, ctx, rec, "encoder crashed"));
      return rec;
    }
    step(StopRecording(db_, ctx, {.recording_id = rec, .actor_id = UserId(host_)}));
    if (status == RecordingStatus::STOPPED) return rec;
    step(BeginProcessing(db_, ctx, rec));
    if (status == RecordingStatus::PROCESSING) return rec;
    step(RecordingReady(db_, ctx, rec, "https://cdn.example.com/rec.opus"));
    return rec;
  }

  const Table& recs() const { return db_.table(TableId::recordings); }
  RowId Row(const Uuid& id) const { return recs().FindById(id); }
  RecordingStatus StatusOf(const Uuid& id) const {
    return recs().GetEnum<RecordingStatus>(Row(id), recordings::status);
  }

  RowId owner_, host_, room_, host_part_;
  int rooms_made_ = 0;
};

TEST_F(RecordingFlowTest, SeedFlowEndsReady) {
  // 1-3. Host starts recording: STARTED, audited.
  auto rec = Start(room_, host_, "rec/k3x9/1");
  ASSERT_TRUE(rec.ok()) << rec.status();
  RowId r = Row(*rec);
  EXPECT_EQ(StatusOf(*rec), RecordingStatus::STARTED);
  EXPECT_EQ(recs().GetRef(r, recordings::room_id), room_);
  EXPECT_EQ(recs().GetRef(r, recordings::owner_id), host_);
  EXPECT_EQ(recs().GetTime(r, recordings::started_at), kNow);
  EXPECT_EQ(recs().GetString(r, recordings::codec), "opus");
  EXPECT_EQ(recs().GetInt(r, recordings::bitrate), 64000);
  EXPECT_TRUE(recs().GetBool(r, recordings::is_public));
  EXPECT_EQ(AuditActions(), std::vector{AuditAction::RECORDING_STARTED});
  const Table& audit = db_.table(TableId::audit_logs);
  EXPECT_EQ(audit.GetRef(LastAudit(), audit_logs::user_id), host_);
  EXPECT_EQ(audit.GetRef(LastAudit(), audit_logs::room_id), room_);
  EXPECT_TRUE(Contains(LastAuditMetadata(), FormatUuid(*rec)));

  // 4. The recorder reports it running.
  ASSERT_TRUE(MarkRecordingInProgress(db_, At(kNow + kSecond), *rec).ok());
  EXPECT_EQ(StatusOf(*rec), RecordingStatus::IN_PROGRESS);

  // 5-7. Host stops it.
  ASSERT_TRUE(StopRecording(db_, At(kNow + 600 * kSecond),
                            {.recording_id = *rec,
                             .actor_id = UserId(host_),
                             .size_bytes = 4'800'000,
                             .duration_seconds = 600})
                  .ok());
  EXPECT_EQ(StatusOf(*rec), RecordingStatus::STOPPED);
  EXPECT_EQ(recs().GetTime(r, recordings::stopped_at), kNow + 600 * kSecond);
  EXPECT_EQ(recs().GetInt(r, recordings::size_bytes), 4'800'000);
  EXPECT_EQ(recs().GetInt(r, recordings::duration_seconds), 600);
  EXPECT_EQ(AuditActions(),
            (std::vector{AuditAction::RECORDING_STARTED, AuditAction::RECORDING_STOPPED}));
  EXPECT_TRUE(Contains(LastAuditMetadata(), "\"size_bytes\":4800000"));

  // 8-9. Background job processes and publishes it.
  ASSERT_TRUE(BeginProcessing(db_, At(kNow + 601 * kSecond), *rec).ok());
  EXPECT_EQ(StatusOf(*rec), RecordingStatus::PROCESSING);
  ASSERT_TRUE(
      RecordingReady(db_, At(kNow + 700 * kSecond), *rec, "https://cdn/rec.opus", kNow + 30 * kDay)
          .ok());
  EXPECT_EQ(StatusOf(*rec), RecordingStatus::READY);
  EXPECT_EQ(recs().GetString(r, recordings::storage_url), "https://cdn/rec.opus");
  EXPECT_EQ(recs().GetTime(r, recordings::expires_at), kNow + 30 * kDay);
  EXPECT_EQ(recs().GetTime(r, recordings::updated_at), kNow + 700 * kSecond);
  EXPECT_EQ(AuditActions(),
            (std::vector{AuditAction::RECORDING_STARTED, AuditAction::RECORDING_STOPPED,
                         AuditAction::RECORDING_READY}));
  EXPECT_EQ(audit.GetRef(LastAudit(), audit_logs::user_id), kNoRow);  // the background job
}

TEST_F(RecordingFlowTest, FailedRecordingIsRetried) {
  const Uuid rec = RecordingIn(RecordingStatus::IN_PROGRESS);
  const RowId r = Row(rec);
  ASSERT_TRUE(FailRecording(db_, At(kNow + kSecond), rec, "disk full").ok());
  EXPECT_EQ(StatusOf(rec), RecordingStatus::FAILED);
  EXPECT_EQ(recs().GetString(r, recordings::error_message), "disk full");
  EXPECT_EQ(recs().GetTime(r, recordings::stopped_at), kNow + kSecond);
  EXPECT_EQ(AuditActions().back(), AuditAction::RECORDING_FAILED);
  EXPECT_TRUE(Contains(LastAuditMetadata(), "\"from\":\"IN_PROGRESS\""));

  ASSERT_TRUE(BeginProcessing(db_, At(kNow + 2 * kSecond), rec).ok());
  EXPECT_EQ(StatusOf(rec), RecordingStatus::PROCESSING);
  EXPECT_EQ(recs().GetInt(r, recordings::retry_count), 1);
  EXPECT_TRUE(recs().IsNull(r, recordings::error_message));

  ASSERT_TRUE(FailRecording(db_, At(kNow + 3 * kSecond), rec, "transcode failed").ok());
  EXPECT_EQ(recs().GetTime(r, recordings::stopped_at), kNow + kSecond);  // kept
  ASSERT_TRUE(BeginProcessing(db_, At(kNow + 4 * kSecond), rec).ok());
  EXPECT_EQ(recs().GetInt(r, recordings::retry_count), 2);
  ASSERT_TRUE(RecordingReady(db_, At(kNow + 5 * kSecond), rec, "https://cdn/r.opus").ok());
  EXPECT_EQ(StatusOf(rec), RecordingStatus::READY);
  EXPECT_TRUE(recs().IsNull(r, recordings::expires_at));
}

// The whole transition table of media.h: allowed steps succeed from a fresh
// recording; every other one is FailedPrecondition and changes nothing.
TEST_F(RecordingFlowTest, TransitionTableIsEnforced) {
  struct Step {
    const char* verb;
    std::vector<RecordingStatus> from;
    std::function<absl::Status(const Uuid&)> run;
  };
  using S = RecordingStatus;
  const OpContext ctx = At(kNow + kSecond);
  const std::vector<Step> steps = {
      {"mark in progress",
       {S::STARTED},
       [&](const Uuid& r) { return MarkRecordingInProgress(db_, ctx, r); }},
      {"stop",
       {S::STARTED, S::IN_PROGRESS},
       [&](const Uuid& r) {
         return StopRecording(db_, ctx, {.recording_id = r, .actor_id = UserId(host_)});
       }},
      {"begin processing",
       {S::STOPPED, S::FAILED},
       [&](const Uuid& r) { return BeginProcessing(db_, ctx, r); }},
      {"mark ready",
       {S::PROCESSING},
       [&](const Uuid& r) { return RecordingReady(db_, ctx, r, "https://cdn/x"); }},
      {"fail",
       {S::STARTED, S::IN_PROGRESS, S::PROCESSING},
       [&](const Uuid& r) { return FailRecording(db_, ctx, r, "boom"); }},
      {"delete",
       {S::STOPPED, S::FAILED, S::PROCESSING, S::READY},
       [&](const Uuid& r) { return DeleteRecording(db_, ctx, r, UserId(host_)); }},
  };
  const S all[] = {S::STARTED, S::IN_PROGRESS, S::STOPPED, S::FAILED, S::PROCESSING, S::READY};
  int refused = 0;
  for (const Step& step : steps) {
    for (S from : all) {
      SCOPED_TRACE(StrCat(step.verb, " from ", EnumName(EnumId::RecordingStatus, from)));
      const Uuid rec = RecordingIn(from);
      const bool allowed = std::find(step.from.begin(), step.from.end(), from) != step.from.end();
      const std::string before = DumpDb(db_);
      const absl::Status s = step.run(rec);
      if (allowed) {
        EXPECT_TRUE(s.ok()) << s;
        continue;
      }
      ++refused;
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
      EXPECT_TRUE(
          Contains(ToStd(s.message()),
                   StrCat("is ", EnumName(EnumId::RecordingStatus, from), "; cannot ", step.verb)));
      EXPECT_EQ(DumpDb(db_), before);
    }
  }
  EXPECT_EQ(refused, 36 - 13);
}

TEST_F(RecordingFlowTest, StartRequiresALiveRecordableRoom) {
  for (RoomStatus status : {RoomStatus::CREATED, RoomStatus::ENDED, RoomStatus::CANCELLED}) {
    const RowId room = AddRoom(owner_, StrCat("s", static_cast<int>(status)), status);
    AddParticipant(host_, room, ParticipantRole::HOST);
    const std::string with_room = DumpDb(db_);
    auto r = Start(room, host_, "rec/x");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(Contains(ToStd(r.status().message()),
                         StrCat("room 's", static_cast<int>(status), "' is ",
                                EnumName(EnumId::RoomStatus, status), "; cannot record")));
    EXPECT_EQ(DumpDb(db_), with_room);
  }
  const RowId quiet = AddRoom(owner_, "quiet", RoomStatus::LIVE, /*recordable=*/false);
  AddParticipant(host_, quiet, ParticipantRole::HOST);
  EXPECT_TRUE(Contains(ToStd(Start(quiet, host_, "rec/q").status().message()),
                       "room 'quiet' is not recordable"));

  const RowId gone = AddRoom(owner_, "gone");
  AddParticipant(host_, gone, ParticipantRole::HOST);
  SetColumn(TableId::rooms, gone, rooms::deleted_at, kNow - kSecond);
  EXPECT_EQ(Start(gone, host_, "rec/g").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(db_.table(TableId::recordings).live_count(), 0u);
}

TEST_F(RecordingFlowTest, OneRunningRecordingPerRoom) {
  auto first = Start(room_, host_, "rec/1");
  ASSERT_TRUE(first.ok());
  const std::string before = DumpDb(db_);
  auto second = Start(room_, host_, "rec/2");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(ToStd(second.status().message()),
                       "room 'k3x9' is already being recorded (recording 'rec/1')"));
  EXPECT_EQ(DumpDb(db_), before);
  ASSERT_TRUE(MarkRecordingInProgress(db_, At(kNow), *first).ok());
  EXPECT_EQ(Start(room_, host_, "rec/2").status().code(), absl::StatusCode::kFailedPrecondition);

  // Stop and restart: one room, several recordings.
  ASSERT_TRUE(
      StopRecording(db_, At(kNow), {.recording_id = *first, .actor_id = UserId(host_)}).ok());
  EXPECT_TRUE(Start(room_, host_, "rec/2").ok());
}

TEST_F(RecordingFlowTest, StorageKeyIsUnique) {
  const Uuid rec = RecordingIn(RecordingStatus::READY);
  const std::string key(recs().GetString(Row(rec), recordings::storage_key));
  const std::string before = DumpDb(db_);
  auto r = Start(room_, host_, key);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(ToStd(r.status().message()), key));
  EXPECT_EQ(DumpDb(db_), before);
}

TEST_F(RecordingFlowTest, OnlyHostsAndModeratorsStart) {
  const RowId listener = AddUser("listener");
  AddParticipant(listener, room_, ParticipantRole::PARTICIPANT);
  const RowId stranger = AddUser("stranger");
  const RowId left_host = AddUser("lefthost");
  const RowId p = AddParticipant(left_host, room_, ParticipantRole::HOST);
  SetColumn(TableId::room_participants, p, room_participants::left_at, kNow - kSecond);
  const RowId suspended = AddUser("suspended");
  AddParticipant(suspended, room_, ParticipantRole::HOST);
  SetColumn(TableId::users, suspended, users::account_status, AccountStatus::SUSPENDED);

  const std::string before = DumpDb(db_);
  for (RowId who : {listener, stranger, left_host, suspended, owner_}) {
    auto r = Start(room_, who, "rec/denied");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  }
  EXPECT_TRUE(Contains(ToStd(Start(room_, listener, "rec/denied").status().message()),
                       "user 'listener' is not a host of room 'k3x9'; cannot record"));
  EXPECT_EQ(DumpDb(db_), before);

  const RowId cohost = AddUser("cohost");
  AddParticipant(cohost, room_, ParticipantRole::CO_HOST);
  auto by_cohost = Start(room_, cohost, "rec/cohost");
  ASSERT_TRUE(by_cohost.ok()) << by_cohost.status();
  ASSERT_TRUE(
      StopRecording(db_, At(kNow), {.recording_id = *by_cohost, .actor_id = UserId(cohost)}).ok());
  const RowId mod = AddUser("mod", UserRole::MODERATOR);  // not in the room
  EXPECT_TRUE(Start(room_, mod, "rec/mod").ok());
}

TEST_F(RecordingFlowTest, StopAndDeletePermissions) {
  const Uuid rec = *Start(room_, host_, "rec/p");
  const RowId listener = AddUser("listener");
  AddParticipant(listener, room_, ParticipantRole::PARTICIPANT);
  const std::string before = DumpDb(db_);
  auto stop = [&](RowId who) {
    return StopRecording(db_, At(kNow), {.recording_id = rec, .actor_id = UserId(who)});
  };
  EXPECT_EQ(stop(listener).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(DumpDb(db_), before);
  // Another present host may stop it.
  const RowId cohost = AddUser("cohost");
  AddParticipant(cohost, room_, ParticipantRole::CO_HOST);
  ASSERT_TRUE(stop(cohost).ok());

  const std::string stopped = DumpDb(db_);
  const absl::Status denied = DeleteRecording(db_, At(kNow), rec, UserId(cohost));
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(ToStd(denied.message()), "does not own recording 'rec/p'"));
  EXPECT_EQ(DumpDb(db_), stopped);

  const RowId admin = AddUser("admin", UserRole::ADMIN);
  ASSERT_TRUE(DeleteRecording(db_, At(kNow + kSecond), rec, UserId(admin)).ok());
  EXPECT_EQ(recs().GetTime(Row(rec), recordings::deleted_at), kNow + kSecond);
  EXPECT_EQ(AuditActions().back(), AuditAction::RECORDING_DELETED);
  const Table& audit = db_.table(TableId::audit_logs);
  EXPECT_EQ(audit.GetRef(LastAudit(), audit_logs::user_id), admin);
  EXPECT_EQ(audit.GetRef(LastAudit(), audit_logs::target_user_id), host_);  // the owner
}

TEST_F(RecordingFlowTest, OwnerStopsAfterLeavingAndDeletes) {
  const Uuid rec = *Start(room_, host_, "rec/o");
  SetColumn(TableId::room_participants, host_part_, room_participants::left_at, kNow);
  EXPECT_EQ(DeleteRecording(db_, At(kNow), rec, UserId(host_)).code(),
            absl::StatusCode::kFailedPrecondition);  // still capturing
  ASSERT_TRUE(StopRecording(db_, At(kNow), {.recording_id = rec, .actor_id = UserId(host_)}).ok());
  ASSERT_TRUE(DeleteRecording(db_, At(kNow), rec, UserId(host_)).ok());

  // A deleted recording takes no further step.
  const std::string before = DumpDb(db_);
  for (absl::Status s :
       {DeleteRecording(db_, At(kNow), rec, UserId(host_)), BeginProcessing(db_, At(kNow), rec),
        FailRecording(db_, At(kNow), rec, "x")}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(Contains(ToStd(s.message()), "is deleted"));
  }
  EXPECT_EQ(DumpDb(db_), before);
}

TEST_F(RecordingFlowTest, BadInputIsRefusedAndChangesNothing) {
  const std::string before = DumpDb(db_);
  auto start = [&](StartRecordingRequest req) {
    req.room_id = RoomId(room_);
    req.actor_id = UserId(host_);
    return StartRecording(db_, At(kNow), req).status();
  };
  EXPECT_EQ(start({.storage_key = ""}).code(), absl::StatusCode::kInvalidArgument);
  const std::string long_name(256, 'f');
  const absl::Status too_long = start({.storage_key = "rec/a", .filename = long_name});
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(ToStd(too_long.message()), "recordings.filename"));
  EXPECT_EQ(start({.storage_key = std::string(513, 'k')}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start({.storage_key = "rec/a", .fps = 5000}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start({.storage_key = "rec/a", .bitrate = -1}).code(),
            absl::StatusCode::kInvalidArgument);

  const Uuid nobody{.hi = 42, .lo = 42};
  EXPECT_EQ(StartRecording(db_, At(kNow),
                           {.room_id = nobody, .actor_id = UserId(host_), .storage_key = "k"})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(StartRecording(db_, At(kNow),
                           {.room_id = RoomId(room_), .actor_id = nobody, .storage_key = "k"})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  const OpContext ctx = At(kNow);
  for (absl::Status s :
       {MarkRecordingInProgress(db_, ctx, nobody), BeginProcessing(db_, ctx, nobody),
        RecordingReady(db_, ctx, nobody, "u"), FailRecording(db_, ctx, nobody, "e"),
        DeleteRecording(db_, ctx, nobody, UserId(host_)),
        StopRecording(db_, ctx, {.recording_id = nobody, .actor_id = UserId(host_)})}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
    EXPECT_TRUE(Contains(ToStd(s.message()), StrCat("recording ", FormatUuid(nobody))));
  }
  EXPECT_EQ(DumpDb(db_), before);
}

TEST_F(RecordingFlowTest, RefusedStepsWithBadValuesChangeNothing) {
  const Uuid capturing = RecordingIn(RecordingStatus::IN_PROGRESS);
  const Uuid processing = RecordingIn(RecordingStatus::PROCESSING);
  const std::string before = DumpDb(db_);
  // size_bytes is written before duration_seconds fails: the rollback undoes it.
  EXPECT_EQ(StopRecording(db_, At(kNow),
                          {.recording_id = capturing,
                           .actor_id = UserId(host_),
                           .size_bytes = 10,
                           .duration_seconds = -1})
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StopRecording(db_, At(kNow),
                          {.recording_id = capturing, .actor_id = UserId(host_), .size_bytes = -5})
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RecordingReady(db_, At(kNow), processing, "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RecordingReady(db_, At(kNow), processing, std::string(2049, 'u')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RecordingReady(db_, At(kNow), processing, "https://cdn/x", kNow).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FailRecording(db_, At(kNow), processing, "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FailRecording(db_, At(kNow), processing, std::string(2001, 'e')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DumpDb(db_), before);
}

// ---- Expiry -------------------------------------------------------------------

class RecordingExpiryTest : public RecordingFlowTest {
 protected:
  // A READY recording published at kNow that expires at `expires_at`.
  Uuid ReadyExpiringAt(Timestamp expires_at) {
    const Uuid rec = RecordingIn(RecordingStatus::PROCESSING);
    EXPECT_TRUE(RecordingReady(db_, At(kNow), rec, "https://cdn/x", expires_at).ok());
    return rec;
  }
};

TEST_F(RecordingExpiryTest, ExpiredRecordingsIsTheSeedCleanupQuery) {
  const Timestamp later = kNow + 10 * kDay;
  const Uuid oldest = ReadyExpiringAt(later - 3 * kSecond);
  ReadyExpiringAt(later + kSecond);
  ReadyExpiringAt(later);  // expires exactly now: not yet "< now"
  const Uuid old = ReadyExpiringAt(later - kSecond);
  const Uuid deleted = ReadyExpiringAt(later - 5 * kSecond);
  ASSERT_TRUE(DeleteRecording(db_, At(kNow), deleted, UserId(host_)).ok());
  RecordingIn(RecordingStatus::READY);  // never expires

  auto expired = ExpiredRecordings(db_, later, 1000);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 2u);  // expires_at < now, deleted_at IS NULL
  EXPECT_EQ((*expired)[0].id, oldest);
  EXPECT_EQ((*expired)[1].id, old);
  EXPECT_EQ((*expired)[0].expires_at, later - 3 * kSecond);
  EXPECT_EQ((*expired)[0].owner_id, UserId(host_));
  EXPECT_EQ((*expired)[0].storage_bucket, "vox-recordings");
  EXPECT_EQ((*expired)[0].storage_key, recs().GetString(Row(oldest), recordings::storage_key));

  auto first = ExpiredRecordings(db_, later, 1);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].id, oldest);
  EXPECT_EQ(ExpiredRecordings(db_, later, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ExpiredRecordings(db_, kNow, 10)->empty());
}

TEST_F(RecordingExpiryTest, DeleteExpiredSoftDeletesAndAudits) {
  const Timestamp later = kNow + 10 * kDay;
  const Uuid a = ReadyExpiringAt(later - kSecond);
  const Uuid b = ReadyExpiringAt(later);
  const Uuid keep = ReadyExpiringAt(later + kSecond);
  const size_t audits = AuditActions().size();

  auto n = DeleteExpiredRecordings(db_, At(later));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);  // expires_at <= now
  EXPECT_EQ(recs().GetTime(Row(a), recordings::deleted_at), later);
  EXPECT_EQ(recs().GetTime(Row(b), recordings::deleted_at), later);
  EXPECT_TRUE(recs().IsNull(Row(keep), recordings::deleted_at));
  const std::vector<AuditAction> actions = AuditActions();
  ASSERT_EQ(actions.size(), audits + 2);
  EXPECT_EQ(actions.back(), AuditAction::RECORDING_DELETED);
  EXPECT_TRUE(Contains(LastAuditMetadata(), "\"reason\":\"expired\""));
  EXPECT_EQ(db_.table(TableId::audit_logs).GetRef(LastAudit(), audit_logs::user_id), kNoRow);

  EXPECT_EQ(*DeleteExpiredRecordings(db_, At(later)), 0);
  EXPECT_TRUE(ExpiredRecordings(db_, later + kDay, 10)->size() == 1u);
  EXPECT_EQ(*DeleteExpiredRecordings(db_, At(later + kDay), /*limit=*/1), 1);
  EXPECT_EQ(*DeleteExpiredRecordings(db_, At(later + kDay)), 0);
}

TEST_F(RecordingExpiryTest, CapturingRecordingIsNotExpired) {
  const Uuid rec = RecordingIn(RecordingStatus::IN_PROGRESS);
  SetColumn(TableId::recordings, Row(rec), recordings::expires_at, kNow);  // a generic update
  EXPECT_EQ(*DeleteExpiredRecordings(db_, At(kNow + kDay)), 0);
  EXPECT_EQ(StatusOf(rec), RecordingStatus::IN_PROGRESS);
  EXPECT_TRUE(recs().IsNull(Row(rec), recordings::deleted_at));
}

// ---- Call sessions --------------------------------------------------------------

class CallSessionTest : public MediaFixture {
 protected:
  void SetUp() override {
    owner_ = AddUser("owner");
    alice_ = AddUser("alice");
    room_ = AddRoom(owner_, "k3x9");
    participant_ = AddParticipant(alice_, room_, ParticipantRole::PARTICIPANT);
  }

  Uuid ParticipantId() const { return Id(TableId::room_participants, participant_); }

  // A session in `status`, reached through the operations.
  Uuid SessionIn(CallSessionStatus status) {
    const Uuid s = *StartCallSession(db_, At(kNow), ParticipantId());
    auto step = [&](absl::Status st) { EXPECT_TRUE(st.ok()) << st; };
    if (status == CallSessionStatus::FAILED) {
      step(FailCallSession(db_, At(kNow), s, CallFailureReason::TIMEOUT));
    }
    if (status == CallSessionStatus::CONNECTING || status == CallSessionStatus::FAILED) return s;
    step(ConnectCallSession(db_, At(kNow), s));
    if (status == CallSessionStatus::DROPPED) {
      step(DropCallSession(db_, At(kNow), s, CallFailureReason::NETWORK_CHANGED));
    }
    if (status == CallSessionStatus::ENDED) step(EndCallSession(db_, At(kNow), s));
    return s;
  }

  RowId owner_, alice_, room_, participant_;
};

TEST_F(CallSessionTest, ConnectReportAndEnd) {
  auto id = StartCallSession(db_, At(kNow), ParticipantId());
  ASSERT_TRUE(id.ok()) << id.status();
  auto info = GetCallSession(db_, *id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, CallSessionStatus::CONNECTING);
  EXPECT_EQ(info->participant_id, ParticipantId());
  EXPECT_EQ(info->user_id, UserId(alice_));
  EXPECT_EQ(info->room_id, RoomId(room_));
  EXPECT_EQ(info->started_at, kNow);
  EXPECT_FALSE(info->connected_at.has_value());
  EXPECT_FALSE(info->rtt_ms.has_value());
  EXPECT_TRUE(AuditActions().empty());

  ASSERT_TRUE(
      ConnectCallSession(db_, At(kNow + kSecond), *id,
                         {.rtt_ms = 80, .region = "eu-west", .transport = CallTransport::UDP})
          .ok());
  info = GetCallSession(db_, *id);
  EXPECT_EQ(info->status, CallSessionStatus::CONNECTED);
  EXPECT_EQ(info->connected_at, kNow + kSecond);
  EXPECT_EQ(info->rtt_ms, 80);
  EXPECT_EQ(info->region, "eu-west");
  EXPECT_EQ(info->transport, CallTransport::UDP);
  EXPECT_EQ(AuditActions(), std::vector{AuditAction::CALL_CONNECTED});
  const Table& audit = db_.table(TableId::audit_logs);
  EXPECT_EQ(audit.GetRef(LastAudit(), audit_logs::user_id), alice_);
  EXPECT_EQ(audit.GetRef(LastAudit(), audit_logs::room_id), room_);
  EXPECT_TRUE(Contains(LastAuditMetadata(), FormatUuid(*id)));

  // Only the fields given change.
  ASSERT_TRUE(ReportTelemetry(db_, At(kNow + 2 * kSecond), *id,
                              {.jitter_ms = 12, .packet_loss_bp = 150, .bitrate_kbps = 48})
                  .ok());
  info = GetCallSession(db_, *id);
  EXPECT_EQ(info->rtt_ms, 80);
  EXPECT_EQ(info->jitter_ms, 12);
  EXPECT_EQ(info->packet_loss_bp, 150);
  EXPECT_EQ(info->bitrate_kbps, 48);
  EXPECT_EQ(info->region, "eu-west");
  EXPECT_EQ(info->transport, CallTransport::UDP);
  ASSERT_TRUE(ReportTelemetry(db_, At(kNow + 3 * kSecond), *id,
                              {.rtt_ms = 95, .transport = CallTransport::TURN_TLS})
                  .ok());
  info = GetCallSession(db_, *id);
  EXPECT_EQ(info->rtt_ms, 95);
  EXPECT_EQ(info->jitter_ms, 12);
  EXPECT_EQ(info->transport, CallTransport::TURN_TLS);
  EXPECT_EQ(AuditActions().size(), 1u);  // telemetry is not audited

  ASSERT_TRUE(EndCallSession(db_, At(kNow + 60 * kSecond), *id).ok());
  info = GetCallSession(db_, *id);
  EXPECT_EQ(info->status, CallSessionStatus::ENDED);
  EXPECT_EQ(info->ended_at, kNow + 60 * kSecond);
  EXPECT_FALSE(info->failure_reason.has_value());
  EXPECT_EQ(AuditActions(), (std::vector{AuditAction::CALL_CONNECTED, AuditAction::CALL_ENDED}));
}

TEST_F(CallSessionTest, ConnectingSessionFails) {
  const Uuid id = SessionIn(CallSessionStatus::CONNECTING);
  ASSERT_TRUE(ReportTelemetry(db_, At(kNow), id, {.rtt_ms = 900}).ok());  // while connecting
  ASSERT_TRUE(FailCallSession(db_, At(kNow + 5 * kSecond), id, CallFailureReason::ICE_FAILED,
                              "no candidate pair")
                  .ok());
  auto info = GetCallSession(db_, id);
  EXPECT_EQ(info->status, CallSessionStatus::FAILED);
  EXPECT_EQ(info->failure_reason, CallFailureReason::ICE_FAILED);
  EXPECT_EQ(info->failure_detail, "no candidate pair");
  EXPECT_EQ(info->ended_at, kNow + 5 * kSecond);
  EXPECT_FALSE(info->connected_at.has_value());
  EXPECT_EQ(AuditActions(), std::vector{AuditAction::CALL_FAILED});
  EXPECT_TRUE(Contains(LastAuditMetadata(), "\"reason\":\"ICE_FAILED\""));
  EXPECT_FALSE(Contains(LastAuditMetadata(), "dropped"));
}

TEST_F(CallSessionTest, ConnectedSessionDrops) {
  const Uuid id = SessionIn(CallSessionStatus::CONNECTED);
  ASSERT_TRUE(
      DropCallSession(db_, At(kNow + 9 * kSecond), id, CallFailureReason::NETWORK_CHANGED).ok());
  auto info = GetCallSession(db_, id);
  EXPECT_EQ(info->status, CallSessionStatus::DROPPED);
  EXPECT_EQ(info->failure_reason, CallFailureReason::NETWORK_CHANGED);
  EXPECT_EQ(info->failure_detail, "");
  EXPECT_EQ(info->ended_at, kNow + 9 * kSecond);
  EXPECT_EQ(AuditActions(), (std::vector{AuditAction::CALL_CONNECTED, AuditAction::CALL_FAILED}));
  EXPECT_TRUE(Contains(LastAuditMetadata(), "\"dropped\":true"));
}

TEST_F(CallSessionTest, TransitionTableIsEnforced) {
  using S = CallSessionStatus;
  struct Step {
    const char* verb;
    std::vector<S> from;
    std::function<absl::Status(const Uuid&)> run;
  };
  const OpContext ctx = At(kNow + kSecond);
  const std::vector<Step> steps = {
      {"connect", {S::CONNECTING}, [&](const Uuid& s) { return ConnectCallSession(db_, ctx, s); }},
      {"report telemetry",
       {S::CONNECTING, S::CONNECTED},
       [&](const Uuid& s) { return ReportTelemetry(db_, ctx, s, {.rtt_ms = 1}); }},
      {"fail",
       {S::CONNECTING},
       [&](const Uuid& s) { return FailCallSession(db_, ctx, s, CallFailureReason::UNKNOWN); }},
      {"drop",
       {S::CONNECTED},
       [&](const Uuid& s) { return DropCallSession(db_, ctx, s, CallFailureReason::UNKNOWN); }},
      {"end", {S::CONNECTED}, [&](const Uuid& s) { return EndCallSession(db_, ctx, s); }},
  };
  int refused = 0;
  for (const Step& step : steps) {
    for (S from : {S::CONNECTING, S::CONNECTED, S::FAILED, S::DROPPED, S::ENDED}) {
      SCOPED_TRACE(StrCat(step.verb, " from ", EnumName(EnumId::CallSessionStatus, from)));
      const Uuid s = SessionIn(from);
      const std::string before = DumpDb(db_);
      const absl::Status st = step.run(s);
      if (std::find(step.from.begin(), step.from.end(), from) != step.from.end()) {
        EXPECT_TRUE(st.ok()) << st;
        continue;
      }
      ++refused;
      EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
      EXPECT_TRUE(Contains(ToStd(st.message()), StrCat("call session ", FormatUuid(s), " is ",
                                                       EnumName(EnumId::CallSessionStatus, from),
                                                       "; cannot ", step.verb)));
      EXPECT_EQ(DumpDb(db_), before);
    }
  }
  EXPECT_EQ(refused, 25 - 6);
}

TEST_F(CallSessionTest, StartNeedsAPresentParticipant) {
  SetColumn(TableId::room_participants, participant_, room_participants::left_at, kNow);
  const std::string before = DumpDb(db_);
  auto s = StartCallSession(db_, At(kNow), ParticipantId());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(ToStd(s.status().message()), "user 'alice' has left room 'k3x9'"));
  const Uuid nobody{.hi = 7, .lo = 7};
  EXPECT_EQ(StartCallSession(db_, At(kNow), nobody).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(DumpDb(db_), before);
}

TEST_F(CallSessionTest, BadTelemetryChangesNothing) {
  const Uuid connecting = SessionIn(CallSessionStatus::CONNECTING);
  const Uuid connected = SessionIn(CallSessionStatus::CONNECTED);
  const std::string before = DumpDb(db_);
  // Status and connected_at are written before the telemetry fails.
  EXPECT_EQ(ConnectCallSession(db_, At(kNow), connecting, {.packet_loss_bp = 10001}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetCallSession(db_, connecting)->status, CallSessionStatus::CONNECTING);
  EXPECT_EQ(ReportTelemetry(db_, At(kNow), connected, {.rtt_ms = 5, .jitter_ms = -1}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReportTelemetry(db_, At(kNow), connected, {.region = std::string(33, 'r')}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReportTelemetry(db_, At(kNow), connected, {.transport = static_cast<CallTransport>(99)})
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      DropCallSession(db_, At(kNow), connected, CallFailureReason::UNKNOWN, std::string(501, 'd'))
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DumpDb(db_), before);
  EXPECT_TRUE(ReportTelemetry(db_, At(kNow), connected, {.packet_loss_bp = 10000}).ok());
}

TEST_F(CallSessionTest, UnknownSessionIsNotFound) {
  const Uuid nobody{.hi = 9, .lo = 9};
  const OpContext ctx = At(kNow);
  for (absl::Status s :
       {ConnectCallSession(db_, ctx, nobody), ReportTelemetry(db_, ctx, nobody, {}),
        FailCallSession(db_, ctx, nobody, CallFailureReason::UNKNOWN),
        DropCallSession(db_, ctx, nobody, CallFailureReason::UNKNOWN),
        EndCallSession(db_, ctx, nobody), GetCallSession(db_, nobody).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
    EXPECT_TRUE(Contains(ToStd(s.message()), "call session"));
  }
  EXPECT_EQ(db_.table(TableId::call_sessions).live_count(), 0u);
}

TEST_F(CallSessionTest, ParticipantMayReconnectWithANewSession) {
  const Uuid first = SessionIn(CallSessionStatus::DROPPED);
  const Uuid second = SessionIn(CallSessionStatus::CONNECTED);
  EXPECT_NE(first, second);
  size_t sessions = 0;
  db_.range(IndexNo("call_sessions_by_participant"))
      .ScanPrefix({static_cast<int64_t>(participant_)}, [&](RowId) {
        ++sessions;
        return true;
      });
  EXPECT_EQ(sessions, 2u);
  size_t open = 0;
  db_.range(IndexNo("call_sessions_open")).ScanPrefix({static_cast<int64_t>(room_)}, [&](RowId) {
    ++open;
    return true;
  });
  EXPECT_EQ(open, 1u);
}

}  // namespace
}  // namespace vox
