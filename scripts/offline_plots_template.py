"""Write `.dvc/plots/offline.html`: DVC's plots page with Vega, Vega-Lite and Vega-Embed inlined, so
`dvc plots show` renders with no network (DVC's default page loads them from a CDN). `.dvc/config` names it
as `plots.html_template`; `make setup` writes it (the bundle comes from the pinned vl-convert-python).
Usage: python scripts/offline_plots_template.py [OUT]
"""

import sys
from pathlib import Path

import vl_convert

PAGE = """<!DOCTYPE html>
<html>
<head>
  {refresh_tag}
  <meta charset="utf-8">
  <title>scalegmn: DVC plots</title>
  <script>
BUNDLE
  </script>
  <style>body { font-family: sans-serif; } table { border-spacing: 15px; }</style>
</head>
<body>
  {plot_divs}
</body>
</html>
"""


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".dvc/plots/offline.html")
    bundle = vl_convert.javascript_bundle(
        "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;")
    page = PAGE.replace("BUNDLE", bundle)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page)
    tmp.replace(out)
    print(f"offline plots template: Vega {vl_convert.get_vega_version()}, "
          f"Vega-Embed {vl_convert.get_vega_embed_version()} inlined -> {out} ({len(page) // 1024} KiB)")


if __name__ == "__main__":
    main()
