// The real-data loaders: Fashion-MNIST IDX files (real and synthetic, good and broken) and text.
#include <QTemporaryDir>
#include <QtTest>

#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/data.h"

namespace fs = std::filesystem;
using ss::models::ImageDataset;
using ss::models::load_fashion_mnist;
using ss::models::load_text;

namespace {

// The message of the std::runtime_error that f throws, or "<no exception>".
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "<no exception>";
}

#define EXPECT_CONTAINS(text, part)                                                            \
    QVERIFY2(std::string(text).find(part) != std::string::npos,                                \
             qPrintable(QStringLiteral("expected \"%1\" in: %2")                               \
                            .arg(QString::fromStdString(part), QString::fromStdString(text))))

std::vector<uint8_t> be32(uint32_t v) {
    return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

// An IDX file: magic, dims, then data.
std::vector<uint8_t> idx(uint32_t magic, std::vector<uint32_t> dims, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> out = be32(magic);
    for (uint32_t d : dims) {
        auto b = be32(d);
        out.insert(out.end(), b.begin(), b.end());
    }
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    QVERIFY(f != nullptr);
    if (!bytes.empty())
        QCOMPARE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), int(bytes.size()));
    QCOMPARE(gzclose(f), Z_OK);
}

void write_raw(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

std::vector<uint8_t> read_raw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Independent of the loader: the first `n` decompressed bytes of a gzip file.
std::vector<uint8_t> gz_head(const std::string& path, unsigned n) {
    std::vector<uint8_t> out(n);
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) return {};
    const int got = gzread(f, out.data(), n);
    gzclose(f);
    out.resize(got < 0 ? 0 : unsigned(got));
    return out;
}

// A small valid split: 3 images of 2x3 pixels, labels 7, 0, 9.
constexpr uint32_t kImagesMagic = 0x00000803, kLabelsMagic = 0x00000801;
std::vector<uint8_t> small_pixels() {
    std::vector<uint8_t> p(3 * 2 * 3);
    std::iota(p.begin(), p.end(), uint8_t{10});
    return p;
}

}  // namespace

class TestCoreData : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    std::string dir(const char* name) {
        const std::string d = (fs::path(tmp_.path().toStdString()) / name).string();
        fs::create_directories(d);
        return d;
    }
    // A split directory holding the given train files.
    std::string split(const char* name, const std::vector<uint8_t>& images,
                      const std::vector<uint8_t>& labels) {
        const std::string d = dir(name);
        write_gz(d + "/train-images-idx3-ubyte.gz", images);
        write_gz(d + "/train-labels-idx1-ubyte.gz", labels);
        return d;
    }

private slots:
    void initTestCase() { QVERIFY(tmp_.isValid()); }

    // ---- real Fashion-MNIST ----
    void realFashionMnist_data() {
        QTest::addColumn<bool>("train");
        QTest::addColumn<int>("n");
        QTest::newRow("train") << true << 60000;
        QTest::newRow("test") << false << 10000;
    }
    void realFashionMnist() {
        QFETCH(bool, train);
        QFETCH(int, n);
        const std::string d = ss::models::kFashionMnistDir;
        if (!fs::exists(d)) QSKIP("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)");

        const ImageDataset ds = load_fashion_mnist(d, train);
        QCOMPARE(ds.n, n);
        QCOMPARE(ds.rows, 28);
        QCOMPARE(ds.cols, 28);
        QCOMPARE(ds.pixels.size(), std::size_t(n) * 784);
        QCOMPARE(ds.labels.size(), std::size_t(n));

        // Fashion-MNIST is balanced: n/10 images of each class 0..9.
        std::array<int, 10> per_class{};
        for (uint8_t l : ds.labels) {
            QVERIFY(l <= 9);
            ++per_class[l];
        }
        for (int c = 0; c < 10; ++c) QCOMPARE(per_class[c], n / 10);

        // The first label and first image, read independently: label byte 8, pixels from byte 16.
        const auto labels_head = gz_head(d + "/" + ss::models::fashion_mnist_labels_file(train), 9);
        QCOMPARE(labels_head.size(), std::size_t(9));
        QCOMPARE(int(ds.labels[0]), int(labels_head[8]));
        QCOMPARE(int(ds.labels[0]), 9);  // both splits start with an ankle boot
        const auto images_head = gz_head(d + "/" + ss::models::fashion_mnist_images_file(train), 16 + 784);
        QCOMPARE(images_head.size(), std::size_t(16 + 784));
        QVERIFY(std::equal(ds.image(0), ds.image(0) + 784, images_head.begin() + 16));
        // The last image is not all zeros (nothing was left unread at the end).
        const uint8_t* last = ds.image(n - 1);
        QVERIFY(std::accumulate(last, last + 784, 0) > 0);
    }

    // ---- synthetic files ----
    void syntheticValid() {
        const std::string d = split("valid", idx(kImagesMagic, {3, 2, 3}, small_pixels()),
                                    idx(kLabelsMagic, {3}, {7, 0, 9}));
        const ImageDataset ds = load_fashion_mnist(d, true);
        QCOMPARE(ds.n, 3);
        QCOMPARE(ds.rows, 2);
        QCOMPARE(ds.cols, 3);
        QCOMPARE(ds.pixels, small_pixels());
        QCOMPARE(ds.labels, (std::vector<uint8_t>{7, 0, 9}));
        QCOMPARE(int(ds.image(2)[0]), 10 + 12);
    }

    void badImagesMagic() {
        const std::string d = split("badmagic", idx(0x00000804, {3, 2, 3}, small_pixels()),
                                    idx(kLabelsMagic, {3}, {7, 0, 9}));
        const std::string msg = error_of([&] { load_fashion_mnist(d, true); });
        EXPECT_CONTAINS(msg, d + "/train-images-idx3-ubyte.gz");
        EXPECT_CONTAINS(msg, "bad IDX magic number 0x00000804");
        EXPECT_CONTAINS(msg, "expected 0x00000803");

        const std::string d2 = split("garbage", idx(0x12345678, {3, 2, 3}, small_pixels()),
                                     idx(kLabelsMagic, {3}, {7, 0, 9}));
        const std::string msg2 = error_of([&] { load_fashion_mnist(d2, true); });
        EXPECT_CONTAINS(msg2, "bad IDX magic number 0x12345678, expected 0x00000803");
        EXPECT_CONTAINS(msg2, "this is not an IDX file");
    }

    void labelsFileWithImageMagic() {
        // A labels file that claims 3 dimensions (e.g. files mixed up).
        const std::string d = split("swapped", idx(kImagesMagic, {3, 2, 3}, small_pixels()),
                                    idx(kImagesMagic, {3, 2, 3}, small_pixels()));
        const std::string msg = error_of([&] { load_fashion_mnist(d, true); });
        EXPECT_CONTAINS(msg, "train-labels-idx1-ubyte.gz");
        EXPECT_CONTAINS(msg, "bad IDX magic number 0x00000803, expected 0x00000801");
        EXPECT_CONTAINS(msg, "this file declares 3 dimensions");
    }

    void truncatedData() {
        auto pixels = small_pixels();
        pixels.resize(pixels.size() - 5);
        const std::string d = split("truncated", idx(kImagesMagic, {3, 2, 3}, pixels),
                                    idx(kLabelsMagic, {3}, {7, 0, 9}));
        const std::string msg = error_of([&] { load_fashion_mnist(d, true); });
        EXPECT_CONTAINS(msg, "train-images-idx3-ubyte.gz");
        EXPECT_CONTAINS(msg, "truncated: the IDX header announces 18 data bytes but the file holds only 13");
    }

    void truncatedHeader() {
        const std::string d = split("shortheader", {0, 0, 8, 3, 0, 0},
                                    idx(kLabelsMagic, {3}, {7, 0, 9}));
        const std::string msg = error_of([&] { load_fashion_mnist(d, true); });
        EXPECT_CONTAINS(msg, "truncated: file ends inside the IDX header");
    }

    void truncatedGzipStream() {
        // A gzip file cut in the middle: zlib reports the broken stream.
        const std::string d = dir("cutgzip");
        std::vector<uint8_t> big(20000);
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = uint8_t((i * 2654435761u) >> 13);
        write_gz(d + "/whole.gz", idx(kImagesMagic, {20, 25, 40}, big));
        auto raw = read_raw(d + "/whole.gz");
        raw.resize(raw.size() / 2);
        write_raw(d + "/train-images-idx3-ubyte.gz", raw);
        write_gz(d + "/train-labels-idx1-ubyte.gz", idx(kLabelsMagic, {20}, std::vector<uint8_t>(20)));
        const std::string msg = error_of([&] { load_fashion_mnist(d, true); });
        EXPECT_CONTAINS(msg, d + "/train-images-idx3-ubyte.gz");
        QVERIFY2(msg.find("corrupt gzip data") != std::string::npos ||
                     msg.find("truncated") != std::string::npos,
                 msg.c_str());
    }

    void mismatchedCounts() {
        const std::string d = split("mismatch", idx(kImagesMagic, {3, 2, 3}, small_pixels()),
                                    idx(kLabelsMagic, {2}, {7, 0}));
        const std::string msg = error_of([&] { load_fashion_mnist(d, true); });
        EXPECT_CONTAINS(msg, "train-labels-idx1-ubyte.gz: holds 2 labels but");
        EXPECT_CONTAINS(msg, "train-images-idx3-ubyte.gz holds 3 images");
    }

    void notGzip() {
        const std::string d = dir("plain");
        write_raw(d + "/train-images-idx3-ubyte.gz", idx(kImagesMagic, {3, 2, 3}, small_pixels()));
        write_gz(d + "/train-labels-idx1-ubyte.gz", idx(kLabelsMagic, {3}, {7, 0, 9}));
        const std::string msg = error_of([&] { load_fashion_mnist(d, true); });
        EXPECT_CONTAINS(msg, d + "/train-images-idx3-ubyte.gz: not a gzip file");
    }

    void trailingBytes() {
        auto pixels = small_pixels();
        pixels.push_back(1);
        const std::string d = split("trailing", idx(kImagesMagic, {3, 2, 3}, pixels),
                                    idx(kLabelsMagic, {3}, {7, 0, 9}));
        const std::string msg = error_of([&] { load_fashion_mnist(d, true); });
        EXPECT_CONTAINS(msg, "unexpected bytes after the 18 data bytes");
    }

    void labelOutOfRange() {
        const std::string d = split("label12", idx(kImagesMagic, {3, 2, 3}, small_pixels()),
                                    idx(kLabelsMagic, {3}, {7, 12, 9}));
        const std::string msg = error_of([&] { load_fashion_mnist(d, true); });
        EXPECT_CONTAINS(msg, "label 12 of image 1 is outside the 10 classes 0..9");
    }

    void missingDirectoryNamesPackage() {
        const std::string d = tmp_.path().toStdString() + "/no-such-dir";
        const std::string msg = error_of([&] { load_fashion_mnist(d, false); });
        EXPECT_CONTAINS(msg, d + ": Fashion-MNIST directory not found");
        EXPECT_CONTAINS(msg, "dataset-fashion-mnist");
    }

    void missingFileNamesPackage() {
        const std::string d = split("trainonly", idx(kImagesMagic, {3, 2, 3}, small_pixels()),
                                    idx(kLabelsMagic, {3}, {7, 0, 9}));
        const std::string msg = error_of([&] { load_fashion_mnist(d, false); });
        EXPECT_CONTAINS(msg, d + "/t10k-images-idx3-ubyte.gz: Fashion-MNIST file not found");
        EXPECT_CONTAINS(msg, "apt-get install dataset-fashion-mnist");
    }

    // ---- text ----
    void textFileVerbatim() {
        const std::string d = dir("text");
        write_text(d + "/story.txt", "Once upon a time.\n%\nThe end.");
        const auto corpus = load_text(d + "/story.txt");
        const std::string got(corpus.bytes.begin(), corpus.bytes.end());
        QCOMPARE(got, std::string("Once upon a time.\n%\nThe end."));
        QCOMPARE(corpus.source, d + "/story.txt");
    }

    void textDirectoryOfFortunes() {
        const std::string d = dir("fortunes");
        write_text(d + "/b", "Bee one.\n%\nBee two.\n%\n");
        write_text(d + "/a", "Ay one.\n%\nAy two");  // no final newline
        write_text(d + "/a.dat", "\x01\x02index");
        write_text(d + "/c.u8", "u8 duplicate\n");
        write_text(d + "/.hidden", "hidden\n");
        fs::create_symlink("a", d + "/a.u8");
        fs::create_symlink("b", d + "/link");
        fs::create_directories(d + "/off");
        write_text(d + "/off/x", "offensive\n");

        const auto corpus = load_text(d);
        const std::string got(corpus.bytes.begin(), corpus.bytes.end());
        QCOMPARE(got, std::string("Ay one.\n\nAy two\nBee one.\n\nBee two.\n\n"));
        QCOMPARE(corpus.source, d + " (2 files)");
    }

    void textMissing() {
        const std::string p = tmp_.path().toStdString() + "/nothing-here";
        const std::string msg = error_of([&] { load_text(p); });
        EXPECT_CONTAINS(msg, p + ": text corpus not found");

        const std::string f = std::string(ss::models::kFortunesDir) + "/no-such-fortune-file";
        const std::string msg2 = error_of([&] { load_text(f); });
        EXPECT_CONTAINS(msg2, "Debian package fortunes");
    }

    void textEmpty() {
        const std::string d = dir("emptytext");
        write_text(d + "/empty.txt", "");
        EXPECT_CONTAINS(error_of([&] { load_text(d + "/empty.txt"); }), "text file is empty");
        const std::string e = dir("emptydir");
        EXPECT_CONTAINS(error_of([&] { load_text(e); }), "directory holds no text files");
    }

    void realFortunes() {
        const std::string d = ss::models::kFortunesDir;
        if (!fs::exists(d)) QSKIP("fortunes not installed (Debian package fortunes)");
        const auto a = load_text(d);
        QVERIFY(a.bytes.size() > 1'000'000);
        const std::string text(a.bytes.begin(), a.bytes.end());
        QVERIFY(text.find("\n%\n") == std::string::npos);
        QVERIFY(text.rfind("%\n", 0) != 0);
        EXPECT_CONTAINS(a.source, d + " (");
        // Deterministic: same bytes on a second load.
        QVERIFY(load_text(d).bytes == a.bytes);
    }
};

QTEST_GUILESS_MAIN(TestCoreData)
#include "tst_core_data.moc"
