// The platform's money: wallets, the double-entry ledger of transfers, fees,
// call billing (reserve, then post or void) and premium features.
//
// Every movement of coins is one `transactions` row that debits one wallet
// and credits another in the same currency; the wallets' counters change in
// the same atomic transaction. Coins enter through the SYSTEM_ISSUANCE wallet
// (the only one allowed below zero) and leave through SYSTEM_PAYOUT; fees,
// purchases and call charges go to SYSTEM_REVENUE. System wallets are created
// on first use. Corrections are new REVERSAL or REFUND transfers, never edits.
//
// A wallet's balance is posted_credits - posted_debits; what it may spend
// (available) is balance - pending_debits. A frozen wallet neither sends nor
// receives. Money-moving ops take an optional idempotency key: a retry with
// the same key and fields answers OK with `already_done` and writes nothing;
// the same key with other fields is AlreadyExists.
//
// Each op is one transaction that writes its audit rows; on error nothing
// changes. Thread-compatible: engine thread only.
#ifndef VOXDB_ENGINE_OPS_LEDGER_H_
#define VOXDB_ENGINE_OPS_LEDGER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/ops/context.h"
#include "engine/txn.h"

namespace vox {

inline constexpr std::string_view kDefaultCurrency = "COIN";

// ---- Building blocks for other operations (inside their own Txn) -----------

// Inserts `user`'s USER wallet in `currency` (1-8 of [A-Z0-9]). Returns the
// row, or kNoRow with the error latched (AlreadyExists if the user has one).
RowId InsertUserWallet(Txn& txn, RowId user, std::string_view currency);

struct TransferSpec {
  RowId debit_wallet = kNoRow;
  RowId credit_wallet = kNoRow;
  int64_t amount = 0;
  TransferType type = TransferType::GIFT;
  TransferStatus status = TransferStatus::POSTED;  // or PENDING (a hold)
  std::string_view idempotency_key;                // empty: none
  RowId parent = kNoRow, reverses = kNoRow, room = kNoRow;
  std::string_view memo;
  std::optional<Timestamp> timeout_at;
};
// Inserts one transfer and moves the wallets' posted (or pending) counters.
// InvalidArgument: amount <= 0, the same wallet twice, currencies differ;
// FailedPrecondition: a frozen wallet, or a debit that would take a wallet
// other than SYSTEM_ISSUANCE below zero available. Nothing is written then.
[[nodiscard]] absl::StatusOr<RowId> InsertTransfer(Txn& txn, const TransferSpec& spec);

// The fee on `amount` of `type` at `now`: from the latest fee_schedule row
// with effective_from <= now, max(min_fee, amount * fee_bps / 10000) capped
// at `amount`; 0 when there is none.
int64_t FeeFor(const Database& db, TransferType type, int64_t amount, Timestamp now);

// ---- Wallets -----------------------------------------------------------------

// A USER wallet for `user_id` in `currency`. NotFound (user), AlreadyExists.
absl::StatusOr<Uuid> CreateWallet(Database& db, const OpContext& ctx, const Uuid& user_id,
                                  std::string_view currency);

// ---- Transfers -----------------------------------------------------------------

struct TransferResult {
  Uuid transfer_id;
  bool already_done = false;  // an idempotent retry: nothing was written
};

struct TopUpRequest {
  Uuid user_id;
  int64_t amount = 0;
  std::string_view currency = kDefaultCurrency;
  std::string_view idempotency_key;
  std::string_view memo;
};
// SYSTEM_ISSUANCE -> the user's wallet, TOP_UP; audit WALLET_TOP_UP. The
// user's account must be ACTIVE (PermissionDenied otherwise).
absl::StatusOr<TransferResult> TopUp(Database& db, const OpContext& ctx, const TopUpRequest& req);

struct GiftRequest {
  Uuid sender_id, receiver_id;
  int64_t amount = 0;  // what the sender pays, fee included
  std::string_view currency = kDefaultCurrency;
  std::optional<Uuid> room_id;
  std::string_view idempotency_key;
};
struct GiftResult {
  Uuid gift_id;                // the GIFT transfer: amount - fee to the receiver
  std::optional<Uuid> fee_id;  // the FEE transfer to SYSTEM_REVENUE, when fee > 0
  int64_t fee = 0;
  bool already_done = false;
};
// Debits the sender `amount` in all: a GIFT of amount - fee to the receiver
// and a FEE (parent = the gift) to SYSTEM_REVENUE; a GIFT_RECEIVED
// notification; audit GIFT_SENT. InvalidArgument: a self-gift, or an amount
// that does not exceed its fee; FailedPrecondition: funds, frozen wallets;
// PermissionDenied: a sender who may not act; NotFound: users, room, wallets.
absl::StatusOr<GiftResult> Gift(Database& db, const OpContext& ctx, const GiftRequest& req);

// ---- Call billing: reserve, then post or void ----------------------------------

struct ReserveRequest {
  Uuid payer_id;
  int64_t amount = 0;
  Timestamp timeout_at = 0;  // after ctx.now; VoidExpiredReservations voids it then
  std::string_view currency = kDefaultCurrency;
  std::optional<Uuid> room_id;
  std::string_view idempotency_key;
};
// A PENDING CALL_CHARGE payer -> SYSTEM_REVENUE holding `amount` of the
// payer's available coins; audit TRANSFER_RESERVED. A retry matches a posted
// reservation whose final amount is at most the one asked for.
absl::StatusOr<TransferResult> Reserve(Database& db, const OpContext& ctx,
                                       const ReserveRequest& req);
// POSTED for `final_amount` (1..reserved), which becomes its amount; the rest
// of the hold is released. Audit TRANSFER_POSTED. FailedPrecondition unless
// PENDING or when a wallet is frozen.
absl::Status PostReservation(Database& db, const OpContext& ctx, const Uuid& transfer_id,
                             int64_t final_amount);
// VOIDED: the hold is released. Audit TRANSFER_VOIDED. FailedPrecondition
// unless PENDING.
absl::Status VoidReservation(Database& db, const OpContext& ctx, const Uuid& transfer_id);

// ---- Corrections -------------------------------------------------------------

// A REVERSAL moving a POSTED transfer's amount back (reverses_id = it); audit
// TRANSFER_REVERSED. One reversal per transfer. A gift's fee is a transfer of
// its own. Purchases are undone with RefundPurchase; reversals and refunds
// are not reversed. FailedPrecondition for all these and for funds.
absl::StatusOr<Uuid> Reverse(Database& db, const OpContext& ctx, const Uuid& transfer_id,
                             std::string_view reason);

// ---- Fees and premium features -------------------------------------------------

struct FeeScheduleEntry {
  TransferType transfer_type = TransferType::GIFT;
  int32_t fee_bps = 0;  // 0..10000
  int64_t min_fee = 0;
  Timestamp effective_from = 0;
};
// Appends a fee_schedule row (rows are never changed). InvalidArgument.
absl::StatusOr<Uuid> SetFee(Database& db, const OpContext& ctx, const FeeScheduleEntry& entry);

struct PremiumFeatureSpec {
  std::string_view code, name, description;
  int64_t price = 0;
  std::string_view currency = kDefaultCurrency;
  PremiumKind kind = PremiumKind::ONE_TIME;
  std::optional<int32_t> period_days;  // SUBSCRIPTION only, and required there
};
// AlreadyExists if the code is taken; InvalidArgument.
absl::StatusOr<Uuid> CreatePremiumFeature(Database& db, const OpContext& ctx,
                                          const PremiumFeatureSpec& spec);

struct PurchaseRequest {
  Uuid user_id;
  std::string_view feature_code;
  std::string_view idempotency_key;
};
struct PurchaseResult {
  Uuid purchase_id, transfer_id;
  std::optional<Timestamp> expires_at;  // subscriptions
  bool already_done = false;
};
// A PURCHASE transfer user -> SYSTEM_REVENUE of the price and an ACTIVE
// premium_purchases row (subscriptions expire after period_days); audit
// PREMIUM_PURCHASED. FailedPrecondition: a feature not on sale, an ACTIVE
// subscription to it already, funds.
absl::StatusOr<PurchaseResult> PurchasePremium(Database& db, const OpContext& ctx,
                                               const PurchaseRequest& req);
// A REFUND SYSTEM_REVENUE -> user of what was paid (reverses_id = the
// purchase transfer); the purchase REFUNDED. Audit PREMIUM_REFUNDED.
// FailedPrecondition if already refunded.
absl::StatusOr<Uuid> RefundPurchase(Database& db, const OpContext& ctx, const Uuid& purchase_id,
                                    std::string_view reason);
// An ACTIVE subscription -> CANCELLED. FailedPrecondition otherwise.
absl::Status CancelSubscription(Database& db, const OpContext& ctx, const Uuid& purchase_id);

// ---- Time-based work (replays exactly: `now` is ctx.now) ------------------------

// Voids every PENDING transfer with timeout_at <= now. Returns how many.
absl::StatusOr<int> VoidExpiredReservations(Database& db, const OpContext& ctx);
// Marks every ACTIVE purchase with expires_at <= now EXPIRED. Returns how many.
absl::StatusOr<int> ExpireSubscriptions(Database& db, const OpContext& ctx);

// ---- Reads -------------------------------------------------------------------

struct WalletBalance {
  Uuid wallet_id;
  int64_t posted_debits = 0, posted_credits = 0, pending_debits = 0, pending_credits = 0;
  int64_t balance = 0, available = 0;
  bool is_frozen = false;
  // The counters recomputed from the wallet's ledger rows equal the stored ones.
  bool ledger_consistent = false;
};
// NotFound if the user or the wallet does not exist.
absl::StatusOr<WalletBalance> GetWalletBalance(const Database& db, const Uuid& user_id,
                                               std::string_view currency = kDefaultCurrency);
// `kind` is a system kind. NotFound until the wallet's first use.
absl::StatusOr<WalletBalance> GetSystemWalletBalance(const Database& db, WalletKind kind,
                                                     std::string_view currency = kDefaultCurrency);

struct WalletMismatch {
  Uuid wallet_id;
  std::string detail;  // e.g. "posted_debits is 100, the ledger says 90"
};
struct LedgerAudit {
  int64_t wallets = 0, transfers = 0;
  std::vector<WalletMismatch> mismatches;  // counters that disagree with the rows
  std::vector<Uuid> overdrawn;             // non-issuance wallets below zero available
  bool balanced = false;                   // total debits == total credits, posted and pending
  bool ok() const { return mismatches.empty() && overdrawn.empty() && balanced; }
};
// Recomputes every wallet's counters in one pass over the transactions table.
LedgerAudit AuditAllWallets(const Database& db);

struct TransferView {
  Uuid id;
  TransferType type;
  TransferStatus status;
  int64_t amount = 0;
  bool outgoing = false;                  // the wallet was debited
  WalletKind counterparty_kind;           // the other wallet's kind
  std::optional<Uuid> counterparty_user;  // its user, for USER wallets
  std::optional<Uuid> room_id, parent_id, reverses_id;
  std::string memo;
  Timestamp created_at = 0;
};
struct TransferPage {
  std::vector<TransferView> transfers;
  std::optional<Uuid> next_cursor;  // pass as `after` for the next page
};
// The user's transfers in `currency`, newest first (ties: the later one first),
// `limit` (1..500) a page, continuing after the transfer `after` (a
// previous page's next_cursor). InvalidArgument for a cursor not of this wallet.
absl::StatusOr<TransferPage> WalletTransactions(const Database& db, const Uuid& user_id,
                                                std::string_view currency, int limit,
                                                std::optional<Uuid> after = std::nullopt);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_LEDGER_H_
