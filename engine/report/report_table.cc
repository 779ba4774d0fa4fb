#include "engine/report/report_table.h"

#include <algorithm>

namespace vox {

int ReportTable::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == column) return static_cast<int>(i);
  }
  return -1;
}

const ReportRow* ReportTable::Find(Timestamp bucket_start, std::string_view key) const {
  for (const ReportRow& r : rows) {
    if (r.bucket_start == bucket_start && r.key == key) return &r;
  }
  return nullptr;
}

double ReportTable::Get(Timestamp bucket_start, std::string_view key,
                        std::string_view column) const {
  const int c = ColumnIndex(column);
  VOX_DCHECK(c >= 0);
  const ReportRow* row = Find(bucket_start, key);
  return row == nullptr || c < 0 ? 0 : row->values[c];
}

double ReportTable::Sum(std::string_view column) const {
  const int c = ColumnIndex(column);
  VOX_DCHECK(c >= 0);
  double sum = 0;
  if (c < 0) return sum;
  for (const ReportRow& r : rows) sum += r.values[c];
  return sum;
}

std::vector<std::string> ReportTable::Keys() const {
  std::vector<std::string> keys;
  for (const ReportRow& r : rows) keys.push_back(r.key);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace vox
