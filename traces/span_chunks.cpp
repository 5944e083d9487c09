#include "traces/span_chunks.h"

#include <cstring>

#include "traces/sqlite_util.h"

namespace ss::traces {

namespace {
// The optional fields, in mask bit order.
enum Field : unsigned {
    kStep,
    kMicroBatch,
    kLayer,
    kBytes,
    kFlops,
    kCollective,
    kGroupKind,
    kGroupId,
    kGroupSize,
    kPeer,
    kSeq,
    kCorrelation,
    kFieldCount
};

std::uint64_t zigzag(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Appends v as a varint to a buffer with room for 10 bytes at `o`; returns the new end.
inline char* put_varint(char* o, std::uint64_t v) {
    while (v >= 0x80) {
        *o++ = static_cast<char>(v | 0x80);
        v >>= 7;
    }
    *o++ = static_cast<char>(v);
    return o;
}

inline bool get_varint(const unsigned char*& p, const unsigned char* end, std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p == end) return false;
        const unsigned char b = *p++;
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if (b < 0x80) return true;
    }
    return false;  // more than 10 bytes: damaged
}
}  // namespace

void SpanChunkEncoder::add(const Event& e) {
    // At most: 6 varints of the fixed fields, 11 optional varints and a double.
    constexpr std::size_t kMaxBytes = 17 * 10 + 8;
    const std::size_t at = data_.size();
    data_.resize(at + kMaxBytes);
    char* const begin = data_.data() + at;
    char* o = begin;
    unsigned mask = 0;
    auto has = [&](std::int64_t v, Field f) {
        if (v != kNone) mask |= 1u << f;
    };
    has(e.step, kStep);
    has(e.micro_batch, kMicroBatch);
    has(e.layer, kLayer);
    has(e.bytes, kBytes);
    if (e.flops >= 0) mask |= 1u << kFlops;
    if (e.collective != Collective::None) mask |= 1u << kCollective;
    if (e.group_kind != GroupKind::None) mask |= 1u << kGroupKind;
    has(e.group_id, kGroupId);
    has(e.group_size, kGroupSize);
    has(e.peer, kPeer);
    has(e.seq, kSeq);
    has(e.correlation, kCorrelation);
    o = put_varint(o, mask);
    o = put_varint(o, static_cast<std::uint64_t>(e.name.value));
    o = put_varint(o, zigzag(e.lane));
    o = put_varint(o, static_cast<std::uint64_t>(static_cast<int>(e.kind)));
    o = put_varint(o, zigzag(e.start_ns - prev_start_));
    o = put_varint(o, static_cast<std::uint64_t>(e.end_ns - e.start_ns));
    prev_start_ = e.start_ns;
    if (mask != 0) {
        auto opt = [&](std::int64_t v, Field f) {
            if (mask & (1u << f)) o = put_varint(o, zigzag(v));
        };
        opt(e.step, kStep);
        opt(e.micro_batch, kMicroBatch);
        opt(e.layer, kLayer);
        opt(e.bytes, kBytes);
        if (mask & (1u << kFlops)) {
            std::memcpy(o, &e.flops, sizeof e.flops);
            o += sizeof e.flops;
        }
        opt(static_cast<int>(e.collective), kCollective);
        opt(static_cast<int>(e.group_kind), kGroupKind);
        opt(e.group_id, kGroupId);
        opt(e.group_size, kGroupSize);
        opt(e.peer, kPeer);
        opt(e.seq, kSeq);
        opt(e.correlation, kCorrelation);
    }
    data_.resize(at + static_cast<std::size_t>(o - begin));
    ++count_;
}

namespace detail {
bool decode_span(const unsigned char*& p, const unsigned char* end, std::int64_t& prev_start,
                 Event& e) {
    std::uint64_t mask, name, lane, kind, start, dur;
    if (!get_varint(p, end, mask) || !get_varint(p, end, name) || !get_varint(p, end, lane) ||
        !get_varint(p, end, kind) || !get_varint(p, end, start) || !get_varint(p, end, dur))
        return false;
    if (mask >> kFieldCount || kind >= static_cast<std::uint64_t>(kEventKindCount)) return false;
    e.name = StringId(static_cast<std::int64_t>(name));
    e.lane = static_cast<std::int32_t>(unzigzag(lane));
    e.kind = static_cast<EventKind>(kind);
    e.start_ns = prev_start + unzigzag(start);
    e.end_ns = e.start_ns + static_cast<std::int64_t>(dur);
    prev_start = e.start_ns;
    auto opt = [&](Field f, std::int64_t& v) {
        if (!(mask & (1u << f))) {
            v = kNone;
            return true;
        }
        std::uint64_t u;
        if (!get_varint(p, end, u)) return false;
        v = unzigzag(u);
        return true;
    };
    std::int64_t collective = 0, group_kind = 0;
    if (!opt(kStep, e.step) || !opt(kMicroBatch, e.micro_batch) || !opt(kLayer, e.layer) ||
        !opt(kBytes, e.bytes))
        return false;
    e.flops = -1.0;
    if (mask & (1u << kFlops)) {
        if (end - p < static_cast<std::ptrdiff_t>(sizeof e.flops)) return false;
        std::memcpy(&e.flops, p, sizeof e.flops);
        p += sizeof e.flops;
    }
    if (!opt(kCollective, collective) || !opt(kGroupKind, group_kind) ||
        !opt(kGroupId, e.group_id) || !opt(kGroupSize, e.group_size) || !opt(kPeer, e.peer) ||
        !opt(kSeq, e.seq) || !opt(kCorrelation, e.correlation))
        return false;
    e.collective = collective == kNone ? Collective::None : static_cast<Collective>(collective);
    e.group_kind = group_kind == kNone ? GroupKind::None : static_cast<GroupKind>(group_kind);
    return true;
}

void throw_bad_chunk(const std::string& where, std::int64_t index, std::int64_t count) {
    throw TraceError(where + ": a staged span chunk is damaged (event " + std::to_string(index) +
                     " of " + std::to_string(count) + " does not decode) at " + __FILE__ + ":" +
                     std::to_string(__LINE__));
}
}  // namespace detail

}  // namespace ss::traces
