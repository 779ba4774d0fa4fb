#include "tests/crash/acked_log.h"

#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "engine/ops/ledger.h"
#include "engine/ops/queries.h"
#include "schema/str.h"

namespace vox::crash {
namespace {

// ---- Reading -------------------------------------------------------------------

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string token; in >> token;) out.push_back(token);
  return out;
}

// How many fields each op has before the answer's ids (acknowledged lines
// carry ids after them, refused lines a code).
size_t FieldCount(const std::string& op) {
  static const std::map<std::string, size_t> kFields = {
      {"user", 1}, {"topup", 3}, {"gift", 4}, {"batch", 2}, {"room", 2},
      {"join", 2}, {"leave", 3}, {"kick", 4}, {"end", 2},   {"event", 1}};
  auto it = kFields.find(op);
  return it == kFields.end() ? 0 : it->second;
}

// ---- What the database holds, indexed for the checks ------------------------------

struct Holdings {
  explicit Holdings(const Database& db) : db(db) {
    const Table& wallets = db.table(TableId::wallets);
    for (RowId w = 0; w < wallets.row_count(); ++w) {
      if (!wallets.IsLive(w)) continue;
      if (wallets.GetEnum<WalletKind>(w, wallets::kind) == WalletKind::USER &&
          wallets.GetString(w, wallets::currency) == kDefaultCurrency) {
        coin_wallet[wallets.GetRef(w, wallets::user_id)] = w;
      }
    }
    const Table& txs = db.table(TableId::transactions);
    for (RowId t = 0; t < txs.row_count(); ++t) {
      if (!txs.IsLive(t)) continue;
      if (!txs.IsNull(t, transactions::idempotency_key)) {
        by_key[std::string(txs.GetString(t, transactions::idempotency_key))] = t;
      }
      const RowId parent = txs.GetRef(t, transactions::parent_id);
      if (parent != kNoRow) children[parent].push_back(t);
    }
    const Table& rooms = db.table(TableId::rooms);
    for (RowId r = 0; r < rooms.row_count(); ++r) {
      if (rooms.IsLive(r)) by_code[std::string(rooms.GetString(r, rooms::room_code))] = r;
    }
    const Table& events = db.table(TableId::system_events);
    for (RowId e = 0; e < events.row_count(); ++e) {
      if (events.IsLive(e)) by_event[std::string(events.GetString(e, system_events::code))] = e;
    }
    const Table& parts = db.table(TableId::room_participants);
    for (RowId p = 0; p < parts.row_count(); ++p) {
      if (!parts.IsLive(p)) continue;
      ++pair_rows[{parts.GetRef(p, room_participants::room_id),
                   parts.GetRef(p, room_participants::user_id)}];
    }
  }
  RowId User(const std::string& name) const { return FindUserByUsername(db, name); }
  RowId WalletOf(RowId user) const {
    auto it = coin_wallet.find(user);
    return it == coin_wallet.end() ? kNoRow : it->second;
  }
  RowId Transfer(const std::string& key) const {
    auto it = by_key.find(key);
    return it == by_key.end() ? kNoRow : it->second;
  }
  RowId Room(const std::string& code) const {
    auto it = by_code.find(code);
    return it == by_code.end() ? kNoRow : it->second;
  }
  int64_t Rows(RowId room, RowId user) const {
    auto it = pair_rows.find({room, user});
    return it == pair_rows.end() ? 0 : it->second;
  }

  const Database& db;
  absl::flat_hash_map<RowId, RowId> coin_wallet;
  absl::flat_hash_map<std::string, RowId> by_key;
  absl::flat_hash_map<RowId, std::vector<RowId>> children;
  absl::flat_hash_map<std::string, RowId> by_code;
  absl::flat_hash_map<std::string, RowId> by_event;
  absl::flat_hash_map<std::pair<RowId, RowId>, int64_t> pair_rows;
};

Uuid ParseId(const std::string& text) {
  auto id = ParseUuid(text);
  return id.ok() ? *id : Uuid{};
}

// Participant and room states a model allows, as bit sets.
enum : int { kPresent = 1, kLeft = 2, kKicked = 4 };
enum : int { kLive = 1, kEnded = 2 };

struct ModelParticipant {
  std::string code, user;
  int allowed = kPresent;
};
struct ModelRoom {
  bool acked = false;  // else its creation is unknown: it may be missing
  std::string owner;
  int allowed = kLive;
  std::vector<std::string> participants;  // ids of acknowledged joins
};
struct PairCount {
  int64_t acked = 0, unknown = 0;
};

class Checker {
 public:
  Checker(const Database& db, CheckResult& result) : h_(db), db_(db), r_(result) {}

  void Apply(const LogEntry& e) {
    const auto& f = e.fields;
    if (e.op == "user") User(e, f);
    if (e.op == "topup") TopUp(e, f);
    if (e.op == "gift") Gift(e, f);
    if (e.op == "batch") BatchPair(e, f);
    if (e.op == "room") Room(e, f);
    if (e.op == "join") Join(e, f);
    if (e.op == "leave") Move(e, f[0], f[2], kLeft);
    if (e.op == "kick") Move(e, f[0], f[3], kKicked);
    if (e.op == "end") End(e, f);
    if (e.op == "event") Event(e, f);
  }

  void Finish() {
    r_.balances = balance_;
    // Balances: what the model's transfers add up to, per user.
    for (const auto& [name, expected] : balance_) {
      const RowId u = h_.User(name);
      const RowId w = u == kNoRow ? kNoRow : h_.WalletOf(u);
      if (w == kNoRow) {
        Fail(StrCat("user ", name, " moved money but has no wallet"));
        continue;
      }
      const Table& wallets = db_.table(TableId::wallets);
      const int64_t balance =
          wallets.GetInt(w, wallets::posted_credits) - wallets.GetInt(w, wallets::posted_debits);
      ++r_.users;
      if (balance != expected) {
        Fail(StrCat("user ", name, " has a balance of ", balance, "; the acknowledged and present ",
                    "transfers add up to ", expected));
      }
      if (wallets.GetInt(w, wallets::pending_debits) != 0 ||
          wallets.GetInt(w, wallets::pending_credits) != 0) {
        Fail(StrCat("user ", name, " has pending amounts; the writer reserved nothing"));
      }
    }
    // Rooms and participants: the state the model allows.
    const Table& rooms = db_.table(TableId::rooms);
    const Table& parts = db_.table(TableId::room_participants);
    for (const auto& [code, m] : rooms_) {
      const RowId room = h_.Room(code);
      if (room == kNoRow) {
        if (m.acked) {
          ++r_.lost;
          Fail(StrCat("acknowledged room ", code, " lost"));
        }
        continue;
      }
      const auto status = rooms.GetEnum<RoomStatus>(room, rooms::status);
      const int state = status == RoomStatus::LIVE    ? kLive
                        : status == RoomStatus::ENDED ? kEnded
                                                      : 0;
      if ((state & m.allowed) == 0) {
        Fail(StrCat("room ", code, " is ", static_cast<int>(status), "; the log allows ",
                    m.allowed == kLive    ? "LIVE"
                    : m.allowed == kEnded ? "ENDED"
                                          : "LIVE or ENDED"));
      }
      if (rooms.GetRef(room, rooms::owner_id) != h_.User(m.owner)) {
        Fail(StrCat("room ", code, " has another owner than ", m.owner));
      }
    }
    for (const auto& [id, m] : participants_) {
      const RowId p = parts.FindById(ParseId(id));
      if (p == kNoRow) {
        ++r_.lost;
        Fail(StrCat("acknowledged participant ", id, " (", m.user, " in ", m.code, ") lost"));
        continue;
      }
      if (parts.GetRef(p, room_participants::room_id) != h_.Room(m.code) ||
          parts.GetRef(p, room_participants::user_id) != h_.User(m.user)) {
        Fail(StrCat("participant ", id, " is not ", m.user, " in ", m.code));
      }
      const int state = parts.IsNull(p, room_participants::left_at)      ? kPresent
                        : parts.GetBool(p, room_participants::is_kicked) ? kKicked
                                                                         : kLeft;
      if ((state & m.allowed) == 0) {
        Fail(StrCat("participant ", id, " (", m.user, " in ", m.code, ") is in state ", state,
                    "; the log allows ", m.allowed, " (1 present, 2 left, 4 kicked)"));
      }
    }
    // Joins with no answer: at most one more participation each.
    for (const auto& [key, count] : pairs_) {
      const RowId room = h_.Room(key.first);
      if (room == kNoRow) continue;  // an unknown creation that is not there
      const int64_t rows = h_.Rows(room, h_.User(key.second));
      if (rows < count.acked || rows > count.acked + count.unknown) {
        Fail(StrCat(key.second, " has ", rows, " participations in ", key.first, "; the log has ",
                    count.acked, " acknowledged and ", count.unknown, " unknown joins"));
      }
    }
  }

 private:
  void Fail(std::string what) {
    if (r_.failures.size() < 50) r_.failures.push_back(std::move(what));
  }
  // Counts the entry; for an unknown one, whether it was there.
  void Count(const LogEntry& e, bool present, const std::string& what) {
    switch (e.outcome) {
      case Outcome::kAcked:
        if (present) {
          ++r_.acked_checked;
        } else {
          ++r_.lost;
          Fail(StrCat("acknowledged ", what, " lost"));
        }
        break;
      case Outcome::kUnknown:
        ++r_.unknown;
        if (present) ++r_.unknown_present;
        break;
      case Outcome::kRefused:
        ++r_.refused;
        if (present) Fail(StrCat("refused ", what, " is there"));
        break;
    }
  }
  bool Check(bool ok, const std::string& what) {
    if (!ok) Fail(what);
    return ok;
  }

  void User(const LogEntry& e, const std::vector<std::string>& f) {
    const RowId u = h_.User(f[0]);
    Count(e, u != kNoRow, "user " + f[0]);
    if (u == kNoRow) return;
    balance_.emplace(f[0], 0);
    if (e.outcome == Outcome::kAcked && f.size() >= 3) {
      Check(db_.table(TableId::users).id(u) == ParseId(f[1]), "user " + f[0] + " has another id");
      const RowId w = h_.WalletOf(u);
      Check(w != kNoRow && db_.table(TableId::wallets).id(w) == ParseId(f[2]),
            "user " + f[0] + " lost its acknowledged wallet");
    }
  }

  // A transfer found by key is the one the log describes; returns its amount.
  void CheckTransfer(RowId t, TransferType type, RowId debit_wallet, RowId credit_wallet,
                     const std::string& key) {
    const Table& txs = db_.table(TableId::transactions);
    Check(txs.GetEnum<TransferType>(t, transactions::type) == type,
          "transfer " + key + " has another type");
    Check(txs.GetEnum<TransferStatus>(t, transactions::status) == TransferStatus::POSTED,
          "transfer " + key + " is not POSTED");
    Check(debit_wallet == kNoRow || txs.GetRef(t, transactions::debit_wallet_id) == debit_wallet,
          "transfer " + key + " debits another wallet");
    Check(txs.GetRef(t, transactions::credit_wallet_id) == credit_wallet,
          "transfer " + key + " credits another wallet");
  }

  void TopUp(const LogEntry& e, const std::vector<std::string>& f) {
    const std::string& key = f[0];
    const RowId t = h_.Transfer(key);
    Count(e, t != kNoRow, "top-up " + key);
    if (t == kNoRow) return;
    const Table& txs = db_.table(TableId::transactions);
    const int64_t amount = std::stoll(f[2]);
    CheckTransfer(t, TransferType::TOP_UP, kNoRow, h_.WalletOf(h_.User(f[1])), key);
    Check(txs.GetInt(t, transactions::amount) == amount, "top-up " + key + " has another amount");
    if (e.outcome == Outcome::kAcked && f.size() >= 4) {
      Check(txs.id(t) == ParseId(f[3]), "top-up " + key + " has another id");
    }
    balance_[f[1]] += amount;
  }

  void Gift(const LogEntry& e, const std::vector<std::string>& f) {
    const std::string& key = f[0];
    const RowId t = h_.Transfer(key);
    Count(e, t != kNoRow, "gift " + key);
    if (t == kNoRow) return;
    const Table& txs = db_.table(TableId::transactions);
    const RowId from = h_.WalletOf(h_.User(f[1]));
    CheckTransfer(t, TransferType::GIFT, from, h_.WalletOf(h_.User(f[2])), key);
    const int64_t amount = std::stoll(f[3]);
    int64_t fee = 0;
    RowId fee_row = kNoRow;
    auto kids = h_.children.find(t);
    if (kids != h_.children.end()) {
      Check(kids->second.size() == 1, "gift " + key + " has more than one fee");
      fee_row = kids->second[0];
      fee = txs.GetInt(fee_row, transactions::amount);
      Check(txs.GetEnum<TransferType>(fee_row, transactions::type) == TransferType::FEE &&
                txs.GetRef(fee_row, transactions::debit_wallet_id) == from,
            "gift " + key + "'s fee is not a FEE from the sender");
    }
    Check(txs.GetInt(t, transactions::amount) + fee == amount,
          StrCat("gift ", key, " moved ", txs.GetInt(t, transactions::amount), " + fee ", fee,
                 ", not ", amount));
    if (e.outcome == Outcome::kAcked && f.size() >= 7) {
      Check(txs.id(t) == ParseId(f[4]), "gift " + key + " has another id");
      Check(fee == std::stoll(f[5]), "gift " + key + " has another fee than acknowledged");
      Check(f[6] == "-" ? fee_row == kNoRow : fee_row != kNoRow && txs.id(fee_row) == ParseId(f[6]),
            "gift " + key + " lost its acknowledged fee transfer");
    }
    balance_[f[1]] -= amount;
    balance_[f[2]] += amount - fee;
  }

  void BatchPair(const LogEntry& e, const std::vector<std::string>& f) {
    const bool a = h_.Transfer(f[0]) != kNoRow, b = h_.Transfer(f[1]) != kNoRow;
    // The two writes themselves are counted on their own lines.
    if (a != b) Fail(StrCat("batch ", f[0], "+", f[1], " is half there"));
    if (e.outcome == Outcome::kAcked && !a) Fail(StrCat("acknowledged batch ", f[0], " lost"));
    if (e.outcome == Outcome::kRefused && a) Fail(StrCat("refused batch ", f[0], " is there"));
  }

  void Room(const LogEntry& e, const std::vector<std::string>& f) {
    const std::string& code = f[0];
    const RowId room = h_.Room(code);
    Count(e, room != kNoRow, "room " + code);
    if (e.outcome == Outcome::kRefused) return;
    ModelRoom& m = rooms_[code];
    m.acked = e.outcome == Outcome::kAcked;
    m.owner = f[1];
    if (e.outcome == Outcome::kAcked && f.size() >= 4) {
      if (room != kNoRow) {
        Check(db_.table(TableId::rooms).id(room) == ParseId(f[2]),
              "room " + code + " has another id");
      }
      participants_[f[3]] = {code, f[1], kPresent};
      m.participants.push_back(f[3]);
      ++pairs_[{code, f[1]}].acked;
    } else {
      ++pairs_[{code, f[1]}].unknown;  // its host, if it is there
      if (room != kNoRow) {
        Check(h_.Rows(room, h_.User(f[1])) == 1, "room " + code + " is there without its host");
      }
    }
  }

  void Join(const LogEntry& e, const std::vector<std::string>& f) {
    const std::string& code = f[0];
    switch (e.outcome) {
      case Outcome::kAcked: {
        const RowId p = db_.table(TableId::room_participants).FindById(ParseId(f[2]));
        Count(e, p != kNoRow, "join of " + f[1] + " to " + code);
        participants_[f[2]] = {code, f[1], kPresent};
        rooms_[code].participants.push_back(f[2]);
        ++pairs_[{code, f[1]}].acked;
        break;
      }
      case Outcome::kUnknown:
        ++r_.unknown;  // whether it is there: the pair count in Finish
        ++pairs_[{code, f[1]}].unknown;
        break;
      case Outcome::kRefused:
        ++r_.refused;  // the pair count in Finish: no row beyond the log's
        pairs_[{code, f[1]}];
        break;
    }
  }

  // A leave (to kLeft) or a kick (to kKicked) of participant `id`.
  void Move(const LogEntry& e, const std::string& code, const std::string& id, int to) {
    auto it = participants_.find(id);
    const bool known = it != participants_.end();
    if (!known) Fail(StrCat("the log moves participant ", id, " it never saw join ", code));
    switch (e.outcome) {
      case Outcome::kAcked: {
        const RowId p = db_.table(TableId::room_participants).FindById(ParseId(id));
        const bool left =
            p != kNoRow &&
            !db_.table(TableId::room_participants).IsNull(p, room_participants::left_at);
        Count(e, left, StrCat(to == kLeft ? "leave" : "kick", " of participant ", id));
        if (known) it->second.allowed = to;
        break;
      }
      case Outcome::kUnknown:
        ++r_.unknown;
        if (known) it->second.allowed |= to;
        break;
      case Outcome::kRefused:
        ++r_.refused;  // its state stays what the model says
        break;
    }
  }

  void End(const LogEntry& e, const std::vector<std::string>& f) {
    const std::string& code = f[0];
    ModelRoom& m = rooms_[code];
    const RowId room = h_.Room(code);
    const bool ended =
        room != kNoRow &&
        db_.table(TableId::rooms).GetEnum<RoomStatus>(room, rooms::status) == RoomStatus::ENDED;
    switch (e.outcome) {
      case Outcome::kAcked:
        Count(e, ended, "end of room " + code);
        m.allowed = kEnded;
        for (const std::string& id : m.participants) {
          int& a = participants_[id].allowed;
          if (a & kPresent) a = (a & ~kPresent) | kLeft;
        }
        break;
      case Outcome::kUnknown:
        ++r_.unknown;
        if (ended) ++r_.unknown_present;
        m.allowed |= kEnded;
        for (const std::string& id : m.participants) {
          int& a = participants_[id].allowed;
          if (a & kPresent) a |= kLeft;
        }
        break;
      case Outcome::kRefused:
        ++r_.refused;  // the room's state is checked in Finish
        break;
    }
  }

  void Event(const LogEntry& e, const std::vector<std::string>& f) {
    auto it = h_.by_event.find(f[0]);
    const bool present = it != h_.by_event.end();
    Count(e, present, "system event " + f[0]);
    if (present && e.outcome == Outcome::kAcked && f.size() >= 2) {
      Check(db_.table(TableId::system_events).id(it->second) == ParseId(f[1]),
            "system event " + f[0] + " has another id");
    }
  }

  Holdings h_;
  const Database& db_;
  CheckResult& r_;
  std::map<std::string, int64_t> balance_;
  std::map<std::string, ModelRoom> rooms_;
  std::map<std::string, ModelParticipant> participants_;
  std::map<std::pair<std::string, std::string>, PairCount> pairs_;
};

}  // namespace

absl::StatusOr<size_t> AckedLog::AddFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(StrCat("cannot read ", path));
  size_t added = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line[0] == 'E') {
      stop_errors_.push_back(line.substr(line.size() > 2 ? 2 : line.size()));
      continue;
    }
    std::vector<std::string> t = Split(line);
    if (t.size() < 2 || t[0].size() != 1 || std::string("AUR").find(t[0][0]) == std::string::npos ||
        FieldCount(t[1]) == 0 || t.size() < 2 + FieldCount(t[1])) {
      return absl::InvalidArgumentError(StrCat(path, ": cannot parse '", line, "'"));
    }
    entries_.push_back({static_cast<Outcome>(t[0][0]), t[1], {t.begin() + 2, t.end()}});
    ++added;
  }
  return added;
}

size_t AckedLog::count(Outcome o) const {
  size_t n = 0;
  for (const LogEntry& e : entries_) n += e.outcome == o && e.op != "batch";
  return n;
}

CheckResult CheckAgainst(const Database& db, const AckedLog& log) {
  CheckResult result;
  Checker checker(db, result);
  for (const LogEntry& e : log.entries()) checker.Apply(e);
  checker.Finish();
  return result;
}

std::vector<std::string> CheckInvariants(const Database& db) {
  std::vector<std::string> failures;
  auto fail = [&](std::string what) {
    if (failures.size() < 50) failures.push_back(std::move(what));
  };
  // The ledger: every wallet's counters against its rows, debits = credits.
  const LedgerAudit audit = AuditAllWallets(db);
  if (!audit.ok()) {
    fail(StrCat("ledger audit: ", audit.mismatches.size(), " mismatches, ", audit.overdrawn.size(),
                " overdrawn, balanced ", audit.balanced,
                audit.mismatches.empty() ? "" : "; first: " + audit.mismatches[0].detail));
  }
  // Every index against a scan of its table.
  if (const absl::Status s = db.VerifyIndexes(); !s.ok()) {
    fail(StrCat("indexes: ", std::string(s.message())));
  }
  // The audit rows, counted per (action, user) and (action, room).
  const Table& audit_logs = db.table(TableId::audit_logs);
  absl::flat_hash_map<std::pair<AuditAction, RowId>, int64_t> by_user, by_room;
  std::map<AuditAction, int64_t> by_action;
  for (RowId a = 0; a < audit_logs.row_count(); ++a) {
    if (!audit_logs.IsLive(a)) continue;
    const auto action = audit_logs.GetEnum<AuditAction>(a, audit_logs::action);
    ++by_action[action];
    ++by_user[{action, audit_logs.GetRef(a, audit_logs::user_id)}];
    ++by_room[{action, audit_logs.GetRef(a, audit_logs::room_id)}];
  }
  auto count = [](const auto& map, const auto& key) -> int64_t {
    auto it = map.find(key);
    return it == map.end() ? 0 : it->second;
  };
  // Registration: the user, its LOCAL login, its COIN wallet, its audit row.
  const Table& users = db.table(TableId::users);
  const Table& providers = db.table(TableId::auth_providers);
  const Table& wallets = db.table(TableId::wallets);
  std::map<RowId, int64_t> local_logins, coin_wallets;
  for (RowId p = 0; p < providers.row_count(); ++p) {
    if (providers.IsLive(p) && providers.GetEnum<AuthProviderType>(
                                   p, auth_providers::provider_type) == AuthProviderType::LOCAL) {
      ++local_logins[providers.GetRef(p, auth_providers::user_id)];
    }
  }
  for (RowId w = 0; w < wallets.row_count(); ++w) {
    if (wallets.IsLive(w) && wallets.GetEnum<WalletKind>(w, wallets::kind) == WalletKind::USER &&
        wallets.GetString(w, wallets::currency) == kDefaultCurrency) {
      ++coin_wallets[wallets.GetRef(w, wallets::user_id)];
    }
  }
  for (RowId u = 0; u < users.row_count(); ++u) {
    if (!users.IsLive(u)) continue;
    const std::string name(users.GetString(u, users::username));
    if (count(local_logins, u) != 1) fail(StrCat("user ", name, " has no single LOCAL login"));
    if (count(coin_wallets, u) != 1) fail(StrCat("user ", name, " has no single COIN wallet"));
    if (count(by_user, std::pair{AuditAction::USER_REGISTERED, u}) != 1) {
      fail(StrCat("user ", name, " has no single USER_REGISTERED audit row"));
    }
  }
  // Rooms: counters against participant rows, rows against audit rows.
  const Table& rooms = db.table(TableId::rooms);
  const Table& parts = db.table(TableId::room_participants);
  std::map<RowId, int64_t> rows_of, present_of, kicked_of;
  for (RowId p = 0; p < parts.row_count(); ++p) {
    if (!parts.IsLive(p)) continue;
    const RowId room = parts.GetRef(p, room_participants::room_id);
    ++rows_of[room];
    if (parts.IsNull(p, room_participants::left_at)) {
      ++present_of[room];
      if (parts.GetBool(p, room_participants::is_kicked)) {
        fail(StrCat("participant ", FormatUuid(parts.id(p)), " is kicked but present"));
      }
    }
    if (parts.GetBool(p, room_participants::is_kicked)) ++kicked_of[room];
  }
  for (RowId r = 0; r < rooms.row_count(); ++r) {
    if (!rooms.IsLive(r)) continue;
    const std::string code(rooms.GetString(r, rooms::room_code));
    const int64_t present = count(present_of, r), rows = count(rows_of, r);
    const auto status = rooms.GetEnum<RoomStatus>(r, rooms::status);
    if (rooms.GetInt(r, rooms::participant_count) != present) {
      fail(StrCat("room ", code, " counts ", rooms.GetInt(r, rooms::participant_count),
                  " participants; ", present, " rows are present"));
    }
    if (rooms.GetInt(r, rooms::total_joins) != rows) {
      fail(StrCat("room ", code, " counts ", rooms.GetInt(r, rooms::total_joins), " joins; it has ",
                  rows, " participant rows"));
    }
    if (rooms.GetInt(r, rooms::peak_participants) < present) {
      fail(StrCat("room ", code, "'s peak is below its present participants"));
    }
    if (status != RoomStatus::LIVE && present != 0) {
      fail(StrCat("room ", code, " is not LIVE but has ", present, " present participants"));
    }
    if (count(by_room, std::pair{AuditAction::USER_JOINED, r}) != rows) {
      fail(StrCat("room ", code, " has ", rows, " participant rows and ",
                  count(by_room, std::pair{AuditAction::USER_JOINED, r}),
                  " USER_JOINED audit rows"));
    }
    if (count(by_room, std::pair{AuditAction::ROOM_CREATED, r}) != 1) {
      fail(StrCat("room ", code, " has no single ROOM_CREATED audit row"));
    }
    if (count(by_room, std::pair{AuditAction::USER_KICKED, r}) != count(kicked_of, r)) {
      fail(StrCat("room ", code, " has ", count(kicked_of, r), " kicked participants and ",
                  count(by_room, std::pair{AuditAction::USER_KICKED, r}),
                  " USER_KICKED audit rows"));
    }
    if ((status == RoomStatus::ENDED) !=
        (count(by_room, std::pair{AuditAction::ROOM_ENDED, r}) == 1)) {
      fail(StrCat("room ", code, " is ", static_cast<int>(status), " with ",
                  count(by_room, std::pair{AuditAction::ROOM_ENDED, r}), " ROOM_ENDED audit rows"));
    }
  }
  // Transfers: a fee only under its gift, and one audit row per flow.
  const Table& txs = db.table(TableId::transactions);
  std::map<TransferType, int64_t> by_type;
  std::map<RowId, int64_t> fees_of;
  for (RowId t = 0; t < txs.row_count(); ++t) {
    if (!txs.IsLive(t)) continue;
    const auto type = txs.GetEnum<TransferType>(t, transactions::type);
    ++by_type[type];
    if (type == TransferType::FEE) {
      const RowId parent = txs.GetRef(t, transactions::parent_id);
      if (parent == kNoRow ||
          txs.GetEnum<TransferType>(parent, transactions::type) != TransferType::GIFT) {
        fail(StrCat("fee ", FormatUuid(txs.id(t)), " has no gift above it"));
      } else if (++fees_of[parent] > 1) {
        fail(StrCat("gift ", FormatUuid(txs.id(parent)), " has more than one fee"));
      }
    }
  }
  if (count(by_type, TransferType::GIFT) != count(by_action, AuditAction::GIFT_SENT)) {
    fail(StrCat(count(by_type, TransferType::GIFT), " gifts but ",
                count(by_action, AuditAction::GIFT_SENT), " GIFT_SENT audit rows"));
  }
  if (count(by_type, TransferType::TOP_UP) != count(by_action, AuditAction::WALLET_TOP_UP)) {
    fail(StrCat(count(by_type, TransferType::TOP_UP), " top-ups but ",
                count(by_action, AuditAction::WALLET_TOP_UP), " WALLET_TOP_UP audit rows"));
  }
  const Table& notes = db.table(TableId::notifications);
  int64_t gift_notes = 0;
  for (RowId n = 0; n < notes.row_count(); ++n) {
    gift_notes += notes.IsLive(n) && notes.GetEnum<NotificationKind>(n, notifications::kind) ==
                                         NotificationKind::GIFT_RECEIVED;
  }
  if (gift_notes != count(by_type, TransferType::GIFT)) {
    fail(StrCat(count(by_type, TransferType::GIFT), " gifts but ", gift_notes,
                " GIFT_RECEIVED notifications"));
  }
  return failures;
}

std::vector<std::pair<std::string, uint64_t>> LiveRows(const Database& db) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (size_t t = 0; t < kTableCount; ++t) {
    const Table& table = db.table(static_cast<TableId>(t));
    out.emplace_back(std::string(table.name()), table.live_count());
  }
  return out;
}

}  // namespace vox::crash
