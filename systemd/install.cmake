# systemd/install.cmake: the install steps that plain install() rules cannot
# express, run by `cmake --install` (the top-level CMakeLists.txt includes
# it with install(SCRIPT)).  DESTDIR is honoured throughout.
#
#   - the units, with ExecStart= pointing at the binary under the prefix
#     actually installed to (the files in systemd/ say /usr, Debian's);
#   - the sysusers.d and tmpfiles.d snippets;
#   - /etc/commentd: the configuration and the policies, each file only
#     when it is absent, so an upgrade never overwrites an operator's
#     edits.  The new defaults are always installed to
#     ${prefix}/share/commentd (top-level CMakeLists.txt), to compare with.
#
# It must never touch a file under /etc/commentd that exists.

if(NOT COMMENTD_SOURCE_DIR OR NOT COMMENTD_BINARY_DIR)
  message(FATAL_ERROR "systemd/install.cmake: COMMENTD_SOURCE_DIR and "
          "COMMENTD_BINARY_DIR must be set by the install(CODE) before it")
endif()

set(_prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" _prefix "${_prefix}")
# Where Debian puts a package's units (pkg-config systemd
# systemdsystemunitdir); any other prefix's lib/systemd/system is on
# systemd's search path too (/usr/local/lib/systemd/system).
if(_prefix STREQUAL "/usr")
  set(_unitdir "/lib/systemd/system")
else()
  set(_unitdir "${_prefix}/lib/systemd/system")
endif()

# The units name /usr/sbin/commentd; another prefix gets its own path.
set(_staged "${COMMENTD_BINARY_DIR}/systemd-staged")
file(MAKE_DIRECTORY "${_staged}")
foreach(_unit commentd.service commentd.socket commentd-admin.socket)
  file(READ "${COMMENTD_SOURCE_DIR}/systemd/${_unit}" _text)
  string(REPLACE "/usr/sbin/commentd" "${_prefix}/sbin/commentd" _text
         "${_text}")
  file(WRITE "${_staged}/${_unit}" "${_text}")
  file(INSTALL DESTINATION "${_unitdir}" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${_staged}/${_unit}")
endforeach()

file(INSTALL DESTINATION "${_prefix}/lib/sysusers.d" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     RENAME commentd.conf
     FILES "${COMMENTD_SOURCE_DIR}/systemd/commentd.sysusers")
file(INSTALL DESTINATION "${_prefix}/lib/tmpfiles.d" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     RENAME commentd.conf
     FILES "${COMMENTD_SOURCE_DIR}/systemd/commentd.tmpfiles")

# Installs source file SRC as DEST (an absolute path) unless DEST exists.
function(commentd_install_kept src dest)
  if(EXISTS "$ENV{DESTDIR}${dest}" OR IS_SYMLINK "$ENV{DESTDIR}${dest}")
    message(STATUS "Keeping: $ENV{DESTDIR}${dest} (it exists; the new "
            "default is under share/commentd)")
    return()
  endif()
  get_filename_component(_dir "${dest}" DIRECTORY)
  get_filename_component(_name "${dest}" NAME)
  file(INSTALL DESTINATION "${_dir}" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       RENAME "${_name}" FILES "${src}")
endfunction()

commentd_install_kept("${COMMENTD_SOURCE_DIR}/etc/commentd.yaml"
                      "/etc/commentd/commentd.yaml")
file(GLOB_RECURSE _policies RELATIVE "${COMMENTD_SOURCE_DIR}/policies"
     "${COMMENTD_SOURCE_DIR}/policies/*")
list(SORT _policies)
foreach(_file ${_policies})
  commentd_install_kept("${COMMENTD_SOURCE_DIR}/policies/${_file}"
                        "/etc/commentd/policies/${_file}")
endforeach()
