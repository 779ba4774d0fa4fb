// What the per-domain halves of the dispatcher (dispatch_*.cc) share: the
// call they execute in, readers for request arguments, and builders for
// results. Private to net/.
//
// An operation's executor reads its request table, runs the engine
// operation and builds its result table into the call's builder; the
// Response around it is built by the caller (one per request, or one per
// op of a Batch, all in the same builder).
#ifndef VOXDB_NET_INTERNAL_DISPATCH_UTIL_H_
#define VOXDB_NET_INTERNAL_DISPATCH_UTIL_H_

#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/ops/context.h"
#include "net/internal/dispatch.h"
#include "net/server.h"
#include "schema/catalog.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"

namespace vox::net {

namespace fb = flatbuffers;

// A result table built into the call's builder.
struct Built {
  wire::Result type = wire::Result::NONE;
  fb::Offset<void> offset;
};
using Outcome = absl::StatusOr<Built>;

// ---- Wire values ---------------------------------------------------------------

inline wire::Uuid ToWire(const Uuid& u) { return wire::Uuid(u.hi, u.lo); }
inline Uuid FromWire(const wire::Uuid& u) { return Uuid{u.hi(), u.lo()}; }
inline std::string_view View(const fb::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}
// Absent: nullopt (an optional string argument).
inline std::optional<std::string_view> OptView(const fb::String* s) {
  if (s == nullptr) return std::nullopt;
  return View(s);
}
inline std::optional<Uuid> OptId(const wire::Uuid* u) {
  if (u == nullptr) return std::nullopt;
  return FromWire(*u);
}

// A wire uuid for a Create* call, null when the id is absent. Use as
// `W(id)`: the temporary lives until the end of the full expression.
class WireUuid {
 public:
  WireUuid(const Uuid& u) : value_(ToWire(u)), set_(true) {}      // NOLINT: implicit
  WireUuid(const std::optional<Uuid>& u) : set_(u.has_value()) {  // NOLINT: implicit
    if (u) value_ = ToWire(*u);
  }
  const wire::Uuid* get() const { return set_ ? &value_ : nullptr; }

 private:
  wire::Uuid value_;
  bool set_;
};
inline const wire::Uuid* W(const WireUuid& u) { return u.get(); }

// ---- Request arguments ---------------------------------------------------------

// Reads a request's arguments, keeping the first problem (INVALID_ARGUMENT
// naming the field): read them all, then return status() if not OK.
class Args {
 public:
  // A required id.
  Uuid Id(const wire::Uuid* u, std::string_view field) {
    if (u == nullptr) {
      Fail(StrCat(field, " is required"));
      return Uuid{};
    }
    return FromWire(*u);
  }

  // A required enum, by value name.
  template <typename E>
  E Enum(EnumId id, const fb::String* name, std::string_view field) {
    if (name == nullptr) {
      Fail(StrCat(field, " is required"));
      return E{};
    }
    return OptEnum<E>(id, name, field).value_or(E{});
  }
  // An enum that defaults to `absent` when not given.
  template <typename E>
  E Enum(EnumId id, const fb::String* name, std::string_view field, E absent) {
    return OptEnum<E>(id, name, field).value_or(absent);
  }
  // An optional enum: nullopt when not given (or not valid: see status()).
  template <typename E>
  std::optional<E> OptEnum(EnumId id, const fb::String* name, std::string_view field) {
    if (name == nullptr) return std::nullopt;
    auto v = ParseEnumValue(id, View(name));
    if (!v.ok()) {
      Fail(StrCat(field, ": ", v.status().message()));
      return std::nullopt;
    }
    return static_cast<E>(*v);
  }

  // A page size in 1..max.
  void Limit(int64_t limit, int64_t max) {
    if (limit < 1 || limit > max) Fail(StrCat("limit must be 1..", max));
  }

  void Fail(std::string message) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(message);
  }
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

// ---- The call ------------------------------------------------------------------

// One operation's execution: the engine, its clock, and the builder its
// result goes into.
struct Call {
  EngineParts& engine;
  Database& db;
  OpContext ctx;
  fb::FlatBufferBuilder& fbb;
  Role role;  // the connection's token role

  fb::Offset<fb::String> Str(std::string_view s) { return fbb.CreateString(s.data(), s.size()); }
  fb::Offset<fb::String> OptStr(const std::optional<std::string_view>& s) {
    return s ? Str(*s) : 0;
  }
  template <typename E>
  fb::Offset<fb::String> Name(EnumId id, E value) {
    return Str(EnumName(id, value));
  }
  template <typename E>
  fb::Offset<fb::String> OptName(EnumId id, const std::optional<E>& value) {
    return value ? Name(id, *value) : 0;
  }

  template <typename T>
  Outcome Result(wire::Result type, fb::Offset<T> table) {
    return Built{type, table.Union()};
  }
  Outcome Empty(const absl::Status& s) {
    if (!s.ok()) return s;
    return Result(wire::Result::Empty, wire::CreateEmpty(fbb));
  }
  Outcome Id(const absl::StatusOr<Uuid>& id) {
    if (!id.ok()) return id.status();
    return Result(wire::Result::IdResult, wire::CreateIdResult(fbb, W(*id)));
  }
  template <typename N>
  Outcome Count(const absl::StatusOr<N>& n) {
    if (!n.ok()) return n.status();
    return Result(wire::Result::CountResult, wire::CreateCountResult(fbb, *n));
  }
  Outcome Bool(bool value) {
    return Result(wire::Result::BoolResult, wire::CreateBoolResult(fbb, value));
  }
  // Rows as JSON (secrets left out); `next` pages on.
  Outcome Rows(TableId table, std::span<const RowId> rows, std::optional<Uuid> next = {});
  // A row by id, or NotFound (naming the table).
  absl::StatusOr<RowId> Row(TableId table, const Uuid& id);
};

// ---- Executors by domain ---------------------------------------------------------
// Each executes `op` (of type `type`) if the type is one of its domain's,
// and returns nullopt otherwise.

std::optional<Outcome> ExecuteIdentity(Call& c, wire::Op type, const void* op);
std::optional<Outcome> ExecuteRooms(Call& c, wire::Op type, const void* op);
std::optional<Outcome> ExecuteMedia(Call& c, wire::Op type, const void* op);
std::optional<Outcome> ExecuteLedger(Call& c, wire::Op type, const void* op);
std::optional<Outcome> ExecuteNotifications(Call& c, wire::Op type, const void* op);
std::optional<Outcome> ExecuteReads(Call& c, wire::Op type, const void* op);
std::optional<Outcome> ExecuteAdmin(Call& c, wire::Op type, const void* op);
// The searches (dispatch_search.cc).
std::optional<Outcome> ExecuteSearch(Call& c, wire::Op type, const void* op);

// ---- Reports (dispatch_reports.cc) ---------------------------------------------------
// A report is prepared on the engine thread and computed elsewhere.

// A prepared report: it owns the snapshot pinned for it and builds its
// result (a ReportResult; AuditCount: a CountResult) into `fbb`. Run it on
// any thread, once.
using ReportJob = std::function<Outcome(fb::FlatBufferBuilder& fbb)>;
// Engine thread: reads and checks `op`'s arguments (INVALID_ARGUMENT; no
// table is read) and pins the tables its report reads. `snapshot_lsn` is the
// last LSN committed when pinning, reported as the result's snapshot_lsn.
// REQUIRES: IsReport(type).
absl::StatusOr<ReportJob> PrepareReport(const Database& db, wire::Op type, const void* op,
                                        uint64_t snapshot_lsn);

// The union member `op` as its table.
template <typename T>
const T* As(const void* op) {
  return static_cast<const T*>(op);
}

}  // namespace vox::net

#endif  // VOXDB_NET_INTERNAL_DISPATCH_UTIL_H_
