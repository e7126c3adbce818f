# Toolchain for the aarch64 device build (scripts/cross-arm64.sh): Debian's cross compiler
# (crossbuild-essential-arm64) against a sysroot of Debian arm64 packages, by default the private
# one the script makes in build-arm64/sysroot (FLUIDEDGE_ARM64_SYSROOT in the environment overrides
# it; the environment, not a cache variable, so that try_compile projects see it too). Programs run
# at build time (protoc, grpc_cpp_plugin) are the host's.
# Generic ARMv8-A code (no -mcpu): it runs on Cortex-A72 and A76 alike; NEON is part of it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(DEFINED ENV{FLUIDEDGE_ARM64_SYSROOT})
  set(CMAKE_SYSROOT $ENV{FLUIDEDGE_ARM64_SYSROOT})
else()
  get_filename_component(CMAKE_SYSROOT ${CMAKE_CURRENT_LIST_DIR}/../build-arm64/sysroot ABSOLUTE)
endif()
if(NOT EXISTS ${CMAKE_SYSROOT}/usr/include)
  message(FATAL_ERROR "no arm64 sysroot at ${CMAKE_SYSROOT}: run scripts/cross-arm64.sh")
endif()

# Test programs built here run under user-mode emulation as a Raspberry Pi 4's core (NEON, no
# SVE: qemu's default `max` CPU has SVE, which the boards do not). CTest and
# gtest_discover_tests use this.
find_program(FLUIDEDGE_QEMU_AARCH64 qemu-aarch64-static NO_CMAKE_FIND_ROOT_PATH)
if(FLUIDEDGE_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${FLUIDEDGE_QEMU_AARCH64} -L ${CMAKE_SYSROOT} -cpu cortex-a72)
endif()

# Libraries, headers and package configs from the sysroot only; programs from the host.
set(CMAKE_FIND_ROOT_PATH ${CMAKE_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (gRPC's Findre2 uses it) reads the sysroot's .pc files, never the host's.
set(ENV{PKG_CONFIG_LIBDIR} ${CMAKE_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${CMAKE_SYSROOT}/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${CMAKE_SYSROOT})
unset(ENV{PKG_CONFIG_PATH})

# The sysroot keeps Debian's split /lib and /usr/lib (dpkg -x does not merge them): shared
# libraries' own dependencies are found in both at link time.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${CMAKE_SYSROOT}/lib/aarch64-linux-gnu -Wl,-rpath-link,${CMAKE_SYSROOT}/usr/lib/aarch64-linux-gnu")
set(CMAKE_SHARED_LINKER_FLAGS_INIT ${CMAKE_EXE_LINKER_FLAGS_INIT})
