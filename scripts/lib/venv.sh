# Shared by scripts/setup and scripts/setup_llm: make sure a path holds a virtual environment that winback
# created, whatever was there before. Sourced, not run.
#
#   prepare_venv PATH PYTHON
#
# - nothing there, or a dangling symlink (e.g. one a clone inherited): the link is removed (never what it
#   pointed to) and a fresh venv is created;
# - a venv winback made (it holds .winback-venv, or the install stamp of earlier versions) whose Python no
#   longer runs (a half-finished or moved install): recreated in place;
# - anything else (a foreign folder, a file, a symlink to any folder): stop with one line that says what
#   to delete. winback never runs a bin/python it did not create (to keep the LLM's venv
#   elsewhere, point WINBACK_LLM_VENV at it instead of linking).
prepare_venv() {
  local venv=$1 python=$2
  if [ -L "$venv" ] && [ ! -e "$venv" ]; then
    echo "note: $venv was a dangling symlink (to $(readlink "$venv")); removing the link and creating the venv" >&2
    rm -f "$venv"
  fi
  if [ -L "$venv" ]; then
    echo "error: $venv is a symlink (to $(readlink "$venv")), not a folder winback created; delete the link (rm '$venv') and run again" >&2
    return 2
  fi
  if [ -e "$venv" ]; then
    if [ ! -d "$venv" ] || { [ ! -f "$venv/.winback-venv" ] && [ ! -f "$venv/.winback-installed" ]; }; then
      echo "error: $venv exists but is not a virtual environment winback created; delete it (rm -rf '$venv') and run again" >&2
      return 2
    fi
    if "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
      touch "$venv/.winback-venv"
      return 0
    fi
    echo "note: the Python in $venv does not run (half-finished or moved install); recreating it" >&2
    "$python" -m venv --clear "$venv" || return 1
  else
    "$python" -m venv "$venv" || return 1
  fi
  touch "$venv/.winback-venv"
  rm -f "$venv/.winback-installed"  # whatever was installed before is gone
}
