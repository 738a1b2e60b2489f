package deco

// SetStats turns the always-on statistics off and on, so that
// BenchmarkOverhead can show what they cost. Tests only.
func SetStats(on bool) { statsOn = on }
