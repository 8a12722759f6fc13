# Sourced by scripts/quickstart and scripts/test: make ./.venv with a usable pip.
# Debian 12's python3 refuses system-wide pip installs (PEP 668), so we always use a venv;
# python3-venv is installed with apt when the venv module is missing.

apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    if [ -z "${LPSECTL_APT_UPDATED:-}" ]; then
        $sudo apt-get update -qq
        LPSECTL_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

make_venv() {
    local python="${PYTHON:-python3}"
    if [ -x .venv/bin/python ] && .venv/bin/python -m pip --version >/dev/null 2>&1; then
        return
    fi
    rm -rf .venv
    if ! "$python" -m venv .venv >/dev/null 2>&1; then
        echo "installing python3-venv (needed to create .venv)" >&2
        apt_install python3-venv
        rm -rf .venv
        "$python" -m venv .venv
    fi
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
}
