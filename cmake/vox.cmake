# Helpers that make each folder's CMakeLists.txt read like a manifest.

# vox_library(NAME n HDRS ... SRCS ... DEPS ...) -> target vox_n, alias vox::n
function(vox_library)
  cmake_parse_arguments(V "" "NAME" "HDRS;SRCS;DEPS" ${ARGN})
  add_library(vox_${V_NAME} STATIC ${V_SRCS} ${V_HDRS})
  add_library(vox::${V_NAME} ALIAS vox_${V_NAME})
  target_include_directories(vox_${V_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(vox_${V_NAME} PUBLIC ${V_DEPS})
endfunction()

# vox_test(NAME n SRCS ... DEPS ...) -> a GoogleTest executable run by ctest
function(vox_test)
  cmake_parse_arguments(V "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${V_NAME} ${V_SRCS})
  target_link_libraries(${V_NAME} PRIVATE ${V_DEPS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${V_NAME} COMMAND ${V_NAME})
endfunction()

# vox_benchmark(NAME n SRCS ... DEPS ...) -> a Google Benchmark executable
function(vox_benchmark)
  cmake_parse_arguments(V "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${V_NAME} ${V_SRCS})
  target_link_libraries(${V_NAME} PRIVATE ${V_DEPS} benchmark::benchmark)
endfunction()
