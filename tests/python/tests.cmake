# PyTorch parity and golden-fixture checks, included by tests/CMakeLists.txt.
#
#   pytorch_parity          parity.py at the detected ISA on 2 threads, with
#                           OMP_WAIT_POLICY=passive: with libgomp's default
#                           spinning, regions this small run 10-15x slower
#                           when the cores are oversubscribed (ctest -j)
#   pytorch_parity.<isa>    single-threaded with CONVKIT_MAX_ISA=<isa>, for
#                           each ISA cap in CONVKIT_TEST_ISAS
#   fixtures_regenerate     gen_fixtures.py --check: regenerating the golden
#                           fixtures gives the committed files byte for byte
#
# They need Debian's python3-torch and python3-numpy under /usr/bin/python3;
# without them the scripts exit 77 and CTest reports the tests as skipped.

set(CONVKIT_TEST_PYTHON /usr/bin/python3)
set(CONVKIT_PY_DIR ${CMAKE_CURRENT_SOURCE_DIR}/python)

if(NOT EXISTS ${CONVKIT_TEST_PYTHON})
  message(STATUS "convkit: ${CONVKIT_TEST_PYTHON} not found; PyTorch parity tests disabled")
  return()
endif()

# Under the sanitizer build python must load the ASan runtime before the
# sanitized libconvkit.so; leak detection is off because python itself
# keeps allocations alive at exit.
set(CONVKIT_PY_SANITIZER_ENV)
if(CONVKIT_SANITIZE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE CONVKIT_LIBASAN OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(CONVKIT_PY_SANITIZER_ENV
      "LD_PRELOAD=${CONVKIT_LIBASAN};ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
endif()

add_test(NAME pytorch_parity
  COMMAND ${CONVKIT_TEST_PYTHON} ${CONVKIT_PY_DIR}/parity.py --lib $<TARGET_FILE:convkit>
          --threads 2)
set_tests_properties(pytorch_parity PROPERTIES
  ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;OMP_WAIT_POLICY=passive;${CONVKIT_PY_SANITIZER_ENV}"
  TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS "python;parity"
  FAIL_REGULAR_EXPRESSION "Traceback")

foreach(isa IN LISTS CONVKIT_TEST_ISAS)
  add_test(NAME pytorch_parity.${isa}
    COMMAND ${CONVKIT_TEST_PYTHON} ${CONVKIT_PY_DIR}/parity.py --lib $<TARGET_FILE:convkit>
            --threads 1)
  set_tests_properties(pytorch_parity.${isa} PROPERTIES
    ENVIRONMENT "CONVKIT_MAX_ISA=${isa};PYTHONDONTWRITEBYTECODE=1;${CONVKIT_PY_SANITIZER_ENV}"
    TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS "python;parity"
    FAIL_REGULAR_EXPRESSION "Traceback")
endforeach()

add_test(NAME fixtures_regenerate
  COMMAND ${CONVKIT_TEST_PYTHON} ${CONVKIT_PY_DIR}/gen_fixtures.py --check
          --out ${CMAKE_CURRENT_SOURCE_DIR}/fixtures)
set_tests_properties(fixtures_regenerate PROPERTIES
  ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1"
  TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS "python;fixtures")
