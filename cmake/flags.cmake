# Strict warnings for project code; third-party headers come in as SYSTEM.
set(COFFER_WARNINGS -Wall -Wextra -Werror -Wnon-virtual-dtor -Woverloaded-virtual
    -Wold-style-cast -Wno-missing-field-initializers)

option(COFFER_SANITIZE "address (ASan+UBSan) or thread" "")
if(COFFER_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(COFFER_SANITIZE STREQUAL "thread")
  # -Wno-tsan: gcc 12 warns that TSan does not model the atomic_thread_fence
  # in Boost.Asio's std_fenced_block (third-party; the warning is an error
  # under -Werror). Asio's handler queues are also mutex-protected.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
endif()

# libFuzzer targets in fuzz/ (clang only; see fuzz/README.md). Every module is
# built with ASan+UBSan and coverage instrumentation for the fuzzer.
option(COFFER_FUZZ "build the libFuzzer targets in fuzz/ (needs clang)" OFF)
if(COFFER_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "COFFER_FUZZ needs clang (cmake --preset fuzz uses clang++-16)")
  endif()
  # libstdc++ 12 offers <expected> only when __cpp_concepts >= 202002L, which
  # clang 16 does not announce although it implements what <expected> needs
  # (P0848, conditionally trivial special members). Clang 14 lacks P0848 (with
  # the macro forced, expected<T, E> has a deleted destructor), so the fuzz
  # build uses Debian 12's clang-16.
  add_compile_options(-U__cpp_concepts -D__cpp_concepts=202002L
                      -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # New clang-only warnings must not stop the fuzz build; the gcc build is the strict one.
  list(APPEND COFFER_WARNINGS -Wno-error)
  # fuzz/fuzz.cmake links the coffer_* modules, so it runs once they are all declared.
  cmake_language(DEFER CALL include ${PROJECT_SOURCE_DIR}/fuzz/fuzz.cmake)
endif()
