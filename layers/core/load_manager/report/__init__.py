"""The results report pages (static, self-contained HTML) and the pinned chart code they inline."""
