// Wallet, transfer, fee and premium operations on the wire (engine/ops/ledger.h).
#include <vector>

#include "engine/ops/ledger.h"
#include "net/internal/dispatch_util.h"

namespace vox::net {
namespace {

using wire::Op;

// An absent currency is the default one.
std::string_view Currency(const fb::String* s) { return s == nullptr ? kDefaultCurrency : View(s); }

Outcome Transfer(Call& c, const absl::StatusOr<TransferResult>& r) {
  if (!r.ok()) return r.status();
  return c.Result(
      wire::Result::TransferResult,
      wire::CreateTransferResult(c.fbb, W(r->transfer_id), nullptr, 0, r->already_done));
}

Outcome Balance(Call& c, const absl::StatusOr<WalletBalance>& b) {
  if (!b.ok()) return b.status();
  return c.Result(
      wire::Result::WalletBalanceResult,
      wire::CreateWalletBalanceResult(c.fbb, W(b->wallet_id), b->posted_debits, b->posted_credits,
                                      b->pending_debits, b->pending_credits, b->balance,
                                      b->available, b->is_frozen, b->ledger_consistent));
}

Outcome DoTopUp(Call& c, const wire::TopUp& op) {
  Args a;
  const TopUpRequest req{.user_id = a.Id(op.user_id(), "user_id"),
                         .amount = op.amount(),
                         .currency = Currency(op.currency()),
                         .idempotency_key = View(op.idempotency_key()),
                         .memo = View(op.memo())};
  VOX_RETURN_IF_ERROR(a.status());
  return Transfer(c, TopUp(c.db, c.ctx, req));
}

Outcome DoGift(Call& c, const wire::Gift& op) {
  Args a;
  const GiftRequest req{.sender_id = a.Id(op.sender_id(), "sender_id"),
                        .receiver_id = a.Id(op.receiver_id(), "receiver_id"),
                        .amount = op.amount(),
                        .currency = Currency(op.currency()),
                        .room_id = OptId(op.room_id()),
                        .idempotency_key = View(op.idempotency_key())};
  VOX_RETURN_IF_ERROR(a.status());
  auto r = Gift(c.db, c.ctx, req);
  if (!r.ok()) return r.status();
  return c.Result(
      wire::Result::TransferResult,
      wire::CreateTransferResult(c.fbb, W(r->gift_id), W(r->fee_id), r->fee, r->already_done));
}

Outcome DoCreateWallet(Call& c, const wire::CreateWallet& op) {
  Args a;
  const Uuid user = a.Id(op.user_id(), "user_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(CreateWallet(c.db, c.ctx, user, Currency(op.currency())));
}

Outcome DoReserve(Call& c, const wire::Reserve& op) {
  Args a;
  const ReserveRequest req{.payer_id = a.Id(op.payer_id(), "payer_id"),
                           .amount = op.amount(),
                           .timeout_at = op.timeout_at(),
                           .currency = Currency(op.currency()),
                           .room_id = OptId(op.room_id()),
                           .idempotency_key = View(op.idempotency_key())};
  VOX_RETURN_IF_ERROR(a.status());
  return Transfer(c, Reserve(c.db, c.ctx, req));
}

Outcome DoPostReservation(Call& c, const wire::PostReservation& op) {
  Args a;
  const Uuid transfer = a.Id(op.transfer_id(), "transfer_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(PostReservation(c.db, c.ctx, transfer, op.final_amount()));
}

Outcome DoVoidReservation(Call& c, const wire::VoidReservation& op) {
  Args a;
  const Uuid transfer = a.Id(op.transfer_id(), "transfer_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(VoidReservation(c.db, c.ctx, transfer));
}

Outcome DoReverse(Call& c, const wire::Reverse& op) {
  Args a;
  const Uuid transfer = a.Id(op.transfer_id(), "transfer_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(Reverse(c.db, c.ctx, transfer, View(op.reason())));
}

Outcome DoSetFee(Call& c, const wire::SetFee& op) {
  Args a;
  const FeeScheduleEntry entry{.transfer_type = a.Enum<TransferType>(
                                   EnumId::TransferType, op.transfer_type(), "transfer_type"),
                               .fee_bps = op.fee_bps(),
                               .min_fee = op.min_fee(),
                               .effective_from = op.effective_from()};
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(SetFee(c.db, c.ctx, entry));
}

Outcome DoCreatePremiumFeature(Call& c, const wire::CreatePremiumFeature& op) {
  Args a;
  const PremiumFeatureSpec spec{.code = View(op.code()),
                                .name = View(op.name()),
                                .description = View(op.description()),
                                .price = op.price(),
                                .currency = Currency(op.currency()),
                                .kind = a.Enum<PremiumKind>(EnumId::PremiumKind, op.kind(), "kind"),
                                .period_days = op.period_days()};
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(CreatePremiumFeature(c.db, c.ctx, spec));
}

Outcome DoPurchasePremium(Call& c, const wire::PurchasePremium& op) {
  Args a;
  const PurchaseRequest req{.user_id = a.Id(op.user_id(), "user_id"),
                            .feature_code = View(op.feature_code()),
                            .idempotency_key = View(op.idempotency_key())};
  VOX_RETURN_IF_ERROR(a.status());
  auto r = PurchasePremium(c.db, c.ctx, req);
  if (!r.ok()) return r.status();
  return c.Result(wire::Result::PurchaseResult,
                  wire::CreatePurchaseResult(c.fbb, W(r->purchase_id), W(r->transfer_id),
                                             r->expires_at, r->already_done));
}

Outcome DoRefundPurchase(Call& c, const wire::RefundPurchase& op) {
  Args a;
  const Uuid purchase = a.Id(op.purchase_id(), "purchase_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(RefundPurchase(c.db, c.ctx, purchase, View(op.reason())));
}

Outcome DoCancelSubscription(Call& c, const wire::CancelSubscription& op) {
  Args a;
  const Uuid purchase = a.Id(op.purchase_id(), "purchase_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(CancelSubscription(c.db, c.ctx, purchase));
}

Outcome DoGetWalletBalance(Call& c, const wire::GetWalletBalance& op) {
  Args a;
  const Uuid user = a.Id(op.user_id(), "user_id");
  VOX_RETURN_IF_ERROR(a.status());
  return Balance(c, GetWalletBalance(c.db, user, Currency(op.currency())));
}

Outcome DoGetSystemWalletBalance(Call& c, const wire::GetSystemWalletBalance& op) {
  Args a;
  const auto kind = a.Enum<WalletKind>(EnumId::WalletKind, op.kind(), "kind");
  VOX_RETURN_IF_ERROR(a.status());
  if (kind == WalletKind::USER) {
    return absl::InvalidArgumentError("kind must be a system wallet kind (use GetWalletBalance)");
  }
  return Balance(c, GetSystemWalletBalance(c.db, kind, Currency(op.currency())));
}

Outcome DoAuditAllWallets(Call& c) {
  const LedgerAudit audit = AuditAllWallets(c.db);
  std::vector<fb::Offset<wire::WalletMismatch>> mismatches;
  for (const WalletMismatch& m : audit.mismatches) {
    mismatches.push_back(wire::CreateWalletMismatch(c.fbb, W(m.wallet_id), c.Str(m.detail)));
  }
  auto mismatch_vec = c.fbb.CreateVector(mismatches);
  std::vector<wire::Uuid> overdrawn;
  for (const Uuid& u : audit.overdrawn) overdrawn.push_back(ToWire(u));
  auto overdrawn_vec = c.fbb.CreateVectorOfStructs(overdrawn);
  return c.Result(wire::Result::LedgerAuditResult,
                  wire::CreateLedgerAuditResult(c.fbb, audit.wallets, audit.transfers, mismatch_vec,
                                                overdrawn_vec, audit.balanced, audit.ok()));
}

Outcome DoWalletTransactions(Call& c, const wire::WalletTransactions& op) {
  Args a;
  const Uuid user = a.Id(op.user_id(), "user_id");
  VOX_RETURN_IF_ERROR(a.status());
  auto page =
      WalletTransactions(c.db, user, Currency(op.currency()), op.limit(), OptId(op.after()));
  if (!page.ok()) return page.status();
  std::vector<fb::Offset<wire::Transfer>> out;
  for (const TransferView& t : page->transfers) {
    auto type = c.Name(EnumId::TransferType, t.type);
    auto status = c.Name(EnumId::TransferStatus, t.status);
    auto kind = c.Name(EnumId::WalletKind, t.counterparty_kind);
    auto memo = t.memo.empty() ? 0 : c.Str(t.memo);
    out.push_back(wire::CreateTransfer(c.fbb, W(t.id), type, status, t.amount, t.outgoing, kind,
                                       W(t.counterparty_user), W(t.room_id), W(t.parent_id),
                                       W(t.reverses_id), memo, t.created_at));
  }
  auto vec = c.fbb.CreateVector(out);
  return c.Result(wire::Result::TransfersResult,
                  wire::CreateTransfersResult(c.fbb, vec, W(page->next_cursor)));
}

}  // namespace

std::optional<Outcome> ExecuteLedger(Call& c, Op type, const void* op) {
  switch (type) {
    case Op::TopUp:
      return DoTopUp(c, *As<wire::TopUp>(op));
    case Op::Gift:
      return DoGift(c, *As<wire::Gift>(op));
    case Op::CreateWallet:
      return DoCreateWallet(c, *As<wire::CreateWallet>(op));
    case Op::Reserve:
      return DoReserve(c, *As<wire::Reserve>(op));
    case Op::PostReservation:
      return DoPostReservation(c, *As<wire::PostReservation>(op));
    case Op::VoidReservation:
      return DoVoidReservation(c, *As<wire::VoidReservation>(op));
    case Op::Reverse:
      return DoReverse(c, *As<wire::Reverse>(op));
    case Op::SetFee:
      return DoSetFee(c, *As<wire::SetFee>(op));
    case Op::CreatePremiumFeature:
      return DoCreatePremiumFeature(c, *As<wire::CreatePremiumFeature>(op));
    case Op::PurchasePremium:
      return DoPurchasePremium(c, *As<wire::PurchasePremium>(op));
    case Op::RefundPurchase:
      return DoRefundPurchase(c, *As<wire::RefundPurchase>(op));
    case Op::CancelSubscription:
      return DoCancelSubscription(c, *As<wire::CancelSubscription>(op));
    case Op::GetWalletBalance:
      return DoGetWalletBalance(c, *As<wire::GetWalletBalance>(op));
    case Op::GetSystemWalletBalance:
      return DoGetSystemWalletBalance(c, *As<wire::GetSystemWalletBalance>(op));
    case Op::AuditAllWallets:
      return DoAuditAllWallets(c);
    case Op::WalletTransactions:
      return DoWalletTransactions(c, *As<wire::WalletTransactions>(op));
    default:
      return std::nullopt;
  }
}

}  // namespace vox::net
