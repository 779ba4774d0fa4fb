// The searches (engine/ops/search.h, docs/searches.md) on the wire. Each op's
// filters map field by field onto the engine's request: enum lists by value
// name, references by id (resolved here: NOT_FOUND naming the field), ranges
// as TimeRange / IntRange tables, the sort by name. The page comes back as a
// SearchResult: rows as JSON, the cursor, the plan. Searches are index walks
// or bounded scans, so they run on the engine thread like any read.
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ops/generic.h"
#include "engine/ops/search.h"
#include "net/internal/dispatch_util.h"

namespace vox::net {
namespace {

using wire::Op;
using StringList = fb::Vector<fb::Offset<fb::String>>;

// ---- Arguments ----

// A sort order by its wire name.
template <typename S>
struct SortName {
  std::string_view name;
  S value;
};

constexpr SortName<UserSort> kUserSorts[] = {
    {"created_desc", UserSort::kCreatedDesc},
    {"created_asc", UserSort::kCreatedAsc},
    {"username_asc", UserSort::kUsernameAsc},
    {"last_login_desc", UserSort::kLastLoginDesc},
};
constexpr SortName<RoomSort> kRoomSorts[] = {
    {"created_desc", RoomSort::kCreatedDesc},   {"created_asc", RoomSort::kCreatedAsc},
    {"started_desc", RoomSort::kStartedDesc},   {"participants_desc", RoomSort::kParticipantsDesc},
    {"scheduled_asc", RoomSort::kScheduledAsc},
};
constexpr SortName<CallSessionSort> kCallSessionSorts[] = {
    {"started_desc", CallSessionSort::kStartedDesc},
    {"started_asc", CallSessionSort::kStartedAsc},
    {"packet_loss_desc", CallSessionSort::kPacketLossDesc},
    {"rtt_desc", CallSessionSort::kRttDesc},
};
constexpr SortName<ParticipantSort> kParticipantSorts[] = {
    {"joined_desc", ParticipantSort::kJoinedDesc},
    {"joined_asc", ParticipantSort::kJoinedAsc},
    {"left_desc", ParticipantSort::kLeftDesc},
    {"duration_desc", ParticipantSort::kDurationDesc},
};
constexpr SortName<ModerationSort> kModerationSorts[] = {
    {"created_desc", ModerationSort::kCreatedDesc},
    {"created_asc", ModerationSort::kCreatedAsc},
};
constexpr SortName<AuditSort> kAuditSorts[] = {
    {"newest_first", AuditSort::kNewestFirst},
    {"oldest_first", AuditSort::kOldestFirst},
};
constexpr SortName<TransferSort> kTransferSorts[] = {
    {"created_desc", TransferSort::kCreatedDesc},
    {"created_asc", TransferSort::kCreatedAsc},
    {"amount_desc", TransferSort::kAmountDesc},
};
constexpr SortName<NotificationSort> kNotificationSorts[] = {
    {"unread_first", NotificationSort::kUnreadFirst},
    {"newest_first", NotificationSort::kNewestFirst},
    {"oldest_first", NotificationSort::kOldestFirst},
};
constexpr SortName<TransferDirection> kDirections[] = {
    {"any", TransferDirection::kAny},
    {"outgoing", TransferDirection::kOutgoing},
    {"incoming", TransferDirection::kIncoming},
};

// Every order of each search has a name.
static_assert(std::size(kUserSorts) == static_cast<size_t>(UserSort::kLastLoginDesc) + 1);
static_assert(std::size(kRoomSorts) == static_cast<size_t>(RoomSort::kScheduledAsc) + 1);
static_assert(std::size(kCallSessionSorts) == static_cast<size_t>(CallSessionSort::kRttDesc) + 1);
static_assert(std::size(kParticipantSorts) ==
              static_cast<size_t>(ParticipantSort::kDurationDesc) + 1);
static_assert(std::size(kModerationSorts) == static_cast<size_t>(ModerationSort::kCreatedAsc) + 1);
static_assert(std::size(kAuditSorts) == static_cast<size_t>(AuditSort::kOldestFirst) + 1);
static_assert(std::size(kTransferSorts) == static_cast<size_t>(TransferSort::kAmountDesc) + 1);
static_assert(std::size(kNotificationSorts) ==
              static_cast<size_t>(NotificationSort::kOldestFirst) + 1);

bool EqualsFolded(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] + 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

// `given` among `names` (ASCII case-insensitive); absent or empty: the
// first. An unknown name fails `a`, listing the legal ones.
template <typename S, size_t N>
S Named(Args& a, const fb::String* given, std::string_view field, std::string_view what,
        const SortName<S> (&names)[N]) {
  const std::string_view name = View(given);
  if (name.empty()) return names[0].value;
  std::string legal;
  for (const SortName<S>& n : names) {
    if (EqualsFolded(name, n.name)) return n.value;
    legal += StrCat(legal.empty() ? "" : ", ", n.name);
  }
  a.Fail(StrCat(field, ": '", name.substr(0, 32), "' is not a ", what, " (one of ", legal, ")"));
  return names[0].value;
}

template <typename S, size_t N>
S Sort(Args& a, const fb::String* given, std::string_view search, const SortName<S> (&names)[N]) {
  return Named(a, given, "sort", StrCat(search, " sort"), names);
}

// An enum filter: every name must be a value of `id`.
template <typename E>
std::vector<E> Enums(Args& a, EnumId id, const StringList* names, std::string_view field) {
  std::vector<E> out;
  if (names == nullptr) return out;
  for (const fb::String* name : *names) {
    if (std::optional<E> v = a.OptEnum<E>(id, name, field)) out.push_back(*v);
  }
  return out;
}

std::vector<std::string> Strings(const StringList* names) {
  std::vector<std::string> out;
  if (names == nullptr) return out;
  for (const fb::String* name : *names) out.push_back(name->str());
  return out;
}

template <typename T>
std::optional<T> Opt(const fb::Optional<T>& v) {
  return v ? std::optional<T>(*v) : std::nullopt;
}

// [from, to): from < to when both are given.
TimeRange Times(Args& a, const wire::TimeRange* r, std::string_view field) {
  if (r == nullptr) return {};
  const TimeRange out{.from = Opt(r->from()), .to = Opt(r->to())};
  if (out.from && out.to && *out.from >= *out.to) {
    a.Fail(StrCat(field, ": from (", *out.from, ") must be before to (", *out.to,
                  "); the range is [from, to)"));
  }
  return out;
}

// [min, max]: min <= max when both are given.
IntRange Ints(Args& a, const wire::IntRange* r, std::string_view field) {
  if (r == nullptr) return {};
  const IntRange out{.min = Opt(r->min()), .max = Opt(r->max())};
  if (out.min && out.max && *out.min > *out.max) {
    a.Fail(StrCat(field, ": min (", *out.min, ") must be at most max (", *out.max, ")"));
  }
  return out;
}

// The row an optional reference names: none when absent, NOT_FOUND naming
// the field when no row has the id. Resolve after the arguments are read,
// so that a bad argument is reported first.
class Refs {
 public:
  explicit Refs(Call& c) : c_(c) {}
  void Resolve(TableId table, const wire::Uuid* id, std::string_view field,
               std::optional<RowId>* out) {
    if (id == nullptr || !status_.ok()) return;
    absl::StatusOr<RowId> row = c_.Row(table, FromWire(*id));
    if (!row.ok()) {
      status_ = absl::Status(row.status().code(), StrCat(field, ": ", row.status().message()));
      return;
    }
    *out = *row;
  }
  const absl::Status& status() const { return status_; }

 private:
  Call& c_;
  absl::Status status_;
};

size_t Limit(Args& a, uint32_t limit) {
  a.Limit(limit, kMaxSearchLimit);
  return limit;
}

// ---- The answer ----

Outcome Page(Call& c, TableId table, const absl::StatusOr<SearchPage>& page) {
  if (!page.ok()) return page.status();
  std::vector<fb::Offset<fb::String>> json;
  json.reserve(page->rows.size());
  for (RowId r : page->rows) json.push_back(c.fbb.CreateString(RowToJson(c.db, table, r)));
  const auto rows = c.fbb.CreateVector(json);
  const auto next = page->next ? c.Str(*page->next) : 0;
  const auto plan = c.Str(page->plan.Explain());
  return c.Result(wire::Result::SearchResult, wire::CreateSearchResult(c.fbb, rows, next, plan));
}

// ---- The searches ----

Outcome DoSearchUsers(Call& c, const wire::SearchUsers& op) {
  Args a;
  UserSearch req{
      .username_prefix = std::string(View(op.username_prefix())),
      .display_name_prefix = std::string(View(op.display_name_prefix())),
      .email = std::string(View(op.email())),
      .statuses =
          Enums<AccountStatus>(a, EnumId::AccountStatus, op.account_status(), "account_status"),
      .roles = Enums<UserRole>(a, EnumId::UserRole, op.role(), "role"),
      .verified = Opt(op.verified()),
      .created = Times(a, op.created(), "created"),
      .last_login = Times(a, op.last_login(), "last_login"),
      .include_deleted = op.include_deleted(),
      .sort = Sort(a, op.sort(), "user", kUserSorts),
      .limit = Limit(a, op.limit()),
      .after = std::string(View(op.after())),
  };
  VOX_RETURN_IF_ERROR(a.status());
  return Page(c, TableId::users, SearchUsers(c.db, req));
}

Outcome DoSearchRooms(Call& c, const wire::SearchRooms& op) {
  Args a;
  RoomSearch req{
      .is_public = Opt(op.is_public()),
      .statuses = Enums<RoomStatus>(a, EnumId::RoomStatus, op.status(), "status"),
      .live_now = op.live_now(),
      .tags_any = Strings(op.tags()),
      .tags_all = Strings(op.tags_all()),
      .max_participants = Ints(a, op.max_participants(), "max_participants"),
      .participants = Ints(a, op.participants(), "participants"),
      .has_free_seat = op.has_free_seat(),
      .created = Times(a, op.created(), "created"),
      .scheduled = Times(a, op.scheduled(), "scheduled"),
      .include_deleted = op.include_deleted(),
      .sort = Sort(a, op.sort(), "room", kRoomSorts),
      .limit = Limit(a, op.limit()),
      .after = std::string(View(op.after())),
  };
  VOX_RETURN_IF_ERROR(a.status());
  Refs refs(c);
  refs.Resolve(TableId::users, op.owner_id(), "owner_id", &req.owner);
  refs.Resolve(TableId::room_categories, op.category_id(), "category_id", &req.category);
  VOX_RETURN_IF_ERROR(refs.status());
  return Page(c, TableId::rooms, SearchRooms(c.db, req));
}

Outcome DoSearchCallSessions(Call& c, const wire::SearchCallSessions& op) {
  Args a;
  CallSessionSearch req{
      .statuses = Enums<CallSessionStatus>(a, EnumId::CallSessionStatus, op.status(), "status"),
      .failure_reasons = Enums<CallFailureReason>(a, EnumId::CallFailureReason, op.failure_reason(),
                                                  "failure_reason"),
      .transports = Enums<CallTransport>(a, EnumId::CallTransport, op.transport(), "transport"),
      .region = std::string(View(op.region())),
      .started = Times(a, op.started(), "started"),
      .packet_loss_bp = Ints(a, op.packet_loss_bp(), "packet_loss_bp"),
      .rtt_ms = Ints(a, op.rtt_ms(), "rtt_ms"),
      .jitter_ms = Ints(a, op.jitter_ms(), "jitter_ms"),
      .bitrate_kbps = Ints(a, op.bitrate_kbps(), "bitrate_kbps"),
      .sort = Sort(a, op.sort(), "call session", kCallSessionSorts),
      .limit = Limit(a, op.limit()),
      .after = std::string(View(op.after())),
  };
  VOX_RETURN_IF_ERROR(a.status());
  Refs refs(c);
  refs.Resolve(TableId::users, op.user_id(), "user_id", &req.user);
  refs.Resolve(TableId::rooms, op.room_id(), "room_id", &req.room);
  refs.Resolve(TableId::room_participants, op.participant_id(), "participant_id", &req.participant);
  VOX_RETURN_IF_ERROR(refs.status());
  return Page(c, TableId::call_sessions, SearchCallSessions(c.db, req));
}

Outcome DoSearchParticipants(Call& c, const wire::SearchParticipants& op) {
  Args a;
  ParticipantSearch req{
      .roles = Enums<ParticipantRole>(a, EnumId::ParticipantRole, op.role(), "role"),
      .present = Opt(op.present()),
      .joined = Times(a, op.joined(), "joined"),
      .left = Times(a, op.left(), "left"),
      .duration_seconds = Ints(a, op.duration_seconds(), "duration_seconds"),
      .mute_count = Ints(a, op.mute_count(), "mute_count"),
      .hand_raise_count = Ints(a, op.hand_raise_count(), "hand_raise_count"),
      .kicked = Opt(op.kicked()),
      .banned = Opt(op.banned()),
      .sort = Sort(a, op.sort(), "participant", kParticipantSorts),
      .limit = Limit(a, op.limit()),
      .after = std::string(View(op.after())),
  };
  VOX_RETURN_IF_ERROR(a.status());
  Refs refs(c);
  refs.Resolve(TableId::rooms, op.room_id(), "room_id", &req.room);
  refs.Resolve(TableId::users, op.user_id(), "user_id", &req.user);
  VOX_RETURN_IF_ERROR(refs.status());
  return Page(c, TableId::room_participants, SearchParticipants(c.db, req));
}

Outcome DoSearchModeration(Call& c, const wire::SearchModeration& op) {
  Args a;
  ModerationSearch req{
      .types = Enums<ModerationActionType>(a, EnumId::ModerationActionType, op.action_type(),
                                           "action_type"),
      .created = Times(a, op.created(), "created"),
      .in_force = Opt(op.in_force()),
      .sort = Sort(a, op.sort(), "moderation", kModerationSorts),
      .limit = Limit(a, op.limit()),
      .after = std::string(View(op.after())),
  };
  VOX_RETURN_IF_ERROR(a.status());
  Refs refs(c);
  refs.Resolve(TableId::users, op.target_user_id(), "target_user_id", &req.target);
  refs.Resolve(TableId::users, op.moderator_id(), "moderator_id", &req.moderator);
  refs.Resolve(TableId::rooms, op.room_id(), "room_id", &req.room);
  VOX_RETURN_IF_ERROR(refs.status());
  return Page(c, TableId::moderation_actions, SearchModeration(c.db, req));
}

Outcome DoSearchAudit(Call& c, const wire::SearchAudit& op) {
  Args a;
  AuditSearch req{
      .actions = Enums<AuditAction>(a, EnumId::AuditAction, op.action(), "action"),
      .time = Times(a, op.time(), "time"),
      .sort = Sort(a, op.sort(), "audit", kAuditSorts),
      .limit = Limit(a, op.limit()),
      .after = std::string(View(op.after())),
  };
  VOX_RETURN_IF_ERROR(a.status());
  Refs refs(c);
  refs.Resolve(TableId::users, op.user_id(), "user_id", &req.user);
  refs.Resolve(TableId::users, op.target_user_id(), "target_user_id", &req.target);
  refs.Resolve(TableId::rooms, op.room_id(), "room_id", &req.room);
  VOX_RETURN_IF_ERROR(refs.status());
  return Page(c, TableId::audit_logs, SearchAudit(c.db, req));
}

Outcome DoSearchTransfers(Call& c, const wire::SearchTransfers& op) {
  Args a;
  TransferSearch req{
      .direction = Named(a, op.direction(), "direction", "transfer direction", kDirections),
      .types = Enums<TransferType>(a, EnumId::TransferType, op.type(), "type"),
      .statuses = Enums<TransferStatus>(a, EnumId::TransferStatus, op.status(), "status"),
      .amount = Ints(a, op.amount(), "amount"),
      .created = Times(a, op.created(), "created"),
      .sort = Sort(a, op.sort(), "transfer", kTransferSorts),
      .limit = Limit(a, op.limit()),
      .after = std::string(View(op.after())),
  };
  if (req.direction != TransferDirection::kAny && op.wallet_id() == nullptr) {
    a.Fail(StrCat("direction: '", View(op.direction()).substr(0, 32), "' needs a wallet_id"));
  }
  VOX_RETURN_IF_ERROR(a.status());
  Refs refs(c);
  refs.Resolve(TableId::wallets, op.wallet_id(), "wallet_id", &req.wallet);
  refs.Resolve(TableId::rooms, op.room_id(), "room_id", &req.room);
  VOX_RETURN_IF_ERROR(refs.status());
  return Page(c, TableId::transactions, SearchTransfers(c.db, req));
}

Outcome DoSearchNotifications(Call& c, const wire::SearchNotifications& op) {
  Args a;
  NotificationSearch req{
      .kinds = Enums<NotificationKind>(a, EnumId::NotificationKind, op.kind(), "kind"),
      .unread = Opt(op.unread()),
      .created = Times(a, op.created(), "created"),
      .unexpired_at = Opt(op.unexpired_at()),
      .include_deleted = op.include_deleted(),
      .sort = Sort(a, op.sort(), "notification", kNotificationSorts),
      .limit = Limit(a, op.limit()),
      .after = std::string(View(op.after())),
  };
  VOX_RETURN_IF_ERROR(a.status());
  Refs refs(c);
  refs.Resolve(TableId::users, op.recipient_id(), "recipient_id", &req.recipient);
  refs.Resolve(TableId::users, op.actor_id(), "actor_id", &req.actor);
  refs.Resolve(TableId::rooms, op.room_id(), "room_id", &req.room);
  VOX_RETURN_IF_ERROR(refs.status());
  return Page(c, TableId::notifications, SearchNotifications(c.db, req));
}

}  // namespace

std::optional<Outcome> ExecuteSearch(Call& c, Op type, const void* raw) {
  switch (type) {
    case Op::SearchUsers:
      return DoSearchUsers(c, *As<wire::SearchUsers>(raw));
    case Op::SearchRooms:
      return DoSearchRooms(c, *As<wire::SearchRooms>(raw));
    case Op::SearchCallSessions:
      return DoSearchCallSessions(c, *As<wire::SearchCallSessions>(raw));
    case Op::SearchParticipants:
      return DoSearchParticipants(c, *As<wire::SearchParticipants>(raw));
    case Op::SearchModeration:
      return DoSearchModeration(c, *As<wire::SearchModeration>(raw));
    case Op::SearchAudit:
      return DoSearchAudit(c, *As<wire::SearchAudit>(raw));
    case Op::SearchTransfers:
      return DoSearchTransfers(c, *As<wire::SearchTransfers>(raw));
    case Op::SearchNotifications:
      return DoSearchNotifications(c, *As<wire::SearchNotifications>(raw));
    default:
      return std::nullopt;
  }
}

}  // namespace vox::net
