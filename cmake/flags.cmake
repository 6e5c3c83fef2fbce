# Strict warnings for project code; third-party headers come in as SYSTEM.
set(COFFER_WARNINGS -Wall -Wextra -Werror -Wnon-virtual-dtor -Woverloaded-virtual
    -Wold-style-cast -Wno-missing-field-initializers)

option(COFFER_SANITIZE "address (ASan+UBSan) or thread" "")
if(COFFER_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(COFFER_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
