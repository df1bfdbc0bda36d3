# Sourced by the test scripts: installs what a test needs when it is missing, Debian packages
# with apt-get (as root, or through sudo) and Python packages with pip.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
need_deb() {
    local missing=()
    for package in "$@"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
    [ ${#missing[@]} = 0 ] && return 0
    if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

pip_install() {
    python3 -m pip install -q "$@" || python3 -m pip install -q --break-system-packages "$@"
}

need_pip() {
    # $1: module to import, $2: what to install from PyPI when it is missing
    python3 -c "import $1" 2>/dev/null || pip_install "$2"
}

need_pinned() {
    # $1: PyPI distribution, $2: the version the tests were written against (installed unless it is the one there)
    [ "$(python3 -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null)" = "$2" ] || pip_install "$1==$2"
}

need_binaries() {
    # $1: the script's name for messages; the rest: executables that must have been built
    local script=$1; shift
    for binary in "$@"; do
        if [ ! -x "$binary" ]; then
            echo "$script: $binary is missing; build it first (swift build)" >&2
            exit 1
        fi
    done
}
