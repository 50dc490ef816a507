package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// peakRSS reads this process's peak resident set (VmHWM) in bytes.
func peakRSS() (int64, error) { return readHWM("/proc/self/status") }

// peakRSSOf reads the peak resident set of a running process.
func peakRSSOf(pid int) (int64, error) { return readHWM("/proc/" + strconv.Itoa(pid) + "/status") }

func readHWM(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("bench: read peak RSS: %w", err)
	}
	return parseHWM(b)
}

// parseHWM finds "VmHWM: <n> kB" in the text of /proc/<pid>/status.
func parseHWM(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("bench: VmHWM line %q: want \"<n> kB\"", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 || kb > 1<<40 {
			return 0, fmt.Errorf("bench: VmHWM line %q: bad number", sc.Text())
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("bench: no VmHWM line in the process status")
}

// resetPeakRSS returns freed memory to the OS and resets VmHWM to the
// current RSS (Linux clear_refs 5), so the next peakRSS covers one phase.
// It reports whether the reset worked.
func resetPeakRSS() bool {
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
