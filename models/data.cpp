#include "models/data.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace fs = std::filesystem;

namespace ss::models {
namespace {

constexpr uint32_t kIdxTypeUnsignedByte = 0x08;
// Largest payload we accept (4 GiB): guards against absurd sizes in a corrupt header.
constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 32;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
    throw std::runtime_error(path + ": " + problem);
}

std::string fashion_hint() {
    return "Fashion-MNIST is provided by the Debian package dataset-fashion-mnist "
           "(apt-get install dataset-fashion-mnist), which installs it in " +
           std::string(kFashionMnistDir);
}

std::string fortunes_hint() {
    return "the default text corpus is provided by the Debian package fortunes "
           "(apt-get install fortunes), which installs it in " +
           std::string(kFortunesDir);
}

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads exactly `n` bytes; returns how many were read before end of file. Throws on a stream error
// (corrupt or truncated gzip data).
std::size_t gz_read_full(gzFile f, const std::string& path, uint8_t* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
        const std::size_t chunk = std::min<std::size_t>(n - done, std::size_t{1} << 30);
        const int got = gzread(f, out + done, static_cast<unsigned>(chunk));
        if (got < 0) {
            int errnum = 0;
            const char* msg = gzerror(f, &errnum);
            fail(path, std::string("corrupt gzip data: ") + (msg ? msg : "unknown zlib error"));
        }
        if (got == 0) {
            // gzread returns 0 at end of file, but also when the gzip stream ends early.
            int errnum = 0;
            const char* msg = gzerror(f, &errnum);
            if (errnum != Z_OK && errnum != Z_STREAM_END)
                fail(path, std::string("corrupt gzip data: ") + (msg ? msg : "unknown zlib error"));
            break;
        }
        done += static_cast<std::size_t>(got);
    }
    return done;
}

uint32_t big_endian_u32(const uint8_t* b) {
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", v);
    return buf;
}

bool starts_with_gzip_magic(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    unsigned char magic[2] = {0, 0};
    in.read(reinterpret_cast<char*>(magic), 2);
    return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

std::vector<uint8_t> read_file_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path.string(), std::string("cannot open: ") + std::strerror(errno));
    std::vector<uint8_t> bytes;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (!ec) bytes.reserve(static_cast<std::size_t>(size));
    char buf[1 << 16];
    while (in) {
        in.read(buf, sizeof buf);
        bytes.insert(bytes.end(), buf, buf + in.gcount());
    }
    if (in.bad()) fail(path.string(), "read error");
    return bytes;
}

// Appends a fortune file, turning each separator line ("%" alone on a line) into an empty line.
void append_fortunes(std::vector<uint8_t>& out, const std::vector<uint8_t>& in) {
    std::size_t line_start = 0;
    while (line_start < in.size()) {
        std::size_t line_end = line_start;
        while (line_end < in.size() && in[line_end] != '\n') ++line_end;
        const std::size_t len = line_end - line_start;
        const bool separator = (len == 1 && in[line_start] == '%') ||
                               (len == 2 && in[line_start] == '%' && in[line_start + 1] == '\r');
        if (!separator) out.insert(out.end(), in.begin() + line_start, in.begin() + line_end);
        if (line_end < in.size()) out.push_back('\n');
        line_start = line_end + 1;
    }
    // Keep files apart even when the last line has no newline.
    if (!out.empty() && out.back() != '\n') out.push_back('\n');
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string fashion_mnist_images_file(bool train) {
    return train ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz";
}

std::string fashion_mnist_labels_file(bool train) {
    return train ? "train-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte.gz";
}

IdxArray read_idx_gz(const std::string& path, int expected_rank) {
    std::error_code ec;
    if (!fs::exists(path, ec)) fail(path, "file not found");
    if (fs::is_directory(path, ec)) fail(path, "is a directory, expected a gzip-compressed IDX file");
    // zlib reads non-gzip files transparently; we want to know.
    if (!starts_with_gzip_magic(path))
        fail(path, "not a gzip file (expected a gzip-compressed IDX file, magic bytes 1f 8b)");

    GzFile f(gzopen(path.c_str(), "rb"));
    if (!f) fail(path, std::string("cannot open: ") + std::strerror(errno));
    gzbuffer(f.get(), 1 << 18);

    uint8_t header[4];
    if (gz_read_full(f.get(), path, header, 4) != 4)
        fail(path, "truncated: file ends inside the 4-byte IDX magic number");
    const uint32_t magic = big_endian_u32(header);
    const uint32_t type = (magic >> 8) & 0xff;
    const uint32_t rank = magic & 0xff;
    const uint32_t expected_magic = (kIdxTypeUnsignedByte << 8) | static_cast<uint32_t>(expected_rank);
    if (magic != expected_magic) {
        std::string detail;
        if ((magic >> 16) == 0 && type == kIdxTypeUnsignedByte)
            detail = "; this file declares " + std::to_string(rank) + " dimensions";
        else if ((magic >> 16) == 0 && type >= 0x09 && type <= 0x0E)
            detail = "; this file holds another element type (0x" + hex32(type).substr(8) + ")";
        else
            detail = "; this is not an IDX file";
        fail(path, "bad IDX magic number " + hex32(magic) + ", expected " + hex32(expected_magic) +
                       " (unsigned bytes, " + std::to_string(expected_rank) + " dimensions)" + detail);
    }

    IdxArray out;
    out.dims.resize(rank);
    uint64_t total = 1;
    for (uint32_t d = 0; d < rank; ++d) {
        uint8_t b[4];
        if (gz_read_full(f.get(), path, b, 4) != 4)
            fail(path, "truncated: file ends inside the IDX header (dimension " + std::to_string(d) +
                           " of " + std::to_string(rank) + ")");
        out.dims[d] = big_endian_u32(b);
        if (d > 0 && out.dims[d] == 0)
            fail(path, "bad IDX header: dimension " + std::to_string(d) + " is 0");
        total *= out.dims[d];
        if (total > kMaxIdxBytes)
            fail(path, "bad IDX header: data size exceeds " + std::to_string(kMaxIdxBytes) + " bytes");
    }

    out.data.resize(static_cast<std::size_t>(total));
    const std::size_t got = gz_read_full(f.get(), path, out.data.data(), out.data.size());
    if (got != out.data.size())
        fail(path, "truncated: the IDX header announces " + std::to_string(total) +
                       " data bytes but the file holds only " + std::to_string(got));
    uint8_t extra;
    if (gz_read_full(f.get(), path, &extra, 1) != 0)
        fail(path, "unexpected bytes after the " + std::to_string(total) +
                       " data bytes announced by the IDX header");
    return out;
}

ImageDataset load_fashion_mnist(const std::string& dir, bool train) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        fail(dir, "Fashion-MNIST directory not found; " + fashion_hint());
    const std::string images_path = (fs::path(dir) / fashion_mnist_images_file(train)).string();
    const std::string labels_path = (fs::path(dir) / fashion_mnist_labels_file(train)).string();
    for (const auto& p : {images_path, labels_path})
        if (!fs::exists(p, ec)) fail(p, "Fashion-MNIST file not found; " + fashion_hint());

    IdxArray images = read_idx_gz(images_path, 3);  // (n, rows, cols)
    IdxArray labels = read_idx_gz(labels_path, 1);  // (n)
    const uint32_t n = images.dims[0];
    if (labels.dims[0] != n)
        fail(labels_path, "holds " + std::to_string(labels.dims[0]) + " labels but " + images_path +
                              " holds " + std::to_string(n) + " images");
    if (n > static_cast<uint32_t>(std::numeric_limits<int>::max()) ||
        images.dims[1] > 65535 || images.dims[2] > 65535)
        fail(images_path, "image dimensions out of range");
    for (uint32_t i = 0; i < n; ++i)
        if (labels.data[i] > 9)
            fail(labels_path, "label " + std::to_string(labels.data[i]) + " of image " +
                                  std::to_string(i) + " is outside the 10 classes 0..9");

    ImageDataset ds;
    ds.n = static_cast<int>(n);
    ds.rows = static_cast<int>(images.dims[1]);
    ds.cols = static_cast<int>(images.dims[2]);
    ds.pixels = std::move(images.data);
    ds.labels = std::move(labels.data);
    return ds;
}

TextCorpus load_text(const std::string& path) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
        std::string msg = "text corpus not found";
        if (fs::path(path).lexically_normal() == fs::path(kFortunesDir).lexically_normal() ||
            path.rfind(kFortunesDir, 0) == 0)
            msg += "; " + fortunes_hint();
        fail(path, msg);
    }

    TextCorpus corpus;
    if (!fs::is_directory(st)) {
        corpus.bytes = read_file_bytes(path);
        if (corpus.bytes.empty()) fail(path, "text file is empty");
        corpus.source = path;
        return corpus;
    }

    std::vector<fs::path> files;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        const std::string name = p.filename().string();
        if (name.empty() || name[0] == '.') continue;
        if (ends_with(name, ".dat") || ends_with(name, ".u8")) continue;
        if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
        files.push_back(p);
    }
    if (ec) fail(path, "cannot list directory: " + ec.message());
    std::sort(files.begin(), files.end());
    if (files.empty())
        fail(path, "directory holds no text files (expected fortune files); " + fortunes_hint());

    for (const auto& p : files) append_fortunes(corpus.bytes, read_file_bytes(p));
    if (corpus.bytes.empty()) fail(path, "text files in the directory are all empty");
    corpus.source = path + " (" + std::to_string(files.size()) + " files)";
    return corpus;
}

}  // namespace ss::models
