# Packaging tests, included from tests/CMakeLists.txt:
#   consumer.install  install into a temporary prefix, then build and run
#                     tests/consumer/example.c with find_package(convkit CONFIG)
#                     and with pkg-config (and check README.md shows it)
#   consumer.symbols  only convkit_* is exported; SONAME is libconvkit.so.0
set(CONVKIT_CONSUMER_DIR ${CMAKE_CURRENT_LIST_DIR})

add_test(NAME consumer.install
  COMMAND bash "${CONVKIT_CONSUMER_DIR}/check-install.sh" "${PROJECT_BINARY_DIR}"
          "${CMAKE_INSTALL_LIBDIR}" "${CONVKIT_SANITIZE}" "${CMAKE_C_COMPILER}"
          "${CMAKE_GENERATOR}")
add_test(NAME consumer.symbols
  COMMAND bash "${CONVKIT_CONSUMER_DIR}/check-symbols.sh" "$<TARGET_FILE:convkit>")
set_tests_properties(consumer.install consumer.symbols PROPERTIES LABELS packaging)
