"""DVC stage: collect every reports/runs/<task>/<method>/seed<k>/result.json into reports/results.json
(one record per run) and reports/results.csv (tidy table), and print the method × task summary."""

from scalegmn.run.benchmark import collect_results, summary_table, write_results

results = collect_results("reports/runs")
frame = write_results(results, "reports/results.json", "reports/results.csv")
print(summary_table(frame).to_string())
print(f"results: {len(frame)} runs, {int((frame['status'] == 'ok').sum())} trained, "
      f"{frame['wall_seconds'].fillna(0).sum():.1f} s of training -> reports/results.json")
