#!/usr/bin/env python3
"""Generates an import file for `encore-admin import` benchmarks (docs/operations.md).

    python3 tests/tools/gen_import.py ROWS OUT.ndjson   # or OUT.csv

Half the rows are members, half opening balances (one per member), with earned_at spread over
the last 300 days so that nothing has expired under examples/program.json's 365-day term.
"""
import datetime
import json
import sys


def main():
    rows, out = int(sys.argv[1]), sys.argv[2]
    members = rows // 2
    csv = out.endswith(".csv")
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    with open(out, "w", encoding="utf-8", newline="") as f:
        if csv:
            f.write("type,member_id,email,phone,locale,marketing_opt_in,points,earned_at,"
                    "expires_at,reason\r\n")
        for i in range(members):
            mid = f"legacy:{i:08d}"
            earned = (now - datetime.timedelta(days=1 + i % 300)).strftime("%Y-%m-%dT%H:%M:%SZ")
            pts = 1 + (i * 37) % 5000
            if csv:
                f.write(f"member,{mid},m{i}@example.com,,en,{'true' if i % 2 else 'false'},,,,\r\n")
                f.write(f"balance,{mid},,,,,{pts},{earned},,legacy balance\r\n")
            else:
                f.write(json.dumps({"type": "member", "member_id": mid,
                                    "email": f"m{i}@example.com", "locale": "en",
                                    "marketing_opt_in": bool(i % 2)}) + "\n")
                f.write(json.dumps({"type": "balance", "member_id": mid, "points": pts,
                                    "earned_at": earned, "reason": "legacy balance"}) + "\n")
        if rows % 2:
            f.write("" if csv else "\n")


if __name__ == "__main__":
    main()
