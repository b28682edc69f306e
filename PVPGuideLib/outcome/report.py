"""The outcome report: one HTML page (numbers and pictures) beside outcome.json."""

from __future__ import annotations

import html

from ..report.png import data_uri, png_bytes

KEYS = ("AVH", "MVH", "PVH")


def _number(value, unit: str = "", digits: int = 1) -> str:
    return "unknown" if value is None else f"{value:.{digits}f}{unit}"


def outcome_html(data: dict, pictures: dict) -> str:
    """HTML text: the heights before and after, recovery, angles, cement scores, and the pictures (name -> RGB)."""
    pre, post = data["pre"], data["post"]
    rows = []
    for key in KEYS:
        normal = (pre.get("normal_heights_mm") or {}).get(key)
        recovery = (data.get("height_recovery_percent") or {}).get(key)
        rows.append(f"<tr><td>{key}</td><td>{_number(pre['heights_mm'][key], ' mm')}</td>"
                    f"<td>{_number(post['heights_mm'][key], ' mm')}</td><td>{_number(normal, ' mm')}</td>"
                    f"<td>{_number(recovery, ' %')}</td></tr>")
    angles = [("Cobb (local kyphosis)", pre.get("cobb_angle_deg"), post.get("cobb_angle_deg")),
              ("wedge", pre.get("wedge_angle_deg"), post.get("wedge_angle_deg"))]
    angle_rows = "".join(f"<tr><td>{name}</td><td>{_number(a, '°')}</td><td>{_number(b, '°')}</td></tr>"
                         for name, a, b in angles)
    cement = data["cement"]
    cement_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(cement.get(k)))}</td></tr>"
                          for k in ("bcv_ml", "vv_ml", "fill_percent", "psbcv_vv_percent", "distribution_score",
                                    "endplate_contact", "pattern"))
    images = "".join(f"<figure><img src='{data_uri(png_bytes(rgb))}' alt='{html.escape(name)}'>"
                     f"<figcaption>{html.escape(name)}</figcaption></figure>" for name, rgb in pictures.items())
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in [*data.get("notes", []), *post.get("notes", [])])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PVPGuide outcome {html.escape(data['level'])}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 10px;text-align:right}}
figure{{display:inline-block;margin:0 1em 1em 0}}</style></head><body>
<h1>Outcome of {html.escape(data['level'] or 'the planned level')} (SPEC §10)</h1>
<h2>Body heights</h2><table><tr><th></th><th>before</th><th>after</th><th>normal</th><th>recovery</th></tr>
{''.join(rows)}</table>
<p>Genant before: grade {pre.get('genant_grade')} ({html.escape(str(pre.get('genant_type')))}); after: grade
{post.get('genant_grade')} ({html.escape(str(post.get('genant_type')))}).</p>
<h2>Angles</h2><table><tr><th></th><th>before</th><th>after</th></tr>{angle_rows}</table>
<h2>Cement</h2><table>{cement_rows}</table>
<h2>Pictures</h2>{images}
<h2>Notes</h2><ul>{notes}</ul>
<p>Research planning tool: not for clinical use without local validation.</p></body></html>
"""
