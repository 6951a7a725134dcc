"""DVC stage `results`: every declared training run's result.json as one table.

Usage: python pipelines/results.py RUNS_DIR OUT_JSON OUT_CSV. Reads the seed<k> runs of the folders that
dvc.yaml's train stages declare inside RUNS_DIR (one per task x method); writes OUT_JSON (one record per run)
and OUT_CSV (tidy table) and prints the method x task summary.
"""

import argparse

from declared import declared_outputs

from scalegmn.errors import report_errors
from scalegmn.run.benchmark import collect_results, summary_table, write_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs")
    parser.add_argument("out_json")
    parser.add_argument("out_csv")
    args = parser.parse_args()
    runs = [seed.parent for out in declared_outputs(args.runs) for seed in sorted(out.glob("seed*/result.json"))]
    frame = write_results(collect_results(runs), args.out_json, args.out_csv)
    print(summary_table(frame).to_string())
    print(f"results: {len(frame)} runs, {int((frame['status'] == 'ok').sum())} trained, "
          f"{frame['wall_seconds'].fillna(0).sum():.1f} s of training -> {args.out_json}")


report_errors(main)
