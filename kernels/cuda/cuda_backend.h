// CudaBackend: the Backend interface on one CUDA device (cuBLAS for matrix products, own .cu
// kernels for the rest; one stream per backend). Built only when the CUDA toolkit is found
// (SCALESCOPE_HAVE_CUDA), as the library scalescope_kernels_cuda. This header is plain C++ and
// includes no CUDA headers, so code that links the library needs no CUDA include paths.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "kernels/backend.h"

namespace ss::kernels::cuda {

// Thrown for every failed CUDA runtime / cuBLAS call, with the call text, file and line:
//   "cudaMalloc(&p, bytes) failed at kernels/cuda/cuda_backend.cu:42: out of memory"
class CudaError : public std::runtime_error {
public:
    CudaError(const std::string& call, const char* file, int line, const std::string& detail);
    const std::string& call() const { return call_; }
    const std::string& file() const { return file_; }
    int line() const { return line_; }

private:
    std::string call_;
    std::string file_;
    int line_;
};

// True when at least one CUDA device can be used. Otherwise false, and *why (if given) receives
// cudaGetErrorString of the failing call (e.g. "no CUDA-capable device is detected").
bool device_available(std::string* why = nullptr);
// The devices this process sees (CUDA_VISIBLE_DEVICES applies); 0, with *why as above, when none.
int device_count(std::string* why = nullptr);

// A backend on device `device` (default 0). Throws CudaError when the device cannot be used.
std::unique_ptr<Backend> make_cuda_backend(int device = 0);

}  // namespace ss::kernels::cuda
