# Benchmark tooling tests, included by tests/CMakeLists.txt:
#   bench.check_regression  the regression checker (bench/check-regression.py)
#                           on synthetic convkit-bench summaries: identical,
#                           slowed, within tolerance, missing, malformed input
#   bench.smoke             convkit-bench --smoke: every suite, a few cases, one
#                           repetition, then the checker's schema validation
#                           of its JSON (only when convkit-bench is built;
#                           shapes: ../shared/shapes/benchdnn, or the tiny
#                           tests/bench/shapes when absent or sanitized)
#   bench.link              convkit-bench, which also links the static library
#                           for suite-gemm.c, defines none of the symbols
#                           libconvkit.so exports (no second copy of them)
#   tools.convkit_info      convkit-info reports the ISA /proc/cpuinfo implies,
#                           the cap (also under CONVKIT_MAX_ISA=scalar) and an
#                           implementation per sample plan; also run installed
set(CONVKIT_BENCH_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
find_program(CONVKIT_PYTHON3 NAMES python3)

if(CONVKIT_PYTHON3)
  add_test(NAME bench.check_regression
    COMMAND ${CONVKIT_PYTHON3} ${CONVKIT_BENCH_TEST_DIR}/test_check_regression.py)
  set_tests_properties(bench.check_regression PROPERTIES
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1" TIMEOUT 120 LABELS "bench")
else()
  message(WARNING "python3 not found: the regression-checker tests are not registered")
endif()

if(TARGET convkit-bench AND CONVKIT_PYTHON3)
  # The real benchdnn files when they sit next to the source tree (as in CI),
  # so their parsing is smoked too.  Otherwise, and under the sanitizers (the
  # unoptimised scalar conv is ~15x slower there: ResNet-50's conv1 takes ~7 s
  # per call), the same suites run on the tiny files of tests/bench/shapes.
  set(CONVKIT_SMOKE_SHAPES ${PROJECT_SOURCE_DIR}/../shared/shapes/benchdnn)
  if(CONVKIT_SANITIZE OR NOT IS_DIRECTORY ${CONVKIT_SMOKE_SHAPES}/conv)
    set(CONVKIT_SMOKE_SHAPES ${CONVKIT_BENCH_TEST_DIR}/shapes)
  endif()
  set(CONVKIT_SMOKE_ARGS --shapes ${CONVKIT_SMOKE_SHAPES})
  add_test(NAME bench.smoke
    COMMAND bash ${CONVKIT_BENCH_TEST_DIR}/smoke.sh $<TARGET_FILE:convkit-bench>
            ${CONVKIT_PYTHON3} ${PROJECT_SOURCE_DIR}/bench/check-regression.py
            ${CONVKIT_SMOKE_ARGS})
  set_tests_properties(bench.smoke PROPERTIES
    ENVIRONMENT "OMP_WAIT_POLICY=passive" TIMEOUT 300 LABELS "bench")
endif()

if(TARGET convkit-bench AND CMAKE_NM)
  add_test(NAME bench.link
    COMMAND bash ${CONVKIT_BENCH_TEST_DIR}/check-link.sh ${CMAKE_NM} $<TARGET_FILE:convkit-bench>
            $<TARGET_FILE:convkit>)
  set_tests_properties(bench.link PROPERTIES TIMEOUT 60 LABELS "bench")
endif()

add_test(NAME tools.convkit_info
  COMMAND bash ${CONVKIT_BENCH_TEST_DIR}/check-info.sh $<TARGET_FILE:convkit-info>
          ${PROJECT_BINARY_DIR})
set_tests_properties(tools.convkit_info PROPERTIES TIMEOUT 60 LABELS "tools")
