"""The questions the latency benchmarks send, one list so that the Telegram and Zalo figures measure
the same work (a short and a long answer, no diacritics, a "khác gì" comparison)."""

QUESTIONS = [
    "danh gia noi bo bao lau 1 lan",
    "hop xem xet lanh dao can chuan bi gi",
    "HTQLCL là gì",
    "phạm vi áp dụng của xã gồm những gì",
    "hanh dong khac phuc khac gi khac phuc",
]
