// What a committed transaction changed, as the events of change streams
// (net/internal/streams.h): one per row, in the order the transaction first
// touched it, with its after-image as JSON and the room and users it
// concerns. Built on the engine thread at commit (CommitSink::OnCommit),
// while every row is as the transaction left it: refs show the uuids they
// pointed at then, and a deleted row can still be read for its routing.
//
// Thread-compatible; CollectChangeEvents is for the engine thread.
#ifndef VOXDB_ENGINE_CHANGE_EVENTS_H_
#define VOXDB_ENGINE_CHANGE_EVENTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "engine/txn.h"

namespace vox {

struct ChangeEvent {
  TableId table{};
  // Interned (InternName): a table a migration drops may still be named by
  // events in a stream's history.
  const std::string* table_name = nullptr;
  bool deleted = false;
  Uuid id;
  std::string row;     // the after-image as RowToJson gives it (no secrets); empty if deleted
  std::string action;  // an audit_logs row's AuditAction ("USER_MUTED"); else empty
  // Routing: the room the row belongs to (a room stream's), and the users
  // it is about (a user stream's: a notification's recipient, a moderation
  // action's target, the owners of a transfer's wallets, a wallet's owner).
  Uuid room;
  Uuid users[2];
};

// The event of row `r` of table `t` as it stands: routed, with its JSON
// image unless `deleted` (then only routed: call it before the row is
// released).
ChangeEvent RowEvent(const Database& db, TableId t, RowId r, bool deleted);

// Appends the events of `txn` to `out`. REQUIRES: called from OnCommit,
// before the transaction's deleted rows are released.
void CollectChangeEvents(const Txn& txn, std::vector<ChangeEvent>* out);

}  // namespace vox

#endif  // VOXDB_ENGINE_CHANGE_EVENTS_H_
