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

// currentRSS reads this process's resident set (VmRSS) in bytes.
func currentRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("bench: read RSS: %w", err)
	}
	return parseStatusKB(b, "VmRSS")
}

func readHWM(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("bench: read peak RSS: %w", err)
	}
	return parseHWM(b)
}

// parseHWM finds "VmHWM: <n> kB" in the text of /proc/<pid>/status.
func parseHWM(status []byte) (int64, error) { return parseStatusKB(status, "VmHWM") }

// rssGrowth runs fn between a reset of VmHWM and a read of it, and returns
// how far the peak rose above the resident set at the start: the memory fn
// needed on top of what the process already held (the bench process holds
// the embedded broker and every earlier measurement's leftovers).
func rssGrowth(fn func() error) (growth int64, err error) {
	if !resetPeakRSS() {
		return 0, fmt.Errorf("bench: cannot reset VmHWM (/proc/self/clear_refs)")
	}
	before, err := currentRSS()
	if err != nil {
		return 0, err
	}
	if err := fn(); err != nil {
		return 0, err
	}
	peak, err := peakRSS()
	if err != nil {
		return 0, err
	}
	return max(peak-before, 0), nil
}

// parseStatusKB finds "<key>: <n> kB" in the text of /proc/<pid>/status.
func parseStatusKB(status []byte, key string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("bench: %s line %q: want \"<n> kB\"", key, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 || kb > 1<<40 {
			return 0, fmt.Errorf("bench: %s line %q: bad number", key, sc.Text())
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("bench: no %s line in the process status", key)
}

// resetPeakRSS returns freed memory to the OS and resets VmHWM to the
// current RSS (Linux clear_refs 5), so the next peakRSS covers one phase.
// It reports whether the reset worked.
func resetPeakRSS() bool {
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
