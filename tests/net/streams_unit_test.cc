// ChangeStreams (net/streams.h) without a server: a fake connection, the
// engine's commits numbered without a WAL, delivery called by the test.
#include "net/streams.h"

#include <deque>
#include <thread>

#include "engine/ops/rooms.h"
#include "schema/voxdb_generated.h"
#include "tests/engine/test_util.h"
#include "tests/wal/wal_test_util.h"
#include "wal/checkpoint.h"

namespace vox {
namespace {

using testing::Contains;

// A connection: frames pushed to it, and how many bytes it holds unsent.
class FakeOutlet final : public StreamOutlet {
 public:
  void Push(std::vector<uint8_t> frame) override { frames.push_back(std::move(frame)); }
  size_t unsent_bytes() const override { return unsent; }
  bool closed() const override { return is_closed; }

  // The pushed batches, decoded; `request_id` of each must be `id`.
  struct Batch {
    uint64_t request_id, subscription, last_lsn;
    std::vector<std::pair<uint64_t, std::string>> events;  // lsn, table
    std::string ended;
  };
  std::vector<Batch> Take() {
    std::vector<Batch> out;
    for (const auto& f : frames) {
      flatbuffers::Verifier v(f.data(), f.size());
      EXPECT_TRUE(v.VerifySizePrefixedBuffer<wire::Response>(nullptr));
      const auto* r = flatbuffers::GetSizePrefixedRoot<wire::Response>(f.data());
      const auto* b = r->result_as_EventBatch();
      EXPECT_NE(b, nullptr);
      if (b == nullptr) continue;
      Batch batch{r->id(), b->subscription(), b->last_lsn(), {},
                  b->ended() ? b->ended()->str() : ""};
      if (b->events() != nullptr) {
        for (const auto* e : *b->events()) batch.events.emplace_back(e->lsn(), e->table()->str());
      }
      out.push_back(std::move(batch));
    }
    frames.clear();
    return out;
  }

  std::deque<std::vector<uint8_t>> frames;
  size_t unsent = 0;
  bool is_closed = false;
};

class StreamsUnitTest : public testing::EngineTest {
 protected:
  void Start(StreamOptions options) {
    streams_ = std::make_unique<ChangeStreams>(options);
    streams_->Attach(db_, nullptr, 0);
  }
  ~StreamsUnitTest() override {
    if (streams_) streams_->Detach();
  }
  absl::StatusOr<uint64_t> Subscribe(std::shared_ptr<FakeOutlet> out, uint64_t request_id,
                                     StreamFilter filter, std::optional<uint64_t> from) {
    uint64_t start = 0;
    return streams_->Subscribe(std::move(out), request_id, filter, from, &start);
  }

  std::unique_ptr<ChangeStreams> streams_;
};

TEST_F(StreamsUnitTest, SubscribersOfOneThingGetTheSameEventsUnderTheirOwnIds) {
  Start({});
  auto a = std::make_shared<FakeOutlet>(), b = std::make_shared<FakeOutlet>();
  auto users = std::make_shared<FakeOutlet>();
  const StreamFilter all{.kind = StreamFilter::Kind::kAllTables};
  auto sa = Subscribe(a, 101, all, std::nullopt);
  auto sb = Subscribe(b, 202, all, std::nullopt);
  auto su = Subscribe(users, 303, {.kind = StreamFilter::Kind::kTable, .table = TableId::users},
                      std::nullopt);
  ASSERT_TRUE(sa.ok() && sb.ok() && su.ok());
  EXPECT_NE(*sa, *sb);
  Register("ann");  // LSN 1: users, auth_providers, wallets, audit_logs
  Register("bob");  // LSN 2
  EXPECT_TRUE(streams_->HasWork());
  EXPECT_TRUE(streams_->Deliver(UINT64_MAX));
  EXPECT_FALSE(streams_->HasWork());
  const auto got_a = a->Take(), got_b = b->Take(), got_u = users->Take();
  ASSERT_EQ(got_a.size(), 1u);
  ASSERT_EQ(got_b.size(), 1u);
  EXPECT_EQ(got_a[0].request_id, 101u);
  EXPECT_EQ(got_a[0].subscription, *sa);
  EXPECT_EQ(got_b[0].request_id, 202u);  // the shared frame, patched
  EXPECT_EQ(got_b[0].subscription, *sb);
  EXPECT_EQ(got_a[0].events, got_b[0].events);
  EXPECT_EQ(got_a[0].events.size(), 8u);
  EXPECT_EQ(got_a[0].last_lsn, 2u);
  ASSERT_EQ(got_u.size(), 1u);
  ASSERT_EQ(got_u[0].events.size(), 2u);
  EXPECT_EQ(got_u[0].events[0], std::make_pair(uint64_t{1}, std::string("users")));
  EXPECT_EQ(got_u[0].events[1], std::make_pair(uint64_t{2}, std::string("users")));
}

TEST_F(StreamsUnitTest, OnlyWhatIsDurableIsDelivered) {
  Start({});
  auto out = std::make_shared<FakeOutlet>();
  ASSERT_TRUE(Subscribe(out, 1, {}, std::nullopt).ok());
  Register("ann");
  Register("bob");
  streams_->Deliver(1);
  auto got = out->Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].last_lsn, 1u);
  for (const auto& e : got[0].events) EXPECT_EQ(e.first, 1u);
  streams_->Deliver(2);
  got = out->Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].events.front().first, 2u);
}

TEST_F(StreamsUnitTest, ResumingFromAnLsnGivesWhatFollowsIt) {
  Start({});
  for (const char* name : {"ann", "bob", "cat", "dan"}) Register(name);
  auto out = std::make_shared<FakeOutlet>();
  ASSERT_TRUE(
      Subscribe(out, 1, {.kind = StreamFilter::Kind::kTable, .table = TableId::users}, 2).ok());
  streams_->Deliver(UINT64_MAX);
  const auto got = out->Take();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].events.size(), 2u);
  EXPECT_EQ(got[0].events[0].first, 3u);
  EXPECT_EQ(got[0].events[1].first, 4u);

  auto future = Subscribe(out, 2, {}, 5);
  EXPECT_EQ(future.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(std::string(future.status().message()), "past the last commit"));
}

TEST_F(StreamsUnitTest, HistoryIsBoundedAndOlderLsnsAreOutOfRange) {
  Start({.retention_bytes = 16 << 10});
  for (int i = 0; i < 40; ++i) Register(StrCat("user", i));
  const ChangeStreams::Stats stats = streams_->stats();
  EXPECT_EQ(stats.last_lsn, 40u);
  EXPECT_GT(stats.history_after_lsn, 0u);
  EXPECT_LE(stats.history_bytes, size_t{16} << 10);
  auto out = std::make_shared<FakeOutlet>();
  auto old = Subscribe(out, 1, {}, stats.history_after_lsn - 1);
  EXPECT_EQ(old.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(Contains(std::string(old.status().message()), "resync from a snapshot read"));
  EXPECT_TRUE(Subscribe(out, 1, {}, stats.history_after_lsn).ok());
}

TEST_F(StreamsUnitTest, ASubscriberLeftBehindByTheHistoryIsEndedWithItsLsn) {
  Start({.retention_bytes = 16 << 10});
  auto out = std::make_shared<FakeOutlet>();
  ASSERT_TRUE(Subscribe(out, 1, {}, std::nullopt).ok());
  out->unsent = size_t{64} << 20;  // its socket takes nothing
  for (int i = 0; i < 40; ++i) Register(StrCat("user", i));
  streams_->Deliver(UINT64_MAX);
  const auto got = out->Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].events.empty());
  EXPECT_EQ(got[0].ended.rfind("fell behind at LSN 0", 0), 0u) << got[0].ended;
  EXPECT_EQ(streams_->stats().subscriptions, 0u);
  EXPECT_EQ(out->open_streams.load(), 0);
}

TEST_F(StreamsUnitTest, TheHistoryKeepsWhatASubscriberHasYetToReadUpToTwiceItsSize) {
  Start({.retention_bytes = 16 << 10});
  auto out = std::make_shared<FakeOutlet>();
  ASSERT_TRUE(Subscribe(out, 1, {}, std::nullopt).ok());
  streams_->Deliver(UINT64_MAX);  // its cursor, at 0, pins the history
  out->unsent = size_t{64} << 20;  // and it reads nothing for now
  int registered = 0;
  while (streams_->stats().history_bytes <= (16 << 10)) Register(StrCat("user", registered++));
  EXPECT_EQ(streams_->stats().history_after_lsn, 0u);  // over the retention, nothing dropped
  while (streams_->stats().history_after_lsn == 0) Register(StrCat("user", registered++));
  EXPECT_LE(streams_->stats().history_bytes, size_t{32} << 10);  // the hard bound: twice
  streams_->Deliver(UINT64_MAX);
  const auto got = out->Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].ended.rfind("fell behind at LSN 0", 0), 0u) << got[0].ended;
}

TEST_F(StreamsUnitTest, AFullConnectionIsEndedOnlyAfterTheStallLimit) {
  Start({.buffer_bytes = 64 << 10, .stall_limit = std::chrono::milliseconds(50)});
  auto slow = std::make_shared<FakeOutlet>(), fast = std::make_shared<FakeOutlet>();
  ASSERT_TRUE(Subscribe(slow, 1, {}, std::nullopt).ok());
  ASSERT_TRUE(Subscribe(fast, 2, {}, std::nullopt).ok());
  slow->unsent = 64 << 10;
  Register("ann");
  EXPECT_TRUE(streams_->Deliver(UINT64_MAX));  // fast gets it; slow is full
  EXPECT_TRUE(slow->Take().empty());
  EXPECT_EQ(fast->Take().size(), 1u);
  EXPECT_FALSE(streams_->Deliver(UINT64_MAX));  // nothing it can do
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  streams_->Deliver(UINT64_MAX);
  const auto got = slow->Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].ended.rfind("fell behind at LSN 0: the client did not read", 0), 0u)
      << got[0].ended;
  EXPECT_EQ(streams_->stats().fell_behind, 1u);
  // The other one goes on.
  Register("bob");
  streams_->Deliver(UINT64_MAX);
  EXPECT_EQ(fast->Take().size(), 1u);
}

TEST_F(StreamsUnitTest, UnsubscribeAndClosedConnectionsEndTheirStreams) {
  Start({});
  auto a = std::make_shared<FakeOutlet>(), b = std::make_shared<FakeOutlet>();
  auto sa = Subscribe(a, 1, {}, std::nullopt);
  ASSERT_TRUE(sa.ok());
  ASSERT_TRUE(Subscribe(b, 2, {}, std::nullopt).ok());
  EXPECT_EQ(streams_->Unsubscribe(b.get(), *sa).code(), absl::StatusCode::kNotFound);  // not b's
  ASSERT_TRUE(streams_->Unsubscribe(a.get(), *sa).ok());
  b->is_closed = true;
  streams_->Deliver(UINT64_MAX);
  const auto got = a->Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].ended, "unsubscribed");
  EXPECT_TRUE(b->Take().empty());
  EXPECT_EQ(streams_->stats().subscriptions, 0u);
  EXPECT_EQ(a->open_streams.load(), 0);
  EXPECT_EQ(b->open_streams.load(), 0);
}

// Subscribers behind the log's end hold the WAL (and a snapshot before it)
// through the checkpointer, within wal_hold_bytes of changes.
TEST_F(StreamsUnitTest, ASubscriberBehindHoldsTheWalWithinTheLimit) {
  testing::TempDir dir;
  Checkpointer checkpointer(PosixFileIo(), dir.path(), Uuid{1, 2}, 1);
  Start({});
  streams_->set_wal_source({.io = &PosixFileIo(), .data_dir = dir.path(),
                            .database_id = Uuid{1, 2}, .checkpointer = &checkpointer});
  Register("ann");
  Register("bob");
  auto slow = std::make_shared<FakeOutlet>();
  ASSERT_TRUE(Subscribe(slow, 1, {}, std::nullopt).ok());  // from LSN 2
  slow->unsent = size_t{64} << 20;                          // reads nothing
  Register("cat");
  streams_->Deliver(UINT64_MAX);
  EXPECT_EQ(streams_->stats().wal_hold_lsn, 2u);
  streams_->EndAll("the server is stopping");
  EXPECT_EQ(streams_->stats().wal_hold_lsn, 0u);  // released
}

TEST_F(StreamsUnitTest, NoHoldFurtherBehindThanTheLimit) {
  testing::TempDir dir;
  Checkpointer checkpointer(PosixFileIo(), dir.path(), Uuid{1, 2}, 1);
  Start({.wal_hold_bytes = 1024});
  streams_->set_wal_source({.io = &PosixFileIo(), .data_dir = dir.path(),
                            .database_id = Uuid{1, 2}, .checkpointer = &checkpointer});
  Register("ann");
  auto slow = std::make_shared<FakeOutlet>();
  ASSERT_TRUE(Subscribe(slow, 1, {}, std::nullopt).ok());  // from LSN 1
  slow->unsent = size_t{64} << 20;
  for (const char* name : {"bob", "cat", "dan"}) Register(name);  // > 1 KiB of events
  streams_->Deliver(UINT64_MAX);
  EXPECT_EQ(streams_->stats().wal_hold_lsn, 0u);
}

TEST_F(StreamsUnitTest, OffMeansNoHistoryAndSubscribeIsRefused) {
  Start({.retention_bytes = 0});
  Register("ann");
  EXPECT_EQ(streams_->stats().history_commits, 0u);
  auto out = std::make_shared<FakeOutlet>();
  EXPECT_EQ(Subscribe(out, 1, {}, std::nullopt).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace vox
