// Index micro-benchmarks: the index/ containers as the engine holds them
// after loading the WORKLOAD.md data set, probed directly, without the
// operations (engine/ops) around them:
//
//   - UniqueHashIndex (index/hash_index.h) point lookups, hit and miss, on a
//     string key (users_email, case-folded) and a two-part integer key
//     (participants_banned: room, user);
//   - OrderedIndex (index/ordered_index.h), the B-tree of rooms_by_status
//     (status, created_at DESC; every room): point lookups, hit and miss,
//     and range scans of 10, 100 and 1000 keys from a random key;
//   - GroupedIndex (index/grouped_index.h): walking one group (a room's
//     audit rows, a room's participants), hit and miss, and the newest-first
//     walk through GroupedTableIndex::ScanGroup that R4 uses.
//
// Probe keys are drawn at random (fixed seed) from the whole index, 64K of
// them, so lookups pay the cache misses of an index larger than the cache.
//
//   VOX_BUILD_DIR=/work/build-micro scripts/build.sh index_bench
//   /work/build-micro/bench/index_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true
//
// VOX_BENCH_SCALE (default 0.1: 100k users, 200k rooms, 2M participants,
// 5M audit rows) sets the scale factor; the data loads once, before the
// first benchmark. Every benchmark checks its answers (found or not found,
// rows visited) and aborts with a message if one is wrong.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "bench/bench_workload.h"
#include "benchmark/benchmark.h"
#include "engine/ops/queries.h"
#include "schema/str.h"
#include "tools/datagen/datagen.h"

namespace vox {
namespace {

constexpr size_t kProbes = 1 << 16;  // probe keys per benchmark (a power of 2)

constexpr size_t kUsersEmail = IndexNo("users_email");
constexpr size_t kBanned = IndexNo("participants_banned");
constexpr size_t kRoomsByStatus = IndexNo("rooms_by_status");
constexpr size_t kAuditByRoom = IndexNo("audit_by_room");
constexpr size_t kParticipantsByRoom = IndexNo("participants_by_room");

struct Fixture {
  std::unique_ptr<Database> db;
  GeneratedData data;
};

Fixture& Data() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    BenchWorkload w = LoadBenchWorkload(0.1);
    fx->db = std::move(w.db);
    fx->data = std::move(w.data);
    return fx;
  }();
  return *f;
}

// `n` values drawn uniformly (with repetition) from `from`.
template <typename T>
std::vector<T> Sample(const std::vector<T>& from, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, from.size() - 1);
  std::vector<T> out(n);
  for (T& v : out) v = from[pick(rng)];
  return out;
}

// ---------------------------------------------------------------------------
// UniqueHashIndex

// Emails of live users, drawn from the whole table; misses are well-formed
// addresses nobody has.
const std::vector<std::string>& EmailProbes(bool hit) {
  static const auto* probes = [] {
    const Database& db = *Data().db;
    const Table& users = db.table(TableId::users);
    std::vector<RowId> rows;
    for (RowId r = 0; r < users.row_count(); ++r) {
      if (users.IsLive(r) && !users.IsNull(r, users::email)) rows.push_back(r);
    }
    auto* p = new std::array<std::vector<std::string>, 2>;
    for (RowId r : Sample(rows, kProbes, 1))
      p->at(1).emplace_back(users.GetString(r, users::email));
    for (size_t i = 0; i < kProbes; ++i) p->at(0).push_back(StrCat("nobody", i, "@example.com"));
    return p;
  }();
  return probes->at(hit ? 1 : 0);
}

void BM_HashLookupEmail(benchmark::State& state) {
  const bool hit = state.range(0) != 0;
  const Database& db = *Data().db;
  const HashTableIndex& index = db.hash(kUsersEmail);
  const Table& users = db.table(TableId::users);
  const std::vector<std::string>& keys = EmailProbes(hit);
  // Once: every probe finds its own row (or none).
  for (const std::string& k : keys) {
    const Value probe[] = {Value(k)};
    const RowId r = index.Find(probe);
    if (hit ? (r == kNoRow || users.GetString(r, users::email) != k) : r != kNoRow) {
      BenchFail(StrCat("users_email lookup of '", k, "' gave row ", r));
    }
  }
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    const Value probe[] = {Value(keys[i++ & (kProbes - 1)])};
    const RowId r = index.Find(probe);
    found += r != kNoRow;
    benchmark::DoNotOptimize(r);
  }
  if (found != (hit ? static_cast<int64_t>(state.iterations()) : 0)) BenchFail("users_email count");
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(StrCat(index.size(), " keys"));
}
BENCHMARK(BM_HashLookupEmail)->ArgName("hit")->Arg(1)->Arg(0);

struct RoomUser {
  int64_t room, user;
};

// Banned (room, user) pairs; misses are the same rooms with a user who is
// not banned there.
const std::vector<RoomUser>& BanProbes(bool hit) {
  static const auto* probes = [] {
    const Fixture& f = Data();
    const HashTableIndex& index = f.db->hash(kBanned);
    std::vector<RoomUser> hits, misses;
    for (const auto& b : f.data.banned) {
      hits.push_back({b.room, b.user});
      for (int64_t u = int64_t{b.user} + 1;; ++u) {
        const Value key[] = {Value(int64_t{b.room}), Value(u)};
        if (index.Find(key) == kNoRow) {
          misses.push_back({b.room, u});
          break;
        }
      }
    }
    if (hits.empty()) BenchFail("the data set has no banned participant");
    auto* p = new std::array<std::vector<RoomUser>, 2>;
    p->at(1) = Sample(hits, kProbes, 2);
    p->at(0) = Sample(misses, kProbes, 3);
    return p;
  }();
  return probes->at(hit ? 1 : 0);
}

void BM_HashLookupBanned(benchmark::State& state) {
  const bool hit = state.range(0) != 0;
  const Database& db = *Data().db;
  const HashTableIndex& index = db.hash(kBanned);
  const Table& parts = db.table(TableId::room_participants);
  const std::vector<RoomUser>& keys = BanProbes(hit);
  for (const RoomUser& k : keys) {
    const Value key[] = {Value(k.room), Value(k.user)};
    const RowId r = index.Find(key);
    const bool right = hit ? r != kNoRow && parts.GetRef(r, room_participants::room_id) == k.room &&
                                 parts.GetRef(r, room_participants::user_id) == k.user &&
                                 parts.GetBool(r, room_participants::is_banned)
                           : r == kNoRow;
    if (!right) BenchFail(StrCat("participants_banned lookup of (", k.room, ", ", k.user, ")"));
  }
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    const RoomUser& k = keys[i++ & (kProbes - 1)];
    const Value key[] = {Value(k.room), Value(k.user)};
    const RowId r = index.Find(key);
    found += r != kNoRow;
    benchmark::DoNotOptimize(r);
  }
  if (found != (hit ? static_cast<int64_t>(state.iterations()) : 0)) BenchFail("banned count");
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(StrCat(index.size(), " keys"));
}
BENCHMARK(BM_HashLookupBanned)->ArgName("hit")->Arg(1)->Arg(0);

// ---------------------------------------------------------------------------
// OrderedIndex (B-tree)

struct TreeKeys {
  std::vector<IndexKey> all;  // every key of rooms_by_status, ascending
  std::vector<IndexKey> hits;
  std::vector<IndexKey> misses;  // a present key with another row id
};

const TreeKeys& RoomsByStatusKeys() {
  static const auto* keys = [] {
    const OrderedIndex& tree = Data().db->ordered(kRoomsByStatus).tree();
    auto* k = new TreeKeys;
    k->all.reserve(tree.size());
    for (IndexKey key : tree) k->all.push_back(key);
    k->hits = Sample(k->all, kProbes, 4);
    for (IndexKey key : Sample(k->all, kProbes * 2, 5)) {
      // Flip the row id's top bit: no room has such a row id.
      const IndexKey miss = key ^ IndexKey(uint64_t{1} << 31);
      if (!std::binary_search(k->all.begin(), k->all.end(), miss)) k->misses.push_back(miss);
      if (k->misses.size() == kProbes) break;
    }
    if (k->misses.size() != kProbes) BenchFail("cannot make missing B-tree keys");
    return k;
  }();
  return *keys;
}

void BM_OrderedLookup(benchmark::State& state) {
  const bool hit = state.range(0) != 0;
  const OrderedIndex& tree = Data().db->ordered(kRoomsByStatus).tree();
  const TreeKeys& keys = RoomsByStatusKeys();
  const std::vector<IndexKey>& probes = hit ? keys.hits : keys.misses;
  for (IndexKey k : probes) {
    if (tree.Contains(k) != hit) BenchFail("rooms_by_status lookup");
  }
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    const bool f = tree.Contains(probes[i++ & (kProbes - 1)]);
    found += f;
    benchmark::DoNotOptimize(f);
  }
  if (found != (hit ? static_cast<int64_t>(state.iterations()) : 0)) BenchFail("rooms_by_status count");
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(StrCat(tree.size(), " keys"));
}
BENCHMARK(BM_OrderedLookup)->ArgName("hit")->Arg(1)->Arg(0);

// N keys in key order from a random key: one descent, then N steps.
void BM_OrderedRangeScan(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const OrderedIndex& tree = Data().db->ordered(kRoomsByStatus).tree();
  const TreeKeys& keys = RoomsByStatusKeys();
  if (keys.all.size() < n + 1) return state.SkipWithError("the index holds too few keys");
  std::mt19937_64 rng(6);
  std::uniform_int_distribution<size_t> pick(0, keys.all.size() - n);
  std::vector<size_t> starts(kProbes);
  for (size_t& s : starts) s = pick(rng);
  const IndexKey kMax = ~IndexKey(0);
  // Once: a scan visits exactly the N keys that follow its start.
  for (size_t s : {starts[0], starts[1], size_t{0}, keys.all.size() - n}) {
    size_t at = s;
    tree.Scan(keys.all[s], kMax, [&](IndexKey k) {
      if (k != keys.all[at]) BenchFail(StrCat("range scan from position ", s, " went astray"));
      return ++at < s + n;
    });
    if (at != s + n) BenchFail(StrCat("range scan from position ", s, " visited ", at - s));
  }
  size_t i = 0;
  uint64_t visited = 0, sum = 0;
  for (auto _ : state) {
    size_t left = n;
    visited += tree.Scan(keys.all[starts[i++ & (kProbes - 1)]], kMax, [&](IndexKey k) {
      sum += KeyRow(k);
      return --left > 0;
    });
  }
  benchmark::DoNotOptimize(sum);
  if (visited != state.iterations() * n) BenchFail("range scan count");
  state.SetItemsProcessed(static_cast<int64_t>(visited));
  state.SetLabel(StrCat(tree.size(), " keys"));
}
BENCHMARK(BM_OrderedRangeScan)->ArgName("keys")->Arg(10)->Arg(100)->Arg(1000);

// ---------------------------------------------------------------------------
// GroupedIndex

struct GroupProbes {
  std::vector<uint32_t> groups;
  std::vector<uint64_t> before;  // entries of groups[0, i); kProbes + 1 of them

  // Entries in the first `iterations` probes, cycling.
  uint64_t Expected(uint64_t iterations) const {
    return iterations / kProbes * before.back() + before[iterations % kProbes];
  }
};

// Rooms drawn from every room with entries; misses are group ids past the
// last room.
const GroupProbes& Groups(size_t index_no, bool hit) {
  static auto* cache = new std::array<std::array<std::unique_ptr<GroupProbes>, 2>, kIndexCount>;
  auto& slot = (*cache)[index_no][hit ? 1 : 0];
  if (slot) return *slot;
  const Database& db = *Data().db;
  const GroupedTableIndex& ix = db.grouped(index_no);
  const size_t rooms = db.table(TableId::rooms).row_count();
  slot = std::make_unique<GroupProbes>();
  if (hit) {
    std::vector<uint32_t> present;
    for (uint32_t g = 0; g < rooms; ++g) {
      if (!ix.Group(g).empty()) present.push_back(g);
    }
    if (present.empty()) BenchFail(StrCat(kIndexes[index_no].name, " has no group"));
    slot->groups = Sample(present, kProbes, 7);
  } else {
    for (size_t i = 0; i < kProbes; ++i) slot->groups.push_back(static_cast<uint32_t>(rooms + i));
  }
  slot->before.push_back(0);
  for (uint32_t g : slot->groups) slot->before.push_back(slot->before.back() + ix.Group(g).size());
  return *slot;
}

// Finds the group, then reads every entry's row id (and sort key).
void GroupWalk(benchmark::State& state, size_t index_no) {
  const bool hit = state.range(0) != 0;
  const GroupedTableIndex& ix = Data().db->grouped(index_no);
  const GroupProbes& probes = Groups(index_no, hit);
  // Once: each group lists rows of that room, in ascending (sort, row) order.
  const Table& table = Data().db->table(kIndexes[index_no].table);
  const ColumnId room_col = kIndexes[index_no].parts[0].column;
  for (size_t p = 0; p < 64; ++p) {
    const uint32_t g = probes.groups[p];
    const std::span<const GroupEntry> entries = ix.Group(g);
    if (!hit && !entries.empty()) BenchFail(StrCat("group ", g, " should be empty"));
    for (size_t e = 0; e < entries.size(); ++e) {
      if (table.GetRef(entries[e].row, room_col) != g ||
          (e > 0 && !(entries[e - 1] < entries[e]))) {
        BenchFail(StrCat(kIndexes[index_no].name, " group ", g, " entry ", e));
      }
    }
  }
  size_t i = 0;
  uint64_t walked = 0, sum = 0;
  for (auto _ : state) {
    const std::span<const GroupEntry> entries = ix.Group(probes.groups[i++ & (kProbes - 1)]);
    for (const GroupEntry& e : entries) sum += e.row ^ e.sort_lo;
    walked += entries.size();
  }
  benchmark::DoNotOptimize(sum);
  if (walked != probes.Expected(state.iterations())) BenchFail("group walk count");
  state.SetItemsProcessed(static_cast<int64_t>(walked));
  state.counters["entries_per_group"] =
      static_cast<double>(probes.before.back()) / static_cast<double>(kProbes);
}

void BM_GroupWalkAuditByRoom(benchmark::State& state) { GroupWalk(state, kAuditByRoom); }
BENCHMARK(BM_GroupWalkAuditByRoom)->ArgName("hit")->Arg(1)->Arg(0);

void BM_GroupWalkParticipantsByRoom(benchmark::State& state) {
  GroupWalk(state, kParticipantsByRoom);
}
BENCHMARK(BM_GroupWalkParticipantsByRoom)->ArgName("hit")->Arg(1)->Arg(0);

// The same groups of audit_by_room walked newest first through ScanGroup
// (a FunctionRef call per row), as RoomAuditTrail reads them.
void BM_GroupScanAuditByRoom(benchmark::State& state) {
  const GroupedTableIndex& ix = Data().db->grouped(kAuditByRoom);
  const GroupProbes& probes = Groups(kAuditByRoom, true);
  {
    const uint32_t g = probes.groups[0];
    const std::span<const GroupEntry> entries = ix.Group(g);
    size_t at = entries.size();
    ix.ScanGroup(g, std::nullopt, [&](RowId r) {
      if (at == 0 || entries[--at].row != r) BenchFail("ScanGroup is not newest first");
      return true;
    });
    if (at != 0) BenchFail("ScanGroup stopped early");
  }
  size_t i = 0;
  uint64_t walked = 0, sum = 0;
  for (auto _ : state) {
    walked += ix.ScanGroup(probes.groups[i++ & (kProbes - 1)], std::nullopt, [&](RowId r) {
      sum += r;
      return true;
    });
  }
  benchmark::DoNotOptimize(sum);
  if (walked != probes.Expected(state.iterations())) BenchFail("ScanGroup count");
  state.SetItemsProcessed(static_cast<int64_t>(walked));
}
BENCHMARK(BM_GroupScanAuditByRoom);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
