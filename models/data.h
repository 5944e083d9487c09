// Real-data loaders for the training workers: Fashion-MNIST (IDX, gzip) and plain text (bytes).
// No Qt here: the worker runs on cluster nodes without Qt.
//
// Every error is a std::runtime_error whose message names the file and the problem; a missing
// default data set names the Debian package that provides it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ss::models {

// Where the Debian packages put the real data.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";  // dataset-fashion-mnist
inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";              // fortunes

// A set of grey-scale images with one class label each.
struct ImageDataset {
    int n = 0;                    // number of images
    int rows = 0, cols = 0;       // image height and width in pixels
    std::vector<uint8_t> pixels;  // (n, rows*cols), row-major, 0 = background .. 255
    std::vector<uint8_t> labels;  // (n), class index 0..9

    std::size_t image_size() const { return static_cast<std::size_t>(rows) * cols; }
    // The pixels of image i: (rows*cols).
    const uint8_t* image(int i) const { return pixels.data() + static_cast<std::size_t>(i) * image_size(); }
};

// Loads the training split (60000 images) or the test split (10000 images) of Fashion-MNIST from
// `dir`, which holds {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (the Debian package
// dataset-fashion-mnist installs them in kFashionMnistDir). Checks the IDX magic numbers, the
// dimensions, that image and label counts agree, that labels are 0..9 and that no file is
// truncated or carries trailing bytes.
ImageDataset load_fashion_mnist(const std::string& dir, bool train);

// File names of one split inside a Fashion-MNIST directory.
std::string fashion_mnist_images_file(bool train);  // "train-images-idx3-ubyte.gz" / "t10k-..."
std::string fashion_mnist_labels_file(bool train);  // "train-labels-idx1-ubyte.gz" / "t10k-..."

// One decoded IDX file (http://yann.lecun.com/exdb/mnist/ "FILE FORMATS"): magic 0x000008TD with
// T = 0x08 (unsigned byte) and D = number of dimensions, then D big-endian uint32 sizes, then the
// data. Only unsigned-byte files are supported.
struct IdxArray {
    std::vector<uint32_t> dims;  // (D)
    std::vector<uint8_t> data;   // (dims[0] * ... * dims[D-1])
};

// Reads a gzip-compressed IDX file and checks that it has `expected_rank` dimensions.
IdxArray read_idx_gz(const std::string& path, int expected_rank);

// A text corpus as raw bytes (byte-level tokens 0..255).
struct TextCorpus {
    std::vector<uint8_t> bytes;
    std::string source;  // what was read, e.g. "/usr/share/games/fortunes (43 files)"
};

// `path` is a text file (read verbatim) or a directory of fortune files (the Debian package
// fortunes installs them in kFortunesDir): every regular file in it, sorted by name, is
// concatenated; *.dat index files, *.u8 files, symbolic links, hidden files and subdirectories
// are skipped; the '%' lines that separate fortunes become empty lines.
TextCorpus load_text(const std::string& path);

}  // namespace ss::models
