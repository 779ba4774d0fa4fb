#include "engine/ops/queries.h"

namespace vox {
namespace {

constexpr size_t kPresentByUser = IndexNo("participants_present_by_user");
constexpr size_t kParticipantsByRoom = IndexNo("participants_by_room");
constexpr size_t kAuditByRoom = IndexNo("audit_by_room");
constexpr size_t kAuditByUser = IndexNo("audit_by_user");
constexpr size_t kLiveByTag = IndexNo("rooms_live_by_tag");

RowId FindUnique(const Database& db, size_t index, std::string_view key) {
  const Value probe[] = {Value(key)};
  return db.hash(index).Find(probe);
}

// A newest-first page over a grouped index keyed (owner, time DESC).
std::optional<PageCursor> NewestFirstPage(const Database& db, size_t index, int64_t owner,
                                          size_t limit, std::optional<PageCursor> after,
                                          std::vector<RowId>* out) {
  out->clear();
  if (limit == 0) return std::nullopt;
  const GroupedTableIndex& ix = db.grouped(index);
  std::optional<GroupEntry> from;
  if (after) from = ix.EntryOf(after->row);
  ix.ScanGroup(owner, from, [&](RowId r) {
    out->push_back(r);
    return out->size() < limit;
  });
  if (out->size() < limit) return std::nullopt;
  return PageCursor{0, out->back()};
}

}  // namespace

RowId FindUserByEmail(const Database& db, std::string_view email) {
  return FindUnique(db, IndexNo("users_email"), email);
}

RowId FindUserByUsername(const Database& db, std::string_view username) {
  return FindUnique(db, IndexNo("users_username"), username);
}

RowId FindTag(const Database& db, std::string_view name) {
  return FindUnique(db, IndexNo("tags_name"), name);
}

void PresentParticipants(const Database& db, RowId room, std::vector<ParticipantState>* out) {
  out->clear();
  const Table& p = db.table(TableId::room_participants);
  db.range(kParticipantsByRoom).ScanPrefix({static_cast<int64_t>(room), kNullKey}, [&](RowId r) {
    const bool hand = p.GetBool(r, room_participants::hand_raised);
    out->push_back({r, p.GetRef(r, room_participants::user_id),
                    p.GetEnum<ParticipantRole>(r, room_participants::role),
                    p.GetBool(r, room_participants::is_muted), hand,
                    p.GetBool(r, room_participants::is_speaking),
                    p.GetBool(r, room_participants::is_screen_sharing),
                    p.GetTime(r, room_participants::joined_at),
                    hand ? p.GetTime(r, room_participants::hand_raised_at) : 0});
    return true;
  });
}

void UserPresentRooms(const Database& db, RowId user, std::vector<RowId>* participants) {
  participants->clear();
  db.range(kPresentByUser).ScanPrefix({static_cast<int64_t>(user)}, [&](RowId r) {
    participants->push_back(r);
    return true;
  });
}

std::optional<PageCursor> RoomAuditTrail(const Database& db, RowId room, size_t limit,
                                         std::optional<PageCursor> after, std::vector<RowId>* out) {
  return NewestFirstPage(db, kAuditByRoom, room, limit, after, out);
}

std::optional<PageCursor> UserAuditTrail(const Database& db, RowId user, size_t limit,
                                         std::optional<PageCursor> after, std::vector<RowId>* out) {
  return NewestFirstPage(db, kAuditByUser, user, limit, after, out);
}

RoomStats RoomStatistics(const Database& db, RowId room) {
  RoomStats s{room};
  const Table& p = db.table(TableId::room_participants);
  int64_t left = 0;
  db.range(kParticipantsByRoom).ScanPrefix({static_cast<int64_t>(room)}, [&](RowId r) {
    ++s.participations;
    if (p.IsNull(r, room_participants::left_at)) {
      ++s.present;
    } else {
      ++left;
      s.total_duration_seconds += p.GetInt(r, room_participants::duration_seconds);
    }
    return true;
  });
  s.average_duration_seconds = left == 0 ? 0 : static_cast<double>(s.total_duration_seconds) / left;
  return s;
}

std::optional<PageCursor> LiveRoomsByTag(const Database& db, std::string_view tag, size_t limit,
                                         std::optional<PageCursor> after, std::vector<RowId>* out) {
  out->clear();
  const RowId t = FindTag(db, tag);
  if (t == kNoRow || limit == 0) return std::nullopt;
  const int64_t tag_id = int64_t{t} + 1;
  const OrderedTableIndex& ix = db.ordered(kLiveByTag);
  auto [low, high] = ix.PrefixRange({tag_id});
  if (after) low = ix.KeyFor({tag_id, after->time}, after->row) + 1;
  if (low > high) return std::nullopt;
  ix.tree().Scan(low, high, [&](IndexKey k) {
    out->push_back(ix.RowOf(k));
    return out->size() < limit;
  });
  if (out->size() < limit) return std::nullopt;
  return PageCursor{db.table(TableId::rooms).GetTime(out->back(), rooms::started_at), out->back()};
}

bool IsBanned(const Database& db, RowId room, RowId user) {
  const Value key[] = {Value(room), Value(user)};
  return db.hash(IndexNo("participants_banned")).Find(key) != kNoRow;
}

}  // namespace vox
