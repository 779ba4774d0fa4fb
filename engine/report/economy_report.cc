// EconomyReport: ledger volume by type and status, top spenders, the ledger audit.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "engine/report/internal/report_util.h"
#include "engine/report/reports.h"
#include "schema/str.h"

namespace vox {
namespace {

constexpr size_t kTypes = 8;  // TransferType values
static_assert(static_cast<size_t>(TransferType::REVERSAL) + 1 == kTypes);
// Cells: counts, then posted count and amount per type.
enum : size_t {
  kTransfers,
  kPosted,
  kPending,
  kVoided,
  kPostedAmount,
  kPendingAmount,
  kTypeCount,
  kTypeAmount = kTypeCount + kTypes,
  kCells = kTypeAmount + kTypes
};

size_t TypeIndex(TransferType t) { return static_cast<size_t>(t); }

struct Counters {
  int64_t posted_debits = 0, posted_credits = 0, pending_debits = 0, pending_credits = 0;
  friend bool operator==(const Counters&, const Counters&) = default;
};

struct Spender {
  int64_t out = 0, out_n = 0, gift = 0, fee = 0, purchase = 0, call = 0, in = 0;
};

// Every wallet's counters recomputed from the transactions, against the
// stored ones (as AuditAllWallets does on the live database).
LedgerAudit AuditLedger(const ReportSnapshot& snap) {
  using report_internal::WrapAdd;
  constexpr TableId kW = TableId::wallets, kT = TableId::transactions;
  const size_t n_wallets = snap.row_count(kW);
  std::vector<Counters> ledger(n_wallets);
  LedgerAudit audit;
  const ColumnView<uint8_t> t_live = snap.live(kT);
  const ColumnView<uint32_t> debit = snap.column<uint32_t>(kT, transactions::debit_wallet_id);
  const ColumnView<uint32_t> credit = snap.column<uint32_t>(kT, transactions::credit_wallet_id);
  const ColumnView<int64_t> amount = snap.column<int64_t>(kT, transactions::amount);
  const ColumnView<uint8_t> status = snap.column<uint8_t>(kT, transactions::status);
  for (size_t k = 0; k < t_live.chunk_count(); ++k) {
    const uint8_t* l = t_live.values(k);
    const uint32_t* d = debit.values(k);
    const uint32_t* c = credit.values(k);
    const int64_t* a = amount.values(k);
    const uint8_t* s = status.values(k);
    for (uint32_t i = 0; i < t_live.chunk_rows(k); ++i) {
      if (l[i] == 0) continue;
      ++audit.transfers;
      const auto st = static_cast<TransferStatus>(s[i]);
      if (st == TransferStatus::VOIDED || d[i] >= n_wallets || c[i] >= n_wallets) continue;
      const bool posted = st == TransferStatus::POSTED;
      WrapAdd(posted ? ledger[d[i]].posted_debits : ledger[d[i]].pending_debits, a[i]);
      WrapAdd(posted ? ledger[c[i]].posted_credits : ledger[c[i]].pending_credits, a[i]);
    }
  }
  const ColumnView<uint8_t> w_live = snap.live(kW);
  const ColumnView<Uuid> id = snap.column<Uuid>(kW, wallets::id);
  const ColumnView<uint8_t> kind = snap.column<uint8_t>(kW, wallets::kind);
  const ColumnView<int64_t> pd = snap.column<int64_t>(kW, wallets::posted_debits);
  const ColumnView<int64_t> pc = snap.column<int64_t>(kW, wallets::posted_credits);
  const ColumnView<int64_t> qd = snap.column<int64_t>(kW, wallets::pending_debits);
  const ColumnView<int64_t> qc = snap.column<int64_t>(kW, wallets::pending_credits);
  uint64_t debits = 0, credits = 0, pending_debits = 0, pending_credits = 0;
  for (RowId w = 0; w < n_wallets; ++w) {
    if (w_live[w] == 0) continue;
    ++audit.wallets;
    const Counters stored{pd[w], pc[w], qd[w], qc[w]};
    debits += static_cast<uint64_t>(stored.posted_debits);
    credits += static_cast<uint64_t>(stored.posted_credits);
    pending_debits += static_cast<uint64_t>(stored.pending_debits);
    pending_credits += static_cast<uint64_t>(stored.pending_credits);
    const Counters& rows = ledger[w];
    if (!(stored == rows)) {
      std::string detail;
      auto diff = [&](std::string_view name, int64_t have, int64_t want) {
        if (have == want) return;
        if (!detail.empty()) detail += "; ";
        detail += StrCat(name, " is ", have, ", the ledger says ", want);
      };
      diff("posted_debits", stored.posted_debits, rows.posted_debits);
      diff("posted_credits", stored.posted_credits, rows.posted_credits);
      diff("pending_debits", stored.pending_debits, rows.pending_debits);
      diff("pending_credits", stored.pending_credits, rows.pending_credits);
      audit.mismatches.push_back({id[w], std::move(detail)});
    }
    const int64_t available = static_cast<int64_t>(static_cast<uint64_t>(stored.posted_credits) -
                                                   static_cast<uint64_t>(stored.posted_debits) -
                                                   static_cast<uint64_t>(stored.pending_debits));
    if (kind[w] != static_cast<uint8_t>(WalletKind::SYSTEM_ISSUANCE) && available < 0) {
      audit.overdrawn.push_back(id[w]);
    }
  }
  audit.balanced = debits == credits && pending_debits == pending_credits;
  return audit;
}

}  // namespace

absl::StatusOr<EconomyReportResult> EconomyReport(const ReportSnapshot& snap,
                                                  const EconomyReportRequest& req) {
  using namespace report_internal;
  VOX_ASSIGN_OR_RETURN(TimeBuckets buckets, Prepare(snap, kEconomyReportTables, req.range));
  VOX_RETURN_IF_ERROR(CheckEnumValue("economy dimension", static_cast<int>(req.by), 3));
  VOX_RETURN_IF_ERROR(CheckEnum("transfer type", req.type, EnumId::TransferType));
  VOX_RETURN_IF_ERROR(CheckTopN(req.top_n));
  if (req.currency.empty()) return absl::InvalidArgumentError("a currency is required");
  constexpr TableId kT = TableId::transactions;

  // Per wallet: in the currency asked for, and its user (USER wallets).
  const size_t n_wallets = snap.row_count(TableId::wallets);
  const size_t n_users = snap.row_count(TableId::users);
  std::vector<uint8_t> in_currency(n_wallets, 0);
  std::vector<RowId> owner(n_wallets, kNoRow);
  {
    const ColumnView<uint8_t> live = snap.live(TableId::wallets);
    const StringView currency = snap.strings(TableId::wallets, wallets::currency);
    const ColumnView<uint32_t> user = snap.column<uint32_t>(TableId::wallets, wallets::user_id);
    for (RowId w = 0; w < n_wallets; ++w) {
      if (live[w] == 0) continue;
      in_currency[w] = currency[w] == req.currency;
      owner[w] = RefAt(user, w, n_users);
    }
  }

  const ColumnView<uint32_t> debit = snap.column<uint32_t>(kT, transactions::debit_wallet_id);
  const ColumnView<uint32_t> credit = snap.column<uint32_t>(kT, transactions::credit_wallet_id);
  const ColumnView<int64_t> amount = snap.column<int64_t>(kT, transactions::amount);
  const ColumnView<uint8_t> type = snap.column<uint8_t>(kT, transactions::type);
  const ColumnView<uint8_t> status = snap.column<uint8_t>(kT, transactions::status);
  SeriesBuilder series(buckets, kCells,
                       req.by == EconomyDimension::kNone   ? 1
                       : req.by == EconomyDimension::kType ? kTypes
                                                           : 3);  // TransferStatus values
  absl::flat_hash_map<RowId, Spender> spenders;
  ScanTimeRange(snap, kT, transactions::created_at, buckets, [&](RowId x, Timestamp t) {
    const RowId d = debit[x], c = credit[x];
    if (d >= n_wallets || c >= n_wallets || !in_currency[d]) return;
    const uint8_t ty = type[x] < kTypes ? type[x] : 0;
    if (req.type && ty != static_cast<uint8_t>(*req.type)) return;
    const auto st = static_cast<TransferStatus>(status[x]);
    const uint32_t key = req.by == EconomyDimension::kType     ? ty
                         : req.by == EconomyDimension::kStatus ? status[x]
                                                               : 0;
    int64_t* cell = series.cells(series.SlotAt(t, key));
    const int64_t a = amount[x];
    ++cell[kTransfers];
    switch (st) {
      case TransferStatus::POSTED:
        ++cell[kPosted];
        WrapAdd(cell[kPostedAmount], a);
        ++cell[kTypeCount + ty];
        WrapAdd(cell[kTypeAmount + ty], a);
        break;
      case TransferStatus::PENDING:
        ++cell[kPending];
        WrapAdd(cell[kPendingAmount], a);
        break;
      case TransferStatus::VOIDED:
        ++cell[kVoided];
        break;
    }
    if (st != TransferStatus::POSTED) return;
    if (owner[d] != kNoRow) {
      Spender& s = spenders[owner[d]];
      WrapAdd(s.out, a);
      ++s.out_n;
      switch (static_cast<TransferType>(ty)) {
        case TransferType::GIFT:
          WrapAdd(s.gift, a);
          break;
        case TransferType::FEE:
          WrapAdd(s.fee, a);
          break;
        case TransferType::PURCHASE:
          WrapAdd(s.purchase, a);
          break;
        case TransferType::CALL_CHARGE:
          WrapAdd(s.call, a);
          break;
        default:
          break;
      }
    }
    if (owner[c] != kNoRow) WrapAdd(spenders[owner[c]].in, a);
  });

  std::string dimension = req.by == EconomyDimension::kType     ? "transfer_type"
                          : req.by == EconomyDimension::kStatus ? "status"
                                                                : "";
  const EnumId key_enum =
      req.by == EconomyDimension::kStatus ? EnumId::TransferStatus : EnumId::TransferType;
  EconomyReportResult result;
  auto type_count = [](const int64_t* c, TransferType t) {
    return static_cast<double>(c[kTypeCount + TypeIndex(t)]);
  };
  auto type_amount = [](const int64_t* c, TransferType t) {
    return static_cast<double>(c[kTypeAmount + TypeIndex(t)]);
  };
  result.volume = series.Finish(
      std::move(dimension),
      {"transfers",          "posted",          "pending",           "voided",
       "posted_amount",      "pending_amount",  "avg_posted_amount", "top_ups",
       "top_up_amount",      "gifts",           "gift_amount",       "fee_amount",
       "purchases",          "purchase_amount", "refunds",           "refund_amount",
       "call_charge_amount", "payouts",         "payout_amount",     "reversals",
       "reversal_amount"},
      [&](uint32_t key) { return std::string(EnumValueName(key_enum, key)); },
      [&](uint32_t, const int64_t* c, double* out) {
        out[0] = static_cast<double>(c[kTransfers]);
        out[1] = static_cast<double>(c[kPosted]);
        out[2] = static_cast<double>(c[kPending]);
        out[3] = static_cast<double>(c[kVoided]);
        out[4] = static_cast<double>(c[kPostedAmount]);
        out[5] = static_cast<double>(c[kPendingAmount]);
        out[6] = Ratio(c[kPostedAmount], c[kPosted]);
        out[7] = type_count(c, TransferType::TOP_UP);
        out[8] = type_amount(c, TransferType::TOP_UP);
        out[9] = type_count(c, TransferType::GIFT);
        out[10] = type_amount(c, TransferType::GIFT);
        out[11] = type_amount(c, TransferType::FEE);
        out[12] = type_count(c, TransferType::PURCHASE);
        out[13] = type_amount(c, TransferType::PURCHASE);
        out[14] = type_count(c, TransferType::REFUND);
        out[15] = type_amount(c, TransferType::REFUND);
        out[16] = type_amount(c, TransferType::CALL_CHARGE);
        out[17] = type_count(c, TransferType::PAYOUT);
        out[18] = type_amount(c, TransferType::PAYOUT);
        out[19] = type_count(c, TransferType::REVERSAL);
        out[20] = type_amount(c, TransferType::REVERSAL);
      });

  // Top spenders: users who sent anything, by posted outgoing volume.
  const StringView username = snap.strings(TableId::users, users::username);
  struct Ranked {
    const Spender* s;
    std::string_view name;
  };
  std::vector<Ranked> ranked;
  for (const auto& [user, s] : spenders) {
    if (s.out_n > 0) ranked.push_back({&s, username[user]});
  }
  const size_t n = std::min(req.top_n, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + n, ranked.end(),
                    [](const Ranked& a, const Ranked& b) {
                      return a.s->out != b.s->out ? a.s->out > b.s->out : a.name < b.name;
                    });
  ReportTable& top = result.top_spenders;
  top.dimension = "user";
  top.columns = {"outgoing_amount", "outgoing_transfers", "gift_amount",    "fee_amount",
                 "purchase_amount", "call_charge_amount", "incoming_amount"};
  top.buckets = buckets.starts();
  for (size_t i = 0; i < n; ++i) {
    const Spender& s = *ranked[i].s;
    top.rows.push_back(
        {buckets.start(0),
         std::string(ranked[i].name),
         {static_cast<double>(s.out), static_cast<double>(s.out_n), static_cast<double>(s.gift),
          static_cast<double>(s.fee), static_cast<double>(s.purchase), static_cast<double>(s.call),
          static_cast<double>(s.in)}});
  }
  result.ledger = AuditLedger(snap);
  return result;
}

}  // namespace vox
