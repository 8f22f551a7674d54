// The span store's columns: in memory, or written to an unlinked temporary file and mapped back.
#include "herd/gui/span_column.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>
#include <vector>

using herd::gui::Column;
using herd::gui::ColumnWriter;
using herd::gui::SpillFile;

TEST_CASE("span column: what is written reads back, in memory or spilled at any point") {
  // 600,000 doubles (4.8 MB): more than the file's 1 MiB buffer, so it is flushed several times.
  const std::size_t n = 600'000;
  const std::size_t spill_at = GENERATE(std::size_t{0}, std::size_t{1}, std::size_t{300'001}, std::size_t{600'000}, std::size_t{1} << 40);
  CAPTURE(spill_at);
  ColumnWriter<double> writer;
  for (std::size_t i = 0; i < n; ++i) {
    if (i == spill_at) writer.spill({});
    writer.push_back(0.5 * double(i) - 7);
  }
  CHECK(writer.size() == n);
  const bool spilled = spill_at < n;
  CHECK(writer.spilled() == spilled);
  const Column<double> column = writer.finish();
  REQUIRE(column.size() == n);
  CHECK(writer.size() == 0);
  for (std::size_t i = 0; i < n; ++i) REQUIRE(column[i] == 0.5 * double(i) - 7);
  CHECK(column.mapped_bytes() == (spilled ? n * sizeof(double) : 0));
  CHECK((column.heap_bytes() >= n * sizeof(double)) == !spilled);
  // Copies share the storage, which outlives the original.
  Column<double> copy = column;
  CHECK(copy.data() == column.data());
  {
    const Column<double> gone = std::move(copy);
    CHECK(gone[n - 1] == 0.5 * double(n - 1) - 7);
  }
}

TEST_CASE("span column: an empty spilled column, and writes larger than the buffer") {
  ColumnWriter<std::uint8_t> empty;
  empty.spill({});
  const Column<std::uint8_t> nothing = empty.finish();
  CHECK(nothing.empty());
  CHECK(nothing.begin() == nothing.end());

  SpillFile file({});
  std::vector<std::int32_t> big(1 << 20);  // 4 MiB in one write
  std::iota(big.begin(), big.end(), -5);
  file.write(big.data(), 3);                               // buffered
  file.write(big.data(), big.size() * sizeof(std::int32_t));  // through the buffer
  CHECK(file.bytes() == 3 + big.size() * sizeof(std::int32_t));
  const auto mapping = file.map();
  const auto* bytes = static_cast<const unsigned char*>(mapping.get());
  const auto* values = reinterpret_cast<const unsigned char*>(big.data());
  CHECK(std::equal(values, values + 3, bytes));
  CHECK(std::equal(values, values + big.size() * sizeof(std::int32_t), bytes + 3));
}

TEST_CASE("span column: a directory that cannot hold the file is named") {
  CHECK_THROWS_WITH(SpillFile("/nonexistent/herd"), Catch::Contains("/nonexistent/herd"));
}
