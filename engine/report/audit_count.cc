// CountAuditRows: the filtered count, written for the compiler to vectorize.
#include "engine/report/internal/report_util.h"
#include "engine/report/reports.h"
#include "schema/str.h"

namespace vox {
namespace {

constexpr TableId kAuditTables[] = {TableId::audit_logs};

// Branch-free: every row adds 0 or 1.
uint64_t CountChunk(const uint8_t* live, const uint8_t* action, const int64_t* ts, uint32_t rows,
                    uint8_t want, Timestamp from, Timestamp to) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < rows; ++i) {
    n += static_cast<uint64_t>((live[i] != 0) & (action[i] == want) & (ts[i] >= from) &
                               (ts[i] < to));
  }
  return n;
}

uint64_t CountChunkAnyAction(const uint8_t* live, const int64_t* ts, uint32_t rows, Timestamp from,
                             Timestamp to) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < rows; ++i) {
    n += static_cast<uint64_t>((live[i] != 0) & (ts[i] >= from) & (ts[i] < to));
  }
  return n;
}

}  // namespace

absl::StatusOr<uint64_t> CountAuditRows(const ReportSnapshot& snap, const AuditCountRequest& req) {
  if (req.from >= req.to) {
    return absl::InvalidArgumentError(
        StrCat("the range is empty: from ", req.from, " is not before to ", req.to));
  }
  VOX_RETURN_IF_ERROR(report_internal::CheckEnum("audit action", req.action, EnumId::AuditAction));
  VOX_RETURN_IF_ERROR(snap.Require(kAuditTables));
  const ColumnView<uint8_t> live = snap.live(TableId::audit_logs);
  const ColumnView<uint8_t> action = snap.column<uint8_t>(TableId::audit_logs, audit_logs::action);
  const ColumnView<int64_t> ts = snap.column<int64_t>(TableId::audit_logs, audit_logs::timestamp);
  uint64_t n = 0;
  for (size_t k = 0; k < ts.chunk_count(); ++k) {
    n += req.action ? CountChunk(live.values(k), action.values(k), ts.values(k), ts.chunk_rows(k),
                                 static_cast<uint8_t>(*req.action), req.from, req.to)
                    : CountChunkAnyAction(live.values(k), ts.values(k), ts.chunk_rows(k), req.from,
                                          req.to);
  }
  return n;
}

}  // namespace vox
