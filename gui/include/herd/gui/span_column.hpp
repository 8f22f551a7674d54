#pragma once
// The columns of the step timeline's span store. A column is a read-only array held in memory or,
// for a step too large to keep every span in memory (a 16,384-GPU per-rank step has 81 M), in a
// read-only mapping of an unlinked temporary file: the process's own memory then stays the same
// whatever the number of spans, and what is resident of the file is the pages a repaint touched,
// which the system takes back when it needs them. Plain C++ (POSIX), no Qt.
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace herd::gui {

/// A read-only array whose storage (a vector, a file mapping) copies share.
template <class T>
class Column {
 public:
  Column() = default;
  explicit Column(std::vector<T> values) {
    auto owned = std::make_shared<const std::vector<T>>(std::move(values));
    data_ = owned->data();
    size_ = owned->size();
    heap_ = owned->capacity() * sizeof(T);
    owner_ = std::move(owned);
  }
  /// `size` values at `data`, kept alive by `owner` (a mapping).
  Column(std::shared_ptr<const void> owner, const T* data, std::size_t size) : owner_(std::move(owner)), data_(data), size_(size) {}

  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  /// Bytes of the process's own memory it holds (0 when it is a file's).
  std::size_t heap_bytes() const { return heap_; }
  /// Bytes of a temporary file it maps (0 when in memory).
  std::size_t mapped_bytes() const { return heap_ ? 0 : size_ * sizeof(T); }

 private:
  std::shared_ptr<const void> owner_;
  const T* data_ = nullptr;
  std::size_t size_ = 0, heap_ = 0;
};

/// A temporary file, unlinked as soon as it is made, written once front to back through a buffer,
/// then mapped read-only (the file's space goes with the last mapping).
class SpillFile {
 public:
  /// In `dir` (empty: std::filesystem::temp_directory_path()). Throws std::system_error.
  explicit SpillFile(const std::filesystem::path& dir);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  void write(const void* data, std::size_t bytes) {
    if (bytes == 0) return;  // `data` may be null (an empty vector's)
    if (used_ + bytes > buffer_.size()) flush();
    if (bytes > buffer_.size()) return write_through(data, bytes);
    std::memcpy(buffer_.data() + used_, data, bytes);
    used_ += bytes;
  }
  std::size_t bytes() const { return written_ + used_; }
  /// Maps what was written (null for nothing) and closes the file. Once. Throws std::system_error.
  std::shared_ptr<const void> map();

 private:
  void flush();
  void write_through(const void* data, std::size_t bytes);
  int fd_ = -1;
  std::vector<char> buffer_;
  std::size_t used_ = 0, written_ = 0;
};

/// Appends values to a column: in memory until spill() (then in a SpillFile), read back by finish().
template <class T>
class ColumnWriter {
 public:
  void reserve(std::size_t n) {
    if (!file_) values_.reserve(n);
  }
  void push_back(const T& v) {
    if (file_) file_->write(&v, sizeof(T));
    else values_.push_back(v);
    ++size_;
  }
  /// From now on (and what is held so far) in a temporary file in `dir`.
  void spill(const std::filesystem::path& dir) {
    if (file_) return;
    file_ = std::make_unique<SpillFile>(dir);
    file_->write(values_.data(), values_.size() * sizeof(T));
    values_ = {};
  }
  bool spilled() const { return file_ != nullptr; }
  std::size_t size() const { return size_; }
  /// The column written (the writer is empty afterwards).
  Column<T> finish() {
    const std::size_t n = size_;
    size_ = 0;
    if (!file_) return Column<T>(std::move(values_));
    std::shared_ptr<const void> mapping = file_->map();
    file_.reset();
    const T* data = static_cast<const T*>(mapping.get());
    return Column<T>(std::move(mapping), data, n);
  }

 private:
  std::vector<T> values_;
  std::unique_ptr<SpillFile> file_;
  std::size_t size_ = 0;
};

}  // namespace herd::gui
