// voxbench's driver for PostgreSQL, the benchmark's peer system
// (bench/peers/postgres): one libpq connection per Session. The reads are
// statements prepared once per connection; each write is one call of its
// PL/pgSQL function (functions.sql), so one round trip and one transaction,
// committed durably (synchronous_commit=on) before the answer, as in VoxDB.
// Uuids travel in binary (16 bytes), everything else as text.
#include <libpq-fe.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "bench/voxbench/driver.h"
#include "schema/str.h"

namespace vox::bench {
namespace {

// The SQL of each operation, in OpId order; $n are its parameters (see
// Execute). The reads are the seed's queries (schema-design.md, "Index
// Strategy") where it has them, each returning what VoxDB's answer holds:
// whole rows without secret columns.
constexpr const char* kSql[kOpCount] = {
    // R1: a user by email, ignoring ASCII case as the engine's unique key does.
    "SELECT id, username, email, display_name, is_active, is_verified, deleted_at, created_at,"
    " updated_at, last_login_at, account_status, role, status_reason, suspended_until,"
    " failed_login_count, bio, avatar_url, locale, country, timezone"
    " FROM users WHERE lower(email) = lower($1)",
    // R2: present participants of a room, in join order.
    "SELECT id, user_id, role, is_muted, hand_raised, is_speaking, is_screen_sharing, joined_at,"
    " hand_raised_at FROM room_participants WHERE room_id = $1 AND left_at IS NULL"
    " ORDER BY joined_at, id",
    // R3: a user's present participations.
    "SELECT * FROM room_participants WHERE user_id = $1 AND left_at IS NULL",
    // R4: a room's audit trail, newest first.
    "SELECT * FROM audit_logs WHERE room_id = $1 ORDER BY \"timestamp\" DESC LIMIT 100",
    // R5: expired recordings not yet deleted, soonest expired first.
    "SELECT * FROM recordings WHERE expires_at < now() AND deleted_at IS NULL"
    " ORDER BY expires_at LIMIT 1000",
    // R6: a room's participations: all, present, and the time of those who left.
    "SELECT count(p.id), count(p.id) FILTER (WHERE p.left_at IS NULL),"
    " coalesce(sum(p.duration_seconds) FILTER (WHERE p.left_at IS NOT NULL), 0),"
    " coalesce(avg(p.duration_seconds) FILTER (WHERE p.left_at IS NOT NULL), 0)"
    " FROM rooms r LEFT JOIN room_participants p ON p.room_id = r.id"
    " WHERE r.id = $1 GROUP BY r.id",
    // R7: public LIVE rooms with the tag, newest started first.
    "SELECT * FROM rooms WHERE status = 'LIVE' AND is_public AND deleted_at IS NULL"
    " AND tags @> ARRAY[lower($1)] ORDER BY started_at DESC LIMIT 50",
    // R8: the ban check.
    "SELECT EXISTS (SELECT 1 FROM room_participants"
    " WHERE room_id = $1 AND user_id = $2 AND is_banned)",
    // R9: the 50 newest transfers of the user's COIN wallet, as the engine
    // lists them: the newest debits and the newest credits, merged, each with
    // its counterparty wallet's kind and user.
    "SELECT t.id, t.type, t.status, t.amount, t.debit_wallet_id = w.id AS outgoing,"
    " o.kind, o.user_id, t.room_id, t.parent_id, t.reverses_id, t.memo, t.created_at"
    " FROM wallets w CROSS JOIN LATERAL ("
    "   (SELECT * FROM transactions WHERE debit_wallet_id = w.id"
    "     ORDER BY created_at DESC LIMIT 50)"
    "   UNION ALL"
    "   (SELECT * FROM transactions WHERE credit_wallet_id = w.id"
    "     ORDER BY created_at DESC LIMIT 50)) t"
    " JOIN wallets o ON o.id = CASE WHEN t.debit_wallet_id = w.id"
    "   THEN t.credit_wallet_id ELSE t.debit_wallet_id END"
    " WHERE w.user_id = $1 AND w.currency = 'COIN'"
    " ORDER BY t.created_at DESC, t.id DESC LIMIT 50",
    // W1-W7: bench/peers/postgres/functions.sql.
    "SELECT vox_register_user($1, $2, $3, $4)",
    "SELECT vox_create_and_open_room($1, $2, $3, 100, true)",
    "SELECT vox_join_room($1, $2)",
    "SELECT vox_leave_room($1, $2)",
    "SELECT vox_set_live_state($1, $2, $3)",
    "SELECT vox_gift($1, $2, $3, $4)",
    "SELECT vox_end_room($1, $2)",
};

std::string StatementName(OpId op) { return StrCat("vox_op_", static_cast<int>(op)); }

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// libpq's messages end with a newline.
std::string_view Trimmed(const char* message) {
  std::string_view s = message;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

// One statement's parameters: text, or uuids as 16 binary bytes.
class Params {
 public:
  void Text(std::string value) { Add(std::move(value), 0); }
  void Id(const Uuid& u) {
    std::string bytes(16, '\0');
    for (int i = 0; i < 8; ++i) {
      bytes[i] = static_cast<char>(u.hi >> (56 - 8 * i));
      bytes[8 + i] = static_cast<char>(u.lo >> (56 - 8 * i));
    }
    Add(std::move(bytes), 1);
  }

  int count() const { return count_; }
  const char* const* values() const { return pointers_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  static constexpr int kMax = 4;
  void Add(std::string value, int format) {
    values_[count_] = std::move(value);
    lengths_[count_] = static_cast<int>(values_[count_].size());
    formats_[count_] = format;
    ++count_;
    for (int i = 0; i < count_; ++i) pointers_[i] = values_[i].c_str();
  }

  int count_ = 0;
  std::array<std::string, kMax> values_;
  std::array<const char*, kMax> pointers_{};
  std::array<int, kMax> lengths_{};
  std::array<int, kMax> formats_{};
};

// A text[] literal: every element quoted, so any name survives.
std::string ArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string_view ActionName(LiveAction action) {
  switch (action) {
    case LiveAction::kMute:
      return "mute";
    case LiveAction::kUnmute:
      return "unmute";
    case LiveAction::kRaiseHand:
      return "raise_hand";
    case LiveAction::kLowerHand:
      return "lower_hand";
  }
  return "?";
}

// The status a failed statement stands for: functions.sql raises 'VX' +
// the number of an absl::StatusCode for each refusal; a unique index's
// refusal is AlreadyExists and a malformed value InvalidArgument, as the
// engine answers. Anything else is a failure of the system under test.
absl::Status StatusOf(const PGresult* res) {
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  const std::string_view sqlstate = state == nullptr ? "" : state;
  const std::string message(Trimmed(primary == nullptr ? PQresultErrorMessage(res) : primary));
  if (sqlstate.size() == 5 && sqlstate.starts_with("VX")) {
    const int code = std::atoi(state + 2);
    if (code > 0 && code <= 16) return absl::Status(static_cast<absl::StatusCode>(code), message);
  }
  if (sqlstate == "23505") return absl::AlreadyExistsError(message);
  if (sqlstate.starts_with("22") || sqlstate == "23502" || sqlstate == "23514") {
    return absl::InvalidArgumentError(message);
  }
  if (sqlstate.starts_with("40")) {  // deadlock, serialization failure
    return absl::AbortedError(StrCat("postgres ", sqlstate, ": ", message));
  }
  return absl::InternalError(StrCat("postgres ", sqlstate, ": ", message));
}

int64_t IntAt(const PGresult* res, int row, int column) {
  return std::strtoll(PQgetvalue(res, row, column), nullptr, 10);
}

class PgSession final : public Session {
 public:
  explicit PgSession(PGconn* conn) : conn_(conn) {}
  ~PgSession() override { PQfinish(conn_); }

  // Prepares every operation's statement on the connection.
  absl::Status Prepare() {
    for (int i = 0; i < kOpCount; ++i) {
      const OpId op = static_cast<OpId>(i);
      Result res(PQprepare(conn_, StatementName(op).c_str(), kSql[i], 0, nullptr), &PQclear);
      if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
        return absl::FailedPreconditionError(StrCat(
            "cannot prepare ", StatementName(op), " (was the database loaded with ",
            "bench/peers/postgres/cluster.sh load?): ", Trimmed(PQresultErrorMessage(res.get()))));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Execute(const OpRequest& q, OpResponse& r) override {
    r = OpResponse{};
    Params p;
    switch (q.op) {
      case OpId::R1:
      case OpId::R7:
        p.Text(q.text);
        break;
      case OpId::R2:
      case OpId::R4:
      case OpId::R6:
        p.Id(q.room);
        break;
      case OpId::R3:
      case OpId::R9:
        p.Id(q.user);
        break;
      case OpId::R5:
        break;
      case OpId::R8:
      case OpId::W3:
      case OpId::W4:
      case OpId::W7:
        p.Id(q.room);
        p.Id(q.user);
        break;
      case OpId::W1:
        p.Text(q.text);
        p.Text(q.text + "@bench.example");
        p.Text("x");
        p.Text(q.text);
        break;
      case OpId::W2:
        p.Id(q.user);
        p.Text(q.text);
        p.Text(ArrayLiteral(q.tags));
        break;
      case OpId::W5:
        p.Id(q.room);
        p.Id(q.user);
        p.Text(std::string(ActionName(q.action)));
        break;
      case OpId::W6:
        p.Id(q.user);
        p.Id(q.other);
        p.Text(StrCat(q.amount));
        p.Text(q.text);
        break;
    }
    Result res(PQexecPrepared(conn_, StatementName(q.op).c_str(), p.count(), p.values(),
                              p.lengths(), p.formats(), /*resultFormat=*/0),
               &PQclear);
    if (PQstatus(conn_) != CONNECTION_OK) {
      return absl::UnavailableError(
          StrCat("postgres connection lost: ", Trimmed(PQerrorMessage(conn_))));
    }
    const ExecStatusType status = PQresultStatus(res.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      r.status = StatusOf(res.get());
      return absl::OkStatus();
    }
    const PGresult* rows = res.get();
    const int n = PQntuples(rows);
    switch (q.op) {
      case OpId::R6:
        if (n == 1) {
          r.rows = IntAt(rows, 0, 0);
          r.present = IntAt(rows, 0, 1);
        }
        break;
      case OpId::R8:
        r.rows = n == 1 && PQgetvalue(rows, 0, 0)[0] == 't' ? 1 : 0;
        break;
      case OpId::W1:
      case OpId::W2: {
        if (n != 1) return absl::InternalError(StrCat(StatementName(q.op), " returned no id"));
        absl::StatusOr<Uuid> id = ParseUuid(PQgetvalue(rows, 0, 0));
        if (!id.ok()) r.status = id.status();
        if (id.ok()) r.created = *id;
        break;
      }
      default:
        r.rows = n;
    }
    return absl::OkStatus();
  }

 private:
  PGconn* conn_;
};

class PgDriver final : public Driver {
 public:
  explicit PgDriver(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  std::string_view name() const override { return "postgres"; }

  absl::StatusOr<std::unique_ptr<Session>> Connect() override {
    PGconn* conn = PQconnectdb(conninfo_.c_str());
    auto session = std::make_unique<PgSession>(conn);  // owns conn from here
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      return absl::UnavailableError(StrCat("cannot connect to postgres (", conninfo_, "): ",
                                           Trimmed(conn ? PQerrorMessage(conn) : "out of memory")));
    }
    VOX_RETURN_IF_ERROR(session->Prepare());
    return std::unique_ptr<Session>(std::move(session));
  }

 private:
  std::string conninfo_;
};

}  // namespace

std::unique_ptr<Driver> MakePostgresDriver(std::string conninfo) {
  return std::make_unique<PgDriver>(std::move(conninfo));
}

}  // namespace vox::bench
