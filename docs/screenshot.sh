#!/usr/bin/env bash
# Remakes docs/src/images/aiobs-html.png, the picture on the README's first screen and in the
# guide's introduction: `aiobs html` on the quickstart's trace, its first LLM call selected.
# Needs Chromium (`apt install chromium`). Run from the repository's root.
set -euo pipefail
cargo run -q -p examples --example quickstart >/dev/null
cargo run -q -p aiobs-cli -- html target/aiobs/quickstart.json -o target/aiobs/quickstart.html
# The page as written, plus one click on the first LLM call's row (the sixth row) once it is drawn.
python3 - <<'PY'
page = open("target/aiobs/quickstart.html").read()
click = ('<script>setTimeout(function () {'
         ' document.querySelector(\'.row[data-i="5"] .nm\').click(); }, 200)</script>')
open("target/aiobs/quickstart-shot.html", "w").write(page.replace("</body>", click + "</body>"))
PY
chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$(mktemp -d)" --hide-scrollbars \
    --window-size=1280,720 --virtual-time-budget=2000 \
    --screenshot="$PWD/docs/src/images/aiobs-html.png" "file://$PWD/target/aiobs/quickstart-shot.html"
