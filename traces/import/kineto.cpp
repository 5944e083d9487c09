// The Kineto (PyTorch profiler) JSON reader; the mapping is documented in kineto.h.
#include "traces/import/kineto.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "traces/cuda_names.h"
#include "traces/lanes.h"
#include "traces/writer.h"

namespace ss::traces::import {
namespace {

using std::int64_t;
using std::string_view;
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

// ---------------------------------------------------------------------------------------------
// Numbers

// Integer text ("-12", "4294967295"); false for anything else (fractions, exponents, overflow).
bool parse_int(string_view t, int64_t& out) {
    if (t.empty()) return false;
    size_t i = 0;
    const bool neg = t[0] == '-';
    if (neg) i = 1;
    if (i == t.size()) return false;
    u128 v = 0;
    for (; i < t.size(); ++i) {
        const char c = t[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
        if (v > static_cast<u128>(INT64_MAX) + 1) return false;
    }
    if (!neg && v > static_cast<u128>(INT64_MAX)) return false;
    out = neg ? static_cast<int64_t>(-static_cast<i128>(v)) : static_cast<int64_t>(v);
    return true;
}

}  // namespace

// JSON number text in microseconds -> integer nanoseconds, exactly (rounded half away from zero
// past the nanosecond digit). Exported for the tests through kineto_us_to_ns below.
std::optional<int64_t> kineto_us_to_ns(string_view t) {
    // Fast path: up to 16 integer digits and up to 3 decimals, no sign or exponent (every
    // Kineto timestamp and duration).
    {
        size_t i = 0;
        std::uint64_t v = 0;
        while (i < t.size() && i < 16 && t[i] >= '0' && t[i] <= '9')
            v = v * 10 + static_cast<unsigned>(t[i++] - '0');
        if (i > 0 && (i == t.size() || t[i] == '.')) {
            int frac = 0;
            if (i < t.size()) {
                ++i;
                while (i < t.size() && frac < 3 && t[i] >= '0' && t[i] <= '9') {
                    v = v * 10 + static_cast<unsigned>(t[i++] - '0');
                    ++frac;
                }
            }
            if (i == t.size() && (frac > 0 || t.back() != '.')) {
                for (; frac < 3; ++frac) v *= 10;  // < 10^19: no overflow in 64 unsigned bits
                if (v <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<int64_t>(v);
                return std::nullopt;
            }
        }
    }
    size_t i = 0;
    const bool neg = !t.empty() && t[0] == '-';
    if (neg) ++i;
    i128 mant = 0;
    int digits = 0, frac = 0;
    bool any = false, dot = false, overflow = false;
    for (; i < t.size(); ++i) {
        const char c = t[i];
        if (c >= '0' && c <= '9') {
            any = true;
            if (digits < 36) {
                mant = mant * 10 + (c - '0');
                if (mant != 0) ++digits;
                if (dot) ++frac;
            } else if (!dot) {
                overflow = true;
            }
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!any || overflow) return std::nullopt;
    int exp10 = 0;
    if (i < t.size()) {
        if (t[i] != 'e' && t[i] != 'E') return std::nullopt;
        ++i;
        bool eneg = false;
        if (i < t.size() && (t[i] == '+' || t[i] == '-')) eneg = t[i++] == '-';
        if (i == t.size()) return std::nullopt;
        for (; i < t.size(); ++i) {
            if (t[i] < '0' || t[i] > '9') return std::nullopt;
            exp10 = std::min(exp10 * 10 + (t[i] - '0'), 1000);
        }
        if (eneg) exp10 = -exp10;
    }
    int shift = exp10 - frac + 3;  // value in ns = mant * 10^shift
    if (shift > 0) {
        for (; shift > 0; --shift) {
            mant *= 10;
            if (mant > static_cast<i128>(INT64_MAX)) return std::nullopt;
        }
    } else if (shift < 0) {
        if (shift < -38) {
            mant = 0;
        } else {
            i128 div = 1;
            for (; shift < 0; ++shift) div *= 10;
            mant = (mant + div / 2) / div;
        }
    }
    if (mant > static_cast<i128>(INT64_MAX)) return std::nullopt;
    return neg ? -static_cast<int64_t>(mant) : static_cast<int64_t>(mant);
}

namespace {

// ---------------------------------------------------------------------------------------------
// Input: a .json or .json.gz read in chunks (zlib's gz* reads plain files as they are).

class Input {
public:
    explicit Input(const std::string& path) : path_(path) {
        errno = 0;
        f_ = gzopen(path.c_str(), "rb");
        if (!f_)
            throw ImportError(path +
                              ": cannot open: " + (errno ? std::strerror(errno) : "out of memory"));
        gzbuffer(f_, 1 << 18);
        buf_.resize(kChunk);
    }
    ~Input() {
        if (f_) gzclose_r(f_);
    }
    Input(const Input&) = delete;
    Input& operator=(const Input&) = delete;

    const char* begin() const { return buf_.data() + pos_; }
    const char* end() const { return buf_.data() + end_; }
    bool eof() const { return eof_; }
    // Uncompressed offset of a pointer into the buffer.
    int64_t offset(const char* p) const { return base_ + (p - buf_.data()); }
    void consume(const char* p) { pos_ = static_cast<size_t>(p - buf_.data()); }
    int64_t compressed_read() { return gzoffset(f_); }
    // Whether the file is plain JSON, not gzip (zlib reads both; it tells which).
    bool plain() { return gzdirect(f_) == 1; }

    // Reads more: keeps the unconsumed bytes, grows the buffer when they fill it. Returns false at
    // the end of the file.
    bool more() {
        if (eof_) return false;
        if (pos_ > 0) {
            std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
            base_ += static_cast<int64_t>(pos_);
            end_ -= pos_;
            pos_ = 0;
        }
        if (end_ == buf_.size()) {
            if (buf_.size() >= kMaxUnit)
                throw ImportError(path_ + ": one JSON value at byte " + std::to_string(base_) +
                                  " is larger than " + std::to_string(kMaxUnit >> 20) +
                                  " MiB: not a trace this reader can stream");
            buf_.resize(buf_.size() * 2);
        }
        const int n = gzread(f_, buf_.data() + end_, static_cast<unsigned>(buf_.size() - end_));
        if (n < 0) {
            int code = 0;
            const char* msg = gzerror(f_, &code);
            const std::string what = code == Z_BUF_ERROR
                                         ? std::string("truncated gzip stream (") + msg + ")"
                                         : std::string("cannot read (") + (msg ? msg : "?") + ")";
            throw ImportError(path_ + ": " + what + " after " +
                              std::to_string(base_ + static_cast<int64_t>(end_)) +
                              " bytes of JSON");
        }
        if (n == 0) {
            // zlib reports a stream cut short as Z_BUF_ERROR with nothing read, not as -1.
            int code = 0;
            const char* msg = gzerror(f_, &code);
            if (code != Z_OK)
                throw ImportError(
                    path_ + ": " +
                    (code == Z_BUF_ERROR ? "truncated gzip stream (" : "cannot read (") +
                    (msg ? msg : "?") + ") after " +
                    std::to_string(base_ + static_cast<int64_t>(end_)) + " bytes of JSON");
            eof_ = true;
            return false;
        }
        end_ += static_cast<size_t>(n);
        return true;
    }

private:
    static constexpr size_t kChunk = size_t{4} << 20;
    static constexpr size_t kMaxUnit = size_t{256} << 20;
    std::string path_;
    gzFile f_ = nullptr;
    std::vector<char> buf_;
    size_t pos_ = 0, end_ = 0;
    int64_t base_ = 0;
    bool eof_ = false;
};

// ---------------------------------------------------------------------------------------------
// Scanner over one complete value in a contiguous buffer. Running into the end of the buffer
// throws NeedMore: the caller reads more and parses the unit again from its start.

struct NeedMore {};
struct BadJson {
    const char* at;
    std::string what;
};

class Cur {
public:
    Cur(const char* begin, const char* end) : p(begin), e(end) {}
    const char* p;
    const char* e;

    [[noreturn]] void bad(const char* what) const { throw BadJson{p, what}; }
    void ws() {
        while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
        if (p == e) throw NeedMore{};
    }
    char peek() {
        ws();
        return *p;
    }
    void expect(char c) {
        ws();
        if (*p != c) {
            static thread_local std::string msg;
            msg = std::string("expected '") + c + "'";
            throw BadJson{p, msg};
        }
        ++p;
    }
    // After a member or element: true when another follows (',' consumed), false at `close`.
    bool next(char close) {
        ws();
        if (*p == ',') {
            ++p;
            return true;
        }
        if (*p == close) {
            ++p;
            return false;
        }
        bad(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    // A string (p at '"'); its text, unescaped into `scratch` when it has escapes.
    string_view str(std::string& scratch) {
        ws();
        if (*p != '"') bad("expected a string");
        const char* s = ++p;
        // Most strings are short keys and names without escapes: one inline pass.
        const char* q = s;
        while (q < e && *q != '"' && *q != '\\') ++q;
        if (q == e) throw NeedMore{};
        if (*q == '"') {
            p = q + 1;
            return {s, static_cast<size_t>(q - s)};
        }
        scratch.clear();
        while (true) {
            if (p == e) throw NeedMore{};
            const char c = *p++;
            if (c == '"') return scratch;
            if (c != '\\') {
                scratch.push_back(c);
                continue;
            }
            if (p == e) throw NeedMore{};
            const char x = *p++;
            switch (x) {
                case '"':
                    scratch.push_back('"');
                    break;
                case '\\':
                    scratch.push_back('\\');
                    break;
                case '/':
                    scratch.push_back('/');
                    break;
                case 'b':
                    scratch.push_back('\b');
                    break;
                case 'f':
                    scratch.push_back('\f');
                    break;
                case 'n':
                    scratch.push_back('\n');
                    break;
                case 'r':
                    scratch.push_back('\r');
                    break;
                case 't':
                    scratch.push_back('\t');
                    break;
                case 'u': {
                    unsigned cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00) {
                        if (e - p < 2) throw NeedMore{};
                        if (p[0] == '\\' && p[1] == 'u') {
                            p += 2;
                            const unsigned lo = hex4();
                            if (lo >= 0xDC00 && lo < 0xE000)
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                            else
                                cp = 0xFFFD;
                        } else {
                            cp = 0xFFFD;
                        }
                    } else if (cp >= 0xDC00 && cp < 0xE000) {
                        cp = 0xFFFD;
                    }
                    utf8(cp, scratch);
                    break;
                }
                default:
                    --p;
                    bad("invalid escape in a string");
            }
        }
    }
    // Skips a string (p at '"').
    void skip_str() {
        const char* s = ++p;
        while (true) {
            const char* q =
                static_cast<const char*>(std::memchr(s, '"', static_cast<size_t>(e - s)));
            if (!q) throw NeedMore{};
            const char* b = q;
            while (b > p && b[-1] == '\\') --b;
            if ((q - b) % 2 == 0) {
                p = q + 1;
                return;
            }
            s = q + 1;
        }
    }
    // The text of a number.
    string_view num() {
        ws();
        const char* s = p;
        while (p < e && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' ||
                         *p == 'e' || *p == 'E'))
            ++p;
        if (p == e) throw NeedMore{};
        if (p == s) bad("expected a value");
        return {s, static_cast<size_t>(p - s)};
    }
    void skip(int depth = 0) {
        ws();
        if (depth > 256) bad("nested too deeply");
        switch (*p) {
            case '"':
                skip_str();
                return;
            case '{':
                ++p;
                if (peek() == '}') {
                    ++p;
                    return;
                }
                do {
                    if (peek() != '"') bad("expected a member name");
                    skip_str();
                    expect(':');
                    skip(depth + 1);
                } while (next('}'));
                return;
            case '[':
                ++p;
                if (peek() == ']') {
                    ++p;
                    return;
                }
                do skip(depth + 1);
                while (next(']'));
                return;
            case 't':
                literal("true");
                return;
            case 'f':
                literal("false");
                return;
            case 'n':
                literal("null");
                return;
            default:
                num();
                return;
        }
    }
    bool is_null() {
        if (peek() != 'n') return false;
        literal("null");
        return true;
    }

private:
    void literal(const char* w) {
        const size_t n = std::strlen(w);
        if (static_cast<size_t>(e - p) < n) {
            if (std::memcmp(p, w, static_cast<size_t>(e - p)) == 0) throw NeedMore{};
            bad("invalid literal");
        }
        if (std::memcmp(p, w, n) != 0) bad("invalid literal");
        p += n;
    }
    unsigned hex4() {
        if (e - p < 4) throw NeedMore{};
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = *p++;
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<unsigned>(c - 'A' + 10);
            else
                bad("invalid \\u escape");
        }
        return v;
    }
    static void utf8(unsigned cp, std::string& out) {
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }
};

// ---------------------------------------------------------------------------------------------
// One trace event, as far as the mapping needs it. Views point into the input buffer or into
// the scratch strings; both live until the next event.

struct Raw {
    string_view ph, cat, name;
    string_view pid_text, tid_text;  // pid/tid written as strings ("Spans", "Traces")
    int64_t pid = 0, tid = 0;
    bool pid_int = false, tid_int = false;
    std::optional<int64_t> ts, dur;
    // args
    int64_t correlation = kNone, device = kNone, stream = kNone, bytes = kNone;
    int64_t in_nelems = kNone, group_size = kNone, group_min = kNone, group_count = 0;
    int64_t input_elems = kNone;  // product of the first "Input Dims" entry
    string_view coll_name, dtype, input_type, arg_name, labels;
};

struct Scratch {
    std::string key, ph, cat, name, pid, tid, coll, dtype, itype, aname, labels, ranks, junk;
};

// "[0, 1]" or [0, 1]: the lowest rank and the count.
void ranks_from_text(string_view t, int64_t& lo, int64_t& count) {
    int64_t cur = 0;
    bool in = false;
    for (size_t i = 0; i <= t.size(); ++i) {
        const char c = i < t.size() ? t[i] : ',';
        if (c >= '0' && c <= '9') {
            cur = cur * 10 + (c - '0');
            in = true;
            if (cur > (int64_t{1} << 40)) return;
        } else if (in) {
            lo = lo == kNone ? cur : std::min(lo, cur);
            ++count;
            cur = 0;
            in = false;
        }
    }
}

void parse_args(Cur& c, Raw& r, Scratch& s) {
    if (c.peek() != '{') {
        c.skip();
        return;
    }
    ++c.p;
    if (c.peek() == '}') {
        ++c.p;
        return;
    }
    auto integer = [&](int64_t& out) {
        if (c.peek() == '"' || c.peek() == '{' || c.peek() == '[' || c.peek() == 't' ||
            c.peek() == 'f' || c.peek() == 'n') {
            c.skip();
            return;
        }
        int64_t v;
        if (parse_int(c.num(), v)) out = v;
    };
    auto text = [&](string_view& out, std::string& sc) {
        if (c.peek() == '"')
            out = c.str(sc);
        else
            c.skip();
    };
    do {
        const string_view k = c.str(s.key);
        c.expect(':');
        // Most args are none of ours: rule them out by length first.
        switch (k.size()) {
            case 4:
            case 5:
            case 6:
            case 10:
            case 11:
            case 13:
            case 15:
            case 19:
                break;
            default:
                c.skip();
                continue;
        }
        if (k == "correlation")
            integer(r.correlation);
        else if (k == "device")
            integer(r.device);
        else if (k == "stream")
            integer(r.stream);
        else if (k == "bytes")
            integer(r.bytes);
        else if (k == "In msg nelems")
            integer(r.in_nelems);
        else if (k == "Group size")
            integer(r.group_size);
        else if (k == "Collective name")
            text(r.coll_name, s.coll);
        else if (k == "dtype")
            text(r.dtype, s.dtype);
        else if (k == "name")
            text(r.arg_name, s.aname);
        else if (k == "labels")
            text(r.labels, s.labels);
        else if (k == "Process Group Ranks") {
            if (c.peek() == '"') {
                ranks_from_text(c.str(s.ranks), r.group_min, r.group_count);
            } else if (c.peek() == '[') {
                const char* b = c.p;
                c.skip();
                ranks_from_text({b, static_cast<size_t>(c.p - b)}, r.group_min, r.group_count);
            } else {
                c.skip();
            }
        } else if (k == "Input Dims") {
            // [[d0, d1, ...], ...]: the element count of the first input.
            if (c.peek() != '[') {
                c.skip();
            } else {
                ++c.p;
                if (c.peek() == ']') {
                    ++c.p;
                } else {
                    bool first = true;
                    do {
                        if (first && c.peek() == '[') {
                            ++c.p;
                            int64_t prod = 1;
                            bool ok = true;
                            if (c.peek() == ']') {
                                ++c.p;
                                ok = false;  // a scalar: no tensor
                            } else {
                                do {
                                    int64_t v = 0;
                                    if (c.peek() == '"' || c.peek() == '[' || c.peek() == '{') {
                                        c.skip();
                                        ok = false;
                                    } else if (!parse_int(c.num(), v) || v < 0 ||
                                               (v > 0 && prod > INT64_MAX / v)) {
                                        ok = false;
                                    } else {
                                        prod *= v;
                                    }
                                } while (c.next(']'));
                            }
                            if (ok) r.input_elems = prod;
                        } else {
                            c.skip();
                        }
                        first = false;
                    } while (c.next(']'));
                }
            }
        } else if (k == "Input type") {
            if (c.peek() != '[') {
                c.skip();
            } else {
                ++c.p;
                if (c.peek() == ']') {
                    ++c.p;
                } else {
                    bool first = true;
                    do {
                        if (first)
                            text(r.input_type, s.itype);
                        else
                            c.skip();
                        first = false;
                    } while (c.next(']'));
                }
            }
        } else {
            c.skip();
        }
    } while (c.next('}'));
}

// Parses one event object (c.p at '{').
void parse_event(Cur& c, Raw& r, Scratch& s) {
    c.expect('{');
    if (c.peek() == '}') {
        ++c.p;
        return;
    }
    auto id = [&](int64_t& v, bool& is_int, string_view& text, std::string& sc) {
        if (c.peek() == '"') {
            text = c.str(sc);
            is_int = parse_int(text, v);
        } else if (c.peek() == '-' || (c.peek() >= '0' && c.peek() <= '9')) {
            text = c.num();
            is_int = parse_int(text, v);
        } else {
            c.skip();
        }
    };
    auto time = [&](std::optional<int64_t>& out) {
        const char x = c.peek();
        if (x == '-' || (x >= '0' && x <= '9'))
            out = kineto_us_to_ns(c.num());
        else if (x == '"')
            out = kineto_us_to_ns(c.str(s.junk));  // some writers quote numbers
        else
            c.skip();
    };
    do {
        const string_view k = c.str(s.key);
        c.expect(':');
        auto text = [&](string_view& out, std::string& sc) {
            if (c.peek() == '"')
                out = c.str(sc);
            else
                c.skip();
        };
        // By length, then by letters: this runs for every member of every event.
        switch (k.size()) {
            case 2:
                if (k[0] == 'p' && k[1] == 'h')
                    text(r.ph, s.ph);
                else if (k[0] == 't' && k[1] == 's')
                    time(r.ts);
                else
                    c.skip();
                break;
            case 3:
                if (k == "cat")
                    text(r.cat, s.cat);
                else if (k == "dur")
                    time(r.dur);
                else if (k == "pid")
                    id(r.pid, r.pid_int, r.pid_text, s.pid);
                else if (k == "tid")
                    id(r.tid, r.tid_int, r.tid_text, s.tid);
                else
                    c.skip();
                break;
            case 4:
                if (k == "name")
                    text(r.name, s.name);
                else if (k == "args")
                    parse_args(c, r, s);
                else
                    c.skip();
                break;
            default:
                c.skip();
        }
    } while (c.next('}'));
}

// ---------------------------------------------------------------------------------------------
// Mapping

enum class Cat {
    Kernel,
    Memcpy,
    Memset,
    Runtime,
    CpuOp,
    UserAnnotation,
    GpuUserAnnotation,
    Sync,
    Other
};

Cat category(string_view c) {
    if (c == "kernel" || c == "Kernel") return Cat::Kernel;
    if (c == "cpu_op" || c == "Operator") return Cat::CpuOp;
    if (c == "cuda_runtime" || c == "cuda_driver" || c == "Runtime" || c == "Driver")
        return Cat::Runtime;
    if (c == "gpu_memcpy" || c == "Memcpy") return Cat::Memcpy;
    if (c == "gpu_memset" || c == "Memset") return Cat::Memset;
    if (c == "user_annotation") return Cat::UserAnnotation;
    if (c == "gpu_user_annotation") return Cat::GpuUserAnnotation;
    if (c == "cuda_sync") return Cat::Sync;
    return Cat::Other;
}

}  // namespace

// "all_reduce", "allreduce", "AllReduce", "_allgather_base", "reduce_scatter_tensor", ... ->
// the collective (None when not one of ours). Exported for the tests.
Collective kineto_collective(string_view s) {
    std::string n;
    n.reserve(s.size());
    for (char ch : s)
        if (ch != '_' && ch != ' ' && ch != '-')
            n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    for (const char* suffix : {"intotensor", "coalesced", "tensor", "base", "v"}) {
        const size_t l = std::strlen(suffix);
        if (n.size() > l && n.compare(n.size() - l, l, suffix) == 0 &&
            !(std::string_view(suffix) == "v" && n != "alltoallv" && n != "alltoallbasev"))
            n.resize(n.size() - l);
    }
    if (n == "allreduce") return Collective::AllReduce;
    if (n == "reducescatter") return Collective::ReduceScatter;
    if (n == "allgather") return Collective::AllGather;
    if (n == "broadcast" || n == "bcast") return Collective::Broadcast;
    if (n == "reduce") return Collective::Reduce;
    if (n == "alltoall") return Collective::AllToAll;
    if (n == "send") return Collective::Send;
    if (n == "recv") return Collective::Recv;
    if (n == "barrier") return Collective::Barrier;
    return Collective::None;
}

// Bytes per element of a Kineto/PyTorch dtype name ("Float", "BFloat16", "c10::Half", "long
// int", ...); 0 when unknown. Exported for the tests.
int64_t kineto_dtype_size(string_view s) {
    std::string n;
    for (char ch : s)
        if (ch != ' ' && ch != '_')
            n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    if (n.rfind("c10::", 0) == 0) n = n.substr(5);
    if (n.rfind("torch.", 0) == 0) n = n.substr(6);
    static const std::map<std::string, int64_t, std::less<>> sizes = {
        {"float", 4},        {"float32", 4},      {"double", 8},         {"float64", 8},
        {"half", 2},         {"float16", 2},      {"bfloat16", 2},       {"int", 4},
        {"int32", 4},        {"long", 8},         {"int64", 8},          {"longint", 8},
        {"short", 2},        {"int16", 2},        {"byte", 1},           {"uint8", 1},
        {"char", 1},         {"int8", 1},         {"bool", 1},           {"signedchar", 1},
        {"unsignedchar", 1}, {"complexfloat", 8}, {"complexdouble", 16}, {"complex64", 8},
        {"complex128", 16},  {"float8e4m3fn", 1}, {"float8e5m2", 1},     {"uint16", 2},
        {"uint32", 4},       {"uint64", 8},       {"unsignedint", 4},    {"unsignedlong", 8},
    };
    auto it = sizes.find(n);
    return it == sizes.end() ? 0 : it->second;
}

namespace {

// The collective of an NCCL kernel name: ncclKernel_AllReduce_RING_LL_Sum_float(...),
// ncclDevKernel_ReduceScatter_Sum_f32_RING_LL(...); SendRecv kernels give None (both ways).
Collective collective_of_kernel(string_view name) {
    const std::optional<string_view> op = nccl_kernel_op(name);
    return op ? kineto_collective(*op) : Collective::None;
}

bool is_nccl_kernel(string_view name) {
    return nccl_kernel_op(name).has_value();
}

// A record between the two phases (written to a temporary file).
struct Rec {
    int64_t start, end, name, bytes, group_id, group_size, corr, step;
    std::int32_t lane;
    std::uint8_t kind, collective, gpu, pad;
};
static_assert(sizeof(Rec) == 72);
struct Launch {
    int64_t ts, corr;
};

class TempFile {
public:
    explicit TempFile(const std::string& file) : file_(file) {
        f_ = std::tmpfile();
        if (!f_)
            throw ImportError(file + ": cannot create a temporary file: " + std::strerror(errno));
    }
    ~TempFile() {
        if (f_) std::fclose(f_);
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    void write(const void* p, size_t size, size_t n) {
        if (n && std::fwrite(p, size, n, f_) != n)
            throw ImportError(file_ + ": cannot write the temporary file: " + std::strerror(errno));
    }
    void rewind() {
        if (std::fflush(f_) != 0 || std::fseek(f_, 0, SEEK_SET) != 0)
            throw ImportError(file_ +
                              ": cannot rewind the temporary file: " + std::strerror(errno));
    }
    size_t read(void* p, size_t size, size_t n) {
        const size_t got = std::fread(p, size, n, f_);
        if (got < n && std::ferror(f_))
            throw ImportError(file_ + ": cannot read the temporary file: " + std::strerror(errno));
        return got;
    }

private:
    std::string file_;
    FILE* f_ = nullptr;
};

// Newer Kineto writes baseTimeNanoseconds after traceEvents, at the end of the file. For a plain
// file the value is read from its last 64 KiB before the events are (a guess the real parse
// confirms at the end: RestartWithoutStreaming when it does not); nullopt when it is not there.
std::optional<int64_t> base_time_from_tail(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return std::nullopt;
    std::string tail(size_t{64} << 10, '\0');
    size_t n = 0;
    if (std::fseek(f, 0, SEEK_END) == 0) {
        const long size = std::ftell(f);
        const long from = std::max(0L, size - static_cast<long>(tail.size()));
        if (size >= 0 && std::fseek(f, from, SEEK_SET) == 0)
            n = std::fread(tail.data(), 1, tail.size(), f);
    }
    std::fclose(f);
    tail.resize(n);
    const std::string key = "\"baseTimeNanoseconds\"";
    const size_t at = tail.rfind(key);
    if (at == std::string::npos) return std::nullopt;
    size_t i = at + key.size();
    while (i < tail.size() &&
           (tail[i] == ' ' || tail[i] == '\n' || tail[i] == '\r' || tail[i] == '\t'))
        ++i;
    if (i >= tail.size() || tail[i] != ':') return std::nullopt;
    ++i;
    while (i < tail.size() &&
           (tail[i] == ' ' || tail[i] == '\n' || tail[i] == '\r' || tail[i] == '\t'))
        ++i;
    size_t j = i;
    if (j < tail.size() && tail[j] == '-') ++j;
    while (j < tail.size() && std::isdigit(static_cast<unsigned char>(tail[j]))) ++j;
    int64_t v = 0;
    if (!parse_int(string_view(tail).substr(i, j - i), v)) return std::nullopt;
    return v;
}

// The writer's side of a streaming read: batches of events, named by the reader's own name
// numbers with the names first seen in each batch, handed from the parsing thread to a thread
// that owns the TraceWriter until join(). At most kDepth batches wait (bounded memory).
class WriterThread {
public:
    struct Batch {
        std::vector<Event> events;       // Event.name: the reader's name number
        std::vector<std::string> names;  // the names numbered next, in order
    };
    static constexpr size_t kDepth = 4;

    explicit WriterThread(TraceWriter& w) : w_(w), thread_([this] { loop(); }) {}
    ~WriterThread() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            queue_.clear();  // an abandoned read: what waits is not written
        }
        items_.notify_all();
        if (thread_.joinable()) thread_.join();
    }
    WriterThread(const WriterThread&) = delete;
    WriterThread& operator=(const WriterThread&) = delete;

    // An empty batch to fill: one the writer is done with, when there is one (no allocation).
    Batch take() {
        std::lock_guard lock(mutex_);
        if (done_.empty()) return Batch{};
        Batch b = std::move(done_.back());
        done_.pop_back();
        return b;
    }
    // Throws what the writer threw, if it failed.
    void push(Batch&& b) {
        std::unique_lock lock(mutex_);
        space_.wait(lock, [&] { return queue_.size() < kDepth || error_; });
        if (error_) std::rethrow_exception(error_);
        queue_.push_back(std::move(b));
        lock.unlock();
        items_.notify_one();
    }
    // Writes what waits, stops the thread; returns the events stored. The writer is the caller's
    // again.
    int64_t join() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
        }
        items_.notify_all();
        thread_.join();
        if (error_) std::rethrow_exception(error_);
        return written_;
    }
    // The writer's string id of each name number handed over.
    const std::vector<StringId>& ids() const { return ids_; }

private:
    void loop() {
        try {
            while (true) {
                Batch b;
                {
                    std::unique_lock lock(mutex_);
                    items_.wait(lock, [&] { return !queue_.empty() || closed_; });
                    if (queue_.empty()) return;
                    b = std::move(queue_.front());
                    queue_.pop_front();
                }
                space_.notify_one();
                for (const auto& n : b.names) ids_.push_back(w_.intern(n));
                for (Event& e : b.events) {
                    e.name = ids_[static_cast<size_t>(e.name.value)];
                    if (w_.add_event(e)) ++written_;
                }
                b.events.clear();
                b.names.clear();
                std::lock_guard lock(mutex_);
                if (done_.size() < kDepth) done_.push_back(std::move(b));
            }
        } catch (...) {
            std::lock_guard lock(mutex_);
            error_ = std::current_exception();
            queue_.clear();
        }
        space_.notify_all();
    }

    TraceWriter& w_;
    std::mutex mutex_;
    std::condition_variable items_, space_;
    std::deque<Batch> queue_;
    std::vector<Batch> done_;  // written, kept for take()
    bool closed_ = false;
    std::exception_ptr error_;
    std::vector<StringId> ids_;
    int64_t written_ = 0;
    std::thread thread_;  // last: started once everything above exists
};

struct SvHash {
    using is_transparent = void;
    size_t operator()(string_view s) const { return std::hash<string_view>{}(s); }
};

struct StepWindow {
    int64_t start, end, step;
    int64_t corr_min = INT64_MAX, corr_max = INT64_MIN;
};

class KinetoReader {
public:
    explicit KinetoReader(ReaderContext& ctx)
        : ctx_(ctx), w_(*ctx.writer), recs_file_(ctx.file), launches_file_(ctx.file) {
        recs_.reserve(kBatch);
        launches_.reserve(kBatch);
        used_lanes_ = {lanes::kSteps, lanes::kPhases, lanes::kCompute,
                       lanes::kComm,  lanes::kHost,   lanes::kCudaApi};
    }

    void run() {
        // Streaming: the events go to the writer (on a thread of its own) while the file is read,
        // with the step each gets from the steps and launches read kDelay records later; the
        // second pass over the records then corrects the few whose step the rest of the file
        // changed. A .json.gz cannot be read from its end for a late baseTimeNanoseconds: it is
        // read whole first.
        read_json();
        if (streaming_) {
            while (!delay_.empty()) {
                emit(delay_.front());
                delay_.pop_front();
            }
            send_batch();
            if (writer_) written_ = writer_->join();
        }
        flush_recs();
        write_events();
    }

private:
    static constexpr size_t kBatch = 1 << 14;
    static constexpr size_t kDelay = 1 << 16;  // records between read and written (streaming)

    [[noreturn]] void fail(const std::string& what) { throw ImportError(ctx_.file + ": " + what); }
    [[noreturn]] void bad_json(Input& in, const BadJson& b) {
        fail("invalid JSON at byte " + std::to_string(in.offset(b.at)) + ": " + b.what);
    }
    [[noreturn]] void truncated(Input& in, const char* where) {
        fail(std::string("the JSON ends early (truncated file?) at byte ") +
             std::to_string(in.offset(in.end())) + ", " + where);
    }
    void progress(Input& in) {
        if (ctx_.progress && !ctx_.progress(in.compressed_read())) throw ImportError("cancelled");
    }

    // Runs `parse` on the unconsumed input until it completes, reading more when it runs into
    // the end of the buffer. `parse` returns where it stopped.
    template <typename F>
    void unit(Input& in, const char* where, F&& parse) {
        while (true) {
            Cur c(in.begin(), in.end());
            try {
                parse(c);
                in.consume(c.p);
                return;
            } catch (const NeedMore&) {
                if (!in.more()) {
                    if (in.begin() == in.end() && in.offset(in.end()) == 0)
                        fail("the file is empty");
                    truncated(in, where);
                }
            } catch (const BadJson& b) {
                bad_json(in, b);
            }
        }
    }

    void read_json() {
        Input in(ctx_.file);
        streaming_ = ctx_.streaming && in.plain();
        unit(in, "before the top-level object", [&](Cur& c) {
            if (c.peek() != '{')
                throw BadJson{c.p,
                              "not a Kineto trace: the JSON is not an object with traceEvents"};
            ++c.p;
        });
        bool first = true, seen_events = false;
        while (true) {
            bool done = false;
            std::string key;
            unit(in, "in the top-level object", [&](Cur& c) {
                if (first && c.peek() == '}') {
                    ++c.p;
                    done = true;
                    return;
                }
                if (!first && !c.next('}')) {
                    done = true;
                    return;
                }
                key = std::string(c.str(scratch_.key));
                c.expect(':');
            });
            first = false;
            if (done) break;
            if (key == "traceEvents") {
                read_events(in);
                seen_events = true;
                continue;
            }
            unit(in, ("in the value of \"" + key + "\"").c_str(), [&](Cur& c) {
                c.ws();
                const char* b = c.p;
                c.skip();
                top_level(key, string_view(b, static_cast<size_t>(c.p - b)));
            });
        }
        // Nothing but white space may follow.
        while (true) {
            const char* p = in.begin();
            while (p < in.end() && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
            if (p < in.end())
                fail("unexpected data after the JSON object at byte " +
                     std::to_string(in.offset(p)));
            in.consume(p);
            if (!in.more()) break;
        }
        if (!seen_events) fail("not a Kineto trace: the JSON object has no traceEvents array");
        progress(in);
    }

    void top_level(const std::string& key, string_view text) {
        if (key != "distributedInfo" && key != "deviceProperties" && key != "schemaVersion" &&
            key != "baseTimeNanoseconds")
            return;
        nlohmann::json v = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
        if (v.is_discarded()) return;
        if (key == "schemaVersion") {
            version_ = "schemaVersion " + (v.is_string() ? v.get<std::string>() : v.dump());
        } else if (key == "baseTimeNanoseconds" && v.is_number_integer()) {
            base_ns_ = v.get<int64_t>();
            base_seen_ = true;
        } else if (key == "distributedInfo" && v.is_object()) {
            if (v.contains("rank") && v["rank"].is_number_integer()) rank_ = v["rank"].get<int>();
            if (v.contains("world_size") && v["world_size"].is_number_integer())
                world_size_ = v["world_size"].get<int64_t>();
            if (v.contains("nccl_version") && v["nccl_version"].is_string())
                nccl_version_ = v["nccl_version"].get<std::string>();
        } else if (key == "deviceProperties" && v.is_array()) {
            for (const auto& d : v)
                if (d.is_object() && d.contains("id") && d["id"].is_number_integer() &&
                    d.contains("name") && d["name"].is_string())
                    device_names_[d["id"].get<int64_t>()] = d["name"].get<std::string>();
        }
    }

    // What the events are written with while streaming: the rank, world size and time base as
    // known when traceEvents begins (the base from the end of the file when it is there).
    void begin_events() {
        if (!streaming_ || writer_) return;
        assumed_rank_ = rank_ >= 0 ? rank_ : ctx_.rank_hint;
        assumed_world_ = world_size_;
        assumed_base_ = base_seen_ ? base_ns_ : base_time_from_tail(ctx_.file).value_or(0);
        first_id_ = w_.next_event_id();
        writer_ = std::make_unique<WriterThread>(w_);
    }

    void read_events(Input& in) {
        begin_events();
        bool empty = false;
        unit(in, "at the start of traceEvents", [&](Cur& c) {
            if (c.peek() != '[') c.bad("traceEvents is not an array");
            ++c.p;
            if (c.peek() == ']') {
                ++c.p;
                empty = true;
            }
        });
        if (empty) return;
        int64_t n = 0;
        while (true) {
            bool more = true;
            unit(in, "inside traceEvents", [&](Cur& c) {
                Raw r;
                if (c.peek() != '{') {
                    c.skip();
                    raw_ = Raw{};
                    raw_.ph = "(not an object)";
                } else {
                    parse_event(c, r, scratch_);
                    raw_ = r;
                }
                more = c.next(']');
            });
            handle(raw_);
            if ((++n & 0xFFFF) == 0) progress(in);
            if (!more) return;
        }
    }

    void skip(const std::string& what) { ++skipped_[what]; }

    // The reader's own number of a name (the writer's string ids are assigned on its thread).
    int64_t intern(string_view s) {
        if (s.data() == nullptr) s = string_view("", 0);  // a missing name: "", not SQL NULL
        auto it = names_.find(s);
        if (it != names_.end()) return it->second;
        const auto id = static_cast<int64_t>(name_list_.size());
        name_list_.emplace_back(s);
        names_.emplace(std::string(s), id);
        return id;
    }

    std::int32_t free_lane() {
        while (used_lanes_.count(next_free_)) ++next_free_;
        used_lanes_.insert(next_free_);
        return next_free_++;
    }
    std::int32_t stream_lane(int64_t s) {
        auto it = stream_lanes_.find(s);
        if (it != stream_lanes_.end()) return it->second;
        std::int32_t lane = lanes::kCudaStreamBase + static_cast<std::int32_t>(s);
        if (!used_lanes_.insert(lane).second) lane = free_lane();
        stream_lanes_[s] = lane;
        lane_names_[lane] = "stream " + std::to_string(s);
        return lane;
    }
    std::int32_t keyed_lane(std::map<std::pair<std::string, std::string>, std::int32_t>& m,
                            std::pair<std::string, std::string> key, const std::string& name) {
        auto it = m.find(key);
        if (it != m.end()) return it->second;
        const std::int32_t lane = free_lane();
        m.emplace(std::move(key), lane);
        lane_names_[lane] = name;
        return lane;
    }
    static std::string id_text(const Raw& r, bool pid) {
        if (pid) return r.pid_int ? std::to_string(r.pid) : std::string(r.pid_text);
        return r.tid_int ? std::to_string(r.tid) : std::string(r.tid_text);
    }
    std::int32_t host_lane(const Raw& r) {
        // The last lane looked up: consecutive events mostly share it.
        if (last_host_ && r.pid_int && r.tid_int && r.pid == last_pid_ && r.tid == last_tid_)
            return last_host_lane_;
        const std::string tid = id_text(r, false);
        const std::int32_t lane = keyed_lane(host_lanes_, {id_text(r, true), tid}, "thread " + tid);
        last_host_ = r.pid_int && r.tid_int;
        last_pid_ = r.pid;
        last_tid_ = r.tid;
        last_host_lane_ = lane;
        if (host_pid_ == kNone && r.pid_int) host_pid_ = r.pid;
        return lane;
    }

    void add(Rec rec) {
        if (streaming_) {
            delay_.push_back(rec);
            if (delay_.size() > kDelay) {
                emit(delay_.front());
                delay_.pop_front();
            }
            return;
        }
        recs_.push_back(rec);
        if (recs_.size() == kBatch) flush_recs();
    }

    // Streaming: a record leaves the delay, takes its step from what is known now, and goes to
    // the temporary file (for the second pass) and to the writer.
    void emit(Rec& r) {
        if (r.lane == lanes::kCudaApi && r.corr >= 0) live_launch(r.start, r.corr);
        if (r.kind != static_cast<std::uint8_t>(EventKind::Step)) r.step = live_step(r);
        recs_.push_back(r);
        if (recs_.size() == kBatch) flush_recs();
        batch_.events.push_back(to_event(r, r.step, assumed_rank_, assumed_world_, assumed_base_));
        if (batch_.events.size() == kBatch) send_batch();
    }
    void send_batch() {
        if (!writer_) return;
        batch_.names.assign(name_list_.begin() + static_cast<std::ptrdiff_t>(names_sent_),
                            name_list_.end());
        names_sent_ = name_list_.size();
        writer_->push(std::move(batch_));
        batch_ = writer_->take();
        batch_.events.reserve(kBatch);
    }

    // The step windows and launch correlation ranges read so far (streaming), as write_events
    // uses the whole file's.
    struct LiveWindow {
        int64_t end, step;
        int64_t corr_min = INT64_MAX, corr_max = INT64_MIN;
    };
    LiveWindow* live_at(int64_t t) {
        auto it = live_by_start_.upper_bound(t);
        if (it == live_by_start_.begin()) return nullptr;
        --it;
        return t < it->second.end ? &it->second : nullptr;
    }
    void live_launch(int64_t ts, int64_t corr) {
        live_corr_lo_ = std::min(live_corr_lo_, corr);
        live_corr_hi_ = std::max(live_corr_hi_, corr);
        LiveWindow* w = live_at(ts);
        if (!w) return;
        if (corr < w->corr_min) {
            if (auto it = live_by_corr_.find(w->corr_min);
                it != live_by_corr_.end() && it->second == w)
                live_by_corr_.erase(it);
            w->corr_min = corr;
            live_by_corr_[corr] = w;
        }
        w->corr_max = std::max(w->corr_max, corr);
    }
    int64_t live_step(const Rec& r) {
        if (r.gpu && r.corr >= 0 && !live_by_corr_.empty() && r.corr >= live_corr_lo_ &&
            r.corr <= live_corr_hi_) {
            auto it = live_by_corr_.upper_bound(r.corr);
            if (it == live_by_corr_.begin()) return kNone;
            --it;
            return r.corr <= it->second->corr_max ? it->second->step : kNone;
        }
        const LiveWindow* w = live_at(r.start);
        return w ? w->step : kNone;
    }

    // A record as an event (its name still the reader's number).
    Event to_event(const Rec& r, int64_t step, std::int32_t rank, int64_t world, int64_t base) {
        Event e;
        e.run = ctx_.run;
        e.rank = rank;
        e.lane = r.lane;
        e.kind = static_cast<EventKind>(r.kind);
        e.name = StringId(r.name);
        if (__builtin_add_overflow(r.start, base, &e.start_ns) ||
            __builtin_add_overflow(r.end, base, &e.end_ns))
            fail("a time overflows 64-bit nanoseconds (baseTimeNanoseconds " +
                 std::to_string(base) + ")");
        e.step = step;
        e.bytes = r.bytes;
        e.collective = static_cast<Collective>(r.collective);
        e.group_id = r.group_id;
        e.group_size = r.group_size;
        if (e.kind == EventKind::Comm && world > 1 && r.group_size == world)
            e.group_kind = GroupKind::World;
        e.correlation = r.corr;
        return e;
    }
    void flush_recs() {
        recs_file_.write(recs_.data(), sizeof(Rec), recs_.size());
        recs_.clear();
        launches_file_.write(launches_.data(), sizeof(Launch), launches_.size());
        launches_.clear();
    }

    // Fills the NCCL fields of a Comm record from the args.
    void comm_fields(Rec& rec, const Raw& r, Collective from_name) {
        Collective c = r.coll_name.empty() ? Collective::None : kineto_collective(r.coll_name);
        if (c == Collective::None) c = from_name;
        rec.kind = static_cast<std::uint8_t>(EventKind::Comm);
        rec.collective = static_cast<std::uint8_t>(c);
        const int64_t size = kineto_dtype_size(r.dtype);
        if (r.in_nelems >= 0 && size > 0) {
            rec.bytes = r.in_nelems * size;
        } else if (r.input_elems >= 0) {
            const int64_t isize = kineto_dtype_size(r.input_type);
            if (isize > 0) rec.bytes = r.input_elems * isize;
        }
        rec.group_size = r.group_size > 0    ? r.group_size
                         : r.group_count > 0 ? r.group_count
                                             : kNone;
        rec.group_id = r.group_min;
    }

    void handle(const Raw& r) {
        if (r.ph == "X") return complete(r);
        if (r.ph == "M") return metadata(r);
        if (r.ph == "s" || r.ph == "f" || r.ph == "t") {
            auto it = flows_.find(r.cat);
            if (it == flows_.end()) it = flows_.emplace(std::string(r.cat), 0).first;
            ++it->second;
            return;
        }
        skip("events of phase '" + std::string(r.ph) + "' not imported");
    }

    void metadata(const Raw& r) {
        if (r.name == "thread_name" && !r.arg_name.empty()) {
            thread_names_[{id_text(r, true), id_text(r, false)}] = std::string(r.arg_name);
        } else if (r.name != "process_name" && r.name != "process_labels" &&
                   r.name != "process_sort_index" && r.name != "thread_sort_index") {
            skip("metadata events '" + std::string(r.name) + "' not used");
        }
    }

    void complete(const Raw& r) {
        const Cat cat = category(r.cat);
        if (cat == Cat::Other) {
            return skip("events of category '" + std::string(r.cat) + "' not imported");
        }
        if (!r.ts) return skip("events without a valid ts not imported");
        Rec rec{};
        rec.start = *r.ts;
        rec.end = *r.ts + (r.dur ? *r.dur : 0);
        rec.bytes = rec.group_id = rec.group_size = rec.corr = rec.step = kNone;
        rec.gpu = 0;
        switch (cat) {
            case Cat::Kernel:
            case Cat::Memcpy:
            case Cat::Memset:
            case Cat::Sync: {
                const int64_t stream = r.stream != kNone ? r.stream : r.tid_int ? r.tid : kNone;
                const bool has_stream = stream >= 0 && stream < (int64_t{1} << 24);
                if (cat != Cat::Sync && !has_stream)
                    return skip("GPU records without a stream not imported");
                const int64_t device = r.device != kNone ? r.device : r.pid_int ? r.pid : kNone;
                if (device >= 0) ++device_records_[device];
                rec.lane = has_stream ? stream_lane(stream)
                                      : keyed_lane(other_lanes_, {"sync", ""}, "device sync");
                rec.gpu = 1;
                rec.corr = r.correlation;
                rec.name = intern(r.name);
                if (cat == Cat::Kernel) {
                    rec.kind = static_cast<std::uint8_t>(EventKind::Kernel);
                    if (is_nccl_kernel(r.name)) comm_fields(rec, r, collective_of_kernel(r.name));
                } else if (cat == Cat::Sync) {
                    rec.kind = static_cast<std::uint8_t>(EventKind::Sync);
                } else {
                    rec.kind = static_cast<std::uint8_t>(cat == Cat::Memcpy ? EventKind::Memcpy
                                                                            : EventKind::Memset);
                    rec.bytes = r.bytes;
                }
                break;
            }
            case Cat::Runtime:
                rec.lane = lanes::kCudaApi;
                ++api_calls_;
                rec.kind = static_cast<std::uint8_t>(EventKind::HostRange);
                rec.corr = r.correlation;
                rec.name = intern(r.name);
                if (r.correlation >= 0) launches_.push_back({rec.start, r.correlation});
                if (host_pid_ == kNone && r.pid_int) host_pid_ = r.pid;
                break;
            case Cat::UserAnnotation:
            case Cat::CpuOp: {
                int64_t n;
                if (r.name.substr(0, 13) == "ProfilerStep#" && parse_int(r.name.substr(13), n)) {
                    rec.lane = lanes::kSteps;
                    rec.kind = static_cast<std::uint8_t>(EventKind::Step);
                    rec.step = n;
                    rec.name = intern(r.name);
                    steps_.push_back({rec.start, rec.end, n});
                    if (streaming_) live_by_start_.try_emplace(rec.start, LiveWindow{rec.end, n});
                    break;
                }
                rec.lane = host_lane(r);
                rec.kind = static_cast<std::uint8_t>(EventKind::HostRange);
                rec.name = intern(r.name);
                if (r.name.substr(0, 5) == "nccl:")
                    comm_fields(rec, r, kineto_collective(r.name.substr(5)));
                break;
            }
            case Cat::GpuUserAnnotation: {
                const int64_t stream = r.stream != kNone ? r.stream : r.tid_int ? r.tid : kNone;
                const std::string s = stream >= 0 ? std::to_string(stream) : id_text(r, false);
                rec.lane = keyed_lane(other_lanes_, {"annotations", s}, "annotations, stream " + s);
                rec.kind = static_cast<std::uint8_t>(EventKind::HostRange);
                rec.name = intern(r.name);
                break;
            }
            case Cat::Other:
                break;
        }
        add(rec);
    }

    // Second phase: steps and rank are known; every record is written.
    void write_events() {
        const std::int32_t rank = rank_ >= 0 ? rank_ : ctx_.rank_hint;
        if (streaming_ && writer_) {
            auto restart = [&](const std::string& what, int64_t assumed, int64_t is) {
                throw RestartWithoutStreaming(ctx_.file + ": the events were written with " + what +
                                              " " + std::to_string(assumed) +
                                              ", the end of the file says " + std::to_string(is));
            };
            if (rank != assumed_rank_) restart("rank", assumed_rank_, rank);
            if (world_size_ != assumed_world_) restart("world size", assumed_world_, world_size_);
            if (base_ns_ != assumed_base_) restart("baseTimeNanoseconds", assumed_base_, base_ns_);
        }
        std::sort(steps_.begin(), steps_.end(),
                  [](const StepWindow& a, const StepWindow& b) { return a.start < b.start; });
        // The step of a time: the window holding it (windows do not overlap; the later wins).
        auto step_at = [&](int64_t t) -> StepWindow* {
            auto it = std::upper_bound(steps_.begin(), steps_.end(), t,
                                       [](int64_t x, const StepWindow& s) { return x < s.start; });
            if (it == steps_.begin()) return nullptr;
            --it;
            return t < it->end ? &*it : nullptr;
        };
        // Correlation ranges of the launches per step: CUPTI numbers API calls in call order,
        // so the calls inside a window hold one range of ids.
        int64_t corr_lo = INT64_MAX, corr_hi = INT64_MIN;
        launches_file_.rewind();
        std::vector<Launch> lb(kBatch);
        for (size_t n; (n = launches_file_.read(lb.data(), sizeof(Launch), lb.size())) > 0;) {
            for (size_t i = 0; i < n; ++i) {
                corr_lo = std::min(corr_lo, lb[i].corr);
                corr_hi = std::max(corr_hi, lb[i].corr);
                if (StepWindow* s = step_at(lb[i].ts)) {
                    s->corr_min = std::min(s->corr_min, lb[i].corr);
                    s->corr_max = std::max(s->corr_max, lb[i].corr);
                }
            }
        }
        std::vector<const StepWindow*> by_corr;
        for (const auto& s : steps_)
            if (s.corr_min <= s.corr_max) by_corr.push_back(&s);
        std::sort(by_corr.begin(), by_corr.end(),
                  [](auto* a, auto* b) { return a->corr_min < b->corr_min; });
        auto step_of_launch = [&](int64_t corr, bool& known) -> int64_t {
            known = corr >= corr_lo && corr <= corr_hi;
            auto it = std::upper_bound(by_corr.begin(), by_corr.end(), corr,
                                       [](int64_t c, auto* s) { return c < s->corr_min; });
            if (it == by_corr.begin()) return kNone;
            --it;
            return corr <= (*it)->corr_max ? (*it)->step : kNone;
        };

        RankInfo info;
        info.run = ctx_.run;
        info.rank = rank;
        info.pid = host_pid_ == kNone ? 0 : host_pid_;
        info.device = "cpu";
        if (!device_records_.empty()) {
            auto most = std::max_element(device_records_.begin(), device_records_.end(),
                                         [](auto& a, auto& b) { return a.second < b.second; });
            info.device = "cuda:" + std::to_string(most->first);
            if (auto d = device_names_.find(most->first); d != device_names_.end())
                info.device += " (" + d->second + ")";
        }
        w_.put_rank(info);
        for (auto& [key, lane] : host_lanes_) {
            auto t = thread_names_.find(key);
            if (t == thread_names_.end()) continue;
            std::string tn = t->second;
            while (!tn.empty() && tn.back() == ' ') tn.pop_back();
            const std::string base = "thread " + key.second;
            if (tn == base || tn.rfind(base + " ", 0) == 0)
                lane_names_[lane] = tn;
            else if (!tn.empty())
                lane_names_[lane] = base + " (" + tn + ")";
        }
        if (!steps_.empty()) lane_names_[lanes::kSteps] = lanes::name(lanes::kSteps);
        if (api_calls_) lane_names_[lanes::kCudaApi] = "cuda api";
        for (const auto& [lane, name] : lane_names_) w_.define_lane(ctx_.run, rank, lane, name);

        recs_file_.rewind();
        std::vector<Rec> rb(kBatch);
        auto final_step = [&](const Rec& r) -> int64_t {
            if (r.kind == static_cast<std::uint8_t>(EventKind::Step)) return r.step;
            if (r.gpu && r.corr >= 0 && !by_corr.empty()) {
                bool known = false;
                const int64_t s = step_of_launch(r.corr, known);
                if (known) return s;
            }
            const StepWindow* s = step_at(r.start);
            return s ? s->step : kNone;
        };
        int64_t written = 0;
        if (streaming_) {
            // The events are stored, in the order of the records, from first_id_ on (a record
            // with end < start is not: TraceWriter::add_event). Steps the rest of the file
            // changed are set again, in ranges of consecutive ids.
            std::vector<std::tuple<int64_t, int64_t, int64_t>> fixes;
            int64_t id = first_id_;
            for (size_t n; (n = recs_file_.read(rb.data(), sizeof(Rec), rb.size())) > 0;) {
                for (size_t i = 0; i < n; ++i) {
                    const Rec& r = rb[i];
                    if (r.end < r.start) continue;
                    const int64_t step = final_step(r);
                    if (step != r.step) {
                        if (!fixes.empty() && std::get<1>(fixes.back()) == id - 1 &&
                            std::get<2>(fixes.back()) == step)
                            std::get<1>(fixes.back()) = id;
                        else
                            fixes.emplace_back(id, id, step);
                        ++steps_corrected_;
                    }
                    ++id;
                }
                if (fixes.size() >= kBatch) {
                    w_.set_event_steps(fixes);
                    fixes.clear();
                }
            }
            w_.set_event_steps(fixes);
            written = written_;
            if (id - first_id_ != written)
                throw ImportError(ctx_.file + ": internal error: " + std::to_string(written) +
                                  " events stored, " + std::to_string(id - first_id_) +
                                  " expected");
        } else {
            std::vector<StringId> ids;
            ids.reserve(name_list_.size());
            for (const auto& name : name_list_) ids.push_back(w_.intern(name));
            for (size_t n; (n = recs_file_.read(rb.data(), sizeof(Rec), rb.size())) > 0;) {
                for (size_t i = 0; i < n; ++i) {
                    Event e = to_event(rb[i], final_step(rb[i]), rank, world_size_, base_ns_);
                    e.name = ids[static_cast<size_t>(e.name.value)];
                    if (w_.add_event(e)) ++written;
                }
            }
        }

        ctx_.ranks = {rank};
        ctx_.events += written;
        ctx_.tool = "PyTorch profiler (Kineto)";
        std::string v = version_;
        if (!nccl_version_.empty())
            v += (v.empty() ? "" : ", ") + std::string("NCCL ") + nccl_version_;
        ctx_.version = v;
        for (const auto& [cat, n] : flows_)
            ctx_.skipped.push_back(std::to_string(n) + " flow events (s/f) of category '" + cat +
                                   "' not stored: the correlation id they carry is on the records");
        for (const auto& [what, n] : skipped_)
            ctx_.skipped.push_back(std::to_string(n) + " " + what);
    }

    ReaderContext& ctx_;
    TraceWriter& w_;
    Scratch scratch_;
    Raw raw_;

    TempFile recs_file_, launches_file_;
    std::vector<Rec> recs_;
    // Streaming (run()).
    bool streaming_ = false;
    std::deque<Rec> delay_;
    WriterThread::Batch batch_;
    size_t names_sent_ = 0;
    std::map<int64_t, LiveWindow> live_by_start_;
    std::map<int64_t, LiveWindow*> live_by_corr_;
    int64_t live_corr_lo_ = INT64_MAX, live_corr_hi_ = INT64_MIN;
    std::int32_t assumed_rank_ = 0;
    int64_t assumed_world_ = 0, assumed_base_ = 0, first_id_ = 0, written_ = 0;
    int64_t steps_corrected_ = 0;
    bool base_seen_ = false;
    std::vector<Launch> launches_;

    std::unordered_map<std::string, int64_t, SvHash, std::equal_to<>> names_;
    std::vector<std::string> name_list_;  // by the reader's number
    std::set<std::int32_t> used_lanes_;
    std::int32_t next_free_ = lanes::kHostThreadBase;  // host threads and other named lanes
    std::map<int64_t, std::int32_t> stream_lanes_;
    std::map<std::pair<std::string, std::string>, std::int32_t> host_lanes_, other_lanes_;
    std::map<std::pair<std::string, std::string>, std::string> thread_names_;
    std::map<std::int32_t, std::string> lane_names_;
    bool last_host_ = false;
    int64_t last_pid_ = 0, last_tid_ = 0;
    std::int32_t last_host_lane_ = 0;

    std::vector<StepWindow> steps_;
    std::map<std::string, int64_t> skipped_;
    std::map<int64_t, int64_t> device_records_;
    std::map<int64_t, std::string> device_names_;
    int64_t host_pid_ = kNone;
    int64_t api_calls_ = 0;
    std::unordered_map<std::string, int64_t, SvHash, std::equal_to<>> flows_;
    int rank_ = -1;
    int64_t world_size_ = 0;
    int64_t base_ns_ = 0;
    std::string version_, nccl_version_;
    // Last: destroyed first, so an abandoned read stops the writer's thread before the rest goes.
    std::unique_ptr<WriterThread> writer_;
};

}  // namespace

void read_kineto(ReaderContext& ctx) {
    if (!ctx.writer) throw ImportError(ctx.file + ": no writer to import into");
    KinetoReader(ctx).run();
}

}  // namespace ss::traces::import
