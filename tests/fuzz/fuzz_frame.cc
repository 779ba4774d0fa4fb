// fuzz_frame: bytes as a client sends them on its connection, through the
// server's frame path (net/server.cc's ReadBody and OnFrame): a 4-byte size
// prefix, the flatbuffers Verifier, then net::Dispatch on a small populated
// database (frame_fixture.h). An input may hold several frames (pipelined
// requests); a request's role is its id % 3 (readonly, app, admin).
//
// Never a crash, and after every input:
//   - every answer is a valid Response carrying its request's id;
//   - a refused request, and any request of a readonly token, commits no
//     change (no WAL record);
//   - an input that logged nothing left every row as it was;
//   - an input that logged changes: every index equals a full scan, the ledger
//     audit is clean, room counters match the present participants, and
//     replaying the WAL records its commits produced (change_codec) onto the
//     fixture gives the same rows. The database is then reset, so every input
//     runs against the same state (reproducible findings).
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/ops/ledger.h"
#include "engine/ops/queries.h"
#include "engine/txn.h"
#include "schema/voxdb_generated.h"
#include "tests/fuzz/frame_fixture.h"
#include "tests/fuzz/fuzz_util.h"
#include "wal/change_codec.h"
#include "wal/snapshot.h"

namespace vox::fuzz {
namespace {

namespace fb = flatbuffers;

constexpr int kMaxFramesPerInput = 8;

// Collects every commit as the WAL record the server would log for it.
class CaptureSink final : public CommitSink {
 public:
  void OnCommit(const Txn& txn) override {
    records_.emplace_back();
    if (txn.schema_change().empty()) {
      records_.back().type = wal::RecordType::kTransaction;
      wal::EncodeTransaction(txn, &records_.back().payload);
    } else {
      records_.back().type = wal::RecordType::kSchemaChange;
      wal::EncodeSchemaChange(txn, &records_.back().payload);
    }
  }
  struct Record {
    wal::RecordType type;
    std::string payload;
  };
  std::vector<Record>& records() { return records_; }

 private:
  std::vector<Record> records_;
};

// Rooms: the counter equals the present participants; only a LIVE room has any.
void CheckRooms(const Database& db) {
  const Table& rooms = db.table(TableId::rooms);
  std::vector<ParticipantState> present;
  for (RowId r = 0; r < rooms.row_count(); ++r) {
    if (!rooms.IsLive(r)) continue;
    PresentParticipants(db, r, &present);
    const int64_t count = rooms.GetInt(r, rooms::participant_count);
    FUZZ_CHECK(count == static_cast<int64_t>(present.size()),
               StrCat("room ", FormatUuid(rooms.id(r)), " counts ", count, " participants, ",
                      present.size(), " are present"));
    FUZZ_CHECK(rooms.GetInt(r, rooms::peak_participants) >= count,
               StrCat("room ", FormatUuid(rooms.id(r)), ": peak below the present count"));
    FUZZ_CHECK(present.empty() || rooms.GetEnum<RoomStatus>(r, rooms::status) == RoomStatus::LIVE,
               StrCat("room ", FormatUuid(rooms.id(r)), " is not LIVE but has ", present.size(),
                      " present participants"));
  }
}

class Harness {
 public:
  Harness() {
    // The fixture, built once through the wire, then kept as a snapshot:
    // every reset loads it (cheaper than rebuilding it op by op).
    Database built({.id_seed = kFixtureSeed});
    EngineParts parts = Parts(built);
    BuildFixture(parts);
    auto info =
        WriteSnapshot(io_, built.Pin(), {.database_id = parts.database_id, .lsn = 1}, "/fixture");
    FUZZ_CHECK(info.ok(), Message(info.status()));
    snapshot_ = info->path;
    pristine_ = Fingerprint(built);
    Reset();
    FUZZ_CHECK(Fingerprint(*db_) == pristine_, "the loaded fixture differs from the built one");
  }

  void Run(const uint8_t* data, size_t size) {
    sink_.records().clear();
    static const size_t max_frame_bytes = ServerOptions{}.max_frame_bytes;
    size_t at = 0;
    for (int frames = 0; frames < kMaxFramesPerInput && size - at >= 4; ++frames) {
      uint32_t length;
      std::memcpy(&length, data + at, 4);  // little-endian, as the server reads it
      // The server answers an error and closes for a bad size, and waits
      // for the rest of an incomplete frame.
      if (length == 0 || length > max_frame_bytes || size - at - 4 < length) break;
      // As the server holds it: the size prefix in front, in its own buffer.
      std::vector<uint8_t> body(data + at, data + at + 4 + length);
      at += 4 + length;
      if (!OneFrame(body, frames)) break;
    }
    if (sink_.records().empty()) {
      FUZZ_CHECK(Fingerprint(*db_) == pristine_, "rows changed without a logged commit");
      return;
    }
    CheckChangedDatabase();
    Reset();
  }

 private:
  static EngineParts Parts(Database& db) {
    return EngineParts{.db = &db,
                       .wal = nullptr,
                       .sink = nullptr,
                       .checkpointer = nullptr,
                       .database_id = kFuzzDatabaseId,
                       .durability = Durability::kNone};
  }

  void Reset() {
    db_ = std::make_unique<Database>(DatabaseOptions{.id_seed = kFixtureSeed});
    auto loaded = LoadSnapshot(io_, snapshot_, *db_);
    FUZZ_CHECK(loaded.ok(), Message(loaded.status()));
    db_->set_commit_sink(&sink_);
    engine_ = Parts(*db_);
  }

  // What the server does with one frame; false where it closes the connection.
  bool OneFrame(const std::vector<uint8_t>& body, int index) {
    fb::Verifier verifier(body.data(), body.size());
    if (!wire::VerifySizePrefixedRequestBuffer(verifier)) return false;
    const wire::Request* req = wire::GetSizePrefixedRequest(body.data());
    const net::Role role = RoleFor(req->id());
    const size_t logged = sink_.records().size();
    net::Dispatched d = net::Dispatch(engine_, *req, role, kFuzzNow + index);
    if (d.deferred) {
      FUZZ_CHECK(d.frame.empty(), "a report answered twice");
      d.frame = d.deferred();  // as a report thread would
    }
    fb::Verifier rv(d.frame.data(), d.frame.size());
    FUZZ_CHECK(rv.VerifySizePrefixedBuffer<wire::Response>(nullptr), "an invalid Response");
    const wire::Response* r = fb::GetSizePrefixedRoot<wire::Response>(d.frame.data());
    FUZZ_CHECK(r->id() == req->id(), StrCat("answer id ", r->id(), " for request ", req->id()));
    const bool ok = r->code() == wire::StatusCode::OK;
    FUZZ_CHECK(ok || (r->message() != nullptr && r->message()->size() > 0 &&
                      r->result_type() == wire::Result::NONE),
               StrCat("a refusal without a message, or with a result: ",
                      wire::EnumNameOp(req->op_type())));
    if (!ok || role == net::Role::kReadOnly) {
      FUZZ_CHECK(sink_.records().size() == logged,
                 StrCat(wire::EnumNameOp(req->op_type()), ok ? " as readonly" : " refused",
                        " committed changes: ", r->message() ? r->message()->str() : ""));
    }
    return true;
  }

  void CheckChangedDatabase() {
    const absl::Status indexes = db_->VerifyIndexes();
    FUZZ_CHECK(indexes.ok(), Message(indexes));
    const LedgerAudit audit = AuditAllWallets(*db_);
    FUZZ_CHECK(audit.ok(), StrCat("ledger audit: ", audit.mismatches.size(), " mismatches, ",
                                  audit.overdrawn.size(), " overdrawn, balanced ", audit.balanced,
                                  audit.mismatches.empty() ? "" : ": ",
                                  audit.mismatches.empty() ? "" : audit.mismatches[0].detail));
    CheckRooms(*db_);
    // Recovery's view: the fixture plus the logged records gives the same rows.
    Database replica({.id_seed = kFixtureSeed});
    auto loaded = LoadSnapshot(io_, snapshot_, replica);
    FUZZ_CHECK(loaded.ok(), Message(loaded.status()));
    for (const CaptureSink::Record& record : sink_.records()) {
      const absl::Status s = wal::ApplyRecord(replica, record.type, record.payload);
      FUZZ_CHECK(s.ok(), StrCat("replaying a logged commit: ", Message(s)));
    }
    FUZZ_CHECK(Fingerprint(replica) == Fingerprint(*db_), "replaying the log gives other rows");
    const absl::Status replayed = replica.VerifyIndexes();
    FUZZ_CHECK(replayed.ok(), StrCat("after replay: ", Message(replayed)));
  }

  MemFileIo io_;
  std::string snapshot_;
  uint64_t pristine_ = 0;
  CaptureSink sink_;
  std::unique_ptr<Database> db_;
  EngineParts engine_;
};

}  // namespace
}  // namespace vox::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static vox::fuzz::Harness* harness = new vox::fuzz::Harness();
  harness->Run(data, size);
  return 0;
}
