#!/bin/sh
# slimpy prune: makes the Python environments that reach a Docker image smaller.
#
#   sh prune.sh [--no-strip] [--prune CAT,CAT,...|all|none] [--keep GLOB]... [--dedupe]
#               [--manifest FILE] [--also-usual] [--explain] [--] [ROOT...]
#
# Finds the Python environments under each ROOT (site-packages / dist-packages directories, or the
# ROOT itself when it holds *.dist-info directly, as `pip install --target` leaves it; a virtual
# environment is one whose pyvenv.cfg sits three levels up), strips debug symbols from the
# ELF files in them and removes the files Python never reads at run time, by category:
#   tests        package directories named exactly tests or test
#   pycache      __pycache__ directories, *.pyc and *.pyo beside their .py
#   stubs        *.pyi type stubs
#   sources      *.c *.cc *.cpp *.cxx *.h *.hpp *.pyx *.pxd *.pxi (include directories too)
#   static-libs  *.a static libraries
#   packaging    pip, setuptools and wheel, only inside a virtual environment
#   caches       pip's caches and .pytest_cache / .mypy_cache / .ruff_cache under the roots
#   unused       (opt-in, not in all) files of the environments that the traced smoke test never
#                touched, except *.dist-info, *.pth and the --keep-package distributions
# The trace comes in this file: lines `#@ PATH` after a `#@slimpy-traced` line at its end, each a
# path relative to its environment. With a trace, pycache keeps the bytecode the test read.
# --keep GLOB (a shell pattern matched against absolute paths) protects a path and everything
# under it from every rule. With no ROOT the usual places are searched. A JSON manifest of what
# was done goes to --manifest FILE; a short summary goes to stdout, warnings to stderr.
# Package exceptions (below) keep what some packages read at run time although a rule names it;
# --explain lists them in the manifest and removes nothing.
#
# Runs under dash and busybox ash (Debian slim, Alpine). Only usage errors fail (exit 2): anything
# else becomes a `slimpy: warning:` line and the rest of the work goes on (exit 0).
#
# The script calls itself (`sh prune.sh __step ARGS...`) from `find -exec ... {} +`, so that file
# names reach it as arguments, byte for byte, whatever characters (newlines too) they contain.
# The categories' names and one-line descriptions are also in categories.ts: keep them in step.

# $SLIMPY_SH is split on purpose below: a shell and its arguments (`busybox sh`).
# shellcheck disable=SC2086
set -u

ALL_CATEGORIES=tests,pycache,stubs,sources,static-libs,packaging,caches
KNOWN_CATEGORIES=$ALL_CATEGORIES,unused
NL='
'
TAB=$(printf '\t')

# Package exceptions, one a line: `ID CATEGORY DISTRIBUTION VERSIONS PATH`. Where a distribution
# matching DISTRIBUTION (a glob over normalized names) is installed in an environment, in VERSIONS
# (`-`: any), the CATEGORY rule leaves PATH (a glob relative to the environment) and everything
# under it alone. slimpy fills this in from src/slim/exceptions.ts when it writes the script.
PACKAGE_EXCEPTIONS=''

usage() {
  cat <<'EOF'
usage: sh prune.sh [--no-strip] [--prune CAT,CAT,...|all|none] [--keep GLOB]... [--dedupe] [--manifest FILE] [--explain] [--] [ROOT...]

  --no-strip        do not strip debug symbols from ELF files
  --prune LIST      categories to remove (default: all): tests, pycache, stubs, sources,
                    static-libs, packaging, caches; `none` removes nothing; `unused` (never
                    in all) removes what the trace at the end of this file does not list
  --keep GLOB       never remove or strip a path matching GLOB, nor anything under it
                    (matched against absolute paths, e.g. '*/h5py/tests/*'); repeatable
  --dedupe          make identical files (64 kB or more, same mode and owner) inside the
                    environments hard links of one another, after stripping
  --keep-package N  unused never removes files of distribution N; repeatable
  --manifest FILE   write a JSON manifest of what was done to FILE
  --also-usual      search the usual places too, and skip a ROOT that does not exist silently
                    (for roots that are a planner's guess, such as a RUN's install target)
  --explain         remove and strip nothing: list the package exceptions in the manifest
  ROOT...           directories whose content reaches the final image (default: the usual
                    Python locations, /opt, /app, /srv and user site directories)
EOF
}

usage_error() {
  printf 'slimpy: %s\n' "$1" >&2
  usage >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Small helpers shared by the main run and the steps it calls.

# Sets J to $1 as a JSON string literal, quotes included.
json_quote() {
  _r=$1 J=
  case $_r in
  *[[:cntrl:]]*)
    while [ -n "$_r" ]; do
      _c=${_r%"${_r#?}"}
      _r=${_r#?}
      case $_c in
      \\ | \") J=$J\\$_c ;;
      "$NL") J=$J\\n ;;
      "$TAB") J=$J\\t ;;
      [[:cntrl:]]) J=$J$(printf '\\u%04x' "'$_c") ;;
      *) J=$J$_c ;;
      esac
    done
    ;;
  *)
    while :; do
      case $_r in
      *[\\\"]*)
        _c=${_r%%[\\\"]*}
        _r=${_r#"$_c"}
        J=$J$_c\\${_r%"${_r#?}"}
        _r=${_r#?}
        ;;
      *)
        J=$J$_r
        break
        ;;
      esac
    done
    ;;
  esac
  J=\"$J\"
}

# A warning: printed to stderr and kept for the manifest.
warn() {
  printf 'slimpy: warning: %s\n' "$1" >&2
  json_quote "$1"
  printf '%s\n' "$J" >>"$SLIMPY_WORK/warnings"
}

# Apparent sizes in bytes, one line per existing file.
file_sizes() {
  if [ "$SLIMPY_STAT" = 1 ]; then
    stat -c %s -- "$@" 2>/dev/null
  else
    for _sz_f do wc -c <"$_sz_f" 2>/dev/null | tr -d ' '; done
  fi
}

# Reads numbers, one a line; prints "COUNT SUM".
count_and_sum() {
  _n=0 _s=0
  while read -r _x; do
    case $_x in '' | *[!0-9]*) continue ;; esac
    _n=$((_n + 1)) _s=$((_s + _x))
  done
  echo "$_n $_s"
}

category_enabled() {
  case ,$SLIMPY_ENABLED, in *,$1,*) return 0 ;; esac
  return 1
}

# True when $1 matches a --keep pattern (also as "$1/" so '*/pkg/tests/*' keeps the directory).
matches_keep() {
  _m=1 _mk_ifs=$IFS _mk_f=$-
  IFS=$NL
  set -f
  for _pat in $SLIMPY_KEEP; do
    # shellcheck disable=SC2254 # the patterns are globs
    case $1 in $_pat) _m=0 ;; esac
    # shellcheck disable=SC2254
    case $1/ in $_pat) _m=0 ;; esac
    [ "$_m" = 0 ] && break
  done
  case $_mk_f in *f*) ;; *) set +f ;; esac
  IFS=$_mk_ifs
  return "$_m"
}

# True when $1 or one of its parent directories is kept.
kept() {
  [ -n "$SLIMPY_KEEP" ] || return 1
  _a=$1
  while [ -n "$_a" ]; do
    matches_keep "$_a" && return 0
    _a=${_a%/*}
  done
  return 1
}

# True when something below directory $1 is kept.
has_kept_below() {
  [ -n "$(find "$1" -mindepth 1 -exec $SLIMPY_SH "$SLIMPY_SELF" __anykept {} + 2>/dev/null)" ]
}

# Files the OS package manager installed (dpkg, apk or rpm say which) under a site-packages or
# dist-packages directory: the distribution's own Python packages. They are never removed or
# stripped (`dpkg --verify` would report them changed); the app's own environments are pruned.
list_os_owned() {
  # One cat for all the lists: a host or an image with hundreds of packages pays one process.
  set -- /var/lib/dpkg/info/*.list
  [ -f "$1" ] && cat -- "$@" 2>/dev/null
  [ -f /lib/apk/db/installed ] &&
    awk -F: '/^F:/ { dir = $2 } /^R:/ { print "/" dir "/" $2 }' /lib/apk/db/installed
  command -v rpm >/dev/null 2>&1 && rpm -qal 2>/dev/null
  return 0
}

# Sets SLIMPY_OWNED_HERE=1 when the OS package manager owns something under directory $1.
owned_here() {
  SLIMPY_OWNED_HERE=0
  [ -s "$SLIMPY_WORK/owned" ] && grep -Fq -- "$1/" "$SLIMPY_WORK/owned" && SLIMPY_OWNED_HERE=1
  export SLIMPY_OWNED_HERE
}

# True when the OS package manager owns $1, or (a directory) something under it; each such path
# is counted once for the summary.
os_owned() {
  [ "${SLIMPY_OWNED_HERE-0}" = 1 ] || return 1
  if grep -Fxq -- "$1" "$SLIMPY_WORK/owned" ||
    { [ -d "$1" ] && [ ! -L "$1" ] && grep -Fq -- "$1/" "$SLIMPY_WORK/owned"; }; then
    printf '%s\n' "$1" >>"$SLIMPY_WORK/owned.kept"
    return 0
  fi
  return 1
}

# The first $2 bytes of file $1 (binary magic; no NUL within them for the magics used here).
magic() {
  head -c "$2" -- "$1" 2>/dev/null
}

ELF_MAGIC=$(printf '\177ELF')

is_elf() {
  [ -f "$1" ] && [ ! -L "$1" ] && [ "$(magic "$1" 4)" = "$ELF_MAGIC" ]
}

# ---------------------------------------------------------------------------------------------
# Removal. Every category ends here: kept paths are skipped, sizes are counted before removing.

# __rm CATEGORY PATH...
remove_paths() {
  _cat=$1
  shift
  _files=0 _bytes=0
  _left=$#
  while [ "$_left" -gt 0 ]; do
    _p=$1
    shift
    _left=$((_left - 1))
    if [ ! -e "$_p" ] && [ ! -L "$_p" ]; then continue; fi
    kept "$_p" && continue
    os_owned "$_p" && continue
    excepted "$_cat" "$_p" && continue
    if [ -d "$_p" ] && [ ! -L "$_p" ]; then
      if { [ "${SLIMPY_KEEP_HERE-}" = 1 ] && has_kept_below "$_p"; } || excepted_below "$_cat" "$_p"; then
        # Something under it is kept: remove the rest piece by piece.
        find "$_p" -mindepth 1 -maxdepth 1 -exec $SLIMPY_SH "$SLIMPY_SELF" __rm "$_cat" {} +
        rmdir -- "$_p" 2>/dev/null
        continue
      fi
      _nb=$(find "$_p" -type f -exec $SLIMPY_SH "$SLIMPY_SELF" __sizes {} + | count_and_sum)
      if rm -rf -- "$_p" 2>/dev/null; then
        _files=$((_files + ${_nb% *})) _bytes=$((_bytes + ${_nb#* }))
      else
        warn "could not remove $_p"
      fi
    elif [ -L "$_p" ]; then
      rm -f -- "$_p" 2>/dev/null # a link: no bytes of its own to count
    else
      set -- "$@" "$_p" # regular files: counted and removed together below
    fi
  done
  if [ $# -gt 0 ]; then
    _nb=$(file_sizes "$@" | count_and_sum)
    if rm -f -- "$@" 2>/dev/null; then
      _files=$((_files + ${_nb% *})) _bytes=$((_bytes + ${_nb#* }))
    else
      warn "could not remove some $_cat files (first: $1)"
    fi
  fi
  [ "$_files" -gt 0 ] && echo "$_files $_bytes" >>"$SLIMPY_WORK/cat.$_cat"
  return 0
}

# __pyc PATH...: a loose .pyc/.pyo goes only when its .py is there; without one it is a
# sourceless module that Python imports (__pycache__ files are never imported without source).
remove_loose_bytecode() {
  _left=$#
  while [ "$_left" -gt 0 ]; do
    _p=$1
    shift
    _left=$((_left - 1))
    [ -f "${_p%?}" ] && set -- "$@" "$_p"
  done
  [ $# -gt 0 ] && remove_paths pycache "$@"
  return 0
}

# __ar PATH...: static libraries are recognised by their `!<arch>` (or thin `!<thin>`) magic,
# not by name.
remove_static_libs() {
  _left=$#
  while [ "$_left" -gt 0 ]; do
    _p=$1
    shift
    _left=$((_left - 1))
    case $(magic "$_p" 7) in '!<arch>' | '!<thin>') set -- "$@" "$_p" ;; esac
  done
  [ $# -gt 0 ] && remove_paths static-libs "$@"
  return 0
}

# __tests PACKAGE_DIR...: tests/test directories inside packages. Only these exact names:
# numpy.testing and pandas._testing are imported at run time.
remove_tests_in_packages() {
  for _pkg do
    find "$_pkg" -mindepth 1 -type d \( -name tests -o -name test \) -prune \
      -exec $SLIMPY_SH "$SLIMPY_SELF" __rm tests {} +
  done
}

# Removes the directories under $1 that are empty (after their sources went), deepest first.
remove_empty_dirs() {
  find "$1" -depth -type d -exec rmdir -- {} + 2>/dev/null
  return 0
}

# find over an environment that never enters the metadata directories: *.dist-info backs
# importlib.metadata and entry points.
find_in_env() {
  _fe_root=$1
  shift
  find "$_fe_root" \( -name '*.dist-info' -o -name '*.egg-info' \) -prune -o "$@"
}

# ---------------------------------------------------------------------------------------------
# Package exceptions: what some packages read at run time although a rule names it, from the
# table above and from the environment itself. SLIMPY_EXCEPT holds one `CATEGORY<TAB>GLOB` line
# per exception of the environment being pruned (SLIMPY_SITE); the globs are relative to it.

# Prints `name version` for each distribution installed in site $1, names normalized (PEP 503).
installed_distributions() {
  for _id_di in "$1"/*.dist-info; do
    [ -d "$_id_di" ] || continue
    _id_b=${_id_di##*/}
    _id_b=${_id_b%.dist-info}
    case $_id_b in *-*) printf '%s %s\n' "${_id_b%%-*}" "${_id_b#*-}" ;; *) printf '%s 0\n' "$_id_b" ;; esac
  done | sed 'h;s/ .*//;y/ABCDEFGHIJKLMNOPQRSTUVWXYZ_./abcdefghijklmnopqrstuvwxyz--/;s/--*/-/g;G;s/\n[^ ]*//'
}

# The leading digits of $1 without leading zeros (0 when none): one release segment.
version_number() {
  _vn=${1%%[!0-9]*}
  while :; do case $_vn in 0?*) _vn=${_vn#0} ;; *) break ;; esac; done
  echo "${_vn:-0}"
}

# Prints -1, 0 or 1 as version $1 is below, equal to or above $2, comparing release segments as
# numbers (2.10 > 2.9). A local label (+cpu) and what follows the digits of a segment (rc1) are
# ignored, which is enough for the ranges in the table.
version_cmp() {
  _va=${1%%+*} _vb=${2%%+*}
  while [ -n "$_va$_vb" ]; do
    _sa=$(version_number "${_va%%.*}") _sb=$(version_number "${_vb%%.*}")
    case $_va in *.*) _va=${_va#*.} ;; *) _va= ;; esac
    case $_vb in *.*) _vb=${_vb#*.} ;; *) _vb= ;; esac
    if [ "$_sa" -lt "$_sb" ]; then echo -1 && return; fi
    if [ "$_sa" -gt "$_sb" ]; then echo 1 && return; fi
  done
  echo 0
}

# True when version $1 satisfies every clause of $2 (`>=2.2,<2.3`; `-` is any version).
version_in() {
  [ "$2" = - ] && return 0
  _vi_ifs=$IFS
  IFS=,
  for _vi_c in $2; do
    IFS=$_vi_ifs
    case $_vi_c in
    '>='*) [ "$(version_cmp "$1" "${_vi_c#>=}")" != -1 ] || return 1 ;;
    '<='*) [ "$(version_cmp "$1" "${_vi_c#<=}")" != 1 ] || return 1 ;;
    '=='*) [ "$(version_cmp "$1" "${_vi_c#==}")" = 0 ] || return 1 ;;
    '!='*) [ "$(version_cmp "$1" "${_vi_c#!=}")" != 0 ] || return 1 ;;
    '>'*) [ "$(version_cmp "$1" "${_vi_c#>}")" = 1 ] || return 1 ;;
    '<'*) [ "$(version_cmp "$1" "${_vi_c#<}")" = -1 ] || return 1 ;;
    esac
  done
  IFS=$_vi_ifs
  return 0
}

# add_exception CATEGORY GLOB ID DETAIL: keeps GLOB (relative to SLIMPY_SITE) from CATEGORY's
# rule and records why for the manifest.
add_exception() {
  SLIMPY_EXCEPT=$SLIMPY_EXCEPT${SLIMPY_EXCEPT:+$NL}$1$TAB$2
  json_quote "$SLIMPY_SITE"
  _ae_site=$J
  json_quote "$2"
  _ae_path=$J
  json_quote "$4"
  printf '{"site":%s,"id":"%s","category":"%s","path":%s,"detail":%s}\n' \
    "$_ae_site" "$3" "$1" "$_ae_path" "$J" >>"$SLIMPY_WORK/exceptions"
  printf 'slimpy: kept %s/%s from %s (%s)\n' "$SLIMPY_SITE" "$2" "$1" "$3" >>"$SLIMPY_WORK/exceptions.txt"
}

# The table's exceptions whose distribution site $1 holds, in the versions they name.
table_exceptions() {
  [ -n "$PACKAGE_EXCEPTIONS" ] || return 0
  installed_distributions "$1" >"$SLIMPY_WORK/dists"
  _te_f=$-
  set -f
  while read -r _te_id _te_cat _te_dist _te_vers _te_path; do
    [ -n "$_te_path" ] && category_enabled "$_te_cat" || continue
    while read -r _te_n _te_v; do
      # shellcheck disable=SC2254 # DISTRIBUTION is a glob
      case $_te_n in $_te_dist) ;; *) continue ;; esac
      version_in "$_te_v" "$_te_vers" || continue
      add_exception "$_te_cat" "$_te_path" "$_te_id" "$_te_n $_te_v"
      break
    done <"$SLIMPY_WORK/dists"
  done <<EOT
$PACKAGE_EXCEPTIONS
EOT
  case $_te_f in *f*) ;; *) set +f ;; esac
}

# lazy_loader.attach_stub(__name__, __file__) reads the module's own .pyi when the module is
# imported (scikit-image, librosa): those stubs stay.
lazy_stub_exceptions() {
  category_enabled stubs || return 0
  find_in_env "$1" -type f -name '*.py' -exec grep -l 'attach_stub(' {} + 2>/dev/null |
    while IFS= read -r _ls_py; do
      _ls_rel=${_ls_py#"$1"/}
      case $_ls_rel in *[][*?\\]*) continue ;; esac # would read as a glob
      [ -f "${_ls_py%.py}.pyi" ] && printf '%s\n' "$_ls_rel"
    done >"$SLIMPY_WORK/lazy"
  while IFS= read -r _ls_rel; do
    add_exception stubs "${_ls_rel%.py}.pyi" lazy-stubs "$_ls_rel"
  done <"$SLIMPY_WORK/lazy"
}

# A *-nspkg.pth file makes site.py import the namespace directories it names at every start,
# and the interpreter reports an error when one is gone: the tests rule never removes them.
nspkg_exceptions() {
  category_enabled tests || return 0
  for _np_pth in "$1"/*-nspkg.pth; do
    [ -f "$_np_pth" ] || continue
    sed -n "s/.*f_locals\\['sitedir'\\], \\*(\\([^)]*\\)).*/\\1/p" "$_np_pth" 2>/dev/null |
      tr -d "' " | tr ',' '/' | sed 's:/*$::' >"$SLIMPY_WORK/nspkg"
    while IFS= read -r _np_dir; do
      case $_np_dir in '' | *[!A-Za-z0-9_/]*) continue ;; esac
      [ -d "$1/$_np_dir" ] && add_exception tests "$_np_dir" nspkg "${_np_pth##*/}"
    done <"$SLIMPY_WORK/nspkg"
  done
}

# Sets SLIMPY_SITE and SLIMPY_EXCEPT for site $1.
site_exceptions() {
  SLIMPY_SITE=$1 SLIMPY_EXCEPT=
  table_exceptions "$1"
  lazy_stub_exceptions "$1"
  nspkg_exceptions "$1"
  export SLIMPY_SITE SLIMPY_EXCEPT
}

# True when the exceptions of this environment leave $2, or a directory above it, to the rule of
# category $1.
excepted() {
  [ -n "${SLIMPY_EXCEPT-}" ] || return 1
  case $2 in "$SLIMPY_SITE"/*) ;; *) return 1 ;; esac
  _ex_rel=${2#"$SLIMPY_SITE"/} _ex_r=1 _ex_ifs=$IFS _ex_f=$-
  IFS=$NL
  set -f
  for _ex_l in $SLIMPY_EXCEPT; do
    [ "${_ex_l%%"$TAB"*}" = "$1" ] || continue
    _ex_pat=${_ex_l#*"$TAB"} _ex_a=$_ex_rel
    while :; do
      # shellcheck disable=SC2254 # the paths are globs
      case $_ex_a in $_ex_pat) _ex_r=0 && break 2 ;; esac
      case $_ex_a in */*) _ex_a=${_ex_a%/*} ;; *) break ;; esac
    done
  done
  case $_ex_f in *f*) ;; *) set +f ;; esac
  IFS=$_ex_ifs
  return "$_ex_r"
}

# find_unexcepted CATEGORY DIR EXPRESSION...: find_in_env that does not enter the paths the
# exceptions keep whole from CATEGORY. remove_paths checks every path anyway; this saves listing,
# say, torch's 9,000 headers one by one.
find_unexcepted() {
  _fu_cat=$1 _fu_dir=$2
  shift 2
  _fu_n=$# _fu_ifs=$IFS _fu_f=$-
  IFS=$NL
  set -f
  for _fu_l in $SLIMPY_EXCEPT; do
    [ "${_fu_l%%"$TAB"*}" = "$_fu_cat" ] || continue
    _fu_path=$SLIMPY_SITE/${_fu_l#*"$TAB"}
    case $_fu_path in *[][*?\\]*) continue ;; esac # a glob: left to remove_paths
    set -- "$@" -path "$_fu_path" -prune -o
  done
  case $_fu_f in *f*) ;; *) set +f ;; esac
  IFS=$_fu_ifs
  # The prune clauses went after the expression: rotate the expression behind them.
  while [ "$_fu_n" -gt 0 ]; do
    set -- "$@" "$1"
    shift
    _fu_n=$((_fu_n - 1))
  done
  find_in_env "$_fu_dir" "$@"
}

# True when something below directory $2 is left to the rule of category $1: then the rule
# removes the rest piece by piece. Only an exception whose fixed start lies below $2 can match.
excepted_below() {
  [ -n "${SLIMPY_EXCEPT-}" ] || return 1
  case $2 in "$SLIMPY_SITE"/*) ;; *) return 1 ;; esac
  _eb_rel=${2#"$SLIMPY_SITE"/} _eb_hit=1 _eb_ifs=$IFS _eb_f=$-
  IFS=$NL
  set -f
  for _eb_l in $SLIMPY_EXCEPT; do
    [ "${_eb_l%%"$TAB"*}" = "$1" ] || continue
    _eb_fixed=${_eb_l#*"$TAB"}
    _eb_fixed=${_eb_fixed%%[][*?]*}
    case $_eb_fixed/ in "$_eb_rel"/?*) _eb_hit=0 && break ;; esac
    case $_eb_rel/ in "$_eb_fixed"*) [ "$_eb_fixed" != "${_eb_l#*"$TAB"}" ] && _eb_hit=0 && break ;; esac
  done
  case $_eb_f in *f*) ;; *) set +f ;; esac
  IFS=$_eb_ifs
  [ "$_eb_hit" = 0 ] || return 1
  [ -n "$(find "$2" -mindepth 1 -exec $SLIMPY_SH "$SLIMPY_SELF" __anyexcepted "$1" {} + 2>/dev/null)" ]
}

# ---------------------------------------------------------------------------------------------
# packaging: pip, setuptools and wheel, removed the way `pip uninstall` would (their RECORD),
# only in a virtual environment: there they only install things, and the image is built.

# Prints the dist-info directory of another distribution that declares a run-time requirement on
# $2 in site $1 (no `extra ==` marker), if any.
required_by_other() {
  for _md in "$1"/*.dist-info/METADATA; do
    [ -f "$_md" ] || continue
    case ${_md%/METADATA} in */pip-[0-9]* | */setuptools-[0-9]* | */wheel-[0-9]*) continue ;; esac
    if grep -iE "^Requires-Dist: *$2 *([;(<>=!~]|\\[|\$)" "$_md" 2>/dev/null | grep -qv 'extra *=='; then
      printf '%s\n' "${_md%/METADATA}"
      return 0
    fi
  done
  return 1
}

# Prints a .py file of site $1 (outside setuptools) that imports pkg_resources at module level
# (`__import__('pkg_resources')` too: old namespace packages declare themselves with it).
imports_pkg_resources() {
  find "$1" \( -name '*.dist-info' -o -name setuptools -o -name pkg_resources -o -name pip \
    -o -name _distutils_hack \) -prune -o -type f -name '*.py' \
    -exec grep -lE '^(import[[:space:]]+pkg_resources|from[[:space:]]+pkg_resources[[:space:]]+import|__import__\(.pkg_resources.\))' {} + 2>/dev/null | head -n 1
}

# remove_distribution SITE VENV DIST_INFO
remove_distribution() {
  _site=$1 _venv=$2 _di=$3
  if [ ! -f "$_di/RECORD" ]; then
    warn "packaging: $_di has no RECORD; left in place"
    return 0
  fi
  set --
  _tops=
  while IFS= read -r _line || [ -n "$_line" ]; do
    case $_line in '' | \"*) continue ;; esac # quoted CSV rows (commas in names): not in these
    _rel=${_line%%,*}
    _base=$_site
    while :; do
      case $_rel in
      ../*) _rel=${_rel#../} _base=${_base%/*} ;;
      *) break ;;
      esac
    done
    _abs=$_base/$_rel
    case $_abs in "$_venv"/*) ;; *) continue ;; esac # never outside the environment
    set -- "$@" "$_abs"
    case $_base/ in
    "$_site"/)
      _top=${_rel%%/*}
      [ "$_top" != "$_rel" ] && case "$NL$_tops$NL" in *"$NL$_top$NL"*) ;; *) _tops=$_tops$NL$_top ;; esac
      ;;
    esac
  done <"$_di/RECORD"
  [ $# -gt 0 ] && remove_paths packaging "$@"
  # Bytecode compiled after install is not in RECORD; then drop the directories left empty.
  _ifs=$IFS
  IFS=$NL
  for _top in $_tops; do
    IFS=$_ifs
    case $_top in *.dist-info) continue ;; esac
    [ -d "$_site/$_top" ] || continue
    find "$_site/$_top" -type d -name __pycache__ -prune \
      -exec $SLIMPY_SH "$SLIMPY_SELF" __rm packaging {} +
    remove_empty_dirs "$_site/$_top"
  done
  IFS=$_ifs
  remove_paths packaging "$_di"
}

# True when distribution $3 of site $1 (in venv $2) stays: another one requires it, or (for
# setuptools) a module imports the pkg_resources it ships until setuptools 82.
packaging_kept() {
  _by=$(required_by_other "$1" "$3")
  if [ -n "$_by" ]; then
    warn "packaging: kept $3 in $2: ${_by##*/} requires it"
    return 0
  fi
  [ "$3" = setuptools ] || return 1
  _by=$(imports_pkg_resources "$1")
  [ -n "$_by" ] || return 1
  if [ ! -d "$1/pkg_resources" ]; then
    warn "packaging: $_by imports pkg_resources, which setuptools 82 and later no longer ship; pin setuptools<82"
    return 1
  fi
  warn "packaging: kept setuptools in $2: $_by imports pkg_resources"
  add_exception packaging setuptools pkg-resources "${_by#"$1"/}"
  return 0
}

prune_packaging() {
  _site=$1 _venv=$2
  for _dist in pip setuptools wheel; do
    for _di in "$_site/$_dist"-[0-9]*.dist-info; do
      [ -d "$_di" ] || continue
      packaging_kept "$_site" "$_venv" "$_dist" && continue
      [ "$SLIMPY_EXPLAIN" = 1 ] || remove_distribution "$_site" "$_venv" "$_di"
    done
  done
}

# ---------------------------------------------------------------------------------------------
# One environment (a site-packages or dist-packages directory).

# __site prune|strip SITE...
process_sites() {
  _mode=$1
  shift
  for _site do
    json_quote "$_site"
    _id=$J
    if grep -Fxq -- "$_id" "$SLIMPY_WORK/seen.$_mode" 2>/dev/null; then continue; fi
    printf '%s\n' "$_id" >>"$SLIMPY_WORK/seen.$_mode"
    if [ "$_mode" = strip ]; then
      strip_site "$_site"
    else
      prune_site "$_site"
    fi
  done
}

# Bytecode of one environment: with a trace, what the smoke test read stays.
prune_bytecode() {
  _site=$1
  category_enabled pycache || return 0
  if [ -n "$SLIMPY_TRACED" ]; then
    # Bytecode the traced smoke test read stays: without it every start recompiles it.
    find_in_env "$_site" -type f -path '*/__pycache__/*' \
      -exec $SLIMPY_SH "$SLIMPY_SELF" __untraced pycache "$SLIMPY_TRACED" {} +
    find_in_env "$_site" -type d -name __pycache__ -empty -exec rmdir -- {} + 2>/dev/null
  else
    # Python recompiles on import (a cold-start cost, not an error).
    find_in_env "$_site" -type d -name __pycache__ -prune \
      -exec $SLIMPY_SH "$SLIMPY_SELF" __rm pycache {} +
  fi
  find_in_env "$_site" -type f \( -name '*.pyc' -o -name '*.pyo' \) \
    -exec $SLIMPY_SH "$SLIMPY_SELF" __pyc {} +
  return 0
}

prune_site() {
  _site=$1
  _venv=${_site%/*}
  _venv=${_venv%/*}
  _venv=${_venv%/*}
  _isvenv=false
  [ -f "$_venv/pyvenv.cfg" ] && _isvenv=true
  json_quote "$_site"
  printf '{"path":%s,"venv":%s}\n' "$J" "$_isvenv" >>"$SLIMPY_WORK/environments"

  SLIMPY_SITE=$_site SLIMPY_KEEP_HERE=0
  export SLIMPY_SITE
  if [ -n "$SLIMPY_KEEP" ] && [ -n "$(find "$_site" -exec $SLIMPY_SH "$SLIMPY_SELF" __anykept {} + 2>/dev/null)" ]; then
    SLIMPY_KEEP_HERE=1
  fi
  export SLIMPY_KEEP_HERE
  kept "$_site" && return 0
  owned_here "$_site"

  site_exceptions "$_site"
  # Bytecode first: the pycache row counts all of it, pip's and that in tests directories too.
  [ "$SLIMPY_EXPLAIN" = 1 ] || prune_bytecode "$_site"
  if category_enabled packaging && [ "$_isvenv" = true ]; then
    prune_packaging "$_site" "$_venv"
  fi
  [ "$SLIMPY_EXPLAIN" = 1 ] && return 0
  if category_enabled tests; then
    find "$_site" -mindepth 1 -maxdepth 1 -type d ! -name '*.dist-info' ! -name '*.egg-info' \
      ! -name __pycache__ -exec $SLIMPY_SH "$SLIMPY_SELF" __tests {} +
  fi
  if category_enabled stubs; then
    # The interpreter never reads .pyi; typeshed copies are read by mypy/jedi, so they stay.
    find_unexcepted stubs "$_site" -type d -name typeshed -prune -o -type f -name '*.pyi' \
      -exec $SLIMPY_SH "$SLIMPY_SELF" __rm stubs {} +
  fi
  if category_enabled sources; then
    # Build inputs of extensions that are already compiled; only a compiler reads them.
    find_unexcepted sources "$_site" -type f \( -name '*.c' \
      -o -name '*.cc' -o -name '*.cpp' -o -name '*.cxx' -o -name '*.h' -o -name '*.hpp' \
      -o -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' \) \
      -exec $SLIMPY_SH "$SLIMPY_SELF" __rm sources {} +
    # Header trees such as pyarrow/include: directories emptied above go too (only those
    # named include: elsewhere an empty directory may be one a package writes into).
    find_in_env "$_site" -type d -name include -prune \
      -exec $SLIMPY_SH "$SLIMPY_SELF" __rmempty {} +
  fi
  if category_enabled static-libs; then
    # Archives for a linker; nothing loads a .a at run time.
    find_unexcepted static-libs "$_site" -type f -name '*.a' \
      -exec $SLIMPY_SH "$SLIMPY_SELF" __ar {} +
  fi
  category_enabled unused && prune_untraced "$_site"
  return 0
}

# ---------------------------------------------------------------------------------------------
# unused: what the traced smoke test never touched. Never *.dist-info (importlib.metadata, entry
# points), *.pth (run at every start) nor the --keep-package distributions, whose RECORD files and
# top-level directories stay whole.

# __untraced CATEGORY LIST PATH...: removes the paths whose place in $SLIMPY_SITE is not in LIST.
remove_untraced() {
  _cat=$1 _list=$2
  shift 2
  for _p do
    case $_p in *"$NL"*) ;; *) printf '%s\n' "${_p#"$SLIMPY_SITE"/}" ;; esac
  done >"$SLIMPY_WORK/candidates.$$"
  grep -Fxv -f "$_list" "$SLIMPY_WORK/candidates.$$" >"$SLIMPY_WORK/untraced.$$"
  set --
  while IFS= read -r _rel; do set -- "$@" "$SLIMPY_SITE/$_rel"; done <"$SLIMPY_WORK/untraced.$$"
  rm -f "$SLIMPY_WORK/candidates.$$" "$SLIMPY_WORK/untraced.$$"
  [ $# -gt 0 ] && remove_paths "$_cat" "$@"
  return 0
}

# True when the distribution of dist-info directory name $1 is a --keep-package one.
package_kept() {
  [ -n "$SLIMPY_KEEP_PACKAGES" ] || return 1
  _name=$(printf '%s' "${1%%-*}" | tr 'A-Z' 'a-z' | sed 's/[-_.][-_.]*/-/g')
  case "$NL$SLIMPY_KEEP_PACKAGES$NL" in *"$NL$_name$NL"*) return 0 ;; esac
  return 1
}

prune_untraced() {
  _site=$1
  if [ -z "$SLIMPY_TRACED" ]; then
    warn "unused: no trace of the smoke test in this script; nothing removed as unused"
    return 0
  fi
  _list=$SLIMPY_WORK/protected
  { cat "$SLIMPY_TRACED" && echo /; } >"$_list"
  _tops=
  for _di in "$_site"/*.dist-info; do
    [ -f "$_di/RECORD" ] && package_kept "${_di##*/}" || continue
    while IFS= read -r _line || [ -n "$_line" ]; do
      _rel=${_line%%,*}
      case $_rel in '' | ../* | /* | \"*) continue ;; esac
      printf '%s\n' "$_rel" >>"$_list"
      _top=${_rel%%/*}
      [ "$_top" != "$_rel" ] && case "$NL$_tops$NL" in *"$NL$_top$NL"*) ;; *) _tops=$_tops$NL$_top ;; esac
    done <"$_di/RECORD"
  done
  set -- -name '*.dist-info' -o -name '*.egg-info'
  _ifs=$IFS
  IFS=$NL
  for _top in $_tops; do set -- "$@" -o -path "$_site/$_top"; done
  IFS=$_ifs
  { find "$_site" -type d -empty && echo /; } >"$SLIMPY_WORK/empty.before"
  SLIMPY_SITE=$_site
  export SLIMPY_SITE
  find "$_site" \( "$@" \) -prune -o -type f ! -name '*.pth' \
    -exec $SLIMPY_SH "$SLIMPY_SELF" __untraced unused "$_list" {} +
  # Directories left empty go too: an empty package directory imports as a namespace package,
  # and `try: import x` would then find an x that is not there.
  find "$_site" -mindepth 1 -depth -type d | grep -Fxv -f "$SLIMPY_WORK/empty.before" >"$SLIMPY_WORK/dirs"
  set --
  while IFS= read -r _d; do set -- "$@" "$_d"; done <"$SLIMPY_WORK/dirs"
  [ $# -gt 0 ] && rmdir -- "$@" 2>/dev/null
  return 0
}

# ---------------------------------------------------------------------------------------------
# Strip. ELF files are found by their magic bytes, never by name: `*.so*` also matches data such
# as pyarrow's tests/data/parquet/v0.7.1.some-named-index.parquet.

# Reads field OFFSET SIZE (bytes, endianness ELF_LE) from the variables PREFIX0, PREFIX1, ... into V.
elf_field() {
  V=0 _j=0
  while [ "$_j" -lt "$3" ]; do
    if [ "$ELF_LE" = 1 ]; then _k=$(($2 + $3 - 1 - _j)); else _k=$(($2 + _j)); fi
    eval "_v=\${$1$_k-}"
    [ -n "$_v" ] || return 1
    V=$((V * 256 + _v))
    _j=$((_j + 1))
  done
  [ "$V" -ge 0 ]
}

# Reads variables PREFIX0... from bytes of file $2 (od -j $3 -N $4).
elf_bytes() {
  _i=0
  for _b in $(od -An -v -tu1 -j "$3" -N "$4" -- "$2" 2>/dev/null); do
    eval "$1$_i=\$_b"
    _i=$((_i + 1))
  done
  [ "$_i" -eq "$4" ]
}

# elf_inspect FILE SIZE: reads the ELF and program headers. Sets ELF_END (where the content the
# headers describe ends), ELF_ID (class, data, type, machine), ELF_LOADS (every PT_LOAD's vaddr,
# memsz, flags and alignment) and ELF_LOAD_OK (1 when each PT_LOAD lies inside the file and its
# offset is congruent with its address modulo its alignment: what the loader checks and what
# strip-after-patchelf breaks). Returns 1 when the headers are not readable.
elf_inspect() {
  ELF_END=0 ELF_ID='' ELF_LOADS='' ELF_LOAD_OK=1
  elf_bytes H "$1" 0 52 || return 1
  case $H4 in 1) _cls=32 ;; 2) _cls=64 ;; *) return 1 ;; esac
  case $H5 in 1) ELF_LE=1 ;; 2) ELF_LE=0 ;; *) return 1 ;; esac
  if [ "$_cls" = 64 ]; then
    elf_bytes H "$1" 0 64 || return 1
    elf_field H 32 8 && _phoff=$V || return 1
    elf_field H 40 8 && _shoff=$V || return 1
    elf_field H 54 2 && _phes=$V || return 1
    elf_field H 56 2 && _phnum=$V || return 1
    elf_field H 58 2 && _shes=$V || return 1
    elf_field H 60 2 && _shnum=$V || return 1
    _want_phes=56 _want_shes=64
  else
    elf_field H 28 4 && _phoff=$V || return 1
    elf_field H 32 4 && _shoff=$V || return 1
    elf_field H 42 2 && _phes=$V || return 1
    elf_field H 44 2 && _phnum=$V || return 1
    elf_field H 46 2 && _shes=$V || return 1
    elf_field H 48 2 && _shnum=$V || return 1
    _want_phes=32 _want_shes=40
  fi
  ELF_ID="$H4 $H5 $H16 $H17 $H18 $H19"
  [ "$_phnum" -eq 0 ] || [ "$_phes" -eq "$_want_phes" ] || return 1
  [ "$_shnum" -eq 0 ] || [ "$_shes" -eq "$_want_shes" ] || return 1
  [ "$_phnum" -le 4096 ] && [ "$_shnum" -lt 65280 ] || return 1
  ELF_END=$((_shoff + _shnum * _shes))
  _e=$((_phoff + _phnum * _phes))
  [ "$_e" -gt "$ELF_END" ] && ELF_END=$_e
  [ "$ELF_END" -le "$2" ] || return 1
  [ "$_phnum" -gt 0 ] || return 0
  elf_bytes P "$1" "$_phoff" $((_phnum * _phes)) || return 1
  _n=0
  while [ "$_n" -lt "$_phnum" ]; do
    _o=$((_n * _phes))
    if [ "$_cls" = 64 ]; then
      elf_field P "$_o" 4 && _type=$V || return 1
      elf_field P $((_o + 4)) 4 && _flags=$V || return 1
      elf_field P $((_o + 8)) 8 && _off=$V || return 1
      elf_field P $((_o + 16)) 8 && _vaddr=$V || return 1
      elf_field P $((_o + 32)) 8 && _filesz=$V || return 1
      elf_field P $((_o + 40)) 8 && _memsz=$V || return 1
      elf_field P $((_o + 48)) 8 && _align=$V || return 1
    else
      elf_field P "$_o" 4 && _type=$V || return 1
      elf_field P $((_o + 4)) 4 && _off=$V || return 1
      elf_field P $((_o + 8)) 4 && _vaddr=$V || return 1
      elf_field P $((_o + 16)) 4 && _filesz=$V || return 1
      elf_field P $((_o + 20)) 4 && _memsz=$V || return 1
      elf_field P $((_o + 24)) 4 && _flags=$V || return 1
      elf_field P $((_o + 28)) 4 && _align=$V || return 1
    fi
    _e=$((_off + _filesz))
    [ "$_filesz" -gt 0 ] && [ "$_e" -gt "$ELF_END" ] && ELF_END=$_e
    if [ "$_type" = 1 ]; then
      ELF_LOADS="$ELF_LOADS $_vaddr:$_memsz:$_filesz:$_flags:$_align"
      [ "$_e" -le "$2" ] || ELF_LOAD_OK=0
      if [ "$_align" -gt 1 ] && [ $((_vaddr % _align)) -ne $((_off % _align)) ]; then ELF_LOAD_OK=0; fi
    fi
    _n=$((_n + 1))
  done
  [ "$ELF_END" -le "$2" ] || ELF_LOAD_OK=0
  return 0
}

# The dynamic-linking facts that strip must not change, from readelf when there is one.
dynamic_facts() {
  "$SLIMPY_READELF" -dW -- "$1" 2>/dev/null | grep -E '\((NEEDED|SONAME|RPATH|RUNPATH)\)' |
    sed 's/^ *0x[0-9a-fA-F]* *//'
}

# Prints why stripped output $2 of original $1 must not replace it; nothing when it is sound.
strip_output_problem() {
  _size=$(file_sizes "$2")
  if [ -z "$_size" ] || [ "$_size" -eq 0 ]; then
    echo 'strip wrote an empty file'
    return
  fi
  [ "$(magic "$2" 4)" = "$ELF_MAGIC" ] || { echo 'ELF magic lost'; return; }
  _id=$ELF_ID _loads=$ELF_LOADS
  elf_inspect "$2" "$_size" || { echo 'unreadable ELF headers after strip'; return; }
  [ "$ELF_LOAD_OK" = 1 ] || { echo 'a loadable segment is misaligned or past the end of the file'; return; }
  [ "$ELF_ID" = "$_id" ] || { echo 'ELF class, type or machine changed'; return; }
  [ "$ELF_LOADS" = "$_loads" ] || { echo 'loadable segments changed'; return; }
  if [ -n "$SLIMPY_READELF" ]; then
    if ! "$SLIMPY_READELF" -hlSdW -- "$2" >/dev/null 2>"$SLIMPY_WORK/readelf.err" ||
      [ -s "$SLIMPY_WORK/readelf.err" ]; then
      echo "readelf: $(head -n 1 "$SLIMPY_WORK/readelf.err")"
      return
    fi
    [ "$(dynamic_facts "$1")" = "$(dynamic_facts "$2")" ] || echo 'dynamic section changed'
  fi
}

# Records an ELF file whose original bytes stay.
strip_restored() {
  printf 'slimpy: strip: kept the original %s (%s)\n' "$1" "$3"
  json_quote "$1"
  printf '%s\n' "$J" >>"$SLIMPY_WORK/strip.restored"
  printf '0 %s %s %s\n' "$2" "$2" "$J" >>"$SLIMPY_WORK/strip.records"
}

strip_one() {
  _f=$1
  kept "$_f" && return 0
  os_owned "$_f" && return 0
  [ -w "$_f" ] || return 0
  _before=$(file_sizes "$_f")
  [ -n "$_before" ] || return 0
  if ! elf_inspect "$_f" "$_before"; then
    strip_restored "$_f" "$_before" 'unreadable ELF headers'
    return 0
  fi
  if [ "$_before" -gt "$ELF_END" ]; then
    # Bytes past the ELF image: a bundled payload (PyInstaller, self-extracting archives) that
    # strip would drop. A little zero padding (patchelf leaves some) is fine.
    _tail=$((_before - ELF_END))
    if [ "$_tail" -gt 65536 ] || [ -n "$(od -An -v -tu1 -j "$ELF_END" -- "$_f" | tr -d ' 0\n')" ]; then
      printf 'slimpy: strip: skipped %s (%s bytes after the ELF image)\n' "$_f" "$_tail"
      return 0
    fi
  fi
  _out=$SLIMPY_WORK/strip.out
  _bak=$SLIMPY_WORK/strip.orig
  rm -f "$_out" "$_bak"
  # Strip into a copy and check it before it replaces the original: strip after patchelf (what
  # auditwheel repair did) can corrupt a library, pypa/auditwheel#716.
  if ! "$SLIMPY_STRIP" --strip-unneeded -o "$_out" -- "$_f" >/dev/null 2>"$SLIMPY_WORK/strip.err"; then
    strip_restored "$_f" "$_before" "strip failed: $(head -n 1 "$SLIMPY_WORK/strip.err")"
    rm -f "$_out"
    return 0
  fi
  if [ -s "$SLIMPY_WORK/strip.err" ]; then
    strip_restored "$_f" "$_before" "strip warned: $(head -n 1 "$SLIMPY_WORK/strip.err")"
    rm -f "$_out"
    return 0
  fi
  _why=$(strip_output_problem "$_f" "$_out")
  if [ -n "$_why" ]; then
    strip_restored "$_f" "$_before" "$_why"
    rm -f "$_out"
    return 0
  fi
  _after=$(file_sizes "$_out")
  if [ "$_after" -ge "$_before" ]; then
    rm -f "$_out" # nothing to strip
    json_quote "$_f"
    printf '0 %s %s %s\n' "$_before" "$_before" "$J" >>"$SLIMPY_WORK/strip.records"
    return 0
  fi
  # Write into the original file (same inode: mode, owner and links stay), keeping a copy aside
  # to put back byte for byte if the write does not land.
  if cp -p -- "$_f" "$_bak" 2>/dev/null && cat -- "$_out" >"$_f" 2>/dev/null &&
    [ "$(file_sizes "$_f")" = "$_after" ] && [ "$(magic "$_f" 4)" = "$ELF_MAGIC" ]; then
    touch -r "$_bak" -- "$_f" 2>/dev/null
    json_quote "$_f"
    printf '%s %s %s %s\n' $((_before - _after)) "$_before" "$_after" "$J" >>"$SLIMPY_WORK/strip.records"
  elif [ -f "$_bak" ]; then
    cat -- "$_bak" >"$_f" 2>/dev/null
    touch -r "$_bak" -- "$_f" 2>/dev/null
    if cmp -s -- "$_bak" "$_f" 2>/dev/null; then
      strip_restored "$_f" "$_before" 'could not write the stripped file'
    else
      warn "strip: could not restore $_f after a failed write"
    fi
  else
    strip_restored "$_f" "$_before" 'could not copy the original aside'
  fi
  rm -f "$_out" "$_bak"
}

# __strip PATH...
strip_paths() {
  for _f do
    is_elf "$_f" && strip_one "$_f"
  done
  return 0
}

strip_site() {
  owned_here "$1"
  # Names that are never ELF are not opened, to keep the number of reads down.
  find_in_env "$1" -type f ! -size 0 \
    ! -name '*.py' ! -name '*.pyc' ! -name '*.pyo' ! -name '*.pyi' ! -name '*.pyx' \
    ! -name '*.pxd' ! -name '*.pxi' ! -name '*.h' ! -name '*.hpp' ! -name '*.c' ! -name '*.cc' \
    ! -name '*.cpp' ! -name '*.txt' ! -name '*.md' ! -name '*.rst' ! -name '*.json' \
    ! -name '*.toml' ! -name '*.cfg' ! -name '*.ini' ! -name '*.yaml' ! -name '*.yml' \
    ! -name '*.csv' ! -name '*.html' ! -name '*.js' ! -name '*.css' ! -name '*.svg' \
    ! -name '*.png' ! -name '*.parquet' ! -name '*.pth' ! -name '*.typed' ! -name '*.a' \
    -exec $SLIMPY_SH "$SLIMPY_SELF" __strip {} +
}

# ---------------------------------------------------------------------------------------------
# Duplicates (--dedupe): identical files inside the environments become hard links of one file,
# so the layer stores their data once (wheels bundle the same libgfortran in numpy.libs and
# scipy.libs). Only regular files of 64 kB or more with one link, the same size, mode, owner and
# file system (a link shares all of them), compared byte for byte before linking; never a kept
# path. Runs after strip, which leaves identical inputs identical.

# __dstat PATH...: "SIZE MODE UID GID DEV LINKS PATH" for each file that may be linked.
dedupe_stat() {
  for _f do
    case $_f in *"$NL"*) continue ;; esac
    kept "$_f" && continue
    stat -c '%s %a %u %g %d %h %n' "$_f" 2>/dev/null
  done
}

# Links the files of one group (same size, mode, owner, device; one path a line) by content.
dedupe_group() {
  printf '%s\n' "$1" | while IFS= read -r _p; do
    _sum=$(sha256sum "$_p" 2>/dev/null || cksum "$_p" 2>/dev/null) || continue
    printf '%s %s\n' "${_sum%% *}" "$_p"
  done | sort | {
    _orig= _orig_sum=
    while read -r _sum _p; do
      if [ "$_sum" = "$_orig_sum" ] && cmp -s "$_orig" "$_p" 2>/dev/null; then
        _size=$(file_sizes "$_p")
        # A link beside the copy, then renamed over it: the copy is never missing.
        if ln "$_orig" "$_p.slimpy-link" 2>/dev/null && mv -f "$_p.slimpy-link" "$_p" 2>/dev/null; then
          echo "1 $_size" >>"$SLIMPY_WORK/dedupe.records"
        else
          rm -f "$_p.slimpy-link"
          warn "dedupe: could not link $_p to $_orig"
        fi
      else
        _orig=$_p _orig_sum=$_sum
      fi
    done
  }
}

dedupe_root() {
  _list=$SLIMPY_WORK/dedupe.list
  find "$1" -type f -size +63k \( -path '*/site-packages/*' -o -path '*/dist-packages/*' \) \
    -exec $SLIMPY_SH "$SLIMPY_SELF" __dstat {} + 2>/dev/null | sort >"$_list"
  _key= _group=
  while read -r _s _m _u _g _d _h _p; do
    [ "$_h" = 1 ] || continue
    if [ "$_s $_m $_u $_g $_d" = "$_key" ]; then
      _group=$_group$NL$_p
    else
      case $_group in *"$NL"*) dedupe_group "$_group" ;; esac
      _key="$_s $_m $_u $_g $_d" _group=$_p
    fi
  done <"$_list"
  case $_group in *"$NL"*) dedupe_group "$_group" ;; esac
  return 0
}

# ---------------------------------------------------------------------------------------------
# binutils: used when there, installed (and removed again) when the stage can, skipped if not.

# Sets SLIMPY_STRIP / SLIMPY_READELF, installing binutils if needed; sets STRIP_REASON on failure.
find_strip() {
  SLIMPY_STRIP=$(command -v strip 2>/dev/null)
  SLIMPY_READELF=$(command -v readelf 2>/dev/null)
  [ -n "$SLIMPY_STRIP" ] && return 0
  if [ "$(id -u 2>/dev/null)" != 0 ]; then
    STRIP_REASON='no strip command, and binutils cannot be installed without root'
    return 1
  fi
  install_binutils
  SLIMPY_STRIP=$(command -v strip 2>/dev/null)
  SLIMPY_READELF=$(command -v readelf 2>/dev/null)
  if [ -z "$SLIMPY_STRIP" ]; then
    [ -n "$STRIP_REASON" ] || STRIP_REASON='no strip command after installing binutils'
    return 1
  fi
  return 0
}

last_log_line() {
  tail -n 1 "$SLIMPY_WORK/install.log" 2>/dev/null | tr -d '\r'
}

installed_packages() {
  case $PKG_TOOL in
  apt) dpkg-query -W -f '${Package}\n' 2>/dev/null | sort ;;
  dnf | microdnf | yum) rpm -qa --qf '%{NAME}\n' 2>/dev/null | sort ;;
  esac
}

install_binutils() {
  STRIP_REASON='' PKG_TOOL=''
  _log=$SLIMPY_WORK/install.log
  if command -v apk >/dev/null 2>&1; then
    PKG_TOOL=apk
    apk add --no-cache --virtual .slimpy-binutils binutils >"$_log" 2>&1 ||
      STRIP_REASON="no strip command, and apk could not install binutils: $(last_log_line)"
    return
  fi
  if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
    PKG_TOOL=apt
    APT_HAD_LISTS=0
    for _l in /var/lib/apt/lists/*_Packages*; do [ -e "$_l" ] && APT_HAD_LISTS=1 && break; done
    APT_HAD_DEBS=0
    for _l in /var/cache/apt/archives/*.deb; do [ -e "$_l" ] && APT_HAD_DEBS=1 && break; done
    installed_packages >"$SLIMPY_WORK/packages.before"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get -qq -o Acquire::Retries=0 \
      -o Acquire::http::Timeout=30 update &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils; } \
      >"$_log" 2>&1 </dev/null; then
      STRIP_REASON="no strip command, and apt-get could not install binutils: $(last_log_line)"
    fi
    return
  fi
  for _tool in dnf microdnf yum; do
    command -v "$_tool" >/dev/null 2>&1 || continue
    PKG_TOOL=$_tool
    installed_packages >"$SLIMPY_WORK/packages.before"
    "$_tool" install -y binutils >"$_log" 2>&1 </dev/null ||
      STRIP_REASON="no strip command, and $_tool could not install binutils: $(last_log_line)"
    return
  done
  STRIP_REASON='no strip command and no package manager (apk, apt-get, dnf, microdnf, yum) to install binutils'
}

# Removes what install_binutils added: the packages, and the lists and caches it downloaded.
remove_binutils() {
  case $PKG_TOOL in
  '') return 0 ;;
  apk)
    apk del .slimpy-binutils >>"$SLIMPY_WORK/install.log" 2>&1 || warn 'could not remove the binutils slimpy installed (apk del)'
    ;;
  apt)
    _new=$(installed_packages | grep -vxF -f "$SLIMPY_WORK/packages.before")
    if [ -n "$_new" ]; then
      # shellcheck disable=SC2086 # package names: one word each
      DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $_new >>"$SLIMPY_WORK/install.log" 2>&1 </dev/null ||
        warn "could not remove the packages slimpy installed: $(printf '%s ' $_new)"
    fi
    [ "$APT_HAD_DEBS" = 1 ] || apt-get clean >/dev/null 2>&1
    [ "$APT_HAD_LISTS" = 1 ] || rm -rf /var/lib/apt/lists/* 2>/dev/null
    ;;
  dnf | microdnf | yum)
    _new=$(installed_packages | grep -vxF -f "$SLIMPY_WORK/packages.before")
    if [ -n "$_new" ]; then
      # shellcheck disable=SC2086
      "$PKG_TOOL" remove -y $_new >>"$SLIMPY_WORK/install.log" 2>&1 </dev/null ||
        warn "could not remove the packages slimpy installed: $(printf '%s ' $_new)"
    fi
    "$PKG_TOOL" clean all >/dev/null 2>&1
    ;;
  esac
  return 0
}

# process_root prune|strip ROOT: every environment under ROOT. That is each site-packages or
# dist-packages directory, and ROOT itself when it holds distributions directly: `pip install
# --target DIR` makes no site-packages directory, and DIR is what the image copies.
process_root() {
  for _pr in "$2"/*.dist-info; do
    if [ -d "$_pr" ]; then
      $SLIMPY_SH "$SLIMPY_SELF" __site "$1" "$2"
      break
    fi
  done
  find "$2" -type d \( -name site-packages -o -name dist-packages \) -prune \
    -exec $SLIMPY_SH "$SLIMPY_SELF" __site "$1" {} +
}

# ---------------------------------------------------------------------------------------------
# Reporting.

sum_category() {
  sum_records "$SLIMPY_WORK/cat.$1"
}

# Sums the "FILES BYTES" lines of file $1; prints "FILES BYTES" (0 0 when there is none).
sum_records() {
  if [ -f "$1" ]; then
    _f=0 _b=0
    while read -r _x _y; do _f=$((_f + _x)) _b=$((_b + _y)); done <"$1"
    echo "$_f $_b"
  else
    echo '0 0'
  fi
}

# Joins the lines of file $1 (JSON values) with commas.
json_lines() {
  [ -f "$1" ] || return 0
  _sep=
  while IFS= read -r _l; do
    printf '%s%s' "$_sep" "$_l"
    _sep=,
  done <"$1"
}

megabytes() {
  printf '%d.%d MB' $(($1 / 1000000)) $((($1 % 1000000) / 100000))
}

# Prints the summary and writes the manifest (when --manifest was given).
report() {
  _strip_files=0 _strip_before=0 _strip_after=0
  if [ -f "$SLIMPY_WORK/strip.records" ]; then
    while read -r _saved _b _a _p; do
      _strip_files=$((_strip_files + 1)) _strip_before=$((_strip_before + _b)) _strip_after=$((_strip_after + _a))
    done <"$SLIMPY_WORK/strip.records"
    sort -k1,1nr "$SLIMPY_WORK/strip.records" | head -n 20 | while read -r _saved _b _a _p; do
      [ "$_saved" -gt 0 ] && printf '{"path":%s,"before":%s,"after":%s}\n' "$_p" "$_b" "$_a"
    done >"$SLIMPY_WORK/strip.top"
  fi
  json_quote "$STRIP_REASON"
  _reason=$J
  _cats=
  _removed=0
  _ifs=$IFS
  IFS=,
  for _c in $KNOWN_CATEGORIES; do
    IFS=$_ifs
    _nb=$(sum_category "$_c")
    _cats="$_cats${_cats:+,}\"$_c\":{\"files\":${_nb% *},\"bytes\":${_nb#* }}"
    _removed=$((_removed + ${_nb#* }))
    if category_enabled "$_c"; then
      printf 'slimpy: %-12s %6s files  %s\n' "$_c" "${_nb% *}" "$(megabytes "${_nb#* }")"
    fi
  done
  IFS=$_ifs
  _enabled=
  if [ -n "$SLIMPY_ENABLED" ]; then _enabled="\"$(echo "$SLIMPY_ENABLED" | sed 's/,/","/g')\""; fi
  case $STRIP_STATUS in
  done)
    printf 'slimpy: strip        %6s files  %s -> %s' "$_strip_files" "$(megabytes "$_strip_before")" "$(megabytes "$_strip_after")"
    [ -f "$SLIMPY_WORK/strip.restored" ] && printf ', %s kept as they were' "$(grep -c . "$SLIMPY_WORK/strip.restored")"
    echo
    ;;
  *) printf 'slimpy: strip        %s: %s\n' "$STRIP_STATUS" "$STRIP_REASON" ;;
  esac
  if [ -s "$SLIMPY_WORK/owned.kept" ]; then
    printf 'slimpy: left %s paths as they were: the OS package manager owns them\n' \
      "$(sort -u "$SLIMPY_WORK/owned.kept" | grep -c .)"
  fi
  _dd=$(sum_records "$SLIMPY_WORK/dedupe.records")
  [ "$DEDUPE" = 1 ] && printf 'slimpy: duplicates   %6s files  %s linked\n' "${_dd% *}" "$(megabytes "${_dd#* }")"
  [ -f "$SLIMPY_WORK/exceptions.txt" ] && cat "$SLIMPY_WORK/exceptions.txt"
  _saved=$((_removed + _strip_before - _strip_after + ${_dd#* }))
  # What this step removed; what leaves the image is measured from its layers afterwards (a file
  # this RUN deletes that an earlier layer made still ships there). slimpy reads this line.
  printf 'slimpy: %s saved in %s environment(s)\n' "$(megabytes "$_saved")" "$(grep -c . "$SLIMPY_WORK/environments")"

  [ -n "$MANIFEST" ] || return 0
  {
    printf '{"version":1,\n"roots":[%s],\n' "$(json_lines "$SLIMPY_WORK/roots")"
    printf '"environments":[%s],\n' "$(json_lines "$SLIMPY_WORK/environments")"
    printf '"prune":[%s],\n' "$_enabled"
    printf '"strip":{"status":"%s","reason":%s,"files":%s,"bytesBefore":%s,"bytesAfter":%s,' \
      "$STRIP_STATUS" "$_reason" "$_strip_files" "$_strip_before" "$_strip_after"
    printf '"restored":[%s],\n' "$(json_lines "$SLIMPY_WORK/strip.restored")"
    printf '"top":[%s]},\n' "$(json_lines "$SLIMPY_WORK/strip.top")"
    printf '"categories":{%s},\n' "$_cats"
    printf '"dedupe":{"files":%s,"bytes":%s},\n' "${_dd% *}" "${_dd#* }"
    printf '"exceptions":[%s],\n' "$(json_lines "$SLIMPY_WORK/exceptions")"
    printf '"warnings":[%s]}\n' "$(json_lines "$SLIMPY_WORK/warnings")"
  } >"$SLIMPY_WORK/manifest.json"
  if ! cp -- "$SLIMPY_WORK/manifest.json" "$MANIFEST" 2>/dev/null; then
    printf 'slimpy: warning: could not write the manifest to %s\n' "$MANIFEST" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# The run.

parse_categories() {
  case $1 in
  none) SLIMPY_ENABLED= ;;
  all) SLIMPY_ENABLED=$ALL_CATEGORIES ;;
  '') usage_error '--prune needs a list of categories (or none)' ;;
  *)
    SLIMPY_ENABLED=
    _ifs=$IFS
    IFS=,
    set -f
    for _c in $1; do
      if [ "$_c" = all ]; then
        _c=$ALL_CATEGORIES # all,unused: every category, and unused
      else
        case ,$KNOWN_CATEGORIES, in
        *,"$_c",*) ;;
        *) usage_error "unknown prune category '$_c' (known: $KNOWN_CATEGORIES, or none)" ;;
        esac
      fi
      SLIMPY_ENABLED=$SLIMPY_ENABLED${SLIMPY_ENABLED:+,}$_c
    done
    set +f
    IFS=$_ifs
    ;;
  esac
}

# Prints the absolute, symlink-free form of directory $1.
absolute_dir() {
  _d=$(cd -P -- "$1" 2>/dev/null && pwd -P && echo x) || return 1
  printf '%s' "${_d%?x}"
}

# The roots stay in main's positional parameters (a list in a variable would split odd names).
main() {
  STRIP=1 ALSO_USUAL=0 DEDUPE=0
  SLIMPY_ENABLED=$ALL_CATEGORIES
  SLIMPY_KEEP=
  SLIMPY_EXPLAIN=0
  SLIMPY_KEEP_PACKAGES=
  MANIFEST=
  _left=$#
  while [ "$_left" -gt 0 ]; do
    _a=$1
    shift
    _left=$((_left - 1))
    case $_a in
    --no-strip) STRIP=0 ;;
    --also-usual) ALSO_USUAL=1 ;;
    --dedupe) DEDUPE=1 ;;
    --explain) SLIMPY_EXPLAIN=1 ;;
    --prune | --keep | --keep-package | --manifest)
      [ "$_left" -gt 0 ] || usage_error "$_a needs a value"
      _v=$1
      shift
      _left=$((_left - 1))
      set -- "$_a=$_v" "$@"
      _left=$((_left + 1))
      ;;
    --prune=*) parse_categories "${_a#*=}" ;;
    --keep=*)
      case ${_a#*=} in *"$NL"*) usage_error '--keep patterns cannot contain newlines' ;; esac
      SLIMPY_KEEP=$SLIMPY_KEEP${SLIMPY_KEEP:+$NL}${_a#*=}
      ;;
    --keep-package=*)
      _v=$(printf '%s' "${_a#*=}" | tr 'A-Z' 'a-z' | sed 's/[-_.][-_.]*/-/g')
      SLIMPY_KEEP_PACKAGES=$SLIMPY_KEEP_PACKAGES${SLIMPY_KEEP_PACKAGES:+$NL}$_v
      ;;
    --manifest=*) MANIFEST=${_a#*=} ;;
    -h | --help)
      usage
      exit 0
      ;;
    --)
      while [ "$_left" -gt 0 ]; do
        set -- "$@" "$1"
        shift
        _left=$((_left - 1))
      done
      ;;
    -*) usage_error "unknown option $_a" ;;
    *) set -- "$@" "$_a" ;;
    esac
  done

  SLIMPY_WORK=$(mktemp -d "${TMPDIR:-/tmp}/slimpy-prune.XXXXXX" 2>/dev/null) ||
    { SLIMPY_WORK=${TMPDIR:-/tmp}/slimpy-prune.$$ && mkdir -p "$SLIMPY_WORK"; } ||
    { echo 'slimpy: warning: no temporary directory; nothing done' >&2 && exit 0; }
  trap 'rm -rf "$SLIMPY_WORK"' EXIT
  trap 'exit 130' INT TERM
  : >"$SLIMPY_WORK/warnings"
  : >"$SLIMPY_WORK/environments"
  : >"$SLIMPY_WORK/roots"
  list_os_owned | grep -F -- '-packages/' >"$SLIMPY_WORK/owned"
  : >"$SLIMPY_WORK/exceptions"

  case $0 in /*) SLIMPY_SELF=$0 ;; *) SLIMPY_SELF=$PWD/$0 ;; esac
  if [ -z "${SLIMPY_SH-}" ]; then
    # The same shell for the steps (busybox needs its applet name).
    _exe=$(readlink "/proc/$$/exe" 2>/dev/null)
    case $_exe in '') SLIMPY_SH='sh' ;; */busybox*) SLIMPY_SH="$_exe sh" ;; *) SLIMPY_SH=$_exe ;; esac
  fi
  SLIMPY_STAT=0
  [ "$(stat -c %s -- "$SLIMPY_SELF" 2>/dev/null)" -ge 0 ] 2>/dev/null && SLIMPY_STAT=1
  SLIMPY_STRIP='' SLIMPY_READELF='' SLIMPY_KEEP_HERE=0 SLIMPY_OWNED_HERE=0 SLIMPY_SITE='' \
    SLIMPY_EXCEPT='' SLIMPY_TRACED=''
  if grep -qx '#@slimpy-traced' "$SLIMPY_SELF" 2>/dev/null; then
    SLIMPY_TRACED=$SLIMPY_WORK/traced
    { sed -n 's/^#@ //p' "$SLIMPY_SELF" && echo /; } >"$SLIMPY_TRACED"
  fi
  export SLIMPY_WORK SLIMPY_SELF SLIMPY_SH SLIMPY_STAT SLIMPY_ENABLED SLIMPY_KEEP SLIMPY_STRIP \
    SLIMPY_READELF SLIMPY_KEEP_HERE SLIMPY_OWNED_HERE SLIMPY_EXPLAIN SLIMPY_SITE SLIMPY_EXCEPT \
    SLIMPY_TRACED SLIMPY_KEEP_PACKAGES

  # Roots: the ones given (a missing one is a warning), or the usual places, or (--also-usual)
  # both, the given ones being guesses that may not exist.
  _given=$#
  [ "$ALSO_USUAL" = 1 ] && _given=0
  if [ $# -eq 0 ] || [ "$ALSO_USUAL" = 1 ]; then
    set -- "$@" /usr/local/lib/python3* /usr/lib/python3*/site-packages /usr/lib/python3*/dist-packages \
      /opt /app /srv /home/*/.local/lib/python3* /root/.local/lib/python3*
  fi
  _left=$#
  while [ "$_left" -gt 0 ]; do
    _r=$1
    shift
    _left=$((_left - 1))
    if [ -d "$_r" ] && _abs=$(absolute_dir "$_r"); then
      json_quote "$_abs"
      if ! grep -Fxq -- "$J" "$SLIMPY_WORK/roots"; then
        printf '%s\n' "$J" >>"$SLIMPY_WORK/roots"
        set -- "$@" "$_abs"
      fi
    elif [ "$_given" -gt 0 ]; then
      warn "root $_r does not exist or is not a directory; skipped"
    fi
  done

  # Prune, environment by environment.
  for _r do process_root prune "$_r"; done
  [ -s "$SLIMPY_WORK/environments" ] || warn "no Python environment (site-packages) found under the roots"

  if [ "$SLIMPY_EXPLAIN" = 0 ] && category_enabled caches; then
    # Caches only speed up the next install; nothing reads them at run time.
    SLIMPY_KEEP_HERE=0
    [ -n "$SLIMPY_KEEP" ] && SLIMPY_KEEP_HERE=1
    for _d in /root/.cache/pip /home/*/.cache/pip "${HOME:-/root}/.cache/pip"; do
      [ -d "$_d" ] && remove_paths caches "$_d"
    done
    for _r do
      find "$_r" -type d \( -name .pytest_cache -o -name .mypy_cache -o -name .ruff_cache \) -prune \
        -exec $SLIMPY_SH "$SLIMPY_SELF" __rm caches {} +
    done
  fi

  STRIP_REASON='' PKG_TOOL=''
  if [ "$STRIP" = 0 ]; then
    STRIP_STATUS=disabled STRIP_REASON='--no-strip'
  elif [ "$SLIMPY_EXPLAIN" = 1 ]; then
    STRIP=0 STRIP_STATUS=disabled STRIP_REASON='--explain'
  elif [ ! -s "$SLIMPY_WORK/environments" ]; then
    STRIP_STATUS=skipped STRIP_REASON='no Python environment found'
  elif find_strip; then
    STRIP_STATUS='done'
    export SLIMPY_STRIP SLIMPY_READELF
    for _r do process_root strip "$_r"; done
  else
    STRIP_STATUS=skipped
    warn "strip skipped: $STRIP_REASON"
  fi
  [ "$STRIP" = 1 ] && remove_binutils
  if [ "$DEDUPE" = 1 ]; then
    for _r do dedupe_root "$_r"; done
  fi

  report
  exit 0
}

# Steps the script runs in itself (from find -exec); the state comes in the SLIMPY_* variables.
step() {
  _step=$1
  shift
  case $_step in
  __rm) remove_paths "$@" ;;
  __untraced) remove_untraced "$@" ;;
  __pyc) remove_loose_bytecode "$@" ;;
  __ar) remove_static_libs "$@" ;;
  __tests) remove_tests_in_packages "$@" ;;
  __rmempty) for _d do remove_empty_dirs "$_d"; done ;;
  __sizes) file_sizes "$@" ;;
  __site) process_sites "$@" ;;
  __strip) strip_paths "$@" ;;
  __dstat) dedupe_stat "$@" ;;
  __anyexcepted)
    _ae_cat=$1
    shift
    for _p do
      if excepted "$_ae_cat" "$_p"; then
        echo kept
        break
      fi
    done
    ;;
  __anykept)
    for _p do
      if matches_keep "$_p"; then
        echo kept
        break
      fi
    done
    ;;
  *) usage_error "unknown step $_step" ;;
  esac
}

case ${1-} in
__*) step "$@" ;;
*) main "$@" ;;
esac
exit 0
