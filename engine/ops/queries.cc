#include "engine/ops/queries.h"

namespace vox {
namespace {

constexpr size_t kPresentByRoom = IndexNo("participants_present_by_room");
constexpr size_t kPresentByUser = IndexNo("participants_present_by_user");
constexpr size_t kParticipantsByRoom = IndexNo("participants_by_room");
constexpr size_t kAuditByRoom = IndexNo("audit_by_room");
constexpr size_t kAuditByUser = IndexNo("audit_by_user");
constexpr size_t kLiveByTag = IndexNo("rooms_live_by_tag");

RowId FindUnique(const Database& db, size_t index, std::string_view key) {
  const Value probe[] = {Value(key)};
  return db.hash(index).Find(probe);
}

// A newest-first page over an index keyed (owner, time DESC).
std::optional<PageCursor> NewestFirstPage(const Database& db, size_t index, TableId table,
                                          ColumnId time_column, int64_t owner, size_t limit,
                                          std::optional<PageCursor> after,
                                          std::vector<RowId>* out) {
  out->clear();
  const OrderedTableIndex& ix = db.ordered(index);
  auto [low, high] = ix.PrefixRange({owner});
  if (after) low = ix.KeyFor({owner, after->time}, after->row) + 1;
  if (limit == 0 || low > high) return std::nullopt;
  const Table& t = db.table(table);
  ix.tree().Scan(low, high, [&](IndexKey k) {
    out->push_back(ix.RowOf(k));
    return out->size() < limit;
  });
  if (out->size() < limit) return std::nullopt;
  return PageCursor{t.GetTime(out->back(), time_column), out->back()};
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
  db.ordered(kPresentByRoom).ScanPrefix({static_cast<int64_t>(room)}, [&](RowId r) {
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
  db.ordered(kPresentByUser).ScanPrefix({static_cast<int64_t>(user)}, [&](RowId r) {
    participants->push_back(r);
    return true;
  });
}

std::optional<PageCursor> RoomAuditTrail(const Database& db, RowId room, size_t limit,
                                         std::optional<PageCursor> after,
                                         std::vector<RowId>* out) {
  return NewestFirstPage(db, kAuditByRoom, TableId::audit_logs, audit_logs::timestamp, room, limit,
                         after, out);
}

std::optional<PageCursor> UserAuditTrail(const Database& db, RowId user, size_t limit,
                                         std::optional<PageCursor> after,
                                         std::vector<RowId>* out) {
  return NewestFirstPage(db, kAuditByUser, TableId::audit_logs, audit_logs::timestamp, user, limit,
                         after, out);
}

RoomStats RoomStatistics(const Database& db, RowId room) {
  RoomStats s{room};
  const Table& p = db.table(TableId::room_participants);
  int64_t left = 0;
  db.ordered(kParticipantsByRoom).ScanPrefix({static_cast<int64_t>(room)}, [&](RowId r) {
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
                                         std::optional<PageCursor> after,
                                         std::vector<RowId>* out) {
  out->clear();
  const RowId t = FindTag(db, tag);
  if (t == kNoRow) return std::nullopt;
  return NewestFirstPage(db, kLiveByTag, TableId::rooms, rooms::started_at, int64_t{t} + 1, limit,
                         after, out);
}

bool IsBanned(const Database& db, RowId room, RowId user) {
  const Value key[] = {Value(room), Value(user)};
  return db.hash(IndexNo("participants_banned")).Find(key) != kNoRow;
}

}  // namespace vox
