// voxbench: the standard workload (WORKLOAD.md) over the wire, against VoxDB
// or PostgreSQL, with N concurrent clients. docs/benchmarks.md shows how to
// run the whole side-by-side comparison; by hand:
//
//   build/tools/datagen/datagen --scale=0.1 --data_dir=/tmp/vx --keys=/tmp/vx.keys
//   build/tools/voxdb --data=/tmp/vx --maintenance_interval_s=0 &
//   build/bench/voxbench/voxbench --keys=/tmp/vx.keys --clients=1,32 --duration=10
//
// Every cell (one operation or mix, one client count) runs for --duration
// seconds after --warmup seconds, then prints a line of the table and
// appends a JSON record to --out. Closed loop by default (each client sends
// its next request when the last one is answered); with --rate, open loop:
// each client sends on a fixed schedule and latency counts from the
// intended send time, so a stall shows in the latency instead of silently
// lowering the load (no coordinated omission).
//
// Every answer is checked (rows in range, writes done or refused for a
// reason the workload allows); a cell with a wrong answer or a failure is
// marked "checked":false and voxbench exits 1.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/voxbench/driver.h"
#include "bench/voxbench/histogram.h"
#include "bench/voxbench/keys.h"
#include "schema/str.h"

ABSL_FLAG(std::string, system, "voxdb", "voxdb or postgres");
ABSL_FLAG(std::string, address, "127.0.0.1:7070", "VoxDB's host:port");
ABSL_FLAG(std::string, token_file, "", "file holding VoxDB's token (empty: none)");
ABSL_FLAG(std::string, pg, "host=127.0.0.1 port=5433 dbname=voxbench",
          "PostgreSQL's libpq connection string");
ABSL_FLAG(std::string, keys, "", "the keys file datagen --keys wrote (required)");
ABSL_FLAG(std::string, ops, "all",
          "comma-separated R1..R9, W1..W7, read-mostly, write-heavy; or all, reads, writes, mixes");
ABSL_FLAG(std::string, clients, "1,32", "comma-separated client counts; each cell runs with each");
ABSL_FLAG(double, duration, 10, "measured seconds per cell");
ABSL_FLAG(double, warmup, 1, "seconds per cell run before measuring");
ABSL_FLAG(uint64_t, count, 0, "measured operations per cell instead of --duration (0: duration)");
ABSL_FLAG(double, rate, 0,
          "open loop: target operations/s of a cell, shared by its clients (0: closed loop)");
ABSL_FLAG(std::string, out, "", "append the JSON records here (besides stdout's table)");
ABSL_FLAG(uint64_t, seed, 1, "seed of the parameter choices");
ABSL_FLAG(bool, progress, true, "show progress on stderr once a second");

namespace vox::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::array<std::string_view, kOpCount> kOpNames = {
    "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9",
    "W1", "W2", "W3", "W4", "W5", "W6", "W7"};

std::string_view OpName(OpId op) { return kOpNames[static_cast<int>(op)]; }

// One cell's work: an operation alone or a mix (weights sum to 1).
struct Workload {
  std::string name;
  std::vector<std::pair<OpId, double>> mix;
};

// WORKLOAD.md's mixes. The reads of both split as read-mostly's do.
std::vector<std::pair<OpId, double>> Mix(std::string_view name) {
  const std::vector<std::pair<OpId, double>> reads = {
      {OpId::R1, 0.2}, {OpId::R2, 0.2}, {OpId::R3, 0.1}, {OpId::R4, 0.1},
      {OpId::R6, 0.1}, {OpId::R7, 0.1}, {OpId::R8, 0.1}, {OpId::R9, 0.1}};
  std::vector<std::pair<OpId, double>> mix;
  const double read_share = name == "read-mostly" ? 0.9 : 0.5;
  for (auto [op, w] : reads) mix.push_back({op, w * read_share});
  if (name == "read-mostly") {
    mix.push_back({OpId::W3, 0.1 * 0.4});
    mix.push_back({OpId::W4, 0.1 * 0.4});
    mix.push_back({OpId::W5, 0.1 * 0.2});
  } else {
    for (int w = static_cast<int>(OpId::W1); w < kOpCount; ++w) {
      mix.push_back({static_cast<OpId>(w), 0.5 / 7});
    }
  }
  return mix;
}

// The cells --ops names, in the order they run: reads first (on the data
// as loaded), then writes in an order where each finds what it needs (W3's
// joins feed W5 and W4; W2's rooms feed W7), then the mixes.
absl::StatusOr<std::vector<Workload>> ParseOps(std::string_view spec) {
  const std::vector<std::string_view> order = {
      "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "W1", "W2",
      "W3", "W5", "W4", "W6", "W7", "read-mostly", "write-heavy"};
  std::vector<bool> chosen(order.size(), false);
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string_view::npos) end = spec.size();
    const std::string_view item = spec.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    bool known = false;
    for (size_t i = 0; i < order.size(); ++i) {
      const bool read = order[i][0] == 'R', write = order[i][0] == 'W';
      const bool mix = !read && !write;
      if (item == order[i] || item == "all" || (item == "reads" && read) ||
          (item == "writes" && write) || (item == "mixes" && mix)) {
        chosen[i] = known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(
          StrCat("--ops: unknown '", item,
                 "' (R1..R9, W1..W7, read-mostly, write-heavy, all, reads, writes, mixes)"));
    }
  }
  std::vector<Workload> out;
  for (size_t i = 0; i < order.size(); ++i) {
    if (!chosen[i]) continue;
    Workload w{.name = std::string(order[i])};
    if (order[i].size() == 2) {
      const auto at = std::find(kOpNames.begin(), kOpNames.end(), order[i]);
      w.mix = {{static_cast<OpId>(at - kOpNames.begin()), 1.0}};
    } else {
      w.mix = Mix(order[i]);
    }
    out.push_back(std::move(w));
  }
  if (out.empty()) return absl::InvalidArgumentError("--ops names no operation");
  return out;
}

absl::StatusOr<std::vector<int>> ParseClients(std::string_view spec) {
  std::vector<int> out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string_view::npos) end = spec.size();
    const std::string item(spec.substr(start, end - start));
    start = end + 1;
    if (item.empty()) continue;
    char* rest = nullptr;
    const long n = std::strtol(item.c_str(), &rest, 10);
    if (*rest != '\0' || n < 1 || n > 4096) {
      return absl::InvalidArgumentError(StrCat("--clients: '", item, "' is not 1..4096"));
    }
    out.push_back(static_cast<int>(n));
  }
  if (out.empty()) return absl::InvalidArgumentError("--clients names no count");
  return out;
}

// What a client counts, per operation.
struct OpTally {
  Histogram latency;
  uint64_t done = 0;     // answered: succeeded or refused
  uint64_t refused = 0;  // refused for a reason the workload allows
  uint64_t wrong = 0;    // a wrong answer or a failure
};

// A refusal `op` may get (driver.h lists what each code means).
bool AllowedRefusal(OpId op, absl::StatusCode code) {
  using C = absl::StatusCode;
  switch (op) {
    case OpId::W3:
      return code == C::kPermissionDenied || code == C::kAlreadyExists ||
             code == C::kResourceExhausted || code == C::kFailedPrecondition;
    case OpId::W5:
      return code == C::kFailedPrecondition || code == C::kPermissionDenied;
    case OpId::W4:
    case OpId::W6:
    case OpId::W7:
      return code == C::kFailedPrecondition;
    default:
      return false;
  }
}

// One client: its connection, its own random stream and the keys it
// owns (present participations it may leave, rooms it opened and may end).
class Client {
 public:
  Client(int index, int of, std::unique_ptr<Session> session, const WorkloadKeys& keys,
         uint64_t seed, std::string nonce)
      : index_(index), session_(std::move(session)), keys_(keys), rng_(seed * 7919 + index),
        nonce_(std::move(nonce)) {
    // Disjoint slices of the present participants, so no two clients leave
    // the same one.
    for (size_t i = index; i < keys.present.size(); i += of) present_.push_back(keys.present[i]);
  }

  Session& session() { return *session_; }

  // Runs `w` until `stop` (or `quota` measured operations), measuring from
  // `measure_from`. Open loop when `interval` > 0: the k-th request is due
  // at `first_due + k * interval`.
  void Run(const Workload& w, Clock::time_point measure_from, Clock::time_point stop,
           uint64_t quota, std::chrono::nanoseconds interval, Clock::time_point first_due,
           std::atomic<uint64_t>& measured, std::atomic<bool>& abort) {
    tally_ = {};
    setup_ops_ = 0;
    std::discrete_distribution<int> pick = Picker(w);
    Clock::time_point due = first_due;
    while (!abort.load(std::memory_order_relaxed)) {
      Clock::time_point now = Clock::now();
      if (interval.count() > 0) {
        if (due >= stop) break;
        if (due > now) std::this_thread::sleep_until(due);
      } else if (now >= stop) {
        break;
      }
      if (quota > 0 && measured.load(std::memory_order_relaxed) >= quota) break;
      const OpId op = w.mix[pick(rng_)].first;
      Expect expect;
      OpRequest request;
      if (!Prepare(op, request, expect, abort)) break;
      const Clock::time_point sent = interval.count() > 0 ? due : Clock::now();
      OpResponse response;
      const absl::Status conn = session_->Execute(request, response);
      const Clock::time_point answered = Clock::now();
      if (interval.count() > 0) due += interval;
      if (!conn.ok()) {
        Fail(StrCat(OpName(op), ": connection: ", conn.message()));
        abort = true;
        break;
      }
      Absorb(op, request, response);
      if (sent < measure_from) continue;
      OpTally& t = tally_[static_cast<int>(op)];
      t.latency.Record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(answered - sent).count()));
      ++t.done;
      const std::string wrong = Check(op, response, expect);
      if (!response.status.ok() && wrong.empty()) ++t.refused;
      if (!wrong.empty()) {
        ++t.wrong;
        Fail(StrCat(OpName(op), ": ", wrong));
      }
      measured.fetch_add(1, std::memory_order_relaxed);
    }
  }

  const std::array<OpTally, kOpCount>& tally() const { return tally_; }
  uint64_t setup_ops() const { return setup_ops_; }
  const std::string& first_failure() const { return first_failure_; }
  void clear_failure() { first_failure_.clear(); }

 private:
  // What a correct answer looks like.
  struct Expect {
    int64_t min_rows = 0, max_rows = INT64_MAX;
  };

  std::discrete_distribution<int> Picker(const Workload& w) {
    std::vector<double> weights;
    for (const auto& [op, weight] : w.mix) weights.push_back(weight);
    return std::discrete_distribution<int>(weights.begin(), weights.end());
  }

  template <typename T>
  const T& Any(const std::vector<T>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng_)];
  }

  // Fills `q` for `op` from the keys and this client's own state; may run
  // unmeasured setup operations (a join to have someone to leave, a room to
  // end). False when the run must stop.
  bool Prepare(OpId op, OpRequest& q, Expect& e, std::atomic<bool>& abort) {
    q.op = op;
    switch (op) {
      case OpId::R1:
        q.text = Any(keys_.emails);
        e = {1, 1};  // every sampled email is a user's who is not deleted
        break;
      case OpId::R2:
        q.room = Any(keys_.live_rooms);
        e = {1, 10000};  // its host stays present: no workload write removes a LIVE room's host
        break;
      case OpId::R3:
        q.user = Any(keys_.users);
        e = {0, 10000};
        break;
      case OpId::R4:
        q.room = Any(keys_.rooms);
        e = {1, 100};  // every room has its ROOM_CREATED row
        break;
      case OpId::R5:
        e = {1, 1000};  // SF >= 0.001 has expired recordings (run voxdb without maintenance)
        break;
      case OpId::R6:
        q.room = Any(keys_.rooms);
        e = {0, INT64_MAX};
        break;
      case OpId::R7:
        q.text = Any(keys_.tags);
        e = {0, 50};
        break;
      case OpId::R8:
        if (!keys_.banned.empty() && Coin()) {
          const RoomUser& b = Any(keys_.banned);
          q.room = b.room;
          q.user = b.user;
          e = {1, 1};  // the workload writes no unban
        } else {
          q.room = Any(keys_.live_rooms);
          q.user = Any(keys_.users);
          e = {0, 1};
        }
        break;
      case OpId::R9:
        q.user = Any(keys_.users);
        e = {0, 50};
        break;
      case OpId::W1:
        q.text = StrCat("vb", nonce_, "_", index_, "_", ++seq_);
        break;
      case OpId::W2:
        q.user = Any(keys_.users);
        q.text = StrCat("voxbench room ", seq_++);
        q.tags.clear();
        for (int i = 0, n = 1 + static_cast<int>(rng_() % 3); i < n; ++i) {
          const std::string& tag = Any(keys_.tags);
          if (std::find(q.tags.begin(), q.tags.end(), tag) == q.tags.end()) q.tags.push_back(tag);
        }
        break;
      case OpId::W3:
        q.room = LiveRoomWithSeats();
        q.user = Any(keys_.users);
        break;
      case OpId::W4: {
        if (present_.empty() && !JoinSomewhere(abort)) return false;
        const RoomUser p = present_.back();
        present_.pop_back();
        q.room = p.room;
        q.user = p.user;
        break;
      }
      case OpId::W5: {
        if (present_.empty() && !JoinSomewhere(abort)) return false;
        const RoomUser& p = Any(present_);
        q.room = p.room;
        q.user = p.user;
        // mute, raise, unmute, lower: each changes the state the one before left.
        constexpr LiveAction kCycle[] = {LiveAction::kMute, LiveAction::kRaiseHand,
                                         LiveAction::kUnmute, LiveAction::kLowerHand};
        q.action = kCycle[action_++ % 4];
        break;
      }
      case OpId::W6: {
        q.user = Any(keys_.funded);
        do {
          q.other = Any(keys_.users);
        } while (q.other == q.user);
        q.amount = 2 + static_cast<int64_t>(rng_() % 20);  // above the 1-coin minimum fee
        q.text = StrCat("vb", nonce_, "_", index_, "_", ++seq_);
        break;
      }
      case OpId::W7: {
        if (opened_.empty() && !OpenRoom(abort)) return false;
        const RoomUser r = opened_.back();
        opened_.pop_back();
        q.room = r.room;
        q.user = r.user;
        break;
      }
    }
    return true;
  }

  // A LIVE room this client has not seen refuse a join as full: joins are
  // meant to write, and rooms fill up as a run goes on (W4 frees seats in
  // other clients' rooms only).
  const Uuid& LiveRoomWithSeats() {
    for (int attempt = 0; attempt < 16; ++attempt) {
      const Uuid& room = Any(keys_.live_rooms);
      if (!full_.contains(room)) return room;
    }
    return Any(keys_.live_rooms);  // (nearly) all full: let the refusals show
  }

  // Keeps what a write made that later operations use.
  void Absorb(OpId op, const OpRequest& q, const OpResponse& r) {
    if (op == OpId::W3 && r.status.code() == absl::StatusCode::kResourceExhausted) {
      full_.insert(q.room);
    }
    if (op == OpId::W4 && r.status.ok()) full_.erase(q.room);
    if (!r.status.ok()) return;
    if (op == OpId::W3) present_.push_back({q.room, q.user});
    if (op == OpId::W2) opened_.push_back({r.created, q.user});
  }

  // "" when `r` is a right answer for `op`, else what is wrong.
  std::string Check(OpId op, const OpResponse& r, const Expect& e) {
    if (!r.status.ok()) {
      if (AllowedRefusal(op, r.status.code())) return "";
      return StrCat("refused: ", absl::StatusCodeToString(r.status.code()), ": ",
                    r.status.message());
    }
    if (IsWrite(op)) {
      if ((op == OpId::W1 || op == OpId::W2) && r.created == Uuid{}) return "no id answered";
      return "";
    }
    if (r.rows < e.min_rows || r.rows > e.max_rows) {
      return StrCat(r.rows, " rows, expected ", e.min_rows, "..", e.max_rows);
    }
    if (op == OpId::R6 && (r.present < 0 || r.present > r.rows)) {
      return StrCat(r.present, " present of ", r.rows, " participations");
    }
    return "";
  }

  // An unmeasured join, for a leave to undo (W4, W5 when this client has no
  // present participation left).
  bool JoinSomewhere(std::atomic<bool>& abort) {
    for (int attempt = 0; attempt < 100 && !abort; ++attempt) {
      OpRequest q{.op = OpId::W3, .room = LiveRoomWithSeats(), .user = Any(keys_.users)};
      OpResponse r;
      ++setup_ops_;
      if (!session_->Execute(q, r).ok()) return false;
      Absorb(OpId::W3, q, r);
      if (r.status.ok()) {
        return true;
      }
    }
    Fail("no LIVE room took a join in 100 attempts");
    return false;
  }

  // An unmeasured W2, for W7 to end.
  bool OpenRoom(std::atomic<bool>& abort) {
    OpRequest q;
    Expect e;
    Prepare(OpId::W2, q, e, abort);
    OpResponse r;
    ++setup_ops_;
    if (!session_->Execute(q, r).ok()) return false;
    if (!r.status.ok()) {
      Fail(StrCat("W2 (setup): ", r.status.message()));
      return false;
    }
    opened_.push_back({r.created, q.user});
    return true;
  }

  bool Coin() { return (rng_() & 1) != 0; }

  void Fail(std::string what) {
    if (first_failure_.empty()) first_failure_ = std::move(what);
  }

  const int index_;
  std::unique_ptr<Session> session_;
  const WorkloadKeys& keys_;
  std::mt19937_64 rng_;
  const std::string nonce_;
  uint64_t seq_ = 0;
  uint32_t action_ = 0;
  std::vector<RoomUser> present_;
  std::vector<RoomUser> opened_;
  absl::flat_hash_set<Uuid> full_;  // LIVE rooms that refused a join as full
  std::array<OpTally, kOpCount> tally_{};
  uint64_t setup_ops_ = 0;
  std::string first_failure_;
};

double Micros(uint64_t nanos) { return nanos / 1000.0; }

// One cell's figures.
struct CellResult {
  std::string op;
  int clients = 0;
  double seconds = 0;
  uint64_t ops = 0, refused = 0, wrong = 0, setup_ops = 0;
  Histogram latency;
  std::array<OpTally, kOpCount> per_op{};
  double txn_per_sync = 0;  // 0: not known
  std::string failure;
};

std::string Json(std::string_view system, double scale, const CellResult& c, double rate) {
  const double throughput = c.seconds > 0 ? c.ops / c.seconds : 0;
  std::string j = StrCat(
      R"({"system":")", system, R"(","scale":)", scale, R"(,"op":")", c.op, R"(","clients":)",
      c.clients, R"(,"mode":")", rate > 0 ? "open" : "closed", R"(","target_rate":)", rate,
      R"(,"seconds":)", c.seconds, R"(,"ops":)", c.ops, R"(,"throughput":)", throughput,
      R"(,"p50_us":)", Micros(c.latency.Quantile(0.5)), R"(,"p99_us":)",
      Micros(c.latency.Quantile(0.99)), R"(,"p999_us":)", Micros(c.latency.Quantile(0.999)),
      R"(,"max_us":)", Micros(c.latency.max()), R"(,"mean_us":)", c.latency.mean() / 1000,
      R"(,"refused":)", c.refused, R"(,"errors":)", c.wrong, R"(,"setup_ops":)", c.setup_ops);
  if (c.txn_per_sync > 0) j = StrCat(j, R"(,"txn_per_sync":)", c.txn_per_sync);
  j = StrCat(j, R"(,"checked":)", c.wrong == 0 && c.failure.empty());
  // A mix: each operation's own figures.
  int kinds = 0;
  for (const OpTally& t : c.per_op) kinds += t.done > 0;
  if (kinds > 1) {
    j += R"(,"per_op":{)";
    bool first = true;
    for (int i = 0; i < kOpCount; ++i) {
      const OpTally& t = c.per_op[i];
      if (t.done == 0) continue;
      j = StrCat(j, first ? "" : ",", "\"", kOpNames[i], R"(":{"ops":)", t.done, R"(,"p50_us":)",
                 Micros(t.latency.Quantile(0.5)), R"(,"p99_us":)",
                 Micros(t.latency.Quantile(0.99)), R"(,"refused":)", t.refused, "}");
      first = false;
    }
    j += "}";
  }
  return j + "}";
}

void PrintHeader() {
  std::printf("%-9s %-12s %7s %11s %9s %9s %9s %9s %8s %6s %s\n", "system", "op", "clients",
              "ops/s", "p50 us", "p99 us", "p99.9 us", "max us", "refused", "txn/fs", "checked");
}

void PrintRow(std::string_view system, const CellResult& c) {
  const double throughput = c.seconds > 0 ? c.ops / c.seconds : 0;
  std::printf("%-9.*s %-12s %7d %11.0f %9.1f %9.1f %9.1f %9.1f %8llu %6s %s\n",
              static_cast<int>(system.size()), system.data(), c.op.c_str(), c.clients, throughput,
              Micros(c.latency.Quantile(0.5)), Micros(c.latency.Quantile(0.99)),
              Micros(c.latency.Quantile(0.999)), Micros(c.latency.max()),
              static_cast<unsigned long long>(c.refused),
              c.txn_per_sync > 0 ? StrCat(static_cast<int64_t>(c.txn_per_sync * 10) / 10.0).c_str()
                                 : "-",
              c.wrong == 0 && c.failure.empty() ? "yes" : "NO");
  std::fflush(stdout);
}

int Main() {
  const std::string keys_path = absl::GetFlag(FLAGS_keys);
  if (keys_path.empty()) {
    std::fprintf(stderr, "voxbench: --keys is required (datagen --keys=FILE writes it)\n");
    return 2;
  }
  auto workloads = ParseOps(absl::GetFlag(FLAGS_ops));
  auto client_counts = ParseClients(absl::GetFlag(FLAGS_clients));
  for (const absl::Status& s : {workloads.status(), client_counts.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "voxbench: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  const double duration = absl::GetFlag(FLAGS_duration), warmup = absl::GetFlag(FLAGS_warmup);
  const double rate = absl::GetFlag(FLAGS_rate);
  const uint64_t count = absl::GetFlag(FLAGS_count);
  if (duration <= 0 || warmup < 0 || rate < 0) {
    std::fprintf(stderr, "voxbench: --duration must be > 0, --warmup and --rate >= 0\n");
    return 2;
  }
  auto keys = ReadKeys(keys_path);
  if (!keys.ok()) {
    std::fprintf(stderr, "voxbench: %s\n", std::string(keys.status().message()).c_str());
    return 2;
  }

  std::unique_ptr<Driver> driver;
  const std::string system = absl::GetFlag(FLAGS_system);
  if (system == "voxdb") {
    std::string token;
    if (const std::string path = absl::GetFlag(FLAGS_token_file); !path.empty()) {
      std::ifstream in(path);
      if (!std::getline(in, token)) {
        std::fprintf(stderr, "voxbench: cannot read a token from %s\n", path.c_str());
        return 2;
      }
    }
    driver = MakeVoxDriver(absl::GetFlag(FLAGS_address), token);
  } else if (system == "postgres") {
    driver = MakePostgresDriver(absl::GetFlag(FLAGS_pg));
    if (driver == nullptr) {
      std::fprintf(stderr, "voxbench: built without libpq (apt install libpq-dev, rebuild)\n");
      return 2;
    }
  } else {
    std::fprintf(stderr, "voxbench: --system is voxdb or postgres, not '%s'\n", system.c_str());
    return 2;
  }

  // Every client connects once and keeps its connection (and its keys)
  // across the cells.
  const int max_clients = *std::max_element(client_counts->begin(), client_counts->end());
  const std::string nonce = StrCat(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now()
                                                           .time_since_epoch())
          .count() %
      100000000);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < max_clients; ++i) {
    auto session = driver->Connect();
    if (!session.ok()) {
      std::fprintf(stderr, "voxbench: %s: connect: %s\n", system.c_str(),
                   std::string(session.status().message()).c_str());
      return 1;
    }
    clients.push_back(std::make_unique<Client>(i, max_clients, std::move(*session), *keys,
                                               absl::GetFlag(FLAGS_seed), nonce));
  }

  std::FILE* out = nullptr;
  if (const std::string path = absl::GetFlag(FLAGS_out); !path.empty()) {
    out = std::fopen(path.c_str(), "a");
    if (out == nullptr) {
      std::fprintf(stderr, "voxbench: cannot append to %s\n", path.c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "voxbench: %s, SF=%g, %zu cells x %zu client counts, %s loop, %g s each\n",
               system.c_str(), keys->scale, workloads->size(), client_counts->size(),
               rate > 0 ? "open" : "closed", warmup + duration);
  PrintHeader();
  bool all_checked = true;
  for (const Workload& w : *workloads) {
    for (int n : *client_counts) {
      bool writes = false;
      for (const auto& [op, weight] : w.mix) writes = writes || IsWrite(op);
      std::optional<SyncCounters> before;
      if (writes) {
        if (auto c = clients[0]->session().Counters(); c.ok()) before = *c;
      }
      std::atomic<uint64_t> measured{0};
      std::atomic<bool> abort{false};
      const Clock::time_point start = Clock::now();
      const auto at = [&](double seconds) {
        return start + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(seconds));
      };
      const Clock::time_point measure_from = at(warmup);
      // With --count, a generous deadline; the quota stops the clients.
      const Clock::time_point stop = count > 0 ? at(warmup + 3600) : at(warmup + duration);
      const std::chrono::nanoseconds interval(
          rate > 0 ? static_cast<int64_t>(1e9 * n / rate) : 0);
      std::vector<std::thread> threads;
      for (int i = 0; i < n; ++i) {
        const Clock::time_point first_due = start + interval * i / n;
        threads.emplace_back([&, i, first_due] {
          clients[i]->Run(w, measure_from, stop, count, interval, first_due, measured, abort);
        });
      }
      std::atomic<bool> finished{false};
      std::thread progress;
      if (absl::GetFlag(FLAGS_progress)) {
        progress = std::thread([&] {
          uint64_t last = 0;
          while (!finished) {
            for (int i = 0; i < 10 && !finished; ++i) {
              std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            if (finished) break;
            const double t = std::chrono::duration<double>(Clock::now() - start).count();
            const uint64_t m = measured.load();
            std::fprintf(stderr, "\r  %-12s %3d clients  %5.1f / %.1f s  %10llu ops  %9llu ops/s ",
                         w.name.c_str(), n, t, warmup + duration,
                         static_cast<unsigned long long>(m),
                         static_cast<unsigned long long>(m - last));
            last = m;
          }
          std::fprintf(stderr, "\r%*s\r", 80, "");
        });
      }
      for (auto& t : threads) t.join();
      const Clock::time_point end = Clock::now();
      finished = true;
      if (progress.joinable()) progress.join();

      CellResult cell{.op = w.name, .clients = n};
      cell.seconds = std::chrono::duration<double>(end - measure_from).count();
      for (int i = 0; i < n; ++i) {
        for (int o = 0; o < kOpCount; ++o) {
          const OpTally& t = clients[i]->tally()[o];
          cell.per_op[o].latency.Merge(t.latency);
          cell.per_op[o].done += t.done;
          cell.per_op[o].refused += t.refused;
          cell.per_op[o].wrong += t.wrong;
          cell.latency.Merge(t.latency);
          cell.ops += t.done;
          cell.refused += t.refused;
          cell.wrong += t.wrong;
        }
        cell.setup_ops += clients[i]->setup_ops();
        if (cell.failure.empty()) cell.failure = clients[i]->first_failure();
        clients[i]->clear_failure();
      }
      if (before) {
        if (auto after = clients[0]->session().Counters(); after.ok()) {
          const uint64_t commits = after->commits - before->commits;
          const uint64_t syncs = after->syncs - before->syncs;
          if (syncs > 0) cell.txn_per_sync = static_cast<double>(commits) / syncs;
        }
      }
      PrintRow(system, cell);
      if (!cell.failure.empty()) {
        std::fprintf(stderr, "voxbench: %s with %d clients: %s\n", w.name.c_str(), n,
                     cell.failure.c_str());
      }
      if (out != nullptr) {
        std::fprintf(out, "%s\n", Json(system, keys->scale, cell, rate).c_str());
        std::fflush(out);
      }
      all_checked = all_checked && cell.wrong == 0 && cell.failure.empty();
      if (abort) {
        std::fprintf(stderr, "voxbench: stopped: %s\n", cell.failure.c_str());
        if (out != nullptr) std::fclose(out);
        return 1;
      }
    }
  }
  if (out != nullptr && std::fclose(out) != 0) {
    std::fprintf(stderr, "voxbench: writing %s failed\n", absl::GetFlag(FLAGS_out).c_str());
    return 1;
  }
  if (!all_checked) {
    std::fprintf(stderr, "voxbench: some answers were wrong: these figures count for nothing\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace vox::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the standard workload over the wire: voxbench --keys=FILE [--system=voxdb|postgres] "
      "[--ops=all] [--clients=1,32] [--duration=10] [--rate=0] [--out=results.jsonl]");
  absl::ParseCommandLine(argc, argv);
  return vox::bench::Main();
}
