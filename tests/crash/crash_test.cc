// Kill -9 under durable writes. A child process recovers the data
// directory, then runs write transactions with `fsync` durability and
// reports each acknowledged one to the parent through a pipe; the parent
// SIGKILLs it at a random moment, recovers the directory itself, and checks
// that every acknowledged transaction is there, nothing is half-applied,
// and every index agrees with its table. VOX_CRASH_ROUNDS sets the rounds
// (default 25; the full run uses 200).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <set>
#include <string>

#include "engine/ops/identity.h"
#include "engine/ops/ledger.h"
#include "engine/ops/queries.h"
#include "gtest/gtest.h"
#include "schema/str.h"
#include "tests/wal/wal_test_util.h"
#include "wal/recovery.h"
#include "wal/wal_sink.h"

namespace vox {
namespace {

constexpr Timestamp kT0 = 1793491200LL * kMicrosPerSecond;

// The child: recover, then register users and top them up, one transaction
// each, acknowledging (to the pipe) only what the WAL made durable.
[[noreturn]] void Child(const std::string& dir, int out_fd, int round) {
  Database db({.id_seed = static_cast<uint64_t>(round) + 1});
  auto report = Recover(PosixFileIo(), {.data_dir = dir}, db);
  if (!report.ok()) _exit(3);
  auto device = UringLogDevice::Create();
  if (!device.ok()) _exit(4);
  auto writer = WalWriter::Open(
      PosixFileIo(), **device,
      {.dir = WalDir(dir), .database_id = report->database_id, .segment_bytes = 256 * 1024},
      report->tail);
  if (!writer.ok()) _exit(5);
  WalCommitSink sink(**writer);
  db.set_commit_sink(&sink);
  for (int i = 0;; ++i) {
    const std::string name = StrCat("r", round, "u", i);
    const std::string email = name + "@example.com";
    const OpContext ctx{.now = kT0 + (round * 100000 + i) * kMicrosPerSecond};
    auto user = RegisterUser(
        db, ctx, {.username = name, .email = email, .password_hash = "h", .display_name = name});
    if (!user.ok()) _exit(6);
    auto topup = TopUp(db, ctx, {.user_id = user->user_id, .amount = 50});
    if (!topup.ok()) _exit(7);
    // Acknowledge only once durable.
    if (!(*writer)->Sync().ok()) _exit(8);
    const std::string line = name + "\n";
    if (write(out_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(9);
  }
}

TEST(CrashTest, EveryAcknowledgedWriteSurvivesKillNine) {
  const char* env = std::getenv("VOX_CRASH_ROUNDS");
  const int rounds = env ? std::atoi(env) : 25;
  testing::TempDir dir;
  std::mt19937_64 rng(12345);
  std::set<std::string> acknowledged;
  uint64_t replayed_total = 0;
  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      Child(dir.path(), fds[1], round);
    }
    close(fds[1]);
    // Let it write for a random while, then kill it without warning.
    usleep(static_cast<useconds_t>(std::uniform_int_distribution<int>(2000, 60000)(rng)));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child exited on its own with status " << status << " in round " << round;
    // What the child acknowledged before it died.
    std::string acked;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0) acked.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    for (size_t at = 0, nl; (nl = acked.find('\n', at)) != std::string::npos; at = nl + 1) {
      acknowledged.insert(acked.substr(at, nl - at));
    }
    // Recover in this process and check.
    Database db({.id_seed = 99});
    auto report = Recover(PosixFileIo(), {.data_dir = dir.path()}, db);
    ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.status().message();
    replayed_total += report->records_replayed;
    for (const std::string& name : acknowledged) {
      ASSERT_NE(FindUserByUsername(db, name), kNoRow)
          << "acknowledged user " << name << " lost in round " << round;
    }
    // No half-applied registration: every user has its LOCAL login and a wallet.
    const Table& users = db.table(TableId::users);
    for (RowId u = 0; u < users.row_count(); ++u) {
      if (!users.IsLive(u)) continue;
      ASSERT_TRUE(GetWalletBalance(db, users.id(u)).ok()) << "round " << round;
    }
    EXPECT_EQ(db.table(TableId::auth_providers).live_count(), users.live_count());
    ASSERT_TRUE(AuditAllWallets(db).ok()) << "ledger out of balance in round " << round;
    const absl::Status indexes = db.VerifyIndexes();
    ASSERT_TRUE(indexes.ok()) << "round " << round << ": " << indexes.message();
  }
  std::cout << rounds << " kill -9 rounds, " << acknowledged.size()
            << " acknowledged transactions all recovered (" << replayed_total
            << " records replayed in all)\n";
  EXPECT_GT(acknowledged.size(), static_cast<size_t>(rounds));
}

}  // namespace
}  // namespace vox
