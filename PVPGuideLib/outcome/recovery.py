"""Height recovery % and Cobb change between the pre- and post-operative fracture measurements (SPEC section 10)."""

from __future__ import annotations

KEYS = ("AVH", "MVH", "PVH")
# Below this height restoration potential (normal - pre, mm) the recovery % divides by almost nothing.
MIN_POTENTIAL_MM = 0.5


def height_recovery(pre: dict, post: dict) -> dict:
    """Per height: recovery % = 100 (post - pre) / (normal - pre), normal from the pre-operative measurement; the
    Cobb and wedge angle changes (post - pre; negative: less kyphosis). None, with a note, where unknown."""
    notes = []
    normal = pre.get("normal_heights_mm")
    recovery = None
    if normal is None:
        notes.append("height recovery unknown: the normal heights were not known before surgery")
    else:
        recovery = {}
        for key in KEYS:
            potential = normal[key] - pre["heights_mm"][key]
            if potential < MIN_POTENTIAL_MM:
                recovery[key] = None
                notes.append(f"{key}: not lowered before surgery ({potential:.1f} mm below normal): no recovery %")
            else:
                recovery[key] = 100.0 * (post["heights_mm"][key] - pre["heights_mm"][key]) / potential
    cobb = None
    if pre.get("cobb_angle_deg") is not None and post.get("cobb_angle_deg") is not None:
        cobb = post["cobb_angle_deg"] - pre["cobb_angle_deg"]
    return {"height_recovery_percent": recovery,
            "height_change_mm": {k: post["heights_mm"][k] - pre["heights_mm"][k] for k in KEYS},
            "cobb_change_deg": cobb, "wedge_change_deg": post["wedge_angle_deg"] - pre["wedge_angle_deg"],
            "notes": notes}
