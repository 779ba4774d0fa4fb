#include "engine/bulk_load.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <numeric>

#include "engine/txn.h"
#include "schema/catalog.h"
#include "schema/str.h"

namespace vox {
namespace {

// ValidateValue's checks without the UTF-8 and JSON scans: true when `v`
// passes them. Where it says false, ValidateValue gives the error.
// `all_live(t)` tells that every row of table t is live (a table this
// loader fills): a ref then needs no look at the target's liveness, a
// cache miss per value on a large table.
template <typename AllLive>
bool QuickCheck(const Database& db, const ColumnDef& col, const Value& v, AllLive&& all_live) {
  if (v.is_null()) return col.nullable();
  switch (col.type) {
    case ColumnType::kUuid:
    case ColumnType::kInet:
      return v.kind() == Value::Kind::kUuid;
    case ColumnType::kString:
    case ColumnType::kJson:
      return v.kind() == Value::Kind::kString && v.AsString().size() <= col.max_length;
    default:
      break;
  }
  if (v.kind() != Value::Kind::kInt) return false;
  const int64_t x = v.AsInt();
  switch (col.type) {
    case ColumnType::kBool:
      return x == 0 || x == 1;
    case ColumnType::kEnum:
      return x >= 0 && static_cast<size_t>(x) < GetEnum(col.enum_id).values.size();
    case ColumnType::kRef: {
      const Table& target = db.table(col.ref_table);
      if (x < 0 || static_cast<uint64_t>(x) >= target.row_count()) return false;
      return all_live(col.ref_table) || target.IsLive(static_cast<RowId>(x));
    }
    case ColumnType::kTags: {
      uint16_t ids[kMaxTagsPerRoom];
      const int n = UnpackTags(x, ids);
      const Table& tags = db.table(TableId::tags);
      for (int i = 0; i < n; ++i) {
        if (!tags.IsLive(ids[i] - 1u)) return false;
        for (int j = 0; j < i; ++j) {
          if (ids[j] == ids[i]) return false;
        }
      }
      return true;
    }
    default:
      return x >= col.min_value && x <= col.max_value;
  }
}

// Table::WriteValue for a fresh row (all zero and null): the same bytes,
// with no write where the row holds them already.
void WriteFresh(Column& col, RowId r, const Value& v) {
  if (v.is_null()) return;
  if (col.def().nullable()) col.SetNull(r, false);
  switch (col.type()) {
    case ColumnType::kUuid:
    case ColumnType::kInet:
      col.PutUuid(r, v.AsUuid());
      break;
    case ColumnType::kString:
    case ColumnType::kJson:
      col.PutString(r, v.AsString());
      break;
    default:
      col.PutInt(r, v.AsInt());
  }
}

// How much work building an index of `rows` rows is, roughly: sorted
// indexes sort their keys; the primary key only checks ids.
uint64_t Effort(const Table& table, size_t index, uint64_t rows) {
  if (index == 0) return rows;
  return table.index(index).def().kind == IndexKind::kUniqueHash ? 2 * rows : 4 * rows;
}

}  // namespace

BulkLoader::BulkLoader(Database& db, Timestamp now, BulkLoadOptions options)
    : db_(db), now_(now), options_(options) {
  if (db.commit_sink() != nullptr) {
    Fail(absl::FailedPreconditionError(
        "bulk load into a database with a commit sink: the rows would not be logged"));
  } else if (db.open_txn() != nullptr) {
    Fail(absl::FailedPreconditionError("bulk load while a transaction is open"));
  }
  for (const TableDef& def : kTables) {
    TableState& s = tables_[static_cast<size_t>(def.id)];
    for (size_t c = 0; c < def.columns.size(); ++c) {
      const ColumnDef& col = def.columns[c];
      const auto cid = static_cast<ColumnId>(c);
      if (col.Has(kPrimaryKey)) {
        s.defaults.push_back({cid, Default::Kind::kId});
        s.default_columns[c >> 6] |= uint64_t{1} << (c & 63);
        continue;
      }
      switch (col.default_kind) {
        case DefaultKind::kNone:
          s.required[c >> 6] |= uint64_t{1} << (c & 63);
          break;
        case DefaultKind::kNull:
          break;  // a fresh row is null
        case DefaultKind::kInt:
          // A fresh row holds zero, but null where the column is nullable.
          if (col.default_int != 0 || col.nullable()) {
            s.defaults.push_back({cid, Default::Kind::kValue});
          }
          break;
        case DefaultKind::kString:
          s.defaults.push_back({cid, Default::Kind::kValue});
          break;
        case DefaultKind::kNow:
          s.defaults.push_back({cid, Default::Kind::kNow});
          break;
      }
      if (!s.defaults.empty() && s.defaults.back().column == cid) {
        s.default_columns[c >> 6] |= uint64_t{1} << (c & 63);
      }
    }
  }
}

BulkLoader::~BulkLoader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  work_cv_.notify_all();
  for (std::thread& w : workers_) w.join();
}

void BulkLoader::Fail(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
}

bool BulkLoader::Open(TableId t, size_t rows) {
  TableState& s = tables_[static_cast<size_t>(t)];
  Table& table = db_.table(t);
  if (s.state == State::kEnded) {
    Fail(absl::FailedPreconditionError(
        StrCat("bulk load: table ", table.name(), " was already ended")));
    return false;
  }
  if (table.row_count() != 0) {
    Fail(absl::FailedPreconditionError(StrCat("bulk load needs an empty table; ", table.name(),
                                              " has ", table.row_count(), " rows")));
    return false;
  }
  // Fresh rows are all zero and null: Append writes only what differs.
  table.ResetForAppend(rows);
  s.state = State::kOpen;
  return true;
}

void BulkLoader::FaultInNextChunk(TableId t, RowId r) {
  // The columns written in the chunk just filled are likely written in the
  // next one too; a column never written (null and zero throughout) is
  // left alone, its pages never backed.
  TableState& s = tables_[static_cast<size_t>(t)];
  auto memory = std::make_shared<std::vector<std::span<const uint8_t>>>();
  db_.table(t).FullChunkMemory((r >> kChunkShift) + 1, s.written, memory.get());
  std::fill(std::begin(s.written), std::end(s.written), 0);
  if (memory->empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  Queue({.memory = std::move(memory)});
}

void BulkLoader::Reserve(TableId t, size_t rows) {
  if (!ok()) return;
  if (tables_[static_cast<size_t>(t)].state == State::kOpen) {
    db_.table(t).Reserve(rows);
  } else {
    Open(t, rows);
  }
}

RowId BulkLoader::Append(TableId t, std::span<const ColumnValue> values) {
  if (!ok()) return kNoRow;
  TableState& state = tables_[static_cast<size_t>(t)];
  if (state.state != State::kOpen && !Open(t, 0)) return kNoRow;
  Table& table = db_.table(t);
  const TableDef& def = table.def();
  // Check everything before touching the table, as Txn::Insert does.
  uint64_t given[4] = {0, 0, 0, 0};
  for (const ColumnValue& cv : values) {
    if (cv.column >= def.columns.size()) {
      Fail(absl::InvalidArgumentError(StrCat(def.name, " has no column ", cv.column)));
      return kNoRow;
    }
    const bool passes =
        options_.check_text
            ? ValidateValue(db_, t, cv.column, cv.value).ok()
            : QuickCheck(db_, def.columns[cv.column], cv.value, [this](TableId target) {
                // Rows this loader appended are all live.
                return tables_[static_cast<size_t>(target)].state != State::kUntouched;
              });
    if (!passes) {
      absl::Status s = ValidateValue(db_, t, cv.column, cv.value);
      Fail(s.ok() ? absl::InternalError(StrCat("bulk load: check of ", def.name, ".",
                                               def.columns[cv.column].name, " disagrees"))
                  : std::move(s));
      return kNoRow;
    }
    given[cv.column >> 6] |= uint64_t{1} << (cv.column & 63);
  }
  for (int w = 0; w < 4; ++w) {
    const uint64_t missing = state.required[w] & ~given[w];
    if (missing != 0) {
      const size_t c = w * 64 + __builtin_ctzll(missing);
      Fail(absl::InvalidArgumentError(StrCat(def.name, ".", def.columns[c].name, " is required")));
      return kNoRow;
    }
  }
  bool reused = false;
  const RowId r = table.AllocateRow(&reused);
  VOX_DCHECK(!reused);  // an empty table has no free rows
  for (int w = 0; w < 4; ++w) state.written[w] |= given[w] | state.default_columns[w];
  if ((r & (kChunkRows - 1)) == 0 && options_.fault_in_ahead) FaultInNextChunk(t, r);
  // The columns not given, as Txn::Insert writes them.
  for (const Default& d : state.defaults) {
    if ((given[d.column >> 6] >> (d.column & 63)) & 1) continue;
    const ColumnDef& col = def.columns[d.column];
    Column& column = table.mutable_column(d.column);
    switch (d.kind) {
      case Default::Kind::kId:
        WriteFresh(column, r, db_.NewId(now_, r));
        break;
      case Default::Kind::kValue:
        if (col.default_kind == DefaultKind::kString) {
          WriteFresh(column, r, col.default_string);
        } else {
          WriteFresh(column, r, col.default_int);
        }
        break;
      case Default::Kind::kNow:
        WriteFresh(column, r, now_);
        break;
    }
  }
  // Given values, in order: a column given twice keeps its last value.
  for (const ColumnValue& cv : values) {
    Column& column = table.mutable_column(cv.column);
    if (cv.value.is_null()) {
      column.SetNull(r, true);  // an earlier value of the same column may have set it
    } else {
      WriteFresh(column, r, cv.value);
    }
  }
  return r;
}

void BulkLoader::EndTable(TableId t) {
  TableState& state = tables_[static_cast<size_t>(t)];
  if (state.state != State::kOpen) return;
  state.state = State::kEnded;
  if (!ok()) return;  // the load has failed: no index is worth building
  Table& table = db_.table(t);
  const size_t rows = table.row_count();
  if (rows == 0) return;
  auto live = std::make_shared<LiveRows>(rows);
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < table.index_count(); ++i) {
    Queue({.table = &table,
           .index = i,
           .live = live,
           .rows = rows,
           .effort = Effort(table, i, rows)});
    rows_queued_ += rows;
  }
}

std::span<const RowId> BulkLoader::LiveRows::Get() {
  std::call_once(once, [this] {
    rows.resize(count);
    std::iota(rows.begin(), rows.end(), RowId{0});
  });
  return rows;
}

void BulkLoader::Queue(Task task) {
  queue_.push_back(std::move(task));
  if (workers_.empty()) {
    int n = options_.threads;
    if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
    n = std::clamp(n, 1, 8);
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { Work(); });
  }
  work_cv_.notify_one();
}

void BulkLoader::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping
    // Memory first (the writer is about to need it), in order; then the
    // largest index: the long ones should not start last.
    auto it = std::find_if(queue_.begin(), queue_.end(),
                           [](const Task& t) { return t.memory != nullptr; });
    if (it == queue_.end()) {
      it = std::max_element(queue_.begin(), queue_.end(),
                            [](const Task& a, const Task& b) { return a.effort < b.effort; });
    }
    const Task task = *it;
    queue_.erase(it);
    ++running_;
    const bool skip = !build_status_.ok();
    lock.unlock();
    if (!skip) RunTask(task);
    lock.lock();
    --running_;
    rows_built_ += task.rows;
    done_cv_.notify_all();
  }
}

void BulkLoader::RunTask(const Task& task) {
  if (task.memory != nullptr) {
    // Faulting the pages in here spares the writer thread the faults (and
    // the kernel zeroing each page). Best effort: an error only means the
    // writer takes the faults itself.
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    for (std::span<const uint8_t> m : *task.memory) {
      const uintptr_t begin = reinterpret_cast<uintptr_t>(m.data()) & ~(page - 1);
      const uintptr_t end = reinterpret_cast<uintptr_t>(m.data()) + m.size();
      if (madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE) != 0 &&
          errno == EINVAL) {
        return;  // a kernel before 5.14
      }
    }
    return;
  }
  const std::span<const RowId> live = task.live->Get();
  absl::Status s = task.table->BuildIndex(task.index, live);
  if (s.ok() && task.index == 0) s = task.table->CheckLoadedIds(live);
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (build_status_.ok()) build_status_ = std::move(s);
  }
}

absl::Status BulkLoader::Finish(
    const std::function<void(uint64_t done, uint64_t total)>& progress) {
  for (const TableDef& def : kTables) EndTable(def.id);
  std::unique_lock<std::mutex> lock(mu_);
  if (!ok()) queue_.clear();  // a failed load: only wait for the running builds
  const uint64_t base = rows_built_;
  const uint64_t total = rows_queued_ - base;
  const auto report = [&](uint64_t done) {
    lock.unlock();
    progress(done, total);
    lock.lock();
  };
  if (progress) report(0);
  using Clock = std::chrono::steady_clock;
  Clock::time_point next = Clock::now() + std::chrono::seconds(1);
  while (!queue_.empty() || running_ > 0) {
    done_cv_.wait_until(lock, next);
    if (Clock::now() < next) continue;
    next = Clock::now() + std::chrono::seconds(1);
    if (progress && (!queue_.empty() || running_ > 0)) report(rows_built_ - base);
  }
  absl::Status s = status_.ok() ? build_status_ : status_;
  if (progress) report(total);
  return s;
}

}  // namespace vox
