#include "engine/change_events.h"

#include "absl/container/flat_hash_set.h"
#include "engine/ops/generic.h"
#include "schema/catalog.h"

namespace vox {
namespace {

// The uuid a ref column of row `r` points at, or nil.
Uuid RefId(const Database& db, TableId t, RowId r, ColumnId c) {
  const Table& table = db.table(t);
  const RowId target = table.GetRef(r, c);
  if (target == kNoRow) return Uuid{};
  return db.table(table.def().columns[c].ref_table).id(target);
}

// The user owning wallet row `w` (system wallets: nil).
Uuid WalletOwner(const Database& db, RowId w) {
  return RefId(db, TableId::wallets, w, wallets::user_id);
}

void Route(const Database& db, TableId t, RowId r, ChangeEvent* e) {
  switch (t) {
    case TableId::rooms:
      e->room = e->id;
      break;
    case TableId::room_participants:
      e->room = RefId(db, t, r, room_participants::room_id);
      e->users[0] = RefId(db, t, r, room_participants::user_id);
      break;
    case TableId::recordings:
      e->room = RefId(db, t, r, recordings::room_id);
      break;
    case TableId::call_sessions:
      e->room = RefId(db, t, r, call_sessions::room_id);
      break;
    case TableId::audit_logs:
      e->room = RefId(db, t, r, audit_logs::room_id);
      e->action = std::string(
          EnumName(EnumId::AuditAction, db.table(t).GetEnum<AuditAction>(r, audit_logs::action)));
      break;
    case TableId::notifications:
      e->users[0] = RefId(db, t, r, notifications::recipient_id);
      break;
    case TableId::moderation_actions:
      e->users[0] = RefId(db, t, r, moderation_actions::target_user_id);
      break;
    case TableId::wallets:
      e->users[0] = RefId(db, t, r, wallets::user_id);
      break;
    case TableId::transactions: {
      const Table& tx = db.table(t);
      e->users[0] = WalletOwner(db, tx.GetRef(r, transactions::debit_wallet_id));
      e->users[1] = WalletOwner(db, tx.GetRef(r, transactions::credit_wallet_id));
      break;
    }
    default:
      break;
  }
}

}  // namespace

ChangeEvent RowEvent(const Database& db, TableId t, RowId r, bool deleted) {
  ChangeEvent e;
  e.table = t;
  e.table_name = InternName(db.table(t).name());
  e.id = db.table(t).id(r);
  e.deleted = deleted;
  if (!deleted) e.row = RowToJson(db, t, r);
  Route(db, t, r, &e);
  return e;
}

void CollectChangeEvents(const Txn& txn, std::vector<ChangeEvent>* out) {
  const Database& db = txn.db();
  absl::flat_hash_set<uint64_t> seen;
  for (const RowChange& c : txn.changes()) {
    if (!seen.insert((uint64_t{static_cast<uint8_t>(c.table)} << 32) | c.row).second) continue;
    out->push_back(RowEvent(db, c.table, c.row, !db.table(c.table).IsLive(c.row)));
  }
}

}  // namespace vox
