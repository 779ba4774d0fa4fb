// The machinery under the searches (engine/ops/search*.cc): sort keys and
// cursors, column filters over batches of rows, and the three ways a page is
// produced:
//
//   WalkInOrder       index runs already in the sort's order (merged when
//                     several), filtered batch by batch; stops at the page's
//                     end: the cost is the page, not the table.
//   FilterCandidates  the rows an index lists for a key, in any order,
//                     filtered, the best `limit + 1` kept.
//   ScanTable         every live row of the table, filtered column by column
//                     over batches (plain loops over the column arrays), the
//                     best `limit + 1` kept in a bounded heap.
//
// A search supplies a type S with
//   void Filter(std::vector<RowId>& rows) const;  // keeps the matches, in order
//   SortKey KeyOf(RowId row) const;               // the row's place in the sort
// (templates: no per-row virtual call). Private to engine/.
#ifndef VOXDB_ENGINE_INTERNAL_SEARCH_UTIL_H_
#define VOXDB_ENGINE_INTERNAL_SEARCH_UTIL_H_

#include <algorithm>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/database.h"
#include "engine/ops/search.h"
#include "schema/str.h"

namespace vox::internal {

enum class SearchKind : uint8_t {
  kUsers = 1,
  kRooms,
  kCallSessions,
  kParticipants,
  kModeration,
  kAudit,
  kTransfers,
  kNotifications,
};
std::string_view SearchKindName(SearchKind kind);

// A row's place in a search's order: up to two integer values, a string
// (compared ASCII case-insensitively; empty unless the sort is by a name),
// and the row id as the final tie-break. `s` views bytes that outlive the
// search (a column's heap, or the Paging's copy of the cursor).
struct SortKey {
  int64_t v0 = 0;
  int64_t v1 = 0;
  std::string_view s;
  RowId row = 0;
};

// <0, 0, >0 as `a` sorts before, with, after `b`, ASCII case-insensitively.
int CompareFolded(std::string_view a, std::string_view b);

// Whether `a` comes strictly before `b` when every part ascends, or when
// every part descends (`desc`).
inline bool Before(const SortKey& a, const SortKey& b, bool desc) {
  int c = (a.v0 > b.v0) - (a.v0 < b.v0);
  if (c == 0) c = (a.v1 > b.v1) - (a.v1 < b.v1);
  if (c == 0 && !(a.s.empty() && b.s.empty())) c = CompareFolded(a.s, b.s);
  if (c == 0) c = (a.row > b.row) - (a.row < b.row);
  return desc ? c > 0 : c < 0;
}

// A nullable integer column's value as a sort value: nulls sort last (the
// smallest value in a descending order, the largest in an ascending one).
inline int64_t SortValue(const Table& t, RowId r, ColumnId c, bool desc) {
  if (t.IsNull(r, c)) return desc ? INT64_MIN : INT64_MAX;
  return t.GetInt(r, c);
}

// The order and page of one request. Not copyable: `after->s` views `after_s_`.
class Paging {
 public:
  Paging() = default;
  Paging(const Paging&) = delete;
  Paging& operator=(const Paging&) = delete;

  // Checks the limit (1..kMaxSearchLimit) and decodes `cursor` (empty: the
  // first page): InvalidArgument for garbage or a cursor of another search
  // or sort.
  absl::Status Init(SearchKind kind, uint8_t sort, bool desc, size_t limit,
                    std::string_view cursor);

  // Every match has its leading sort value (v0) in [v0_min, v0_max]: a walk
  // in sort order may start and stop there. Narrowed from filters on the
  // column the sort leads with.
  void BoundLeading(const TimeRange& r);
  // Where a walk in sort order starts (exclusive): the later of the cursor
  // and the leading-value bound; none for the very start.
  std::optional<SortKey> StartKey() const;
  // Whether a walk in sort order has passed every possible match.
  bool PastEnd(const SortKey& k) const { return desc ? k.v0 < v0_min : k.v0 > v0_max; }

  SearchKind kind = SearchKind::kUsers;
  uint8_t sort = 0;
  bool desc = false;
  size_t limit = 0;
  std::optional<SortKey> after;
  int64_t v0_min = INT64_MIN, v0_max = INT64_MAX;

 private:
  std::string after_s_;
};

std::string EncodeCursor(SearchKind kind, uint8_t sort, const SortKey& key);

// Collects a page: either matches offered in any order (the best limit + 1
// kept in a heap), or matches appended in sort order. Rows at or before the
// cursor are dropped.
class PageBuilder {
 public:
  explicit PageBuilder(const Paging& paging) : p_(paging), cap_(paging.limit + 1) {}

  void Offer(const SortKey& k) {
    if (p_.after && !Before(*p_.after, k, p_.desc)) return;
    // A heap on the sort's order: front() is the last (worst) key kept.
    const auto earlier = [this](const SortKey& a, const SortKey& b) {
      return Before(a, b, p_.desc);
    };
    if (keys_.size() < cap_) {
      keys_.push_back(k);
      std::push_heap(keys_.begin(), keys_.end(), earlier);
    } else if (Before(k, keys_.front(), p_.desc)) {
      std::pop_heap(keys_.begin(), keys_.end(), earlier);
      keys_.back() = k;
      std::push_heap(keys_.begin(), keys_.end(), earlier);
    }
    heap_ = true;
  }
  void Append(const SortKey& k) {
    if (p_.after && !Before(*p_.after, k, p_.desc)) return;
    VOX_DCHECK(keys_.empty() || Before(keys_.back(), k, p_.desc));  // the index is in sort order
    keys_.push_back(k);
  }
  bool full() const { return keys_.size() >= cap_; }

  // The page: the first `limit` keys' rows, and a cursor if there were more.
  SearchPage Finish(SearchPlan plan);

 private:
  const Paging& p_;
  const size_t cap_;
  bool heap_ = false;
  std::vector<SortKey> keys_;
};

// ---- Column filters over a batch of rows --------------------------------------
// Each keeps, in order, the rows of `rows` that pass. A null value fails every
// comparison.

// Reads a column's fixed-width values straight from its chunk arrays.
template <typename T>
class ColumnReader {
 public:
  explicit ColumnReader(const Column& col) : col_(col) { VOX_DCHECK(sizeof(T) == col.width()); }
  T operator()(RowId r) {
    const size_t chunk = r >> kChunkShift;
    if (chunk != chunk_) {
      chunk_ = chunk;
      base_ = col_.chunk_data(chunk);
    }
    T v;
    std::memcpy(&v, base_ + size_t{r & (kChunkRows - 1)} * sizeof(T), sizeof(T));
    return v;
  }

 private:
  const Column& col_;
  size_t chunk_ = SIZE_MAX;
  const uint8_t* base_ = nullptr;
};

template <typename Pred>
void KeepIf(std::vector<RowId>& rows, Pred pred) {
  size_t n = 0;
  for (const RowId r : rows) {
    rows[n] = r;  // branch-free compaction
    n += pred(r) ? 1 : 0;
  }
  rows.resize(n);
}

// Keeps rows whose non-null value (read as T) passes pred.
template <typename T, typename Pred>
void KeepValues(const Column& col, std::vector<RowId>& rows, Pred pred) {
  ColumnReader<T> read(col);
  if (col.def().nullable()) {
    KeepIf(rows, [&](RowId r) { return !col.IsNull(r) && pred(read(r)); });
  } else {
    KeepIf(rows, [&](RowId r) { return pred(read(r)); });
  }
}

void KeepNull(const Column& col, std::vector<RowId>& rows, bool want_null);
void KeepTimes(const Column& col, std::vector<RowId>& rows, const TimeRange& range);
// int32 or int64 columns.
void KeepInts(const Column& col, std::vector<RowId>& rows, const IntRange& range);
// Enum values whose bit is set in `mask`; no-op for mask 0 (no filter).
void KeepEnums(const Column& col, std::vector<RowId>& rows, uint64_t mask);
void KeepBool(const Column& col, std::vector<RowId>& rows, std::optional<bool> value);
void KeepRef(const Column& col, std::vector<RowId>& rows, std::optional<RowId> value);
void KeepString(const Column& col, std::vector<RowId>& rows, std::string_view value);
// ASCII case-insensitive prefix; no-op for an empty prefix.
void KeepPrefixFolded(const Column& col, std::vector<RowId>& rows, std::string_view prefix);

// The bit mask of `values` (0: empty, no filter); InvalidArgument naming
// `what` for a value outside enum `id`.
template <typename E>
absl::StatusOr<uint64_t> EnumMask(EnumId id, const std::vector<E>& values, std::string_view what) {
  static_assert(sizeof(E) == 1);
  const size_t size = GetEnum(id).values.size();
  uint64_t mask = 0;
  for (const E v : values) {
    const auto n = static_cast<size_t>(v);
    if (n >= size || n >= 64) {
      return absl::InvalidArgumentError(StrCat(what, ": ", n, " is not a ", GetEnum(id).name));
    }
    mask |= uint64_t{1} << n;
  }
  return mask;
}
// Whether `mask` lets through only values in `allowed` (and something).
inline bool MaskWithin(uint64_t mask, uint64_t allowed) {
  return mask != 0 && (mask & ~allowed) == 0;
}
template <typename E>
constexpr uint64_t Bit(E v) {
  return uint64_t{1} << static_cast<unsigned>(v);
}

absl::Status CheckLimit(size_t limit);

inline SearchPlan MakePlan(std::string_view table, SearchPlan::Access access,
                           std::string_view index, size_t examined) {
  return {access, std::string(table), std::string(index), examined};
}

// The rows of a grouped index's group.
inline std::vector<RowId> RowsOf(std::span<const GroupEntry> group) {
  std::vector<RowId> rows;
  rows.reserve(group.size());
  for (const GroupEntry& e : group) rows.push_back(e.row);
  return rows;
}

// ---- Index runs -----------------------------------------------------------------

// Rows of one index range in the search's order: a grouped index's group,
// ascending or reversed, or a key range of an ordered index, ascending or
// reversed. Valid while the table is not written (the search's duration).
class IndexRun {
 public:
  static IndexRun Group(std::span<const GroupEntry> entries, bool reverse);
  static IndexRun Tree(const OrderedTableIndex& ix, IndexKey low, IndexKey high, bool reverse);

  // Group runs: skips to the first row after `start` in the search's order.
  // `key_of` must order the group's entries as the index does.
  template <typename KeyFn>
  void SeekGroup(const SortKey& start, bool desc, KeyFn&& key_of) {
    const auto e = entries_;
    if (!reverse_) {  // ascending entries: rows after `start` are a suffix
      pos_ = std::partition_point(
                 e.begin(), e.end(),
                 [&](const GroupEntry& x) { return !Before(start, key_of(x.row), desc); }) -
             e.begin();
    } else {  // walked backwards: rows after `start` are a prefix
      pos_ = std::partition_point(
                 e.begin(), e.end(),
                 [&](const GroupEntry& x) { return Before(start, key_of(x.row), desc); }) -
             e.begin();
    }
  }
  // Tree runs: skips to the keys after `key` in walking order.
  void SeekTree(IndexKey key);

  bool done() const;
  RowId row() const;
  void Next();

 private:
  IndexRun() = default;
  bool tree_ = false;
  bool reverse_ = false;
  // Group: the next entry is entries_[pos_] (forward) or entries_[pos_ - 1].
  std::span<const GroupEntry> entries_;
  size_t pos_ = 0;
  // Tree: the next key is *it_ (forward) or *std::prev(it_) (reverse).
  const OrderedTableIndex* ix_ = nullptr;
  OrderedIndex::const_iterator it_;
  IndexKey low_ = 0, high_ = 0;
};

// ---- Drivers --------------------------------------------------------------------

inline constexpr size_t kScanBatch = 2048;

// Rows are mostly appended in time order, so a descending sort meets its
// best rows last: `Offer` them last-first, and the heap fills with the
// winners early and rejects the rest with one comparison each.
template <typename S>
void OfferBatch(std::span<const RowId> batch, bool last_first, const S& s, PageBuilder& page) {
  if (last_first) {
    for (size_t i = batch.size(); i-- > 0;) page.Offer(s.KeyOf(batch[i]));
  } else {
    for (const RowId r : batch) page.Offer(s.KeyOf(r));
  }
}

// Offers every match among `rows` (deduplicated here; any order) to `page`.
// Returns how many rows it examined.
template <typename S>
size_t FilterCandidates(std::vector<RowId> rows, const S& s, const Paging& paging,
                        PageBuilder& page) {
  std::sort(rows.begin(), rows.end());  // ascending rows: column reads in memory order
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  const size_t n = rows.size();
  std::vector<RowId> batch;
  for (size_t done = 0; done < n; done += kScanBatch) {
    // Batches from the end first when the sort descends (see OfferBatch).
    const size_t begin = paging.desc ? n - std::min(n, done + kScanBatch) : done;
    const size_t end = paging.desc ? n - done : std::min(n, done + kScanBatch);
    batch.assign(rows.begin() + begin, rows.begin() + end);
    s.Filter(batch);
    OfferBatch(batch, paging.desc, s, page);
  }
  return n;
}

// Offers every live match of `table` to `page`. Returns the rows examined.
template <typename S>
size_t ScanTable(const Table& table, const S& s, const Paging& paging, PageBuilder& page) {
  const size_t n = table.row_count();
  std::vector<RowId> batch(kScanBatch);
  for (size_t done = 0; done < n; done += kScanBatch) {
    // Batches from the end first when the sort descends (see OfferBatch).
    const size_t begin = paging.desc ? n - std::min(n, done + kScanBatch) : done;
    const size_t end = paging.desc ? n - done : std::min(n, done + kScanBatch);
    batch.resize(kScanBatch);
    size_t k = 0;
    for (size_t r = begin; r < end; ++r) {
      batch[k] = static_cast<RowId>(r);
      k += table.IsLive(static_cast<RowId>(r)) ? 1 : 0;
    }
    batch.resize(k);
    s.Filter(batch);
    OfferBatch(batch, paging.desc, s, page);
  }
  return n;
}

// Walks `runs` (each in the sort's order, already positioned after
// `paging.StartKey()`) merged, appending matches to `page` until it is full
// or every run has passed `paging`'s leading-value bound. A row listed by
// several runs (a room under two tags) is taken once. Returns the rows
// examined.
template <typename S>
size_t WalkInOrder(std::vector<IndexRun>& runs, const S& s, const Paging& paging,
                   PageBuilder& page) {
  std::vector<SortKey> heads(runs.size());
  std::vector<bool> live(runs.size());
  const auto load = [&](size_t i) {
    live[i] = !runs[i].done();
    if (!live[i]) return;
    heads[i] = s.KeyOf(runs[i].row());
    if (paging.PastEnd(heads[i])) live[i] = false;
  };
  for (size_t i = 0; i < runs.size(); ++i) load(i);
  size_t examined = 0, batch_size = std::min<size_t>(paging.limit + 1, 1024);
  RowId last = kNoRow;
  std::vector<RowId> batch;
  while (!page.full()) {
    batch.clear();
    while (batch.size() < batch_size) {
      size_t best = runs.size();
      for (size_t i = 0; i < runs.size(); ++i) {
        if (live[i] && (best == runs.size() || Before(heads[i], heads[best], paging.desc)))
          best = i;
      }
      if (best == runs.size()) break;
      const RowId r = heads[best].row;
      runs[best].Next();
      load(best);
      ++examined;
      if (r == last) continue;  // the same row from another run: adjacent in the merge
      last = r;
      batch.push_back(r);
    }
    if (batch.empty()) break;
    s.Filter(batch);
    for (const RowId r : batch) {
      if (page.full()) break;
      page.Append(s.KeyOf(r));
    }
    batch_size = std::min<size_t>(batch_size * 2, 4096);
  }
  return examined;
}

}  // namespace vox::internal

#endif  // VOXDB_ENGINE_INTERNAL_SEARCH_UTIL_H_
