package process_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// workersUsage returns the CPU time the processes pids have used, all
// their threads, and their context switches, voluntary and not, from
// /proc; ok is false if one could not be read.
func workersUsage(pids []int) (cpu time.Duration, switches int64, ok bool) {
	for _, pid := range pids {
		tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*")
		if err != nil || len(tasks) == 0 {
			return 0, 0, false
		}
		for _, t := range tasks {
			b, err := os.ReadFile(t + "/schedstat") // ns on the CPU, ns waiting, slices
			if err != nil {
				return 0, 0, false
			}
			if f := strings.Fields(string(b)); len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				cpu += time.Duration(ns)
			}
			st, err := os.Open(t + "/status")
			if err != nil {
				return 0, 0, false
			}
			sc := bufio.NewScanner(st)
			for sc.Scan() {
				if k, v, found := strings.Cut(sc.Text(), ":"); found && strings.HasSuffix(k, "ctxt_switches") {
					n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					switches += n
				}
			}
			st.Close()
		}
	}
	return cpu, switches, true
}
