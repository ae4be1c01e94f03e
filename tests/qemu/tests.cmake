# Real runtime dispatch: the probe runs on emulated CPUs (qemu-user) whose
# cpuid lacks AVX (Nehalem) or has AVX2 without AVX-512 (Haswell).
find_program(QEMU_X86_64 qemu-x86_64)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  add_executable(isa-probe ${CMAKE_CURRENT_SOURCE_DIR}/qemu/isa-probe.c)
  target_link_libraries(isa-probe PRIVATE convkit)
  if(QEMU_X86_64)
    add_test(NAME dispatch.qemu_nehalem COMMAND ${QEMU_X86_64} -cpu Nehalem $<TARGET_FILE:isa-probe> scalar)
    add_test(NAME dispatch.qemu_haswell COMMAND ${QEMU_X86_64} -cpu Haswell $<TARGET_FILE:isa-probe> avx2)
    set_tests_properties(dispatch.qemu_nehalem dispatch.qemu_haswell PROPERTIES TIMEOUT 120)
  else()
    message(WARNING "qemu-x86_64 not found: the emulated-CPU dispatch tests are not registered")
  endif()
endif()
