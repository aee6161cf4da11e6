// Package bytesize reads sizes such as "64MiB" from configuration: a whole
// number of bytes, or of KiB, MiB or GiB.
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

// units are the suffixes Parse takes, largest first, so that "MiB" is not
// read as a number followed by "B"-less garbage.
var units = []struct {
	suffix string
	bytes  int64
}{
	{"GiB", 1 << 30},
	{"MiB", 1 << 20},
	{"KiB", 1 << 10},
}

// limit is the largest size Parse returns: 1 TiB, far above any cache or
// buffer a daemon sizes, and far below overflow.
const limit = 1 << 40

// Parse reads s as a whole number of bytes, KiB, MiB or GiB, as in
// "65536", "64KiB" or "48MiB". Units are binary and case-sensitive; no
// space, sign or fraction is accepted.
func Parse(s string) (int64, error) {
	n, unit := s, int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			n, unit = rest, u.bytes
			break
		}
	}
	if n == "" || strings.ContainsAny(n[:1], "+-") {
		return 0, fmt.Errorf("size %q: want a whole number of bytes, KiB, MiB or GiB, as in 48MiB", s)
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil || v > limit/unit {
		return 0, fmt.Errorf("size %q: want a whole number of bytes, KiB, MiB or GiB up to 1 TiB, "+
			"as in 48MiB", s)
	}
	return v * unit, nil
}

// Format writes b in the largest unit that divides it, as Parse reads it.
func Format(b int64) string {
	for _, u := range units {
		if b != 0 && b%u.bytes == 0 {
			return strconv.FormatInt(b/u.bytes, 10) + u.suffix
		}
	}
	return strconv.FormatInt(b, 10)
}
