// The reports (engine/report): each one on small hand-made data written
// through the engine's own operations at controlled times, with the answers
// worked out here; bucket edges, empty ranges and bad requests; a pinned
// image that stays put while the engine writes on from another thread; and
// brute-force cross-checks against row-by-row computations on datagen data.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "engine/ops/identity.h"
#include "engine/ops/ledger.h"
#include "engine/ops/media.h"
#include "engine/ops/moderation.h"
#include "engine/ops/notifications.h"
#include "engine/ops/rooms.h"
#include "engine/report/reports.h"
#include "test_util.h"
#include "tools/datagen/datagen.h"

namespace vox {
namespace {

using testing::kT0;
using testing::SetColumn;

constexpr Timestamp kSecond = kMicrosPerSecond;
constexpr Timestamp kMinute = 60 * kSecond;
constexpr Timestamp kHour = 60 * kMinute;
constexpr Timestamp kDay = 24 * kHour;

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                     \
  auto VOX_CONCAT_(result_, __LINE__) = (expr);             \
  ASSERT_TRUE(VOX_CONCAT_(result_, __LINE__).ok())          \
      << VOX_CONCAT_(result_, __LINE__).status().message(); \
  lhs = std::move(VOX_CONCAT_(result_, __LINE__)).value()
#define ASSERT_OK(expr)                   \
  do {                                    \
    const absl::Status s_ = (expr);       \
    ASSERT_TRUE(s_.ok()) << s_.message(); \
  } while (0)

// The table as text, for failure messages: one line a row, hours from kT0.
std::string Dump(const ReportTable& t) {
  std::string out = StrCat("dimension '", t.dimension, "':");
  for (const std::string& c : t.columns) out += StrCat(" ", c);
  out += "\n";
  for (const ReportRow& r : t.rows) {
    out += StrCat("  T0", r.bucket_start >= kT0 ? "+" : "-",
                  (r.bucket_start >= kT0 ? r.bucket_start - kT0 : kT0 - r.bucket_start) / kHour,
                  "h [", r.key, "]");
    for (double v : r.values) out += StrCat(" ", v);
    out += "\n";
  }
  return out;
}

// The row (bucket, key) exists and has these values.
void ExpectRow(const ReportTable& t, Timestamp bucket, std::string_view key,
               std::initializer_list<std::pair<std::string_view, double>> cells) {
  const ReportRow* row = t.Find(bucket, key);
  ASSERT_NE(row, nullptr) << "no row (T0+" << (bucket - kT0) / kHour << "h, " << key << ") in\n"
                          << Dump(t);
  for (const auto& [column, value] : cells) {
    const int c = t.ColumnIndex(column);
    ASSERT_GE(c, 0) << "no column " << column;
    EXPECT_NEAR(row->values[c], value, 1e-9)
        << column << " of (T0+" << (bucket - kT0) / kHour << "h, " << key << ") in\n"
        << Dump(t);
  }
}

// The (bucket offset in hours from kT0, key) of every row, in order.
std::vector<std::pair<int64_t, std::string>> RowKeys(const ReportTable& t) {
  std::vector<std::pair<int64_t, std::string>> out;
  for (const ReportRow& r : t.rows) out.emplace_back((r.bucket_start - kT0) / kHour, r.key);
  return out;
}

class ReportTest : public testing::EngineTest {
 protected:
  static OpContext At(Timestamp t) { return OpContext{.now = t}; }
  static BucketedRange Days(int n) { return {kT0, kT0 + n * kDay, BucketWidth::kDay}; }

  Uuid RegisterAt(const std::string& name, Timestamp at) {
    const std::string email = name + "@example.com";
    auto r = RegisterUser(db_, At(at),
                          {.username = name,
                           .email = email,
                           .password_hash = "$argon2id$v=19$hash",
                           .display_name = name});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->user_id : Uuid{};
  }
  ReportSnapshot Snap() { return ReportSnapshot::Pin(db_); }
};

// ---- Time buckets ------------------------------------------------------------------

TEST(TimeBucketsTest, BucketsAlignToHoursDaysAndMondays) {
  // kT0 (2026-11-01) is a Sunday: its week began Monday 2026-10-26.
  EXPECT_EQ(BucketStart(kT0 + 90 * kMinute, BucketWidth::kHour), kT0 + kHour);
  EXPECT_EQ(BucketStart(kT0 + 23 * kHour, BucketWidth::kDay), kT0);
  EXPECT_EQ(BucketStart(kT0, BucketWidth::kWeek), kT0 - 6 * kDay);
  EXPECT_EQ(BucketStart(kT0 + kDay, BucketWidth::kWeek), kT0 + kDay);  // Monday itself
  EXPECT_EQ(FormatTimestamp(BucketStart(kT0, BucketWidth::kWeek)), "2026-10-26T00:00:00.000000Z");
  // Before the epoch, floor rather than truncation: 1969-12-31T23:00 and
  // the Monday 1969-12-29.
  EXPECT_EQ(BucketStart(-1, BucketWidth::kHour), -kHour);
  EXPECT_EQ(BucketStart(-1, BucketWidth::kWeek), -3 * kDay);
  EXPECT_EQ(BucketStart(0, BucketWidth::kWeek), -3 * kDay);
}

TEST(TimeBucketsTest, RangeCountsPartialBucketsAtBothEnds) {
  ASSERT_OK_AND_ASSIGN(
      TimeBuckets b,
      TimeBuckets::Make({kT0 + 30 * kMinute, kT0 + 3 * kHour + kMinute, BucketWidth::kHour}));
  ASSERT_EQ(b.count(), 4u);
  EXPECT_EQ(b.start(0), kT0);
  EXPECT_EQ(b.start(3), kT0 + 3 * kHour);
  EXPECT_FALSE(b.Contains(kT0 + 29 * kMinute));
  EXPECT_TRUE(b.Contains(kT0 + 30 * kMinute));
  EXPECT_FALSE(b.Contains(kT0 + 3 * kHour + kMinute));  // `to` is excluded
  EXPECT_EQ(b.IndexOf(kT0 + 30 * kMinute), 0u);
  EXPECT_EQ(b.IndexOf(kT0 + kHour), 1u);  // a bucket start belongs to its bucket
  EXPECT_EQ(b.IndexOf(kT0 + 3 * kHour), 3u);
  ASSERT_OK_AND_ASSIGN(TimeBuckets one, TimeBuckets::Make({kT0, kT0 + kDay, BucketWidth::kDay}));
  EXPECT_EQ(one.count(), 1u);
  EXPECT_EQ(one.starts(), std::vector<Timestamp>{kT0});
}

TEST(TimeBucketsTest, BadRangesAreInvalidArguments) {
  auto code = [](BucketedRange r) { return TimeBuckets::Make(r).status().code(); };
  EXPECT_EQ(code({kT0, kT0, BucketWidth::kDay}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({kT0 + 1, kT0, BucketWidth::kDay}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({kT0, kT0 + kDay, static_cast<BucketWidth>(7)}),
            absl::StatusCode::kInvalidArgument);
  // 10,000 hourly buckets are fine; 10,001 are too many.
  EXPECT_TRUE(TimeBuckets::Make({kT0, kT0 + 10'000 * kHour, BucketWidth::kHour}).ok());
  EXPECT_EQ(code({kT0, kT0 + 10'000 * kHour + 1, BucketWidth::kHour}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({INT64_MIN, INT64_MAX, BucketWidth::kWeek}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBucketWidth("week").value(), BucketWidth::kWeek);
  EXPECT_EQ(ParseBucketWidth("month").status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- Identity and access ------------------------------------------------------------

class IdentityReportTest : public ReportTest {
 protected:
  IdentityReportTest() {
    mod_ = RegisterAt("mod", kT0);  // exactly at the range's start
    GrantRole(mod_, UserRole::MODERATOR);
    alice_ = RegisterAt("alice", kT0 + kHour);
    EXPECT_TRUE(RecordLogin(db_, At(kT0 + 2 * kHour),
                            {.user_id = alice_, .identifier = "alice", .credentials_ok = true})
                    .ok());
    EXPECT_TRUE(RecordLogin(db_, At(kT0 + 3 * kHour), {.user_id = alice_, .identifier = "alice"})
                    .ok());  // bad password
    EXPECT_TRUE(Logout(db_, At(kT0 + 4 * kHour), alice_).ok());
    EXPECT_TRUE(RecordLogin(db_, At(kT0 + 5 * kHour),
                            {.user_id = alice_, .identifier = "alice", .credentials_ok = true})
                    .ok());
    bob_ = RegisterAt("bob", kT0 + 25 * kHour);
    carol_ = RegisterAt("carol", kT0 + 26 * kHour);
    EXPECT_TRUE(LinkAuthProvider(
                    db_, At(kT0 + 25 * kHour + 30 * kMinute),
                    {.user_id = bob_, .provider = AuthProviderType::GOOGLE, .provider_id = "g-123"})
                    .ok());
    EXPECT_TRUE(RecordLogin(db_, At(kT0 + 27 * kHour),
                            {.user_id = bob_,
                             .identifier = "bob",
                             .provider = AuthProviderType::GOOGLE,
                             .credentials_ok = true})
                    .ok());
    EXPECT_TRUE(RecordLogin(db_, At(kT0 + 28 * kHour), {.identifier = "nobody"}).ok());
    // Account statuses are an admin's: mod acts as one for this change
    // (the role is set directly, so no report sees it).
    GrantRole(mod_, UserRole::ADMIN);
    EXPECT_TRUE(SetAccountStatus(db_, At(kT0 + 30 * kHour),
                                 {.actor_id = mod_,
                                  .user_id = carol_,
                                  .status = AccountStatus::SUSPENDED,
                                  .reason = "spam"})
                    .ok());
    GrantRole(mod_, UserRole::MODERATOR);
    RegisterAt("dave", kT0 + 2 * kDay);  // exactly at `to`: outside [T0, T0+2d)
  }
  Uuid mod_, alice_, bob_, carol_;
};

TEST_F(IdentityReportTest, CountsSignupsLoginsAndChangesPerDay) {
  ASSERT_OK_AND_ASSIGN(ReportTable t, IdentityReport(Snap(), {.range = Days(2)}));
  EXPECT_EQ(t.dimension, "");
  EXPECT_EQ(t.buckets, (std::vector<Timestamp>{kT0, kT0 + kDay}));
  ASSERT_EQ(t.rows.size(), 2u) << Dump(t);
  ExpectRow(t, kT0, "",
            {{"signups", 2},
             {"logins_succeeded", 2},
             {"logins_failed", 1},
             {"login_failure_rate", 1.0 / 3},
             {"unique_login_users", 1},
             {"logouts", 1},
             {"providers_linked", 0},
             {"account_status_changes", 0}});
  ExpectRow(t, kT0 + kDay, "",
            {{"signups", 2},
             {"logins_succeeded", 1},
             {"logins_failed", 1},
             {"login_failure_rate", 0.5},
             {"unique_login_users", 1},
             {"providers_linked", 1},
             {"account_status_changes", 1}});
}

TEST_F(IdentityReportTest, ByProviderStatusAndRole) {
  ASSERT_OK_AND_ASSIGN(ReportTable p, IdentityReport(Snap(), {.range = Days(2),
                                                              .by = IdentityDimension::kProvider}));
  EXPECT_EQ(p.dimension, "provider");
  using Keys = std::vector<std::pair<int64_t, std::string>>;
  EXPECT_EQ(RowKeys(p),
            (Keys{{0, "(none)"}, {0, "LOCAL"}, {24, "(none)"}, {24, "GOOGLE"}, {24, "LOCAL"}}))
      << Dump(p);
  ExpectRow(p, kT0, "LOCAL", {{"signups", 2}, {"logins_succeeded", 2}, {"logins_failed", 1}});
  ExpectRow(p, kT0, "(none)", {{"logouts", 1}});
  // Sign-ups are LOCAL (RegisterUser); bob's GOOGLE link and sign-in; the
  // unknown user's failed LOCAL attempt; carol's suspension has no provider.
  ExpectRow(p, kT0 + kDay, "LOCAL", {{"signups", 2}, {"logins_failed", 1}});
  ExpectRow(p, kT0 + kDay, "GOOGLE",
            {{"providers_linked", 1}, {"logins_succeeded", 1}, {"unique_login_users", 1}});
  ExpectRow(p, kT0 + kDay, "(none)", {{"account_status_changes", 1}});

  ASSERT_OK_AND_ASSIGN(
      ReportTable s,
      IdentityReport(Snap(), {.range = Days(2), .by = IdentityDimension::kAccountStatus}));
  ExpectRow(s, kT0 + kDay, "SUSPENDED", {{"signups", 1}, {"account_status_changes", 1}});
  ExpectRow(s, kT0 + kDay, "ACTIVE", {{"signups", 1}, {"logins_succeeded", 1}});
  ExpectRow(s, kT0 + kDay, "(none)", {{"logins_failed", 1}});  // no such user

  ASSERT_OK_AND_ASSIGN(ReportTable r,
                       IdentityReport(Snap(), {.range = Days(2), .by = IdentityDimension::kRole}));
  ExpectRow(r, kT0, "MODERATOR", {{"signups", 1}});
  ExpectRow(r, kT0, "USER", {{"signups", 1}, {"logins_succeeded", 2}});
}

TEST_F(IdentityReportTest, FiltersKeepOnlyMatchingRows) {
  ASSERT_OK_AND_ASSIGN(
      ReportTable g,
      IdentityReport(Snap(), {.range = Days(2), .provider = AuthProviderType::GOOGLE}));
  ASSERT_EQ(g.rows.size(), 1u) << Dump(g);
  ExpectRow(g, kT0 + kDay, "",
            {{"signups", 0}, {"logins_succeeded", 1}, {"providers_linked", 1}, {"logouts", 0}});
  ASSERT_OK_AND_ASSIGN(ReportTable m,
                       IdentityReport(Snap(), {.range = Days(2), .role = UserRole::MODERATOR}));
  ASSERT_EQ(m.rows.size(), 1u) << Dump(m);
  ExpectRow(m, kT0, "", {{"signups", 1}, {"logins_succeeded", 0}});
}

TEST_F(IdentityReportTest, HourAndWeekBuckets) {
  ASSERT_OK_AND_ASSIGN(
      ReportTable h, IdentityReport(Snap(), {.range = {kT0, kT0 + 6 * kHour, BucketWidth::kHour}}));
  EXPECT_EQ(h.buckets.size(), 6u);
  // Rows exactly at a bucket start count in that bucket.
  ExpectRow(h, kT0, "", {{"signups", 1}});
  ExpectRow(h, kT0 + kHour, "", {{"signups", 1}});
  ExpectRow(h, kT0 + 2 * kHour, "", {{"logins_succeeded", 1}});
  ExpectRow(h, kT0 + 3 * kHour, "", {{"logins_failed", 1}});
  ExpectRow(h, kT0 + 4 * kHour, "", {{"logouts", 1}});
  ExpectRow(h, kT0 + 5 * kHour, "", {{"logins_succeeded", 1}});
  EXPECT_EQ(h.rows.size(), 6u) << Dump(h);
  // The week of kT0 (a Sunday) starts Monday; the next one holds day two.
  ASSERT_OK_AND_ASSIGN(
      ReportTable w,
      IdentityReport(Snap(), {.range = {kT0 - 7 * kDay, kT0 + 7 * kDay, BucketWidth::kWeek}}));
  EXPECT_EQ(w.buckets, (std::vector<Timestamp>{kT0 - 13 * kDay, kT0 - 6 * kDay, kT0 + kDay}));
  ExpectRow(w, kT0 - 6 * kDay, "", {{"signups", 2}});
  ExpectRow(w, kT0 + kDay, "", {{"signups", 3}});  // bob, carol and dave
}

TEST_F(IdentityReportTest, EmptyRangeHasBucketsButNoRows) {
  ASSERT_OK_AND_ASSIGN(ReportTable t,
                       IdentityReport(Snap(), {.range = {kT0 - 3 * kDay, kT0, BucketWidth::kDay}}));
  EXPECT_EQ(t.buckets.size(), 3u);
  EXPECT_TRUE(t.rows.empty()) << Dump(t);
}

// ---- Rooms ------------------------------------------------------------------------------

class RoomReportTest : public ReportTest {
 protected:
  RoomReportTest() {
    owner_ = RegisterAt("owner", kT0);
    guest_ = RegisterAt("guest", kT0);
    const std::string_view both[] = {"music", "talk"};
    const std::string_view music[] = {"music"};
    auto r1 = CreateAndOpenRoom(db_, At(kT0 + kHour),
                                {.owner_id = owner_, .title = "one", .settings = {.tags = both}});
    EXPECT_TRUE(r1.ok()) << r1.status().message();
    EXPECT_TRUE(JoinRoom(db_, At(kT0 + 2 * kHour), r1->room_id, guest_).ok());
    EXPECT_TRUE(EndRoom(db_, At(kT0 + 3 * kHour), r1->room_id, owner_).ok());  // 7,200 s
    auto r2 = CreateRoom(
        db_, At(kT0 + 2 * kHour),
        {.owner_id = owner_, .title = "two", .settings = {.is_public = false, .tags = music}});
    EXPECT_TRUE(r2.ok()) << r2.status().message();
    EXPECT_TRUE(CancelRoom(db_, At(kT0 + 26 * kHour), r2->room_id, owner_).ok());
    auto r3 = CreateAndOpenRoom(db_, At(kT0 + 25 * kHour), {.owner_id = owner_, .title = "three"});
    EXPECT_TRUE(r3.ok()) << r3.status().message();
    EXPECT_TRUE(EndRoom(db_, At(kT0 + 25 * kHour + 600 * kSecond), r3->room_id, owner_).ok());
    EXPECT_TRUE(CreateRoom(db_, At(kT0 + 2 * kDay), {.owner_id = owner_, .title = "late"}).ok());
  }
  Uuid owner_, guest_;
};

TEST_F(RoomReportTest, LifecycleDurationsAndPeaksPerDay) {
  ASSERT_OK_AND_ASSIGN(ReportTable t, RoomReport(Snap(), {.range = Days(2)}));
  ASSERT_EQ(t.rows.size(), 2u) << Dump(t);
  ExpectRow(t, kT0, "",
            {{"created", 2},
             {"started", 1},
             {"ended", 1},
             {"cancelled", 0},
             {"total_duration_seconds", 7200},
             {"avg_duration_seconds", 7200},
             {"p50_duration_seconds", 7200},
             {"avg_peak_participants", 2},
             {"max_peak_participants", 2},
             {"total_joins", 2},
             {"avg_capacity_used_pct", 2}});  // 2 of the default 100
  ExpectRow(t, kT0 + kDay, "",
            {{"created", 1},
             {"started", 1},
             {"ended", 1},
             {"cancelled", 1},
             {"total_duration_seconds", 600},
             {"max_peak_participants", 1},
             {"total_joins", 1}});
}

TEST_F(RoomReportTest, ByTagCountsARoomUnderEachTag) {
  ASSERT_OK_AND_ASSIGN(ReportTable t,
                       RoomReport(Snap(), {.range = Days(2), .by = RoomDimension::kTag}));
  EXPECT_EQ(t.dimension, "tag");
  using Keys = std::vector<std::pair<int64_t, std::string>>;
  EXPECT_EQ(RowKeys(t), (Keys{{0, "music"}, {0, "talk"}, {24, "(none)"}, {24, "music"}}))
      << Dump(t);
  ExpectRow(t, kT0, "music", {{"created", 2}, {"started", 1}, {"ended", 1}});
  ExpectRow(t, kT0, "talk", {{"created", 1}, {"ended", 1}, {"total_duration_seconds", 7200}});
  ExpectRow(t, kT0 + kDay, "(none)", {{"created", 1}, {"ended", 1}});
  ExpectRow(t, kT0 + kDay, "music", {{"cancelled", 1}, {"created", 0}});
}

TEST_F(RoomReportTest, ByTypeAndFilters) {
  ASSERT_OK_AND_ASSIGN(ReportTable t,
                       RoomReport(Snap(), {.range = Days(2), .by = RoomDimension::kType}));
  ExpectRow(t, kT0, "PUBLIC", {{"created", 1}, {"started", 1}, {"ended", 1}});
  ExpectRow(t, kT0, "PRIVATE", {{"created", 1}, {"started", 0}});
  ExpectRow(t, kT0 + kDay, "PRIVATE", {{"cancelled", 1}});
  ExpectRow(t, kT0 + kDay, "PUBLIC", {{"created", 1}, {"ended", 1}});

  ASSERT_OK_AND_ASSIGN(ReportTable talk, RoomReport(Snap(), {.range = Days(2), .tag = "TALK"}));
  ASSERT_EQ(talk.rows.size(), 1u) << Dump(talk);
  ExpectRow(talk, kT0, "", {{"created", 1}, {"ended", 1}});
  ASSERT_OK_AND_ASSIGN(ReportTable priv,
                       RoomReport(Snap(), {.range = Days(2), .is_public = false}));
  EXPECT_EQ(priv.Sum("created"), 1);
  EXPECT_EQ(priv.Sum("cancelled"), 1);
  EXPECT_EQ(RoomReport(Snap(), {.range = Days(2), .tag = "nope"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- Call connectivity -------------------------------------------------------------------

class CallReportTest : public ReportTest {
 protected:
  CallReportTest() {
    host_ = RegisterAt("host", kT0);
    auto room = CreateAndOpenRoom(db_, At(kT0), {.owner_id = host_, .title = "calls"});
    EXPECT_TRUE(room.ok());
    const Uuid p = room->host_participant_id;
    const Timestamp h1 = kT0 + kHour, h2 = kT0 + 2 * kHour;
    // s1: connected in 2 s, ended normally.
    const Uuid s1 = Start(p, h1);
    EXPECT_TRUE(ConnectCallSession(db_, At(h1 + 2 * kSecond), s1,
                                   {.rtt_ms = 50,
                                    .jitter_ms = 5,
                                    .packet_loss_bp = 10,
                                    .bitrate_kbps = 64,
                                    .region = "eu",
                                    .transport = CallTransport::UDP})
                    .ok());
    EXPECT_TRUE(EndCallSession(db_, At(h1 + kMinute), s1).ok());
    // s2: never connected.
    const Uuid s2 = Start(p, h1 + 10 * kSecond);
    EXPECT_TRUE(
        FailCallSession(db_, At(h1 + 20 * kSecond), s2, CallFailureReason::ICE_FAILED).ok());
    // s3: connected in 1 s, then dropped.
    const Uuid s3 = Start(p, h2);
    EXPECT_TRUE(ConnectCallSession(db_, At(h2 + kSecond), s3,
                                   {.rtt_ms = 150, .region = "us", .transport = CallTransport::TCP})
                    .ok());
    EXPECT_TRUE(
        DropCallSession(db_, At(h2 + kMinute), s3, CallFailureReason::NETWORK_CHANGED).ok());
    // s4: connected in 0.5 s, still up.
    const Uuid s4 = Start(p, h2 + 5 * kSecond);
    EXPECT_TRUE(ConnectCallSession(db_, At(h2 + 5 * kSecond + 500'000), s4,
                                   {.rtt_ms = 100, .region = "eu", .transport = CallTransport::UDP})
                    .ok());
    // s5: still connecting, with a measurement.
    const Uuid s5 = Start(p, kT0 + 3 * kHour);
    EXPECT_TRUE(ReportTelemetry(db_, At(kT0 + 3 * kHour + kSecond), s5, {.rtt_ms = 200}).ok());
  }
  Uuid Start(const Uuid& participant, Timestamp at) {
    auto s = StartCallSession(db_, At(at), participant);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? *s : Uuid{};
  }
  Uuid host_;
};

TEST_F(CallReportTest, OutcomesRatesAndExactPercentiles) {
  ASSERT_OK_AND_ASSIGN(CallReportResult r, CallReport(Snap(), {.range = Days(1)}));
  const ReportTable& t = r.sessions;
  ASSERT_EQ(t.rows.size(), 1u) << Dump(t);
  ExpectRow(t, kT0, "",
            {{"attempts", 5},
             {"connected", 3},
             {"failed", 1},
             {"dropped", 1},
             {"ended", 1},
             {"open", 2},
             {"success_rate", 0.6},
             {"failure_rate", 0.2},
             {"drop_rate", 1.0 / 3},
             // Nearest rank: connect times {500, 1000, 2000} ms.
             {"p50_connect_ms", 1000},
             {"p90_connect_ms", 2000},
             {"p99_connect_ms", 2000},
             // rtt {50, 100, 150, 200}: p50 is the 2nd smallest.
             {"p50_rtt_ms", 100},
             {"p90_rtt_ms", 200},
             {"p50_jitter_ms", 5},
             {"p99_packet_loss_bp", 10},
             {"avg_bitrate_kbps", 64}});
  const ReportTable& f = r.failure_reasons;
  EXPECT_EQ(f.dimension, "failure_reason");
  ASSERT_EQ(f.rows.size(), 2u) << Dump(f);
  ExpectRow(f, kT0, "ICE_FAILED", {{"failed", 1}, {"dropped", 0}, {"share", 0.5}});
  ExpectRow(f, kT0, "NETWORK_CHANGED", {{"failed", 0}, {"dropped", 1}, {"share", 0.5}});
}

TEST_F(CallReportTest, ByHourTransportRegionAndRoomType) {
  ASSERT_OK_AND_ASSIGN(CallReportResult h,
                       CallReport(Snap(), {.range = {kT0, kT0 + 4 * kHour, BucketWidth::kHour}}));
  ExpectRow(h.sessions, kT0 + kHour, "", {{"attempts", 2}, {"connected", 1}, {"failed", 1}});
  ExpectRow(h.sessions, kT0 + 2 * kHour, "", {{"attempts", 2}, {"dropped", 1}, {"open", 1}});
  ExpectRow(h.sessions, kT0 + 3 * kHour, "", {{"attempts", 1}, {"p50_rtt_ms", 200}});
  ASSERT_OK_AND_ASSIGN(CallReportResult t,
                       CallReport(Snap(), {.range = Days(1), .by = CallDimension::kTransport}));
  ExpectRow(t.sessions, kT0, "UDP", {{"attempts", 2}, {"connected", 2}, {"p50_rtt_ms", 50}});
  ExpectRow(t.sessions, kT0, "TCP", {{"attempts", 1}, {"dropped", 1}});
  ExpectRow(t.sessions, kT0, "(none)", {{"attempts", 2}, {"failed", 1}});
  ASSERT_OK_AND_ASSIGN(CallReportResult g,
                       CallReport(Snap(), {.range = Days(1), .by = CallDimension::kRegion}));
  ExpectRow(g.sessions, kT0, "eu", {{"attempts", 2}});
  ExpectRow(g.sessions, kT0, "us", {{"attempts", 1}});
  ASSERT_OK_AND_ASSIGN(CallReportResult p,
                       CallReport(Snap(), {.range = Days(1), .by = CallDimension::kRoomType}));
  ExpectRow(p.sessions, kT0, "PUBLIC", {{"attempts", 5}});
  ASSERT_OK_AND_ASSIGN(CallReportResult eu, CallReport(Snap(), {.range = Days(1), .region = "eu"}));
  ExpectRow(eu.sessions, kT0, "", {{"attempts", 2}, {"connected", 2}, {"ended", 1}, {"open", 1}});
  EXPECT_TRUE(eu.failure_reasons.rows.empty());
}

// ---- Engagement --------------------------------------------------------------------------

class EngagementReportTest : public ReportTest {
 protected:
  EngagementReportTest() {
    const Uuid host = RegisterAt("host", kT0);
    const Uuid u1 = RegisterAt("user1", kT0);
    const Uuid u2 = RegisterAt("user2", kT0);
    const Uuid u3 = RegisterAt("user3", kT0);
    const std::string_view music[] = {"music"};
    auto a = CreateAndOpenRoom(db_, At(kT0 + kHour),
                               {.owner_id = host, .title = "a", .settings = {.tags = music}});
    EXPECT_TRUE(a.ok()) << a.status().message();
    const Uuid room = a->room_id;
    EXPECT_TRUE(JoinRoom(db_, At(kT0 + kHour + 10 * kMinute), room, u1).ok());
    EXPECT_TRUE(JoinRoom(db_, At(kT0 + 2 * kHour), room, u2).ok());
    EXPECT_TRUE(LeaveRoom(db_, At(kT0 + 2 * kHour), room, u1).ok());  // 3,000 s
    EXPECT_TRUE(SetMuted(db_, At(kT0 + 2 * kHour + kMinute), room, u2, u2, true).ok());
    EXPECT_TRUE(SetHandRaised(db_, At(kT0 + 2 * kHour + 2 * kMinute), room, u2, u2, true).ok());
    EXPECT_TRUE(JoinRoom(db_, At(kT0 + 3 * kHour), room, u1).ok());        // a second participation
    auto muted = MuteAll(db_, At(kT0 + 3 * kHour + kMinute), room, host);  // u1 only
    EXPECT_TRUE(muted.ok() && *muted == 1);
    EXPECT_TRUE(SetScreenSharing(db_, At(kT0 + 3 * kHour + 30 * kMinute), room, u1, true).ok());
    EXPECT_TRUE(
        KickParticipant(db_, At(kT0 + 4 * kHour), room, host, u2, "noise").ok());  // 7,200 s
    EXPECT_TRUE(EndRoom(db_, At(kT0 + 5 * kHour), room, host).ok());  // host 14,400 s, u1 7,200 s
    auto b = CreateAndOpenRoom(db_, At(kT0 + 25 * kHour),
                               {.owner_id = u3, .title = "b", .settings = {.is_public = false}});
    EXPECT_TRUE(b.ok()) << b.status().message();
    EXPECT_TRUE(EndRoom(db_, At(kT0 + 25 * kHour + 100 * kSecond), b->room_id, u3).ok());
  }
};

TEST_F(EngagementReportTest, JoinsTimeInRoomAndInteractions) {
  ASSERT_OK_AND_ASSIGN(ReportTable t, EngagementReport(Snap(), {.range = Days(2)}));
  ASSERT_EQ(t.rows.size(), 2u) << Dump(t);
  ExpectRow(t, kT0, "",
            {{"joins", 4},
             {"unique_users", 3},
             {"leaves", 4},
             {"kicks", 1},
             {"total_time_in_room_seconds", 31800},
             {"avg_time_in_room_seconds", 7950},
             {"p50_time_in_room_seconds", 7200},  // {3000, 7200, 7200, 14400}
             {"p90_time_in_room_seconds", 14400},
             {"mutes", 2},  // u2's own, and MuteAll's one
             {"hand_raises", 1},
             {"screen_shares", 1}});
  ExpectRow(t, kT0 + kDay, "",
            {{"joins", 1},
             {"unique_users", 1},
             {"leaves", 1},
             {"total_time_in_room_seconds", 100},
             {"mutes", 0}});
}

TEST_F(EngagementReportTest, ByTagTypeAndFilter) {
  ASSERT_OK_AND_ASSIGN(
      ReportTable t, EngagementReport(Snap(), {.range = Days(2), .by = EngagementDimension::kTag}));
  ExpectRow(t, kT0, "music", {{"joins", 4}, {"mutes", 2}});
  ExpectRow(t, kT0 + kDay, "(none)", {{"joins", 1}});
  ASSERT_OK_AND_ASSIGN(
      ReportTable p,
      EngagementReport(Snap(), {.range = Days(2), .by = EngagementDimension::kRoomType}));
  ExpectRow(p, kT0, "PUBLIC", {{"joins", 4}});
  ExpectRow(p, kT0 + kDay, "PRIVATE", {{"joins", 1}});
  ASSERT_OK_AND_ASSIGN(ReportTable priv,
                       EngagementReport(Snap(), {.range = Days(2), .is_public = false}));
  ASSERT_EQ(priv.rows.size(), 1u) << Dump(priv);
  ExpectRow(priv, kT0 + kDay, "", {{"joins", 1}});
}

// ---- Moderation ----------------------------------------------------------------------------

class ModerationReportTest : public ReportTest {
 protected:
  ModerationReportTest() {
    mod1_ = RegisterAt("mod1", kT0);
    mod2_ = RegisterAt("mod2", kT0);
    GrantRole(mod1_, UserRole::MODERATOR);
    GrantRole(mod2_, UserRole::MODERATOR);
    const Uuid host = RegisterAt("host", kT0);
    const Uuid u1 = RegisterAt("user1", kT0);
    const Uuid u2 = RegisterAt("user2", kT0);
    auto room = CreateAndOpenRoom(db_, At(kT0 + kHour), {.owner_id = host, .title = "r"});
    EXPECT_TRUE(room.ok());
    EXPECT_TRUE(JoinRoom(db_, At(kT0 + kHour), room->room_id, u1).ok());
    auto act = [&](Timestamp at, const Uuid& mod, const Uuid& target, ModerationActionType type,
                   bool in_room, std::optional<Timestamp> expires = std::nullopt) {
      auto id =
          TakeModerationAction(db_, At(at),
                               {.moderator_id = mod,
                                .target_user_id = target,
                                .type = type,
                                .room_id = in_room ? std::optional(room->room_id) : std::nullopt,
                                .reason = "r",
                                .expires_at = expires});
      EXPECT_TRUE(id.ok()) << id.status().message();
      return id.ok() ? *id : Uuid{};
    };
    const Uuid a1 = act(kT0 + 2 * kHour, mod1_, u1, ModerationActionType::MUTE, true);
    act(kT0 + 3 * kHour, mod1_, u2, ModerationActionType::WARNING, false);
    act(kT0 + 4 * kHour, mod2_, u2, ModerationActionType::SUSPENSION, false, kT0 + 5 * kHour);
    EXPECT_TRUE(LiftExpiredRestrictions(db_, At(kT0 + 5 * kHour)).ok());
    act(kT0 + 25 * kHour, mod1_, u1, ModerationActionType::KICK, true);
    EXPECT_TRUE(RevokeModerationAction(db_, At(kT0 + 26 * kHour), a1, mod2_, "appeal").ok());
  }
  Uuid mod1_, mod2_;
};

TEST_F(ModerationReportTest, ActionsRevocationsAndTimes) {
  ASSERT_OK_AND_ASSIGN(ModerationReportResult r, ModerationReport(Snap(), {.range = Days(2)}));
  const ReportTable& t = r.actions;
  ASSERT_EQ(t.rows.size(), 2u) << Dump(t);
  ExpectRow(t, kT0, "",
            {{"actions", 3},
             {"revoked", 1},  // the mute, revoked the next day
             {"revoke_rate", 1.0 / 3},
             {"lifted", 1},  // the suspension expired
             {"distinct_targets", 2},
             {"p50_seconds_to_revoke", 86400},
             {"p50_target_presence_seconds", 3600},  // u1 joined an hour before the mute
             {"revocations", 0}});
  ExpectRow(
      t, kT0 + kDay, "",
      {{"actions", 1}, {"revoked", 0}, {"p90_target_presence_seconds", 86400}, {"revocations", 1}});
}

TEST_F(ModerationReportTest, PerModeratorAndType) {
  ASSERT_OK_AND_ASSIGN(
      ModerationReportResult m,
      ModerationReport(Snap(), {.range = Days(2), .by = ModerationDimension::kModerator}));
  ExpectRow(m.actions, kT0, "mod1", {{"actions", 2}, {"revoked", 1}});
  ExpectRow(m.actions, kT0, "mod2", {{"actions", 1}, {"lifted", 1}});
  ExpectRow(m.actions, kT0 + kDay, "mod1", {{"actions", 1}, {"revocations", 1}});
  ASSERT_OK_AND_ASSIGN(
      ModerationReportResult t,
      ModerationReport(Snap(), {.range = Days(2), .by = ModerationDimension::kType}));
  ExpectRow(t.actions, kT0, "MUTE", {{"actions", 1}, {"revoked", 1}});
  ExpectRow(t.actions, kT0, "SUSPENSION", {{"actions", 1}, {"lifted", 1}});
  ExpectRow(t.actions, kT0 + kDay, "KICK", {{"actions", 1}});
  ExpectRow(t.actions, kT0 + kDay, "MUTE", {{"actions", 0}, {"revocations", 1}});

  // The accountability table, in rank order.
  const ReportTable& top = m.moderators;
  ASSERT_EQ(top.rows.size(), 2u) << Dump(top);
  EXPECT_EQ(top.rows[0].key, "mod1");
  EXPECT_EQ(top.rows[1].key, "mod2");
  ExpectRow(top, kT0, "mod1",
            {{"actions", 3},
             {"warnings", 1},
             {"mutes", 1},
             {"kicks", 1},
             {"revoked", 1},
             {"revoke_rate", 1.0 / 3},
             {"distinct_targets", 2},
             {"revocations_made", 0}});
  ExpectRow(top, kT0, "mod2",
            {{"actions", 1}, {"suspensions", 1}, {"distinct_targets", 1}, {"revocations_made", 1}});
  ASSERT_OK_AND_ASSIGN(ModerationReportResult one,
                       ModerationReport(Snap(), {.range = Days(2), .top_n = 1}));
  ASSERT_EQ(one.moderators.rows.size(), 1u);
  EXPECT_EQ(one.moderators.rows[0].key, "mod1");
  ASSERT_OK_AND_ASSIGN(ModerationReportResult only2,
                       ModerationReport(Snap(), {.range = Days(2), .moderator_id = mod2_}));
  EXPECT_EQ(only2.actions.Sum("actions"), 1);
  EXPECT_EQ(
      ModerationReport(Snap(), {.range = Days(2), .moderator_id = Uuid{1, 2}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ModerationReport(Snap(), {.range = Days(2), .top_n = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- Economy --------------------------------------------------------------------------------

class EconomyReportTest : public ReportTest {
 protected:
  EconomyReportTest() {
    alice_ = RegisterAt("alice", kT0);
    bob_ = RegisterAt("bob", kT0);
    EXPECT_TRUE(SetFee(db_, At(kT0),
                       {.transfer_type = TransferType::GIFT,
                        .fee_bps = 1000,
                        .min_fee = 1,
                        .effective_from = kT0})
                    .ok());
    EXPECT_TRUE(TopUp(db_, At(kT0 + kHour), {.user_id = alice_, .amount = 1000}).ok());
    auto gift = Gift(db_, At(kT0 + 2 * kHour),
                     {.sender_id = alice_, .receiver_id = bob_, .amount = 100});  // 90 + 10 fee
    EXPECT_TRUE(gift.ok()) << gift.status().message();
    auto hold = Reserve(db_, At(kT0 + 3 * kHour),
                        {.payer_id = alice_, .amount = 50, .timeout_at = kT0 + 10 * kHour});
    EXPECT_TRUE(hold.ok());
    EXPECT_TRUE(PostReservation(db_, At(kT0 + 4 * kHour), hold->transfer_id, 30).ok());
    EXPECT_TRUE(Reserve(db_, At(kT0 + 5 * kHour),
                        {.payer_id = alice_, .amount = 20, .timeout_at = kT0 + 10 * kHour})
                    .ok());  // stays pending
    auto voided = Reserve(db_, At(kT0 + 6 * kHour),
                          {.payer_id = alice_, .amount = 5, .timeout_at = kT0 + 10 * kHour});
    EXPECT_TRUE(voided.ok());
    EXPECT_TRUE(VoidReservation(db_, At(kT0 + 7 * kHour), voided->transfer_id).ok());
    // Day two: bob tops up, buys, is refunded; the gift is reversed.
    EXPECT_TRUE(TopUp(db_, At(kT0 + 25 * kHour), {.user_id = bob_, .amount = 500}).ok());
    EXPECT_TRUE(
        CreatePremiumFeature(db_, At(kT0), {.code = "badge", .name = "Badge", .price = 200}).ok());
    auto bought =
        PurchasePremium(db_, At(kT0 + 26 * kHour), {.user_id = bob_, .feature_code = "badge"});
    EXPECT_TRUE(bought.ok()) << bought.status().message();
    EXPECT_TRUE(
        RefundPurchase(db_, At(kT0 + 27 * kHour), bought->purchase_id, "changed mind").ok());
    EXPECT_TRUE(Reverse(db_, At(kT0 + 28 * kHour), gift->gift_id, "mistake").ok());
  }
  Uuid alice_, bob_;
};

TEST_F(EconomyReportTest, VolumeByDayTypeAndStatus) {
  ASSERT_OK_AND_ASSIGN(EconomyReportResult r, EconomyReport(Snap(), {.range = Days(2)}));
  ASSERT_EQ(r.volume.rows.size(), 2u) << Dump(r.volume);
  ExpectRow(r.volume, kT0, "",
            {{"transfers", 6},
             {"posted", 4},
             {"pending", 1},
             {"voided", 1},
             {"posted_amount", 1130},  // 1000 + 90 + 10 + 30
             {"pending_amount", 20},
             {"avg_posted_amount", 282.5},
             {"top_ups", 1},
             {"top_up_amount", 1000},
             {"gifts", 1},
             {"gift_amount", 90},
             {"fee_amount", 10},
             {"call_charge_amount", 30}});
  ExpectRow(r.volume, kT0 + kDay, "",
            {{"transfers", 4},
             {"posted_amount", 990},
             {"top_up_amount", 500},
             {"purchases", 1},
             {"purchase_amount", 200},
             {"refunds", 1},
             {"refund_amount", 200},
             {"reversals", 1},
             {"reversal_amount", 90}});
  ASSERT_OK_AND_ASSIGN(EconomyReportResult t,
                       EconomyReport(Snap(), {.range = Days(2), .by = EconomyDimension::kType}));
  ExpectRow(
      t.volume, kT0, "CALL_CHARGE",
      {{"transfers", 3}, {"posted", 1}, {"pending", 1}, {"voided", 1}, {"posted_amount", 30}});
  ExpectRow(t.volume, kT0, "FEE", {{"transfers", 1}, {"posted_amount", 10}});
  ASSERT_OK_AND_ASSIGN(EconomyReportResult s,
                       EconomyReport(Snap(), {.range = Days(2), .by = EconomyDimension::kStatus}));
  ExpectRow(s.volume, kT0, "POSTED", {{"transfers", 4}});
  ExpectRow(s.volume, kT0, "PENDING", {{"transfers", 1}, {"pending_amount", 20}});
  ExpectRow(s.volume, kT0, "VOIDED", {{"transfers", 1}});
  ASSERT_OK_AND_ASSIGN(EconomyReportResult g,
                       EconomyReport(Snap(), {.range = Days(2), .type = TransferType::GIFT}));
  EXPECT_EQ(g.volume.Sum("transfers"), 1);
  ASSERT_OK_AND_ASSIGN(EconomyReportResult usd,
                       EconomyReport(Snap(), {.range = Days(2), .currency = "USD"}));
  EXPECT_TRUE(usd.volume.rows.empty());
}

TEST_F(EconomyReportTest, TopSpendersAndLedgerAudit) {
  ASSERT_OK_AND_ASSIGN(EconomyReportResult r, EconomyReport(Snap(), {.range = Days(2)}));
  const ReportTable& top = r.top_spenders;
  ASSERT_EQ(top.rows.size(), 2u) << Dump(top);
  EXPECT_EQ(top.rows[0].key, "bob");  // 200 purchase + 90 reversal
  ExpectRow(top, kT0, "bob",
            {{"outgoing_amount", 290},
             {"outgoing_transfers", 2},
             {"purchase_amount", 200},
             {"incoming_amount", 790}});  // gift 90, top-up 500, refund 200
  ExpectRow(top, kT0, "alice",
            {{"outgoing_amount", 130},
             {"outgoing_transfers", 3},
             {"gift_amount", 90},
             {"fee_amount", 10},
             {"call_charge_amount", 30},
             {"incoming_amount", 1090}});
  ASSERT_OK_AND_ASSIGN(EconomyReportResult one,
                       EconomyReport(Snap(), {.range = Days(2), .top_n = 1}));
  ASSERT_EQ(one.top_spenders.rows.size(), 1u);
  // The ledger audit agrees with the engine's own, on the live database.
  const LedgerAudit live = AuditAllWallets(db_);
  EXPECT_TRUE(r.ledger.ok());
  EXPECT_EQ(r.ledger.wallets, live.wallets);
  EXPECT_EQ(r.ledger.transfers, live.transfers);
  EXPECT_EQ(r.ledger.transfers, 10);
  EXPECT_EQ(EconomyReport(Snap(), {.range = Days(2), .currency = ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EconomyReport(Snap(), {.range = Days(2), .top_n = kMaxTopN + 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EconomyReportTest, LedgerAuditFindsACorruptCounter) {
  const RowId wallet = 0;
  SetColumn(db_, kT0 + 30 * kHour, TableId::wallets, wallet, wallets::posted_credits,
            db_.table(TableId::wallets).GetInt(wallet, wallets::posted_credits) + 7);
  ASSERT_OK_AND_ASSIGN(EconomyReportResult r, EconomyReport(Snap(), {.range = Days(2)}));
  EXPECT_FALSE(r.ledger.ok());
  ASSERT_EQ(r.ledger.mismatches.size(), 1u);
  EXPECT_EQ(r.ledger.mismatches[0].wallet_id, db_.table(TableId::wallets).id(wallet));
  EXPECT_EQ(r.ledger.mismatches[0].detail, AuditAllWallets(db_).mismatches[0].detail);
  EXPECT_FALSE(r.ledger.balanced);
}

// ---- System events ---------------------------------------------------------------------------

class SystemEventReportTest : public ReportTest {
 protected:
  SystemEventReportTest() {
    Event(kT0, Severity::INFO, "wal", "A");
    Event(kT0 + kMinute, Severity::INFO, "wal", "B");
    Event(kT0 + 2 * kMinute, Severity::ERROR, "wal", "FSYNC_SLOW");
    Event(kT0 + 3 * kMinute, Severity::ERROR, "wal", "FSYNC_SLOW");
    Event(kT0 + 4 * kMinute, Severity::ERROR, "wal", "FSYNC_SLOW");
    Event(kT0 + 5 * kMinute, Severity::CRITICAL, "net", "DOWN");
    Event(kT0 + 6 * kMinute, Severity::WARNING, "net", "SLOW");
    Event(kT0 + kHour, Severity::ERROR, "net", "DOWN");
  }
  void Event(Timestamp at, Severity s, std::string_view component, std::string_view code) {
    auto id = RecordSystemEvent(
        db_, At(kT0 + 2 * kDay),
        {.severity = s, .component = component, .code = code, .message = "m", .occurred_at = at});
    EXPECT_TRUE(id.ok()) << id.status().message();
  }
  static BucketedRange Hours(int n) { return {kT0, kT0 + n * kHour, BucketWidth::kHour}; }
};

TEST_F(SystemEventReportTest, SeveritiesAndComponentsPerHour) {
  ASSERT_OK_AND_ASSIGN(SystemEventReportResult r, SystemEventReport(Snap(), {.range = Hours(2)}));
  ExpectRow(r.events, kT0, "",
            {{"events", 7},
             {"debug", 0},
             {"info", 2},
             {"warning", 1},
             {"error", 3},
             {"critical", 1},
             {"errors", 4},
             {"distinct_codes", 5}});
  ExpectRow(r.events, kT0 + kHour, "", {{"events", 1}, {"errors", 1}});
  ASSERT_OK_AND_ASSIGN(
      SystemEventReportResult c,
      SystemEventReport(Snap(), {.range = Hours(2), .by = SystemEventDimension::kComponent}));
  ExpectRow(c.events, kT0, "wal", {{"events", 5}, {"errors", 3}, {"distinct_codes", 3}});
  ExpectRow(c.events, kT0, "net", {{"events", 2}, {"critical", 1}});
  ASSERT_OK_AND_ASSIGN(
      SystemEventReportResult s,
      SystemEventReport(Snap(), {.range = Hours(2), .by = SystemEventDimension::kSeverity}));
  ExpectRow(s.events, kT0, "INFO", {{"events", 2}});
  ExpectRow(s.events, kT0 + kHour, "ERROR", {{"events", 1}});
  ASSERT_OK_AND_ASSIGN(
      SystemEventReportResult e,
      SystemEventReport(Snap(),
                        {.range = Hours(2), .min_severity = Severity::ERROR, .component = "wal"}));
  EXPECT_EQ(e.events.Sum("events"), 3);
}

TEST_F(SystemEventReportTest, ErrorBurstsAreBucketsOverTheThreshold) {
  ASSERT_OK_AND_ASSIGN(SystemEventReportResult r,
                       SystemEventReport(Snap(), {.range = Hours(2), .burst_threshold = 3}));
  ASSERT_EQ(r.bursts.rows.size(), 1u) << Dump(r.bursts);
  ExpectRow(r.bursts, kT0, "wal",
            {{"errors", 4},
             {"critical", 1},
             {"components", 2},
             {"top_component_errors", 3},
             {"first_error_at", static_cast<double>(kT0 + 2 * kMinute)},
             {"last_error_at", static_cast<double>(kT0 + 5 * kMinute)}});
  // More than the threshold: exactly 4 is not a burst at 4.
  ASSERT_OK_AND_ASSIGN(SystemEventReportResult none,
                       SystemEventReport(Snap(), {.range = Hours(2), .burst_threshold = 4}));
  EXPECT_TRUE(none.bursts.rows.empty());
  ASSERT_OK_AND_ASSIGN(SystemEventReportResult zero,
                       SystemEventReport(Snap(), {.range = Hours(2), .burst_threshold = 0}));
  EXPECT_EQ(zero.bursts.rows.size(), 2u);
  EXPECT_EQ(SystemEventReport(Snap(), {.range = Hours(2), .burst_threshold = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- Every report: bad requests, missing tables, empty data ---------------------------------

TEST_F(ReportTest, EveryReportRefusesBadRequests) {
  const ReportSnapshot snap = Snap();
  const std::vector<BucketedRange> bad = {
      {kT0, kT0, BucketWidth::kDay},                    // from == to
      {kT0 + kDay, kT0, BucketWidth::kDay},             // from > to
      {kT0, kT0 + kDay, static_cast<BucketWidth>(3)},   // unknown bucket
      {kT0, kT0 + 10'001 * kHour, BucketWidth::kHour},  // too many buckets
  };
  for (const BucketedRange& range : bad) {
    SCOPED_TRACE(StrCat(range.from, " ", range.to, " ", static_cast<int>(range.bucket)));
    EXPECT_EQ(IdentityReport(snap, {.range = range}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(RoomReport(snap, {.range = range}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(CallReport(snap, {.range = range}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(EngagementReport(snap, {.range = range}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ModerationReport(snap, {.range = range}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(EconomyReport(snap, {.range = range}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(SystemEventReport(snap, {.range = range}).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  const BucketedRange ok = Days(1);
  EXPECT_EQ(
      IdentityReport(snap, {.range = ok, .by = static_cast<IdentityDimension>(9)}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(IdentityReport(snap, {.range = ok, .provider = static_cast<AuthProviderType>(99)})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RoomReport(snap, {.range = ok, .by = static_cast<RoomDimension>(9)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CallReport(snap, {.range = ok, .by = static_cast<CallDimension>(9)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      EconomyReport(snap, {.range = ok, .by = static_cast<EconomyDimension>(9)}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CountAuditRows(snap, {.from = kT0, .to = kT0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // The largest range allowed works (and holds nothing yet).
  ASSERT_OK_AND_ASSIGN(
      ReportTable big,
      IdentityReport(snap, {.range = {kT0, kT0 + 10'000 * kHour, BucketWidth::kHour}}));
  EXPECT_EQ(big.buckets.size(), 10'000u);
  EXPECT_TRUE(big.rows.empty());
}

TEST_F(ReportTest, ASnapshotWithoutTheTablesIsAFailedPrecondition) {
  const TableId only[] = {TableId::users};
  const ReportSnapshot snap = ReportSnapshot::Pin(db_, only);
  EXPECT_TRUE(snap.has(TableId::users));
  EXPECT_FALSE(snap.has(TableId::audit_logs));
  EXPECT_EQ(IdentityReport(snap, {.range = Days(1)}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CountAuditRows(snap, {.from = kT0, .to = kT0 + 1}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Pinning just what a report reads is enough for it.
  const ReportSnapshot enough = ReportSnapshot::Pin(db_, kIdentityReportTables);
  EXPECT_TRUE(IdentityReport(enough, {.range = Days(1)}).ok());
}

TEST_F(ReportTest, AnEmptyDatabaseGivesEmptyReports) {
  const ReportSnapshot snap = Snap();
  EXPECT_TRUE(IdentityReport(snap, {.range = Days(7)})->rows.empty());
  EXPECT_TRUE(RoomReport(snap, {.range = Days(7), .by = RoomDimension::kTag})->rows.empty());
  EXPECT_TRUE(CallReport(snap, {.range = Days(7)})->sessions.rows.empty());
  EXPECT_TRUE(EngagementReport(snap, {.range = Days(7)})->rows.empty());
  EXPECT_TRUE(ModerationReport(snap, {.range = Days(7)})->moderators.rows.empty());
  auto economy = EconomyReport(snap, {.range = Days(7)});
  ASSERT_TRUE(economy.ok());
  EXPECT_TRUE(economy->top_spenders.rows.empty());
  EXPECT_TRUE(economy->ledger.ok());
  EXPECT_TRUE(SystemEventReport(snap, {.range = Days(7)})->bursts.rows.empty());
  EXPECT_EQ(CountAuditRows(snap, {.from = kT0, .to = kT0 + kDay}).value(), 0u);
}

// ---- A pinned image while the engine writes on ------------------------------------------------

TEST_F(ReportTest, APinnedImageIsUnaffectedByWritesWhileAReportRuns) {
  std::vector<Uuid> users;
  for (int i = 0; i < 40; ++i) {
    users.push_back(RegisterAt(StrCat("user", i), kT0 + i * kMinute));
    ASSERT_TRUE(RecordLogin(db_, At(kT0 + kHour + i * kMinute),
                            {.user_id = users.back(), .identifier = "x", .credentials_ok = true})
                    .ok());
  }
  // Taken on this (the engine) thread; read on another.
  const auto snap = std::make_shared<const ReportSnapshot>(Snap());
  const IdentityReportRequest req{.range = Days(2), .by = IdentityDimension::kRole};
  const AuditCountRequest count_req{
      .from = kT0, .to = kT0 + 2 * kDay, .action = AuditAction::USER_LOGIN_SUCCESS};
  ASSERT_OK_AND_ASSIGN(const ReportTable before, IdentityReport(*snap, req));
  ExpectRow(before, kT0, "USER", {{"signups", 40}, {"logins_succeeded", 40}});
  ASSERT_EQ(CountAuditRows(*snap, count_req).value(), 40u);

  std::atomic<bool> stop{false};
  std::atomic<int> runs{0}, differences{0};
  std::thread reader([&] {
    while (!stop.load()) {
      auto now = IdentityReport(*snap, req);
      auto count = CountAuditRows(*snap, count_req);
      if (!now.ok() || Dump(*now) != Dump(before) || !count.ok() || *count != 40u) ++differences;
      runs.fetch_add(1);
    }
  });
  // Meanwhile the engine writes on: new users and logins (appends past the
  // image) and role changes to the pinned users (writes into pinned chunks).
  int writes = 0;
  bool wrote = true;
  while (wrote && (runs.load() < 20 || writes < 300)) {
    const Uuid u = RegisterAt(StrCat("late", writes), kT0 + 2 * kHour + writes * kSecond);
    wrote = RecordLogin(db_, At(kT0 + 3 * kHour + writes * kSecond),
                        {.user_id = u, .identifier = "x", .credentials_ok = true})
                .ok();
    SetColumn(db_, kT0 + 4 * kHour, TableId::users, UserRow(users[writes % users.size()]),
              users::role, UserRole::MODERATOR);
    ++writes;
  }
  stop = true;
  reader.join();
  ASSERT_TRUE(wrote);
  EXPECT_EQ(differences.load(), 0);
  EXPECT_GE(runs.load(), 20);
  // A new image sees everything.
  ASSERT_OK_AND_ASSIGN(const ReportTable after, IdentityReport(Snap(), req));
  EXPECT_EQ(after.Sum("signups"), 40 + writes);
  ExpectRow(after, kT0, "MODERATOR", {{"signups", 40}});
  EXPECT_EQ(CountAuditRows(Snap(), count_req).value(), 40u + writes);
  ExpectIndexesAgree();
}

// ---- Brute-force cross-checks on generated data ------------------------------------------------

class GeneratedDataReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new Database(WorkloadDatabaseOptions(11));
    auto data = GenerateWorkload(*db_, {.scale = 0.002, .seed = 11});
    ASSERT_TRUE(data.ok()) << data.status().message();
  }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
  }
  // The workload's 90 days and then some, by day.
  static BucketedRange Range(BucketWidth w = BucketWidth::kDay) {
    return {kWorkloadNow - 92 * kDay, kWorkloadNow + kDay, w};
  }
  static Timestamp Bucket(Timestamp t, BucketWidth w = BucketWidth::kDay) {
    return BucketStart(t, w);
  }
  static std::string_view Provider(std::string_view metadata) {
    const std::string_view key = R"("provider":")";
    const size_t at = metadata.find(key);
    if (at == std::string_view::npos) return "(none)";
    const size_t from = at + key.size();
    return metadata.substr(from, metadata.find('"', from) - from);
  }
  static Database* db_;
};
Database* GeneratedDataReportTest::db_ = nullptr;

using Cells = std::map<std::pair<Timestamp, std::string>, std::vector<double>>;

// The report's cells for `columns`, rows that are all zero there dropped.
Cells ReportCells(const ReportTable& t, const std::vector<std::string>& columns) {
  Cells out;
  for (const ReportRow& r : t.rows) {
    std::vector<double> v;
    bool any = false;
    for (const std::string& c : columns) {
      v.push_back(r.values[t.ColumnIndex(c)]);
      any |= v.back() != 0;
    }
    if (any) out[{r.bucket_start, r.key}] = v;
  }
  return out;
}

TEST_F(GeneratedDataReportTest, IdentityByProviderMatchesARowByRowCount) {
  const Database& db = *db_;
  const BucketedRange range = Range();
  // Row by row through the Table API.
  const Table& users = db.table(TableId::users);
  const Table& providers = db.table(TableId::auth_providers);
  const Table& audit = db.table(TableId::audit_logs);
  std::map<RowId, std::pair<Timestamp, std::string>> signup_provider;
  for (RowId p = 0; p < providers.row_count(); ++p) {
    if (!providers.IsLive(p)) continue;
    const RowId u = providers.GetRef(p, auth_providers::user_id);
    const Timestamp at = providers.GetTime(p, auth_providers::created_at);
    auto it = signup_provider.find(u);
    if (it == signup_provider.end() || at < it->second.first) {
      signup_provider[u] = {at, std::string(EnumName(EnumId::AuthProviderType,
                                                     providers.GetEnum<AuthProviderType>(
                                                         p, auth_providers::provider_type)))};
    }
  }
  Cells want;
  std::map<std::pair<Timestamp, std::string>, std::set<RowId>> login_users;
  auto cell = [&](Timestamp t, const std::string& key) -> std::vector<double>& {
    auto& v = want[{Bucket(t), key}];
    v.resize(4);
    return v;
  };
  for (RowId u = 0; u < users.row_count(); ++u) {
    const Timestamp t = users.GetTime(u, users::created_at);
    if (!users.IsLive(u) || t < range.from || t >= range.to) continue;
    auto it = signup_provider.find(u);
    cell(t, it == signup_provider.end() ? "(none)" : it->second.second)[0] += 1;
  }
  for (RowId r = 0; r < audit.row_count(); ++r) {
    const Timestamp t = audit.GetTime(r, audit_logs::timestamp);
    const auto action = audit.GetEnum<AuditAction>(r, audit_logs::action);
    if (!audit.IsLive(r) || t < range.from || t >= range.to) continue;
    if (action != AuditAction::USER_LOGIN_SUCCESS && action != AuditAction::USER_LOGIN_FAILED) {
      continue;
    }
    const std::string key(Provider(audit.GetString(r, audit_logs::metadata)));
    cell(t, key)[action == AuditAction::USER_LOGIN_SUCCESS ? 1 : 2] += 1;
    if (action == AuditAction::USER_LOGIN_SUCCESS) {
      login_users[{Bucket(t), key}].insert(audit.GetRef(r, audit_logs::user_id));
    }
  }
  for (auto& [k, users_in] : login_users) want[k][3] = static_cast<double>(users_in.size());
  ASSERT_GT(want.size(), 100u);

  const ReportSnapshot snap = ReportSnapshot::Pin(db);
  ASSERT_OK_AND_ASSIGN(ReportTable t,
                       IdentityReport(snap, {.range = range, .by = IdentityDimension::kProvider}));
  EXPECT_EQ(ReportCells(t, {"signups", "logins_succeeded", "logins_failed", "unique_login_users"}),
            want);
  EXPECT_GT(t.Sum("logins_succeeded"), 1000);
  EXPECT_GT(t.Keys().size(), 3u);  // LOCAL and OAuth providers
}

TEST_F(GeneratedDataReportTest, RoomsByTagMatchARowByRowCount) {
  const Database& db = *db_;
  const BucketedRange range = Range(BucketWidth::kWeek);
  const Table& rooms = db.table(TableId::rooms);
  const Table& tags = db.table(TableId::tags);
  const Table& audit = db.table(TableId::audit_logs);
  auto keys_of = [&](RowId r) {
    std::vector<std::string> keys;
    uint16_t ids[kMaxTagsPerRoom];
    const int n = UnpackTags(rooms.GetInt(r, rooms::tags), ids);
    for (int i = 0; i < n; ++i) keys.emplace_back(tags.GetString(ids[i] - 1u, tags::name));
    if (keys.empty()) keys.emplace_back("(none)");
    return keys;
  };
  Cells want;
  auto add = [&](RowId room, Timestamp t, size_t cell, double v) {
    if (t < range.from || t >= range.to) return;
    for (const std::string& k : keys_of(room)) {
      auto& cells = want[{Bucket(t, BucketWidth::kWeek), k}];
      cells.resize(5);
      cells[cell] += v;
    }
  };
  for (RowId r = 0; r < rooms.row_count(); ++r) {
    if (!rooms.IsLive(r)) continue;
    add(r, rooms.GetTime(r, rooms::created_at), 0, 1);
    if (!rooms.IsNull(r, rooms::started_at)) add(r, rooms.GetTime(r, rooms::started_at), 1, 1);
    if (!rooms.IsNull(r, rooms::ended_at)) {
      add(r, rooms.GetTime(r, rooms::ended_at), 2, 1);
      add(r, rooms.GetTime(r, rooms::ended_at), 4, rooms.GetInt(r, rooms::duration_seconds));
    }
  }
  for (RowId a = 0; a < audit.row_count(); ++a) {
    if (!audit.IsLive(a) ||
        audit.GetEnum<AuditAction>(a, audit_logs::action) != AuditAction::ROOM_CANCELLED) {
      continue;
    }
    add(audit.GetRef(a, audit_logs::room_id), audit.GetTime(a, audit_logs::timestamp), 3, 1);
  }
  ASSERT_GT(want.size(), 100u);
  const ReportSnapshot snap = ReportSnapshot::Pin(db);
  ASSERT_OK_AND_ASSIGN(ReportTable t,
                       RoomReport(snap, {.range = range, .by = RoomDimension::kTag}));
  EXPECT_EQ(ReportCells(t, {"created", "started", "ended", "cancelled", "total_duration_seconds"}),
            want);
  EXPECT_GT(t.Sum("cancelled"), 0);
}

TEST_F(GeneratedDataReportTest, EconomyMatchesARowByRowSumAndTheEngineLedgerAudit) {
  const Database& db = *db_;
  const BucketedRange range = Range();
  const Table& tx = db.table(TableId::transactions);
  const Table& wallets = db.table(TableId::wallets);
  const Table& users = db.table(TableId::users);
  Cells want;
  std::map<RowId, double> outgoing;
  for (RowId x = 0; x < tx.row_count(); ++x) {
    const Timestamp t = tx.GetTime(x, transactions::created_at);
    if (!tx.IsLive(x) || t < range.from || t >= range.to) continue;
    const auto type = tx.GetEnum<TransferType>(x, transactions::type);
    const auto status = tx.GetEnum<TransferStatus>(x, transactions::status);
    auto& cells = want[{Bucket(t), std::string(EnumName(EnumId::TransferType, type))}];
    cells.resize(2);
    cells[0] += 1;
    if (status == TransferStatus::POSTED) {
      cells[1] += static_cast<double>(tx.GetInt(x, transactions::amount));
      const RowId debit = tx.GetRef(x, transactions::debit_wallet_id);
      if (!wallets.IsNull(debit, wallets::user_id)) {
        outgoing[wallets.GetRef(debit, wallets::user_id)] +=
            static_cast<double>(tx.GetInt(x, transactions::amount));
      }
    }
  }
  ASSERT_GT(want.size(), 50u);
  const ReportSnapshot snap = ReportSnapshot::Pin(db);
  ASSERT_OK_AND_ASSIGN(
      EconomyReportResult r,
      EconomyReport(snap, {.range = range, .by = EconomyDimension::kType, .top_n = 25}));
  EXPECT_EQ(ReportCells(r.volume, {"transfers", "posted_amount"}), want);

  // Top spenders: the 25 largest outgoing volumes, largest first (ties by name).
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [user, amount] : outgoing) {
    ranked.emplace_back(-amount, std::string(users.GetString(user, users::username)));
  }
  std::sort(ranked.begin(), ranked.end());
  ASSERT_EQ(r.top_spenders.rows.size(), 25u);
  for (size_t i = 0; i < 25; ++i) {
    EXPECT_EQ(r.top_spenders.rows[i].key, ranked[i].second) << i;
    EXPECT_EQ(r.top_spenders.rows[i].values[0], -ranked[i].first) << i;
  }
  const LedgerAudit live = AuditAllWallets(db);
  EXPECT_TRUE(live.ok());
  EXPECT_TRUE(r.ledger.ok());
  EXPECT_EQ(r.ledger.wallets, live.wallets);
  EXPECT_EQ(r.ledger.transfers, live.transfers);
}

TEST_F(GeneratedDataReportTest, AuditCountsMatchARowByRowCount) {
  const Table& audit = db_->table(TableId::audit_logs);
  const Timestamp from = kWorkloadNow - 30 * kDay, to = kWorkloadNow - 10 * kDay;
  uint64_t joined = 0, all = 0;
  for (RowId r = 0; r < audit.row_count(); ++r) {
    const Timestamp t = audit.GetTime(r, audit_logs::timestamp);
    if (!audit.IsLive(r) || t < from || t >= to) continue;
    ++all;
    joined += audit.GetEnum<AuditAction>(r, audit_logs::action) == AuditAction::USER_JOINED;
  }
  ASSERT_GT(joined, 1000u);
  const ReportSnapshot snap = ReportSnapshot::Pin(*db_, std::vector<TableId>{TableId::audit_logs});
  EXPECT_EQ(
      CountAuditRows(snap, {.from = from, .to = to, .action = AuditAction::USER_JOINED}).value(),
      joined);
  EXPECT_EQ(CountAuditRows(snap, {.from = from, .to = to}).value(), all);
}

}  // namespace
}  // namespace vox
