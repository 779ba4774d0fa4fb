// Change streams (docs/streams.md, issue 9): what watching one busy room
// costs and delivers.
//
// BM_RoomStream/subs:N/writes:W/rate:R: an in-process server on the
// WORKLOAD.md data at VOX_BENCH_SCALE (default 0.01), durability fsync,
// ChangeStreams attached as voxdb attaches them. Four writer clients (the
// client library, each keeping 16 requests in flight) run W5 on the LIVE
// room with the most present participants: every participant in turn
// mutes or unmutes itself, or raises or lowers its hand (one transaction,
// two events: the participant row and its audit row). N raw-socket
// subscribers follow the room (Hello, then Subscribe from now) and are read
// by two threads with epoll. A run is W writes; R = 0 lets the writers go
// as fast as they can (16 in flight each), R > 0 paces them to R commits/s
// in all, evenly spread, one write at a time each. Per run:
//   commits_per_s    the writes' rate;
//   events_per_s     events received by all subscribers / the time from the
//                    first write to the last subscriber's last event;
//   events_per_frame events per EventBatch frame the server pushed;
//   delay_p50/p99_us receive wall time - the event's commit_time (the
//                    server's wall clock when it ran the transaction), so:
//                    execution + fdatasync + delivery + loopback;
//   write_p50/p99_us each write's round trip as its writer saw it (N = 0:
//                    nobody watching, the engine's own cost).
// A run fails unless every subscriber received every event of the run (2 per
// commit, none ended).
//
// BM_W5Commit/sink:S: the engine thread's cost per W5 transaction (a
// participant's self mute / unmute, run in-process on its own Database) with
// S = 0: no CommitSink; 1: the WAL's (encode, seal, queue: a WalWriter with
// durability write over a file system and device that discard every byte);
// 2: ChangeStreams over that WAL sink (CollectChangeEvents + history append,
// no subscriber). 2 - 1 is what every commit pays when streams are on.
//
//   scripts/build.sh stream_bench
//   build/bench/stream_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_workload.h"
#include "bench/null_io.h"
#include "bench/voxbench/histogram.h"
#include "bench/bench_log.h"
#include "benchmark/benchmark.h"
#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "net/client.h"
#include "net/protocol.h"
#include "net/server.h"
#include "net/streams.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "tools/datagen/datagen.h"
#include "wal/checkpoint.h"
#include "wal/file_io.h"
#include "wal/log_device.h"
#include "wal/recovery.h"
#include "wal/wal_sink.h"
#include "wal/wal_writer.h"

namespace vox {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

// ---- The busy room: present participants who may act on themselves ----

struct Participant {
  Uuid user;
  bool muted = false, hand = false;
  bool next_hand = false;  // alternate: mute toggle, then hand toggle
};

struct BusyRoom {
  RowId room = kNoRow;
  bool hand_allowed = false;
  std::vector<Participant> people;
};

// The LIVE room with the most participants who can mute, unmute, raise and
// lower their own hand (active users not muted by a host), hand raising
// allowed preferred.
BusyRoom PickBusyRoom(const Database& db, const GeneratedData& data) {
  const Table& rooms = db.table(TableId::rooms);
  const Table& parts = db.table(TableId::room_participants);
  const Table& users = db.table(TableId::users);
  BusyRoom best;
  std::vector<ParticipantState> present;
  for (RowId room : data.live_rooms) {
    PresentParticipants(db, room, &present);
    BusyRoom b{room, rooms.GetBool(room, rooms::hand_raise_allowed), {}};
    for (const ParticipantState& p : present) {
      if (parts.GetBool(p.participant, room_participants::muted_by_host)) continue;
      if (!std::binary_search(data.active_users.begin(), data.active_users.end(), p.user)) continue;
      b.people.push_back({users.id(p.user), p.muted, p.hand_raised});
    }
    if (std::make_pair(b.hand_allowed, b.people.size()) >
        std::make_pair(best.hand_allowed, best.people.size())) {
      best = std::move(b);
    }
  }
  if (best.people.empty()) BenchFail("no LIVE room with present participants");
  return best;
}

// ---- The server fixture ----

struct Fixture {
  std::unique_ptr<Database> db;
  GeneratedData data;
  Uuid room;
  bool hand_allowed = false;
  std::vector<Participant> people;  // their state, carried across runs
  std::unique_ptr<BenchLog> log;
  std::unique_ptr<ChangeStreams> streams;
  std::unique_ptr<Checkpointer> checkpointer;
  std::unique_ptr<Server> server;
};

void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

Fixture& ServerFixture() {
  static Fixture* f = [] {
    RaiseFileLimit();
    auto* fx = new Fixture;
    BenchWorkload w = LoadBenchWorkload(0.01);
    fx->db = std::move(w.db);
    fx->data = std::move(w.data);
    BusyRoom busy = PickBusyRoom(*fx->db, fx->data);
    fx->room = fx->db->table(TableId::rooms).id(busy.room);
    fx->hand_allowed = busy.hand_allowed;
    fx->people = std::move(busy.people);
    std::cerr << "busy room: " << fx->people.size() << " participants writing, hand raising "
              << (fx->hand_allowed ? "allowed" : "not allowed") << "\n";
    fx->log = OpenBenchLog("stream-bench", *fx->db);
    const Uuid id = fx->log->database_id;
    fx->streams = std::make_unique<ChangeStreams>(StreamOptions{});
    fx->streams->Attach(*fx->db, fx->log->sink.get(), 0);
    fx->checkpointer = std::make_unique<Checkpointer>(PosixFileIo(), fx->log->dir, id, 1);
    auto server =
        Server::Start({.port = 0, .max_connections = 4096}, {.db = fx->db.get(),
                                                             .wal = fx->log->wal.get(),
                                                             .sink = fx->log->sink.get(),
                                                             .checkpointer = fx->checkpointer.get(),
                                                             .database_id = id,
                                                             .durability = Durability::kFsync,
                                                             .streams = fx->streams.get()});
    if (!server.ok()) BenchFail(StrCat("server: ", server.status().message()));
    fx->server = std::move(*server);
    return fx;
  }();
  return *f;
}

// ---- Raw-socket subscribers ----

std::string RequestFrame(flatbuffers::FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

std::string HelloFrame() {
  flatbuffers::FlatBufferBuilder fbb(128);
  auto hello = wire::CreateHello(fbb, kProtocolVersion, fbb.CreateString(""),
                                 fbb.CreateString("stream_bench"));
  wire::RequestBuilder rb(fbb);
  rb.add_id(1);
  rb.add_op_type(wire::Op::Hello);
  rb.add_op(hello.Union());
  fbb.FinishSizePrefixed(rb.Finish());
  return RequestFrame(fbb);
}

std::string SubscribeFrame(const Uuid& room) {
  flatbuffers::FlatBufferBuilder fbb(128);
  const wire::Uuid r(room.hi, room.lo);
  auto sub = wire::CreateSubscribe(fbb, &r, nullptr, 0, -1);
  wire::RequestBuilder rb(fbb);
  rb.add_id(2);
  rb.add_op_type(wire::Op::Subscribe);
  rb.add_op(sub.Union());
  fbb.FinishSizePrefixed(rb.Finish());
  return RequestFrame(fbb);
}

bool SendAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool RecvAll(int fd, void* out, size_t n) {
  char* p = static_cast<char*>(out);
  while (n > 0) {
    const ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// One answer frame (blocking): its status, "" when OK.
std::string Answer(int fd, wire::Result expect) {
  uint32_t len = 0;
  if (!RecvAll(fd, &len, 4)) return "connection closed";
  std::vector<uint8_t> body(len);
  if (!RecvAll(fd, body.data(), len)) return "connection closed";
  const auto* r = flatbuffers::GetRoot<wire::Response>(body.data());
  if (r->code() != wire::StatusCode::OK) {
    return StrCat("status ", static_cast<int>(r->code()), ": ",
                  r->message() ? r->message()->str() : std::string());
  }
  if (expect != wire::Result::NONE && r->result_type() != expect) return "unexpected answer";
  return "";
}

struct Sub {
  int fd = -1;
  std::vector<char> buf = std::vector<char>(size_t{1} << 16);
  size_t have = 0;
  uint64_t events = 0;
  uint64_t last_lsn = 0;
  bool done = false;
  std::string ended;
};

// Connects, says Hello, subscribes to `room` from now; then non-blocking.
absl::Status Subscribe(uint16_t port, const Uuid& room, Sub* s) {
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (s->fd < 0) return absl::InternalError(StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s->fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::InternalError(StrCat("connect: ", std::strerror(errno)));
  }
  timeval tv{10, 0};
  setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (!SendAll(s->fd, HelloFrame())) return absl::InternalError("hello: send failed");
  if (std::string e = Answer(s->fd, wire::Result::NONE); !e.empty()) {
    return absl::InternalError(StrCat("hello: ", e));
  }
  if (!SendAll(s->fd, SubscribeFrame(room))) return absl::InternalError("subscribe: send failed");
  if (std::string e = Answer(s->fd, wire::Result::SubscribeResult); !e.empty()) {
    return absl::InternalError(StrCat("subscribe: ", e));
  }
  fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
  return absl::OkStatus();
}

// Reads its share of the subscribers until each has seen `target` (set once
// the writers are done) or `deadline`.
struct Reader {
  std::vector<Sub*> subs;
  bench::Histogram delay;  // ns
  uint64_t events = 0;
  SteadyClock::time_point finished{};
  bool timed_out = false;
  std::string error;

  void Run(const std::atomic<uint64_t>& target, SteadyClock::time_point deadline) {
    const int ep = epoll_create1(0);
    for (size_t i = 0; i < subs.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      epoll_ctl(ep, EPOLL_CTL_ADD, subs[i]->fd, &ev);
    }
    size_t done = 0;
    std::vector<epoll_event> ready(256);
    while (done < subs.size()) {
      if (SteadyClock::now() > deadline) {
        timed_out = true;
        break;
      }
      const int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 10);
      const uint64_t t = target.load(std::memory_order_acquire);
      for (int k = 0; k < n; ++k) {
        Sub& s = *subs[ready[k].data.u64];
        if (!ReadSome(s)) {
          if (s.ended.empty()) s.ended = "connection closed";
        }
      }
      // Count those done (cheap: at most once per wake-up).
      if (t != UINT64_MAX) {
        done = 0;
        for (Sub* s : subs) {
          if (!s->done && (s->last_lsn >= t || !s->ended.empty())) s->done = true;
          done += s->done;
        }
      }
    }
    finished = SteadyClock::now();
    close(ep);
  }

  // Reads what the socket holds; false once it closed.
  bool ReadSome(Sub& s) {
    while (true) {
      if (s.buf.size() - s.have < 4096) s.buf.resize(s.buf.size() * 2);
      const ssize_t r = recv(s.fd, s.buf.data() + s.have, s.buf.size() - s.have, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (r <= 0) return false;
      s.have += static_cast<size_t>(r);
      const int64_t now = WallMicros();
      size_t at = 0;
      while (s.have - at >= 4) {
        uint32_t len;
        std::memcpy(&len, s.buf.data() + at, 4);
        if (s.have - at - 4 < len) break;
        Frame(s, reinterpret_cast<const uint8_t*>(s.buf.data() + at + 4), now);
        at += 4 + len;
      }
      if (at > 0) {
        std::memmove(s.buf.data(), s.buf.data() + at, s.have - at);
        s.have -= at;
      }
    }
  }

  void Frame(Sub& s, const uint8_t* body, int64_t now) {
    const auto* r = flatbuffers::GetRoot<wire::Response>(body);
    if (r->code() != wire::StatusCode::OK) {
      if (error.empty()) error = r->message() ? r->message()->str() : "an error response";
      return;
    }
    const wire::EventBatch* b = r->result_as_EventBatch();
    if (b == nullptr) return;
    if (b->events() != nullptr) {
      for (const wire::StreamEvent* e : *b->events()) {
        const int64_t d = now - e->commit_time();
        delay.Record(d > 0 ? static_cast<uint64_t>(d) * 1000 : 0);
        ++s.events;
        ++events;
      }
    }
    s.last_lsn = std::max(s.last_lsn, b->last_lsn());
    if (b->ended() != nullptr) s.ended = b->ended()->str();
  }
};

// ---- Writers ----

struct Writer {
  std::vector<Participant*> people;
  int64_t writes = 0;
  bench::Histogram latency;  // ns
  std::string error;
};

void RunWriter(Writer& w, const Fixture& f, int depth, double rate_each, double phase,
               SteadyClock::time_point start) {
  auto client = Client::Connect({.port = f.server->port(), .max_in_flight = depth});
  if (!client.ok()) {
    w.error = StrCat("connect: ", client.status().message());
    return;
  }
  std::deque<std::pair<Future<void>, SteadyClock::time_point>> window;
  auto take_one = [&] {
    const absl::Status s = window.front().first.Get();
    const auto t = SteadyClock::now();
    if (!s.ok() && w.error.empty()) w.error = std::string(s.message());
    w.latency.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t - window.front().second).count()));
    window.pop_front();
  };
  for (int64_t i = 0; i < w.writes; ++i) {
    if (rate_each > 0) {
      // Paced: one write at a time (the client reads answers only inside
      // Get), the i-th not before start + (i + phase) / rate (at once when
      // late); the writers' phases spread their writes evenly.
      while (!window.empty()) take_one();
      std::this_thread::sleep_until(
          start + std::chrono::duration_cast<SteadyClock::duration>(
                      std::chrono::duration<double>((static_cast<double>(i) + phase) / rate_each)));
    }
    if (static_cast<int>(window.size()) >= depth) take_one();
    Participant& p = *w.people[i % w.people.size()];
    const Uuid room = f.room;
    const auto sent = SteadyClock::now();
    if (p.next_hand && f.hand_allowed) {
      p.hand = !p.hand;
      window.emplace_back(
          (*client)->Send(rpc::SetHandRaised{
              .room_id = room, .actor_id = p.user, .target_id = p.user, .raised = p.hand}),
          sent);
    } else {
      p.muted = !p.muted;
      window.emplace_back(
          (*client)->Send(rpc::SetMuted{
              .room_id = room, .actor_id = p.user, .target_id = p.user, .muted = p.muted}),
          sent);
    }
    p.next_hand = !p.next_hand;
  }
  while (!window.empty()) take_one();
}

void BM_RoomStream(benchmark::State& state) {
  Fixture& f = ServerFixture();
  const int subscribers = static_cast<int>(state.range(0));
  const int64_t writes = state.range(1);
  const double rate = static_cast<double>(state.range(2));
  constexpr int kWriters = 4, kDepth = 16;
  const int readers = subscribers >= 2 ? 2 : 1;

  std::vector<Sub> subs(subscribers);
  for (Sub& s : subs) {
    if (absl::Status st = Subscribe(f.server->port(), f.room, &s); !st.ok()) {
      for (Sub& c : subs) {
        if (c.fd >= 0) close(c.fd);
      }
      return state.SkipWithError(StrCat("subscriber: ", st.message()).c_str());
    }
  }
  const ChangeStreams::Stats before = f.streams->stats();
  std::vector<Reader> reader(readers);
  for (size_t i = 0; i < subs.size(); ++i) reader[i % readers].subs.push_back(&subs[i]);
  std::vector<Writer> writer(kWriters);
  for (size_t i = 0; i < f.people.size(); ++i) writer[i % kWriters].people.push_back(&f.people[i]);
  for (int i = 0; i < kWriters; ++i) writer[i].writes = writes / kWriters + (i < writes % kWriters);

  std::atomic<uint64_t> target{UINT64_MAX};
  double write_seconds = 0, all_seconds = 0;
  for (auto _ : state) {
    const auto start = SteadyClock::now();
    const auto deadline = start + std::chrono::seconds(120);
    std::vector<std::thread> threads;
    if (subscribers > 0) {
      for (Reader& r : reader) threads.emplace_back([&] { r.Run(target, deadline); });
    }
    std::vector<std::thread> writers;
    for (int k = 0; k < kWriters; ++k) {
      writers.emplace_back([&, k] {
        RunWriter(writer[k], f, kDepth, rate / kWriters, static_cast<double>(k) / kWriters, start);
      });
    }
    for (auto& t : writers) t.join();
    const auto writes_done = SteadyClock::now();
    // Every write is acknowledged, so durable: the last commit is the last
    // event any subscriber should see.
    target.store(f.streams->stats().last_lsn, std::memory_order_release);
    for (auto& t : threads) t.join();
    auto end = writes_done;
    for (const Reader& r : reader) {
      if (subscribers > 0) end = std::max(end, r.finished);
    }
    write_seconds = Seconds(writes_done - start);
    all_seconds = Seconds(end - start);
    state.SetIterationTime(all_seconds);
  }
  const ChangeStreams::Stats after = f.streams->stats();
  for (Sub& s : subs) close(s.fd);

  for (const Writer& w : writer) {
    if (!w.error.empty()) return state.SkipWithError(StrCat("a write failed: ", w.error).c_str());
  }
  const uint64_t commits = after.last_lsn - before.last_lsn;
  if (commits != static_cast<uint64_t>(writes)) {
    return state.SkipWithError(
        StrCat(writes, " writes made ", commits, " commits (a write changed nothing?)").c_str());
  }
  bench::Histogram delay, latency;
  uint64_t events = 0;
  for (const Reader& r : reader) {
    if (!r.error.empty()) return state.SkipWithError(StrCat("subscriber: ", r.error).c_str());
    if (r.timed_out) {
      uint64_t behind = 0, min_lsn = UINT64_MAX;
      for (const Sub* s : r.subs) {
        behind += s->last_lsn < after.last_lsn;
        min_lsn = std::min(min_lsn, s->last_lsn);
      }
      return state.SkipWithError(StrCat("stalled: ", behind, " subscribers short of LSN ",
                                        after.last_lsn, " after 120 s (lowest at ", min_lsn, ")")
                                     .c_str());
    }
    delay.Merge(r.delay);
    events += r.events;
  }
  for (const Sub& s : subs) {
    if (!s.ended.empty()) {
      return state.SkipWithError(StrCat("a subscription ended: ", s.ended).c_str());
    }
    if (s.events != 2 * commits) {
      return state.SkipWithError(
          StrCat("a subscriber received ", s.events, " events of ", 2 * commits).c_str());
    }
  }
  for (const Writer& w : writer) latency.Merge(w.latency);
  state.counters["commits_per_s"] = static_cast<double>(commits) / write_seconds;
  state.counters["write_p50_us"] = latency.Quantile(0.50) / 1e3;
  state.counters["write_p99_us"] = latency.Quantile(0.99) / 1e3;
  if (subscribers > 0) {
    state.counters["events_per_s"] = static_cast<double>(events) / all_seconds;
    state.counters["delay_p50_us"] = delay.Quantile(0.50) / 1e3;
    state.counters["delay_p99_us"] = delay.Quantile(0.99) / 1e3;
    state.counters["delay_max_us"] = delay.max() / 1e3;
    state.counters["events_per_frame"] =
        static_cast<double>(after.events_delivered - before.events_delivered) /
        static_cast<double>(std::max<uint64_t>(1, after.frames_pushed - before.frames_pushed));
  }
  state.counters["fell_behind"] = static_cast<double>(after.fell_behind - before.fell_behind);
}
BENCHMARK(BM_RoomStream)
    ->ArgNames({"subs", "writes", "rate"})
    ->Args({0, 20000, 0})
    ->Args({1, 20000, 0})
    ->Args({100, 10000, 0})
    ->Args({1000, 2000, 0})
    ->Args({0, 500, 100})
    ->Args({1, 500, 100})
    ->Args({100, 500, 100})
    ->Args({1000, 500, 100})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// ---- The engine thread's cost per commit ----

struct Engine {
  std::unique_ptr<Database> db;
  GeneratedData data;
  std::vector<Participant> people;  // of every LIVE room
  std::vector<Uuid> rooms;          // each one's room
};

Engine& EngineData() {
  static Engine* e = [] {
    auto* fx = new Engine;
    BenchWorkload w = LoadBenchWorkload(0.01);
    fx->db = std::move(w.db);
    fx->data = std::move(w.data);
    const Database& db = *fx->db;
    const Table& parts = db.table(TableId::room_participants);
    const Table& users = db.table(TableId::users);
    std::vector<ParticipantState> present;
    for (RowId room : fx->data.live_rooms) {
      PresentParticipants(db, room, &present);
      for (const ParticipantState& p : present) {
        if (parts.GetBool(p.participant, room_participants::muted_by_host)) continue;
        if (!std::binary_search(fx->data.active_users.begin(), fx->data.active_users.end(),
                                p.user)) {
          continue;
        }
        fx->people.push_back({users.id(p.user), p.muted, p.hand_raised});
        fx->rooms.push_back(db.table(TableId::rooms).id(room));
      }
    }
    return fx;
  }();
  return *e;
}

void BM_W5Commit(benchmark::State& state) {
  Engine& e = EngineData();
  Database& db = *e.db;
  const int64_t path = state.range(0);
  NullFileIo io;
  NullLogDevice device;
  std::unique_ptr<WalWriter> writer;
  std::unique_ptr<WalCommitSink> sink;
  std::unique_ptr<ChangeStreams> streams;
  if (path >= 1) {
    auto w = WalWriter::Open(io, device, {.dir = "/nowhere/wal", .durability = Durability::kWrite},
                             WalTail{});
    if (!w.ok()) BenchFail(StrCat("cannot open the WAL: ", w.status().message()));
    writer = *std::move(w);
    sink = std::make_unique<WalCommitSink>(*writer);
    db.set_commit_sink(sink.get());
  }
  if (path == 2) {
    streams = std::make_unique<ChangeStreams>(StreamOptions{});
    streams->Attach(db, sink.get(), 0);
  }
  static Timestamp now = kWorkloadNow + 1'000'000'000;  // increasing across runs
  static size_t next = 0;
  int64_t commits = 0;
  for (auto _ : state) {
    const size_t i = next++ % e.people.size();
    Participant& p = e.people[i];
    p.muted = !p.muted;
    const absl::Status s = SetMuted(db, {.now = now += 10}, e.rooms[i], p.user, p.user, p.muted);
    if (!s.ok()) BenchFail(StrCat("W5: ", s.message()));
    ++commits;
  }
  if (streams) {
    const ChangeStreams::Stats st = streams->stats();
    if (st.last_lsn != static_cast<uint64_t>(commits)) {
      BenchFail(StrCat("streams saw ", st.last_lsn, " commits of ", commits));
    }
    state.counters["history_commits"] = static_cast<double>(st.history_commits);
    streams->Detach();
  }
  if (sink && sink->last_lsn() != static_cast<uint64_t>(commits)) {
    BenchFail(StrCat("WAL holds ", sink->last_lsn(), " records, expected ", commits));
  }
  db.set_commit_sink(nullptr);
  if (writer && !writer->Sync().ok()) BenchFail("WAL sync");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_W5Commit)->ArgName("sink")->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
