// Searches over trails: moderation history, the audit trail, transfers and
// notifications. Their "by owner, newest first" grouped indexes are walked
// in sort order: a page costs its own rows, not the owner's history.
#include "engine/internal/search_util.h"
#include "engine/ops/search.h"

namespace vox {
namespace {

using internal::Bit;
using internal::IndexRun;
using internal::PageBuilder;
using internal::Paging;
using internal::SearchKind;
using internal::SortKey;

constexpr size_t kModerationByTarget = IndexNo("moderation_by_target");
constexpr size_t kAuditByRoom = IndexNo("audit_by_room");
constexpr size_t kAuditByUser = IndexNo("audit_by_user");
constexpr size_t kByDebitWallet = IndexNo("transactions_by_debit_wallet");
constexpr size_t kByCreditWallet = IndexNo("transactions_by_credit_wallet");
constexpr size_t kByRecipient = IndexNo("notifications_by_recipient");
constexpr size_t kInvitations = IndexNo("notifications_invitations");

// Walks groups of grouped indexes keyed (owner, time DESC), whose entries
// ascend by time: forward for an ascending sort, backwards for a descending
// one. `q`'s KeyOf must lead with that time and have no other part.
template <typename Q>
size_t WalkGroups(std::vector<std::span<const GroupEntry>> groups, const Q& q, Paging& paging,
                  const TimeRange& time, PageBuilder& page) {
  std::vector<IndexRun> runs;
  for (const auto& g : groups) runs.push_back(IndexRun::Group(g, /*reverse=*/paging.desc));
  paging.BoundLeading(time);
  if (const auto start = paging.StartKey()) {
    for (IndexRun& run : runs) {
      run.SeekGroup(*start, paging.desc, [&](RowId r) { return q.KeyOf(r); });
    }
  }
  return internal::WalkInOrder(runs, q, paging, page);
}

// ---- Moderation -------------------------------------------------------------------

class ModerationQuery {
 public:
  ModerationQuery(const Database& db, const ModerationSearch& req, uint64_t types)
      : t_(db.table(TableId::moderation_actions)), req_(req), types_(types) {}

  void Filter(std::vector<RowId>& rows) const {
    namespace m = moderation_actions;
    internal::KeepRef(t_.column(m::target_user_id), rows, req_.target);
    internal::KeepRef(t_.column(m::moderator_id), rows, req_.moderator);
    internal::KeepRef(t_.column(m::room_id), rows, req_.room);
    internal::KeepEnums(t_.column(m::action_type), rows, types_);
    internal::KeepTimes(t_.column(m::created_at), rows, req_.created);
    if (req_.in_force == true) {
      internal::KeepNull(t_.column(m::revoked_at), rows, true);
      internal::KeepNull(t_.column(m::lifted_at), rows, true);
    } else if (req_.in_force == false) {
      internal::KeepIf(rows, [&](RowId r) {
        return !t_.IsNull(r, m::revoked_at) || !t_.IsNull(r, m::lifted_at);
      });
    }
  }
  SortKey KeyOf(RowId r) const { return {t_.GetTime(r, moderation_actions::created_at), 0, {}, r}; }

 private:
  const Table& t_;
  const ModerationSearch& req_;
  uint64_t types_;
};

// ---- Audit ------------------------------------------------------------------------

class AuditQuery {
 public:
  AuditQuery(const Database& db, const AuditSearch& req, uint64_t actions)
      : t_(db.table(TableId::audit_logs)), req_(req), actions_(actions) {}

  void Filter(std::vector<RowId>& rows) const {
    namespace a = audit_logs;
    internal::KeepRef(t_.column(a::room_id), rows, req_.room);
    internal::KeepRef(t_.column(a::user_id), rows, req_.user);
    internal::KeepRef(t_.column(a::target_user_id), rows, req_.target);
    internal::KeepEnums(t_.column(a::action), rows, actions_);
    internal::KeepTimes(t_.column(a::timestamp), rows, req_.time);
  }
  SortKey KeyOf(RowId r) const { return {t_.GetTime(r, audit_logs::timestamp), 0, {}, r}; }

 private:
  const Table& t_;
  const AuditSearch& req_;
  uint64_t actions_;
};

// ---- Transfers --------------------------------------------------------------------

class TransferQuery {
 public:
  TransferQuery(const Database& db, const TransferSearch& req, uint64_t types, uint64_t statuses)
      : t_(db.table(TableId::transactions)), req_(req), types_(types), statuses_(statuses) {}

  void Filter(std::vector<RowId>& rows) const {
    namespace x = transactions;
    if (req_.wallet) {
      const RowId w = *req_.wallet;
      switch (req_.direction) {
        case TransferDirection::kOutgoing:
          internal::KeepRef(t_.column(x::debit_wallet_id), rows, w);
          break;
        case TransferDirection::kIncoming:
          internal::KeepRef(t_.column(x::credit_wallet_id), rows, w);
          break;
        case TransferDirection::kAny: {
          internal::ColumnReader<uint32_t> debit(t_.column(x::debit_wallet_id));
          internal::ColumnReader<uint32_t> credit(t_.column(x::credit_wallet_id));
          internal::KeepIf(rows, [&](RowId r) { return debit(r) == w || credit(r) == w; });
          break;
        }
      }
    }
    internal::KeepEnums(t_.column(x::type), rows, types_);
    internal::KeepEnums(t_.column(x::status), rows, statuses_);
    internal::KeepInts(t_.column(x::amount), rows, req_.amount);
    internal::KeepTimes(t_.column(x::created_at), rows, req_.created);
    internal::KeepRef(t_.column(x::room_id), rows, req_.room);
  }
  SortKey KeyOf(RowId r) const {
    if (req_.sort == TransferSort::kAmountDesc) {
      return {t_.GetInt(r, transactions::amount), 0, {}, r};
    }
    return {t_.GetTime(r, transactions::created_at), 0, {}, r};
  }

 private:
  const Table& t_;
  const TransferSearch& req_;
  uint64_t types_, statuses_;
};

// ---- Notifications ----------------------------------------------------------------

class NotificationQuery {
 public:
  NotificationQuery(const Database& db, const NotificationSearch& req, uint64_t kinds)
      : t_(db.table(TableId::notifications)), req_(req), kinds_(kinds) {}

  void Filter(std::vector<RowId>& rows) const {
    namespace n = notifications;
    if (!req_.include_deleted) internal::KeepNull(t_.column(n::deleted_at), rows, true);
    internal::KeepRef(t_.column(n::recipient_id), rows, req_.recipient);
    internal::KeepRef(t_.column(n::actor_id), rows, req_.actor);
    internal::KeepRef(t_.column(n::room_id), rows, req_.room);
    internal::KeepEnums(t_.column(n::kind), rows, kinds_);
    if (req_.unread) internal::KeepNull(t_.column(n::read_at), rows, *req_.unread);
    internal::KeepTimes(t_.column(n::created_at), rows, req_.created);
    if (req_.unexpired_at) {
      const Timestamp at = *req_.unexpired_at;
      const Column& expires = t_.column(n::expires_at);
      internal::ColumnReader<int64_t> read(expires);
      internal::KeepIf(rows, [&](RowId r) { return expires.IsNull(r) || read(r) > at; });
    }
  }
  SortKey KeyOf(RowId r) const {
    const Timestamp created = t_.GetTime(r, notifications::created_at);
    if (req_.sort == NotificationSort::kUnreadFirst) {
      return {t_.IsNull(r, notifications::read_at) ? 1 : 0, created, {}, r};
    }
    return {created, 0, {}, r};
  }

 private:
  const Table& t_;
  const NotificationSearch& req_;
  uint64_t kinds_;
};

}  // namespace

absl::StatusOr<SearchPage> SearchModeration(const Database& db, const ModerationSearch& req) {
  if (req.sort > ModerationSort::kCreatedAsc) {
    return absl::InvalidArgumentError("unknown moderation sort");
  }
  VOX_ASSIGN_OR_RETURN(const uint64_t types,
                       internal::EnumMask(EnumId::ModerationActionType, req.types, "types"));
  Paging paging;
  VOX_RETURN_IF_ERROR(paging.Init(SearchKind::kModeration, static_cast<uint8_t>(req.sort),
                                  req.sort == ModerationSort::kCreatedDesc, req.limit, req.after));
  const ModerationQuery q(db, req, types);
  PageBuilder page(paging);
  constexpr std::string_view kTable = "moderation_actions";
  if (req.target) {
    const size_t n = WalkGroups({db.grouped(kModerationByTarget).Group(*req.target)}, q, paging,
                                req.created, page);
    return page.Finish(
        internal::MakePlan(kTable, SearchPlan::Access::kIndexOrder, "moderation_by_target", n));
  }
  const size_t n = internal::ScanTable(db.table(TableId::moderation_actions), q, paging, page);
  return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kScan, "", n));
}

absl::StatusOr<SearchPage> SearchAudit(const Database& db, const AuditSearch& req) {
  if (req.sort > AuditSort::kOldestFirst) return absl::InvalidArgumentError("unknown audit sort");
  VOX_ASSIGN_OR_RETURN(const uint64_t actions,
                       internal::EnumMask(EnumId::AuditAction, req.actions, "actions"));
  Paging paging;
  VOX_RETURN_IF_ERROR(paging.Init(SearchKind::kAudit, static_cast<uint8_t>(req.sort),
                                  req.sort == AuditSort::kNewestFirst, req.limit, req.after));
  const AuditQuery q(db, req, actions);
  PageBuilder page(paging);
  constexpr std::string_view kTable = "audit_logs";
  if (req.room || req.user) {
    // The smaller of the room's and the user's trails.
    std::span<const GroupEntry> by_room, by_user;
    if (req.room) by_room = db.grouped(kAuditByRoom).Group(*req.room);
    if (req.user) by_user = db.grouped(kAuditByUser).Group(*req.user);
    const bool use_room = req.room && (!req.user || by_room.size() <= by_user.size());
    const size_t n = WalkGroups({use_room ? by_room : by_user}, q, paging, req.time, page);
    return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kIndexOrder,
                                          use_room ? "audit_by_room" : "audit_by_user", n));
  }
  const size_t n = internal::ScanTable(db.table(TableId::audit_logs), q, paging, page);
  return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kScan, "", n));
}

absl::StatusOr<SearchPage> SearchTransfers(const Database& db, const TransferSearch& req) {
  if (req.sort > TransferSort::kAmountDesc) {
    return absl::InvalidArgumentError("unknown transfer sort");
  }
  if (req.direction > TransferDirection::kIncoming) {
    return absl::InvalidArgumentError("unknown transfer direction");
  }
  if (req.direction != TransferDirection::kAny && !req.wallet) {
    return absl::InvalidArgumentError("a transfer direction needs a wallet");
  }
  VOX_ASSIGN_OR_RETURN(const uint64_t types,
                       internal::EnumMask(EnumId::TransferType, req.types, "types"));
  VOX_ASSIGN_OR_RETURN(const uint64_t statuses,
                       internal::EnumMask(EnumId::TransferStatus, req.statuses, "statuses"));
  Paging paging;
  VOX_RETURN_IF_ERROR(paging.Init(SearchKind::kTransfers, static_cast<uint8_t>(req.sort),
                                  req.sort != TransferSort::kCreatedAsc, req.limit, req.after));
  const TransferQuery q(db, req, types, statuses);
  PageBuilder page(paging);
  constexpr std::string_view kTable = "transactions";
  if (req.wallet) {
    std::vector<std::span<const GroupEntry>> groups;
    std::string index;
    if (req.direction != TransferDirection::kIncoming) {
      groups.push_back(db.grouped(kByDebitWallet).Group(*req.wallet));
      index = "transactions_by_debit_wallet";
    }
    if (req.direction != TransferDirection::kOutgoing) {
      groups.push_back(db.grouped(kByCreditWallet).Group(*req.wallet));
      index += StrCat(index.empty() ? "" : "+", "transactions_by_credit_wallet");
    }
    if (req.sort != TransferSort::kAmountDesc) {
      const size_t n = WalkGroups(std::move(groups), q, paging, req.created, page);
      return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kIndexOrder, index, n));
    }
    std::vector<RowId> rows;
    for (const auto& g : groups) {
      for (const GroupEntry& e : g) rows.push_back(e.row);
    }
    const size_t n = internal::FilterCandidates(std::move(rows), q, paging, page);
    return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kIndexRows, index, n));
  }
  const size_t n = internal::ScanTable(db.table(TableId::transactions), q, paging, page);
  return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kScan, "", n));
}

absl::StatusOr<SearchPage> SearchNotifications(const Database& db, const NotificationSearch& req) {
  if (req.sort > NotificationSort::kOldestFirst) {
    return absl::InvalidArgumentError("unknown notification sort");
  }
  VOX_ASSIGN_OR_RETURN(const uint64_t kinds,
                       internal::EnumMask(EnumId::NotificationKind, req.kinds, "kinds"));
  Paging paging;
  VOX_RETURN_IF_ERROR(paging.Init(SearchKind::kNotifications, static_cast<uint8_t>(req.sort),
                                  req.sort != NotificationSort::kOldestFirst, req.limit,
                                  req.after));
  const NotificationQuery q(db, req, kinds);
  PageBuilder page(paging);
  constexpr std::string_view kTable = "notifications";
  if (req.recipient && !req.include_deleted) {
    // notifications_by_recipient: (recipient, created_at DESC), not deleted.
    const std::span<const GroupEntry> inbox = db.grouped(kByRecipient).Group(*req.recipient);
    if (req.sort != NotificationSort::kUnreadFirst) {
      const size_t n = WalkGroups({inbox}, q, paging, req.created, page);
      return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kIndexOrder,
                                            "notifications_by_recipient", n));
    }
    const size_t n = internal::FilterCandidates(internal::RowsOf(inbox), q, paging, page);
    return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kIndexRows,
                                          "notifications_by_recipient", n));
  }
  if (kinds == Bit(NotificationKind::ROOM_INVITATION) && req.room && !req.include_deleted) {
    // notifications_invitations: (room, recipient) over invitations not deleted.
    std::vector<RowId> rows;
    db.range(kInvitations).ScanPrefix({static_cast<int64_t>(*req.room)}, [&](RowId r) {
      rows.push_back(r);
      return true;
    });
    const size_t n = internal::FilterCandidates(std::move(rows), q, paging, page);
    return page.Finish(
        internal::MakePlan(kTable, SearchPlan::Access::kIndexRows, "notifications_invitations", n));
  }
  const size_t n = internal::ScanTable(db.table(TableId::notifications), q, paging, page);
  return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kScan, "", n));
}

}  // namespace vox
