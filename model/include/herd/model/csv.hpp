#pragma once
// CSV as RFC 4180 writes it, for every table a command can also write as a file (`--csv FILE`): a
// header, then one record per row, fields separated by commas; a field holding a comma, a double
// quote or a line break is quoted, its quotes doubled. Lines end in "\n".
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace herd::model {

/// One field: as it is, or quoted when it holds a comma, a double quote, CR or LF.
std::string csv_field(std::string_view text);

/// A number as the CSV carries it: whole numbers below 2^53 in full ("53830232350"), others to 10
/// significant digits ("1.5e-05", "0.123456789"); no thousands separators, "" for NaN,
/// "inf"/"-inf" for the infinities.
std::string csv_number(double value);

/// The scalars of a JSON document as (name, value) pairs, in the document's key order: a name joins
/// the object keys and array indices on the way with dots ("breakdown.compute_s",
/// "phases.0.step_time_s"); numbers as csv_number (integers whole), booleans "true"/"false", null
/// "". Subtrees whose name is in `skip` ("power.series") are left out. The rows of a command's
/// `--csv` where it reports figures rather than a table.
std::vector<std::pair<std::string, std::string>> json_figures(const nlohmann::json& doc,
                                                              const std::vector<std::string>& skip = {});

/// A table with a fixed header; add rows, then take the text.
class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> header);
  /// One record; as many fields as the header has (std::invalid_argument otherwise). Fields are
  /// quoted as csv_field does.
  void add_row(const std::vector<std::string>& fields);
  std::size_t rows() const { return rows_; }
  const std::string& text() const { return text_; }

 private:
  void append(const std::vector<std::string>& fields);
  std::size_t columns_;
  std::size_t rows_ = 0;
  std::string text_;
};

}  // namespace herd::model
