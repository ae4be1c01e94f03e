# Install rules: the library, its header, a CMake package (convkit::convkit)
# and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS convkit EXPORT convkitTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT convkitTargets NAMESPACE convkit::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/convkit)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/convkitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/convkitConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/convkit)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/convkitConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/convkitConfig.cmake
  ${PROJECT_BINARY_DIR}/convkitConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/convkit)

# The pc file locates the prefix from its own directory (${pcfiledir}), so an
# install with `cmake --install --prefix <elsewhere>` still points at itself.
# Only the shared library is installed, so no Libs.private are needed.
file(RELATIVE_PATH CONVKIT_PC_PREFIX_FROM_PCDIR
  ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" CONVKIT_PC_PREFIX_FROM_PCDIR "${CONVKIT_PC_PREFIX_FROM_PCDIR}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/convkit.pc.in ${PROJECT_BINARY_DIR}/convkit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/convkit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
