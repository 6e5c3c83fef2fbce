# libFuzzer targets (COFFER_FUZZ=ON, `cmake --preset fuzz`; see README.md),
# included from cmake/flags.cmake at the end of the top-level CMakeLists.txt.
#
# Each fuzz_<name>.cc is one target. It links small modules whole and, from
# the big ones (http, engines, auth), only the files under test, so that the
# fuzz build stays a few minutes on two cores.
set(S ${PROJECT_SOURCE_DIR}/src)

function(coffer_fuzz_target NAME)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(fuzz_${NAME} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${NAME}.cc ${F_SOURCES})
  target_include_directories(fuzz_${NAME} PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${S})
  target_compile_options(fuzz_${NAME} PRIVATE ${COFFER_WARNINGS})
  target_link_libraries(fuzz_${NAME} PRIVATE ${F_LIBS})
  target_link_options(fuzz_${NAME} PRIVATE -fsanitize=fuzzer)
  set_target_properties(fuzz_${NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  set_property(GLOBAL APPEND PROPERTY COFFER_FUZZ_ALL fuzz_${NAME})
endfunction()

set(http_srcs ${S}/http/path.cc ${S}/http/framing.cc ${S}/http/request_builder.cc
    ${S}/logical/request.cc)
set(http_libs coffer_crypto coffer_metrics Boost::headers Boost::system)
coffer_fuzz_target(http_path SOURCES ${S}/http/path.cc LIBS coffer_common)
coffer_fuzz_target(http_head SOURCES ${http_srcs} LIBS ${http_libs})
coffer_fuzz_target(json_body SOURCES ${http_srcs} LIBS ${http_libs})
coffer_fuzz_target(hcl_config LIBS coffer_config)
coffer_fuzz_target(duration LIBS coffer_config)
set(policy_srcs ${S}/policy/policy.cc ${S}/policy/template.cc ${S}/policy/acl.cc
    ${S}/policy/acl_params.cc ${S}/logical/request.cc)
coffer_fuzz_target(hcl_policy SOURCES ${policy_srcs} LIBS coffer_hcl)
coffer_fuzz_target(policy_eval SOURCES ${policy_srcs} LIBS coffer_hcl)
coffer_fuzz_target(policy_fmt SOURCES ${S}/cli/policy_fmt.cc ${S}/cli/hcl_layout.cc
                   LIBS coffer_hcl coffer_common)
coffer_fuzz_target(shamir LIBS coffer_crypto)
coffer_fuzz_target(barrier LIBS coffer_barrier)
coffer_fuzz_target(transit SOURCES ${S}/engines/transit/key_types.cc
                   ${S}/engines/transit/cipher.cc ${S}/engines/transit/policy.cc
                   LIBS coffer_crypto)
coffer_fuzz_target(jwt SOURCES ${S}/auth/jwt/token.cc ${S}/auth/jwt/keys.cc
                   LIBS coffer_common OpenSSL::Crypto)
coffer_fuzz_target(encoding LIBS coffer_common)
coffer_fuzz_target(json_fast SOURCES ${S}/engines/kv/records.cc ${S}/engines/kv/metadata_fast.cc
                   LIBS coffer_common)

get_property(all_fuzz GLOBAL PROPERTY COFFER_FUZZ_ALL)
add_custom_target(fuzz_targets DEPENDS ${all_fuzz})
