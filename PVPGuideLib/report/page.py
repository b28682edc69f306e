"""The report page: one self-contained HTML document (inline CSS, pictures as data: URIs, no scripts, no requests)."""

from __future__ import annotations

from .findings import not_run, plain_warnings, trajectory_title
from .geometry_html import angles_table, grid_block, lengths_table, points_table
from .html_parts import esc, note, table, value_span, verdict_badge
from .pictures import ReportInputs, trajectory_pictures
from .sections_html import cement_block, generic_block, guide_block, humanize, overall_verdict, safety_block

KNOWN_TOP_LEVEL = {"schema", "generator", "coordinate_system", "units", "ct", "skin", "needle_gauge",
                   "needle_outer_diameter_mm", "grid", "trajectories", "warnings", "outputs"}
KNOWN_TRAJECTORY = {"level", "side", "points", "skin_entry", "angles_deg", "lengths_mm", "entry_offsets_mm",
                    "grid_position", "vertebra_frame", "midsagittal_plane", "spinous_tip", "warnings",
                    "safety", "cement", "guide"}
LANDMARK_KEYS = ("vertebra_frame", "midsagittal_plane", "spinous_tip")

# Content-Security-Policy: the page may load nothing but its own data: pictures and inline style.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --ink: #1d2430; --muted: #5b6575; --line: #d9dee6; --band: #f4f6f9; --accent: #1f5fa8; }
* { box-sizing: border-box; }
body { font: 15px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1120px; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 21px; margin: 34px 0 10px; border-bottom: 2px solid var(--accent);
  padding-bottom: 4px; } h3 { font-size: 16px; margin: 20px 0 6px; color: var(--accent); }
.meta, .footer, figcaption, .not-run { color: var(--muted); }
.disclaimer { background: #fff6e0; border: 1px solid #e8c66a; padding: 8px 12px; border-radius: 6px; font-size: 14px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 14px; }
th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { color: var(--muted); font-weight: 600; font-size: 13px; }
tbody th { font-weight: 500; }
.value { font-variant-numeric: tabular-nums; white-space: nowrap; }
.na, .raw { color: var(--muted); font-size: 13px; }
.raw { font-family: "DejaVu Sans Mono", monospace; word-break: break-all; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 0 32px; }
.verdict { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 13px; font-weight: 600; }
.verdict.pass { background: #dff3e4; color: #17692f; } .verdict.warn { background: #fff1cc; color: #7a5700; }
.verdict.fail { background: #fbdada; color: #9b1c1c; } .verdict.unknown { background: var(--band); color: var(--muted); }
ul.warnings li { margin: 3px 0; } ul.warnings { color: #8a1f11; }
.pictures { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 18px; margin-top: 8px; }
figure { margin: 0; } figure.wide { grid-column: 1 / -1; }
figure img { display: block; max-width: 100%; height: auto; border-radius: 6px; background: #111; }
figcaption { font-size: 13px; margin-top: 4px; }
figure.projection img { image-rendering: pixelated; }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--muted); }
.footer { margin-top: 40px; font-size: 13px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  section.trajectory { break-before: page; } figure, table { break-inside: avoid; }
  .pictures { grid-template-columns: 1fr 1fr; }
}
"""


def _summary_table(data: dict) -> str:
    rows = []
    for index, t in enumerate(data.get("trajectories") or []):
        base = ("trajectories", index)
        cement = t.get("cement") if isinstance(t.get("cement"), dict) else None
        score = cement.get("distribution_score") if cement else None
        score_cell = ("not run" if cement is None else
                      value_span(data, base + ("cement", "distribution_score", "total"), "count")
                      if isinstance(score, dict) else value_span(data, base + ("cement", "distribution_score"), "count"))
        rows.append([
            f'<a href="#trajectory-{index}">{esc(trajectory_title(t))}</a>',
            value_span(data, base + ("angles_deg", "scanner", "transverse"), "angle"),
            value_span(data, base + ("angles_deg", "scanner", "sagittal"), "angle"),
            value_span(data, base + ("lengths_mm", "AC"), "length"),
            verdict_badge(overall_verdict(t["safety"])) if t.get("safety") is not None else "not run",
            score_cell,
            value_span(data, base + ("cement", "psbcv_vv_percent"), "percent") if cement else "not run",
        ])
    return table(rows, header=["trajectory", "transverse (scanner)", "sagittal (scanner)", "AC depth", "safety",
                               "distribution score", "PSBCV/VV"])


def _plan_table(data: dict) -> str:
    rows = [["CT", esc((data.get("ct") or {}).get("path") or "not recorded")],
            ["CT size", value_span(data, ("ct", "size"), "voxels")],
            ["voxel spacing", value_span(data, ("ct", "spacing"), "spacing")],
            ["needle", value_span(data, ("needle_gauge",), "gauge") + ", outer diameter "
             + value_span(data, ("needle_outer_diameter_mm",), "catalog_mm")],
            ["coordinates", esc(f"{data.get('coordinate_system', 'RAS')}, {data.get('units', 'mm')} (3D Slicer world)")]]
    if isinstance(data.get("skin"), dict) and "threshold_hu" in data["skin"]:
        rows.append(["skin threshold", value_span(data, ("skin", "threshold_hu"), "hu")])
    if data.get("grid") is not None:
        rows.append(["skin grid spacing", value_span(data, ("grid", "spacing_mm"), "length")])
    return table(rows, header=["plan", ""])


def _warnings_section(data: dict, problems: list) -> str:
    warnings = plain_warnings(data) + problems
    body = ('<ul class="warnings">' + "".join(f"<li>{esc(w)}</li>" for w in warnings) + "</ul>"
            if warnings else note("No warnings.", "ok"))
    missing = not_run(data)
    if missing:
        body += "<h3>Not run</h3><ul>" + "".join(f"<li>{esc(m)}</li>" for m in missing) + "</ul>"
    return f'<section id="warnings"><h2>Warnings</h2>{body}</section>'


def _trajectory_section(data: dict, index: int, pictures) -> str:
    t = data["trajectories"][index]
    parts = [f'<section class="trajectory" id="trajectory-{index}"><h2>{esc(trajectory_title(t))}</h2>',
             '<div class="columns"><div>', "<h3>Points</h3>", points_table(data, index), "<h3>Angles</h3>",
             angles_table(data, index), "</div><div>", "<h3>Depths and entry offsets</h3>", lengths_table(data, index),
             "<h3>Skin grid</h3>", grid_block(data, index), "</div></div>",
             '<div class="columns"><div><h3>Safety</h3>', safety_block(data, index), "</div>",
             "<div><h3>Guide plate</h3>", guide_block(data, index), "</div></div>",
             "<h3>Cement</h3>", cement_block(data, index)]
    for key in sorted(set(t) - KNOWN_TRAJECTORY):
        parts.append(f"<h3>{esc(humanize(key))}</h3>" + generic_block(data, ("trajectories", index, key), t[key]))
    parts.append("<h3>Pictures</h3>")
    if pictures.figures:
        parts.append('<div class="pictures">' + "".join(pictures.figures) + "</div>")
    parts.extend(note(f"Not shown: {n}.") for n in pictures.notes)
    landmarks = {k: t[k] for k in LANDMARK_KEYS if t.get(k) is not None}
    if landmarks:
        rows_html = "".join(generic_block(data, ("trajectories", index, k), t[k]) for k in landmarks)
        parts.append(f"<details><summary>Landmarks used (vertebra frame, midsagittal plane, spinous-process tip)"
                     f"</summary>{rows_html}</details>")
    parts.append("</section>")
    return "".join(parts)


def report_html(data: dict, inputs: ReportInputs | None = None, *, case_id: str | None = None,
                created: str | None = None, progress=None) -> tuple[str, dict]:
    """(HTML text, pictures by trajectory index). Deterministic: the same inputs give the same text."""
    inputs = inputs or ReportInputs()
    trajectories = data.get("trajectories") or []
    pictures, problems = {}, []
    for index, t in enumerate(trajectories):
        if progress:
            progress(index / max(1, len(trajectories)), f"drawing the pictures of {trajectory_title(t)}")
        pictures[index] = trajectory_pictures(data, index, inputs)
        problems.extend(f"{trajectory_title(t)}: {p}" for p in pictures[index].problems)
    titles = ", ".join(trajectory_title(t) for t in trajectories) or "no trajectory"
    meta = [f"Case {esc(case_id)}" if case_id else None, esc(titles), f"created {esc(created)}" if created else None]
    generator = data.get("generator") or {}
    body = [
        "<header><h1>PVPGuide planning report</h1>",
        f'<p class="meta">{" · ".join(m for m in meta if m)}</p></header>',
        '<p class="disclaimer">Research planning tool, not a medical device: a surgeon checks every plan before use.</p>',
        '<section id="summary"><h2>Summary</h2>', _summary_table(data), _plan_table(data), "</section>",
        _warnings_section(data, problems),
    ]
    body.extend(_trajectory_section(data, index, pictures[index]) for index in range(len(trajectories)))
    for key in sorted(set(data) - KNOWN_TOP_LEVEL):
        body.append(f'<section class="other"><h2>{esc(humanize(key))}</h2>{generic_block(data, (key,), data[key])}</section>')
    body.append(f'<p class="footer">From plan.json ({esc(data.get("schema", "?"))}), written by '
                f'{esc(generator.get("name", "PVPGuide"))} {esc(generator.get("version", ""))}. Coordinates RAS mm. '
                "Rounding for display: angles 0.1°, lengths 0.1 mm, volumes 0.01 ml, percentages 0.1 %; plan.json "
                "keeps full precision.</p>")
    title = f"PVPGuide report — {titles}" + (f" — {case_id}" if case_id else "")
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")
    return page, pictures
