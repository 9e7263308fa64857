# `make install` / `cmake --install`: what an app outside this tree needs to
# build against Eddy.
#
#   PREFIX/lib/libeddy.a            every module (common, tls, wire, log, broker,
#                                   client, dsl, state, streams) in one archive
#   PREFIX/include/eddy/eddy.h      the streams API
#   PREFIX/include/eddy/eddy_test.h the topology test driver
#   PREFIX/include/eddy/eddy_broker.h (+ common/config.h, which it includes)
#   PREFIX/lib/pkgconfig/eddy.pc    cc app.c $(pkg-config --cflags --libs eddy)
#   PREFIX/bin/eddy                 the broker and CLI
#
# One static archive, not a shared library: the modules are built without
# -fPIC and their internal symbols are not versioned. Since a static archive
# does not name what it needs, eddy.pc lists the libraries in Requires and
# Libs (not the .private fields), so that a plain `pkg-config --libs eddy`
# links; `--static` gives the same answer.
include(GNUInstallDirs)

set(EDDY_LIB_PARTS eddy_common eddy_tls eddy_wire eddy_client_core eddy_log eddy_client eddy_broker
  eddy_dsl eddy_state eddy_streams)
set(EDDY_LIB_OBJECTS "")
foreach(part ${EDDY_LIB_PARTS})
  list(APPEND EDDY_LIB_OBJECTS $<TARGET_OBJECTS:${part}>)
endforeach()
add_library(eddy_lib STATIC ${EDDY_LIB_OBJECTS})
set_target_properties(eddy_lib PROPERTIES OUTPUT_NAME eddy ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

# The pkg-config modules the parts link (the pkg_check_modules() calls in
# CMakeLists.txt); the install test links an app with only what eddy.pc says.
set(EDDY_VERSION 0.1.0)
set(EDDY_PC_REQUIRES "libuv lmdb msgpack libssl libcrypto zlib snappy liblz4 libzstd")
# Threads: empty where pthreads are in libc (glibc 2.34+).
string(STRIP "${CMAKE_THREAD_LIBS_INIT} -lm" EDDY_PC_LIBS_EXTRA)
# prefix is found from where eddy.pc lies, so that the file stays right under
# `cmake --install --prefix P` (chosen after configuring) and DESTDIR.
file(RELATIVE_PATH EDDY_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" EDDY_PC_TO_PREFIX "${EDDY_PC_TO_PREFIX}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/eddy.pc.in ${CMAKE_BINARY_DIR}/eddy.pc @ONLY)

install(TARGETS eddy_lib ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS eddy RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/eddy.h ${CMAKE_SOURCE_DIR}/include/eddy_test.h
  ${CMAKE_SOURCE_DIR}/include/eddy_broker.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/eddy)
install(FILES ${CMAKE_SOURCE_DIR}/common/config.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/eddy/common)
install(FILES ${CMAKE_BINARY_DIR}/eddy.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
