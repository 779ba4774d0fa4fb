// The search machinery (engine/internal/search_util.h), and the user and
// room searches. Activity (participants, call sessions) is in
// search_activity.cc; trails (moderation, audit, transfers, notifications)
// in search_trails.cc.
#include "engine/ops/search.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "engine/internal/search_cursor_format.h"
#include "engine/internal/search_util.h"
#include "schema/str.h"
#define XXH_INLINE_ALL
#include "xxhash.h"

namespace vox {
namespace internal {
namespace {

void PutLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetLe(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<uint8_t>(in[at + i])} << (8 * i);
  return v;
}

uint32_t CursorCheck(std::string_view bytes) {
  return static_cast<uint32_t>(XXH3_64bits_withSeed(bytes.data(), bytes.size(), kCursorSeed));
}

absl::Status BadCursor(std::string_view why) {
  return absl::InvalidArgumentError(StrCat("invalid search cursor: ", why));
}

}  // namespace

std::string_view SearchKindName(SearchKind kind) {
  switch (kind) {
    case SearchKind::kUsers:
      return "user";
    case SearchKind::kRooms:
      return "room";
    case SearchKind::kCallSessions:
      return "call session";
    case SearchKind::kParticipants:
      return "participant";
    case SearchKind::kModeration:
      return "moderation";
    case SearchKind::kAudit:
      return "audit";
    case SearchKind::kTransfers:
      return "transfer";
    case SearchKind::kNotifications:
      return "notification";
  }
  return "unknown";
}

int CompareFolded(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return x < y ? -1 : 1;
  }
  return (a.size() > b.size()) - (a.size() < b.size());
}

absl::Status CheckLimit(size_t limit) {
  if (limit < 1 || limit > kMaxSearchLimit) {
    return absl::InvalidArgumentError(
        StrCat("a search page holds 1..", kMaxSearchLimit, " rows; asked for ", limit));
  }
  return absl::OkStatus();
}

std::string EncodeCursor(SearchKind kind, uint8_t sort, const SortKey& key) {
  VOX_DCHECK(key.s.size() <= kCursorMaxString);
  const std::string_view s = key.s.substr(0, kCursorMaxString);
  std::string bytes;
  bytes.reserve(kCursorHeaderSize + s.size() + kCursorCheckSize);
  bytes.push_back(static_cast<char>(kCursorVersion));
  bytes.push_back(static_cast<char>(kind));
  bytes.push_back(static_cast<char>(sort));
  bytes.push_back(static_cast<char>(s.size()));
  PutLe(bytes, static_cast<uint64_t>(key.v0), 8);
  PutLe(bytes, static_cast<uint64_t>(key.v1), 8);
  PutLe(bytes, key.row, 4);
  bytes.append(s);
  PutLe(bytes, CursorCheck(bytes), 4);
  std::string text;
  absl::WebSafeBase64Escape(absl::string_view(bytes.data(), bytes.size()), &text);
  return text;
}

absl::Status Paging::Init(SearchKind k, uint8_t s, bool d, size_t lim, std::string_view cursor) {
  kind = k;
  sort = s;
  desc = d;
  limit = lim;
  VOX_RETURN_IF_ERROR(CheckLimit(lim));
  if (cursor.empty()) return absl::OkStatus();
  std::string bytes;
  if (cursor.size() > 4 * (kCursorHeaderSize + kCursorMaxString + kCursorCheckSize) ||
      !absl::WebSafeBase64Unescape(absl::string_view(cursor.data(), cursor.size()), &bytes)) {
    return BadCursor("not a cursor");
  }
  const std::string_view in = bytes;
  if (in.size() < kCursorHeaderSize + kCursorCheckSize ||
      in.size() != kCursorHeaderSize + static_cast<uint8_t>(in[3]) + kCursorCheckSize ||
      GetLe(in, in.size() - kCursorCheckSize, 4) !=
          CursorCheck(in.substr(0, in.size() - kCursorCheckSize))) {
    return BadCursor("not a cursor");
  }
  if (static_cast<uint8_t>(in[0]) != kCursorVersion) {
    return BadCursor(StrCat("version ", static_cast<int>(in[0]), " is not supported"));
  }
  const auto other = static_cast<SearchKind>(in[1]);
  if (other != kind) {
    return BadCursor(StrCat("it belongs to a ", SearchKindName(other), " search, not a ",
                            SearchKindName(kind), " search"));
  }
  if (static_cast<uint8_t>(in[2]) != sort) {
    return BadCursor(
        StrCat("it belongs to another sort order of the ", SearchKindName(kind), " search"));
  }
  after_s_ = std::string(in.substr(kCursorHeaderSize, static_cast<uint8_t>(in[3])));
  after = SortKey{static_cast<int64_t>(GetLe(in, 4, 8)), static_cast<int64_t>(GetLe(in, 12, 8)),
                  after_s_, static_cast<RowId>(GetLe(in, 20, 4))};
  return absl::OkStatus();
}

void Paging::BoundLeading(const TimeRange& r) {
  if (r.from) v0_min = std::max(v0_min, *r.from);
  if (r.to) {
    if (*r.to == INT64_MIN) {  // nothing is below it: an empty range
      v0_min = INT64_MAX;
      v0_max = INT64_MIN;
    } else {
      v0_max = std::min(v0_max, *r.to - 1);
    }
  }
}

std::optional<SortKey> Paging::StartKey() const {
  std::optional<SortKey> bound;
  if (!desc && v0_min > INT64_MIN) bound = SortKey{v0_min - 1, INT64_MAX, {}, UINT32_MAX};
  if (desc && v0_max < INT64_MAX) bound = SortKey{v0_max + 1, INT64_MIN, {}, 0};
  if (!after) return bound;
  if (bound && Before(*after, *bound, desc)) return bound;
  return after;
}

SearchPage PageBuilder::Finish(SearchPlan plan) {
  if (heap_) {
    std::sort_heap(keys_.begin(), keys_.end(),
                   [this](const SortKey& a, const SortKey& b) { return Before(a, b, p_.desc); });
  }
  SearchPage page;
  const size_t n = std::min(keys_.size(), p_.limit);
  page.rows.reserve(n);
  for (size_t i = 0; i < n; ++i) page.rows.push_back(keys_[i].row);
  if (keys_.size() > p_.limit) page.next = EncodeCursor(p_.kind, p_.sort, keys_[p_.limit - 1]);
  page.plan = std::move(plan);
  return page;
}

// ---- Filters ------------------------------------------------------------------

void KeepNull(const Column& col, std::vector<RowId>& rows, bool want_null) {
  if (!col.def().nullable()) {
    if (want_null) rows.clear();
    return;
  }
  KeepIf(rows, [&](RowId r) { return col.IsNull(r) == want_null; });
}

void KeepTimes(const Column& col, std::vector<RowId>& rows, const TimeRange& range) {
  if (!range.from && !range.to) return;
  if (range.to && *range.to == INT64_MIN) {
    rows.clear();
    return;
  }
  const int64_t lo = range.from.value_or(INT64_MIN);
  const int64_t hi = range.to ? *range.to - 1 : INT64_MAX;
  KeepValues<int64_t>(col, rows, [=](int64_t v) { return v >= lo && v <= hi; });
}

void KeepInts(const Column& col, std::vector<RowId>& rows, const IntRange& range) {
  if (!range.min && !range.max) return;
  const int64_t lo = range.min.value_or(INT64_MIN);
  const int64_t hi = range.max.value_or(INT64_MAX);
  if (col.width() == 4) {
    KeepValues<int32_t>(col, rows, [=](int32_t v) { return v >= lo && v <= hi; });
  } else {
    KeepValues<int64_t>(col, rows, [=](int64_t v) { return v >= lo && v <= hi; });
  }
}

void KeepEnums(const Column& col, std::vector<RowId>& rows, uint64_t mask) {
  if (mask == 0) return;
  KeepValues<uint8_t>(col, rows, [=](uint8_t v) { return ((mask >> (v & 63)) & 1) != 0; });
}

void KeepBool(const Column& col, std::vector<RowId>& rows, std::optional<bool> value) {
  if (!value) return;
  const uint8_t want = *value ? 1 : 0;
  KeepValues<uint8_t>(col, rows, [=](uint8_t v) { return v == want; });
}

void KeepRef(const Column& col, std::vector<RowId>& rows, std::optional<RowId> value) {
  if (!value) return;
  const RowId want = *value;
  KeepValues<uint32_t>(col, rows, [=](uint32_t v) { return v == want; });
}

void KeepString(const Column& col, std::vector<RowId>& rows, std::string_view value) {
  const StringHeap& heap = *col.heap();
  KeepValues<uint64_t>(col, rows, [&](uint64_t ref) { return heap.Get(ref) == value; });
}

void KeepPrefixFolded(const Column& col, std::vector<RowId>& rows, std::string_view prefix) {
  if (prefix.empty()) return;
  const StringHeap& heap = *col.heap();
  KeepValues<uint64_t>(col, rows, [&](uint64_t ref) {
    const std::string_view s = heap.Get(ref);
    return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
  });
}

// ---- Index runs -----------------------------------------------------------------

IndexRun IndexRun::Group(std::span<const GroupEntry> entries, bool reverse) {
  IndexRun run;
  run.entries_ = entries;
  run.reverse_ = reverse;
  run.pos_ = reverse ? entries.size() : 0;
  return run;
}

IndexRun IndexRun::Tree(const OrderedTableIndex& ix, IndexKey low, IndexKey high, bool reverse) {
  IndexRun run;
  run.tree_ = true;
  run.reverse_ = reverse;
  run.ix_ = &ix;
  run.low_ = low;
  run.high_ = high;
  const OrderedIndex& tree = ix.tree();
  if (!reverse) {
    run.it_ = tree.LowerBound(low);
  } else {
    run.it_ = high == absl::Uint128Max() ? tree.end() : tree.LowerBound(high + 1);
  }
  return run;
}

void IndexRun::SeekTree(IndexKey key) {
  VOX_DCHECK(tree_);
  const OrderedIndex& tree = ix_->tree();
  if (!reverse_) {  // keys above `key`
    if (key >= low_) it_ = key == absl::Uint128Max() ? tree.end() : tree.LowerBound(key + 1);
  } else if (key <= high_) {  // keys below `key`
    it_ = tree.LowerBound(key);
  }
}

bool IndexRun::done() const {
  if (!tree_) return reverse_ ? pos_ == 0 : pos_ >= entries_.size();
  if (!reverse_) return it_ == ix_->tree().end() || *it_ > high_;
  return it_ == ix_->tree().begin() || *std::prev(it_) < low_;
}

RowId IndexRun::row() const {
  if (!tree_) return entries_[reverse_ ? pos_ - 1 : pos_].row;
  return ix_->RowOf(reverse_ ? *std::prev(it_) : *it_);
}

void IndexRun::Next() {
  if (!tree_) {
    reverse_ ? --pos_ : ++pos_;
  } else if (!reverse_) {
    ++it_;
  } else {
    --it_;
  }
}

}  // namespace internal

std::string SearchPlan::Explain() const {
  switch (access) {
    case Access::kIndexOrder:
      return StrCat(table, ": index ", index, " in sort order, ", examined, " rows examined");
    case Access::kIndexRows:
      return StrCat(table, ": index ", index, " rows, ", examined, " examined and sorted");
    case Access::kScan:
      return StrCat(table, ": scan, ", examined, " rows examined");
    case Access::kNothing:
      return StrCat(table, ": no row can match");
  }
  return "";
}

namespace {

using internal::Bit;
using internal::IndexRun;
using internal::PageBuilder;
using internal::Paging;
using internal::SearchKind;
using internal::SortKey;

constexpr size_t kUsersEmail = IndexNo("users_email");
constexpr size_t kUsersActive = IndexNo("users_active");
constexpr size_t kRoomsByOwner = IndexNo("rooms_by_owner");
constexpr size_t kRoomsByCategory = IndexNo("rooms_by_category");
constexpr size_t kRoomsByStatus = IndexNo("rooms_by_status");
constexpr size_t kLiveByTag = IndexNo("rooms_live_by_tag");
constexpr size_t kTagsName = IndexNo("tags_name");

// ---- Users ------------------------------------------------------------------------

class UserQuery {
 public:
  UserQuery(const Database& db, const UserSearch& req, uint64_t statuses, uint64_t roles)
      : t_(db.table(TableId::users)), req_(req), statuses_(statuses), roles_(roles) {}

  void Filter(std::vector<RowId>& rows) const {
    if (!req_.include_deleted) internal::KeepNull(t_.column(users::deleted_at), rows, true);
    internal::KeepEnums(t_.column(users::account_status), rows, statuses_);
    internal::KeepEnums(t_.column(users::role), rows, roles_);
    internal::KeepBool(t_.column(users::is_verified), rows, req_.verified);
    internal::KeepTimes(t_.column(users::created_at), rows, req_.created);
    internal::KeepTimes(t_.column(users::last_login_at), rows, req_.last_login);
    if (!req_.email.empty()) {
      const StringHeap& heap = *t_.column(users::email).heap();
      internal::KeepValues<uint64_t>(t_.column(users::email), rows, [&](uint64_t ref) {
        return EqualsIgnoreCase(heap.Get(ref), req_.email);
      });
    }
    internal::KeepPrefixFolded(t_.column(users::username), rows, req_.username_prefix);
    internal::KeepPrefixFolded(t_.column(users::display_name), rows, req_.display_name_prefix);
  }

  SortKey KeyOf(RowId r) const {
    switch (req_.sort) {
      case UserSort::kCreatedDesc:
      case UserSort::kCreatedAsc:
        return {t_.GetTime(r, users::created_at), 0, {}, r};
      case UserSort::kUsernameAsc:
        return {0, 0, t_.GetString(r, users::username), r};
      case UserSort::kLastLoginDesc:
        return {internal::SortValue(t_, r, users::last_login_at, true), 0, {}, r};
    }
    return {0, 0, {}, r};
  }

 private:
  const Table& t_;
  const UserSearch& req_;
  uint64_t statuses_, roles_;
};

// ---- Rooms ------------------------------------------------------------------------

class RoomQuery {
 public:
  RoomQuery(const Database& db, const RoomSearch& req, uint64_t statuses,
            std::vector<uint16_t> tags_any, std::vector<uint16_t> tags_all)
      : t_(db.table(TableId::rooms)),
        req_(req),
        statuses_(statuses),
        any_(std::move(tags_any)),
        all_(std::move(tags_all)) {}

  void Filter(std::vector<RowId>& rows) const {
    if (!req_.include_deleted) internal::KeepNull(t_.column(rooms::deleted_at), rows, true);
    internal::KeepEnums(t_.column(rooms::status), rows, statuses_);
    internal::KeepBool(t_.column(rooms::is_public), rows, req_.is_public);
    internal::KeepRef(t_.column(rooms::owner_id), rows, req_.owner);
    internal::KeepRef(t_.column(rooms::category_id), rows, req_.category);
    internal::KeepInts(t_.column(rooms::max_participants), rows, req_.max_participants);
    internal::KeepInts(t_.column(rooms::participant_count), rows, req_.participants);
    if (req_.has_free_seat) {
      internal::ColumnReader<int32_t> present(t_.column(rooms::participant_count));
      internal::ColumnReader<int32_t> capacity(t_.column(rooms::max_participants));
      internal::KeepIf(rows, [&](RowId r) { return present(r) < capacity(r); });
    }
    internal::KeepTimes(t_.column(rooms::created_at), rows, req_.created);
    internal::KeepTimes(t_.column(rooms::scheduled_start), rows, req_.scheduled);
    if (!any_.empty() || !all_.empty()) {
      internal::KeepValues<int64_t>(t_.column(rooms::tags), rows,
                                    [&](int64_t packed) { return TagsMatch(packed); });
    }
  }

  SortKey KeyOf(RowId r) const {
    switch (req_.sort) {
      case RoomSort::kCreatedDesc:
      case RoomSort::kCreatedAsc:
        return {t_.GetTime(r, rooms::created_at), 0, {}, r};
      case RoomSort::kStartedDesc:
        return {internal::SortValue(t_, r, rooms::started_at, true), 0, {}, r};
      case RoomSort::kParticipantsDesc:
        return {t_.GetInt(r, rooms::participant_count), 0, {}, r};
      case RoomSort::kScheduledAsc:
        return {internal::SortValue(t_, r, rooms::scheduled_start, false), 0, {}, r};
    }
    return {0, 0, {}, r};
  }

 private:
  bool TagsMatch(int64_t packed) const {
    uint16_t ids[kMaxTagsPerRoom];
    for (int i = 0; i < kMaxTagsPerRoom; ++i) {
      ids[i] = static_cast<uint16_t>(static_cast<uint64_t>(packed) >> (16 * i));
    }
    const auto has = [&](uint16_t tag) {
      return tag != 0 && std::find(std::begin(ids), std::end(ids), tag) != std::end(ids);
    };
    for (const uint16_t tag : all_) {
      if (!has(tag)) return false;
    }
    if (any_.empty()) return true;
    for (const uint16_t id : ids) {
      if (id != 0 && std::binary_search(any_.begin(), any_.end(), id)) return true;
    }
    return false;
  }

  const Table& t_;
  const RoomSearch& req_;
  uint64_t statuses_;
  std::vector<uint16_t> any_, all_;  // tag ids (tags row + 1), sorted, unique
};

// Tag names to sorted unique tag ids; `*unknown` counts names with no tag.
std::vector<uint16_t> TagIds(const Database& db, const std::vector<std::string>& names,
                             size_t* unknown) {
  std::vector<uint16_t> ids;
  for (const std::string& name : names) {
    const Value probe[] = {Value(std::string_view(name))};
    const RowId t = db.hash(kTagsName).Find(probe);
    if (t == kNoRow) {
      ++*unknown;
    } else {
      ids.push_back(static_cast<uint16_t>(t + 1));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

absl::StatusOr<SearchPage> SearchUsers(const Database& db, const UserSearch& req) {
  if (req.sort > UserSort::kLastLoginDesc) return absl::InvalidArgumentError("unknown user sort");
  VOX_ASSIGN_OR_RETURN(const uint64_t statuses,
                       internal::EnumMask(EnumId::AccountStatus, req.statuses, "statuses"));
  VOX_ASSIGN_OR_RETURN(const uint64_t roles,
                       internal::EnumMask(EnumId::UserRole, req.roles, "roles"));
  const bool by_created = req.sort == UserSort::kCreatedDesc || req.sort == UserSort::kCreatedAsc;
  const bool desc = req.sort == UserSort::kCreatedDesc || req.sort == UserSort::kLastLoginDesc;
  Paging paging;
  VOX_RETURN_IF_ERROR(
      paging.Init(SearchKind::kUsers, static_cast<uint8_t>(req.sort), desc, req.limit, req.after));
  const UserQuery q(db, req, statuses, roles);
  PageBuilder page(paging);
  constexpr std::string_view kTable = "users";
  if (!req.email.empty()) {
    const Value probe[] = {Value(std::string_view(req.email))};
    std::vector<RowId> rows;
    if (const RowId r = db.hash(kUsersEmail).Find(probe); r != kNoRow) rows.push_back(r);
    const size_t n = internal::FilterCandidates(std::move(rows), q, paging, page);
    return page.Finish(
        internal::MakePlan(kTable, SearchPlan::Access::kIndexRows, "users_email", n));
  }
  if (statuses == Bit(AccountStatus::ACTIVE) && by_created) {
    // users_active holds exactly the ACTIVE users (is_active mirrors the
    // status; deleted users are DELETED), by creation time.
    const OrderedTableIndex& ix = db.ordered(kUsersActive);
    const auto [low, high] = ix.PrefixRange({});
    std::vector<IndexRun> runs{IndexRun::Tree(ix, low, high, /*reverse=*/desc)};
    paging.BoundLeading(req.created);
    if (const auto start = paging.StartKey()) runs[0].SeekTree(ix.KeyFor({start->v0}, start->row));
    const size_t n = internal::WalkInOrder(runs, q, paging, page);
    return page.Finish(
        internal::MakePlan(kTable, SearchPlan::Access::kIndexOrder, "users_active", n));
  }
  const size_t n = internal::ScanTable(db.table(TableId::users), q, paging, page);
  return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kScan, "", n));
}

absl::StatusOr<SearchPage> SearchRooms(const Database& db, const RoomSearch& req) {
  if (req.sort > RoomSort::kScheduledAsc) return absl::InvalidArgumentError("unknown room sort");
  VOX_ASSIGN_OR_RETURN(uint64_t statuses,
                       internal::EnumMask(EnumId::RoomStatus, req.statuses, "statuses"));
  const bool by_created = req.sort == RoomSort::kCreatedDesc || req.sort == RoomSort::kCreatedAsc;
  const bool desc = req.sort != RoomSort::kCreatedAsc && req.sort != RoomSort::kScheduledAsc;
  Paging paging;
  VOX_RETURN_IF_ERROR(
      paging.Init(SearchKind::kRooms, static_cast<uint8_t>(req.sort), desc, req.limit, req.after));
  constexpr std::string_view kTable = "rooms";
  PageBuilder page(paging);
  bool impossible = false;
  if (req.live_now) {
    statuses = statuses == 0 ? Bit(RoomStatus::LIVE) : statuses & Bit(RoomStatus::LIVE);
    impossible |= statuses == 0;
  }
  size_t unknown_any = 0, unknown_all = 0;
  std::vector<uint16_t> any = TagIds(db, req.tags_any, &unknown_any);
  std::vector<uint16_t> all = TagIds(db, req.tags_all, &unknown_all);
  impossible |= !req.tags_any.empty() && any.empty();
  impossible |= unknown_all > 0 || all.size() > static_cast<size_t>(kMaxTagsPerRoom);
  if (impossible) {
    return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kNothing, "", 0));
  }

  const std::vector<uint16_t> run_tags = all.empty() ? any : std::vector<uint16_t>{all.front()};
  const RoomQuery q(db, req, statuses, std::move(any), std::move(all));
  if (req.owner || req.category) {
    const size_t no = req.owner ? kRoomsByOwner : kRoomsByCategory;
    const size_t n = internal::FilterCandidates(
        internal::RowsOf(db.grouped(no).Group(req.owner ? *req.owner : *req.category)), q, paging,
        page);
    return page.Finish(
        internal::MakePlan(kTable, SearchPlan::Access::kIndexRows, kIndexes[no].name, n));
  }
  const bool open_public_live =
      statuses == Bit(RoomStatus::LIVE) && req.is_public == true && !req.include_deleted;
  if (!run_tags.empty() && open_public_live) {
    // rooms_live_by_tag: (tag, started_at DESC) over public LIVE rooms.
    const OrderedTableIndex& ix = db.ordered(kLiveByTag);
    std::vector<IndexRun> runs;
    for (const uint16_t tag : run_tags) {
      const auto [low, high] = ix.PrefixRange({tag});
      runs.push_back(IndexRun::Tree(ix, low, high, /*reverse=*/false));
    }
    if (req.sort == RoomSort::kStartedDesc) {
      if (const auto start = paging.StartKey()) {
        for (size_t i = 0; i < runs.size(); ++i) {
          runs[i].SeekTree(ix.KeyFor({run_tags[i], start->v0}, start->row));
        }
      }
      const size_t n = internal::WalkInOrder(runs, q, paging, page);
      return page.Finish(
          internal::MakePlan(kTable, SearchPlan::Access::kIndexOrder, "rooms_live_by_tag", n));
    }
    std::vector<RowId> rows;
    for (IndexRun& run : runs) {
      for (; !run.done(); run.Next()) rows.push_back(run.row());
    }
    const size_t n = internal::FilterCandidates(std::move(rows), q, paging, page);
    return page.Finish(
        internal::MakePlan(kTable, SearchPlan::Access::kIndexRows, "rooms_live_by_tag", n));
  }
  if (statuses != 0 && !req.include_deleted && by_created) {
    // rooms_by_status: (status, created_at DESC) over rooms not deleted.
    const OrderedTableIndex& ix = db.ordered(kRoomsByStatus);
    std::vector<IndexRun> runs;
    std::vector<int64_t> run_status;
    for (int s = 0; s < 64; ++s) {
      if (((statuses >> s) & 1) == 0) continue;
      const auto [low, high] = ix.PrefixRange({s});
      runs.push_back(IndexRun::Tree(ix, low, high, /*reverse=*/!desc));
      run_status.push_back(s);
    }
    paging.BoundLeading(req.created);
    if (const auto start = paging.StartKey()) {
      for (size_t i = 0; i < runs.size(); ++i) {
        runs[i].SeekTree(ix.KeyFor({run_status[i], start->v0}, start->row));
      }
    }
    const size_t n = internal::WalkInOrder(runs, q, paging, page);
    return page.Finish(
        internal::MakePlan(kTable, SearchPlan::Access::kIndexOrder, "rooms_by_status", n));
  }
  const size_t n = internal::ScanTable(db.table(TableId::rooms), q, paging, page);
  return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kScan, "", n));
}

}  // namespace vox
