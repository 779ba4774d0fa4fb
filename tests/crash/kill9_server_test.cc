// Kill -9 of the real server under load. Each round: acked_writer drives
// voxdb (durability fsync, frequent checkpoints) over real sockets with a
// write-heavy mix from 8 connections; after a random while voxdb gets
// SIGKILL. Then
//   - a copy of the data directory is recovered in this process and checked
//     against the writers' logs of every round so far (acked_log.h): every
//     acknowledged write there as answered, every refused one absent, every
//     unknown one all there or not at all, balances equal to the transfers
//     present; and the invariants (ledger audit, indexes = scans, no half
//     flows);
//   - voxdb restarts on the same directory (its own recovery; one round in
//     four a first restart is killed while it recovers) and is asked over
//     the wire: rows per table as the copy has them, the ledger audit, this
//     round's users and balances.
// The data accumulates across rounds. VOX_KILL9_ROUNDS sets the rounds (4 by
// default; scripts/kill9.sh runs 100), VOX_KILL9_SEED the random delays,
// VOX_KILL9_DIR where the data goes (a fresh directory by default, removed
// when the test passes unless VOX_KILL9_KEEP=1).
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include "engine/txn.h"
#include "gtest/gtest.h"
#include "net/client.h"
#include "tests/crash/acked_log.h"
#include "tests/crash/voxdb_process.h"
#include "wal/recovery.h"

namespace vox::crash {
namespace {

namespace fs = std::filesystem;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

// Temporary files a crash may leave behind (segments or snapshots being
// made), by extension: a restart must not let them pile up.
std::map<std::string, std::vector<std::string>> Leftovers(const std::string& data) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& e : fs::recursive_directory_iterator(data)) {
    if (e.path().extension() == ".tmp") {
      out[e.path().stem().extension().string()].push_back(e.path().string());
    }
  }
  return out;
}

// Over the wire: what the restarted server holds agrees with the copy
// recovered here.
void CheckServer(uint16_t port, const Database& copy, const AckedLog& log, size_t round_begin,
                 const CheckResult& expected, int round) {
  auto client = Client::Connect({.port = port});
  ASSERT_TRUE(client.ok()) << client.status();
  auto stats = (*client)->Call(rpc::Stats{});
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::map<std::string, uint64_t> served;
  for (const rpc::TableStats& t : stats->tables) served[t.name] = t.rows;
  for (const auto& [table, rows] : LiveRows(copy)) {
    EXPECT_EQ(served[table], rows) << "round " << round << ": the restarted server has another "
                                   << "number of " << table << " than its recovered copy";
  }
  auto audit = (*client)->Call(rpc::AuditAllWallets{});
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_TRUE(audit->ok && audit->mismatches.empty() && audit->balanced)
      << "round " << round << ": the restarted server's ledger audit fails";
  // This round's acknowledged users, and their balances.
  for (size_t i = round_begin; i < log.entries().size(); ++i) {
    const LogEntry& e = log.entries()[i];
    if (e.op != "user" || e.outcome != Outcome::kAcked) continue;
    auto json = (*client)->Call(rpc::UserByUsername{.username = e.fields[0]});
    ASSERT_TRUE(json.ok()) << "round " << round << ": acknowledged user " << e.fields[0]
                           << " not served after restart: " << json.status();
    EXPECT_NE(json->find(e.fields[1]), std::string::npos) << *json;
    auto id = ParseUuid(e.fields[1]);
    ASSERT_TRUE(id.ok());
    auto balance = (*client)->Call(rpc::GetWalletBalance{.user_id = *id});
    ASSERT_TRUE(balance.ok()) << balance.status();
    EXPECT_TRUE(balance->ledger_consistent) << e.fields[0];
    auto want = expected.balances.find(e.fields[0]);
    ASSERT_NE(want, expected.balances.end()) << e.fields[0];
    EXPECT_EQ(balance->balance, want->second)
        << "round " << round << ": " << e.fields[0] << "'s balance served after restart";
  }
}

TEST(Kill9ServerTest, EveryAcknowledgedWriteSurvivesSigkillOfTheServer) {
  const int rounds = EnvInt("VOX_KILL9_ROUNDS", 4);
  const uint64_t seed = static_cast<uint64_t>(
      EnvInt("VOX_KILL9_SEED", static_cast<int>(std::random_device{}() & 0x7fffffff)));
  std::string work;
  if (const char* dir = std::getenv("VOX_KILL9_DIR"); dir != nullptr && *dir != '\0') {
    work = dir;
    fs::remove_all(work);
    fs::create_directories(work);
  } else {
    char tmpl[] = "/tmp/voxdb-kill9-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    work = tmpl;
  }
  const std::string data = work + "/data", copy = work + "/copy", server_log = work + "/voxdb.log";
  std::cout << "kill9: " << rounds << " rounds, seed " << seed << ", in " << work << "\n";
  // fsync durability; a checkpoint every MiB of log, so kills also land
  // while snapshots are written and recovery starts from snapshots.
  const std::vector<std::string> flags = {"--durability=fsync", "--checkpoint_wal_bytes=1048576",
                                          "--checkpoint_interval_s=0", "--keep_snapshots=2",
                                          "--spin_us=0"};
  std::mt19937_64 rng(seed);
  AckedLog log;
  CheckResult last;
  uint64_t checks = 0, kills_in_recovery = 0, torn_tails = 0, snapshot_starts = 0,
           kills_while_writing = 0, leftover_snapshots = 0;
  const auto t0 = std::chrono::steady_clock::now();

  auto server = Voxdb::Start(data, flags, server_log);
  ASSERT_TRUE(server.ok()) << server.status();
  for (int round = 0; round < rounds; ++round) {
    const std::string out = work + "/writer-" + std::to_string(round) + ".log";
    auto writer =
        ChildProcess::Start({ACKED_WRITER_BINARY, "--port=" + std::to_string((*server)->port()),
                             "--round=" + std::to_string(round), "--out=" + out, "--threads=8",
                             "--seconds=60", "--seed=" + std::to_string(seed)},
                            work + "/writer.err", work + "/writer.out");
    ASSERT_NE(writer, nullptr);
    // Mostly 0.1-1.5 s of writing; now and then a kill in the first moments.
    const int delay_ms = std::uniform_int_distribution<int>(0, 9)(rng) == 0
                             ? std::uniform_int_distribution<int>(5, 100)(rng)
                             : std::uniform_int_distribution<int>(100, 1500)(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    const int status = (*server)->process().Kill(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "round " << round << ": voxdb ended on its own (status " << status
        << ") before the kill:\n"
        << Tail(server_log);
    int writer_status = 0;
    ASSERT_TRUE(writer->WaitFor(std::chrono::seconds(60), &writer_status))
        << "round " << round << ": the writer did not stop after the server died";
    // 3: it could not connect at all (killed before it started).
    ASSERT_TRUE(WIFEXITED(writer_status) &&
                (WEXITSTATUS(writer_status) == 0 || WEXITSTATUS(writer_status) == 3))
        << "round " << round << ": writer status " << writer_status << "\n"
        << Tail(work + "/writer.err");
    const size_t round_begin = log.entries().size();
    if (fs::exists(out)) {
      auto added = log.AddFile(out);
      ASSERT_TRUE(added.ok()) << added.status();
      kills_while_writing += *added > 0;
    }

    // 1. A copy of the directory, recovered here.
    fs::remove_all(copy);
    fs::copy(data, copy, fs::copy_options::recursive);
    Database db;
    auto report = Recover(PosixFileIo(), {.data_dir = copy, .create = false}, db);
    ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.status();
    torn_tails += report->torn_tail;
    snapshot_starts += !report->snapshot.empty();
    last = CheckAgainst(db, log);
    checks += last.acked_checked;
    for (const std::string& f : last.failures) ADD_FAILURE() << "round " << round << ": " << f;
    for (const std::string& f : CheckInvariants(db)) {
      ADD_FAILURE() << "round " << round << ": " << f;
    }
    ASSERT_TRUE(last.failures.empty()) << "data kept in " << work;
    ASSERT_FALSE(HasFailure()) << "data kept in " << work;

    // 2. The real server, restarted on the same directory, asked over the
    // wire. One round in four, a first start is killed while it recovers.
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
      std::vector<std::string> args = {VOXDB_BINARY, "--listen=127.0.0.1:0", "--data=" + data};
      args.insert(args.end(), flags.begin(), flags.end());
      auto early = ChildProcess::Start(args, server_log, "/dev/null");
      ASSERT_NE(early, nullptr);
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::uniform_int_distribution<int>(0, 60000)(rng)));
      early->Kill(SIGKILL);
      ++kills_in_recovery;
    }
    server = Voxdb::Start(data, flags, server_log);
    ASSERT_TRUE(server.ok()) << "round " << round << ": " << server.status();
    CheckServer((*server)->port(), db, log, round_begin, last, round);
    ASSERT_FALSE(HasFailure()) << "data kept in " << work;
    // A segment half made at the kill is removed at the restart; a snapshot
    // half written when the next checkpoint starts: never more than one.
    auto leftovers = Leftovers(data);
    EXPECT_TRUE(leftovers[".wal"].empty())
        << "round " << round << ": after the restart, " << leftovers[".wal"][0] << " is left";
    EXPECT_LE(leftovers[".vsnap"].size(), 1u)
        << "round " << round << ": half-written snapshots pile up: " << leftovers[".vsnap"][0];
    leftover_snapshots += !leftovers[".vsnap"].empty();
  }
  // A clean stop, then the directory itself recovered and checked once more.
  const int status = (*server)->process().Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Tail(server_log);
  server->reset();
  Database db;
  auto report = Recover(PosixFileIo(), {.data_dir = data, .create = false}, db);
  ASSERT_TRUE(report.ok()) << report.status();
  const CheckResult final_check = CheckAgainst(db, log);
  for (const std::string& f : final_check.failures) ADD_FAILURE() << "after the clean stop: " << f;
  for (const std::string& f : CheckInvariants(db)) ADD_FAILURE() << "after the clean stop: " << f;

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "kill9: " << rounds << " rounds (" << kills_while_writing
            << " killed while the writer was writing), " << final_check.acked_checked
            << " acknowledged writes, each checked after every later kill (" << checks
            << " checks), " << final_check.unknown << " unknown (" << final_check.unknown_present
            << " present, all or nothing), " << final_check.refused << " refused (absent), "
            << final_check.users << " balances, lost: " << final_check.lost << "; " << torn_tails
            << " torn tails cut, " << snapshot_starts << " recoveries from a snapshot, "
            << leftover_snapshots << " rounds found a half-written snapshot, " << kills_in_recovery
            << " restarts killed while recovering; " << static_cast<int>(seconds) << " s\n";
  EXPECT_GT(final_check.acked_checked, static_cast<uint64_t>(rounds));
  if (!HasFailure() && EnvInt("VOX_KILL9_KEEP", 0) == 0) fs::remove_all(work);
}

// The checks themselves: each kind of damage they exist for makes them
// fail. A short fsync run gives real data and a real log to damage.
TEST(Kill9ServerTest, TheChecksCatchLostPhantomAndHalfAppliedWrites) {
  char tmpl[] = "/tmp/voxdb-kill9-checks-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string work = tmpl;
  // One round of `durability` for `ms`, killed; the writer's log added to `log`.
  auto round = [&](const std::string& durability, int ms, const std::string& name, AckedLog& log) {
    auto server = Voxdb::Start(work + "/" + name, {"--durability=" + durability, "--spin_us=0"},
                               work + "/voxdb.log");
    ASSERT_TRUE(server.ok()) << server.status();
    const std::string out = work + "/" + name + ".log";
    auto writer =
        ChildProcess::Start({ACKED_WRITER_BINARY, "--port=" + std::to_string((*server)->port()),
                             "--round=0", "--out=" + out, "--threads=4", "--seconds=60"},
                            work + "/writer.err", work + "/writer.out");
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    (*server)->process().Kill(SIGKILL);
    int status = 0;
    ASSERT_TRUE(writer->WaitFor(std::chrono::seconds(60), &status));
    ASSERT_TRUE(log.AddFile(out).ok());
  };

  // Durability none acknowledges what no log holds: a kill loses it.
  AckedLog none_log;
  round("none", 500, "none", none_log);
  {
    Database db;
    ASSERT_TRUE(Recover(PosixFileIo(), {.data_dir = work + "/none", .create = false}, db).ok());
    const CheckResult r = CheckAgainst(db, none_log);
    EXPECT_GT(r.lost, 0u) << "acknowledged writes lost with durability none went unnoticed";
  }

  AckedLog log;
  round("fsync", 800, "fsync", log);
  Database db;
  ASSERT_TRUE(Recover(PosixFileIo(), {.data_dir = work + "/fsync", .create = false}, db).ok());
  ASSERT_TRUE(CheckAgainst(db, log).failures.empty());
  ASSERT_TRUE(CheckInvariants(db).empty());

  // The log altered: a refusal that is there, an acknowledgement that is not.
  {
    std::ifstream in(work + "/fsync.log");
    std::ofstream out(work + "/altered.log");
    bool flipped = false;
    for (std::string line; std::getline(in, line);) {
      if (!flipped && line.rfind("A topup ", 0) == 0) {
        line = "R" + line.substr(1);
        flipped = true;
      }
      out << line << "\n";
    }
    out << "A user nobody_wrote_me 01a20000-0000-7000-8000-000000000001 "
           "01a20000-0000-7000-8000-000000000002\n";
    out << "U join r0t0n0 nobody_wrote_me\n";
  }
  AckedLog altered;
  ASSERT_TRUE(altered.AddFile(work + "/altered.log").ok());
  const CheckResult r = CheckAgainst(db, altered);
  EXPECT_EQ(r.lost, 1u);
  auto has = [&](const std::vector<std::string>& failures, const std::string& what) {
    for (const std::string& f : failures) {
      if (f.find(what) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(r.failures, "refused top-up")) << "a refused write that is there went unnoticed";
  EXPECT_TRUE(has(r.failures, "acknowledged user nobody_wrote_me lost"));

  // The database altered: half-applied flows, counters off.
  const Table& wallets = db.table(TableId::wallets);
  const Table& rooms = db.table(TableId::rooms);
  RowId wallet = 0, room = 0;
  while (!wallets.IsLive(wallet) ||
         wallets.GetEnum<WalletKind>(wallet, wallets::kind) != WalletKind::USER) {
    ++wallet;
  }
  while (!rooms.IsLive(room)) ++room;
  ASSERT_TRUE(Transact(db, 0, [&](Txn& txn) {
                txn.Set(TableId::wallets, wallet, wallets::posted_credits,
                        wallets.GetInt(wallet, wallets::posted_credits) + 7);
                txn.Set(TableId::rooms, room, rooms::participant_count,
                        rooms.GetInt(room, rooms::participant_count) + 1);
                return absl::OkStatus();
              }).ok());
  const std::vector<std::string> broken = CheckInvariants(db);
  EXPECT_TRUE(has(broken, "ledger audit")) << "a wallet counter off went unnoticed";
  EXPECT_TRUE(has(broken, "participants; ")) << "a room counter off went unnoticed";
  EXPECT_TRUE(has(CheckAgainst(db, log).failures, "has a balance of"));
  if (!HasFailure()) fs::remove_all(work);
}

}  // namespace
}  // namespace vox::crash
