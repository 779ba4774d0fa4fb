// The report operations (docs/reports.md) through vox::Client against a real
// voxdb process: each report counts what the test wrote at the server's
// clock; bad requests, roles, batches and the metrics; and writes keep
// being answered while reports run on a loaded database.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "net/client.h"
#include "schema/str.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

using absl::StatusCode;
using std::chrono::steady_clock;

constexpr Timestamp kSecond = 1'000'000;
constexpr Timestamp kHour = 3600 * kSecond;
constexpr Timestamp kDay = 24 * kHour;

Timestamp Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double MillisSince(steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(steady_clock::now() - t).count();
}

// A fresh server, an admin client, and a range around now: [now - 1 h,
// now + 1 h) by the hour. Rows may fall in either of two hour buckets, so
// checks sum a column over the table.
class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        dir_.path() + "/db", std::vector<std::string>{"--maintenance_interval_s=0"});
    ASSERT_NE(server_->port(), 0);
    client_ = server_->Connect();
    ASSERT_NE(client_, nullptr);
    from_ = Now() - kHour;
    to_ = Now() + kHour;
  }

  // Runs `op`, expecting success; its answer (a default one on failure).
  template <typename Op>
  typename Op::Result Ok(const Op& op) {
    return CallOk(*client_, op);
  }
  template <typename Op>
  absl::Status Refusal(const Op& op) {
    return client_->Call(op).status();
  }
  Uuid Register(const std::string& name) {
    return Ok(rpc::RegisterUser{name, name + "@example.com", "h", name}).user_id;
  }
  // `report`'s table `name`; fails the test when it is absent.
  static const rpc::ReportTable& Table(const rpc::Report& report, const std::string& name) {
    static const rpc::ReportTable kNone;
    const rpc::ReportTable* t = report.Find(name);
    EXPECT_NE(t, nullptr) << "no table " << name;
    return t != nullptr ? *t : kNone;
  }

  testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
  Timestamp from_ = 0, to_ = 0;
};

// ---- Each report counts what was written ----

TEST_F(ReportsTest, IdentityCountsSignUpsAndLogins) {
  const Uuid maya = Register("maya");
  Register("omar");
  Register("lin");
  Ok(rpc::RecordLogin{.user_id = maya, .identifier = "maya", .credentials_ok = true});
  Ok(rpc::RecordLogin{.user_id = maya,
                      .identifier = "maya",
                      .credentials_ok = false,
                      .failure_reason = "bad password"});
  Ok(rpc::Logout{maya});

  const rpc::Report r = Ok(rpc::IdentityReport{.from = from_, .to = to_, .bucket = "hour"});
  ASSERT_EQ(r.tables.size(), 1u);
  const rpc::ReportTable& t = Table(r, "identity");
  EXPECT_EQ(t.dimension, "");
  EXPECT_EQ(t.buckets.size(), 3u);  // 2 h from a time inside an hour: 3 partial hours
  EXPECT_EQ(t.Sum("signups"), 3);
  EXPECT_EQ(t.Sum("logins_succeeded"), 1);
  EXPECT_EQ(t.Sum("logins_failed"), 1);
  EXPECT_EQ(t.Sum("logouts"), 1);
  for (const rpc::ReportRow& row : t.rows) EXPECT_EQ(row.values.size(), t.columns.size());
  EXPECT_GT(r.micros, 0);

  // By provider: every sign-up is LOCAL.
  const rpc::Report by =
      Ok(rpc::IdentityReport{.from = from_, .to = to_, .bucket = "hour", .by = "provider"});
  const rpc::ReportTable& bt = Table(by, "identity");
  EXPECT_EQ(bt.dimension, "provider");
  double local = 0;
  for (const rpc::ReportRow& row : bt.rows) {
    if (row.key == "LOCAL") local += row.values[bt.ColumnIndex("signups")];
  }
  EXPECT_EQ(local, 3);
  // A filter: no sign-up came through GOOGLE.
  const rpc::Report google =
      Ok(rpc::IdentityReport{.from = from_, .to = to_, .bucket = "hour", .provider = "GOOGLE"});
  EXPECT_EQ(Table(google, "identity").Sum("signups"), 0);
  // A range before the sign-ups sees none of them.
  const rpc::Report before =
      Ok(rpc::IdentityReport{.from = from_ - kDay, .to = from_, .bucket = "hour"});
  EXPECT_EQ(Table(before, "identity").Sum("signups"), 0);
}

TEST_F(ReportsTest, RoomsCreatedStartedAndEnded) {
  const Uuid host = Register("host");
  const rpc::OpenedRoom room =
      Ok(rpc::CreateAndOpenRoom{.owner_id = host, .title = "Late talk", .tags = {"music"}});
  ASSERT_TRUE(client_->Call(rpc::EndRoom{room.room_id, host}).ok());
  Ok(rpc::CreateAndOpenRoom{.owner_id = host, .title = "Private", .is_public = false});

  const rpc::Report r = Ok(rpc::RoomReport{.from = from_, .to = to_, .bucket = "hour"});
  const rpc::ReportTable& t = Table(r, "rooms");
  EXPECT_EQ(t.Sum("created"), 2);
  EXPECT_EQ(t.Sum("started"), 2);
  EXPECT_EQ(t.Sum("ended"), 1);
  EXPECT_EQ(t.Sum("cancelled"), 0);
  // Public rooms only; by tag.
  const rpc::Report pub =
      Ok(rpc::RoomReport{.from = from_, .to = to_, .bucket = "hour", .is_public = true});
  EXPECT_EQ(Table(pub, "rooms").Sum("created"), 1);
  const rpc::Report tags =
      Ok(rpc::RoomReport{.from = from_, .to = to_, .bucket = "hour", .by = "tag"});
  const rpc::ReportTable& tt = Table(tags, "rooms");
  EXPECT_EQ(tt.dimension, "tag");
  double music = 0;
  for (const rpc::ReportRow& row : tt.rows) {
    if (row.key == "music") music += row.values[tt.ColumnIndex("ended")];
  }
  EXPECT_EQ(music, 1);
}

TEST_F(ReportsTest, CallsCountOutcomesAndFailureReasons) {
  const Uuid host = Register("host"), guest = Register("guest");
  const rpc::OpenedRoom room = Ok(rpc::CreateAndOpenRoom{.owner_id = host, .title = "Call"});
  const Uuid guest_participant = Ok(rpc::JoinRoom{room.room_id, guest}).participant_id;
  const Uuid ok_call = Ok(rpc::StartCallSession{guest_participant});
  ASSERT_TRUE(client_
                  ->Call(rpc::ConnectCallSession{
                      ok_call, {.rtt_ms = 40, .region = "eu-west", .transport = "UDP"}})
                  .ok());
  ASSERT_TRUE(client_->Call(rpc::EndCallSession{ok_call}).ok());
  const Uuid failed = Ok(rpc::StartCallSession{guest_participant});
  ASSERT_TRUE(client_->Call(rpc::FailCallSession{failed, "ICE_FAILED", "no pair"}).ok());

  const rpc::Report r = Ok(rpc::CallReport{.from = from_, .to = to_, .bucket = "hour"});
  ASSERT_EQ(r.tables.size(), 2u);
  const rpc::ReportTable& calls = Table(r, "calls");
  EXPECT_EQ(calls.Sum("attempts"), 2);
  EXPECT_EQ(calls.Sum("connected"), 1);
  EXPECT_EQ(calls.Sum("failed"), 1);
  EXPECT_EQ(calls.Sum("ended"), 1);
  const rpc::ReportTable& reasons = Table(r, "failure_reasons");
  EXPECT_EQ(reasons.dimension, "failure_reason");
  ASSERT_EQ(reasons.rows.size(), 1u);
  EXPECT_EQ(reasons.rows[0].key, "ICE_FAILED");
  EXPECT_EQ(reasons.Sum("failed"), 1);
  // By transport: the connected call was UDP.
  const rpc::Report by =
      Ok(rpc::CallReport{.from = from_, .to = to_, .bucket = "hour", .by = "transport"});
  const rpc::ReportTable& bt = Table(by, "calls");
  double udp = 0;
  for (const rpc::ReportRow& row : bt.rows) {
    if (row.key == "UDP") udp += row.values[bt.ColumnIndex("connected")];
  }
  EXPECT_EQ(udp, 1);
}

TEST_F(ReportsTest, EngagementCountsJoinsLeavesAndHands) {
  const Uuid host = Register("host"), guest = Register("guest");
  const rpc::OpenedRoom room = Ok(rpc::CreateAndOpenRoom{.owner_id = host, .title = "Talk"});
  Ok(rpc::JoinRoom{room.room_id, guest});
  ASSERT_TRUE(client_->Call(rpc::SetHandRaised{room.room_id, guest, guest, true}).ok());
  ASSERT_TRUE(client_->Call(rpc::LeaveRoom{room.room_id, guest}).ok());

  const rpc::Report r = Ok(rpc::EngagementReport{.from = from_, .to = to_, .bucket = "hour"});
  const rpc::ReportTable& t = Table(r, "engagement");
  EXPECT_EQ(t.Sum("joins"), 2);  // the host's and the guest's
  EXPECT_EQ(t.Sum("leaves"), 1);
  EXPECT_EQ(t.Sum("hand_raises"), 1);
}

TEST_F(ReportsTest, ModerationCountsActionsAndModerators) {
  const Uuid host = Register("host"), guest = Register("guest");
  const rpc::OpenedRoom room = Ok(rpc::CreateAndOpenRoom{.owner_id = host, .title = "Mod"});
  Ok(rpc::JoinRoom{room.room_id, guest});
  Ok(rpc::TakeModerationAction{.moderator_id = host,
                               .target_user_id = guest,
                               .type = "MUTE",
                               .room_id = room.room_id,
                               .reason = "noise"});
  Ok(rpc::TakeModerationAction{.moderator_id = host,
                               .target_user_id = guest,
                               .type = "KICK",
                               .room_id = room.room_id,
                               .reason = "out"});

  const rpc::Report r =
      Ok(rpc::ModerationReport{.from = from_, .to = to_, .bucket = "hour", .by = "action_type"});
  const rpc::ReportTable& actions = Table(r, "actions");
  EXPECT_EQ(actions.Sum("actions"), 2);
  EXPECT_EQ(actions.dimension, "action_type");
  const rpc::ReportTable& mods = Table(r, "moderators");
  ASSERT_EQ(mods.rows.size(), 1u);
  EXPECT_EQ(mods.rows[0].key, "host");
  EXPECT_EQ(mods.Sum("actions"), 2);
  // Only the host's actions; an unknown moderator is refused.
  const rpc::Report mine =
      Ok(rpc::ModerationReport{.from = from_, .to = to_, .moderator_id = host});
  EXPECT_EQ(Table(mine, "actions").Sum("actions"), 2);
  EXPECT_EQ(
      Refusal(rpc::ModerationReport{.from = from_, .to = to_, .moderator_id = Uuid{1, 2}}).code(),
      StatusCode::kInvalidArgument);
}

TEST_F(ReportsTest, EconomyCountsGiftsTopSpendersAndTheLedger) {
  const Uuid alice = Register("alice"), bob = Register("bob");
  Ok(rpc::TopUp{.user_id = alice, .amount = 1000, .idempotency_key = "t1"});
  Ok(rpc::Gift{.sender_id = alice, .receiver_id = bob, .amount = 150, .idempotency_key = "g1"});

  const rpc::Report r = Ok(rpc::EconomyReport{.from = from_, .to = to_, .bucket = "hour"});
  ASSERT_EQ(r.tables.size(), 3u);
  const rpc::ReportTable& volume = Table(r, "volume");
  EXPECT_EQ(volume.Sum("gifts"), 1);
  EXPECT_EQ(volume.Sum("gift_amount"), 150);
  EXPECT_EQ(volume.Sum("top_ups"), 1);
  EXPECT_EQ(volume.Sum("top_up_amount"), 1000);
  const rpc::ReportTable& top = Table(r, "top_spenders");
  ASSERT_FALSE(top.rows.empty());
  EXPECT_EQ(top.rows[0].key, "alice");
  EXPECT_EQ(top.rows[0].values[top.ColumnIndex("gift_amount")], 150);
  const rpc::ReportTable& ledger = Table(r, "ledger");
  ASSERT_EQ(ledger.rows.size(), 1u);
  EXPECT_EQ(ledger.Sum("ok"), 1);
  EXPECT_EQ(ledger.Sum("mismatches"), 0);
  // By transfer type: the GIFT volume.
  const rpc::Report by =
      Ok(rpc::EconomyReport{.from = from_, .to = to_, .bucket = "hour", .by = "transfer_type"});
  const rpc::ReportTable& bt = Table(by, "volume");
  EXPECT_EQ(bt.dimension, "transfer_type");
  double gift_transfers = 0;
  for (const rpc::ReportRow& row : bt.rows) {
    if (row.key == "GIFT") gift_transfers += row.values[bt.ColumnIndex("posted_amount")];
  }
  EXPECT_EQ(gift_transfers, 150);
  // Another currency sees nothing.
  const rpc::Report gems = Ok(rpc::EconomyReport{.from = from_, .to = to_, .currency = "GEM"});
  EXPECT_EQ(Table(gems, "volume").Sum("transfers"), 0);
}

TEST_F(ReportsTest, SystemEventsCountSeveritiesAndBursts) {
  for (int i = 0; i < 3; ++i) {
    Ok(rpc::RecordSystemEvent{
        .severity = "ERROR", .component = "sfu", .code = "E1", .message = "lost"});
  }
  Ok(rpc::RecordSystemEvent{.severity = "INFO", .component = "api", .code = "I1", .message = "ok"});

  const rpc::Report r = Ok(rpc::SystemEventReport{
      .from = from_, .to = to_, .bucket = "hour", .by = "component", .burst_threshold = 2});
  const rpc::ReportTable& events = Table(r, "events");
  EXPECT_EQ(events.Sum("events"), 4);
  EXPECT_EQ(events.Sum("error"), 3);
  double sfu = 0;
  for (const rpc::ReportRow& row : events.rows) {
    if (row.key == "sfu") sfu += row.values[events.ColumnIndex("errors")];
  }
  EXPECT_EQ(sfu, 3);
  const rpc::ReportTable& bursts = Table(r, "bursts");
  ASSERT_EQ(bursts.rows.size(), 1u);
  EXPECT_EQ(bursts.rows[0].key, "sfu");
  EXPECT_EQ(bursts.Sum("errors"), 3);
  // Only ERROR and worse.
  const rpc::Report errors =
      Ok(rpc::SystemEventReport{.from = from_, .to = to_, .min_severity = "ERROR"});
  EXPECT_EQ(Table(errors, "events").Sum("events"), 3);
}

TEST_F(ReportsTest, AuditCountCountsOneAction) {
  Register("ana");
  Register("ben");
  EXPECT_EQ(Ok(rpc::AuditCount{.from = from_, .to = to_, .action = "USER_REGISTERED"}), 2);
  EXPECT_EQ(Ok(rpc::AuditCount{.from = from_, .to = to_, .action = "ROOM_CREATED"}), 0);
  EXPECT_GE(Ok(rpc::AuditCount{.from = from_, .to = to_}), 2);
  EXPECT_EQ(Ok(rpc::AuditCount{.from = from_ - kDay, .to = from_}), 0);
}

// ---- What a report sees, and what is refused ----

TEST_F(ReportsTest, SeesEverythingCommittedBeforeIt) {
  Register("first");
  const rpc::ServerStats before = Ok(rpc::Stats{});
  const rpc::Report r = Ok(rpc::IdentityReport{.from = from_, .to = to_});
  EXPECT_GE(r.snapshot_lsn, before.durable_lsn);
  EXPECT_GT(r.snapshot_lsn, 0u);
  EXPECT_EQ(r.rows_scanned, 0u);  // not measured yet
  // The report was counted as a request (Stats itself is counted once answered).
  const rpc::ServerStats after = Ok(rpc::Stats{});
  EXPECT_EQ(after.requests, before.requests + 2);
  // A refused one counts as an error.
  EXPECT_FALSE(Refusal(rpc::IdentityReport{.from = to_, .to = from_}).ok());
  EXPECT_EQ(Ok(rpc::Stats{}).errors, after.errors + 1);
}

TEST_F(ReportsTest, BadRequestsAreInvalidArguments) {
  struct Case {
    absl::Status status;
    std::string says;
  };
  const Case cases[] = {
      {Refusal(rpc::IdentityReport{.from = to_, .to = from_}), "range is empty"},
      {Refusal(rpc::IdentityReport{.from = from_, .to = from_}), "range is empty"},
      {Refusal(rpc::RoomReport{.from = from_, .to = to_, .bucket = "month"}), "bucket"},
      {Refusal(rpc::CallReport{.from = from_, .to = to_, .by = "color"}), "not a dimension"},
      {Refusal(rpc::IdentityReport{.from = from_, .to = to_, .provider = "FAX"}), "provider"},
      {Refusal(rpc::EconomyReport{.from = from_, .to = to_, .top_n = 0}), "top_n"},
      {Refusal(rpc::SystemEventReport{.from = from_, .to = to_, .burst_threshold = -1}),
       "burst_threshold"},
      {Refusal(rpc::EngagementReport{.from = 0, .to = 100 * 365 * kDay, .bucket = "hour"}),
       "buckets"},
      {Refusal(rpc::RoomReport{.from = from_, .to = to_, .tag = "no-such-tag"}), "tag"},
      {Refusal(rpc::AuditCount{.from = from_, .to = to_, .action = "NAPPING"}), "action"},
      {Refusal(rpc::AuditCount{.from = to_, .to = from_}), "range is empty"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), StatusCode::kInvalidArgument) << c.status;
    EXPECT_NE(std::string(c.status.message()).find(c.says), std::string::npos) << c.status;
  }
}

TEST_F(ReportsTest, AReadonlyTokenMayRunReports) {
  const std::string tokens = dir_.path() + "/tokens";
  {
    std::ofstream out(tokens);
    out << "app app-token-0123456789ab\nreadonly read-token-0123456789a\n";
  }
  ServerProcess server(dir_.path() + "/db2", {"--token_file=" + tokens});
  auto app = Client::Connect({.port = server.port(), .token = "app-token-0123456789ab"});
  auto reader = Client::Connect({.port = server.port(), .token = "read-token-0123456789a"});
  ASSERT_TRUE(app.ok() && reader.ok());
  ASSERT_TRUE((*app)->Call(rpc::RegisterUser{"tok", "tok@example.com", "h", "Tok"}).ok());
  auto report = (*reader)->Call(rpc::IdentityReport{.from = from_, .to = to_, .bucket = "hour"});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Table(*report, "identity").Sum("signups"), 1);
  auto count = (*reader)->Call(rpc::AuditCount{.from = from_, .to = to_});
  EXPECT_TRUE(count.ok()) << count.status();
  EXPECT_EQ((*reader)->Call(rpc::RegisterUser{"ro", "ro@example.com", "h", "Ro"}).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(ReportsTest, AReportInABatchIsRefused) {
  Batch batch;
  batch.Add(rpc::RegisterUser{"batched", "batched@example.com", "h", "B"});
  batch.Add(rpc::IdentityReport{.from = from_, .to = to_});
  const absl::Status s = client_->Run(batch);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("reports cannot run in a batch"), std::string::npos) << s;
  EXPECT_EQ(client_->Call(rpc::UserByUsername{"batched"}).status().code(), StatusCode::kNotFound);
}

// ---- Reports on a loaded database do not stop writes ----

// One server with the demo data set at SF 0.1 (about 8 million rows),
// loaded once for the suite.
class LoadedReportsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    server_ =
        new ServerProcess(dir_->path() + "/db", {"--demo_scale=0.1", "--maintenance_interval_s=0"});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(server_->port(), 0);
    if (server_->pid() < 0) GTEST_SKIP() << "the suite's server was stopped by an earlier test";
  }

  static std::unique_ptr<Client> Connect() {
    // Reports queue behind each other on one report thread: a long timeout.
    auto c = Client::Connect({.port = server_->port(), .timeout = std::chrono::minutes(5)});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // The i-th of a mix of reports over the demo data's two years, by day.
  static Future<rpc::Report> SendReport(Client& c, int i) {
    const Timestamp to = Now() + kDay, from = to - 730 * kDay;
    switch (i % 6) {
      case 0:
        return c.Send(rpc::IdentityReport{.from = from, .to = to, .by = "provider"});
      case 1:
        return c.Send(rpc::RoomReport{.from = from, .to = to, .by = "tag"});
      case 2:
        return c.Send(rpc::EngagementReport{.from = from, .to = to, .by = "room_type"});
      case 3:
        return c.Send(rpc::CallReport{.from = from, .to = to, .by = "transport"});
      case 4:
        return c.Send(rpc::EconomyReport{.from = from, .to = to, .by = "transfer_type"});
      default:
        return c.Send(rpc::ModerationReport{.from = from, .to = to, .by = "action_type"});
    }
  }

  static testing::TempDir* dir_;
  static ServerProcess* server_;
};
testing::TempDir* LoadedReportsTest::dir_ = nullptr;
ServerProcess* LoadedReportsTest::server_ = nullptr;

TEST_F(LoadedReportsTest, WritesAreAnsweredWhileReportsRun) {
  auto reporter = Connect();
  auto writer = Connect();
  ASSERT_TRUE(reporter && writer);
  constexpr int kReports = 20;
  auto register_user = [&](const std::string& name) {
    return writer->Call(rpc::RegisterUser{name, name + "@example.com", "h", name});
  };
  // For comparison: the same writes with no report running.
  double quiet_max_ms = 0;
  for (int i = 0; i < 200; ++i) {
    const auto start = steady_clock::now();
    ASSERT_TRUE(register_user(StrCat("quiet", i)).ok());
    quiet_max_ms = std::max(quiet_max_ms, MillisSince(start));
  }

  std::atomic<bool> reports_done{false};
  std::vector<double> latencies_ms;  // the writer thread's, read after join
  int write_failures = 0;
  int writes_during_reports = 0;
  std::thread writes([&] {
    for (int i = 0; !reports_done.load(); ++i) {
      const auto start = steady_clock::now();
      auto r = register_user(StrCat("writer", i));
      latencies_ms.push_back(MillisSince(start));
      if (!r.ok()) ++write_failures;
      if (!reports_done.load()) ++writes_during_reports;
    }
  });

  const auto start = steady_clock::now();
  std::vector<Future<rpc::Report>> reports;
  for (int i = 0; i < kReports; ++i) reports.push_back(SendReport(*reporter, i));
  int report_failures = 0;
  double server_micros = 0;
  for (auto& f : reports) {
    auto r = f.Get();
    if (!r.ok()) {
      ++report_failures;
      ADD_FAILURE() << r.status();
    } else {
      server_micros += r->micros;
    }
  }
  const double reports_ms = MillisSince(start);
  reports_done = true;
  writes.join();

  EXPECT_EQ(report_failures, 0);
  EXPECT_EQ(write_failures, 0);
  ASSERT_FALSE(latencies_ms.empty());
  const double max_ms = *std::max_element(latencies_ms.begin(), latencies_ms.end());
  std::vector<double> sorted = latencies_ms;
  std::sort(sorted.begin(), sorted.end());
  const double p50_ms = sorted[sorted.size() / 2];
  std::printf(
      "%d reports: %.0f ms in all (%.0f ms computing on the server); %d writes meanwhile, "
      "latency p50 %.2f ms, max %.1f ms (with no report running: max %.1f ms)\n",
      kReports, reports_ms, server_micros / 1000, writes_during_reports, p50_ms, max_ms,
      quiet_max_ms);
  // Writes went on: many of them, each far quicker than the reports. Were
  // the reports computed on the engine thread, a write sent after them
  // would wait for all 20 (latency close to reports_ms).
  EXPECT_GE(writes_during_reports, 10);
  EXPECT_LT(max_ms, reports_ms / 3);
}

TEST_F(LoadedReportsTest, TooManyReportsAtOnceAreRefused) {
  auto reporter = Connect();
  ASSERT_NE(reporter, nullptr);
  // 120 at once on one report thread: the engine thread queues them far
  // faster than they are computed; past 64 queued or running, refused.
  std::vector<Future<rpc::Report>> reports;
  for (int i = 0; i < 120; ++i) reports.push_back(SendReport(*reporter, i));
  int ok = 0, refused = 0;
  for (auto& f : reports) {
    auto r = f.Get();
    if (r.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status();
      EXPECT_NE(std::string(r.status().message()).find("too many reports running"),
                std::string::npos)
          << r.status();
      ++refused;
    }
  }
  EXPECT_GE(ok, 64);
  EXPECT_GT(refused, 0);
  // Once they are done, reports run again.
  EXPECT_TRUE(SendReport(*reporter, 0).Get().ok());
}

// SIGTERM while reports are queued: the server exits 0 promptly and every
// report is answered by it: the running one computed, the queued ones
// UNAVAILABLE without running. Stops the suite's server: keep it the
// suite's last test.
TEST_F(LoadedReportsTest, StoppingAnswersQueuedReports) {
  auto reporter = Connect();
  ASSERT_NE(reporter, nullptr);
  std::vector<Future<rpc::Report>> reports;
  for (int i = 0; i < 30; ++i) reports.push_back(SendReport(*reporter, i));
  // Once the first is answered, the others are queued or running.
  auto first = reports[0].Get();
  EXPECT_TRUE(first.ok()) << first.status();
  const auto stop = steady_clock::now();
  const int status = server_->Kill(SIGTERM);
  const double stop_ms = MillisSince(stop);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  int ok = 0, not_run = 0;
  for (size_t i = 1; i < reports.size(); ++i) {
    auto r = reports[i].Get();
    if (r.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status();
      EXPECT_NE(std::string(r.status().message()).find("the report did not run"), std::string::npos)
          << r.status();
      ++not_run;
    }
  }
  std::printf("stopped in %.0f ms: %d reports answered, %d not run\n", stop_ms, ok, not_run);
  EXPECT_EQ(ok + not_run, 29);
  EXPECT_GT(not_run, 0);
}

}  // namespace
}  // namespace vox
