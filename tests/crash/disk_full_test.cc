// A full disk under the real server. The data directory is a small tmpfs
// (72 MiB: room for the first 64 MiB WAL segment and little more);
// acked_writer fills the log with padded writes until voxdb cannot
// preallocate the next segment. Then:
//   - writes are refused with a clear error (RESOURCE_EXHAUSTED, "the
//     write-ahead log stopped taking writes: ... No space left on device"),
//     the server keeps serving reads, a checkpoint is refused, SIGTERM stops
//     it without a crash;
//   - restarted on the still-full disk it recovers, serves every
//     acknowledged write, and refuses writes again;
//   - once the tmpfs is made bigger (the space freed) and voxdb restarted,
//     every acknowledged write is there (recovered and checked against the
//     writers' logs, acked_log.h) and writes resume.
// Mounting needs root (CAP_SYS_ADMIN); without it the test is skipped.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "gtest/gtest.h"
#include "net/client.h"
#include "tests/crash/acked_log.h"
#include "tests/crash/voxdb_process.h"
#include "wal/recovery.h"

namespace vox::crash {
namespace {

namespace fs = std::filesystem;

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/voxdb-diskfull-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    work_ = tmpl;
    mnt_ = work_ + "/mnt";
    ASSERT_EQ(mkdir(mnt_.c_str(), 0700), 0);
    if (mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=72m,mode=0700") != 0) {
      const int err = errno;
      fs::remove_all(work_);
      GTEST_SKIP() << "cannot mount a tmpfs for the data directory (" << std::strerror(err)
                   << "): the disk-full test needs root (CAP_SYS_ADMIN)";
    }
    mounted_ = true;
  }

  void TearDown() override {
    server_.reset();  // SIGKILL if still running
    if (HasFailure() && mounted_) {
      std::error_code ec;
      fs::copy(data(), work_ + "/data-at-failure", fs::copy_options::recursive, ec);
    }
    if (mounted_ && umount2(mnt_.c_str(), 0) != 0) umount2(mnt_.c_str(), MNT_DETACH);
    if (work_.empty()) return;
    if (HasFailure()) {
      std::cout << "disk_full: kept " << work_ << " (data-at-failure, voxdb.log, writer-*.log)\n";
    } else {
      fs::remove_all(work_);
    }
  }

  std::string data() const { return mnt_ + "/data"; }
  std::string server_log() const { return work_ + "/voxdb.log"; }

  void StartServer(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> flags = {"--durability=fsync", "--checkpoint_interval_s=0",
                                      "--checkpoint_wal_bytes=0", "--spin_us=0"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    auto s = Voxdb::Start(data(), flags, server_log());
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  // Runs acked_writer against the server until it stops by itself (every
  // thread refused by the stopped log) or `seconds` pass; adds its log.
  void Write(int round, double seconds, size_t payload, int threads) {
    const std::string out = StrCat(work_, "/writer-", round, ".log");
    auto writer = ChildProcess::Start(
        {ACKED_WRITER_BINARY, StrCat("--port=", server_->port()), StrCat("--round=", round),
         "--out=" + out, StrCat("--threads=", threads), StrCat("--seconds=", seconds),
         StrCat("--payload=", payload)},
        work_ + "/writer.err", work_ + "/writer.out");
    ASSERT_NE(writer, nullptr);
    int status = 0;
    ASSERT_TRUE(writer->WaitFor(std::chrono::seconds(static_cast<int>(seconds) + 60), &status))
        << "the writer hung";
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer status " << status << "\n"
                                                               << Tail(work_ + "/writer.err");
    stops_before_ = log_.stop_errors().size();
    auto added = log_.AddFile(out);
    ASSERT_TRUE(added.ok()) << added.status();
  }
  size_t NewStops() const { return log_.stop_errors().size() - stops_before_; }

  // What a refusal by the stopped log must say.
  static void ExpectClearStop(const absl::Status& s) {
    ExpectClearStop(absl::StatusCodeToString(s.code()), ToStd(s.message()));
  }
  static void ExpectClearStop(const std::string& code, std::string_view message) {
    EXPECT_EQ(code, "RESOURCE_EXHAUSTED") << message;
    EXPECT_NE(message.find("the write-ahead log stopped taking writes"), std::string::npos)
        << message;
    EXPECT_NE(message.find("No space left on device"), std::string::npos) << message;
  }
  void ExpectStopErrorsClear() {
    for (size_t i = stops_before_; i < log_.stop_errors().size(); ++i) {
      const std::string& e = log_.stop_errors()[i];
      const size_t sp = e.find(' ');
      ExpectClearStop(e.substr(0, sp), std::string_view(e).substr(sp + 1));
    }
  }

  // The directory copied out of the tmpfs and recovered here, checked
  // against every writer's log so far.
  CheckResult RecoverAndCheck(const std::string& when) {
    const std::string copy = work_ + "/copy";
    fs::remove_all(copy);
    fs::copy(data(), copy, fs::copy_options::recursive);
    Database db;
    auto report = Recover(PosixFileIo(), {.data_dir = copy, .create = false}, db);
    EXPECT_TRUE(report.ok()) << when << ": " << report.status();
    if (!report.ok()) return {};
    CheckResult r = CheckAgainst(db, log_);
    for (const std::string& f : r.failures) ADD_FAILURE() << when << ": " << f;
    for (const std::string& f : CheckInvariants(db)) ADD_FAILURE() << when << ": " << f;
    return r;
  }

  // Every acknowledged registration so far, asked of the running server:
  // served as acknowledged, or (`stopped`: the log has stopped) refused with
  // the stop's error.
  void ExpectUsersServed(Client& client, const std::string& when, bool stopped = false) {
    for (const LogEntry& e : log_.entries()) {
      if (e.op != "user" || e.outcome != Outcome::kAcked) continue;
      auto json = client.Call(rpc::UserByUsername{.username = e.fields[0]});
      if (stopped && !json.ok()) {
        ExpectClearStop(json.status());
        continue;
      }
      ASSERT_TRUE(json.ok()) << when << ": acknowledged user " << e.fields[0] << ": "
                             << json.status();
      EXPECT_NE(json->find(e.fields[1]), std::string::npos) << *json;
    }
  }

  // On a server whose log stopped: a new registration is refused, clearly,
  // and a read does not show it (it would be gone after a restart). The
  // refusal goes into the log of writes: it must stay absent.
  void ProbeStoppedServer(Client& client, const std::string& name) {
    auto refused = client.Call(rpc::RegisterUser{.username = name,
                                                 .email = name + "@example.com",
                                                 .password_hash = "h",
                                                 .display_name = name});
    ASSERT_FALSE(refused.ok()) << "a write was taken by the stopped log";
    ExpectClearStop(refused.status());
    auto read = client.Call(rpc::UserByUsername{.username = name});
    EXPECT_FALSE(read.ok()) << "the stopped log refused " << name
                            << ", but a read shows it: " << *read;
    if (!read.ok() && !absl::IsNotFound(read.status())) ExpectClearStop(read.status());
    const std::string path = work_ + "/refused-" + name + ".log";
    std::ofstream(path) << "R user " << name << " RESOURCE_EXHAUSTED\n";
    ASSERT_TRUE(log_.AddFile(path).ok());
  }

  // No temporary file (a segment or snapshot being made) left behind.
  void ExpectNoTemporaryFiles(const std::string& when) {
    for (const auto& e : fs::recursive_directory_iterator(data())) {
      EXPECT_NE(e.path().extension(), ".tmp") << when << ": " << e.path() << " left behind";
    }
  }

  std::string work_, mnt_;
  bool mounted_ = false;
  std::unique_ptr<Voxdb> server_;
  AckedLog log_;
  size_t stops_before_ = 0;
};

TEST_F(DiskFullTest, WritesRefusedNothingAcknowledgedLostWritesResumeOnceSpaceIsFreed) {
  const auto t0 = std::chrono::steady_clock::now();
  // 1. Fill the disk through the server (one writer thread: the probe
  // below is then the first write to reach the stopped log).
  StartServer();
  // A change stream of every table follows the writes (docs/streams.md): it
  // must carry only durable transactions, and end, saying why, when the
  // log stops.
  auto watcher = Client::Connect({.port = server_->port()});
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  auto stream = (*watcher)->OpenStream(rpc::Subscribe{.table = "*"});
  ASSERT_TRUE(stream.ok()) << stream.status();
  std::vector<std::pair<uint64_t, Uuid>> streamed_users;  // lsn, id
  std::string stream_ended;
  std::thread reader([&] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(240);
    while (!stream->finished() && std::chrono::steady_clock::now() < until) {
      absl::StatusOr<Reply> r = stream->Next(std::chrono::milliseconds(500));
      if (!r.ok()) continue;  // nothing yet
      auto batch = rpc::DecodeEventBatch(r->response());
      if (!batch.ok()) continue;  // the SubscribeResult
      for (const rpc::StreamEvent& e : batch->events) {
        if (e.table == "users") streamed_users.emplace_back(e.lsn, e.id);
      }
      if (!batch->ended.empty()) stream_ended = batch->ended;
    }
  });
  Write(/*round=*/0, /*seconds=*/120, /*payload=*/8000, /*threads=*/1);
  reader.join();
  EXPECT_NE(stream_ended.find("the WAL stopped"), std::string::npos) << stream_ended;
  EXPECT_NE(stream_ended.find("No space left on device"), std::string::npos) << stream_ended;
  EXPECT_FALSE(streamed_users.empty());
  ASSERT_GT(NewStops(), 0u) << "the log never stopped: the disk did not fill in 120 s";
  ExpectStopErrorsClear();
  std::cout << "disk_full: the first refusal: " << log_.stop_errors()[0] << "\n";
  const size_t acked_while_filling = log_.count(Outcome::kAcked);
  ASSERT_GT(acked_while_filling, 0u);
  int status = 0;
  ASSERT_FALSE(server_->process().WaitFor(std::chrono::milliseconds(0), &status))
      << "voxdb exited when the disk filled (status " << status << "):\n"
      << Tail(server_log());
  {
    auto client = Client::Connect({.port = server_->port()});
    ASSERT_TRUE(client.ok()) << client.status();
    ProbeStoppedServer(**client, "after_full");
    // Reads: served, or refused with the same error when they could have
    // seen a write that is not durable.
    auto stats = (*client)->Call(rpc::Stats{});
    if (!stats.ok()) ExpectClearStop(stats.status());
    ExpectUsersServed(**client, "the log stopped", /*stopped=*/true);
    // No room for a snapshot either: refused, nothing left behind.
    auto checkpoint = (*client)->Call(rpc::Checkpoint{});
    EXPECT_FALSE(checkpoint.ok()) << "a checkpoint succeeded on a full disk";
    ExpectNoTemporaryFiles("after a checkpoint failed");
  }
  // A clean stop: the log cannot be synced, so exit 1, but no crash.
  status = server_->process().Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1)
      << "SIGTERM with the log stopped: status " << status << "\n"
      << Tail(server_log());
  server_.reset();
  RecoverAndCheck("after the disk filled");
  ASSERT_FALSE(HasFailure());
  {
    // Every user the stream announced is in what recovery rebuilt.
    Database recovered;
    ASSERT_TRUE(
        Recover(PosixFileIo(), {.data_dir = work_ + "/copy", .create = false}, recovered).ok());
    for (const auto& [lsn, id] : streamed_users) {
      EXPECT_NE(recovered.table(TableId::users).FindById(id), kNoRow)
          << "LSN " << lsn << ": streamed user " << FormatUuid(id) << " is not durable";
    }
  }

  // 2. Restarted on the disk still full, checkpointing every second: it
  // recovers, serves what was acknowledged, refuses writes. Space is then
  // freed under it; a checkpoint now would write the writes the log
  // refused into a snapshot, so none may run before the restart.
  StartServer({"--checkpoint_interval_s=1"});
  {
    auto client = Client::Connect({.port = server_->port()});
    ASSERT_TRUE(client.ok()) << client.status();
    ExpectUsersServed(**client, "restarted on the full disk");
  }
  Write(/*round=*/1, /*seconds=*/30, /*payload=*/8000, /*threads=*/4);
  ASSERT_GT(NewStops(), 0u) << "writes were taken on the full disk for 30 s";
  ExpectStopErrorsClear();
  {
    auto client = Client::Connect({.port = server_->port()});
    ASSERT_TRUE(client.ok()) << client.status();
    ProbeStoppedServer(**client, "after_full2");
  }
  ExpectNoTemporaryFiles("after checkpoints failed on the full disk");
  ASSERT_EQ(mount("tmpfs", mnt_.c_str(), "tmpfs", MS_REMOUNT, "size=256m"), 0)
      << std::strerror(errno);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // three checkpoint intervals
  server_->process().Kill(SIGKILL);
  server_.reset();

  // 3. Space freed, restarted: every acknowledged write there, the refused
  // ones not, and writes resume.
  RecoverAndCheck("after space was freed");
  ASSERT_FALSE(HasFailure());
  StartServer();
  const size_t acked_before = log_.count(Outcome::kAcked);
  const size_t unknown_before = log_.count(Outcome::kUnknown);
  Write(/*round=*/2, /*seconds=*/3, /*payload=*/1000, /*threads=*/4);
  EXPECT_EQ(NewStops(), 0u) << log_.stop_errors().back();
  EXPECT_GT(log_.count(Outcome::kAcked), acked_before) << "no write was taken after the restart";
  EXPECT_EQ(log_.count(Outcome::kUnknown), unknown_before);
  status = server_->process().Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Tail(server_log());
  server_.reset();
  const CheckResult final_check = RecoverAndCheck("after writes resumed");

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "disk_full: " << acked_while_filling
            << " writes acknowledged until the disk filled, " << final_check.acked_checked
            << " acknowledged writes checked in all, " << final_check.unknown << " unknown ("
            << final_check.unknown_present << " present), " << final_check.refused
            << " refused (absent), lost: " << final_check.lost << "; " << static_cast<int>(seconds)
            << " s\n";
}

}  // namespace
}  // namespace vox::crash
