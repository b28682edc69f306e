"""Files in and out: CT and label reading with integrity checks, reading limits, atomic writes, output sets, plan.json."""
