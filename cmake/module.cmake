# coffer_module(NAME DEPS ...): a static library from src/NAME and, if any,
# a GoogleTest executable NAME_tests from tests/NAME/*_test.cc.
#
# A module's sources, and its tests, are compiled in batches of eight files
# (a unity build): most of a file's compile is the headers it shares with
# its neighbours (JSON, fmt, the module's API, gtest) and the inline code
# they bring, which a batch compiles once. Names at file scope (anonymous
# namespaces included) must therefore differ within a module.
# -DCOFFER_UNITY_BUILD=OFF compiles file by file.
option(COFFER_UNITY_BUILD "compile each module's files in batches" ON)

function(coffer_module NAME)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${NAME}/*.cc)
  if(NOT srcs)
    # A module that is only headers so far still gets a target others can link.
    add_library(coffer_${NAME} INTERFACE)
    target_include_directories(coffer_${NAME} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(coffer_${NAME} INTERFACE ${M_DEPS})
  else()
    add_library(coffer_${NAME} STATIC ${srcs})
    target_include_directories(coffer_${NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_compile_options(coffer_${NAME} PRIVATE ${COFFER_WARNINGS})
    target_link_libraries(coffer_${NAME} PUBLIC ${M_DEPS})
    set_target_properties(coffer_${NAME} PROPERTIES UNITY_BUILD ${COFFER_UNITY_BUILD}
                                                    UNITY_BUILD_BATCH_SIZE 8)
  endif()

  file(GLOB_RECURSE tsrcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${NAME}/*_test.cc)
  if(tsrcs)
    add_executable(${NAME}_tests ${tsrcs})
    target_include_directories(${NAME}_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
    # Test code is compiled without optimisation in the release build (the
    # code under test keeps -O2): it halves the tests' share of a cold build.
    target_compile_options(${NAME}_tests PRIVATE ${COFFER_WARNINGS} $<$<CONFIG:Release>:-O0>)
    set_target_properties(${NAME}_tests PROPERTIES UNITY_BUILD ${COFFER_UNITY_BUILD}
                                                   UNITY_BUILD_BATCH_SIZE 8)
    target_link_libraries(${NAME}_tests PRIVATE coffer_${NAME} GTest::gtest GTest::gmock GTest::gtest_main)
    gtest_discover_tests(${NAME}_tests DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 30
                         PROPERTIES TIMEOUT 300 LABELS ${NAME})
  endif()
endfunction()
