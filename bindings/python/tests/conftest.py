"""Shared helpers: the boxes a plan pasted, read back from its JSON."""

import json


def boxes(plan):
    """(yl, yh, xl, xh) per sample for pasted samples, None for the others (2-D plans)."""
    out = []
    for w in json.loads(plan.to_json())["weights"]:
        if w["kind"] == "paste":
            s, e = w["region"]["start"], w["region"]["end"]
            out.append((s[1], e[1], s[2], e[2]))
        else:
            out.append(None)
    return out
