// Package report implements regen's run records and their writers: the
// JSON record of every case and metric (results.json, the input of
// `regen golden approve` and of history), JUnit XML for CI (junit.xml), and
// the terminal summary (one line per case, then totals; also saved as
// summary.txt). Every file is written atomically.
package report
