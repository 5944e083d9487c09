# The real-data loaders (Fashion-MNIST IDX, text corpus) as a small library.
# models/CMakeLists.txt include()s this file; tests/core does too when nothing has defined the
# target yet, so the guard keeps a second include harmless.
if(NOT TARGET scalescope_data)
  add_library(scalescope_data STATIC ${CMAKE_CURRENT_LIST_DIR}/data.cpp)
  target_include_directories(scalescope_data PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_features(scalescope_data PUBLIC cxx_std_20)
  target_link_libraries(scalescope_data PUBLIC ZLIB::ZLIB PRIVATE scalescope_warnings)
endif()
