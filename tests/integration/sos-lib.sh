# sos report helpers (sourced, bash) for tests that run the real `sos report`
# with the project's plugin packaging/sos/kube_proxy.py.
#
#   kp_sos_plugin_install    copies the plugin into the plugin package of the
#                            sos that /usr/bin/sos runs (Debian's python3), after
#                            saving any kube_proxy.py already there (e.g. from
#                            the installed .deb); sets KP_SOS_PLUGIN
#   kp_sos_plugin_remove     removes it again (and its byte code), restores the
#                            saved one: call it from the EXIT trap
#   kp_sos_report NS OUTDIR [sos options...]
#                            `sos report --batch --build` inside namespace NS
#                            with its temp dir under OUTDIR; prints the report's
#                            root directory (the unpacked sosreport-*/).
#                            KP_SOS_BIN: a directory sos finds commands in
#                            (e.g. the built kube-proxy-check); KP_SOS_ALTERNATIVES:
#                            an /etc/alternatives for the run (kp_sos_alternatives)

KP_ROOT=${KP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KP_SOS_PLUGIN=
KP_SOS_SAVED=

kp_sos_python() {
  # the interpreter of /usr/bin/sos (not a python3 earlier in PATH)
  sed -n '1s/^#! *//p' "$(command -v sos)" | awk '{ print $1 }'
}

kp_sos_plugin_dir() {
  "$(kp_sos_python)" -c 'import os, sos.report.plugins as p; print(os.path.dirname(p.__file__))'
}

kp_sos_plugin_install() {
  local dir
  dir=$(kp_sos_plugin_dir) || return 1
  KP_SOS_PLUGIN="$dir/kube_proxy.py"
  if [ -e "$KP_SOS_PLUGIN" ]; then
    KP_SOS_SAVED=$(mktemp /tmp/kp-sos-saved.XXXXXX)
    cp -p "$KP_SOS_PLUGIN" "$KP_SOS_SAVED"
  fi
  install -m 0644 "$KP_ROOT/packaging/sos/kube_proxy.py" "$KP_SOS_PLUGIN"
}

kp_sos_plugin_remove() {
  [ -n "$KP_SOS_PLUGIN" ] || return 0
  rm -f "$KP_SOS_PLUGIN" "$(dirname "$KP_SOS_PLUGIN")"/__pycache__/kube_proxy.*.pyc
  if [ -n "$KP_SOS_SAVED" ]; then
    cp -p "$KP_SOS_SAVED" "$KP_SOS_PLUGIN"
    rm -f "$KP_SOS_SAVED"
    KP_SOS_SAVED=
  fi
  KP_SOS_PLUGIN=
}

kp_sos_report() {
  local ns=$1 out=$2
  shift 2
  mkdir -p "$out/tmp"
  # sos sets its own PATH (Debian: /usr/sbin:/usr/bin:...:/usr/local/sbin):
  # KP_SOS_BIN is bind-mounted on /usr/local/sbin, KP_SOS_ALTERNATIVES on
  # /etc/alternatives, in a private mount namespace of this one command
  # (the host's files and alternatives are not touched).
  ip netns exec "$ns" unshare -m --propagation private bash -c '
    set -e
    [ -z "$1" ] || mount --bind "$1" /usr/local/sbin
    [ -z "$2" ] || mount --bind "$2" /etc/alternatives
    shift 2
    exec sos report "$@"' kp-sos "${KP_SOS_BIN:-}" "${KP_SOS_ALTERNATIVES:-}" \
    --batch --build --quiet --tmp-dir "$out/tmp" --label kp "$@" >"$out/sos.out" 2>&1 || return 1
  local root
  root=$(find "$out/tmp" -maxdepth 1 -type d -name 'sosreport-*' | head -n 1)
  [ -n "$root" ] && echo "$root"
}

# kp_sos_alternatives DIR legacy|nft: a copy of /etc/alternatives in DIR
# whose iptables* links name the given backend (for KP_SOS_ALTERNATIVES).
kp_sos_alternatives() {
  local dir=$1 b=$2 t
  rm -rf "$dir"
  cp -a /etc/alternatives "$dir"
  for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sfn "/usr/sbin/${t/tables/tables-$b}" "$dir/$t"
  done
}
