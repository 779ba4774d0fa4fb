#include "engine/ops/ledger.h"

#include <algorithm>

#include "engine/internal/op_util.h"
#include "schema/str.h"

namespace vox {
namespace {

using internal::JsonString;
using internal::RefOrNull;
using internal::UserName;

constexpr Timestamp kMicrosPerDay = 86400 * kMicrosPerSecond;
constexpr int kMaxPageSize = 500;

const Table& Wallets(const Database& db) { return db.table(TableId::wallets); }
const Table& Transfers(const Database& db) { return db.table(TableId::transactions); }
const Table& Purchases(const Database& db) { return db.table(TableId::premium_purchases); }

// ---- Checks and names ---------------------------------------------------------

absl::Status CheckCurrency(std::string_view currency) {
  bool ok = !currency.empty() && currency.size() <= 8;
  for (char c : currency) ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      StrCat("currency '", currency, "' is not a code of 1-8 characters [A-Z0-9]"));
}

absl::Status CheckPositive(int64_t amount, std::string_view what) {
  if (amount > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat(what, " must be positive; got ", amount));
}

absl::Status CheckReason(std::string_view reason, std::string_view what) {
  if (!reason.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat(what, " needs a reason"));
}

// The transfer type in words, for messages: "the gift needs 100".
std::string_view Noun(TransferType type) {
  switch (type) {
    case TransferType::TOP_UP:
      return "top-up";
    case TransferType::GIFT:
      return "gift";
    case TransferType::FEE:
      return "fee";
    case TransferType::PURCHASE:
      return "purchase";
    case TransferType::REFUND:
      return "refund";
    case TransferType::PAYOUT:
      return "payout";
    case TransferType::CALL_CHARGE:
      return "call charge";
    case TransferType::REVERSAL:
      return "reversal";
  }
  return "transfer";
}

std::string TransferName(const Database& db, RowId t) {
  return StrCat("transfer ", FormatUuid(Transfers(db).id(t)));
}

std::string WalletName(const Database& db, RowId w) {
  const Table& wallets = Wallets(db);
  const RowId user = wallets.GetRef(w, wallets::user_id);
  if (user != kNoRow) return StrCat("wallet of ", UserName(db, user));
  return StrCat("the ", EnumName(EnumId::WalletKind, wallets.GetEnum<WalletKind>(w, wallets::kind)),
                " ", wallets.GetString(w, wallets::currency), " wallet");
}

std::optional<Uuid> IdOf(const Table& table, RowId r) {
  if (r == kNoRow) return std::nullopt;
  return table.id(r);
}

absl::StatusOr<RowId> ResolveRoom(const Database& db, const std::optional<Uuid>& room) {
  if (!room) return kNoRow;
  return internal::ResolveActive(db, TableId::rooms, *room, "room");
}

// ---- Wallets ------------------------------------------------------------------

// Adds and subtracts without undefined behaviour on overflow (a corrupt
// ledger must still be reportable).
void WrappingAdd(int64_t& sum, int64_t v) {
  sum = static_cast<int64_t>(static_cast<uint64_t>(sum) + static_cast<uint64_t>(v));
}
int64_t WrappingSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

struct Counters {
  int64_t posted_debits = 0, posted_credits = 0, pending_debits = 0, pending_credits = 0;

  int64_t balance() const { return WrappingSub(posted_credits, posted_debits); }
  int64_t available() const { return WrappingSub(balance(), pending_debits); }
  friend bool operator==(const Counters&, const Counters&) = default;
};

Counters StoredCounters(const Table& wallets, RowId w) {
  return {wallets.GetInt(w, wallets::posted_debits), wallets.GetInt(w, wallets::posted_credits),
          wallets.GetInt(w, wallets::pending_debits), wallets.GetInt(w, wallets::pending_credits)};
}

// Counts transfer `t` into the debit (or credit) side of `c`.
void CountTransfer(const Table& transfers, RowId t, bool debit, Counters& c) {
  const auto status = transfers.GetEnum<TransferStatus>(t, transactions::status);
  if (status == TransferStatus::VOIDED) return;
  const bool posted = status == TransferStatus::POSTED;
  int64_t& counter = debit ? (posted ? c.posted_debits : c.pending_debits)
                           : (posted ? c.posted_credits : c.pending_credits);
  WrappingAdd(counter, transfers.GetInt(t, transactions::amount));
}

// Wallet `w`'s counters recomputed from its ledger rows.
Counters LedgerCounters(const Database& db, RowId w) {
  const Table& transfers = Transfers(db);
  Counters c;
  db.range(IndexNo("transactions_by_debit_wallet")).ScanPrefix({int64_t{w}}, [&](RowId t) {
    CountTransfer(transfers, t, /*debit=*/true, c);
    return true;
  });
  db.range(IndexNo("transactions_by_credit_wallet")).ScanPrefix({int64_t{w}}, [&](RowId t) {
    CountTransfer(transfers, t, /*debit=*/false, c);
    return true;
  });
  return c;
}

RowId FindUserWallet(const Database& db, RowId user, std::string_view currency) {
  const Value key[] = {Value(user), Value(currency)};
  return db.hash(IndexNo("wallets_user_currency")).Find(key);
}

absl::StatusOr<RowId> RequireUserWallet(const Database& db, RowId user, std::string_view currency) {
  VOX_RETURN_IF_ERROR(CheckCurrency(currency));
  const RowId w = FindUserWallet(db, user, currency);
  if (w != kNoRow) return w;
  return absl::NotFoundError(StrCat(UserName(db, user), " has no ", currency, " wallet"));
}

RowId FindSystemWallet(const Database& db, WalletKind kind, std::string_view currency) {
  const Value key[] = {Value(kind), Value(currency)};
  return db.hash(IndexNo("wallets_system")).Find(key);
}

// The system wallet of `kind` in `currency`, created on first use. kNoRow
// with the error latched if the insert fails. `currency` must not view the
// wallets table's own strings.
RowId EnsureSystemWallet(Txn& txn, WalletKind kind, std::string_view currency) {
  VOX_DCHECK(kind != WalletKind::USER);
  const RowId w = FindSystemWallet(txn.db(), kind, currency);
  if (w != kNoRow) return w;
  return txn.Insert(TableId::wallets, {{wallets::kind, kind}, {wallets::currency, currency}});
}

absl::Status CheckNotFrozen(const Database& db, RowId w) {
  if (!Wallets(db).GetBool(w, wallets::is_frozen)) return absl::OkStatus();
  return absl::FailedPreconditionError(StrCat(WalletName(db, w), " is frozen"));
}

// Whether `w` can pay `amount` of a `type` transfer from its available coins.
absl::Status CheckFunds(const Database& db, RowId w, int64_t amount, TransferType type) {
  const Table& wallets = Wallets(db);
  if (wallets.GetEnum<WalletKind>(w, wallets::kind) == WalletKind::SYSTEM_ISSUANCE) {
    return absl::OkStatus();
  }
  const int64_t available = StoredCounters(wallets, w).available();
  if (available >= amount) return absl::OkStatus();
  return absl::FailedPreconditionError(StrCat(WalletName(db, w), " has ", available, " ",
                                              wallets.GetString(w, wallets::currency),
                                              " available; the ", Noun(type), " needs ", amount));
}

// Adds `delta` to one of wallet `w`'s counters.
absl::Status Bump(Txn& txn, RowId w, ColumnId counter, int64_t delta) {
  int64_t value;
  if (__builtin_add_overflow(txn.table(TableId::wallets).GetInt(w, counter), delta, &value) ||
      value < 0) {
    return absl::InvalidArgumentError(
        StrCat("moving ", delta, " would overflow the ", WalletName(txn.db(), w)));
  }
  txn.Set(TableId::wallets, w, counter, value);
  return txn.status();
}

// ---- Transfers ----------------------------------------------------------------

RowId FindByKey(const Database& db, std::string_view key) {
  if (key.empty()) return kNoRow;
  const Value probe[] = {Value(key)};
  return db.hash(IndexNo("transactions_idempotency_key")).Find(probe);
}

absl::Status KeyReused(std::string_view key) {
  return absl::AlreadyExistsError(
      StrCat("idempotency key '", key, "' was already used for a different transfer"));
}

std::string_view MemoOf(const Table& transfers, RowId t) {
  return transfers.IsNull(t, transactions::memo) ? std::string_view()
                                                 : transfers.GetString(t, transactions::memo);
}

// Audit metadata for transfer `t`; `extra` is appended inside the object.
std::string TransferJson(const Database& db, RowId t, std::string_view extra = {}) {
  const Table& transfers = Transfers(db);
  return StrCat(
      "{\"transfer_id\":\"", FormatUuid(transfers.id(t)), "\",\"type\":\"",
      EnumName(EnumId::TransferType, transfers.GetEnum<TransferType>(t, transactions::type)),
      "\",\"amount\":", transfers.GetInt(t, transactions::amount),
      ",\"currency\":", JsonString(transfers.GetString(t, transactions::currency)), extra, "}");
}

RowId DebitWallet(const Database& db, RowId t) {
  return Transfers(db).GetRef(t, transactions::debit_wallet_id);
}
RowId CreditWallet(const Database& db, RowId t) {
  return Transfers(db).GetRef(t, transactions::credit_wallet_id);
}
// The user owning wallet `w`; kNoRow for a system wallet.
RowId OwnerOf(const Database& db, RowId w) { return Wallets(db).GetRef(w, wallets::user_id); }

// The FEE transfer charged with `gift` (same debit wallet and instant), or kNoRow.
RowId FindFee(const Database& db, RowId gift) {
  const Table& transfers = Transfers(db);
  RowId fee = kNoRow;
  db.range(IndexNo("transactions_by_debit_wallet"))
      .ScanPrefix(
          {int64_t{DebitWallet(db, gift)}, transfers.GetTime(gift, transactions::created_at)},
          [&](RowId t) {
            if (transfers.GetRef(t, transactions::parent_id) != gift) return true;
            fee = t;
            return false;
          });
  return fee;
}

absl::StatusOr<RowId> ResolvePending(const Database& db, const Uuid& id, std::string_view verb) {
  VOX_ASSIGN_OR_RETURN(RowId t, internal::Resolve(db, TableId::transactions, id, "transfer"));
  const auto status = Transfers(db).GetEnum<TransferStatus>(t, transactions::status);
  if (status == TransferStatus::PENDING) return t;
  return absl::FailedPreconditionError(StrCat("transfer ", FormatUuid(id), " is ",
                                              EnumName(EnumId::TransferStatus, status),
                                              "; only a PENDING transfer can be ", verb));
}

// Releases pending transfer `t`'s hold and marks it VOIDED.
absl::Status VoidPending(Txn& txn, const OpContext& ctx, RowId t, std::string_view why) {
  const Database& db = txn.db();
  const int64_t amount = Transfers(db).GetInt(t, transactions::amount);
  const RowId debit = DebitWallet(db, t);
  VOX_RETURN_IF_ERROR(Bump(txn, debit, wallets::pending_debits, -amount));
  VOX_RETURN_IF_ERROR(Bump(txn, CreditWallet(db, t), wallets::pending_credits, -amount));
  txn.Set(TableId::transactions, t, transactions::status, TransferStatus::VOIDED);
  txn.Set(TableId::transactions, t, transactions::voided_at, ctx.now);
  internal::Audit(txn, ctx, AuditAction::TRANSFER_VOIDED, OwnerOf(db, debit),
                  Transfers(db).GetRef(t, transactions::room_id), kNoRow,
                  TransferJson(db, t, StrCat(",\"reason\":", JsonString(why))));
  return txn.status();
}

// ---- Premium ------------------------------------------------------------------

// `user`'s ACTIVE purchase of `feature`, or kNoRow.
RowId FindActivePurchase(const Database& db, RowId user, RowId feature) {
  const Table& purchases = Purchases(db);
  RowId found = kNoRow;
  db.range(IndexNo("premium_purchases_by_user")).ScanPrefix({int64_t{user}}, [&](RowId p) {
    if (purchases.GetRef(p, premium_purchases::feature_id) != feature ||
        purchases.GetEnum<PurchaseStatus>(p, premium_purchases::status) != PurchaseStatus::ACTIVE) {
      return true;
    }
    found = p;
    return false;
  });
  return found;
}

// `user`'s purchase paid by transfer `t`, or kNoRow.
RowId FindPurchaseByTransfer(const Database& db, RowId user, RowId t) {
  const Table& purchases = Purchases(db);
  RowId found = kNoRow;
  db.range(IndexNo("premium_purchases_by_user")).ScanPrefix({int64_t{user}}, [&](RowId p) {
    if (purchases.GetRef(p, premium_purchases::transaction_id) != t) return true;
    found = p;
    return false;
  });
  return found;
}

PurchaseResult PurchaseResultOf(const Database& db, RowId p, bool already_done) {
  const Table& purchases = Purchases(db);
  PurchaseResult result{
      .purchase_id = purchases.id(p),
      .transfer_id = Transfers(db).id(purchases.GetRef(p, premium_purchases::transaction_id)),
      .already_done = already_done};
  if (!purchases.IsNull(p, premium_purchases::expires_at)) {
    result.expires_at = purchases.GetTime(p, premium_purchases::expires_at);
  }
  return result;
}

// ---- Reads --------------------------------------------------------------------

WalletBalance BalanceOf(const Database& db, RowId w) {
  const Table& wallets = Wallets(db);
  const Counters stored = StoredCounters(wallets, w);
  return {.wallet_id = wallets.id(w),
          .posted_debits = stored.posted_debits,
          .posted_credits = stored.posted_credits,
          .pending_debits = stored.pending_debits,
          .pending_credits = stored.pending_credits,
          .balance = stored.balance(),
          .available = stored.available(),
          .is_frozen = wallets.GetBool(w, wallets::is_frozen),
          .ledger_consistent = stored == LedgerCounters(db, w)};
}

std::string MismatchDetail(const Counters& stored, const Counters& ledger) {
  std::string out;
  auto add = [&](std::string_view name, int64_t s, int64_t l) {
    if (s == l) return;
    if (!out.empty()) out += "; ";
    out += StrCat(name, " is ", s, ", the ledger says ", l);
  };
  add("posted_debits", stored.posted_debits, ledger.posted_debits);
  add("posted_credits", stored.posted_credits, ledger.posted_credits);
  add("pending_debits", stored.pending_debits, ledger.pending_debits);
  add("pending_credits", stored.pending_credits, ledger.pending_credits);
  return out;
}

// One wallet's transfers in one of the two wallet indexes, in index order:
// newest first (created_at descending, then row descending).
class WalletScan {
 public:
  WalletScan(const GroupedTableIndex& index, RowId wallet)
      : index_(index), entries_(index.Group(wallet)), pos_(entries_.size()) {}
  // Moves to the first transfer after `cursor` (any transfer) in index order.
  void SeekAfter(RowId cursor) {
    pos_ = std::lower_bound(entries_.begin(), entries_.end(), index_.EntryOf(cursor)) -
           entries_.begin();
  }
  bool done() const { return pos_ == 0; }
  RowId row() const { return entries_[pos_ - 1].row; }
  void Next() { --pos_; }

 private:
  const GroupedTableIndex& index_;
  std::span<const GroupEntry> entries_;
  size_t pos_;  // entries_[pos_ - 1] is the current one
};

TransferView ViewOf(const Database& db, RowId t, RowId wallet) {
  const Table& transfers = Transfers(db);
  const Table& wallets = Wallets(db);
  const bool outgoing = DebitWallet(db, t) == wallet;
  const RowId other = outgoing ? CreditWallet(db, t) : DebitWallet(db, t);
  return {.id = transfers.id(t),
          .type = transfers.GetEnum<TransferType>(t, transactions::type),
          .status = transfers.GetEnum<TransferStatus>(t, transactions::status),
          .amount = transfers.GetInt(t, transactions::amount),
          .outgoing = outgoing,
          .counterparty_kind = wallets.GetEnum<WalletKind>(other, wallets::kind),
          .counterparty_user = IdOf(db.table(TableId::users), OwnerOf(db, other)),
          .room_id = IdOf(db.table(TableId::rooms), transfers.GetRef(t, transactions::room_id)),
          .parent_id = IdOf(transfers, transfers.GetRef(t, transactions::parent_id)),
          .reverses_id = IdOf(transfers, transfers.GetRef(t, transactions::reverses_id)),
          .memo = std::string(MemoOf(transfers, t)),
          .created_at = transfers.GetTime(t, transactions::created_at)};
}

}  // namespace

// ---- Building blocks ----------------------------------------------------------

RowId InsertUserWallet(Txn& txn, RowId user, std::string_view currency) {
  if (absl::Status s = CheckCurrency(currency); !s.ok()) {
    txn.Fail(std::move(s));
    return kNoRow;
  }
  if (txn.ok() && FindUserWallet(txn.db(), user, currency) != kNoRow) {
    txn.Fail(absl::AlreadyExistsError(
        StrCat(UserName(txn.db(), user), " already has a ", currency, " wallet")));
    return kNoRow;
  }
  return txn.Insert(
      TableId::wallets,
      {{wallets::user_id, user}, {wallets::kind, WalletKind::USER}, {wallets::currency, currency}});
}

absl::StatusOr<RowId> InsertTransfer(Txn& txn, const TransferSpec& spec) {
  VOX_RETURN_IF_ERROR(txn.status());
  const Database& db = txn.db();
  const Table& wallets = Wallets(db);
  VOX_DCHECK(wallets.IsLive(spec.debit_wallet) && wallets.IsLive(spec.credit_wallet));
  VOX_DCHECK(spec.status != TransferStatus::VOIDED);
  VOX_RETURN_IF_ERROR(CheckPositive(spec.amount, StrCat("the ", Noun(spec.type), " amount")));
  if (spec.debit_wallet == spec.credit_wallet) {
    return absl::InvalidArgumentError(StrCat("a ", Noun(spec.type), " must move coins between ",
                                             "two wallets; both sides are the ",
                                             WalletName(db, spec.debit_wallet)));
  }
  const std::string_view currency = wallets.GetString(spec.debit_wallet, wallets::currency);
  const std::string_view credit_currency = wallets.GetString(spec.credit_wallet, wallets::currency);
  if (currency != credit_currency) {
    return absl::InvalidArgumentError(StrCat("a ", Noun(spec.type), " cannot move ", currency,
                                             " from the ", WalletName(db, spec.debit_wallet),
                                             " into the ", WalletName(db, spec.credit_wallet),
                                             ", which holds ", credit_currency));
  }
  VOX_RETURN_IF_ERROR(CheckNotFrozen(db, spec.debit_wallet));
  VOX_RETURN_IF_ERROR(CheckNotFrozen(db, spec.credit_wallet));
  VOX_RETURN_IF_ERROR(CheckFunds(db, spec.debit_wallet, spec.amount, spec.type));
  const bool posted = spec.status == TransferStatus::POSTED;
  const ColumnValue values[] = {
      {transactions::debit_wallet_id, spec.debit_wallet},
      {transactions::credit_wallet_id, spec.credit_wallet},
      {transactions::amount, spec.amount},
      {transactions::currency, currency},
      {transactions::type, spec.type},
      {transactions::status, spec.status},
      {transactions::idempotency_key,
       spec.idempotency_key.empty() ? Value() : Value(spec.idempotency_key)},
      {transactions::parent_id, RefOrNull(spec.parent)},
      {transactions::reverses_id, RefOrNull(spec.reverses)},
      {transactions::room_id, RefOrNull(spec.room)},
      {transactions::memo, spec.memo.empty() ? Value() : Value(spec.memo)},
      {transactions::timeout_at, spec.timeout_at ? Value(*spec.timeout_at) : Value()},
      {transactions::posted_at, posted ? Value(txn.now()) : Value()},
  };
  const RowId t = txn.Insert(TableId::transactions, values);
  VOX_RETURN_IF_ERROR(txn.status());
  VOX_RETURN_IF_ERROR(Bump(txn, spec.debit_wallet,
                           posted ? wallets::posted_debits : wallets::pending_debits, spec.amount));
  VOX_RETURN_IF_ERROR(Bump(txn, spec.credit_wallet,
                           posted ? wallets::posted_credits : wallets::pending_credits,
                           spec.amount));
  return t;
}

int64_t FeeFor(const Database& db, TransferType type, int64_t amount, Timestamp now) {
  if (amount <= 0) return 0;
  const Table& fees = db.table(TableId::fee_schedule);
  RowId best = kNoRow;
  Timestamp best_from = 0;
  // Newest effective_from first; among equal ones, the row set last wins.
  db.range(IndexNo("fee_schedule_by_type")).ScanPrefix({static_cast<int64_t>(type)}, [&](RowId r) {
    const Timestamp from = fees.GetTime(r, fee_schedule::effective_from);
    if (from > now) return true;  // not yet in force
    if (best != kNoRow && from < best_from) return false;
    if (best == kNoRow || r > best) best = r;
    best_from = from;
    return true;
  });
  if (best == kNoRow) return 0;
  const int64_t bps = fees.GetInt(best, fee_schedule::fee_bps);
  const int64_t share = amount / 10000 * bps + amount % 10000 * bps / 10000;
  return std::min(std::max(fees.GetInt(best, fee_schedule::min_fee), share), amount);
}

// ---- Wallets ------------------------------------------------------------------

absl::StatusOr<Uuid> CreateWallet(Database& db, const OpContext& ctx, const Uuid& user_id,
                                  std::string_view currency) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActive(db, TableId::users, user_id, "user"));
    const RowId w = InsertUserWallet(txn, user, currency);
    VOX_RETURN_IF_ERROR(txn.status());
    return Wallets(db).id(w);
  });
}

// ---- Transfers ----------------------------------------------------------------

absl::StatusOr<TransferResult> TopUp(Database& db, const OpContext& ctx, const TopUpRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<TransferResult> {
    VOX_RETURN_IF_ERROR(CheckPositive(req.amount, "the top-up amount"));
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActingUser(db, req.user_id));
    VOX_ASSIGN_OR_RETURN(RowId wallet, RequireUserWallet(db, user, req.currency));
    const Table& transfers = Transfers(db);
    if (const RowId done = FindByKey(db, req.idempotency_key); done != kNoRow) {
      if (transfers.GetEnum<TransferType>(done, transactions::type) != TransferType::TOP_UP ||
          CreditWallet(db, done) != wallet ||
          transfers.GetInt(done, transactions::amount) != req.amount ||
          MemoOf(transfers, done) != req.memo) {
        return KeyReused(req.idempotency_key);
      }
      return TransferResult{transfers.id(done), /*already_done=*/true};
    }
    const RowId issuance = EnsureSystemWallet(txn, WalletKind::SYSTEM_ISSUANCE, req.currency);
    VOX_ASSIGN_OR_RETURN(RowId t, InsertTransfer(txn, {.debit_wallet = issuance,
                                                       .credit_wallet = wallet,
                                                       .amount = req.amount,
                                                       .type = TransferType::TOP_UP,
                                                       .idempotency_key = req.idempotency_key,
                                                       .memo = req.memo}));
    internal::Audit(txn, ctx, AuditAction::WALLET_TOP_UP, user, kNoRow, kNoRow,
                    TransferJson(db, t));
    return TransferResult{transfers.id(t)};
  });
}

namespace {

// Whether gift `done` (found by idempotency key) is the one `req` asks for.
bool SameGift(const Database& db, RowId done, RowId sender_wallet, RowId receiver_wallet,
              RowId room, int64_t amount) {
  const Table& transfers = Transfers(db);
  if (transfers.GetEnum<TransferType>(done, transactions::type) != TransferType::GIFT ||
      DebitWallet(db, done) != sender_wallet || CreditWallet(db, done) != receiver_wallet ||
      transfers.GetRef(done, transactions::room_id) != room) {
    return false;
  }
  const RowId fee = FindFee(db, done);
  const int64_t fee_amount = fee == kNoRow ? 0 : transfers.GetInt(fee, transactions::amount);
  return transfers.GetInt(done, transactions::amount) + fee_amount == amount;
}

GiftResult GiftResultOf(const Database& db, RowId gift, bool already_done) {
  const Table& transfers = Transfers(db);
  const RowId fee = FindFee(db, gift);
  return {.gift_id = transfers.id(gift),
          .fee_id = IdOf(transfers, fee),
          .fee = fee == kNoRow ? 0 : transfers.GetInt(fee, transactions::amount),
          .already_done = already_done};
}

void NotifyGift(Txn& txn, RowId sender, RowId receiver, RowId room, RowId gift) {
  const Database& db = txn.db();
  const Table& transfers = Transfers(db);
  const std::string title = StrCat(db.table(TableId::users).GetString(sender, users::username),
                                   " sent you ", transfers.GetInt(gift, transactions::amount), " ",
                                   transfers.GetString(gift, transactions::currency));
  const std::string payload = StrCat("{\"transfer_id\":\"", FormatUuid(transfers.id(gift)), "\"}");
  txn.Insert(TableId::notifications, {{notifications::recipient_id, receiver},
                                      {notifications::kind, NotificationKind::GIFT_RECEIVED},
                                      {notifications::actor_id, sender},
                                      {notifications::room_id, RefOrNull(room)},
                                      {notifications::title, title},
                                      {notifications::payload, payload}});
}

}  // namespace

absl::StatusOr<GiftResult> Gift(Database& db, const OpContext& ctx, const GiftRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<GiftResult> {
    VOX_RETURN_IF_ERROR(CheckPositive(req.amount, "the gift amount"));
    VOX_ASSIGN_OR_RETURN(RowId sender, internal::ResolveActingUser(db, req.sender_id));
    VOX_ASSIGN_OR_RETURN(RowId receiver,
                         internal::ResolveActive(db, TableId::users, req.receiver_id, "user"));
    if (sender == receiver) {
      return absl::InvalidArgumentError(
          StrCat(UserName(db, sender), " cannot send a gift to themselves"));
    }
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, req.room_id));
    VOX_ASSIGN_OR_RETURN(RowId from, RequireUserWallet(db, sender, req.currency));
    VOX_ASSIGN_OR_RETURN(RowId to, RequireUserWallet(db, receiver, req.currency));
    if (const RowId done = FindByKey(db, req.idempotency_key); done != kNoRow) {
      if (!SameGift(db, done, from, to, room, req.amount)) return KeyReused(req.idempotency_key);
      return GiftResultOf(db, done, /*already_done=*/true);
    }
    const int64_t fee = FeeFor(db, TransferType::GIFT, req.amount, ctx.now);
    if (fee >= req.amount) {
      return absl::InvalidArgumentError(StrCat("a gift of ", req.amount, " ", req.currency,
                                               " does not cover its fee of ", fee, " ",
                                               req.currency));
    }
    VOX_RETURN_IF_ERROR(CheckNotFrozen(db, from));
    VOX_RETURN_IF_ERROR(CheckNotFrozen(db, to));
    VOX_RETURN_IF_ERROR(CheckFunds(db, from, req.amount, TransferType::GIFT));
    VOX_ASSIGN_OR_RETURN(RowId gift, InsertTransfer(txn, {.debit_wallet = from,
                                                          .credit_wallet = to,
                                                          .amount = req.amount - fee,
                                                          .type = TransferType::GIFT,
                                                          .idempotency_key = req.idempotency_key,
                                                          .room = room}));
    if (fee > 0) {
      const RowId revenue = EnsureSystemWallet(txn, WalletKind::SYSTEM_REVENUE, req.currency);
      VOX_RETURN_IF_ERROR(InsertTransfer(txn, {.debit_wallet = from,
                                               .credit_wallet = revenue,
                                               .amount = fee,
                                               .type = TransferType::FEE,
                                               .parent = gift,
                                               .room = room})
                              .status());
    }
    NotifyGift(txn, sender, receiver, room, gift);
    internal::Audit(txn, ctx, AuditAction::GIFT_SENT, sender, room, receiver,
                    TransferJson(db, gift, StrCat(",\"fee\":", fee)));
    VOX_RETURN_IF_ERROR(txn.status());
    return GiftResultOf(db, gift, /*already_done=*/false);
  });
}

// ---- Call billing -------------------------------------------------------------

absl::StatusOr<TransferResult> Reserve(Database& db, const OpContext& ctx,
                                       const ReserveRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<TransferResult> {
    VOX_RETURN_IF_ERROR(CheckPositive(req.amount, "the reserved amount"));
    if (req.timeout_at <= ctx.now) {
      return absl::InvalidArgumentError(
          StrCat("a reservation's timeout_at (", FormatTimestamp(req.timeout_at),
                 ") must be after now (", FormatTimestamp(ctx.now), ")"));
    }
    VOX_ASSIGN_OR_RETURN(RowId payer, internal::ResolveActingUser(db, req.payer_id));
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, req.room_id));
    VOX_ASSIGN_OR_RETURN(RowId wallet, RequireUserWallet(db, payer, req.currency));
    const Table& transfers = Transfers(db);
    if (const RowId done = FindByKey(db, req.idempotency_key); done != kNoRow) {
      const int64_t amount = transfers.GetInt(done, transactions::amount);
      const bool posted =
          transfers.GetEnum<TransferStatus>(done, transactions::status) == TransferStatus::POSTED;
      if (transfers.GetEnum<TransferType>(done, transactions::type) != TransferType::CALL_CHARGE ||
          DebitWallet(db, done) != wallet ||
          transfers.GetRef(done, transactions::room_id) != room ||
          transfers.GetTime(done, transactions::timeout_at) != req.timeout_at ||
          !(amount == req.amount || (posted && amount < req.amount))) {
        return KeyReused(req.idempotency_key);
      }
      return TransferResult{transfers.id(done), /*already_done=*/true};
    }
    const RowId revenue = EnsureSystemWallet(txn, WalletKind::SYSTEM_REVENUE, req.currency);
    VOX_ASSIGN_OR_RETURN(RowId t, InsertTransfer(txn, {.debit_wallet = wallet,
                                                       .credit_wallet = revenue,
                                                       .amount = req.amount,
                                                       .type = TransferType::CALL_CHARGE,
                                                       .status = TransferStatus::PENDING,
                                                       .idempotency_key = req.idempotency_key,
                                                       .room = room,
                                                       .timeout_at = req.timeout_at}));
    internal::Audit(txn, ctx, AuditAction::TRANSFER_RESERVED, payer, room, kNoRow,
                    TransferJson(db, t));
    return TransferResult{transfers.id(t)};
  });
}

absl::Status PostReservation(Database& db, const OpContext& ctx, const Uuid& transfer_id,
                             int64_t final_amount) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId t, ResolvePending(db, transfer_id, "posted"));
    const int64_t reserved = Transfers(db).GetInt(t, transactions::amount);
    if (final_amount <= 0 || final_amount > reserved) {
      return absl::InvalidArgumentError(
          StrCat("the final amount of ", TransferName(db, t), " must be 1..", reserved,
                 " (what was reserved); got ", final_amount, ". To charge nothing, void it"));
    }
    const RowId debit = DebitWallet(db, t), credit = CreditWallet(db, t);
    VOX_RETURN_IF_ERROR(CheckNotFrozen(db, debit));
    VOX_RETURN_IF_ERROR(CheckNotFrozen(db, credit));
    VOX_RETURN_IF_ERROR(Bump(txn, debit, wallets::pending_debits, -reserved));
    VOX_RETURN_IF_ERROR(Bump(txn, debit, wallets::posted_debits, final_amount));
    VOX_RETURN_IF_ERROR(Bump(txn, credit, wallets::pending_credits, -reserved));
    VOX_RETURN_IF_ERROR(Bump(txn, credit, wallets::posted_credits, final_amount));
    txn.Set(TableId::transactions, t, transactions::amount, final_amount);
    txn.Set(TableId::transactions, t, transactions::status, TransferStatus::POSTED);
    txn.Set(TableId::transactions, t, transactions::posted_at, ctx.now);
    internal::Audit(txn, ctx, AuditAction::TRANSFER_POSTED, OwnerOf(db, debit),
                    Transfers(db).GetRef(t, transactions::room_id), kNoRow,
                    TransferJson(db, t, StrCat(",\"reserved\":", reserved)));
    return txn.status();
  });
}

absl::Status VoidReservation(Database& db, const OpContext& ctx, const Uuid& transfer_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId t, ResolvePending(db, transfer_id, "voided"));
    return VoidPending(txn, ctx, t, "voided");
  });
}

// ---- Corrections --------------------------------------------------------------

absl::StatusOr<Uuid> Reverse(Database& db, const OpContext& ctx, const Uuid& transfer_id,
                             std::string_view reason) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    VOX_RETURN_IF_ERROR(CheckReason(reason, "a reversal"));
    VOX_ASSIGN_OR_RETURN(RowId t,
                         internal::Resolve(db, TableId::transactions, transfer_id, "transfer"));
    const Table& transfers = Transfers(db);
    const auto status = transfers.GetEnum<TransferStatus>(t, transactions::status);
    const auto type = transfers.GetEnum<TransferType>(t, transactions::type);
    if (status != TransferStatus::POSTED) {
      return absl::FailedPreconditionError(StrCat(TransferName(db, t), " is ",
                                                  EnumName(EnumId::TransferStatus, status),
                                                  "; only a POSTED transfer can be reversed"));
    }
    if (type == TransferType::PURCHASE) {
      return absl::FailedPreconditionError(
          StrCat(TransferName(db, t), " pays for a premium purchase; refund the purchase"));
    }
    if (type == TransferType::REVERSAL || type == TransferType::REFUND) {
      return absl::FailedPreconditionError(
          StrCat(TransferName(db, t), " is a ", Noun(type), "; corrections are not reversed"));
    }
    const Value key[] = {Value(t)};
    if (const RowId r = db.hash(IndexNo("transactions_reversal_of")).Find(key); r != kNoRow) {
      return absl::FailedPreconditionError(
          StrCat(TransferName(db, t), " was already reversed by ", TransferName(db, r)));
    }
    const RowId debit = DebitWallet(db, t), credit = CreditWallet(db, t);
    VOX_ASSIGN_OR_RETURN(RowId r,
                         InsertTransfer(txn, {.debit_wallet = credit,
                                              .credit_wallet = debit,
                                              .amount = transfers.GetInt(t, transactions::amount),
                                              .type = TransferType::REVERSAL,
                                              .reverses = t,
                                              .room = transfers.GetRef(t, transactions::room_id),
                                              .memo = reason}));
    internal::Audit(txn, ctx, AuditAction::TRANSFER_REVERSED, OwnerOf(db, debit),
                    transfers.GetRef(t, transactions::room_id), OwnerOf(db, credit),
                    TransferJson(db, r,
                                 StrCat(",\"reverses_id\":\"", FormatUuid(transfers.id(t)),
                                        "\",\"reason\":", JsonString(reason))));
    return transfers.id(r);
  });
}

// ---- Fees and premium features --------------------------------------------------

absl::StatusOr<Uuid> SetFee(Database& db, const OpContext& ctx, const FeeScheduleEntry& entry) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    if (entry.fee_bps < 0 || entry.fee_bps > 10000) {
      return absl::InvalidArgumentError(
          StrCat("fee_bps must be 0..10000 (basis points); got ", entry.fee_bps));
    }
    if (entry.min_fee < 0) {
      return absl::InvalidArgumentError(StrCat("min_fee must be 0 or more; got ", entry.min_fee));
    }
    const RowId r =
        txn.Insert(TableId::fee_schedule, {{fee_schedule::transfer_type, entry.transfer_type},
                                           {fee_schedule::fee_bps, entry.fee_bps},
                                           {fee_schedule::min_fee, entry.min_fee},
                                           {fee_schedule::effective_from, entry.effective_from}});
    VOX_RETURN_IF_ERROR(txn.status());
    return db.table(TableId::fee_schedule).id(r);
  });
}

namespace {

absl::Status CheckFeatureSpec(const Database& db, const PremiumFeatureSpec& spec) {
  if (spec.code.empty() || spec.name.empty()) {
    return absl::InvalidArgumentError("a premium feature needs a code and a name");
  }
  VOX_RETURN_IF_ERROR(CheckPositive(spec.price, StrCat("the price of '", spec.code, "'")));
  VOX_RETURN_IF_ERROR(CheckCurrency(spec.currency));
  const bool subscription = spec.kind == PremiumKind::SUBSCRIPTION;
  if (subscription != spec.period_days.has_value()) {
    return absl::InvalidArgumentError(
        StrCat("premium feature '", spec.code, "': period_days is ",
               subscription ? "required for a SUBSCRIPTION" : "only for a SUBSCRIPTION"));
  }
  const Value key[] = {Value(spec.code)};
  if (db.hash(IndexNo("premium_features_code")).Find(key) != kNoRow) {
    return absl::AlreadyExistsError(StrCat("premium feature '", spec.code, "' already exists"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Uuid> CreatePremiumFeature(Database& db, const OpContext& ctx,
                                          const PremiumFeatureSpec& spec) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    VOX_RETURN_IF_ERROR(CheckFeatureSpec(db, spec));
    const RowId f = txn.Insert(
        TableId::premium_features,
        {{premium_features::code, spec.code},
         {premium_features::name, spec.name},
         {premium_features::description,
          spec.description.empty() ? Value() : Value(spec.description)},
         {premium_features::price, spec.price},
         {premium_features::currency, spec.currency},
         {premium_features::kind, spec.kind},
         {premium_features::period_days, spec.period_days ? Value(*spec.period_days) : Value()}});
    VOX_RETURN_IF_ERROR(txn.status());
    return db.table(TableId::premium_features).id(f);
  });
}

absl::StatusOr<PurchaseResult> PurchasePremium(Database& db, const OpContext& ctx,
                                               const PurchaseRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<PurchaseResult> {
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActingUser(db, req.user_id));
    const Table& features = db.table(TableId::premium_features);
    const Value code[] = {Value(req.feature_code)};
    const RowId f = db.hash(IndexNo("premium_features_code")).Find(code);
    if (f == kNoRow) {
      return absl::NotFoundError(StrCat("premium feature '", req.feature_code, "' not found"));
    }
    const std::string_view currency = features.GetString(f, premium_features::currency);
    VOX_ASSIGN_OR_RETURN(RowId wallet, RequireUserWallet(db, user, currency));
    if (const RowId done = FindByKey(db, req.idempotency_key); done != kNoRow) {
      const RowId p = FindPurchaseByTransfer(db, user, done);
      if (p == kNoRow || Purchases(db).GetRef(p, premium_purchases::feature_id) != f) {
        return KeyReused(req.idempotency_key);
      }
      return PurchaseResultOf(db, p, /*already_done=*/true);
    }
    if (!features.GetBool(f, premium_features::is_active)) {
      return absl::FailedPreconditionError(
          StrCat("premium feature '", req.feature_code, "' is not on sale"));
    }
    const bool subscription =
        features.GetEnum<PremiumKind>(f, premium_features::kind) == PremiumKind::SUBSCRIPTION;
    if (const RowId active = FindActivePurchase(db, user, f); subscription && active != kNoRow) {
      const Timestamp until = Purchases(db).GetTime(active, premium_purchases::expires_at);
      if (until > ctx.now) {
        return absl::FailedPreconditionError(
            StrCat(UserName(db, user), " already has an active subscription to '", req.feature_code,
                   "' until ", FormatTimestamp(until)));
      }
      // Its time has passed; ExpireSubscriptions has not run yet.
      txn.Set(TableId::premium_purchases, active, premium_purchases::status,
              PurchaseStatus::EXPIRED);
    }
    const int64_t price = features.GetInt(f, premium_features::price);
    const RowId revenue = EnsureSystemWallet(txn, WalletKind::SYSTEM_REVENUE, currency);
    VOX_ASSIGN_OR_RETURN(RowId t, InsertTransfer(txn, {.debit_wallet = wallet,
                                                       .credit_wallet = revenue,
                                                       .amount = price,
                                                       .type = TransferType::PURCHASE,
                                                       .idempotency_key = req.idempotency_key,
                                                       .memo = req.feature_code}));
    const Value expires_at =
        subscription
            ? Value(ctx.now + features.GetInt(f, premium_features::period_days) * kMicrosPerDay)
            : Value();
    const RowId p =
        txn.Insert(TableId::premium_purchases, {{premium_purchases::user_id, user},
                                                {premium_purchases::feature_id, f},
                                                {premium_purchases::transaction_id, t},
                                                {premium_purchases::status, PurchaseStatus::ACTIVE},
                                                {premium_purchases::price, price},
                                                {premium_purchases::expires_at, expires_at}});
    VOX_RETURN_IF_ERROR(txn.status());
    internal::Audit(txn, ctx, AuditAction::PREMIUM_PURCHASED, user, kNoRow, kNoRow,
                    TransferJson(db, t,
                                 StrCat(",\"purchase_id\":\"", FormatUuid(Purchases(db).id(p)),
                                        "\",\"feature\":", JsonString(req.feature_code))));
    return PurchaseResultOf(db, p, /*already_done=*/false);
  });
}

absl::StatusOr<Uuid> RefundPurchase(Database& db, const OpContext& ctx, const Uuid& purchase_id,
                                    std::string_view reason) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    VOX_RETURN_IF_ERROR(CheckReason(reason, "a refund"));
    VOX_ASSIGN_OR_RETURN(RowId p, internal::Resolve(db, TableId::premium_purchases, purchase_id,
                                                    "premium purchase"));
    const Table& purchases = Purchases(db);
    if (purchases.GetEnum<PurchaseStatus>(p, premium_purchases::status) ==
        PurchaseStatus::REFUNDED) {
      return absl::FailedPreconditionError(
          StrCat("premium purchase ", FormatUuid(purchase_id), " is already refunded"));
    }
    const RowId paid = purchases.GetRef(p, premium_purchases::transaction_id);
    const RowId user = purchases.GetRef(p, premium_purchases::user_id);
    VOX_ASSIGN_OR_RETURN(
        RowId refund,
        InsertTransfer(txn, {.debit_wallet = CreditWallet(db, paid),
                             .credit_wallet = DebitWallet(db, paid),
                             .amount = Transfers(db).GetInt(paid, transactions::amount),
                             .type = TransferType::REFUND,
                             .reverses = paid,
                             .memo = reason}));
    txn.Set(TableId::premium_purchases, p, premium_purchases::status, PurchaseStatus::REFUNDED);
    txn.Set(TableId::premium_purchases, p, premium_purchases::refunded_at, ctx.now);
    txn.Set(TableId::premium_purchases, p, premium_purchases::refund_transaction_id, refund);
    internal::Audit(txn, ctx, AuditAction::PREMIUM_REFUNDED, user, kNoRow, kNoRow,
                    TransferJson(db, refund,
                                 StrCat(",\"purchase_id\":\"", FormatUuid(purchase_id),
                                        "\",\"reason\":", JsonString(reason))));
    VOX_RETURN_IF_ERROR(txn.status());
    return Transfers(db).id(refund);
  });
}

absl::Status CancelSubscription(Database& db, const OpContext& ctx, const Uuid& purchase_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId p, internal::Resolve(db, TableId::premium_purchases, purchase_id,
                                                    "premium purchase"));
    const Table& purchases = Purchases(db);
    const auto status = purchases.GetEnum<PurchaseStatus>(p, premium_purchases::status);
    const RowId f = purchases.GetRef(p, premium_purchases::feature_id);
    if (db.table(TableId::premium_features).GetEnum<PremiumKind>(f, premium_features::kind) !=
        PremiumKind::SUBSCRIPTION) {
      return absl::FailedPreconditionError(
          StrCat("premium purchase ", FormatUuid(purchase_id), " is not a subscription"));
    }
    if (status != PurchaseStatus::ACTIVE) {
      return absl::FailedPreconditionError(StrCat("subscription ", FormatUuid(purchase_id), " is ",
                                                  EnumName(EnumId::PurchaseStatus, status),
                                                  "; only an ACTIVE one can be cancelled"));
    }
    txn.Set(TableId::premium_purchases, p, premium_purchases::status, PurchaseStatus::CANCELLED);
    txn.Set(TableId::premium_purchases, p, premium_purchases::cancelled_at, ctx.now);
    return txn.status();
  });
}

// ---- Time-based work ----------------------------------------------------------

absl::StatusOr<int> VoidExpiredReservations(Database& db, const OpContext& ctx) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<int> {
    const Table& transfers = Transfers(db);
    std::vector<RowId> due;
    db.range(IndexNo("transactions_pending_timeout")).ScanPrefix({}, [&](RowId t) {
      if (transfers.GetTime(t, transactions::timeout_at) > ctx.now) return false;
      due.push_back(t);
      return true;
    });
    for (RowId t : due) VOX_RETURN_IF_ERROR(VoidPending(txn, ctx, t, "timed out"));
    return static_cast<int>(due.size());
  });
}

absl::StatusOr<int> ExpireSubscriptions(Database& db, const OpContext& ctx) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<int> {
    const Table& purchases = Purchases(db);
    std::vector<RowId> due;
    db.range(IndexNo("premium_purchases_expiry")).ScanPrefix({}, [&](RowId p) {
      if (purchases.GetTime(p, premium_purchases::expires_at) > ctx.now) return false;
      due.push_back(p);
      return true;
    });
    for (RowId p : due) {
      txn.Set(TableId::premium_purchases, p, premium_purchases::status, PurchaseStatus::EXPIRED);
    }
    VOX_RETURN_IF_ERROR(txn.status());
    return static_cast<int>(due.size());
  });
}

// ---- Reads --------------------------------------------------------------------

absl::StatusOr<WalletBalance> GetWalletBalance(const Database& db, const Uuid& user_id,
                                               std::string_view currency) {
  VOX_ASSIGN_OR_RETURN(RowId user, internal::Resolve(db, TableId::users, user_id, "user"));
  VOX_ASSIGN_OR_RETURN(RowId w, RequireUserWallet(db, user, currency));
  return BalanceOf(db, w);
}

absl::StatusOr<WalletBalance> GetSystemWalletBalance(const Database& db, WalletKind kind,
                                                     std::string_view currency) {
  VOX_RETURN_IF_ERROR(CheckCurrency(currency));
  const RowId w = kind == WalletKind::USER ? kNoRow : FindSystemWallet(db, kind, currency);
  if (w == kNoRow) {
    return absl::NotFoundError(
        StrCat("there is no ", EnumName(EnumId::WalletKind, kind), " ", currency, " wallet"));
  }
  return BalanceOf(db, w);
}

LedgerAudit AuditAllWallets(const Database& db) {
  const Table& wallets = Wallets(db);
  const Table& transfers = Transfers(db);
  std::vector<Counters> ledger(wallets.row_count());
  LedgerAudit audit;
  const size_t transfer_rows = transfers.row_count();
  for (RowId t = 0; t < transfer_rows; ++t) {
    if (!transfers.IsLive(t)) continue;
    ++audit.transfers;
    CountTransfer(transfers, t, /*debit=*/true, ledger[DebitWallet(db, t)]);
    CountTransfer(transfers, t, /*debit=*/false, ledger[CreditWallet(db, t)]);
  }
  // Sums wrap rather than overflow: equality still means the books balance.
  uint64_t debits = 0, credits = 0, pending_debits = 0, pending_credits = 0;
  for (RowId w = 0; w < wallets.row_count(); ++w) {
    if (!wallets.IsLive(w)) continue;
    ++audit.wallets;
    const Counters stored = StoredCounters(wallets, w);
    debits += static_cast<uint64_t>(stored.posted_debits);
    credits += static_cast<uint64_t>(stored.posted_credits);
    pending_debits += static_cast<uint64_t>(stored.pending_debits);
    pending_credits += static_cast<uint64_t>(stored.pending_credits);
    if (!(stored == ledger[w])) {
      audit.mismatches.push_back({wallets.id(w), MismatchDetail(stored, ledger[w])});
    }
    if (wallets.GetEnum<WalletKind>(w, wallets::kind) != WalletKind::SYSTEM_ISSUANCE &&
        stored.available() < 0) {
      audit.overdrawn.push_back(wallets.id(w));
    }
  }
  audit.balanced = debits == credits && pending_debits == pending_credits;
  return audit;
}

absl::StatusOr<TransferPage> WalletTransactions(const Database& db, const Uuid& user_id,
                                                std::string_view currency, int limit,
                                                std::optional<Uuid> after) {
  if (limit < 1 || limit > kMaxPageSize) {
    return absl::InvalidArgumentError(
        StrCat("a page holds 1..", kMaxPageSize, " transfers; asked for ", limit));
  }
  VOX_ASSIGN_OR_RETURN(RowId user, internal::Resolve(db, TableId::users, user_id, "user"));
  VOX_ASSIGN_OR_RETURN(RowId wallet, RequireUserWallet(db, user, currency));
  const Table& transfers = Transfers(db);
  WalletScan debits(db.grouped(IndexNo("transactions_by_debit_wallet")), wallet);
  WalletScan credits(db.grouped(IndexNo("transactions_by_credit_wallet")), wallet);
  if (after) {
    const RowId c = transfers.FindById(*after);
    if (c == kNoRow || (DebitWallet(db, c) != wallet && CreditWallet(db, c) != wallet)) {
      return absl::InvalidArgumentError(StrCat(
          "cursor ", FormatUuid(*after), " is not a transfer of the ", WalletName(db, wallet)));
    }
    debits.SeekAfter(c);
    credits.SeekAfter(c);
  }
  // Both scans run newest first: merge them.
  auto first = [&](RowId a, RowId b) {
    const Timestamp ta = transfers.GetTime(a, transactions::created_at);
    const Timestamp tb = transfers.GetTime(b, transactions::created_at);
    return ta != tb ? ta > tb : a > b;
  };
  TransferPage page;
  while (page.transfers.size() < static_cast<size_t>(limit) && !(debits.done() && credits.done())) {
    const bool take_debit =
        credits.done() || (!debits.done() && first(debits.row(), credits.row()));
    WalletScan& scan = take_debit ? debits : credits;
    page.transfers.push_back(ViewOf(db, scan.row(), wallet));
    scan.Next();
  }
  if (!(debits.done() && credits.done())) page.next_cursor = page.transfers.back().id;
  return page;
}

}  // namespace vox
