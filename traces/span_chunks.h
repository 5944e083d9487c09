// Staged events of a rank file (SCHEMA.md, "Rank files"): the profiler's writer thread stores the
// spans of each flush as one row of span_chunks, packed in a BLOB, instead of one events row per
// span (an SQLite row insert costs ~0.5-0.7 us of CPU per span; packing costs a few ns). The rank's
// finish converts the chunks into events rows (TraceWriter::expand_staged); a rank killed before
// its finish leaves them, and merge expands them first (traces/merge.h).
//
// Packing of one event (little-endian base-128 varints; z: zigzag-signed):
//   mask  varint  bit i set: optional field i is present (kOptionalFields below)
//   name  varint  string id
//   lane  z-varint
//   kind  varint
//   start z-varint  start - previous start in the chunk (the first: start - 0)
//   dur   varint    end - start (>= 0: malformed events are never staged)
//   then each present optional field in bit order: the integer fields as z-varints, flops as the
//   8 bytes of the IEEE double.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "traces/types.h"

namespace ss::traces {

// The staging table (only in rank files, and only once a span was staged). format: 1 (above).
inline constexpr const char* kSpanChunksDdl = R"SQL(CREATE TABLE IF NOT EXISTS span_chunks(
  id      INTEGER PRIMARY KEY,
  run_id  INTEGER NOT NULL,
  rank    INTEGER NOT NULL,
  format  INTEGER NOT NULL,
  count   INTEGER NOT NULL,
  data    BLOB NOT NULL
))SQL";
inline constexpr const char* kSpanChunksTable = "span_chunks";
inline constexpr int kSpanChunkFormat = 1;

// Packs events of one (run, rank) into a chunk.
class SpanChunkEncoder {
public:
    void add(const Event& e);
    const std::string& data() const { return data_; }
    std::int64_t count() const { return count_; }
    bool empty() const { return count_ == 0; }
    void clear() {
        data_.clear();
        count_ = 0;
        prev_start_ = 0;
    }

private:
    std::string data_;
    std::int64_t count_ = 0, prev_start_ = 0;
};

// Unpacks a chunk of `count` events of (run, rank), calling fn(const Event&) for each in order.
// Throws TraceError (naming `where`) on a truncated or damaged chunk.
template <typename Fn>
void decode_span_chunk(std::string_view data, std::int64_t count, RunId run, std::int32_t rank,
                       const std::string& where, Fn&& fn);

namespace detail {
// Reads one event at `p` (advancing it); false when the data ends before the event does.
bool decode_span(const unsigned char*& p, const unsigned char* end, std::int64_t& prev_start,
                 Event& e);
[[noreturn]] void throw_bad_chunk(const std::string& where, std::int64_t index, std::int64_t count);
}  // namespace detail

template <typename Fn>
void decode_span_chunk(std::string_view data, std::int64_t count, RunId run, std::int32_t rank,
                       const std::string& where, Fn&& fn) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    const auto* end = p + data.size();
    std::int64_t prev_start = 0;
    Event e;
    e.run = run;
    e.rank = rank;
    for (std::int64_t i = 0; i < count; ++i) {
        if (!detail::decode_span(p, end, prev_start, e)) detail::throw_bad_chunk(where, i, count);
        fn(static_cast<const Event&>(e));
    }
    if (p != end) detail::throw_bad_chunk(where, count, count);
}

}  // namespace ss::traces
