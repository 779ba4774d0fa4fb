// Codec micro-benchmarks: the formats VoxDB writes and reads, in memory,
// without disk or network.
//
//   - WAL records (wal/change_codec.h, wal/wal_format.h): a transaction's
//     redo record encoded from its Txn (the payload, then sealed and framed
//     as WalWriter::Append frames it), a log of such records read back and
//     checked by ScanWal (wal/wal_reader.h), and a record applied by replay
//     (ApplyTransaction: decode, unindex, write, reindex). Two transactions:
//     a join-room (W3: 3 rows) and an end-room with 100 present (W7).
//   - Snapshot blocks (wal/snapshot.h): the block writer and reader are
//     private to snapshot.cc, so the smallest public unit is a whole
//     snapshot of a table image, written to and verified from an in-memory
//     FileIo: users alone (string heaps), users..room_participants (6
//     tables) and every table. Items are blocks (at most 64K rows of one
//     column); bytes are file bytes.
//   - The protocol (net/rpc.h, schema/voxdb.fbs): requests (JoinRoom,
//     UserByEmail) built into a size-prefixed frame as vox::Client builds
//     them, and verified and read as the server reads them; responses of
//     ~100 rows (PresentParticipants: ParticipantsResult; RoomAuditTrail:
//     RowsResult, a JSON object a row) built by the server's own dispatcher
//     (net::Dispatch, private to net/ like tests/net/dispatch_test.cc uses
//     it: the query runs too, so BM_ServerQuery measures it alone), and
//     verified and decoded by the client (rpc::X::Decode).
//
//   VOX_BUILD_DIR=/work/build-micro scripts/build.sh codec_bench
//   /work/build-micro/bench/codec_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true
//
// VOX_BENCH_SCALE (default 0.1) sets the scale factor of the generated
// data. Every benchmark checks its result once (a record that describes the
// transaction, a snapshot that verifies with the right row count, a response
// with the rows the engine has) and aborts with a message if it is wrong.
#include <fcntl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_workload.h"
#include "benchmark/benchmark.h"
#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "engine/txn.h"
#include "flatbuffers/flatbuffers.h"
#include "net/internal/dispatch.h"
#include "net/rpc.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "tools/datagen/datagen.h"
#include "wal/change_codec.h"
#include "wal/file_io.h"
#include "wal/log_device.h"
#include "wal/snapshot.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"
#include "wal/wal_writer.h"

namespace vox {
namespace {

namespace fb = flatbuffers;

constexpr Uuid kDatabaseId{0x0123456789abcdefULL, 0x1122334455667788ULL};

struct Fixture {
  std::unique_ptr<Database> db;
  GeneratedData data;
  size_t next_user = 0;  // into data.active_users: each joins one room here
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

Uuid NextUser() {
  Fixture& f = Data();
  return f.db->table(TableId::users)
      .id(f.data.active_users[f.next_user++ % f.data.active_users.size()]);
}

// ---------------------------------------------------------------------------
// An in-memory file system: files are growable buffers. A removed file's
// buffer is kept for the next file created, so repeated snapshot writes do
// not pay page faults for fresh memory each time.
class MemFileIo final : public FileIo {
 public:
  absl::StatusOr<int> Open(const std::string& path, int flags) override {
    std::lock_guard l(mu_);
    auto it = files_.find(path);
    if ((flags & O_CREAT) != 0) {
      if (it != files_.end() && (flags & O_EXCL) != 0) {
        return ErrnoStatus(EEXIST, StrCat("open ", path));
      }
      if (it == files_.end()) it = files_.emplace(path, NewFile()).first;
      if ((flags & O_TRUNC) != 0) it->second->size = 0;
    } else if (it == files_.end()) {
      return ErrnoStatus(ENOENT, StrCat("open ", path));
    }
    fds_[next_fd_] = it->second;
    return next_fd_++;
  }
  absl::Status Close(int fd) override {
    std::lock_guard l(mu_);
    fds_.erase(fd);
    return absl::OkStatus();
  }
  absl::StatusOr<size_t> PWrite(int fd, const void* data, size_t n, uint64_t offset) override {
    File& f = Get(fd);
    Reserve(f, offset + n);
    if (offset > f.size) std::memset(f.data.get() + f.size, 0, offset - f.size);
    std::memcpy(f.data.get() + offset, data, n);
    f.size = std::max<size_t>(f.size, offset + n);
    return n;
  }
  absl::StatusOr<size_t> PRead(int fd, void* data, size_t n, uint64_t offset) override {
    const File& f = Get(fd);
    if (offset >= f.size) return size_t{0};
    const size_t m = std::min<size_t>(n, f.size - offset);
    std::memcpy(data, f.data.get() + offset, m);
    return m;
  }
  absl::Status DataSync(int) override { return absl::OkStatus(); }
  absl::Status Sync(int) override { return absl::OkStatus(); }
  absl::StatusOr<uint64_t> FileSize(int fd) override { return uint64_t{Get(fd).size}; }
  absl::Status Truncate(int fd, uint64_t size) override {
    File& f = Get(fd);
    Reserve(f, size);
    if (size > f.size) std::memset(f.data.get() + f.size, 0, size - f.size);
    f.size = size;
    return absl::OkStatus();
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    std::lock_guard l(mu_);
    auto it = files_.find(from);
    if (it == files_.end()) return ErrnoStatus(ENOENT, StrCat("rename ", from));
    std::shared_ptr<File> f = it->second;
    files_.erase(it);
    files_[to] = std::move(f);
    return absl::OkStatus();
  }
  absl::Status Unlink(const std::string& path) override {
    std::lock_guard l(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return ErrnoStatus(ENOENT, StrCat("unlink ", path));
    if (it->second.use_count() == 1 && (!spare_ || spare_->capacity < it->second->capacity)) {
      spare_ = std::move(it->second);
    }
    files_.erase(it);
    return absl::OkStatus();
  }
  absl::Status SyncDir(const std::string&) override { return absl::OkStatus(); }
  absl::Status MakeDir(const std::string&) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<std::string>> List(const std::string& dir) override {
    std::lock_guard l(mu_);
    std::vector<std::string> names;
    const std::string prefix = dir + "/";
    for (const auto& [path, f] : files_) {
      if (path.compare(0, prefix.size(), prefix) == 0 &&
          path.find('/', prefix.size()) == std::string::npos) {
        names.push_back(path.substr(prefix.size()));
      }
    }
    return names;  // std::map: sorted
  }

 private:
  struct File {
    std::unique_ptr<char[]> data;
    size_t capacity = 0;
    size_t size = 0;
  };
  std::shared_ptr<File> NewFile() {
    if (!spare_) return std::make_shared<File>();
    std::shared_ptr<File> f = std::move(spare_);
    f->size = 0;
    return f;
  }
  File& Get(int fd) {
    std::lock_guard l(mu_);
    auto it = fds_.find(fd);
    if (it == fds_.end()) BenchFail(StrCat("MemFileIo: bad fd ", fd));
    return *it->second;
  }
  static void Reserve(File& f, size_t need) {
    if (need <= f.capacity) return;
    const size_t capacity = std::max({need, f.capacity * 2, size_t{1} << 20});
    std::unique_ptr<char[]> data(new char[capacity]);
    if (f.size > 0) std::memcpy(data.get(), f.data.get(), f.size);
    f.data = std::move(data);
    f.capacity = capacity;
  }

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<File>> files_;
  std::map<int, std::shared_ptr<File>> fds_;
  std::shared_ptr<File> spare_;
  int next_fd_ = 3;
};

// ---------------------------------------------------------------------------
// WAL records

// Keeps the encoding of each committed transaction, as WalCommitSink would
// append it.
class CaptureSink final : public CommitSink {
 public:
  void OnCommit(const Txn& txn) override {
    payload.clear();
    wal::EncodeTransaction(txn, &payload);
  }
  std::string payload;
};

// The clock of the transactions run here: after the data set's "now", and
// increasing over the whole run.
Timestamp& Clock() {
  static Timestamp now = kWorkloadNow + 1'000'000'000;
  return now;
}

// A LIVE room of a new owner (returned in `owner`) with `joins` more users
// present, opened and joined at `*now` onwards.
Uuid OpenRoomWith(int joins, Uuid* owner, Timestamp* now) {
  Database& db = *Data().db;
  *owner = NextUser();
  auto r = CreateAndOpenRoom(
      db, {.now = *now},
      {.owner_id = *owner, .title = "bench", .settings = {.max_participants = 1000}});
  if (!r.ok()) BenchFail(StrCat("cannot open a room: ", r.status().message()));
  for (int i = 0; i < joins; ++i) {
    *now += 1000;
    auto j = JoinRoom(db, {.now = *now}, r->room_id, NextUser());
    if (!j.ok()) BenchFail(StrCat("join: ", j.status().message()));
  }
  return r->room_id;
}

enum class WalCase { kJoinRoom, kEndRoom100 };

// Runs the case's operation inside `txn` (left open: the caller encodes it,
// then rolls it back). Returns the number of changes it recorded.
size_t RunCase(WalCase c, Txn& txn, const Uuid& room, const Uuid& owner, const Uuid& joiner) {
  Database& db = txn.db();
  db.set_open_txn(&txn);
  absl::Status s = c == WalCase::kJoinRoom ? JoinRoom(db, {.now = txn.now()}, room, joiner).status()
                                           : EndRoom(db, {.now = txn.now()}, room, owner);
  db.set_open_txn(nullptr);
  if (!s.ok() || !txn.ok()) BenchFail(StrCat("the transaction to encode failed: ", s.message()));
  return txn.changes().size();
}

// The record WalWriter::Append frames: header, payload, zero padding.
void Frame(std::string_view payload, uint64_t lsn, uint64_t prev_hash, std::string* record) {
  wal::RecordHeader h{};
  h.lsn = lsn;
  h.prev_hash = prev_hash;
  h.db_tag = 42;
  h.length = static_cast<uint32_t>(payload.size());
  h.type = static_cast<uint16_t>(wal::RecordType::kTransaction);
  wal::SealRecordHeader(&h, payload);
  record->clear();
  record->append(reinterpret_cast<const char*>(&h), sizeof(h));
  record->append(payload);
  record->resize(wal::kRecordHeaderSize + wal::Padded(payload.size()), '\0');
}

// Encodes the redo record of one open transaction. sealed:0 is the payload
// alone (what the engine thread encodes with durability none); sealed:1
// adds the checksums and the framing of WalWriter::Append.
void BM_WalEncode(benchmark::State& state) {
  const auto c = static_cast<WalCase>(state.range(0));
  const bool sealed = state.range(1) != 0;
  Database& db = *Data().db;
  Timestamp& now = Clock();
  Uuid owner;
  const Uuid room = OpenRoomWith(c == WalCase::kEndRoom100 ? 100 : 0, &owner, &now);
  const Uuid joiner = NextUser();
  now += 1000;
  const Timestamp txn_now = now;
  Txn txn(db, txn_now);
  const size_t changes = RunCase(c, txn, room, owner, joiner);
  // Once: the record names every row the transaction changed, as it is now.
  std::string payload, record;
  wal::EncodeTransaction(txn, &payload);
  absl::StatusOr<std::string> described = wal::DescribeTransaction(db, payload);
  if (!described.ok() || wal::CommitTime(payload).value_or(0) != txn_now) {
    BenchFail("undecodable record");
  }
  const size_t rows =
      described->empty() ? 0 : 1 + std::count(described->begin(), described->end(), ';');
  for (const RowChange& ch : txn.changes()) {
    if (described->find(FormatUuid(db.table(ch.table).id(ch.row))) == std::string::npos) {
      BenchFail(StrCat("the record misses ", db.table(ch.table).name(), " row ", ch.row));
    }
  }
  uint64_t bytes = 0;
  for (auto _ : state) {
    payload.clear();
    wal::EncodeTransaction(txn, &payload);
    if (sealed) {
      Frame(payload, 7, 0x1234, &record);
      bytes += record.size();
    } else {
      bytes += payload.size();
    }
    benchmark::DoNotOptimize(payload.data());
    benchmark::DoNotOptimize(record.data());
  }
  txn.Rollback();
  state.SetItemsProcessed(state.iterations());  // records
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["changes"] = static_cast<double>(changes);
  state.counters["record_bytes"] = static_cast<double>(sealed ? record.size() : payload.size());
}
BENCHMARK(BM_WalEncode)->ArgNames({"endroom100", "sealed"})->ArgsProduct({{0, 1}, {0, 1}});

// A committed transaction's payload, captured as the WAL would log it, and
// what replaying it must leave.
struct Logged {
  std::string payload;
  Uuid room;
  size_t room_group = 0;  // entries of the room in participants_by_room
};

const Logged& LoggedCase(WalCase c) {
  static auto* cases = new std::array<std::unique_ptr<Logged>, 2>;
  auto& slot = (*cases)[static_cast<int>(c)];
  if (slot) return *slot;
  Database& db = *Data().db;
  Timestamp& now = Clock();
  Uuid owner;
  slot = std::make_unique<Logged>();
  slot->room = OpenRoomWith(c == WalCase::kEndRoom100 ? 100 : 0, &owner, &now);
  CaptureSink capture;
  db.set_commit_sink(&capture);
  now += 1000;
  absl::Status s = c == WalCase::kJoinRoom
                       ? JoinRoom(db, {.now = now}, slot->room, NextUser()).status()
                       : EndRoom(db, {.now = now}, slot->room, owner);
  db.set_commit_sink(nullptr);
  if (!s.ok()) BenchFail(StrCat("the transaction to log failed: ", s.message()));
  slot->payload = std::move(capture.payload);
  const RowId room = db.table(TableId::rooms).FindById(slot->room);
  slot->room_group = db.grouped(IndexNo("participants_by_room")).Group(room).size();
  return *slot;
}

// ApplyTransaction of one logged record over the rows it wrote (replay is
// idempotent): decode, unindex, write every column, reindex.
void BM_WalReplay(benchmark::State& state) {
  const auto c = static_cast<WalCase>(state.range(0));
  Database& db = *Data().db;
  const Logged& logged = LoggedCase(c);
  for (auto _ : state) {
    absl::Status s = wal::ApplyTransaction(db, logged.payload);
    if (!s.ok()) BenchFail(StrCat("replay: ", s.message()));
  }
  // Once: the rows are as the operation left them, indexed once each.
  const Table& rooms = db.table(TableId::rooms);
  const RowId room = rooms.FindById(logged.room);
  const auto status = rooms.GetEnum<RoomStatus>(room, rooms::status);
  if (status != (c == WalCase::kJoinRoom ? RoomStatus::LIVE : RoomStatus::ENDED) ||
      db.grouped(IndexNo("participants_by_room")).Group(room).size() != logged.room_group) {
    BenchFail("replay changed what the logged transaction left");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * logged.payload.size()));
  state.counters["payload_bytes"] = static_cast<double>(logged.payload.size());
}
BENCHMARK(BM_WalReplay)->ArgName("endroom100")->Arg(0)->Arg(1);

// ScanWal over an in-memory log of 20,000 join-room records (written by a
// real WalWriter): every header hash, payload hash, LSN and hash-chain link
// checked, each payload handed to a callback that only counts it.
void BM_WalScan(benchmark::State& state) {
  constexpr uint64_t kRecords = 20000;
  const Logged& logged = LoggedCase(WalCase::kJoinRoom);
  const uint64_t record_bytes = wal::kRecordHeaderSize + wal::Padded(logged.payload.size());
  MemFileIo io;
  FileIoLogDevice device(io);
  {
    // One segment just large enough: the reader stops at its zero tail.
    const uint64_t segment =
        (wal::kSegmentHeaderSize + kRecords * record_bytes + 8191) & ~uint64_t{4095};
    auto writer = WalWriter::Open(io, device,
                                  {.dir = "/mem/wal",
                                   .database_id = kDatabaseId,
                                   .durability = Durability::kWrite,
                                   .segment_bytes = segment},
                                  WalTail{});
    if (!writer.ok()) BenchFail(StrCat("WAL open: ", writer.status().message()));
    for (uint64_t i = 0; i < kRecords; ++i) {
      if (!(*writer)->Append(logged.payload).ok()) BenchFail("WAL append");
    }
    if (!(*writer)->Sync().ok()) BenchFail("WAL sync");
  }
  uint64_t records = 0, bytes = 0;
  auto scan = [&] {
    uint64_t n = 0;
    auto s = ScanWal(io, "/mem/wal", kDatabaseId, {.repair = false}, [&](const WalRecord& r) {
      n += r.payload.size() == logged.payload.size();
      return absl::OkStatus();
    });
    if (!s.ok()) BenchFail(StrCat("scan: ", s.status().message()));
    if (n != kRecords || s->last_lsn != kRecords) {
      BenchFail(StrCat("scan read ", n, " records up to lsn ", s->last_lsn, "; ", kRecords, " written"));
    }
    return n;
  };
  scan();  // once, checked in full; every scan checks its count
  for (auto _ : state) {
    records += scan();
    bytes += kRecords * record_bytes;
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["record_bytes"] = static_cast<double>(record_bytes);
}
BENCHMARK(BM_WalScan)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// Snapshot blocks

// Blocks WriteSnapshot writes for `image` (see snapshot_format.h).
uint64_t BlockCount(const std::vector<Table::Image>& image) {
  uint64_t n = 0;
  for (const Table::Image& t : image) {
    n += 1 + t.live.size();
    for (size_t c = 0; c < t.columns.size(); ++c)
      n += t.heaps[c].blocks.size() + t.columns[c].size();
  }
  return n;
}

std::vector<Table::Image> PinTables(size_t tables, uint64_t* live_rows) {
  const Database& db = *Data().db;
  std::vector<Table::Image> image = db.Pin();
  image.resize(std::min(tables, image.size()));
  *live_rows = 0;
  for (const Table::Image& t : image) *live_rows += db.table(t.table).live_count();
  return image;
}

std::string TablesLabel(size_t tables, uint64_t file_bytes) {
  return StrCat(tables == 1 ? "users" : StrCat(tables, " tables"), ", ", file_bytes >> 20, " MiB");
}

// WriteSnapshot into memory: every block's header and payload hashes, the
// summary hash, the copy into the file.
void BM_SnapshotEncode(benchmark::State& state) {
  uint64_t live_rows;
  const std::vector<Table::Image> image = PinTables(state.range(0), &live_rows);
  const uint64_t blocks = BlockCount(image);
  MemFileIo io;
  const SnapshotMeta meta{.database_id = kDatabaseId, .lsn = 1, .created_at = kWorkloadNow};
  auto write = [&] {
    auto info = WriteSnapshot(io, image, meta, "/mem");
    if (!info.ok()) BenchFail(StrCat("snapshot write: ", info.status().message()));
    return *std::move(info);
  };
  // Once: the file verifies and holds every live row.
  const SnapshotInfo first = write();
  auto verified = VerifySnapshot(io, first.path);
  if (!verified.ok() || verified->total_rows != live_rows || first.total_rows != live_rows) {
    BenchFail(StrCat("the snapshot does not verify with ", live_rows, " rows"));
  }
  if (!io.Unlink(first.path).ok()) BenchFail("unlink");
  uint64_t bytes = 0;
  for (auto _ : state) {
    const SnapshotInfo info = write();
    bytes += info.bytes;
    state.PauseTiming();
    if (!io.Unlink(info.path).ok()) BenchFail("unlink");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * blocks));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetLabel(TablesLabel(image.size(), first.bytes));
}
BENCHMARK(BM_SnapshotEncode)
    ->ArgName("tables")
    ->Arg(1)
    ->Arg(6)
    ->Arg(kTableCount)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// VerifySnapshot from memory: every block read, its hashes and its strings
// checked, the summary hash and the trailer compared.
void BM_SnapshotDecode(benchmark::State& state) {
  uint64_t live_rows;
  std::vector<Table::Image> image = PinTables(state.range(0), &live_rows);
  const uint64_t blocks = BlockCount(image);
  const size_t tables = image.size();
  MemFileIo io;
  auto written = WriteSnapshot(
      io, image, {.database_id = kDatabaseId, .lsn = 1, .created_at = kWorkloadNow}, "/mem");
  if (!written.ok()) BenchFail(StrCat("snapshot write: ", written.status().message()));
  image.clear();  // unpinned: the file is all that is read
  for (auto _ : state) {
    auto info = VerifySnapshot(io, written->path);
    if (!info.ok() || info->total_rows != live_rows) {
      BenchFail(StrCat("snapshot verify: ", info.ok() ? "row count" : info.status().message()));
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * blocks));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * written->bytes));
  state.SetLabel(TablesLabel(tables, written->bytes));
}
BENCHMARK(BM_SnapshotDecode)
    ->ArgName("tables")
    ->Arg(1)
    ->Arg(6)
    ->Arg(kTableCount)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// ---------------------------------------------------------------------------
// Protocol

// A size-prefixed Request frame, as vox::Client::SendOn builds it.
template <typename Op>
void BuildRequest(const Op& op, uint64_t id, fb::FlatBufferBuilder& fbb) {
  const rpc::Encoded e = op.Encode(fbb);
  wire::RequestBuilder rb(fbb);
  rb.add_id(id);
  rb.add_op_type(static_cast<wire::Op>(e.type));
  rb.add_op(fb::Offset<void>(e.offset));
  rb.add_read_unsynced(false);
  fbb.FinishSizePrefixed(rb.Finish());
}

template <typename Op>
std::vector<uint8_t> RequestFrame(const Op& op, uint64_t id) {
  fb::FlatBufferBuilder fbb(256);
  BuildRequest(op, id, fbb);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// What the server reads of a request before the operation runs: the frame
// verified, then the op's fields.
struct ReadRequest {
  uint64_t id = 0;
  Uuid a, b;
  std::string_view text;
};
bool ServerRead(const std::vector<uint8_t>& frame, ReadRequest* out) {
  fb::Verifier verifier(frame.data(), frame.size());
  if (!wire::VerifySizePrefixedRequestBuffer(verifier)) return false;
  const wire::Request* req = wire::GetSizePrefixedRequest(frame.data());
  out->id = req->id();
  if (const wire::JoinRoom* j = req->op_as_JoinRoom()) {
    if (j->room_id() == nullptr || j->user_id() == nullptr) return false;
    out->a = Uuid{j->room_id()->hi(), j->room_id()->lo()};
    out->b = Uuid{j->user_id()->hi(), j->user_id()->lo()};
    return true;
  }
  if (const wire::UserByEmail* u = req->op_as_UserByEmail()) {
    if (u->email() == nullptr) return false;
    out->text = {u->email()->data(), u->email()->size()};
    return true;
  }
  return false;
}

const rpc::JoinRoom kJoin{.room_id = Uuid{0x019fc4fbeb76718bULL, 0x88f1b14600000001ULL},
                          .user_id = Uuid{0x01a2013dd3da7778ULL, 0x9b2c126d00002710ULL}};
const rpc::UserByEmail kByEmail{.email = "user12345@example.com"};

// The client: a fresh builder each call, as vox::Client does.
void BM_RequestEncode(benchmark::State& state) {
  const bool join = state.range(0) == 0;
  {
    ReadRequest r;
    if (!ServerRead(join ? RequestFrame(kJoin, 9) : RequestFrame(kByEmail, 9), &r) || r.id != 9 ||
        (join ? r.a != kJoin.room_id || r.b != kJoin.user_id : r.text != kByEmail.email)) {
      BenchFail("the request frame does not read back");
    }
  }
  uint64_t id = 0, bytes = 0;
  for (auto _ : state) {
    fb::FlatBufferBuilder fbb(256);
    if (join) {
      BuildRequest(kJoin, ++id, fbb);
    } else {
      BuildRequest(kByEmail, ++id, fbb);
    }
    bytes += fbb.GetSize();
    benchmark::DoNotOptimize(fbb.GetBufferPointer());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetLabel(join ? "JoinRoom" : "UserByEmail");
}
BENCHMARK(BM_RequestEncode)->ArgName("op")->Arg(0)->Arg(1);

// The server: verify, then read the op's fields.
void BM_RequestDecode(benchmark::State& state) {
  const bool join = state.range(0) == 0;
  const std::vector<uint8_t> frame = join ? RequestFrame(kJoin, 9) : RequestFrame(kByEmail, 9);
  int64_t good = 0;
  for (auto _ : state) {
    ReadRequest r;
    good += ServerRead(frame, &r) && r.id == 9;
    benchmark::DoNotOptimize(r);
  }
  if (good != static_cast<int64_t>(state.iterations())) BenchFail("a request did not verify");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
  state.SetLabel(StrCat(join ? "JoinRoom" : "UserByEmail", ", ", frame.size(), " B"));
}
BENCHMARK(BM_RequestDecode)->ArgName("op")->Arg(0)->Arg(1);

// ~100-row answers: a LIVE room's present participants (90-110 of them), and
// a room's newest 100 audit rows.
struct Answers {
  std::vector<RowId> rooms;
  std::vector<std::vector<uint8_t>> requests;  // one per room
  std::vector<std::vector<uint8_t>> responses;
  std::vector<uint64_t> rows_before;  // rows of responses[0, i); one more than rooms

  // Rows in the first `iterations` answers, cycling over the rooms.
  uint64_t Rows(uint64_t iterations) const {
    const size_t n = rooms.size();
    return iterations / n * rows_before.back() + rows_before[iterations % n];
  }
};

net::Dispatched DispatchFrame(const std::vector<uint8_t>& frame) {
  static EngineParts engine{.db = Data().db.get(),
                            .wal = nullptr,
                            .sink = nullptr,
                            .checkpointer = nullptr,
                            .database_id = kDatabaseId,
                            .durability = Durability::kNone};
  return net::Dispatch(engine, *wire::GetSizePrefixedRequest(frame.data()), net::Role::kReadOnly,
                       kWorkloadNow);
}

const Answers& AnswersFor(bool audit) {
  static auto* cache = new std::array<std::unique_ptr<Answers>, 2>;
  auto& slot = (*cache)[audit ? 1 : 0];
  if (slot) return *slot;
  const Fixture& f = Data();
  const Database& db = *f.db;
  const Table& rooms = db.table(TableId::rooms);
  slot = std::make_unique<Answers>();
  std::vector<ParticipantState> present;
  std::vector<RowId> page;
  // LIVE rooms have the longest audit trails too.
  for (RowId room : f.data.live_rooms) {
    if (audit) {
      RoomAuditTrail(db, room, 100, std::nullopt, &page);
      if (page.size() != 100) continue;
    } else {
      PresentParticipants(db, room, &present);
      if (present.size() < 90 || present.size() > 110) continue;
    }
    slot->rooms.push_back(room);
    if (slot->rooms.size() == 256) break;
  }
  if (slot->rooms.empty()) BenchFail("no room with ~100 rows to answer");
  for (size_t i = 0; i < slot->rooms.size(); ++i) {
    const Uuid id = rooms.id(slot->rooms[i]);
    slot->requests.push_back(audit ? RequestFrame(rpc::RoomAuditTrail{.room_id = id}, i + 1)
                                   : RequestFrame(rpc::PresentParticipants{.room_id = id}, i + 1));
    net::Dispatched d = DispatchFrame(slot->requests.back());
    if (d.frame.empty()) BenchFail("no response frame");
    slot->responses.push_back(std::move(d.frame));
  }
  // Once: each response holds exactly the engine's rows, in its order.
  const Table& parts = db.table(TableId::room_participants);
  const Table& logs = db.table(TableId::audit_logs);
  slot->rows_before.push_back(0);
  for (size_t i = 0; i < slot->rooms.size(); ++i) {
    const auto& frame = slot->responses[i];
    fb::Verifier verifier(frame.data(), frame.size());
    if (!verifier.VerifySizePrefixedBuffer<wire::Response>(nullptr)) BenchFail("response verify");
    const wire::Response& r = *fb::GetSizePrefixedRoot<wire::Response>(frame.data());
    if (audit) {
      auto rows = rpc::RoomAuditTrail::Decode(r);
      RoomAuditTrail(db, slot->rooms[i], 100, std::nullopt, &page);
      if (!rows.ok() || rows->rows.size() != page.size() ||
          rows->rows[0].find(FormatUuid(logs.id(page[0]))) == std::string::npos) {
        BenchFail("the audit trail response is not the engine's page");
      }
      slot->rows_before.push_back(slot->rows_before.back() + rows->rows.size());
    } else {
      auto got = rpc::PresentParticipants::Decode(r);
      PresentParticipants(db, slot->rooms[i], &present);
      if (!got.ok() || got->size() != present.size() ||
          (*got)[0].participant_id != parts.id(present[0].participant) ||
          got->back().participant_id != parts.id(present.back().participant)) {
        BenchFail("the participants response is not the engine's list");
      }
      slot->rows_before.push_back(slot->rows_before.back() + got->size());
    }
  }
  return *slot;
}

// The server: net::Dispatch of a read (resolve the room, run the query,
// build the response frame).
void BM_ResponseEncode(benchmark::State& state) {
  const bool audit = state.range(0) != 0;
  const Answers& a = AnswersFor(audit);
  const size_t n = a.rooms.size();
  size_t i = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    net::Dispatched d = DispatchFrame(a.requests[i % n]);
    if (d.frame.size() != a.responses[i % n].size()) BenchFail("the response changed");
    bytes += d.frame.size();
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(a.Rows(state.iterations())));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetLabel(audit ? "RoomAuditTrail 100, Rows (JSON)" : "PresentParticipants ~100");
}
BENCHMARK(BM_ResponseEncode)->ArgName("audit")->Arg(0)->Arg(1);

// The engine query alone, on the same rooms: BM_ResponseEncode minus this
// is the server's encoding.
void BM_ServerQuery(benchmark::State& state) {
  const bool audit = state.range(0) != 0;
  const Answers& a = AnswersFor(audit);
  const Database& db = *Data().db;
  const size_t n = a.rooms.size();
  std::vector<ParticipantState> present;
  std::vector<RowId> page;
  present.reserve(256);
  page.reserve(128);
  size_t i = 0;
  for (auto _ : state) {
    const RowId room =
        db.table(TableId::rooms).FindById(db.table(TableId::rooms).id(a.rooms[i++ % n]));
    if (audit) {
      RoomAuditTrail(db, room, 100, std::nullopt, &page);
      benchmark::DoNotOptimize(page.data());
    } else {
      PresentParticipants(db, room, &present);
      benchmark::DoNotOptimize(present.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(a.Rows(state.iterations())));
}
BENCHMARK(BM_ServerQuery)->ArgName("audit")->Arg(0)->Arg(1);

// The client: verify the response frame, then rpc::X::Decode into structs.
void BM_ResponseDecode(benchmark::State& state) {
  const bool audit = state.range(0) != 0;
  const Answers& a = AnswersFor(audit);
  const size_t n = a.rooms.size();
  size_t i = 0;
  uint64_t bytes = 0, rows = 0;
  for (auto _ : state) {
    const std::vector<uint8_t>& frame = a.responses[i++ % n];
    fb::Verifier verifier(frame.data(), frame.size());
    if (!verifier.VerifySizePrefixedBuffer<wire::Response>(nullptr)) BenchFail("response verify");
    const wire::Response& r = *fb::GetSizePrefixedRoot<wire::Response>(frame.data());
    if (audit) {
      auto got = rpc::RoomAuditTrail::Decode(r);
      rows += got.ok() ? got->rows.size() : 0;
      benchmark::DoNotOptimize(got);
    } else {
      auto got = rpc::PresentParticipants::Decode(r);
      rows += got.ok() ? got->size() : 0;
      benchmark::DoNotOptimize(got);
    }
    bytes += frame.size();
  }
  if (rows != a.Rows(state.iterations())) BenchFail("the decoded responses miss rows");
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetLabel(StrCat(audit ? "RoomAuditTrail 100, Rows (JSON)" : "PresentParticipants ~100",
                        ", ", a.responses[0].size() >> 10, " KiB"));
}
BENCHMARK(BM_ResponseDecode)->ArgName("audit")->Arg(0)->Arg(1);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
